//! The measuring engine: closed-loop load over one shared HTTP client.
//!
//! The engine never prints. It emits [`EngineEvent`]s on a channel; the terminal lines, the
//! aggregator and the result file are consumers of that channel (oha's split of engine and UI).

pub mod client;
pub mod failure;
pub mod request;

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use crate::config::{Config, StreamFormat};
use crate::record::RequestRecord;
use crate::workload::Workload;

/// What the engine reports while it runs.
#[derive(Debug)]
pub enum EngineEvent {
    /// A request saw its first token (for the seed's `[001] first token: …` line).
    FirstToken {
        /// 1-based request number.
        request_id: u64,
        /// Time to first token.
        ttft: Duration,
    },
    /// A request finished, successfully or not.
    Finished(Box<RequestRecord>),
}

/// A request ready to send: parsed URL, header map and body bytes, built once per data row.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    url: reqwest::Url,
    headers: HeaderMap,
    body: Bytes,
}

/// Everything a worker needs to send and measure requests; shared by all workers.
#[derive(Debug)]
pub struct Engine {
    client: reqwest::Client,
    method: reqwest::Method,
    requests: Vec<PreparedRequest>,
    timeout: Duration,
    format: StreamFormat,
    save_output: bool,
    detected_format: OnceLock<String>,
}

impl Engine {
    /// Prepares every distinct request of `workload`; fails on a bad method, URL or header
    /// before anything is sent.
    pub fn new(config: &Config, workload: &Workload) -> anyhow::Result<Engine> {
        let method = reqwest::Method::from_bytes(config.method.as_bytes())
            .with_context(|| format!("invalid HTTP method `{}`", config.method))?;
        let requests = (0..workload.len() as u64)
            .map(|i| prepare(workload.request(i)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let pool = config.concurrency.min(config.total_requests) as usize;
        Ok(Engine {
            client: client::http_client(pool, config.timeout),
            method,
            requests,
            timeout: config.timeout,
            format: config.stream_format.clone(),
            save_output: config.save_output,
            detected_format: OnceLock::new(),
        })
    }

    /// The stream format the first finished request used, e.g. `sse/openai-chat`.
    pub fn detected_format(&self) -> Option<&str> {
        self.detected_format.get().map(String::as_str)
    }

    /// Runs the seed's closed loop: `concurrency` requests in flight at all times; a new one
    /// starts the moment one ends; never more; until `total` have been sent. Returns the wall
    /// time from the first send to the last completion.
    pub async fn run_closed_loop(
        self: &Arc<Self>,
        concurrency: u64,
        total: u64,
        events: UnboundedSender<EngineEvent>,
    ) -> Duration {
        let next = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let workers: Vec<_> = (0..concurrency.min(total))
            .map(|_| {
                let (engine, next, events) = (Arc::clone(self), Arc::clone(&next), events.clone());
                tokio::spawn(async move {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= total {
                            break;
                        }
                        let record = engine.send_one(index, &events).await;
                        // A closed channel means nobody listens any more: stop quietly.
                        if events.send(EngineEvent::Finished(Box::new(record))).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            // A panicking worker is a bug; surface it rather than hide lost requests.
            worker.await.expect("load worker panicked");
        }
        started.elapsed()
    }

    /// Sends request number `index` (0-based) and measures it.
    async fn send_one(&self, index: u64, events: &UnboundedSender<EngineEvent>) -> RequestRecord {
        let prepared = &self.requests[(index % self.requests.len() as u64) as usize];
        let request = self
            .client
            .request(self.method.clone(), prepared.url.clone())
            .headers(prepared.headers.clone())
            .body(prepared.body.clone());
        let outcome = request::measure(self, request, index + 1, events).await;
        if let Some(name) = &outcome.format_name {
            if self.detected_format.get().is_none() {
                let _ = self.detected_format.set(name.clone());
            }
        }
        outcome.record
    }
}

fn prepare(spec: &crate::workload::RequestSpec) -> anyhow::Result<PreparedRequest> {
    let url =
        reqwest::Url::parse(&spec.url).with_context(|| format!("invalid URL `{}`", spec.url))?;
    let mut headers = HeaderMap::new();
    for (name, value) in &spec.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .with_context(|| format!("invalid header name `{name}`"))?;
        let value = HeaderValue::from_str(value)
            .with_context(|| format!("invalid value for header `{name}`"))?;
        headers.append(name, value);
    }
    Ok(PreparedRequest { url, headers, body: spec.body.clone() })
}
