//! The fuzz targets (`streamperf::fuzzing`, run by `fuzz/` under libFuzzer) as bounded
//! property tests on stable: each target gets every fixture, every saved crash input under
//! `tests/fuzz_regressions/TARGET/`, and a fixed number of seeded mutations of the fixtures
//! (byte flips, cuts, splices, inserted line ends, `data:`, `{`, invalid UTF-8). The seed is
//! fixed, so a failure is reproducible; the failing input is written to the temp folder.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{fixture_files, fixtures_dir};
use serde_json::Value;
use streamperf::fuzzing::{self, XorShift};

/// Mutations a target gets: bounded so that this file runs in seconds in a debug build.
const MUTATIONS: usize = 500;

/// Bytes worth inserting: line ends, field and JSON starts, a BOM, invalid and cut UTF-8.
const INSERTS: [&[u8]; 14] = [
    b"\n",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"data:",
    b"data: ",
    b"event:",
    b"id:",
    b"{",
    b"}",
    b"\"",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xE5\xA5",
];

#[test]
fn sse_framing_holds_on_fixtures_regressions_and_mutations() {
    check("sse", fuzzing::sse, &stream_seeds());
}

#[test]
fn ndjson_framing_holds_on_fixtures_regressions_and_mutations() {
    check("ndjson", fuzzing::ndjson, &stream_seeds());
}

#[test]
fn protocol_adapters_hold_on_fixtures_regressions_and_mutations() {
    check("protocols", fuzzing::protocols, &stream_seeds());
}

#[test]
fn config_reader_holds_on_fixtures_regressions_and_mutations() {
    let mut seeds = files_in(&root().join("configs"));
    seeds.extend(fixture_texts());
    check("config", fuzzing::config, &seeds);
}

#[test]
fn dataset_readers_hold_on_fixtures_regressions_and_mutations() {
    let mut seeds = files_in(&root().join("tests/data"));
    seeds.extend(files_in(&root().join("configs/data")));
    seeds.extend(files_in(&root().join("fuzz/seeds/dataset")));
    seeds.extend(fixture_texts());
    check("dataset", fuzzing::dataset, &seeds);
}

/// Runs `target` on every seed, every saved regression input of `name` and the mutations.
fn check(name: &str, target: fn(&[u8]), seeds: &[Vec<u8>]) {
    assert!(!seeds.is_empty(), "no seeds for {name}");
    let regressions = files_in(&root().join("tests/fuzz_regressions").join(name));
    let mut rng = XorShift::new(0x5eed_f022 ^ name.len() as u64);
    let mutants = (0..MUTATIONS).map(|_| mutate(seeds, &mut rng));
    for (i, input) in seeds.iter().cloned().chain(regressions).chain(mutants).enumerate() {
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            let saved = std::env::temp_dir().join(format!("fuzz-{name}-{i}.bin"));
            std::fs::write(&saved, &input).expect("temp folder writable");
            panic!("{name} failed on input {i}, saved as {}", saved.display());
        }
    }
}

/// A seed changed by one to four edits.
fn mutate(seeds: &[Vec<u8>], rng: &mut XorShift) -> Vec<u8> {
    let mut bytes = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 => bytes.truncate(at),
            2 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                let piece = &other[from..(from + rng.below(64)).min(other.len())];
                bytes.splice(at..at, piece.iter().copied());
            }
            3 => {
                let end = (at + rng.below(32)).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {
                let insert = INSERTS[rng.below(INSERTS.len())];
                bytes.splice(at..at, insert.iter().copied());
            }
        }
    }
    bytes
}

/// The bodies of every SSE case and provider transcript, decoded from base64.
fn stream_seeds() -> Vec<Vec<u8>> {
    let decode = |path: &PathBuf, key: &str| {
        let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let text = v[key].as_str().unwrap_or_else(|| panic!("{}: no {key}", path.display()));
        base64::engine::general_purpose::STANDARD.decode(text).unwrap()
    };
    let cases = fixture_files("sse-conformance").into_iter().map(|p| decode(&p, "input_b64"));
    let bodies = fixture_files("providers").into_iter().map(|p| decode(&p, "body_b64"));
    cases.chain(bodies).collect()
}

/// The fixture files as written (JSON documents), seeds for the config and dataset readers.
fn fixture_texts() -> Vec<Vec<u8>> {
    let files = fixture_files("sse-conformance").into_iter().chain(fixture_files("providers"));
    files.map(|p| std::fs::read(p).unwrap()).collect()
}

/// The bytes of every file in `dir` (none when it does not exist), in name order.
fn files_in(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.retain(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"));
    paths.sort();
    paths.into_iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_fixtures_are_where_the_seeds_come_from() {
    assert!(fixtures_dir("providers").is_dir());
    assert!(stream_seeds().len() >= 50, "the SSE cases and the provider transcripts");
}
