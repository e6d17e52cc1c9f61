//! The records file: every request's record as one JSON line, appended as it completes, beside
//! the result file (`test_results.records.jsonl`). A run of any length holds only a bounded
//! share of its records in memory (`--max-records-in-result`); the file has them all, and a
//! crash or SIGKILL leaves every record written so far, each line whole.
//!
//! Lines are collected in a buffer of our own and written whole, at most a second apart (or
//! every 64 KiB): the consumer, never the measuring path, pays for the writes, and what a kill
//! can lose is at most the last second. A reader skips a last line without its newline.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::measure::record::RequestRecord;

/// Longest a finished record waits in memory before it is written.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Bytes of lines that are written at once, whatever the time.
const FLUSH_BYTES: usize = 64 * 1024;

/// An open records file.
#[derive(Debug)]
pub struct RecordsFile {
    path: PathBuf,
    file: File,
    pending: Vec<u8>,
    lines: u64,
    flushed_at: Instant,
}

impl RecordsFile {
    /// Creates the records file for a result going to `result`: `stem.records.jsonl` beside
    /// it, or, when that exists, `stem_<timestamp>[_n].records.jsonl`: nothing measured is
    /// overwritten.
    pub fn create(result: &Path) -> anyhow::Result<RecordsFile> {
        let stem = result.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let stamp = jiff::ZonedDateTime::now().strftime("%Y%m%d-%H%M%S").to_string();
        for attempt in 0..1000u32 {
            let name = match attempt {
                0 => format!("{stem}.records.jsonl"),
                1 => format!("{stem}_{stamp}.records.jsonl"),
                n => format!("{stem}_{stamp}_{n}.records.jsonl"),
            };
            let path = result.with_file_name(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    let (pending, flushed_at) = (Vec::with_capacity(FLUSH_BYTES), Instant::now());
                    return Ok(RecordsFile { path, file, pending, lines: 0, flushed_at });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", path.display()));
                }
            }
        }
        anyhow::bail!(
            "cannot create a records file beside {}: 1000 names are taken",
            result.display()
        )
    }

    /// Adds `record` as a line; writes the lines collected when a second has passed since the
    /// last write or they fill [`FLUSH_BYTES`].
    pub fn append(&mut self, record: &RequestRecord) -> io::Result<()> {
        serde_json::to_writer(&mut self.pending, record)?;
        self.pending.push(b'\n');
        self.lines += 1;
        if self.pending.len() >= FLUSH_BYTES || self.flushed_at.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes every line collected so far.
    pub fn flush(&mut self) -> io::Result<()> {
        self.flushed_at = Instant::now();
        if self.pending.is_empty() {
            return Ok(());
        }
        let written = self.file.write_all(&self.pending);
        self.pending.clear();
        written
    }

    /// Where the records go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records appended so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }
}

impl Drop for RecordsFile {
    fn drop(&mut self) {
        // Whatever happens to the run, what was measured reaches the file.
        let _ = self.flush();
    }
}

/// Every record of a records file, in the file's order. A last line without its newline (a
/// write cut by a kill) is left out; any other line that is not a record is an error naming it.
pub fn read_records(path: &Path) -> anyhow::Result<Vec<RequestRecord>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read records file {}", path.display()))?;
    let whole = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    let mut records = Vec::new();
    for (i, line) in whole.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let record = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a request record", path.display(), i + 1))?;
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::record::testing;

    #[test]
    fn records_are_appended_as_lines_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let result = dir.path().join("r.json");
        let mut file = RecordsFile::create(&result).unwrap();
        assert_eq!(file.path(), dir.path().join("r.records.jsonl"));
        let ms = Duration::from_millis;
        for id in 1..=3 {
            file.append(&testing::ok(id, ms(100), ms(900), 7)).unwrap();
        }
        drop(file);
        let back = read_records(&dir.path().join("r.records.jsonl")).unwrap();
        assert_eq!(back.iter().map(|r| r.request_id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(back[0].output_tokens, Some(7));

        let second = RecordsFile::create(&result).unwrap();
        assert_ne!(second.path(), dir.path().join("r.records.jsonl"), "never overwritten");
    }

    #[test]
    fn a_line_cut_by_a_kill_is_left_out_and_a_bad_one_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.records.jsonl");
        let line =
            serde_json::to_string(&testing::ok(1, Duration::ZERO, Duration::ZERO, 1)).unwrap();
        std::fs::write(&path, format!("{line}\n{}", &line[..20])).unwrap();
        assert_eq!(read_records(&path).unwrap().len(), 1);
        std::fs::write(&path, format!("{line}\nnot json\n")).unwrap();
        let e = read_records(&path).unwrap_err().to_string();
        assert!(e.ends_with("r.records.jsonl:2: not a request record"), "{e}");
    }
}
