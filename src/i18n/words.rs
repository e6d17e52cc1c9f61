//! The report's words, one table a language (`EN`, `ZH`), chosen by [`words`].

use super::Lang;

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

pub(super) const ZH: Words = Words {
    open: "【",
    close: "】",
    title: "测试报告",
    overall: "总体统计",
    total_requests: "总请求数",
    succeeded: "成功",
    failed: "失败",
    duration: "总耗时",
    throughput: "吞吐量",
    url: "URL",
    proxy: "代理",
    imported: "导入",
    imported_note: "来自原工具的结果文件;总耗时与吞吐量为估算值(请求耗时之和 / 并发数)",
    stream_format: "流式格式",
    non_streaming: "非流式响应:TTFT 即完整回答的到达时间",
    connections: "连接",
    reconnects: |opened, reconnects, resent| {
        format!(
            "建立 {opened} 个;服务器关闭连接后重连 {reconnects} 次(其中重发请求 {resent} 个),不计为失败"
        )
    },
    closes_each: "服务器在每次响应后关闭连接:每个请求都要重新建立连接",
    redirected: |n, to| format!("URL 发生重定向({n} 个请求,至 {to}):测得的时间包含这次跳转"),
    ttft: "首Token时间 (TTFT)",
    ttfb: "首字节时间 (TTFB)",
    ttfat: "首个回答 token 时间 (TTFAT)",
    total_time: "总耗时",
    generation_rate: "生成速率",
    output_tokens: "输出 token 数",
    tokens_per_second: "解码速度 (每请求 tokens/s)",
    lengths: "输入/输出长度 (ISL / OSL)",
    input_length: "输入",
    output_length: "输出",
    input_throughput: "输入速率",
    early_stops: "提前结束",
    early_stops_note: "{of} 个中有 {n} 个 ({share}%) 短于请求的输出长度",
    sessions: "会话与前缀缓存",
    first_turns: "首轮 TTFT",
    later_turns: "后续轮次 TTFT",
    shards: "分片",
    shard: "分片",
    start_skew: "启动偏差",
    requests_column: "成功/请求",
    client_column: "客户端",
    client_fine: "正常",
    client_limited: "受限",
    cache_hits: "前缀缓存命中",
    cache_hits_note: "输入 token 的 {share}%({input} 个中 {cached} 个)",
    itl: "token 间延迟 (ITL)",
    tpot: "每个输出 token 时间 (TPOT)",
    first_vs_answer: "首 token 与首个回答 token (推理)",
    per_chunk: "每块",
    per_token: "每 token",
    thinking: "差值",
    max_gap: "每请求最长停顿 (最大间隔)",
    reasoning: "推理",
    all_tokens: "输入+输出",
    slos: "服务等级目标 (SLO)",
    goodput: "有效吞吐",
    knee: "拐点",
    knee_method: "吞吐达到最佳值 90% 且失败不超过 5% 的最低档位",
    sweep: "扫描",
    level: "档位",
    errors_column: "错误率",
    sweep_note: "以上各节为最后一档的统计;每一档都保存在结果文件中。",
    load: "负载",
    open_loop: "开环",
    closed_loop: "闭环,并发数",
    achieved: "实际发送",
    queued: "排队",
    queued_note: "个请求等待 --max-in-flight",
    queue_wait: "排队等待",
    stopped: "停止原因",
    in_flight: "进行中的请求",
    unreachable: |url, n, tls| {
        let hint = match tls {
            true => "证书是否受信任(--cacert、-k)?",
            false => "服务器是否已启动?",
        };
        format!("已停止:始终无法连接到 {url}(连续 {n} 次连接失败):{hint}")
    },
    backoff_delayed: |n| format!("退避:{n} 个请求在连接失败后等待重试(等待时间不计入其延迟)"),
    backoff_failed_fast: |n| format!("退避:退避期间 {n} 个请求未尝试连接即直接失败"),
    warmup: "预热",
    warmup_note: "个请求,不计入统计",
    service_ttft: "从实际发送起的首Token时间 (服务时间)",
    client: "客户端自检",
    client_bound: "客户端受限:以下数字可能反映的是客户端而非服务端的极限",
    failures: "失败详情",
    min: "最小值",
    max: "最大值",
    mean: "平均值",
    median: "中位数",
    stddev: "标准差",
    total: "总计",
    token_source: "计数来源",
    aggregate: "总吞吐量",
    example: "示例:",
    times: "次",
    saved_to: "结果已保存到",
    records_saved: "逐请求记录({total} 条,每行一个 JSON):{file}",
    records_truncated: "结果中的 metrics 只含 {total} 条记录中的前 {n} 条(--max-records-in-result);全部记录见 {file}",
    first_token: "首token",
    done: "完成",
    request_failed: "失败",
    progress: "进度",
    elapsed: "已用时",
    errors: "错误",
};

/// The words of `lang`.
pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}
