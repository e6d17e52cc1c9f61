//! HTTP proxies end to end: a small proxy of the test support (forwarding and `CONNECT`)
//! between streamperf and the mock, all on 127.0.0.1. Forwarded and tunnelled requests are
//! counted on both sides; environment proxies are tested through `Config::resolve_with`, so
//! no test touches the process environment.

#[path = "support/pki.rs"]
mod pki;
#[path = "support/proxy.rs"]
mod relay;
mod support;

use std::path::Path;

use relay::TestProxy;
use streamperf::cli::RunArgs;
use streamperf::config::Config;
use streamperf::mock::{MockOptions, MockServer};
use streamperf::record::ErrorClass;
use streamperf::run::{self, RunOutput};
use support::run_args;

/// `Basic base64("user:s3cr3t")`.
const USER_S3CR3T: &str = "Basic dXNlcjpzM2NyM3Q=";

async fn start_mock(tls: Option<&pki::Pki>) -> MockServer {
    let options = MockOptions {
        port: 0,
        ttft_ms: 5,
        itl_ms: 1,
        tokens: 4,
        tls_cert: tls.map(|p| p.cert.clone()),
        tls_key: tls.map(|p| p.key.clone()),
        ..MockOptions::default()
    };
    MockServer::start(options).await.expect("mock starts")
}

/// The shared flags through `proxy` (none: `None`), with a short timeout: a failure must not
/// wait 300 s.
fn args(url: String, requests: u64, concurrency: u64, dir: &Path, proxy: Option<&str>) -> RunArgs {
    RunArgs {
        timeout: Some(5.0),
        proxy: proxy.map(str::to_owned),
        ..support::args(url, requests, concurrency, dir)
    }
}

/// Resolves `args` with only `vars` in the environment and runs.
async fn run_with_env(args: &RunArgs, vars: &[(&str, &str)]) -> RunOutput {
    let config = Config::resolve_with(args, &env_of(vars)).expect("valid flags");
    streamperf::console::silence(); // the report is in the returned value
    run::execute(&config).await.expect("run completes")
}

fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
}

/// Whether the terminal report has the row `Proxy: <shown>`.
fn names_proxy(report: &str, shown: &str) -> bool {
    report.lines().any(|l| l.trim_start().starts_with("Proxy:") && l.trim_end().ends_with(shown))
}

/// A port on 127.0.0.1 that nothing listens on: bound, then let go.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_proxy_forwards_every_http_request_even_to_loopback() {
    let mock = start_mock(None).await;
    let proxy = TestProxy::start(mock.addr, None).await;
    let dir = tempfile::tempdir().unwrap();
    let url = mock.url("/v1/chat/completions");
    let out = run_args(&args(url.clone(), 12, 3, dir.path(), Some(&proxy.url()))).await;

    let summary = &out.result.summary;
    assert_eq!(summary.success_count, 12, "{:?}", summary.failure_examples);
    assert_eq!(summary.failed_count, 0);
    assert_eq!(proxy.stats.forwarded(), 12, "the proxy relayed each request once");
    assert_eq!(proxy.stats.tunnels(), 0);
    assert_eq!(mock.stats.snapshot().requests, 12);
    assert!(proxy.stats.targets().iter().all(|t| *t == url), "absolute form: {:?}", proxy.stats);
    assert_eq!(out.result.config["proxy"], proxy.url());
    assert!(names_proxy(&out.report, &proxy.url()), "{}", out.report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_goes_through_a_connect_tunnel_with_tls_end_to_end() {
    let pki = pki::pki();
    let mock = start_mock(Some(&pki)).await;
    let proxy = TestProxy::start(mock.addr, None).await;
    let url = format!("https://localhost:{}/v1/chat/completions", mock.addr.port());
    let mut args = args(url, 12, 4, pki.dir.path(), Some(&proxy.url()));
    args.cacert = Some(pki.ca.clone());
    let out = run_args(&args).await;

    let summary = &out.result.summary;
    assert_eq!(summary.success_count, 12, "{:?}", summary.failure_examples);
    let snap = mock.stats.snapshot();
    assert_eq!(snap.requests, 12);
    assert_eq!(snap.http2_requests, 12, "ALPN through the tunnel still picks h2: {snap:?}");
    assert_eq!(proxy.stats.tunnels(), 4, "one tunnel per worker's connection");
    assert_eq!(proxy.stats.tunnels(), snap.connections);
    assert_eq!(proxy.stats.forwarded(), 0);
    let authority = format!("localhost:{}", mock.addr.port());
    assert!(proxy.stats.targets().iter().all(|t| *t == authority), "{:?}", proxy.stats);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_proxy_skips_loopback_and_carries_other_names() {
    let mock = start_mock(None).await;
    let proxy = TestProxy::start(mock.addr, None).await;
    let dir = tempfile::tempdir().unwrap();
    let env = [("HTTP_PROXY", proxy.url())];
    let vars: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();

    let direct = mock.url("/v1/chat/completions");
    let out = run_with_env(&args(direct, 4, 2, dir.path(), None), &vars).await;
    assert_eq!(out.result.summary.success_count, 4, "{:?}", out.result.summary.failure_examples);
    assert_eq!(proxy.stats.forwarded(), 0, "127.0.0.1 is never sent to the environment's proxy");
    assert!(out.result.config["proxy"].is_null());

    // A name only the proxy knows how to reach (it sends everything to the mock).
    let named = format!("http://mock.test:{}/v1/chat/completions", mock.addr.port());
    let out = run_with_env(&args(named.clone(), 4, 2, dir.path(), None), &vars).await;
    assert_eq!(out.result.summary.success_count, 4, "{:?}", out.result.summary.failure_examples);
    assert_eq!(proxy.stats.forwarded(), 4);
    assert!(proxy.stats.targets().iter().all(|t| *t == named), "{:?}", proxy.stats);
    assert_eq!(out.result.config["proxy"], proxy.url());

    // `NO_PROXY` sends the name direct; `--proxy ''` turns the environment's proxy off.
    let no_proxy = [vars[0], ("NO_PROXY", "localhost,.test")];
    let config =
        Config::resolve_with(&args(named.clone(), 1, 1, dir.path(), None), &env_of(&no_proxy));
    assert!(config.unwrap().result_view("t")["proxy"].is_null());
    let config = Config::resolve_with(&args(named, 1, 1, dir.path(), Some("")), &env_of(&vars));
    assert!(config.unwrap().result_view("t")["proxy"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_refuses_connections_is_a_connect_failure_naming_it() {
    let mock = start_mock(None).await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let out =
        run_args(&args(mock.url("/v1/chat/completions"), 3, 1, dir.path(), Some(&proxy))).await;

    let summary = &out.result.summary;
    assert_eq!(summary.failures.get(&ErrorClass::Connect), Some(&3), "{:?}", summary.failures);
    for record in &out.result.metrics {
        let error = record.error.as_deref().unwrap_or_default();
        assert!(error.starts_with(&format!("cannot connect to proxy {proxy}: ")), "{error}");
        assert!(error.to_lowercase().contains("refused"), "{error}");
    }
    assert_eq!(mock.stats.snapshot().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_answered_407_is_a_connect_failure_with_the_status() {
    let pki = pki::pki();
    let mock = start_mock(Some(&pki)).await;
    let proxy = TestProxy::start(mock.addr, Some(USER_S3CR3T.into())).await;
    let url = format!("https://localhost:{}/v1/chat/completions", mock.addr.port());
    let mut args = args(url, 2, 1, pki.dir.path(), Some(&proxy.url()));
    args.cacert = Some(pki.ca.clone());
    let out = run_args(&args).await;

    let summary = &out.result.summary;
    assert_eq!(summary.failures.get(&ErrorClass::Connect), Some(&2), "{:?}", summary.failures);
    let error = out.result.metrics[0].error.as_deref().unwrap_or_default();
    assert!(error.contains(&format!("proxy {} refused the tunnel", proxy.url())), "{error}");
    assert!(error.contains("407 Proxy Authentication Required"), "{error}");
    assert_eq!(proxy.stats.tunnels(), 0);
    assert_eq!(mock.stats.snapshot().requests, 0);
}

/// The proxy's password reaches the proxy, and no output: result file, exports, history,
/// terminal report, errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_credentials_authenticate_and_never_appear_in_any_output() {
    let pki = pki::pki();
    let dir = pki.dir.path();
    let mock = start_mock(Some(&pki)).await;
    let proxy = TestProxy::start(mock.addr, Some(USER_S3CR3T.into())).await;
    let with_user = |addr: String| addr.replace("http://", "http://user:s3cr3t@");
    let url = format!("https://localhost:{}/v1/chat/completions", mock.addr.port());
    let mut tunnelled = args(url, 3, 1, dir, Some(&with_user(proxy.url())));
    tunnelled.cacert = Some(pki.ca.clone());
    let plain_mock = start_mock(None).await;
    let plain = TestProxy::start(plain_mock.addr, Some(USER_S3CR3T.into())).await;
    let forwarded = RunArgs {
        output: Some(dir.join("forwarded.json")),
        ..args(plain_mock.url("/v1/chat/completions"), 3, 1, dir, Some(&with_user(plain.url())))
    };
    let refused = RunArgs {
        output: Some(dir.join("refused.json")),
        export: vec!["csv".into(), "md".into()],
        db: Some(dir.join("history.db")),
        no_history: false,
        ..args(
            "http://127.0.0.1:9/v1".into(),
            2,
            1,
            dir,
            Some(&with_user(format!("http://127.0.0.1:{}", closed_port()))),
        )
    };

    let out = run_args(&tunnelled).await;
    assert_eq!(out.result.summary.success_count, 3, "{:?}", out.result.summary.failure_examples);
    assert_eq!(proxy.stats.tunnels(), 1);
    let out_forwarded = run_args(&forwarded).await;
    assert_eq!(out_forwarded.result.summary.success_count, 3);
    assert!(plain.stats.authorizations().iter().all(|a| a.as_deref() == Some(USER_S3CR3T)));
    let out_refused = run_args(&refused).await;
    assert_eq!(out_refused.result.summary.failures.get(&ErrorClass::Connect), Some(&2));
    let error = out_refused.result.metrics[0].error.clone().unwrap_or_default();
    assert!(error.contains("proxy http://user:***@127.0.0.1:"), "{error}");

    let mut outputs = vec![out.report, out_forwarded.report, out_refused.report];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "pem") {
            outputs.push(String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned());
        }
    }
    assert!(outputs.len() >= 9, "3 reports, 3 results, 2 exports, the history");
    for text in &outputs {
        for secret in ["s3cr3t", "dXNlcjpzM2NyM3Q="] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
    let shown = proxy.url().replace("http://", "http://user:***@");
    assert!(names_proxy(&outputs[0], &shown), "{}", outputs[0]);
}

#[test]
fn a_bad_proxy_is_a_setup_error_naming_the_flag_or_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = "http://127.0.0.1:1/v1".to_string();
    let err = |args: &RunArgs, vars: &[(&str, &str)]| {
        Config::resolve_with(args, &env_of(vars)).expect_err("bad proxy").to_string()
    };
    let e = err(&args(url.clone(), 1, 1, dir.path(), Some("https://p:443")), &[]);
    assert!(e.starts_with("`--proxy`: https:// proxies are not supported"), "{e}");
    let e = err(&args(url.clone(), 1, 1, dir.path(), Some("http://u:pw@[nope")), &[]);
    assert!(e.starts_with("`--proxy` is not a valid proxy URL") && !e.contains("pw@"), "{e}");

    let file = dir.path().join("c.json");
    std::fs::write(&file, br#"{"url": "https://api.test/v1", "proxy": "socks5://p:1080"}"#)
        .unwrap();
    let with_file = RunArgs { config: Some(file.clone()), ..RunArgs::default() };
    let e = err(&with_file, &[]);
    assert!(e.starts_with(&format!("`proxy` in {}: unsupported", file.display())), "{e}");
    // The environment's: only when the URL would use it.
    let vars = [("HTTPS_PROXY", "socks5://p:1080")];
    let e =
        err(&RunArgs { config: None, url: Some("https://api.test/v1".into()), ..with_file }, &vars);
    assert!(e.starts_with("`HTTPS_PROXY`: unsupported proxy scheme"), "{e}");
    assert!(Config::resolve_with(&args(url, 1, 1, dir.path(), None), &env_of(&vars)).is_ok());
}
