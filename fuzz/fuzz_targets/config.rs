//! libFuzzer on the config-file reader (JSON, YAML, TOML) and `${NAME}` substitution.
//! What must hold is in `streamperf::fuzzing::config`, which `tests/fuzz_props.rs` also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| streamperf::fuzzing::config(data));
