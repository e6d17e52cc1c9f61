//! The run's files: checked before anything is sent where that is possible, then written
//! after the run one by one, each failure named and none stopping the others, so a measured
//! run always gets its report, its history entry and every file that can be written.

use std::path::PathBuf;

use crate::output::export::{self, ExportFormat};
use crate::output::report::{RunResult, json};
use crate::plan::config::Config;

/// What writing the run's files did.
#[derive(Debug, Default)]
pub(super) struct Written {
    /// The result file, when it was written.
    pub result: Option<PathBuf>,
    /// The `--export`s written.
    pub exports: Vec<PathBuf>,
    /// One message for each file that could not be written, naming it.
    pub failures: Vec<String>,
}

/// The result file's path (`-o`: a file, or a directory to put the default name in) and its
/// folder: created and probed now, so a location that cannot take the files is a setup error
/// before any request is sent. The `--prometheus` file's folder too.
pub(super) fn check(config: &Config) -> anyhow::Result<()> {
    if config.write_result {
        json::check_writable(&json::result_target(config.output.as_deref()))?;
    }
    if let Some(path) = &config.prometheus {
        json::check_writable(path)?;
    }
    Ok(())
}

/// Writes the result file, the `--export`s beside it (never overwriting) and the
/// `--prometheus` file (replaced); a failure is recorded and the rest still written.
pub(super) fn write_all(config: &Config, result: &RunResult) -> Written {
    let mut written = Written::default();
    let target = json::result_target(config.output.as_deref());
    if config.write_result {
        written.result = keep(&mut written.failures, json::write_result(result, Some(&target)));
    }
    // Beside the file written, else beside the one asked for.
    let base = written.result.clone().unwrap_or(target);
    for &format in &config.exports {
        let path = base.with_extension(format.extension());
        let exported = export::write_export(result, format, config.lang, &path);
        written.exports.extend(keep(&mut written.failures, exported));
    }
    if let Some(path) = &config.prometheus {
        let text = export::render(result, ExportFormat::Prometheus, config.lang);
        keep(&mut written.failures, text.and_then(|text| json::replace(path, text.as_bytes())));
    }
    written
}

/// `result`'s value, or its error (which names the file) added to `failures`.
fn keep<T>(failures: &mut Vec<String>, result: anyhow::Result<T>) -> Option<T> {
    result.map_err(|e| failures.push(format!("{e:#}"))).ok()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config(dir: &Path, output: &str) -> Config {
        Config { output: Some(dir.join(output)), ..Config::new("http://127.0.0.1:9/x") }
    }

    #[test]
    fn checking_creates_the_folder_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), "new/deeper/r.json");
        check(&config).unwrap();
        assert!(dir.path().join("new/deeper").is_dir());
        assert_eq!(std::fs::read_dir(dir.path().join("new/deeper")).unwrap().count(), 0);
    }

    #[test]
    fn every_file_that_can_be_written_is() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), "").unwrap();
        let mut config = config(dir.path(), "r.json");
        config.exports = vec![ExportFormat::Csv];
        config.prometheus = Some(dir.path().join("file/run.prom"));
        let written = write_all(&config, &RunResult::default());
        assert_eq!(written.result.as_deref(), Some(dir.path().join("r.json").as_path()));
        assert_eq!(written.exports, [dir.path().join("r.csv")]);
        assert_eq!(written.failures.len(), 1, "{:?}", written.failures);
        assert!(written.failures[0].contains("file/run.prom"), "{:?}", written.failures);
    }
}
