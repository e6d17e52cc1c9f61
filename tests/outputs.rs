//! A finished run is never lost (issue 17): the real binary against the built-in mock on
//! 127.0.0.1, with its stdout closed early (`| head -3`), an output location that became
//! unwritable during the run, SIGTERM and SIGHUP to a run with stalled streams, a temporary
//! file left by a killed write, and `-o DIR`. Every child is bounded in time: a watchdog kills
//! it and the test fails if it does not exit.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use streamperf::history::History;
use streamperf::mock::{MockOptions, MockServer};

/// An OpenAI chat body that streams and asks for usage.
const BODY: &str = r#"{"model":"mock","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#;

/// Any child here exits well within this, or the test fails.
const BOUND: Duration = Duration::from_secs(30);

async fn start(ttft_ms: u64) -> MockServer {
    let options = MockOptions { port: 0, ttft_ms, itl_ms: 2, tokens: 8, ..MockOptions::default() };
    MockServer::start(options).await.expect("mock starts")
}

fn chat(mock: &MockServer, query: &str) -> String {
    format!("{}{query}", mock.url("/v1/chat/completions"))
}

/// The binary running `-u URL --body BODY` plus `args`, English, stdin closed, both outputs
/// piped.
fn command(url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_streamperf"));
    command
        .args(["-u", url, "--body", BODY])
        .args(args)
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits for `child` (off the async runtime's threads), killing it after `bound`.
async fn finish(child: Child, bound: Duration) -> (Output, Duration) {
    let started = Instant::now();
    tokio::task::spawn_blocking(move || {
        let pid = child.id() as libc::pid_t;
        let (done, exited) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            let late = exited.recv_timeout(bound).is_err();
            if late {
                // SAFETY: kill(2) on our own child's pid; no memory is touched.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            late
        });
        let output = child.wait_with_output().expect("binary exits");
        let _ = done.send(());
        assert!(!watchdog.join().unwrap(), "the binary did not exit within {bound:?}");
        (output, started.elapsed())
    })
    .await
    .unwrap()
}

async fn run(command: &mut Command) -> Output {
    finish(command.spawn().expect("binary starts"), BOUND).await.0
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("a valid result file")
}

/// Waits (bounded) until the mock has seen `n` requests.
async fn wait_for_requests(mock: &MockServer, n: u64) {
    let deadline = Instant::now() + BOUND;
    while mock.stats.snapshot().requests < n {
        assert!(Instant::now() < deadline, "the mock never saw {n} requests");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: kill(2) with a pid we own and a valid signal number; no memory is touched.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(sent, 0, "signal {signal} delivered");
}

/// A pipe as (read end, write end), neither inherited by children (a child holding the read
/// end would keep the pipe open).
fn pipe() -> (File, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) fills the two descriptors, which we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0, "pipe2(2)");
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe { (File::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Reads `lines` lines from `reader`, then closes it, as `head -N` does.
fn head(reader: impl std::io::Read, lines: usize) -> Vec<String> {
    let mut reader = BufReader::new(reader);
    let mut read = Vec::new();
    for _ in 0..lines {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "fewer than {lines} lines: {read:?}");
        read.push(line);
    }
    read
}

/// `streamperf … | head -3`, `… -q | head -2` and `… -q 2>&1 | head -2`: the run goes on after
/// the pipe closed: exit 0, every request in a valid result file and in the history. (`-q`
/// prints two lines before the report, so `head -2` closes the pipe before it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_stops_the_printing_and_nothing_else() {
    let mock = start(20).await;
    let dir = tempfile::tempdir().unwrap();
    let url = chat(&mock, "");
    for (case, quiet, with_stderr, lines) in
        [("verbose", false, false, 3), ("quiet", true, false, 2), ("quiet 2>&1", true, true, 2)]
    {
        let (out, db) = (dir.path().join(format!("{case}.json")), dir.path().join("h.db"));
        let mut command = command(&url, &["-n", "20", "-p", "2"]);
        command.arg("-o").arg(&out).arg("--db").arg(&db).args(quiet.then_some("-q"));
        let (reader, writer) = pipe();
        if with_stderr {
            command.stderr(Stdio::from(writer.try_clone().unwrap()));
        }
        command.stdout(Stdio::from(writer));
        let child = command.spawn().expect("binary starts");
        drop(command); // our copies of the pipe's write end: the child holds the only ones
        let shown = head(reader, lines);
        let (done, _) = finish(child, BOUND).await;
        let stderr = text(&done.stderr);
        assert!(done.status.success(), "{case}: {:?} {shown:?}\n{stderr}", done.status);
        assert!(!stderr.contains("panicked"), "{case}: {stderr}");
        let result = read_json(&out);
        assert_eq!(result["metrics"].as_array().unwrap().len(), 20, "{case}: every request");
        assert_eq!(result["summary"]["success_count"], 20, "{case}");
        let runs = History::open_existing(&db).unwrap().list(None, 100).unwrap();
        let expected_runs = [("verbose", 1), ("quiet", 2), ("quiet 2>&1", 3)];
        assert_eq!(runs.len(), expected_runs.iter().find(|(c, _)| *c == case).unwrap().1);
    }
}

/// Whether permissions bind us (they do not bind root).
fn permissions_bind() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() != 0 }
}

/// Makes `dir` unwritable while a run is in flight: read-only, or (as root, whom permissions do
/// not stop) replaced by a regular file, so nothing can be created under its path.
fn make_unwritable(dir: &Path) {
    if permissions_bind() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    } else {
        std::fs::remove_dir_all(dir).unwrap();
        std::fs::write(dir, "not a directory any more\n").unwrap();
    }
}

/// Gives a directory spoilt by [`make_unwritable`] back to the temporary dir's cleanup.
fn restore(dir: &Path) {
    if permissions_bind() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A run of two 300 ms requests whose output directory `spoilt` becomes unwritable after the
/// first request was sent: the report is still printed, and `--prometheus`, history and
/// whatever else can be written is. Returns the output.
async fn run_while_spoiling(mock: &MockServer, spoilt: &Path, args: &[&str]) -> Output {
    mock.stats.reset();
    let mut command = command(&chat(mock, ""), &["-n", "2", "-p", "1", "-q"]);
    let child = command.args(args).spawn().expect("binary starts");
    wait_for_requests(mock, 1).await;
    make_unwritable(spoilt);
    let (out, _) = finish(child, BOUND).await;
    restore(spoilt);
    out
}

/// The result file's directory becomes unwritable during the run: the report is printed, the
/// `--export`s that cannot be written are named, the `--prometheus` file elsewhere and the
/// history are still written, and the exit code is 4 (3 when an SLO failed too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_result_location_still_reports_and_exits_4() {
    let mock = start(300).await;
    let dir = tempfile::tempdir().unwrap();
    let (results, prom, db) =
        (dir.path().join("results"), dir.path().join("run.prom"), dir.path().join("h.db"));
    let result = results.join("r.json");
    let (result_arg, prom_arg, db_arg) =
        (result.to_str().unwrap(), prom.to_str().unwrap(), db.to_str().unwrap());
    let common = ["-o", result_arg, "--export", "csv", "--prometheus", prom_arg, "--db", db_arg];

    let out = run_while_spoiling(&mock, &results, &common).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(stdout.contains("Test report") && stdout.contains("Requests:    2"), "{stdout}");
    assert!(stderr.contains(&format!("cannot write {result_arg}")), "{stderr}");
    let csv = results.join("r.csv");
    assert!(stderr.contains(&format!("cannot write {}", csv.display())), "{stderr}");
    assert!(stderr.contains("not every output was written"), "{stderr}");
    assert!(std::fs::read_to_string(&prom).unwrap().contains("streamperf_requests"));
    assert_eq!(History::open_existing(&db).unwrap().list(None, 10).unwrap().len(), 1);

    // The SLO verdict comes first: 3, and the failed write is still named.
    std::fs::remove_file(&results).ok();
    std::fs::create_dir_all(&results).unwrap();
    let slo = [&common[..], &["--slo", "ttft.p50<1ms"]].concat();
    let out = run_while_spoiling(&mock, &results, &slo).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("cannot write {result_arg}")), "{stderr}");
}

/// Only the `--prometheus` file's directory becomes unwritable: the result file and the
/// export are written, the Prometheus file is named as not written, exit 4.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_prometheus_file_is_named_and_the_rest_written() {
    let mock = start(300).await;
    let dir = tempfile::tempdir().unwrap();
    let textfile = dir.path().join("textfile");
    let (result, prom) = (dir.path().join("r.json"), textfile.join("run.prom"));
    let args = ["-o", result.to_str().unwrap(), "--export", "md", "--no-history"];
    let args = [&args[..], &["--prometheus", prom.to_str().unwrap()]].concat();

    let out = run_while_spoiling(&mock, &textfile, &args).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(stdout.contains("Test report"), "{stdout}");
    assert!(stderr.contains(&format!("cannot write {}", prom.display())), "{stderr}");
    assert_eq!(read_json(&result)["metrics"].as_array().unwrap().len(), 2);
    assert!(dir.path().join("r.md").exists(), "the export beside the result");
}

/// An output that can be checked up front is: a result file or a `--prometheus` file under a
/// regular file is a setup error (exit 2) naming the path, before any request is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impossible_output_path_is_an_error_before_anything_is_sent() {
    let mock = start(20).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "a regular file\n").unwrap();
    let under = file.join("sub").join("r.json");
    let ok = dir.path().join("ok.json");
    for args in [
        vec!["-o", under.to_str().unwrap()],
        vec!["-o", ok.to_str().unwrap(), "--prometheus", under.to_str().unwrap()],
    ] {
        let out = run(command(&chat(&mock, ""), &["-n", "2", "--no-history"]).args(&args)).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&file.join("sub").display().to_string()), "{stderr}");
        assert_eq!(mock.stats.snapshot().requests, 0, "nothing sent");
    }
    assert!(!ok.exists());
}

/// SIGTERM and SIGHUP to a run whose four streams stall: no new requests, and after
/// `--graceful-stop 1s` the stalled ones are cancelled and the result is written; the process
/// is gone well before `--timeout` (300 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sighup_stop_within_the_graceful_stop() {
    let mock = start(20).await;
    let dir = tempfile::tempdir().unwrap();
    let url = chat(&mock, "?fail=stall:1");
    for (name, sig) in [("term", libc::SIGTERM), ("hup", libc::SIGHUP)] {
        mock.stats.reset();
        let out = dir.path().join(format!("{name}.json"));
        let mut command = command(&url, &["-n", "100000", "-p", "4", "-q", "--no-history"]);
        let child =
            command.args(["--graceful-stop", "1s"]).arg("-o").arg(&out).spawn().expect("starts");
        wait_for_requests(&mock, 4).await;
        let sent = Instant::now();
        signal(&child, sig);
        let (done, _) = finish(child, Duration::from_secs(20)).await;
        let took = sent.elapsed();
        let stderr = text(&done.stderr);
        assert!(done.status.success(), "{name}: {:?}\n{stderr}", done.status);
        assert!(took >= Duration::from_secs(1), "{name}: waited the graceful stop ({took:?})");
        assert!(took < Duration::from_secs(10), "{name}: bounded ({took:?})");
        assert!(stderr.contains("waiting up to 1s"), "{name}: {stderr}");
        let result = read_json(&out);
        assert_eq!(result["run"]["stop_reason"], "interrupted", "{name}");
        assert_eq!(result["run"]["in_flight_at_stop"], "cancelled", "{name}");
        assert_eq!(result["summary"]["failures"]["cancelled"], 4, "{name}: the stalled ones");
        assert_eq!(result["metrics"].as_array().unwrap().len(), 4, "{name}: every request sent");
    }
}

/// This machine's name, as the result writer puts it in its temporary files.
fn hostname() -> String {
    let mut name = [0u8; 256];
    // SAFETY: gethostname(2) writes at most `len` bytes into our buffer.
    assert_eq!(unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) }, 0);
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    let name = String::from_utf8_lossy(&name[..end]).into_owned();
    name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).collect()
}

fn touch(path: &Path, age: Duration) {
    let file = File::create(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

/// A write killed between its temporary file and the rename leaves `.streamperf-*.tmp`: the
/// next write into that directory removes those whose writer is gone (a dead pid on this
/// machine) or that are older than a few minutes, and keeps the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_temporary_files_are_cleaned_at_the_next_write() {
    let mock = start(20).await;
    let dir = tempfile::tempdir().unwrap();
    let host = hostname();
    let at = |name: &str| -> PathBuf { dir.path().join(name) };
    let dead = at(&format!(".streamperf-{}@{host}-Abc123.tmp", i32::MAX));
    let old = at(".streamperf-Xyz789.tmp");
    let live = at(&format!(".streamperf-{}@{host}-Def456.tmp", std::process::id()));
    let elsewhere = at(&format!(".streamperf-{}@other-machine-Ghi012.tmp", i32::MAX));
    let fresh = at(".streamperf-Jkl345.tmp");
    touch(&dead, Duration::ZERO);
    touch(&old, Duration::from_secs(3600));
    for kept in [&live, &elsewhere, &fresh] {
        touch(kept, Duration::ZERO);
    }
    let result = at("r.json");
    let out =
        run(command(&chat(&mock, ""), &["-n", "2", "-q", "--no-history"]).arg("-o").arg(&result))
            .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(read_json(&result)["metrics"].as_array().unwrap().len(), 2);
    assert!(!dead.exists(), "its writer is dead");
    assert!(!old.exists(), "an hour old");
    for kept in [&live, &elsewhere, &fresh] {
        assert!(kept.exists(), "{} is kept", kept.display());
    }
}

/// `-o DIR` (an existing directory) writes the default name inside it, and a second run there
/// writes beside it, never over it; `--export` goes beside the result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_directory_gets_the_default_name_inside() {
    let mock = start(20).await;
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    for run_number in 1..=2 {
        let mut command = command(&chat(&mock, ""), &["-n", "2", "-q", "--no-history"]);
        let out = run(command.args(["-o", out_dir, "--export", "csv"])).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let results = names.iter().filter(|n| n.ends_with(".json")).count();
        assert_eq!(results, run_number, "{names:?}");
        assert!(names.contains(&"test_results.json".to_string()), "{names:?}");
        assert!(names.contains(&"test_results.csv".to_string()), "{names:?}");
    }
    assert_eq!(read_json(&dir.path().join("test_results.json"))["metrics"][1]["request_id"], 2);
}

/// A 64 KiB tmpfs, mounted for the life of the value; `None` where mounting is not allowed
/// (not root), and the test says so.
struct TinyDisk(tempfile::TempDir);

impl TinyDisk {
    fn mount() -> Option<TinyDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        }
        mounted.then_some(TinyDisk(dir))
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

/// The result does not fit on the disk: the report is printed, the `--prometheus` file
/// elsewhere is written, the result file is named as not written (no space), no temporary
/// file is left behind, the records that fit are readable and the file already on that disk
/// is untouched; exit 4.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_still_reports_names_the_result_and_exits_4() {
    let Some(disk) = TinyDisk::mount() else { return };
    let mock = start(1).await;
    let (tiny, other) = (disk.0.path(), tempfile::tempdir().unwrap());
    let kept = tiny.join("earlier.json");
    std::fs::write(&kept, "{\"an\": \"earlier result\"}\n").unwrap();
    let (result, prom) = (tiny.join("r.json"), other.path().join("run.prom"));
    let args = ["-n", "400", "-p", "8", "--save-output", "--no-history", "-q"];
    let paths = ["-o", result.to_str().unwrap(), "--prometheus", prom.to_str().unwrap()];
    let out = run(&mut command(&chat(&mock, ""), &[&args[..], &paths[..]].concat())).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(stdout.contains("Test report") && stdout.contains("400"), "{stdout}");
    assert!(stderr.contains(&format!("cannot write {}", result.display())), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(std::fs::read_to_string(&prom).unwrap().contains("streamperf_requests"));
    let mut left: Vec<_> =
        std::fs::read_dir(tiny).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    // The records file keeps what fit (whole lines; a reader skips a cut last one), and the
    // warning says where it stopped; no temporary file is left.
    assert_eq!(left, ["earlier.json", "r.records.jsonl"], "nothing half-written left: {stderr}");
    assert!(stderr.contains("cannot write") && stderr.contains("r.records.jsonl"), "{stderr}");
    streamperf::records::read_records(&tiny.join("r.records.jsonl")).unwrap();
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "{\"an\": \"earlier result\"}\n");
}

/// Two runs started together with the same `-o` both keep their result and records: the
/// second takes a timestamped name, nothing is overwritten (#16).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_with_the_same_output_both_keep_theirs() {
    let mock = start(20).await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("same.json");
    let spawn = || {
        command(&chat(&mock, ""), &["-n", "3", "--no-history", "-o", target.to_str().unwrap()])
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) =
        tokio::join!(finish(a, Duration::from_secs(30)), finish(b, Duration::from_secs(30)));
    assert!(
        a.0.status.success() && b.0.status.success(),
        "{}{}",
        text(&a.0.stderr),
        text(&b.0.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let results: Vec<&String> = names.iter().filter(|n| !n.contains("records")).collect();
    let records = names.iter().filter(|n| n.ends_with(".records.jsonl")).count();
    assert_eq!((results.len(), records), (2, 2), "{names:?}");
    for name in results {
        assert_eq!(read_json(&dir.path().join(name))["summary"]["total_requests"], 3, "{name}");
    }
}
