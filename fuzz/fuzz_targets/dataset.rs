//! libFuzzer on the dataset readers (JSONL, JSON, ShareGPT, text, CSV) and their decoding.
//! What must hold is in `streamperf::fuzzing::dataset`, which `tests/fuzz_props.rs` also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| streamperf::fuzzing::dataset(data));
