//! The live view end to end: the binary against the built-in mock on 127.0.0.1, with piped
//! output (no terminal: plain lines, as the seed printed them) and under a pseudo-terminal
//! from util-linux `script` (the progress bar; `--tui` on the alternate screen, its keys, and
//! the terminal given back before the report). Every run is bounded in requests and seconds.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use streamperf::cli::RunArgs;
use streamperf::config::Config;
use streamperf::mock::{MockOptions, MockServer};

/// An OpenAI chat body that streams and asks for usage (no single quote: it goes in a shell
/// command line below).
const BODY: &str = r#"{"model":"mock","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#;

/// A pty test gives up after this long.
const PTY_DEADLINE: Duration = Duration::from_secs(60);

async fn start_mock() -> MockServer {
    let options =
        MockOptions { port: 0, ttft_ms: 20, itl_ms: 2, tokens: 8, ..MockOptions::default() };
    MockServer::start(options).await.expect("mock starts")
}

fn chat(mock: &MockServer, query: &str) -> String {
    format!("{}{query}", mock.url("/v1/chat/completions"))
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// `--tui` with stdout and stderr piped: one warning, then exactly what a run without `--tui`
/// prints to a pipe — per-request lines, progress lines, the report — and no terminal
/// control sequence at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_without_a_terminal_warns_and_prints_plain_lines() {
    let mock = start_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let url = chat(&mock, "");
    let args: Vec<String> =
        ["-u", &url, "-n", "12", "-p", "3", "--tui", "--no-history", "--body", BODY]
            .iter()
            .map(|s| s.to_string())
            .chain(["-o".into(), dir.path().join("r.json").display().to_string()])
            .collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .args(&args)
            .env("LANG", "C")
            .stdin(Stdio::null())
            .output()
            .expect("binary runs")
    })
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stderr.matches("--tui needs a terminal").count(), 1, "{stderr}");
    for expected in ["[001] first token:", "done:", "progress: 12/12 | elapsed:", "Test report"] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
    assert!(!stdout.contains('\x1b') && !stderr.contains('\x1b'), "no escape sequences");
    assert_eq!(mock.stats.snapshot().requests, 12);
}

/// `tui: true` in the config file asks for the dashboard as `--tui` does; a wrong type names
/// the key.
#[test]
fn the_config_file_key_tui() {
    let dir = tempfile::tempdir().unwrap();
    let resolve = |value: &str| {
        let path = dir.path().join("c.json");
        std::fs::write(&path, format!(r#"{{"url": "http://127.0.0.1:9/x", "tui": {value}}}"#))
            .unwrap();
        Config::resolve(&RunArgs { config: Some(path), ..RunArgs::default() })
    };
    assert!(resolve("true").unwrap().tui);
    assert!(!resolve("false").unwrap().tui);
    let e = resolve("\"yes\"").unwrap_err().to_string();
    assert!(e.contains("`tui` must be true or false"), "{e}");
    let flag =
        RunArgs { url: Some("http://127.0.0.1:9/x".into()), tui: true, ..RunArgs::default() };
    assert!(Config::resolve(&flag).unwrap().tui);
}

/// Whether util-linux `script` can give the binary a pty here.
fn script_works() -> bool {
    let ok = Command::new("script")
        .args(["-qec", "true", "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: util-linux `script` is not available");
    }
    ok
}

/// Starts the binary with `args` (a run, never stored in the history) on a 120×40 pty, in
/// `dir`; its stdin is ours to type into.
fn spawn_in_pty(args: &str, dir: &Path) -> Child {
    let bin = env!("CARGO_BIN_EXE_streamperf");
    let command = format!("stty cols 120 rows 40; '{bin}' {args} --no-history");
    Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env("LANG", "C")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script starts")
}

/// Waits for `child` at most [`PTY_DEADLINE`], killing it past that.
fn wait_bounded(mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("wait works").is_none() {
        if start.elapsed() > PTY_DEADLINE {
            let _ = child.kill();
            panic!("the run under a pty did not end within {PTY_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output collected")
}

async fn run_in_pty(args: String, dir: &Path) -> String {
    let dir = dir.to_owned();
    let out =
        tokio::task::spawn_blocking(move || wait_bounded(spawn_in_pty(&args, &dir))).await.unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
}

/// On a terminal: the bar with its live numbers, the per-request lines still printed, and
/// the report after the bar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bar_on_a_terminal_keeps_the_request_lines_and_ends_before_the_report() {
    if !script_works() {
        return;
    }
    let mock = start_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let args = format!("-u {} -n 40 -p 4 --body '{BODY}' -o r.json", chat(&mock, ""));
    let screen = run_in_pty(args, dir.path()).await;
    for expected in ["[001] first token:", "done:", "40/40", "TTFT p50", "req/s", "in flight"] {
        assert!(screen.contains(expected), "{expected:?} missing:\n{screen}");
    }
    let last_bar = screen.rfind("in flight").unwrap();
    let report = screen.find("Test report").expect("the report");
    assert!(report > last_bar, "the report comes after the bar");
    assert!(!screen.contains("progress: "), "the bar replaces the progress lines");
    assert!(!screen.contains("\x1b[?1049h"), "no alternate screen without --tui");
}

/// `--tui` on a terminal: the alternate screen with the dashboard, left (and raw mode off)
/// before the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_takes_the_screen_and_gives_it_back_before_the_report() {
    if !script_works() {
        return;
    }
    let mock = start_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let args = format!("-u {} -n 40 -p 4 --tui --body '{BODY}' -o r.json", chat(&mock, ""));
    let screen = run_in_pty(args, dir.path()).await;
    let enter = screen.find("\x1b[?1049h").expect("alternate screen entered");
    let leave = screen.rfind("\x1b[?1049l").expect("alternate screen left");
    // ratatui moves the cursor over blank cells rather than writing spaces: look for words.
    let dashboard = &screen[enter..leave];
    for expected in ["streamperf", "TTFT", "p50", "p99", "Errors", "histogram", "req/s"] {
        assert!(dashboard.contains(expected), "{expected:?} missing from the dashboard");
    }
    let after = &screen[leave..];
    let banner = after.find("streamperf: 40 requests").expect("the banner, held until now");
    let report = after.find("Test report").expect("the report after the dashboard");
    assert!(banner < report);
    assert!(!after.contains("[001] first token"), "request lines are not replayed");
}

/// The dashboard's keys are Ctrl-C's: `q` stops sending and awaits the requests in flight;
/// a second `q` cancels them (here they stall forever, so only the second press ends the
/// run). The result is written, marked interrupted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_in_the_dashboard_stops_then_cancels() {
    if !script_works() {
        return;
    }
    let mock = start_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let args = format!(
        "-u '{}' -n 100000 -p 4 --tui --body '{BODY}' -o r.json",
        chat(&mock, "?fail=stall:1")
    );
    let mut child = spawn_in_pty(&args, dir.path());
    let mut keys = child.stdin.take().expect("stdin piped");
    for _ in 0..500 {
        if mock.stats.snapshot().requests >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(mock.stats.snapshot().requests, 4, "4 stalled requests in flight");
    keys.write_all(b"q").unwrap();
    keys.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(child.try_wait().unwrap().is_none(), "the first q waits for the requests in flight");
    keys.write_all(b"q").unwrap();
    keys.flush().unwrap();
    let out = tokio::task::spawn_blocking(move || wait_bounded(child)).await.unwrap();
    drop(keys);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let leave = stdout.rfind("\x1b[?1049l").expect("terminal given back");
    assert!(stdout[leave..].contains("Test report"));
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(result["run"]["stop_reason"], "interrupted");
    assert_eq!(result["run"]["in_flight_at_stop"], "cancelled");
    assert_eq!(result["metrics"].as_array().unwrap().len(), 4, "every request sent is kept");
}

/// A sweep under `--tui`: one dashboard for the whole sweep; each level's banner and result
/// line are printed after it, before the report's sweep table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_under_the_dashboard_prints_its_level_lines_afterwards() {
    if !script_works() {
        return;
    }
    let mock = start_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let args = format!("-u {} -p 2,4 -n 8 --tui --body '{BODY}' -o r.json", chat(&mock, ""));
    let screen = run_in_pty(args, dir.path()).await;
    assert_eq!(screen.matches("\x1b[?1049h").count(), 1, "one dashboard for every level");
    let after = &screen[screen.rfind("\x1b[?1049l").unwrap()..];
    let p2 = after.find("level p=2:").expect("level 2's line");
    let p4 = after.find("level p=4:").expect("level 4's line");
    let table = after.find("[Sweep]").expect("the sweep table");
    assert!(p2 < p4 && p4 < table, "{after}");
    assert_eq!(mock.stats.snapshot().requests, 16);
}
