//! The report's words in English.

use super::words::Words;

pub(super) const EN: Words = Words {
    open: "[",
    close: "]",
    title: "Test report",
    overall: "Overall",
    total_requests: "Requests",
    succeeded: "Succeeded",
    failed: "Failed",
    duration: "Duration",
    throughput: "Throughput",
    url: "URL",
    proxy: "Proxy",
    imported: "Imported",
    imported_note: "from the original tool's file; duration and throughput estimated \
                    (request times / concurrency)",
    stream_format: "Format",
    non_streaming: "non-streaming: TTFT is the full answer",
    connections: "Connections",
    reconnects: |opened, reconnects, resent| {
        format!(
            "{opened} opened; {reconnects} reconnects after the server closed one \
             ({resent} requests sent again), not failures"
        )
    },
    closes_each: "server closes connections after each response: every request pays a connect",
    redirected: |n, to| {
        format!("the URL redirects ({n} requests, to {to}): the measured times include the hop")
    },
    ttft: "Time to first token (TTFT)",
    ttfb: "Time to first byte (TTFB)",
    ttfat: "Time to first answer token (TTFAT)",
    total_time: "Total time",
    generation_rate: "Generation rate",
    output_tokens: "Output tokens",
    tokens_per_second: "Decode rate (tokens/s per request)",
    lengths: "Lengths (ISL / OSL)",
    input_length: "Input",
    output_length: "Output",
    input_throughput: "Input rate",
    early_stops: "Early stops",
    early_stops_note: "{n} of {of} ({share} %) shorter than the output length asked",
    empty: "Empty",
    empty_note: "{n} succeeded with no output token (warning: the server answered nothing)",
    sessions: "Sessions and prefix cache",
    first_turns: "TTFT, first turns",
    later_turns: "TTFT, later turns",
    shards: "Shards",
    shard: "Shard",
    start_skew: "Start skew",
    requests_column: "ok/requests",
    client_column: "client",
    client_fine: "ok",
    client_limited: "limited",
    cache_hits: "Prefix cache hits",
    cache_hits_note: "{share} % of input tokens ({cached} of {input})",
    itl: "Inter-token latency (ITL)",
    tpot: "Time per output token (TPOT)",
    first_vs_answer: "First token vs first answer (reasoning)",
    per_chunk: "per chunk",
    per_token: "per token",
    thinking: "difference",
    max_gap: "Longest stall per request (max gap)",
    reasoning: "Reasoning",
    all_tokens: "In + out",
    slos: "Service-level objectives (SLOs)",
    goodput: "Goodput",
    knee: "Knee",
    knee_method: "the lowest level with 90 % of the best throughput, at most 5 % failed",
    sweep: "Sweep",
    level: "level",
    errors_column: "errors",
    sweep_note: "The sections above describe the last level; every level is in the result file.",
    load: "Load",
    open_loop: "open loop",
    closed_loop: "closed loop, concurrency",
    achieved: "Sent at",
    queued: "Queued",
    queued_note: "waited for --max-in-flight",
    queue_wait: "Queue wait",
    stopped: "Stopped",
    in_flight: "in flight",
    unreachable: |url, n, tls| {
        let hint = match tls {
            true => "is its certificate trusted (--cacert, -k)?",
            false => "is the server up?",
        };
        format!("stopped: nothing ever connected to {url} ({n} connect failures in a row): {hint}")
    },
    backoff_delayed: |n| {
        format!(
            "back-off: {n} requests waited after failed connection attempts (not in their latency)"
        )
    },
    backoff_failed_fast: |n| {
        format!(
            "back-off: {n} requests failed at once, without a connection attempt, while backing off"
        )
    },
    warmup: "Warm-up",
    warmup_note: "requests, not in the statistics",
    service_ttft: "TTFT from the actual send (service time)",
    client: "Client self-check",
    client_bound: "CLIENT-BOUND: these numbers may show the client's limits, not the server's",
    failures: "Failures",
    min: "Min",
    max: "Max",
    mean: "Mean",
    median: "Median",
    stddev: "Std dev",
    total: "Total",
    token_source: "Source",
    aggregate: "Aggregate",
    example: "e.g.",
    times: "",
    saved_to: "Results saved to",
    records_saved: "Records ({total}, one JSON line each): {file}",
    records_truncated: "The result's metrics hold the first {n} of {total} records (--max-records-in-result); all are in {file}",
    first_token: "first token",
    done: "done",
    request_failed: "failed",
    progress: "progress",
    elapsed: "elapsed",
    errors: "errors",
};
