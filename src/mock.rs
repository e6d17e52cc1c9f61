//! The built-in mock server: the `streamperf-mock` crate (crates/mock), re-exported, with its
//! catalog keyed by [`Protocol`] as the rest of streamperf names protocols.

use serde_json::Value;
pub use streamperf_mock::*;

use crate::measure::protocol::Protocol;

/// The mock's streaming route for `protocol`.
pub fn path_for(protocol: Protocol) -> &'static str {
    served(streamperf_mock::path_for(protocol.name()), protocol)
}

/// A minimal valid streaming request body for [`path_for`]`(protocol)`.
pub fn request_body_for(protocol: Protocol) -> Value {
    served(streamperf_mock::request_body_for(protocol.name()), protocol)
}

/// The mock's non-streaming route for `protocol`.
pub fn whole_path_for(protocol: Protocol) -> &'static str {
    served(streamperf_mock::whole_path_for(protocol.name()), protocol)
}

/// A minimal valid request body for [`whole_path_for`]`(protocol)` that asks for the answer
/// whole.
pub fn whole_request_body_for(protocol: Protocol) -> Value {
    served(streamperf_mock::whole_request_body_for(protocol.name()), protocol)
}

/// The mock speaks every protocol (the test below holds it to that).
fn served<T>(found: Option<T>, protocol: Protocol) -> T {
    found.unwrap_or_else(|| panic!("the mock has no route for {}", protocol.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mock_speaks_every_protocol_by_its_name() {
        let names: Vec<&str> = Protocol::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names, PROTOCOLS);
        for p in Protocol::ALL {
            assert!(request_body_for(p).is_object() && whole_request_body_for(p).is_object());
            assert!(path_for(p).starts_with('/') && whole_path_for(p).starts_with('/'));
        }
    }
}
