//! Why a request failed: the failure classes counted in reports and the cause kept beside a
//! failed request's timings. Apart from the timeline because the engine's connection, stream and
//! deadline code name these classes without touching any timing.

use serde::{Deserialize, Serialize};

/// Why a request failed (README, "Metrics"). Stable names: they appear in result files and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// TCP connect or DNS failure.
    Connect,
    /// TLS handshake or certificate failure.
    Tls,
    /// The request did not finish within `timeout`.
    Timeout,
    /// The server answered with a non-2xx status.
    HttpStatus,
    /// An error event inside a 200 stream.
    StreamError,
    /// The bytes do not parse as the declared format.
    Malformed,
    /// The stream ended (closed or reset) before its completion marker.
    Incomplete,
    /// The user interrupted the request.
    Cancelled,
}

impl ErrorClass {
    /// The stable name used in result files.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Tls => "tls",
            ErrorClass::Timeout => "timeout",
            ErrorClass::HttpStatus => "http_status",
            ErrorClass::StreamError => "stream_error",
            ErrorClass::Malformed => "malformed",
            ErrorClass::Incomplete => "incomplete",
            ErrorClass::Cancelled => "cancelled",
        }
    }
}

/// Where a timeout struck: the last phase the request had reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutPhase {
    /// Opening the connection (TCP, TLS, HTTP handshake) inside the request.
    Connect,
    /// Waiting for the response head.
    FirstByte,
    /// Bytes arrived but no generated token yet.
    FirstToken,
    /// Tokens were streaming; the whole-request deadline passed.
    Total,
}

/// A failed request's cause, kept beside whatever timings it reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The class counted in reports.
    pub class: ErrorClass,
    /// A human message (HTTP body excerpt, provider message, …).
    pub message: String,
    /// Set for [`ErrorClass::Timeout`].
    pub phase: Option<TimeoutPhase>,
}

impl Failure {
    /// A failure of `class` with `message`.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Failure { class, message: message.into(), phase: None }
    }
}
