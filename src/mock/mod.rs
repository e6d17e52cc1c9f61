//! The built-in mock streaming API, used by `streamperf mock`, `streamperf demo` and the tests.
//!
//! Routes: OpenAI-compatible `POST /v1/chat/completions` (streaming and not), Dify-style
//! `POST /v1/chat-messages` and `POST /v1/workflows/run`. It records what it received (count,
//! peak requests in flight, bodies, server-side time to first content) for tests and benchmarks.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;

/// Timing of the mock's streams.
#[derive(Debug, Clone, Args)]
pub struct MockOptions {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Delay before the first content token, milliseconds.
    #[arg(long = "ttft-ms", default_value_t = 200)]
    pub ttft_ms: u64,
    /// Delay between tokens, milliseconds.
    #[arg(long = "itl-ms", default_value_t = 20)]
    pub itl_ms: u64,
    /// Tokens per response (capped by the request's `max_tokens`).
    #[arg(long, default_value_t = 64)]
    pub tokens: u64,
    /// Uniform random jitter added to each delay, 0..=N milliseconds.
    #[arg(long = "jitter-ms", default_value_t = 0)]
    pub jitter_ms: u64,
}

/// What the mock has seen.
#[derive(Debug, Default)]
pub struct MockStats {}

/// A running mock server.
#[derive(Debug)]
pub struct MockServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it recorded.
    pub stats: Arc<MockStats>,
}

impl MockServer {
    /// Binds `options.host:options.port` and serves in the background on the current runtime.
    pub async fn start(options: MockOptions) -> anyhow::Result<MockServer> {
        let _ = options;
        anyhow::bail!("mock is not built yet")
    }
}
