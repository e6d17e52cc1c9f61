//! The records file: every request's record as one JSON line, appended as it completes, beside
//! the result file (`test_results.records.jsonl`). A run of any length holds only a bounded
//! share of its records in memory (`--max-records-in-result`); the file has them all, and a
//! crash or SIGKILL leaves every record written so far, each line whole.
//!
//! Each line is written whole, with one `write` as its record arrives: the consumer, never the
//! measuring path, pays for it (a few microseconds), and the kernel holds what was written
//! even if the process is killed the next instant. A reader skips a last line without its
//! newline (a disk that filled mid-line).

use anyhow::Context as _;
use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use crate::measure::record::RequestRecord;

/// An open records file.
#[derive(Debug)]
pub struct RecordsFile {
    path: PathBuf,
    file: File,
    /// The line being written, reused.
    line: Vec<u8>,
    lines: u64,
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
                    return Ok(RecordsFile {
                        path,
                        file,
                        line: Vec::with_capacity(2048),
                        lines: 0,
                    });
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

    /// Writes `record` as one line.
    pub fn append(&mut self, record: &RequestRecord) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)?;
        self.line.push(b'\n');
        self.file.write_all(&self.line)?;
        self.lines += 1;
        Ok(())
    }

    /// Hands what was written to the disk (for the end of a run; a killed process loses
    /// nothing written anyway, only a machine that stops does).
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.sync_data()
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
    use std::time::Duration;

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
