//! The JSON result file: written atomically, never overwriting an existing file.
//!
//! The bytes go to a temporary file in the target's directory first and are then linked into
//! place with `persist_noclobber`: a reader never sees half a file, and a file that exists (or
//! appears while we write, from a racing run) is never replaced. When the name is taken, the
//! result goes beside it as `test_results_20261127-213000.json`, then `…_2.json`, `…_3.json`.
//! A directory given as the result file gets the default name inside it. Temporary files
//! left by a killed writer are removed at the next write into their folder (`temp`).

mod temp;

use std::fs;
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::output::report::RunResult;

/// The original tool's result file name, in the current directory.
pub const DEFAULT_RESULT_FILE: &str = "test_results.json";

/// Alternative names tried before giving up (a directory holding thousands of results from the
/// same second is a bug somewhere else).
const MAX_ATTEMPTS: u32 = 1000;

/// Writes `result` as pretty JSON to `requested` (default [`DEFAULT_RESULT_FILE`]; in it, when
/// it is a directory), or beside it under a timestamped name when that file exists. Returns
/// the path written.
pub fn write_result(result: &RunResult, requested: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = result_target(requested);
    let mut json = serde_json::to_vec_pretty(result).context("cannot serialize the result")?;
    json.push(b'\n');
    write_new(&path, &json)
}

/// The file a result asked for as `requested` goes to (before any timestamped alternative):
/// `requested`, [`DEFAULT_RESULT_FILE`] inside it when it is a directory, else the default.
pub fn result_target(requested: Option<&Path>) -> PathBuf {
    match requested {
        Some(dir) if dir.is_dir() => dir.join(DEFAULT_RESULT_FILE),
        Some(path) => path.to_path_buf(),
        None => PathBuf::from(DEFAULT_RESULT_FILE),
    }
}

/// Checks, before a run, that a file can be written at `path`: its folder is created if
/// missing and takes a file, and `path` is not a directory. Leaves nothing behind.
pub fn check_writable(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!("cannot write {}: it is a directory", path.display());
    }
    temp_beside(path, b"").map(drop)
}

/// Writes `bytes` to `path` atomically, or beside it under a timestamped name when `path`
/// exists: nothing measured is ever overwritten. Returns the path written.
pub fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    let mut tmp = temp_beside(path, bytes)?;
    let stamp = jiff::ZonedDateTime::now().strftime("%Y%m%d-%H%M%S").to_string();
    let mut candidate = path.to_path_buf();
    for attempt in 1..=MAX_ATTEMPTS {
        match tmp.persist_noclobber(&candidate) {
            Ok(_) => return Ok(candidate),
            Err(e) if e.error.kind() == ErrorKind::AlreadyExists => {
                tmp = e.file;
                candidate = alternative(path, &stamp, attempt);
            }
            Err(e) => {
                return Err(e.error)
                    .with_context(|| format!("cannot write {}", candidate.display()));
            }
        }
    }
    bail!("cannot write {}: it and {MAX_ATTEMPTS} alternative names exist", path.display())
}

/// Replaces `path` with `bytes` atomically: for files meant to be rewritten on every run, such
/// as a Prometheus textfile-collector file (readers see the old or the new, never half).
pub fn replace(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = temp_beside(path, bytes)?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// A synced temporary file holding `bytes` in `path`'s folder (so a rename is atomic).
fn temp_beside(path: &Path, bytes: &[u8]) -> anyhow::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).with_context(|| {
        format!("cannot write {}: cannot create directory {}", path.display(), dir.display())
    })?;
    temp::remove_stale(dir);
    let mut builder = temp::builder();
    // Temporary files are owner-only by default; a result file is an ordinary document.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(dir).with_context(|| {
        format!("cannot write {}: cannot create a file in {}", path.display(), dir.display())
    })?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(tmp)
}

/// `dir/stem_<stamp>.ext` for attempt 1, `dir/stem_<stamp>_<n>.ext` after.
fn alternative(path: &Path, stamp: &str, attempt: u32) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    let suffix = if attempt <= 1 { String::new() } else { format!("_{attempt}") };
    path.with_file_name(format!("{stem}_{stamp}{suffix}{ext}"))
}

/// Reads a result file written by [`write_result`], or the original tool's (see
/// [`super::import`]).
pub fn read_result(path: &Path) -> anyhow::Result<RunResult> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let not_a_result = || format!("{} is not a streamperf result file", path.display());
    // Parsed once as ours; only a file that is not is looked at as the original tool's, and
    // an error names the line and column of the first parse.
    let ours = serde_json::from_str::<RunResult>(&text);
    if ours.is_err()
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
        && super::import::is_original(&value)
    {
        return super::import::from_original(value)
            .with_context(|| format!("{}: the original tool's result file", path.display()));
    }
    let mut result = ours.with_context(not_a_result)?;
    with_all_records(&mut result, path)?;
    Ok(result)
}

/// A result whose `metrics` hold only part of its records gets them all from its records
/// file (as written, else beside the result), so a report of a long run describes every
/// request. A sweep's file is not read: its lines carry no level. A missing file leaves the
/// part.
fn with_all_records(result: &mut RunResult, path: &Path) -> anyhow::Result<()> {
    let Some(info) = result.records.as_ref().filter(|r| r.truncated()) else { return Ok(()) };
    if !result.levels.is_empty() {
        return Ok(());
    }
    let written = PathBuf::from(&info.file);
    let beside = written.file_name().map(|name| path.with_file_name(name));
    let Some(file) = [Some(written), beside].into_iter().flatten().find(|p| p.is_file()) else {
        return Ok(());
    };
    result.metrics = crate::output::records::read_records(&file)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternative_names_keep_directory_and_extension() {
        let p = Path::new("out/test_results.json");
        assert_eq!(
            alternative(p, "20261127-213000", 1),
            Path::new("out/test_results_20261127-213000.json")
        );
        assert_eq!(
            alternative(p, "20261127-213000", 3),
            Path::new("out/test_results_20261127-213000_3.json")
        );
        assert_eq!(alternative(Path::new("run"), "S", 2), Path::new("run_S_2"));
    }
}
