//! The original tool's live lines: one per request event and a progress line, English or
//! Chinese (printed when no bar or dashboard draws).
//!
//! Pure functions returning the line (no newline): the caller decides where and whether to
//! print, so the engine never prints and the lines are testable.

use crate::i18n::Lang;
use crate::i18n::words;
use crate::measure::record::RequestRecord;
use crate::output::report::terminal::one_line;

/// Longest failure message shown on a request line, in characters.
const MESSAGE_CHARS: usize = 200;

/// `[001] first token: 0.234s` / `[001] 首token: 0.234s`.
pub fn first_token_line(lang: Lang, request_id: u64, ttft_secs: f64) -> String {
    format!("[{request_id:03}] {}: {ttft_secs:.3}s", words(lang).first_token)
}

/// `[001] done: 2.456s | 45 chunks | 18.32 chunks/s | 12.34 KB` (KB = 1024 bytes), the original
/// tool's line; `-` for a value the request did not reach.
pub fn done_line(lang: Lang, record: &RequestRecord) -> String {
    let total = record.total_time.map_or("-".into(), |t| format!("{:.3}s", t.as_secs_f64()));
    let rate = record.chunks_per_second.map_or("-".into(), |r| format!("{r:.2}"));
    format!(
        "[{:03}] {}: {total} | {} chunks | {rate} chunks/s | {:.2} KB",
        record.request_id,
        words(lang).done,
        record.chunks,
        record.bytes as f64 / 1024.0
    )
}

/// `[001] failed (timeout): <message>` / `[001] 失败 (timeout): …`, the message on one line and
/// cut to 200 characters.
pub fn failed_line(lang: Lang, record: &RequestRecord) -> String {
    let class = record.error_class.map_or("error", |c| c.as_str());
    let mut line = format!("[{:03}] {} ({class})", record.request_id, words(lang).request_failed);
    if let Some(message) = record.error.as_deref().filter(|m| !m.trim().is_empty()) {
        line.push_str(": ");
        line.push_str(&one_line(message, MESSAGE_CHARS));
    }
    line
}

/// How fast a run goes, for the progress line of a long run: finished requests a second, and
/// the time left when it is known (a `--duration`, or `-n` at the current pace).
#[derive(Debug, Clone, Copy, Default)]
pub struct Pace {
    /// Finished requests per second so far.
    pub rate: Option<f64>,
    /// Seconds left.
    pub left: Option<f64>,
}

/// `progress: 1/100 | elapsed: 2.5s` / `进度: 1/100 | 已用时: 2.5s` (the original tool's line), followed
/// by ` | TTFT p50 0.234s` once a request succeeded, and ` | errors 0`; after a second, the
/// pace (` | 312.4 req/s`) and, when known, the time left (` | ETA 2m 6s`).
pub fn progress_line(
    lang: Lang,
    done: u64,
    total: Option<u64>,
    elapsed_secs: f64,
    ttft_p50: Option<f64>,
    errors: u64,
    pace: Pace,
) -> String {
    let w = words(lang);
    let done = match total {
        Some(total) => format!("{done}/{total}"),
        None => done.to_string(),
    };
    let mut line = format!("{}: {done} | {}: {elapsed_secs:.1}s", w.progress, w.elapsed);
    if let Some(p50) = ttft_p50 {
        line.push_str(&format!(" | TTFT p50 {p50:.3}s"));
    }
    line.push_str(&format!(" | {} {errors}", w.errors));
    if let Some(rate) = pace.rate {
        line.push_str(&format!(" | {rate:.1} req/s"));
    }
    if let Some(left) = pace.left {
        let left = humantime::format_duration(std::time::Duration::from_secs(left.ceil() as u64));
        line.push_str(&format!(" | {} {left}", super::words::live_words(lang).eta));
    }
    line
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::record::testing::{failed, ok};
    use crate::measure::record::{ErrorClass, Failure};

    #[test]
    fn lines_match_the_seed() {
        let mut r = ok(1, Duration::from_millis(234), Duration::from_millis(2456), 45);
        r.chunks_per_second = Some(18.3225);
        assert_eq!(first_token_line(Lang::Zh, 1, 0.2341), "[001] 首token: 0.234s");
        assert_eq!(first_token_line(Lang::En, 1234, 0.2341), "[1234] first token: 0.234s");
        assert_eq!(
            done_line(Lang::Zh, &r),
            "[001] 完成: 2.456s | 45 chunks | 18.32 chunks/s | 12.34 KB"
        );
        assert_eq!(
            done_line(Lang::En, &r),
            "[001] done: 2.456s | 45 chunks | 18.32 chunks/s | 12.34 KB"
        );
        assert_eq!(
            progress_line(Lang::Zh, 1, Some(100), 2.5, None, 2, Pace::default()),
            "进度: 1/100 | 已用时: 2.5s | 错误 2"
        );
        assert_eq!(
            progress_line(Lang::En, 1, Some(100), 2.54, Some(0.2344), 0, Pace::default()),
            "progress: 1/100 | elapsed: 2.5s | TTFT p50 0.234s | errors 0"
        );
    }

    #[test]
    fn failed_lines_name_the_class() {
        let r = failed(7, Failure::new(ErrorClass::Timeout, "no token\nwithin 300s"));
        assert_eq!(failed_line(Lang::En, &r), "[007] failed (timeout): no token within 300s");
        assert_eq!(failed_line(Lang::Zh, &r), "[007] 失败 (timeout): no token within 300s");
        let bare = failed(8, Failure::new(ErrorClass::Connect, ""));
        assert_eq!(failed_line(Lang::En, &bare), "[008] failed (connect)");
        let long = failed(9, Failure::new(ErrorClass::HttpStatus, "x".repeat(1000)));
        assert_eq!(
            failed_line(Lang::En, &long).chars().count(),
            "[009] failed (http_status): ".len() + 201
        );
        let mut done = ok(10, Duration::ZERO, Duration::ZERO, 0);
        (done.total_time, done.chunks_per_second) = (None, None);
        assert_eq!(done_line(Lang::En, &done), "[010] done: - | 45 chunks | - chunks/s | 12.34 KB");
    }

    #[test]
    fn a_long_runs_line_says_its_pace_and_time_left() {
        let pace = Pace { rate: Some(312.44), left: Some(125.2) };
        assert_eq!(
            progress_line(Lang::En, 9000, None, 30.0, None, 0, pace),
            "progress: 9000 | elapsed: 30.0s | errors 0 | 312.4 req/s | ETA 2m 6s"
        );
    }
}
