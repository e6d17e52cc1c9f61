//! The run's records file (`output::records`), shared by the levels of a sweep: every finished
//! request is appended as the consumer sees it. A write that fails is said once and ends the
//! file; the run, its result and its report go on.

use std::path::PathBuf;
use std::sync::Mutex;

use crate::measure::record::RequestRecord;
use crate::output::live::Live;
use crate::output::records::RecordsFile;
use crate::output::report::json;
use crate::plan::config::Config;

/// Where the run's records go as they complete.
pub(super) struct RecordSink {
    file: Mutex<Option<RecordsFile>>,
    /// The file and the records it holds, once it has stopped taking them.
    ended: Mutex<Option<(PathBuf, u64)>>,
}

impl RecordSink {
    /// Creates the records file beside the result file the run writes (none when it writes
    /// no result file). An error here is a setup error, before anything is sent.
    pub(super) fn open(config: &Config) -> anyhow::Result<RecordSink> {
        let file = match config.write_result {
            true => Some(RecordsFile::create(&json::result_target(config.output.as_deref()))?),
            false => None,
        };
        Ok(RecordSink { file: Mutex::new(file), ended: Mutex::new(None) })
    }

    /// Appends `record`; a failed write is said on `live` and closes the file.
    pub(super) fn append(&self, record: &RequestRecord, live: &Live) {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let Some(open) = file.as_mut() else { return };
        if let Err(e) = open.append(record) {
            live.warn(format!(
                "streamperf: warning: cannot write {} ({e}); the records stop there, the result \
                 file still holds up to --max-records-in-result of them",
                open.path().display()
            ));
            self.end(file.take());
        }
    }

    /// Flushes and closes the file: its path and how many records it holds.
    pub(super) fn finish(&self) -> Option<(PathBuf, u64)> {
        let open = self.file.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.end(open);
        self.ended.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn end(&self, file: Option<RecordsFile>) {
        if let Some(mut file) = file {
            let _ = file.flush();
            *self.ended.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((file.path().to_path_buf(), file.lines()));
        }
    }
}
