//! The HTML report end to end: a real run against the built-in mock writes `result.html`
//! (`--export html`), `streamperf report --format html` renders the same page again from the
//! saved JSON, and headless Chromium opens it: every chart present and drawn, no console
//! error, and a screenshot under `target/` (`html-report.png`, `html-report-zh.png`).
//!
//! Without Chromium (`$STREAMPERF_CHROMIUM`, `/usr/bin/chromium` or `chromium` on the PATH)
//! the browser part is skipped with a message, unless `STREAMPERF_REQUIRE_CHROMIUM=1` (CI),
//! which makes it fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use streamperf::cli::Lang;
use streamperf::export::html::{self, GENERATED_MARKER};
use streamperf::mock::{MockOptions, MockServer};
use streamperf::report::RunResult;
use support::{args, run_args};

/// Every chart of a sweep's report, each of which must draw data.
const CHARTS: [&str; 14] = [
    "ttft-histogram",
    "ttft-cdf",
    "ttfat-histogram",
    "ttfat-cdf",
    "e2e-histogram",
    "e2e-cdf",
    "itl-histogram",
    "itl-cdf",
    // The mock reports prompt tokens: the lengths' histogram pair.
    "isl-histogram",
    "osl-histogram",
    "requests-over-time",
    "tokens-over-time",
    "ttft-over-time",
    "sweep",
];

/// A Chromium run longer than this is killed and the test fails.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_of_a_real_run_renders_again_and_in_chromium() {
    let options = MockOptions {
        port: 0,
        ttft_ms: 40,
        itl_ms: 3,
        tokens: 20,
        reasoning_tokens: 4,
        jitter_ms: 4,
        slots: Some(4),
        ..MockOptions::default()
    };
    let mock = MockServer::start(options).await.expect("mock starts");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{}/v1/chat/completions", mock.addr);
    let mut run = args(url, 32, 2, dir.path());
    run.concurrency = vec![2, 4, 8];
    run.export = vec!["html".into()];
    run.lang = Some(Lang::En);
    let out = run_args(&run).await;
    assert_eq!(out.result.levels.len(), 3);
    let first = dir.path().join("result.html");
    let page = std::fs::read_to_string(&first).expect("--export html writes result.html");

    let saved = out.result_path.expect("result written");
    let saved = saved.display().to_string();
    // Without --lang the page is in the run's language (recorded in the result), whatever
    // the locale (a Chinese one here); --lang zh asks for the other.
    for (lang, file) in [(None, "other.html"), (Some("zh"), "other-zh.html")] {
        let mut flags = vec!["report", &saved, "--format", "html", "-o", file];
        flags.extend(lang.map(|l| ["--lang", l]).into_iter().flatten());
        let report = streamperf(&flags, dir.path()).await;
        assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    }
    let again = std::fs::read_to_string(dir.path().join("other.html")).unwrap();
    assert_eq!(
        without_generation_time(&page),
        without_generation_time(&again),
        "same page from the JSON"
    );
    assert_ne!(page.lines().count(), without_generation_time(&page).lines().count());
    let zh = std::fs::read_to_string(dir.path().join("other-zh.html")).unwrap();
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("延迟分布"));

    let Some(chromium) = chromium() else { return };
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").to_path_buf();
    for (file, shot) in
        [(first, "html-report.png"), (dir.path().join("other-zh.html"), "html-report-zh.png")]
    {
        let dom = open(&chromium, &file, &["--dump-dom"]);
        assert_eq!(console_errors(&dom.stderr), Vec::<String>::new(), "{}", file.display());
        for id in CHARTS {
            assert!(
                drawn(&dom.stdout, id) > 0,
                "{id} is missing or empty in the DOM of {}",
                file.display()
            );
        }
        assert!(!dom.stdout.contains("data-empty"), "no chart shows the empty state");
        assert_eq!(dom.stdout.matches("<svg data-chart=").count(), CHARTS.len(), "no other chart");
        let png = shots.join(shot);
        let _ = std::fs::remove_file(&png);
        let opened = open(
            &chromium,
            &file,
            &[&format!("--screenshot={}", png.display()), "--window-size=1280,4000"],
        );
        assert_eq!(console_errors(&opened.stderr), Vec::<String>::new());
        let bytes = std::fs::read(&png).expect("a screenshot");
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 50_000,
            "{} bytes",
            bytes.len()
        );
        let size = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        assert_eq!((size(16), size(20)), (1280, 4000), "IHDR width and height");
        eprintln!("screenshot: {}", png.display());
    }
}

/// The checks catch what they are meant to (negative controls): a page with a script error
/// reports it, a clean page reports nothing; charts without data count as not drawn.
#[test]
fn the_browser_checks_detect_script_errors_and_empty_charts() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.html");
    std::fs::write(&bad, "<!DOCTYPE html><p>x</p><script>notDefined();</script>").unwrap();
    let good = dir.path().join("good.html");
    std::fs::write(&good, "<!DOCTYPE html><p>x</p>").unwrap();
    let errors = console_errors(&open(&chromium, &bad, &["--dump-dom"]).stderr);
    assert!(errors.iter().any(|e| e.contains("Uncaught ReferenceError: notDefined")), "{errors:?}");
    assert!(console_errors(&open(&chromium, &good, &["--dump-dom"]).stderr).is_empty());
    // The DOM check, likewise: the report of a result without data has its charts, all empty.
    let empty = dir.path().join("empty.html");
    std::fs::write(&empty, html::render(&RunResult::default(), Lang::En, "now")).unwrap();
    let dom = open(&chromium, &empty, &["--dump-dom"]).stdout;
    assert!(dom.contains("data-chart=\"ttft-histogram\" data-empty=\"true\""), "{dom}");
    assert!(CHARTS[..11].iter().all(|id| drawn(&dom, id) == 0));
}

/// `page` without its generation-time line.
fn without_generation_time(page: &str) -> String {
    page.lines().filter(|l| !l.contains(GENERATED_MARKER)).collect::<Vec<_>>().join("\n")
}

/// Data elements inside `<svg data-chart="ID">` of a DOM dump.
fn drawn(dom: &str, id: &str) -> usize {
    let Some(start) = dom.find(&format!("data-chart=\"{id}\"")) else { return 0 };
    let end = dom[start..].find("</svg>").map_or(dom.len(), |e| start + e);
    dom[start..end].matches("class=\"data ").count()
}

/// Lines Chromium logs for the page's console (`--enable-logging=stderr`): uncaught errors,
/// `console.*` calls. The report has no script, so any such line is a failure.
fn console_errors(stderr: &str) -> Vec<String> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_owned).collect()
}

/// Chromium, or `None` after saying why the browser checks are skipped.
fn chromium() -> Option<PathBuf> {
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|dir| dir.join("chromium")).collect())
        .unwrap_or_default();
    let candidates = std::env::var_os("STREAMPERF_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .chain(on_path);
    let found = candidates.into_iter().find(|p| p.is_file());
    if found.is_none() {
        let required = std::env::var("STREAMPERF_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "STREAMPERF_REQUIRE_CHROMIUM=1 but no Chromium (set STREAMPERF_CHROMIUM)"
        );
        eprintln!(
            "SKIPPED: the Chromium checks of the HTML report (no chromium found; set STREAMPERF_CHROMIUM)"
        );
    }
    found
}

/// What a Chromium run printed.
struct Opened {
    stdout: String,
    stderr: String,
}

/// Opens `file` in headless Chromium with `extra` flags, in a fresh profile and without any
/// background networking (the machine may have no network), killed after [`CHROMIUM_TIMEOUT`].
fn open(chromium: &Path, file: &Path, extra: &[&str]) -> Opened {
    let profile = tempfile::tempdir().unwrap();
    let out = profile.path().join("stdout");
    let err = profile.path().join("stderr");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().join("profile").display()))
        .args(extra)
        .arg(format!("file://{}", file.canonicalize().unwrap().display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
            let opened = Opened { stdout: read(&out), stderr: read(&err) };
            assert!(status.success(), "chromium failed ({status}): {}", opened.stderr);
            return opened;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {CHROMIUM_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the streamperf binary with `args` in `dir`, off the async runtime.
async fn streamperf(args: &[&str], dir: &Path) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_streamperf"))
            .args(&args)
            .current_dir(&dir)
            .env("LC_ALL", "zh_CN.UTF-8")
            .output()
            .expect("streamperf runs")
    })
    .await
    .unwrap()
}
