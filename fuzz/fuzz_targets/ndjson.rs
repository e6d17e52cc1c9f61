//! libFuzzer on the NDJSON framer: the same lines however the body is cut into reads.
//! What must hold is in `streamperf::fuzzing::ndjson`, which `tests/fuzz_props.rs` also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| streamperf::fuzzing::ndjson(data));
