//! The layers ARCHITECTURE.md draws, held by the compiler's neighbour: these tests read the
//! source tree and fail when an import runs up a layer, when code below `commands/` reads the
//! clap types, or when a file grows past what a newcomer reads in one sitting.
//!
//! The import rules hold for tests too (record fixtures live in `measure::record::testing`, so
//! every layer's tests can use them); the size rule counts the lines before `#[cfg(test)]`.

use std::fs;
use std::path::{Path, PathBuf};

/// The layers, top to bottom: a module may import its own layer and those after it.
const LAYERS: [&str; 6] = ["commands", "run", "plan", "output", "analyse", "measure"];

/// Modules any layer may import: plain helpers with no layer of their own (and the console's
/// printing macros, which live at the crate root).
const LEAVES: [&str; 8] = ["i18n", "console", "redact", "limits", "exit", "out", "outln", "errln"];

/// What only the top layer may import besides the layers: the clap types, and the mock (which
/// stands beside the layers; `demo` and `mock` start it).
const COMMANDS_ONLY: [&str; 2] = ["cli", "mock"];

/// The flat paths lib.rs re-exports for the integration tests and library users; code inside
/// the crate names the layer path instead, so that the rules here can see what it imports.
const FLAT: [&str; 16] = [
    "engine",
    "stream",
    "protocol",
    "record",
    "tokens",
    "selfcheck",
    "metrics",
    "slo",
    "timeseries",
    "report",
    "export",
    "live",
    "history",
    "compare",
    "config",
    "workload",
];

/// Most lines a source file may hold before its tests (the issue says ~400; this is the bound).
const MAX_PRODUCTION_LINES: usize = 450;

struct Source {
    /// Path under `src/` (or `crates/mock/src/`), with `/` separators.
    path: String,
    text: String,
}

impl Source {
    /// The text before the first `#[cfg(test)]`: what ships.
    fn production(&self) -> &str {
        self.text.split("#[cfg(test)]").next().unwrap_or_default()
    }

    /// The top-level module this file belongs to (`measure`, `cli`, …).
    fn module(&self) -> &str {
        let first = self.path.split('/').next().unwrap_or_default();
        first.strip_suffix(".rs").unwrap_or(first)
    }

    /// Every `crate::NAME` this text names, with its line number.
    fn imports<'a>(&self, text: &'a str) -> Vec<(usize, &'a str)> {
        let mut found = Vec::new();
        for (n, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
                let name = &rest[..end.unwrap_or(rest.len())];
                // `$crate::` in a macro is the crate itself; `streamperf_mock::` is a dependency.
                let before = &line[..at];
                if !name.is_empty() && !before.ends_with('$') && !before.ends_with('_') {
                    found.push((n + 1, name));
                }
            }
        }
        found
    }
}

fn sources(root: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    collect(root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|file| Source {
            path: file.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"),
            text: fs::read_to_string(&file).unwrap(),
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn src() -> Vec<Source> {
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn only_the_commands_read_the_clap_types() {
    let allowed = |s: &Source| {
        matches!(s.path.as_str(), "main.rs" | "lib.rs") || matches!(s.module(), "cli" | "commands")
    };
    let offenders: Vec<String> = src()
        .iter()
        .filter(|s| !allowed(s))
        .flat_map(|s| {
            let hits = s.imports(&s.text).into_iter().filter(|(_, name)| *name == "cli");
            hits.map(|(line, _)| format!("{}:{line}", s.path)).collect::<Vec<_>>()
        })
        .collect();
    assert!(offenders.is_empty(), "crate::cli below commands/: {offenders:?}");
}

#[test]
fn every_layer_imports_only_itself_the_layers_below_and_the_leaves_tests_included() {
    let rank = |module: &str| LAYERS.iter().position(|l| *l == module);
    let mut offenders = Vec::new();
    for s in src() {
        let Some(own) = rank(s.module()) else { continue };
        for (line, name) in s.imports(&s.text) {
            let fine = LEAVES.contains(&name)
                || rank(name).is_some_and(|r| r >= own)
                || (own == 0 && COMMANDS_ONLY.contains(&name));
            if !fine {
                offenders.push(format!("{}:{line} imports crate::{name}", s.path));
            }
        }
    }
    assert!(offenders.is_empty(), "imports up a layer or sideways: {offenders:#?}");
}

#[test]
fn the_measuring_core_takes_plain_values_even_in_its_tests() {
    let offenders: Vec<String> = src()
        .iter()
        .filter(|s| s.module() == "measure")
        .flat_map(|s| {
            let hits = s.imports(&s.text).into_iter();
            let up = hits.filter(|(_, name)| *name != "measure" && !LEAVES.contains(name));
            up.map(|(line, name)| format!("{}:{line} crate::{name}", s.path)).collect::<Vec<_>>()
        })
        .collect();
    assert!(offenders.is_empty(), "measure/ imports another layer: {offenders:#?}");
    let mock: Vec<String> = src()
        .into_iter()
        .filter(|s| s.module() == "measure" && s.text.contains("streamperf_mock"))
        .map(|s| s.path)
        .collect();
    assert!(
        mock.is_empty(),
        "measure/ names the mock crate (its tests belong in tests/): {mock:?}"
    );
}

#[test]
fn code_inside_the_crate_names_the_layer_paths_not_the_flat_re_exports() {
    let offenders: Vec<String> = src()
        .iter()
        .flat_map(|s| {
            let hits = s.imports(&s.text).into_iter().filter(|(_, name)| FLAT.contains(name));
            hits.map(|(line, name)| format!("{}:{line} crate::{name}", s.path)).collect::<Vec<_>>()
        })
        .collect();
    assert!(offenders.is_empty(), "flat paths inside the crate: {offenders:#?}");
}

#[test]
fn the_mock_crate_stands_alone() {
    let mock = sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/mock/src"));
    assert!(mock.len() > 10, "the mock's sources are where this test looks");
    for s in &mock {
        assert!(!s.text.contains("streamperf::"), "{} names the streamperf crate", s.path);
    }
}

#[test]
fn no_file_holds_more_than_450_lines_before_its_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = src();
    all.extend(sources(&root.join("crates/mock/src")));
    let long: Vec<String> = all
        .iter()
        .map(|s| (s.production().lines().count(), &s.path))
        .filter(|(lines, _)| *lines > MAX_PRODUCTION_LINES)
        .map(|(lines, path)| format!("{path}: {lines}"))
        .collect();
    assert!(long.is_empty(), "split these by idea: {long:?}");
}
