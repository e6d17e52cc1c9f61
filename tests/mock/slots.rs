//! Server capacity (`--slots N`): at most N responses generate at once, later requests wait
//! for a slot and their whole schedule shifts by the wait. Lower bounds only on timing: a busy
//! machine can only add delay.

use std::time::Duration;

use clap::Parser;
use serde_json::json;
use streamperf::mock::{MockOptions, MockServer};
use tokio::time::Instant;

use super::{chat, client, options, post, post_json, text, wait_for};

const TTFT_MS: u64 = 100;
const ITL_MS: u64 = 25;
const TOKENS: u64 = 5;

/// What the client saw of one stream, from the common send instant.
struct Seen {
    first_content: Duration,
    last_content: Duration,
    body: String,
}

async fn start_with_slots(slots: u64, ttft_ms: u64, itl_ms: u64, tokens: u64) -> MockServer {
    let options = MockOptions { slots: Some(slots), ..options(ttft_ms, itl_ms, tokens) };
    MockServer::start(options).await.expect("mock starts on a free port")
}

/// Streams one chat completion, noting when the first and the last answer chunks arrived.
async fn stream_chat(c: &reqwest::Client, mock: &MockServer, sent: Instant) -> Seen {
    let req = post_json(c, mock.url("/v1/chat/completions"), &chat(true, json!({})));
    let mut resp = req.send().await.expect("request reaches the mock");
    assert_eq!(resp.status(), 200);
    let (mut body, mut first, mut last) = (String::new(), None, None);
    while let Some(chunk) = resp.chunk().await.expect("a clean body") {
        let at = sent.elapsed();
        let chunk = std::str::from_utf8(&chunk).expect("UTF-8");
        if chunk.contains("\"delta\":{\"content\":\"") {
            first.get_or_insert(at);
            last = Some(at);
        }
        body.push_str(chunk);
    }
    let first_content = first.expect("answer content");
    Seen { first_content, last_content: last.unwrap_or(first_content), body }
}

/// Two slots, six concurrent streams: three rounds of two. Each stream holds its slot for
/// ttft + 4 gaps, so the streams of round `r` cannot see content before `r` such spans plus
/// their own ttft, and keep their inter-token gaps once they start. Measured from the common
/// send instant rather than from the first streams' content, which the client may observe
/// late: the last round starts at least 2 × (ttft + stream) after any first content could.
#[tokio::test]
async fn two_slots_serve_six_streams_in_three_rounds() {
    let mock = start_with_slots(2, TTFT_MS, ITL_MS, TOKENS).await;
    let c = client();
    let sent = Instant::now();
    let mut seen =
        futures_util::future::join_all((0..6).map(|_| stream_chat(&c, &mock, sent))).await;
    seen.sort_by_key(|s| s.first_content);

    let ttft = Duration::from_millis(TTFT_MS);
    let stream = Duration::from_millis((TOKENS - 1) * ITL_MS);
    for (i, s) in seen.iter().enumerate() {
        assert!(s.body.ends_with("data: [DONE]\n\n"), "stream {i} completes: {}", s.body);
        let round = u32::try_from(i / 2).expect("small");
        let due = (ttft + stream) * round + ttft;
        assert!(
            s.first_content >= due,
            "stream {i}: first content {:?} < {due:?}",
            s.first_content
        );
        // A queued stream that kept its arrival schedule would burst every token at once.
        let gaps = s.last_content - s.first_content;
        assert!(gaps >= stream.mul_f64(0.8), "stream {i}: tokens over {gaps:?}, not {stream:?}");
    }

    let snap = wait_for(&mock, |s| s.in_flight == 0 && s.generating == 0).await;
    assert_eq!((snap.requests, snap.in_flight, snap.generating), (6, 0, 0));
    assert_eq!(snap.max_generating, 2, "never more than the slots: {snap:?}");
    assert!(snap.max_in_flight > 2, "waiting requests count as in flight: {snap:?}");
    // Server-side time to first content counts from arrival, the wait included.
    let slowest = (ttft + stream) * 2 + ttft;
    assert!(snap.first_content_us.max >= slowest.as_micros() as u64, "{snap:?}");
}

/// A queued request gets its response head, then nothing until the one slot frees.
#[tokio::test]
async fn a_queued_request_waits_after_its_head() {
    let mock = start_with_slots(1, 1, 1, 3).await;
    let c = client();
    let hold =
        post_json(&c, mock.url("/v1/chat/completions?ttft_ms=10000"), &chat(true, json!({})));
    let held = hold.send().await.expect("the first request takes the slot");
    assert_eq!(wait_for(&mock, |s| s.generating == 1).await.generating, 1);

    let mut queued = post(&mock, "/v1/chat/completions", &chat(true, json!({}))).await;
    assert_eq!(queued.status(), 200, "headers come before the slot");
    let nothing = tokio::time::timeout(Duration::from_millis(100), queued.chunk()).await;
    assert!(nothing.is_err(), "no event while the slot is taken: {nothing:?}");
    let snap = mock.stats.snapshot();
    assert_eq!((snap.in_flight, snap.generating, snap.first_content_us.count), (2, 1, 0));

    drop(held);
    let rest = text(queued).await;
    assert!(rest.ends_with("data: [DONE]\n\n"), "{rest}");
    let snap = wait_for(&mock, |s| s.in_flight == 0).await;
    assert_eq!((snap.requests, snap.max_generating, snap.first_content_us.count), (2, 1, 1));
}

/// Non-streaming answers take a slot as well: one slot, three answers, one after another.
#[tokio::test]
async fn non_streaming_answers_take_turns() {
    let mock = start_with_slots(1, 40, 10, 3).await;
    let c = client();
    let sent = Instant::now();
    let answers = (0..3).map(|_| async {
        let req = post_json(&c, mock.url("/v1/chat/completions"), &chat(false, json!({})));
        let resp = req.send().await.expect("request reaches the mock");
        assert_eq!(resp.status(), 200);
        text(resp).await;
        sent.elapsed()
    });
    let done = futures_util::future::join_all(answers).await;
    let last = done.into_iter().max().expect("three answers");
    // Each answer holds the slot for ttft + 2 gaps = 60 ms.
    assert!(last >= Duration::from_millis(3 * 60), "{last:?}");
    assert_eq!(mock.stats.snapshot().max_generating, 1);
}

#[tokio::test]
async fn zero_slots_are_rejected() {
    let zero = MockOptions { slots: Some(0), ..options(1, 1, 1) };
    let err = MockServer::start(zero).await.expect_err("no request could ever be served");
    assert_eq!(err.to_string(), "--slots must be at least 1");

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        mock: MockOptions,
    }
    assert!(Cli::try_parse_from(["mock", "--slots", "0"]).is_err());
    let cli = Cli::try_parse_from(["mock", "--slots", "4"]).expect("a valid capacity");
    assert_eq!(cli.mock.slots, Some(4));
    assert_eq!(Cli::try_parse_from(["mock"]).expect("defaults").mock.slots, None);
}
