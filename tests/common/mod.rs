//! Helpers shared by the fixture-driven tests.

use std::path::{Path, PathBuf};

/// The fixtures folder: `tests/fixtures/` (a copy of the shared conformance vectors and
/// provider transcripts), or `$STREAMPERF_FIXTURES` when set.
pub fn fixtures_dir(sub: &str) -> PathBuf {
    let root = match std::env::var_os("STREAMPERF_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
    };
    let dir = root.join(sub);
    assert!(
        dir.is_dir(),
        "fixture folder {} not found; set STREAMPERF_FIXTURES to the folder that holds \
         sse-conformance/ and providers/",
        dir.display()
    );
    dir
}

/// Every `*.json` file of a fixtures subfolder, sorted; fails when there are none.
pub fn fixture_files(sub: &str) -> Vec<PathBuf> {
    let dir = fixtures_dir(sub);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.json fixtures in {}", dir.display());
    files
}
