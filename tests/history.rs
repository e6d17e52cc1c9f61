//! The run history end to end (issue 5, "History"): runs stored in a temporary database,
//! `compare` telling a 200 ms from a 300 ms TTFT (and not two runs with the same settings),
//! a run killed with SIGKILL leaving every completed run listed and the database intact, and
//! the failure paths: an unwritable database, an unknown run, a bad `--tag`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use streamperf::cli::RunArgs;
use streamperf::history::History;
use streamperf::mock::{MockOptions, MockServer};
use support::{args, run_args};

async fn start(ttft_ms: u64) -> MockServer {
    let options = MockOptions { port: 0, ttft_ms, itl_ms: 2, tokens: 4, ..MockOptions::default() };
    MockServer::start(options).await.expect("mock starts")
}

fn chat(mock: &MockServer, query: &str) -> String {
    format!("{}{query}", mock.url("/v1/chat/completions"))
}

/// The binary with `args` in `dir`, off the async runtime's threads.
async fn streamperf(args: &[&str], dir: &Path) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .args(&args)
            .current_dir(&dir)
            .env("LANG", "C")
            .output()
            .expect("binary runs")
    })
    .await
    .unwrap()
}

/// One in-process run of `n` requests stored in `db` with `label`.
async fn stored_run(url: String, db: &Path, label: &str, dir: &Path) -> i64 {
    let run = RunArgs {
        db: Some(db.to_path_buf()),
        no_history: false,
        label: Some(label.into()),
        output: Some(dir.join(format!("{label}.json"))),
        ..args(url, 100, 10, dir)
    };
    let out = run_args(&run).await;
    assert_eq!(out.result.summary.success_count, 100, "{:?}", out.result.summary.failure_examples);
    let history = History::open_existing(db).unwrap();
    history.find(label).expect("stored under its label")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn test_of<'a>(compare: &'a serde_json::Value, metric: &str) -> &'a serde_json::Value {
    compare["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["metric"] == metric)
        .unwrap_or_else(|| panic!("{metric} tested: {compare}"))
}

/// Acceptance: TTFT 200 ms vs 300 ms → `compare` reports +50 % (±3 %) on TTFT P50, flagged
/// significant; two runs with the same settings are not flagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_flags_200_vs_300_ms_and_not_two_runs_with_the_same_settings() {
    let mock = start(200).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    let fast = stored_run(chat(&mock, ""), &db, "fast", dir.path()).await;
    let slow = stored_run(chat(&mock, "?ttft_ms=300"), &db, "slow", dir.path()).await;
    let again = stored_run(chat(&mock, ""), &db, "fast-again", dir.path()).await;
    assert_eq!((fast, slow, again), (1, 2, 3));

    let db_arg = db.display().to_string();
    let out =
        streamperf(&["compare", "fast", "#2", "--db", &db_arg, "--format", "json"], dir.path())
            .await;
    let c = json(&out);
    let p50 = c["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == "ttft.p50").unwrap();
    let change = p50["change"].as_f64().unwrap();
    assert!((change - 50.0).abs() <= 3.0, "TTFT P50 change {change}");
    assert_eq!(p50["direction"], "worse");
    let ttft = test_of(&c, "ttft");
    assert_eq!(ttft["significant"], true, "{ttft}");
    assert!(ttft["test"]["p"].as_f64().unwrap() < 0.05);
    assert_eq!(ttft["test"]["n_a"], 100);

    let out =
        streamperf(&["compare", "1", "3", "--db", &db_arg, "--format", "json"], dir.path()).await;
    let same = json(&out);
    for metric in ["ttft", "e2e"] {
        let t = test_of(&same, metric);
        assert_eq!(t["significant"], false, "same settings flagged: {t}");
    }

    // The text form names the method and the rule; a result file works as a side.
    let out = streamperf(&["compare", "fast", "slow.json", "--db", &db_arg], dir.path()).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Mann-Whitney U") && text.contains("α = 0.05"), "{text}");
    assert!(text.contains("TTFT: median") && text.contains("SIGNIFICANT"), "{text}");
    assert!(text.contains("B: slow.json"), "{text}");
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("slow.json")).unwrap()).unwrap();
    assert_eq!(file["config"]["label"], "slow", "the result file names its run");

    // The trend of one label, and the list filtered by label.
    let out =
        streamperf(&["report", "--trend", "--label", "slow", "--db", &db_arg], dir.path()).await;
    let trend = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(trend.contains("ttft.p50 of runs labelled `slow`") && trend.contains("#2"), "{trend}");

    // The trend as a page: one chart a metric, drawn.
    let page = dir.path().join("trend.html");
    let args = ["report", "--trend", "--label", "slow", "--metric", "ttft.p50,e2e.p99"];
    let out = streamperf(
        &[&args[..], &["--format", "html", "--db", &db_arg, "-o", page.to_str().unwrap()]].concat(),
        dir.path(),
    )
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    for chart in ["trend-0", "trend-1"] {
        let svg = html.split(&format!("data-chart=\"{chart}\"")).nth(1).expect(chart);
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert!(svg.contains("class=\"data"), "{chart} is drawn");
    }
    assert!(html.contains("<td>#2</td>"), "the run is in the table");

    let listed = json(
        &streamperf(
            &["history", "--db", &db_arg, "--label", "fast", "--format", "json"],
            dir.path(),
        )
        .await,
    );
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], 1);
}

/// Acceptance: a run killed with SIGKILL mid-run loses only itself: `history` lists exactly the
/// completed runs and the database passes `PRAGMA integrity_check`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_leaves_the_completed_runs_and_an_intact_database() {
    let mock = start(100).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db").display().to_string();
    let url = chat(&mock, "");
    for (id, label) in [(1, "one"), (2, "two")] {
        let run = ["-u", &url, "-n", "20", "-p", "5", "-q", "--body", support::CHAT_BODY];
        let out = streamperf(
            &[&run[..], &["--db", &db, "--label", label, "-o", label]].concat(),
            dir.path(),
        )
        .await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(&format!("stored as run #{id} in {db}")), "{stdout}");
    }

    mock.stats.reset();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
        .args(["-u", &url, "-n", "100000", "-p", "4", "-q", "--body", support::CHAT_BODY])
        .args(["--db", &db, "--label", "killed", "-o", "killed.json"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("binary starts");
    wait_for_requests(&mock, 12).await;
    child.kill().expect("SIGKILL delivered"); // std's kill is SIGKILL on Unix
    child.wait().unwrap();

    let listed = json(&streamperf(&["history", "--db", &db, "--format", "json"], dir.path()).await);
    let labels: Vec<&str> =
        listed.as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["one", "two"]);
    let history = History::open_existing(Path::new(&db)).unwrap();
    let check: String =
        history.connection().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let requests: i64 =
        history.connection().query_row("SELECT count(*) FROM requests", [], |r| r.get(0)).unwrap();
    assert_eq!(requests, 40, "exactly the two completed runs' requests");
}

async fn wait_for_requests(mock: &MockServer, n: u64) {
    for _ in 0..1000 {
        if mock.stats.snapshot().requests >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the mock never saw {n} requests");
}

/// An unwritable database is a warning naming it; the run still succeeds and writes its result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_database_warns_and_keeps_the_result() {
    let mock = start(5).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blocker"), "a file, not a folder").unwrap();
    let db = PathBuf::from("blocker").join("h.db").display().to_string();
    let url = chat(&mock, "");
    let run = ["-u", &url, "-n", "3", "-p", "1", "-q", "--body", support::CHAT_BODY];
    let out = streamperf(&[&run[..], &["--db", &db, "-o", "kept.json"]].concat(), dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("warning: could not store the run in the history database {db}")),
        "{stderr}"
    );
    assert!(stderr.contains("the result is in kept.json"), "{stderr}");
    assert!(dir.path().join("kept.json").is_file());
}

/// A corrupted database and one another process holds locked past the busy timeout are
/// warnings naming the file and why; the run's result is written either way (#16).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_or_locked_database_warns_and_keeps_the_result() {
    let mock = start(5).await;
    let dir = tempfile::tempdir().unwrap();
    let url = chat(&mock, "");
    let run = ["-u", &url, "-n", "2", "-p", "1", "-q", "--body", support::CHAT_BODY];
    std::fs::write(dir.path().join("corrupt.db"), "not a database, just text\n").unwrap();
    let out =
        streamperf(&[&run[..], &["--db", "corrupt.db", "-o", "c.json"]].concat(), dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("history database corrupt.db") && stderr.contains("not a database"));
    assert!(stderr.contains("the result is in c.json"), "{stderr}");
    assert!(dir.path().join("c.json").is_file());

    // Another process holds the database in an exclusive transaction for the whole run.
    let locked = dir.path().join("locked.db");
    let holder = rusqlite::Connection::open(&locked).unwrap();
    holder.execute_batch("CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);").unwrap();
    let out =
        streamperf(&[&run[..], &["--db", "locked.db", "-o", "l.json"]].concat(), dir.path()).await;
    drop(holder);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("history database locked.db") && stderr.contains("locked"), "{stderr}");
    assert!(dir.path().join("l.json").is_file());
}

/// Unknown runs and labels in `compare`, and a bad `--tag`, are clear errors (exit 2); the bad
/// tag stops the run before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_runs_and_bad_tags_are_clear_errors() {
    let mock = start(5).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    stored_run(chat(&mock, ""), &db, "base", dir.path()).await;
    let db_arg = db.display().to_string();

    let out = streamperf(&["compare", "base", "#9", "--db", &db_arg], dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("compare: run `#9`") && stderr.contains("no run #9"), "{stderr}");
    let out = streamperf(&["compare", "base", "nope", "--db", &db_arg], dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no run labelled `nope`; labels: base"), "{stderr}");
    let out = streamperf(&["history", "--db", "missing.db"], dir.path()).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no history database at missing.db"));

    mock.stats.reset();
    let url = chat(&mock, "");
    let out =
        streamperf(&["-u", &url, "-n", "2", "--db", &db_arg, "--tag", "env"], dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`--tag env`: must look like KEY=VALUE"), "{stderr}");
    assert_eq!(mock.stats.snapshot().requests, 0);
}

/// Without `--db` a run goes to the data directory's `streamperf/history.db` (here a temporary
/// HOME), and a demo stores nothing unless `--db` asks.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_database_is_in_the_data_directory_and_demo_stores_only_with_db() {
    let mock = start(5).await;
    let home = tempfile::tempdir().unwrap();
    let in_home = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .args(args)
            .current_dir(home.path())
            .env("HOME", home.path())
            .env_remove("XDG_DATA_HOME")
            .env("LANG", "C")
            .output()
            .unwrap()
    };
    let default_db = home.path().join(".local/share/streamperf/history.db");

    let demo = in_home(&["demo", "-n", "4", "-p", "2"]);
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    assert!(!home.path().join(".local").exists(), "a demo without --db stores nothing");
    let demo = in_home(&["demo", "-n", "4", "-p", "2", "--db", "demo.db"]);
    assert!(String::from_utf8_lossy(&demo.stdout).contains("stored as run #1 in demo.db"));

    let url = chat(&mock, "");
    let home_path = home.path().to_path_buf();
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .args(["-u", &url, "-n", "3", "-p", "1", "-q", "--body", support::CHAT_BODY])
            .current_dir(&home_path)
            .env("HOME", &home_path)
            .env_remove("XDG_DATA_HOME")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains(&format!("stored as run #1 in {}", default_db.display())), "{stdout}");
    assert!(default_db.is_file());
}
