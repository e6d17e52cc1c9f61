//! The built-in mock streaming API of streamperf, used by `streamperf mock`, `streamperf demo`
//! and the tests: the oracle every measurement is checked against, in a crate of its own so that
//! it shares no code path with the measuring side. Useful alone to anyone testing a client.
//!
//! Each route streams one provider's real wire format: OpenAI chat completions, legacy
//! completions and the Responses API; Anthropic Messages; Gemini
//! `streamGenerateContent?alt=sse`; Ollama `/api/chat` and `/api/generate` (NDJSON); Hugging
//! Face TGI `/generate_stream`; Dify chat and workflow (`?framing=event-lines` for the original
//! README's `event:`/`data:` style); plain chunked text. Every provider also answers whole, in
//! its real non-streaming shape, when the request does not ask for a stream (OpenAI's,
//! Anthropic's and the Responses API's `"stream": true` missing, Ollama's `"stream": false`,
//! Dify's `"response_mode": "blocking"`) and on Gemini's `:generateContent` and TGI's
//! `/generate`. `GET /` lists them (`catalog`); [`path_for`] and [`request_body_for`] give
//! each protocol's route and a request for it, [`whole_path_for`] and
//! [`whole_request_body_for`] the non-streaming ones.
//! `GET /mock/stats` and `POST /mock/reset` expose what it received (count, peak requests in
//! flight, peak responses generating, connections accepted, prompt and cached tokens, Dify
//! conversations continued, bodies, server-side time to first content).
//!
//! `--slots N` gives the server a capacity, as a real LLM server's batch slots: at most N
//! responses generate at once, later requests wait for a free slot (after the response head,
//! before any event) and their whole schedule shifts by the wait, so throughput levels off
//! past N streams and time to first token grows instead (`slots`).
//!
//! `--prefix-cache` models a serving engine's prefix (KV) cache as vLLM keeps it (`prefix`):
//! a prompt's leading 16-token blocks seen before are cached, its time to first token keeps
//! only the uncached share, and the usage reports the cached tokens in each API's own field.
//! Dify's chat route keeps the conversations it issued, as Dify does (`conversations`): a
//! `conversation_id` it never issued is a 404.
//!
//! Every streaming route accepts query overrides: `ttft_ms`, `itl_ms`, `tokens`,
//! `reasoning_tokens`, `tokens_per_chunk`, `jitter_ms`, `usage=false` and the faults of
//! `fault`: `fail=status:<code>|close:<k>|stall:<k>|error:<k>|pause:<k>:<ms>` (`k` counts
//! chunks), `fail=slow-headers:<ms>` (the head `ms` late, then a normal stream) and
//! `fail=endless` (chunks forever: no end marker, no usage), the gateway faults
//! `fail=html:<code>` (nginx's HTML error page, `text/html`), `fail=throttle-date` (the route's
//! 429 with `Retry-After` as an HTTP-date 2 s ahead) and `fail=garbage:<bytes>` (a 200
//! `text/event-stream` of that many pseudo-random bytes, at most 10 MiB), the connection
//! faults `fail=close-idle|connection-close|http10`, `fail=status-close:<code>` (`status:<code>`,
//! then the connection closes though keep-alive was advertised) and `--close-after-response`
//! (`conn`), redirects `fail=redirect:<code>|redirect-loop` (`redirect`), the input faults
//! `fail=big-event:<bytes>|endless-line` and `fail=bad-utf8` (bytes 0xFF 0xFE in the first
//! chunk's text) and, in `overrides`, `ct=TYPE|none` and `fail=headers:<n>`, and in `encoding`
//! `ce=gzip|deflate|br|zstd|garbage` (compressed responses), so one mock serves many test
//! cases. Reasoning streams before the answer in each format's reasoning field; chunk `k`
//! (reasoning and answer counted together) is due at `start + ttft + k·itl`. Every streamed word is one `o200k_base` token (`words`), so tokenizer
//! counts match what was sent.
//!
//! Layout: `routes` maps each path to its handler (`handlers`), `request` is what every route
//! does with a request first (counting, overrides, body, status faults), `driver` runs the one
//! timed streaming loop, the per-format modules in `formats/` (`openai`, `completions`,
//! `responses`, `anthropic`, `gemini`, `ollama`, `tgi`, `dify`, `plain`) only frame bytes,
//! `plan` holds the schedule, `fault` the faults, `reply` the per-response facts, `errors`
//! each API's error bodies, `foreign` the answers of no API (a proxy's HTML page, random
//! bytes), `slots` the capacity, `prefix` the prefix cache, `conversations` Dify's conversations,
//! `stats` the recording, `conn` the connections closed on purpose, `tls` the HTTPS listener
//! (`--tls-cert`, `--tls-key`).

mod catalog;
mod conn;
mod conversations;
mod driver;
mod encoding;
mod errors;
mod fault;
mod foreign;
mod formats;
mod handlers;
mod overrides;
mod plan;
mod prefix;
mod redirect;
mod reply;
mod request;
mod routes;
mod slots;
mod stats;
mod tls;
mod words;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::Context;
use axum::serve::ListenerExt as _;
use clap::Args;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use catalog::{
    PROTOCOLS, listing, path_for, request_body_for, whole_path_for, whole_request_body_for,
};
pub use stats::{LatencySummary, MAX_BODIES, MockSnapshot, MockStats};
pub use words::{mock_reasoning_text, mock_text};

/// Where the mock listens and the timing of its streams.
#[derive(Debug, Clone, Args)]
pub struct MockOptions {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Delay before the first chunk (reasoning or answer), milliseconds.
    #[arg(long = "ttft-ms", default_value_t = 200)]
    pub ttft_ms: u64,
    /// Delay between chunks, milliseconds (between tokens with one token per chunk).
    #[arg(long = "itl-ms", default_value_t = 20)]
    pub itl_ms: u64,
    /// Answer tokens per response (capped by the request's max-tokens field).
    #[arg(long, default_value_t = 64)]
    pub tokens: u64,
    /// Reasoning tokens streamed before the answer, in each format's reasoning field
    /// (ignored by formats without one: Dify, TGI, legacy completions, plain text).
    #[arg(long = "reasoning-tokens", default_value_t = 0)]
    pub reasoning_tokens: u64,
    /// Tokens per chunk; the last chunk of the reasoning or of the answer may hold fewer.
    #[arg(long = "tokens-per-chunk", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub tokens_per_chunk: u64,
    /// Uniform random jitter added to each delay, 0..=N milliseconds.
    #[arg(long = "jitter-ms", default_value_t = 0)]
    pub jitter_ms: u64,
    /// Server capacity, like an LLM server's batch slots: at most N responses generate at
    /// once. A request that finds them all busy waits for one (headers sent, no events yet),
    /// so its time to first token grows by the wait. Default: unlimited.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub slots: Option<u64>,
    /// Serve HTTPS (ALPN h2 and http/1.1) with this PEM certificate chain; needs --tls-key.
    #[arg(long = "tls-cert", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long = "tls-key", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Close every connection right after its response while advertising keep-alive, as
    /// llama.cpp's server does (tests a client's reconnects).
    #[arg(long = "close-after-response")]
    pub close_after_response: bool,
    /// Model a serving engine's prefix (KV) cache, as vLLM's: prompt tokens in 16-token blocks
    /// already seen at the start of an earlier prompt are cached, the time to first token
    /// shrinks to the uncached share, and usage reports the cached tokens in each API's field.
    #[arg(long = "prefix-cache")]
    pub prefix_cache: bool,
}

impl Default for MockOptions {
    /// The CLI defaults (port 8000; use `port: 0` in tests).
    fn default() -> Self {
        MockOptions {
            port: 8000,
            host: "127.0.0.1".into(),
            ttft_ms: 200,
            itl_ms: 20,
            tokens: 64,
            reasoning_tokens: 0,
            tokens_per_chunk: 1,
            jitter_ms: 0,
            slots: None,
            tls_cert: None,
            tls_key: None,
            close_after_response: false,
            prefix_cache: false,
        }
    }
}

/// A running mock server. It serves until [`MockServer::shutdown`] or until its runtime ends;
/// dropping the handle does *not* stop it (so `MockServer::start(o).await?.addr` is safe).
#[derive(Debug)]
pub struct MockServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it recorded.
    pub stats: Arc<MockStats>,
    /// `https` with `tls_cert`, else `http`.
    scheme: &'static str,
    stop: watch::Sender<bool>,
    task: JoinHandle<io::Result<()>>,
}

/// Accept-queue length. tokio's default (1,024) makes thousands of simultaneous connects
/// overflow the queue, and each dropped SYN comes back a second later as a fake TTFT outlier.
const LISTEN_BACKLOG: u32 = 8192;

async fn bind(host: &str, port: u16) -> io::Result<tokio::net::TcpListener> {
    let addr = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no address for {host}")))?;
    let socket = match addr {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

impl MockServer {
    /// Binds `options.host:options.port` and serves in the background on the current runtime.
    pub async fn start(options: MockOptions) -> anyhow::Result<MockServer> {
        // Zero slots would make every request wait forever; clap rejects it, code may not.
        anyhow::ensure!(options.slots != Some(0), "--slots must be at least 1");
        // Before binding: a bad certificate is reported as such, not after a port was taken.
        let tls = match (&options.tls_cert, &options.tls_key) {
            (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
            (None, None) => None,
            _ => anyhow::bail!("--tls-cert and --tls-key go together: pass both or neither"),
        };
        // The prompt counter's table (once a process, 0.15 s in a release build), loaded before
        // the port opens: not inside the first request's time to first token, and no client
        // connects to a server that does not answer yet.
        tokio::task::spawn_blocking(words::load_o200k).await.context("loading o200k_base")?;
        let listener = match bind(&options.host, options.port).await {
            Ok(l) => l,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                anyhow::bail!("port {} is in use: pick another with --port", options.port)
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot listen on {}:{}", options.host, options.port)
                });
            }
        };
        let addr = listener.local_addr().context("reading the mock's address")?;
        let stats = Arc::new(MockStats::default());
        let (stop, stopped) = watch::channel(false);
        let app = Arc::new(request::App {
            slots: slots::Slots::new(options.slots, stats.clone()),
            prefix_cache: options.prefix_cache.then(prefix::PrefixCache::default),
            conversations: conversations::Conversations::default(),
            options,
            stats: stats.clone(),
            next_id: AtomicU64::new(0),
            shutdown: stopped.clone(),
        });
        let mut signal = stopped;
        let stopping = async move {
            // Err: the handle was dropped without `shutdown()`; keep serving (see `MockServer`).
            if signal.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        // Each request finds its connection, to close it on purpose (`conn`).
        let service = routes::router(app).into_make_service_with_connect_info::<conn::ConnHandle>();
        let counted = stats.clone();
        // Counting accepted TCP connections lets tests see whether clients keep them alive.
        let count = move || counted.record_connection();
        let (scheme, task) = match tls {
            Some(config) => {
                let listener = tls::TlsListener::new(listener, config, count)
                    .context("reading the mock's address")?;
                let listener = conn::ClosingListener::new(listener, stats.clone());
                let serve = axum::serve(listener, service).with_graceful_shutdown(stopping);
                ("https", tokio::spawn(async move { serve.await }))
            }
            None => {
                // TCP_NODELAY, as serving engines set it: with Nagle's algorithm a small event
                // written while the headers wait for the client's delayed ACK would wait up
                // to 40 ms with them.
                let listener = listener.tap_io(move |tcp| {
                    let _ = tcp.set_nodelay(true);
                    count()
                });
                let listener = conn::ClosingListener::new(listener, stats.clone());
                let serve = axum::serve(listener, service).with_graceful_shutdown(stopping);
                ("http", tokio::spawn(async move { serve.await }))
            }
        };
        Ok(MockServer { addr, stats, scheme, stop, task })
    }

    /// `http://<addr><path>` (`https` with TLS), e.g. `mock.url("/v1/chat/completions")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    /// Stops accepting connections, aborts stalled streams, lets the other streams finish and
    /// waits for the server to end.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.stop.send_replace(true);
        self.task.await.context("the mock server task panicked")?.context("the mock server failed")
    }
}
