//! The run history: every `streamperf run` stored in a local SQLite database, for
//! `streamperf history` (a table of runs), `streamperf compare` and `report --trend`.
//!
//! The database lives in the user's data directory ([`default_db_path`]) unless `--db` names
//! another; `--no-history` (or `history: false` in the config file) turns storing off. It is
//! opened in WAL mode with `synchronous=NORMAL` and a busy timeout, and each run is saved in
//! one transaction after its result file is written ([`record`]): a process killed mid-run or
//! mid-save leaves every completed run intact and no half-written one, and a history failure
//! is a warning, never a lost result or a failed run.
//!
//! Layout: [`schema`] (tables, migrations on `PRAGMA user_version`), `store` (saving), `query`
//! (reading), `list` (the `history` table), [`trend`] (a metric over runs).

pub(crate) mod list;
mod query;
pub mod schema;
mod store;
pub(crate) mod table;
pub mod trend;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use rusqlite::{Connection, OpenFlags};

pub use query::{RunRow, StoredRun, parse_id};

use crate::i18n::Lang;
use crate::output::report::RunResult;

/// File name of the database inside the data directory.
const DB_FILE: &str = "history.db";
/// How long a writer waits for another process's transaction (two cron runs at once).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What is stored beside the result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunMeta {
    /// `--label`.
    pub label: Option<String>,
    /// `--tag KEY=VALUE`s, in order, keys unique.
    pub tags: Vec<(String, String)>,
    /// Where the result file went.
    pub result_path: Option<PathBuf>,
}

/// An open history database.
#[derive(Debug)]
pub struct History {
    conn: Connection,
    path: PathBuf,
}

impl History {
    /// Opens `path`, creating it (and its folder) when missing, and migrates it.
    pub fn open(path: &Path) -> anyhow::Result<History> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the folder {}", dir.display()))?;
        }
        Self::open_with(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)
    }

    /// Opens an existing database (for `history`, `compare`, `report --trend`): a missing file
    /// is an error that says how runs get there.
    pub fn open_existing(path: &Path) -> anyhow::Result<History> {
        if !path.is_file() {
            anyhow::bail!(
                "no history database at {}: `streamperf run` stores each run there (or pass \
                 --db PATH)",
                path.display()
            );
        }
        Self::open_with(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
    }

    fn open_with(path: &Path, flags: OpenFlags) -> anyhow::Result<History> {
        let opened = || -> anyhow::Result<Connection> {
            let mut conn = Connection::open_with_flags(path, flags)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            // WAL: a crash never corrupts committed runs, and readers never block the writer.
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                anyhow::bail!("the database refused WAL journaling (journal_mode = {mode})");
            }
            // NORMAL in WAL mode: a power cut may lose the last run, never corrupt older ones.
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", true)?;
            schema::migrate(&mut conn)?;
            Ok(conn)
        };
        let conn = opened().with_context(|| format!("history database {}", path.display()))?;
        Ok(History { conn, path: path.to_path_buf() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores one run in one transaction; returns its id.
    pub fn save(&mut self, result: &RunResult, meta: &RunMeta) -> anyhow::Result<i64> {
        store::save(&mut self.conn, result, meta).with_context(|| self.context())
    }

    /// The `last` most recent runs (labelled `label`, if given), oldest first.
    pub fn list(&self, label: Option<&str>, last: usize) -> anyhow::Result<Vec<RunRow>> {
        query::list(&self.conn, label, last).with_context(|| self.context())
    }

    /// The id of the run `spec` names: `12`, `#12` or a label (its latest run).
    pub fn find(&self, spec: &str) -> anyhow::Result<i64> {
        query::find(&self.conn, spec).with_context(|| self.context())
    }

    /// Run `id`'s summary and TTFT/e2e samples.
    pub fn load(&self, id: i64) -> anyhow::Result<StoredRun> {
        query::load(&self.conn, id).with_context(|| self.context())
    }

    /// One metric (an SLO name such as `ttft.p50`) over the runs labelled `label`.
    pub fn trend(&self, label: &str, metric: &str) -> anyhow::Result<Vec<trend::TrendPoint>> {
        let metric = trend::TrendMetric::parse(metric)?;
        let runs = query::summaries(&self.conn, label).with_context(|| self.context())?;
        Ok(trend::points(&metric, &runs))
    }

    /// The underlying connection, for tests and ad-hoc queries.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn context(&self) -> String {
        format!("history database {}", self.path.display())
    }
}

/// Where and whether a run is stored (`--db`, `--no-history`, `--label`, `--tag`, and the
/// config file's keys: `config::history` resolves them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistorySettings {
    /// Whether to store the run at all.
    pub enabled: bool,
    /// The database; `None` when enabled but the environment names no data directory (the
    /// run then says so instead of storing).
    pub db: Option<PathBuf>,
    /// `--label`.
    pub label: Option<String>,
    /// `--tag KEY=VALUE`s (keys unique, in order of first appearance).
    pub tags: Vec<(String, String)>,
}

impl HistorySettings {
    /// Storing off (in-process runs that keep no history, such as a demo without `--db`).
    pub fn off() -> Self {
        HistorySettings::default()
    }

    /// Storing in `db`.
    pub fn at(db: PathBuf) -> Self {
        HistorySettings { enabled: true, db: Some(db), ..HistorySettings::default() }
    }
}

/// The default database: `$XDG_DATA_HOME/streamperf/history.db`, else
/// `~/.local/share/streamperf/history.db`; on macOS `~/Library/Application
/// Support/streamperf/history.db`; on Windows `%LOCALAPPDATA%\streamperf\history.db`.
/// `None` when the environment names no home.
pub fn default_db_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let data_dir = if cfg!(windows) {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| h.join("Library/Application Support"))
    } else {
        // The XDG spec ignores a relative XDG_DATA_HOME.
        var("XDG_DATA_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| var("HOME").map(|h| h.join(".local/share")))
    }?;
    Some(data_dir.join("streamperf").join(DB_FILE))
}

/// The database a command reads: `--db`, else the default.
pub fn db_for_command(flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    match flag {
        Some(path) => Ok(path.to_path_buf()),
        None => default_db_path(&|name| std::env::var(name).ok()).ok_or_else(|| {
            anyhow::anyhow!("no data directory (neither XDG_DATA_HOME nor HOME is set): pass --db")
        }),
    }
}

/// Stores a finished run as `settings` ask, after its result file was written, and says
/// where (stdout, in `lang`) or why not (a warning on stderr). Never fails: the run is
/// complete whatever happens here. Returns the run's id when stored.
pub fn record(
    settings: &HistorySettings,
    lang: Lang,
    result: &RunResult,
    result_path: Option<&Path>,
) -> Option<i64> {
    if !settings.enabled {
        return None;
    }
    let Some(db) = &settings.db else {
        crate::errln!(
            "streamperf: warning: run not stored in the history: no data directory (neither \
             XDG_DATA_HOME nor HOME is set); pass --db PATH or --no-history"
        );
        return None;
    };
    let meta = RunMeta {
        label: settings.label.clone(),
        tags: settings.tags.clone(),
        result_path: result_path.map(absolute),
    };
    match History::open(db).and_then(|mut h| h.save(result, &meta)) {
        Ok(id) => {
            crate::outln!("{}", stored_line(lang, id, db));
            Some(id)
        }
        Err(e) => {
            let kept = match result_path {
                Some(path) => format!("the result is in {}", path.display()),
                None => "the report above is complete".to_string(),
            };
            crate::errln!(
                "streamperf: warning: could not store the run in the history database {}: \
                 {e:#} ({kept}; --no-history skips storing)",
                db.display()
            );
            None
        }
    }
}

/// `stored as run #12 in PATH`.
pub fn stored_line(lang: Lang, id: i64, db: &Path) -> String {
    match lang {
        Lang::En => format!("stored as run #{id} in {}", db.display()),
        Lang::Zh => format!("已存入历史记录:运行 #{id},数据库 {}", db.display()),
    }
}

/// `path` made absolute against the current directory, so the stored path still finds the
/// file from elsewhere.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests;
