//! The database layout and its migrations, keyed on `PRAGMA user_version`: version N means the
//! first N entries of `MIGRATIONS` have run. A migration is only ever appended, never edited,
//! so a database written by any earlier streamperf upgrades in place.

use anyhow::{Context, bail};
use rusqlite::{Connection, TransactionBehavior};

/// Each entry moves the schema one version up.
const MIGRATIONS: &[&str] = &[
    // 1: runs, their requests and their time series.
    "
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,          -- UTC, RFC 3339, when the run was stored
        timestamp TEXT,                    -- the result's config.timestamp (local time)
        label TEXT,
        tags TEXT NOT NULL DEFAULT '{}',   -- JSON object, also in run_tags
        url TEXT NOT NULL,                 -- redacted
        model TEXT,                        -- the body's `model`, if any
        config TEXT NOT NULL,              -- the result's redacted config (JSON)
        summary TEXT NOT NULL,             -- JSON
        run_info TEXT NOT NULL,            -- JSON
        client TEXT,                       -- JSON
        slos TEXT NOT NULL DEFAULT '[]',   -- JSON
        levels TEXT NOT NULL DEFAULT '[]', -- JSON, a sweep's levels
        result_path TEXT,
        tool_version TEXT NOT NULL,
        -- Copies of the summary for listing and plain SQL queries; seconds and per second.
        success_count INTEGER NOT NULL,
        total_requests INTEGER NOT NULL,
        ttft_p50 REAL,
        ttft_p99 REAL,
        e2e_p50 REAL,
        e2e_p99 REAL,
        throughput REAL NOT NULL,
        output_token_throughput REAL NOT NULL,
        slos_passed INTEGER NOT NULL DEFAULT 0,
        slos_failed INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_by_label ON runs(label, id);
    CREATE TABLE run_tags (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    );
    CREATE TABLE requests (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        request_id INTEGER NOT NULL,
        level INTEGER,                     -- sweep level index, NULL for a single run
        warmup INTEGER NOT NULL,
        success INTEGER NOT NULL,
        error_class TEXT,
        status INTEGER,
        ttft REAL,                         -- seconds
        ttfb REAL,
        ttfat REAL,
        e2e REAL,
        tpot REAL,
        max_gap REAL,
        queue_wait REAL,
        connect REAL,
        output_tokens INTEGER,
        input_tokens INTEGER,
        reasoning_tokens INTEGER,
        tokens_per_second REAL,
        chunks INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (run_id, request_id)
    );
    CREATE TABLE timeseries (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        level INTEGER,                     -- NULL: the run's (the last level's) series
        t INTEGER NOT NULL,
        started INTEGER NOT NULL,
        completed INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        in_flight INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        ttft_p50 REAL
    );
    CREATE INDEX timeseries_by_run ON timeseries(run_id, level, t);
    ",
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`VERSION`], each step in its own transaction.
pub fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > VERSION {
        bail!(
            "its schema is version {current}, newer than this streamperf knows ({VERSION}); \
             upgrade streamperf or pass another --db"
        );
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as i64 + 1;
        // IMMEDIATE takes the write lock first; then re-reading the version under it means two
        // processes opening a new database at once (two cron jobs) migrate it only once.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if now >= version {
            continue;
        }
        tx.execute_batch(sql).with_context(|| format!("schema migration to version {version}"))?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_a_new_database_once_and_refuses_a_newer_one() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap(); // idempotent
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, VERSION);
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
            .unwrap();
        assert!(tables >= 4, "{tables}");
        conn.pragma_update(None, "user_version", VERSION + 1).unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(err.contains("newer than this streamperf knows"), "{err}");
    }
}
