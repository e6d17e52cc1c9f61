//! Record fixtures for the unit tests of every layer that reads records.

use std::time::Duration;

use crate::measure::record::{Failure, RequestRecord, TokenSource};

/// A successful request: first token at `ttft`, done at `total`, `tokens` output tokens
/// reported by the API, 45 chunks, 12 636 bytes.
pub fn ok(id: u64, ttft: Duration, total: Duration, tokens: u64) -> RequestRecord {
    RequestRecord {
        request_id: id,
        ttft: Some(ttft),
        total_time: Some(total),
        total_tokens: tokens,
        tokens_per_second: None,
        error: None,
        ttfb: Some(ttft / 2),
        ttfat: Some(ttft),
        queue_wait: Some(Duration::ZERO),
        connect: None,
        tpot: None,
        max_gap: None,
        chunks: 45,
        bytes: 12_636,
        chunks_per_second: Some(45.0 / total.as_secs_f64().max(1e-9)),
        output_tokens: Some(tokens),
        reasoning_tokens: None,
        input_tokens: None,
        requested_output_tokens: None,
        cached_tokens: None,
        started_at: None,
        session: None,
        turn: None,
        content_encoding: None,
        token_source: TokenSource::Usage,
        status: Some(200),
        error_class: None,
        timeout_phase: None,
        finish_reason: Some("stop".into()),
        final_url: None,
        level: None,
        warmup: false,
        output: None,
        reasoning: None,
        itl: Vec::new(),
        itl_token: Vec::new(),
    }
}

/// A request that failed with `failure` before any byte arrived.
pub fn failed(id: u64, failure: Failure) -> RequestRecord {
    RequestRecord {
        ttft: None,
        total_time: None,
        total_tokens: 0,
        ttfb: None,
        ttfat: None,
        chunks: 0,
        bytes: 0,
        chunks_per_second: None,
        output_tokens: None,
        token_source: TokenSource::Chunks,
        status: None,
        finish_reason: None,
        error: Some(failure.message),
        error_class: Some(failure.class),
        timeout_phase: failure.phase,
        ..ok(id, Duration::ZERO, Duration::ZERO, 0)
    }
}
