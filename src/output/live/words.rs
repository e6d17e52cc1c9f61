//! The live view's words in English and Chinese, beside the report's in [`crate::i18n`].

use crate::i18n::Lang;

/// The words of one language.
#[derive(Debug)]
pub struct LiveWords {
    /// Requests per second, as a unit.
    pub req_per_sec: &'static str,
    /// Output tokens per second, as a unit.
    pub tok_per_sec: &'static str,
    /// Requests sent and not finished.
    pub in_flight: &'static str,
    /// Failed requests so far.
    pub errors: &'static str,
    /// Time since the load started.
    pub elapsed: &'static str,
    /// Time left.
    pub eta: &'static str,
    /// Requests done.
    pub done: &'static str,
    /// Dashboard panel: the numbers.
    pub stats: &'static str,
    /// Dashboard panel: failures by class.
    pub errors_by_class: &'static str,
    /// When nothing failed.
    pub no_errors: &'static str,
    /// Dashboard panel: the TTFT histogram.
    pub ttft_histogram: &'static str,
    /// Dashboard panel: finished requests per second over time.
    pub throughput_series: &'static str,
    /// Dashboard panel: TTFT p50 of each second.
    pub ttft_series: &'static str,
    /// Dashboard panel: in flight over time.
    pub in_flight_series: &'static str,
    /// Before the load model.
    pub load: &'static str,
    /// Before the sweep level.
    pub level: &'static str,
    /// Status: sending.
    pub sending: &'static str,
    /// Status: stopped sending, waiting for in-flight requests.
    pub draining: &'static str,
    /// Status: cancelling in-flight requests.
    pub cancelling: &'static str,
    /// The keys of the dashboard.
    pub keys: &'static str,
    /// `--tui` without a terminal.
    pub tui_needs_terminal: &'static str,
}

const EN: LiveWords = LiveWords {
    req_per_sec: "req/s",
    tok_per_sec: "tok/s",
    in_flight: "in flight",
    errors: "errors",
    elapsed: "elapsed",
    eta: "ETA",
    done: "done",
    stats: "Live",
    errors_by_class: "Errors by class",
    no_errors: "no errors",
    ttft_histogram: "TTFT histogram (successful requests)",
    throughput_series: "throughput (req/s)",
    ttft_series: "TTFT p50 per second",
    in_flight_series: "in flight, per second",
    load: "load",
    level: "level",
    sending: "sending",
    draining: "stopped sending: waiting for the requests in flight (press again to cancel them)",
    cancelling: "cancelling the requests in flight",
    keys: "q / Esc / Ctrl-C: stop sending; again: cancel in-flight requests",
    tui_needs_terminal: "streamperf: warning: --tui needs a terminal on standard output; \
                         printing plain progress lines instead",
};

const ZH: LiveWords = LiveWords {
    req_per_sec: "请求/秒",
    tok_per_sec: "token/秒",
    in_flight: "进行中",
    errors: "错误",
    elapsed: "已用时",
    eta: "剩余",
    done: "完成",
    stats: "实时",
    errors_by_class: "错误分类",
    no_errors: "无错误",
    ttft_histogram: "首Token时间分布 (成功请求)",
    throughput_series: "吞吐量 (请求/秒)",
    ttft_series: "每秒首Token p50",
    in_flight_series: "每秒进行中请求数",
    load: "负载",
    level: "档位",
    sending: "发送中",
    draining: "已停止发送:等待进行中的请求完成(再按一次取消它们)",
    cancelling: "正在取消进行中的请求",
    keys: "q / Esc / Ctrl-C:停止发送;再按一次:取消进行中的请求",
    tui_needs_terminal: "streamperf: 警告: --tui 需要标准输出是终端;改为输出纯文本进度行",
};

/// The live view's words in `lang`.
pub fn live_words(lang: Lang) -> &'static LiveWords {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}
