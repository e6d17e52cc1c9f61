//! libFuzzer on every protocol adapter, `auto` and the whole-answer reader on any body.
//! What must hold is in `streamperf::fuzzing::protocols`, which `tests/fuzz_props.rs` also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| streamperf::fuzzing::protocols(data));
