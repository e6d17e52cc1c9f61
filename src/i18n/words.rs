//! The report's words: what each language says ([`Words`]), chosen by [`words`]; the
//! tables themselves are `en.rs` and `zh.rs`, so a translation is reviewed in one file.

use super::Lang;
use super::en::EN;
use super::zh::ZH;

/// The words of one language.
#[derive(Debug)]
pub struct Words {
    /// Brackets around a section title: `[`/`]` or `【`/`】`.
    pub open: &'static str,
    /// See [`Words::open`].
    pub close: &'static str,
    /// Report title.
    pub title: &'static str,
    /// Section: overall counts.
    pub overall: &'static str,
    /// Requests sent.
    pub total_requests: &'static str,
    /// Successful requests.
    pub succeeded: &'static str,
    /// Failed requests.
    pub failed: &'static str,
    /// Wall duration of the run.
    pub duration: &'static str,
    /// Requests per second.
    pub throughput: &'static str,
    /// Target URL.
    pub url: &'static str,
    /// The proxy the requests went through.
    pub proxy: &'static str,
    /// Row label of a result imported from the original tool's file.
    pub imported: &'static str,
    /// What importing estimated.
    pub imported_note: &'static str,
    /// Detected stream format.
    pub stream_format: &'static str,
    /// Said once when the answers came whole (`json/…` formats), not streamed.
    pub non_streaming: &'static str,
    /// Row label: how connections were used, shown when the server closed some.
    pub connections: &'static str,
    /// The row: connections opened, reconnects after the server closed one, requests re-sent.
    pub reconnects: fn(u64, u64, u64) -> String,
    /// Said once when the server closed its connections after every response.
    pub closes_each: &'static str,
    /// Said once when requests were redirected: how many, and where the first one went.
    pub redirected: fn(u64, &str) -> String,
    /// Section: time to first token.
    pub ttft: &'static str,
    /// Section: time to first byte.
    pub ttfb: &'static str,
    /// Section: time to first answer token.
    pub ttfat: &'static str,
    /// Section: end-to-end time.
    pub total_time: &'static str,
    /// Section: chunks per second.
    pub generation_rate: &'static str,
    /// Section: output tokens per request.
    pub output_tokens: &'static str,
    /// Section: per-request decode rate.
    pub tokens_per_second: &'static str,
    /// Section: input and output lengths (ISL / OSL), with their rows and the input rate.
    pub lengths: &'static str,
    /// Row: input tokens per request.
    pub input_length: &'static str,
    /// Row: output tokens per request.
    pub output_length: &'static str,
    /// Row: input tokens per second over the run.
    pub input_throughput: &'static str,
    /// Row: answers shorter than the output length asked for.
    pub early_stops: &'static str,
    /// `{n}` of `{of}` requests (`{share}` %) shorter than asked.
    pub early_stops_note: &'static str,
    /// Row: successful requests with no output token.
    pub empty: &'static str,
    /// `{n}` requests completed with no output token.
    pub empty_note: &'static str,
    /// Section: multi-turn sessions and the server's prefix cache.
    pub sessions: &'static str,
    /// Row: TTFT of sessions' first turns.
    pub first_turns: &'static str,
    /// Row: TTFT of sessions' later turns.
    pub later_turns: &'static str,
    /// Section: the shards of a distributed run, side by side.
    pub shards: &'static str,
    /// Row and column: a shard (`0/3`, as `--shard` counts).
    pub shard: &'static str,
    /// Row and column: how far from `--start-at` a shard's load started.
    pub start_skew: &'static str,
    /// Column: successful of all requests.
    pub requests_column: &'static str,
    /// Column: the client's self-check.
    pub client_column: &'static str,
    /// The self-check found no client limit.
    pub client_fine: &'static str,
    /// The self-check found the client limited the run.
    pub client_limited: &'static str,
    /// Row: input tokens the server served from its prefix cache.
    pub cache_hits: &'static str,
    /// `{share}` % of input tokens (`{cached}` of `{input}`).
    pub cache_hits_note: &'static str,
    /// Section: inter-token latency.
    pub itl: &'static str,
    /// Section: time per output token.
    pub tpot: &'static str,
    /// Section: TTFT beside TTFAT (reasoning models).
    pub first_vs_answer: &'static str,
    /// Column: the per-chunk view of ITL.
    pub per_chunk: &'static str,
    /// Column: the per-token view of ITL.
    pub per_token: &'static str,
    /// Column: TTFAT − TTFT at the same percentile.
    pub thinking: &'static str,
    /// Section: each request's longest gap between chunks.
    pub max_gap: &'static str,
    /// Reasoning tokens reported.
    pub reasoning: &'static str,
    /// Input plus output tokens per second.
    pub all_tokens: &'static str,
    /// Section: how the load was generated and why it stopped.
    pub load: &'static str,
    /// An open-loop run at a rate.
    pub open_loop: &'static str,
    /// A closed-loop run at a concurrency.
    pub closed_loop: &'static str,
    /// The rate requests actually left at.
    pub achieved: &'static str,
    /// Requests that waited for --max-in-flight.
    pub queued: &'static str,
    /// After the queued count.
    pub queued_note: &'static str,
    /// Time requests waited in the client.
    pub queue_wait: &'static str,
    /// Why the run stopped.
    pub stopped: &'static str,
    /// What happened to in-flight requests at the stop.
    pub in_flight: &'static str,
    /// A run stopped as `unreachable`: the URL, the requests in a row that could not connect,
    /// and whether they failed in the TLS handshake (so the certificate is the suspect).
    pub unreachable: fn(&str, u64, bool) -> String,
    /// Closed loop: requests that waited for a back-off after failed connection attempts.
    pub backoff_delayed: fn(u64) -> String,
    /// Open loop: requests that failed at once, without an attempt, during a back-off.
    pub backoff_failed_fast: fn(u64) -> String,
    /// Warm-up requests.
    pub warmup: &'static str,
    /// After the warm-up count.
    pub warmup_note: &'static str,
    /// Section: TTFT from the actual send.
    pub service_ttft: &'static str,
    /// Section: the client's own health.
    pub client: &'static str,
    /// The verdict when the client limited the run.
    pub client_bound: &'static str,
    /// Section: a sweep's levels.
    pub sweep: &'static str,
    /// Column: the sweep level.
    pub level: &'static str,
    /// Column: failed share.
    pub errors_column: &'static str,
    /// Under the sweep table.
    pub sweep_note: &'static str,
    /// The knee of a sweep.
    pub knee: &'static str,
    /// How the knee of a listed sweep is chosen.
    pub knee_method: &'static str,
    /// Section: service-level objectives.
    pub slos: &'static str,
    /// Requests per second meeting every per-request SLO.
    pub goodput: &'static str,
    /// Section: failures by class.
    pub failures: &'static str,
    /// Smallest value.
    pub min: &'static str,
    /// Largest value.
    pub max: &'static str,
    /// Mean.
    pub mean: &'static str,
    /// Median.
    pub median: &'static str,
    /// Standard deviation.
    pub stddev: &'static str,
    /// A sum.
    pub total: &'static str,
    /// Where token counts came from.
    pub token_source: &'static str,
    /// Output tokens of all requests per second of the run.
    pub aggregate: &'static str,
    /// Introduces a failure class's first message.
    pub example: &'static str,
    /// After a failure count (`3次`).
    pub times: &'static str,
    /// Final line: where the result file went.
    pub saved_to: &'static str,
    /// Final line: the records file, holding `{total}` records (all also in the result).
    pub records_saved: &'static str,
    /// Final line: the result holds the first `{n}` of the `{total}` records in `{file}`.
    pub records_truncated: &'static str,
    /// Per-request line: first token.
    pub first_token: &'static str,
    /// Per-request line: request finished.
    pub done: &'static str,
    /// Per-request line: request failed.
    pub request_failed: &'static str,
    /// Progress line: requests done.
    pub progress: &'static str,
    /// Progress line: time elapsed.
    pub elapsed: &'static str,
    /// Progress line: failed requests so far.
    pub errors: &'static str,
}

/// The words of `lang`.
pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}
