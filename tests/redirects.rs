//! Redirects are followed as HTTP clients do: 307 and 308 repeat the POST with its body, 301,
//! 302 and 303 turn it into a GET; each request records where it ended up, the report says
//! the URL redirects, and a loop or too many hops is a clear `http_status` failure. The
//! built-in mock redirects with `?fail=redirect:<code>` (to the same URL without the fault, or
//! `&to=URL`) and `?fail=redirect-loop`.

mod support;

use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer};
use streamperf::run::RunOutput;
use support::{CHAT_BODY, args, run_args};

async fn mock() -> MockServer {
    let options =
        MockOptions { port: 0, ttft_ms: 5, itl_ms: 1, tokens: 6, ..MockOptions::default() };
    MockServer::start(options).await.expect("mock starts")
}

async fn run_with(url: String, requests: u64, tweak: impl FnOnce(&mut RunArgs)) -> RunOutput {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = args(url, requests, 2, dir.path());
    tweak(&mut args);
    run_args(&args).await
}

fn errors(out: &RunOutput) -> Vec<&str> {
    out.result.metrics.iter().filter_map(|r| r.error.as_deref()).collect()
}

#[tokio::test]
async fn a_307_or_308_repeats_the_post_with_its_body_on_the_same_connection() {
    for code in [307, 308] {
        let mock = mock().await;
        let url = mock.url(&format!("/v1/chat/completions?fail=redirect:{code}"));
        let out = run_with(url, 6, |_| {}).await;
        assert_eq!(out.result.summary.success_count, 6, "{code}: {:?}", errors(&out));
        let snap = mock.stats.snapshot();
        // The redirect is answered before any route: only the final requests are counted.
        assert_eq!((snap.requests, snap.bodies_seen), (6, 6), "{code}");
        let sent: serde_json::Value = serde_json::from_str(CHAT_BODY).unwrap();
        assert!(mock.stats.bodies().iter().all(|b| *b == sent), "{code}: the body went along");
        assert_eq!(snap.connections, 2, "{code}: same server, same kept-alive connections");
        let final_url = mock.url("/v1/chat/completions");
        assert!(out.result.metrics.iter().all(|r| r.final_url.as_deref() == Some(&final_url)));
        assert_eq!(out.result.connections.redirected, 6);
        assert!(out.report.contains("the URL redirects (6 requests"), "{}", out.report);
    }
}

#[tokio::test]
async fn a_301_302_or_303_turns_the_post_into_a_get_without_a_body() {
    for code in [301, 302, 303] {
        let mock = mock().await;
        let out = run_with(mock.url(&format!("/v1/stream?fail=redirect:{code}")), 4, |_| {}).await;
        assert_eq!(out.result.summary.success_count, 4, "{code}: {:?}", errors(&out));
        let snap = mock.stats.snapshot();
        assert_eq!((snap.requests, snap.bodies_seen), (4, 0), "{code}: GETs, no body sent");
        assert!(out.result.metrics.iter().all(|r| r.output_tokens.unwrap_or(0) > 0));
    }
}

#[tokio::test]
async fn a_redirect_to_another_server_is_followed_there() {
    let (first, second) = (mock().await, mock().await);
    let to = second.url("/v1/chat/completions");
    let url = first.url(&format!("/v1/chat/completions?fail=redirect:307&to={to}"));
    let out = run_with(url, 4, |_| {}).await;
    assert_eq!(out.result.summary.success_count, 4, "{:?}", errors(&out));
    assert_eq!((first.stats.snapshot().requests, second.stats.snapshot().requests), (0, 4));
    assert_eq!(out.result.connections.redirected_to.as_deref(), Some(to.as_str()));
}

#[tokio::test]
async fn a_loop_or_too_many_hops_fails_clearly() {
    let mock = mock().await;
    let out = run_with(mock.url("/v1/chat/completions?fail=redirect-loop"), 2, |_| {}).await;
    assert_eq!(out.result.summary.failed_count, 2);
    let record = &out.result.metrics[0];
    assert_eq!(record.error_class.map(|c| c.as_str()), Some("http_status"));
    assert_eq!(record.status, Some(307));
    let message = record.error.as_deref().unwrap_or_default();
    assert!(message.starts_with("redirect loop: http://"), "{message}");

    let url = mock.url("/v1/chat/completions?fail=redirect:307");
    let out = run_with(url, 2, |a| a.max_redirects = Some(0)).await;
    let record = &out.result.metrics[0];
    assert_eq!((record.status, record.final_url.as_deref()), (Some(307), None));
    let message = record.error.as_deref().unwrap_or_default();
    assert!(message.starts_with("HTTP 307"), "--max-redirects 0 follows none: {message}");
    assert_eq!(mock.stats.snapshot().requests, 0);
}
