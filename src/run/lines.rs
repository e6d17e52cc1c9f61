//! The run's own lines around the report: the banner, the connection summary, the stop
//! notices, the note on outputs not written.

use std::time::Duration;

use crate::analyse::metrics::Summary;
use crate::i18n::{Lang, words};
use crate::measure::engine::Preconnect;
use crate::output::live::Header;
use crate::output::live::words::live_words;
use crate::plan::config::{Config, SweepOver};

/// `streamperf: 100 requests to URL, concurrency 10`, or the open loop's rate, or the duration;
/// the URL followed by `via proxy P` when it goes through one.
pub(super) fn banner(config: &Config) -> String {
    let mut url = config.redactor.redact(&config.url);
    if let Some(proxy) = config.proxy_shown() {
        url = match config.lang {
            Lang::En => format!("{url} via proxy {proxy}"),
            Lang::Zh => format!("{url}(经代理 {proxy})"),
        };
    }
    let load = &config.load;
    let amount = match (config.total_requests, load.duration) {
        (Some(n), Some(d)) => format!("{n} requests or {}", humantime::format_duration(d)),
        (Some(n), None) => format!("{n} requests"),
        (None, Some(d)) => humantime::format_duration(d).to_string(),
        (None, None) => "requests".to_string(),
    };
    let shape = match (load.rate, config.lang) {
        (Some(rate), Lang::En) => format!("{rate} req/s, arrivals: {}", load.arrival),
        (Some(rate), Lang::Zh) => format!("{rate} 请求/秒,到达方式: {}", load.arrival),
        (None, Lang::En) => format!("concurrency {}", config.concurrency),
        (None, Lang::Zh) => format!("并发数 {}", config.concurrency),
    };
    match config.lang {
        Lang::En => format!("streamperf: {amount} to {url}, {shape}"),
        Lang::Zh => format!("streamperf: {amount} → {url},{shape}"),
    }
}

/// One line on the connections opened before the clock started, e.g.
/// The live view's header for `config`'s run: redacted URL, load model, sweep level.
pub(super) fn live_header(config: &Config) -> Header {
    let w = words(config.lang);
    let lw = live_words(config.lang);
    let sep = if config.lang == Lang::Zh { "," } else { ", " };
    let load = match config.load.rate {
        Some(rate) => format!("{}{sep}{rate} {}", w.open_loop, lw.req_per_sec),
        None => format!("{} {}", w.closed_loop, config.concurrency),
    };
    let level = config.sweep_level.map(|level| match config.sweep.as_ref().map(|s| s.over) {
        Some(SweepOver::Rate) => format!("{level} {}", lw.req_per_sec),
        _ => format!("p={level}"),
    });
    Header { url: config.redactor.redact(&config.url), load, level }
}

/// `connections: 512 opened in 45 ms`.
pub(super) fn connections_line(lang: Lang, p: &Preconnect) -> String {
    let ms = p.elapsed.as_secs_f64() * 1000.0;
    match (lang, p.failed) {
        (Lang::En, 0) => format!("connections: {} opened in {ms:.0} ms", p.opened),
        (Lang::En, failed) => {
            format!("connections: {} opened, {failed} failed in {ms:.0} ms", p.opened)
        }
        (Lang::Zh, 0) => format!("连接: 已建立 {} 个,用时 {ms:.0} ms", p.opened),
        (Lang::Zh, failed) => {
            format!("连接: 已建立 {} 个,失败 {failed} 个,用时 {ms:.0} ms", p.opened)
        }
    }
}

/// What the first and second Ctrl-C do, said when they happen (on stderr): the first waits
/// up to `graceful_stop` for the requests in flight.
pub(super) fn interrupt_notice(lang: Lang, second: bool, graceful_stop: Duration) -> String {
    let wait = humantime::format_duration(graceful_stop);
    match (lang, second) {
        (Lang::En, false) => format!(
            "streamperf: interrupted: no new requests; waiting up to {wait} for those in flight \
             (Ctrl-C again to cancel them)"
        ),
        (Lang::En, true) => {
            "streamperf: cancelling the requests in flight; writing the result".into()
        }
        (Lang::Zh, false) => format!(
            "streamperf: 已中断:不再发送新请求,最多等待 {wait} 让进行中的请求完成(再按 Ctrl-C 取消它们)"
        ),
        (Lang::Zh, true) => "streamperf: 正在取消进行中的请求并写入结果".into(),
    }
}

/// Said when `--graceful-stop` ran out and the requests in flight are cancelled.
pub(super) fn graceful_stop_over(lang: Lang, graceful_stop: Duration) -> String {
    let wait = humantime::format_duration(graceful_stop);
    match lang {
        Lang::En => format!(
            "streamperf: {wait} passed (--graceful-stop): cancelling the requests in flight; \
             writing the result"
        ),
        Lang::Zh => {
            format!("streamperf: 已等待 {wait}(--graceful-stop):正在取消进行中的请求并写入结果")
        }
    }
}

/// After the errors naming the files that could not be written.
pub(super) fn unwritten_notice(lang: Lang) -> &'static str {
    match lang {
        Lang::En => {
            "streamperf: the run was measured and reported, but not every output was written"
        }
        Lang::Zh => "streamperf: 测试已完成测量并输出报告,但部分输出文件未能写入",
    }
}

/// After each level of a sweep: `level p=4: 12.30 req/s, TTFT p50 0.152s, 0 failed`.
pub(super) fn level_line(lang: Lang, config: &Config, level: f64, s: &Summary) -> String {
    let name = match config.sweep.as_ref().map(|s| s.over) {
        Some(SweepOver::Rate) => format!("{level} req/s"),
        _ => format!("p={level}"),
    };
    let ttft = s.ttft.as_ref().map_or("-".into(), |t| format!("{:.3}s", t.p50));
    match lang {
        Lang::En => format!(
            "level {name}: {:.2} req/s, TTFT p50 {ttft}, {} failed",
            s.throughput, s.failed_count
        ),
        Lang::Zh => format!(
            "档位 {name}: {:.2} 请求/秒,首Token p50 {ttft},失败 {}",
            s.throughput, s.failed_count
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::plan::config::{LoadSettings, Sweep, SweepOver};

    #[test]
    fn the_header_names_the_load_and_level_and_hides_secrets() {
        let url = "http://127.0.0.1:9/v1/models/x?key=AIzaSecretSecret1234";
        let open = LoadSettings { rate: Some(5.0), ..LoadSettings::default() };
        let c = Config { load: open, ..Config::new(url) };
        let h = live_header(&c);
        assert_eq!(h.url, "http://127.0.0.1:9/v1/models/x?key=***");
        assert_eq!((h.load.as_str(), h.level), ("open loop, 5 req/s", None));

        let over = SweepOver::Concurrency;
        let sweep = Sweep { over, levels: vec![1.0, 4.0], auto: false, level_duration: None };
        let mut c = Config { sweep: Some(sweep), ..Config::new("http://127.0.0.1:9/x") };
        c.lang = Lang::Zh;
        let level = c.at_level(c.sweep.as_ref().unwrap(), 4.0);
        let h = live_header(&level);
        assert_eq!((h.load.as_str(), h.level.as_deref()), ("闭环,并发数 4", Some("p=4")));
    }
}
