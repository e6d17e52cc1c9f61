//! The default live view on a terminal: an `indicatif` bar on stderr with the live numbers
//! under it, and the per-request lines printed above it. Drawn from its own thread.

use std::sync::mpsc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;

use super::snapshot::Snapshot;
use super::words::live_words;
use super::{Msg, TICK, fmt_secs};
use crate::i18n::Lang;
use crate::measure::engine::Phase;

/// Bar positions of a run without a count: milliseconds of its duration.
const MILLIS: f64 = 1000.0;

/// indicatif's own draws (each setter may draw) are held down to this; [`update`] draws once
/// a tick with every field set, so no half-updated bar stays on screen.
const DRAWS_PER_SECOND: u8 = 2;

/// `37/100 | elapsed 2.5s | ETA 4.2s` — or `12.0s/60s` for a `-d` run, or `37 | elapsed 2.5s`
/// when the run has no end known in advance.
pub fn bar_prefix(lang: Lang, s: &Snapshot) -> String {
    let w = live_words(lang);
    let elapsed = s.elapsed.as_secs_f64();
    let mut line = match (s.total, s.duration) {
        (Some(total), _) => format!("{}/{total} | {} {elapsed:.1}s", s.done, w.elapsed),
        (None, Some(d)) => {
            format!("{} {} | {} {elapsed:.1}s/{}", s.done, w.done, w.elapsed, fmt_secs(d))
        }
        (None, None) => format!("{} {} | {} {elapsed:.1}s", s.done, w.done, w.elapsed),
    };
    if let Some(eta) = s.eta().filter(|_| s.done > 0 || s.duration.is_some()) {
        line.push_str(&format!(" | {} {}", w.eta, fmt_secs(eta)));
    }
    line
}

/// `TTFT p50 0.234s p99 0.512s | 12.3 req/s | 456 tok/s | in flight 8 | errors 0`, then what
/// stopping is doing, if it is.
pub fn bar_message(lang: Lang, s: &Snapshot) -> String {
    let w = live_words(lang);
    let ttft = match (s.ttft_p50, s.ttft_p99) {
        (Some(p50), Some(p99)) => format!("TTFT p50 {p50:.3}s p99 {p99:.3}s"),
        _ => "TTFT p50 - p99 -".to_string(),
    };
    let mut line = format!(
        "{ttft} | {:.1} {} | {:.0} {} | {} {} | {} {}",
        s.requests_per_second(),
        w.req_per_sec,
        s.tokens_per_second(),
        w.tok_per_sec,
        w.in_flight,
        s.in_flight,
        w.errors,
        s.failed,
    );
    match s.phase {
        Phase::Sending => {}
        Phase::Draining => line.push_str(&format!(" | {}", w.draining)),
        Phase::Cancelling => line.push_str(&format!(" | {}", w.cancelling)),
    }
    line
}

/// Draws bars until the run says stop: a new bar at each level, finished at its end; lines
/// that arrive meanwhile are printed above the bar in one batch a tick.
pub(super) fn run(lang: Lang, snapshots: watch::Receiver<Snapshot>, msgs: mpsc::Receiver<Msg>) {
    let mut bar: Option<ProgressBar> = None;
    loop {
        // A tick's messages at once: one hiding of the bar for all its lines.
        std::thread::sleep(TICK);
        let mut batch = Vec::new();
        loop {
            match msgs.try_recv() {
                Ok(msg) => batch.push(msg),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    batch.push(Msg::Stop);
                    break;
                }
            }
        }
        let mut lines = Vec::new();
        let mut stop = false;
        for msg in batch {
            match msg {
                Msg::Out(line) => lines.push((false, line)),
                Msg::Err(line) => lines.push((true, line)),
                Msg::Begin => {
                    print_lines(bar.as_ref(), std::mem::take(&mut lines));
                    finish(lang, bar.take(), &snapshots);
                    bar = Some(new_bar(&snapshots.borrow()));
                }
                Msg::End | Msg::Stop => {
                    print_lines(bar.as_ref(), std::mem::take(&mut lines));
                    finish(lang, bar.take(), &snapshots);
                    stop |= matches!(msg, Msg::Stop);
                }
            }
        }
        print_lines(bar.as_ref(), lines);
        if stop {
            return;
        }
        if let Some(bar) = &bar {
            update(lang, bar, &snapshots.borrow());
        }
    }
}

/// A bar for the level whose first snapshot is `s`: by count, by duration, or a spinner.
fn new_bar(s: &Snapshot) -> ProgressBar {
    let (len, template) = match (s.total, s.duration) {
        (Some(total), _) => {
            (Some(total), "{spinner:.green} [{bar:30.cyan/blue}] {prefix}\n  {msg}")
        }
        (None, Some(d)) => (
            Some((d.as_secs_f64() * MILLIS) as u64),
            "{spinner:.green} [{bar:30.cyan/blue}] {prefix}\n  {msg}",
        ),
        (None, None) => (None, "{spinner:.green} {prefix}\n  {msg}"),
    };
    let style = ProgressStyle::with_template(template)
        .expect("the templates above are valid")
        .progress_chars("=> ");
    let bar =
        ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr_with_hz(DRAWS_PER_SECOND));
    bar.set_style(style);
    bar
}

/// Moves the bar to `s`.
fn update(lang: Lang, bar: &ProgressBar, s: &Snapshot) {
    let position = match s.total {
        Some(_) => s.done,
        None => (s.elapsed.as_secs_f64() * MILLIS) as u64,
    };
    bar.set_position(position);
    bar.set_prefix(bar_prefix(lang, s));
    bar.set_message(bar_message(lang, s));
    bar.force_draw();
}

/// Draws the level's last numbers and leaves the bar on screen.
fn finish(lang: Lang, bar: Option<ProgressBar>, snapshots: &watch::Receiver<Snapshot>) {
    if let Some(bar) = bar {
        update(lang, &bar, &snapshots.borrow());
        bar.finish();
        crate::errln!(); // indicatif leaves the cursor on the bar's last line
    }
}

/// Prints `lines` (stderr when flagged) above the bar, hiding it once for the whole batch.
fn print_lines(bar: Option<&ProgressBar>, lines: Vec<(bool, String)>) {
    if lines.is_empty() {
        return;
    }
    let print = || {
        for (to_err, line) in &lines {
            super::print_line(*to_err, line);
        }
    };
    match bar {
        Some(bar) => bar.suspend(print),
        None => print(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::record::ErrorClass;

    fn snapshot() -> Snapshot {
        Snapshot {
            elapsed: Duration::from_millis(2500),
            done: 25,
            total: Some(100),
            in_flight: 8,
            failed: 2,
            errors: vec![(ErrorClass::Timeout, 2)],
            ttft_p50: Some(0.2344),
            ttft_p99: Some(0.5121),
            output_tokens: 1125,
            ..Snapshot::default()
        }
    }

    #[test]
    fn the_bar_shows_counts_time_and_live_numbers() {
        let s = snapshot();
        assert_eq!(bar_prefix(Lang::En, &s), "25/100 | elapsed 2.5s | ETA 7.5s");
        assert_eq!(bar_prefix(Lang::Zh, &s), "25/100 | 已用时 2.5s | 剩余 7.5s");
        assert_eq!(
            bar_message(Lang::En, &s),
            "TTFT p50 0.234s p99 0.512s | 10.0 req/s | 450 tok/s | in flight 8 | errors 2"
        );
        assert_eq!(
            bar_message(Lang::Zh, &s),
            "TTFT p50 0.234s p99 0.512s | 10.0 请求/秒 | 450 token/秒 | 进行中 8 | 错误 2"
        );
    }

    #[test]
    fn duration_and_open_runs_and_stopping_read_right() {
        let timed = Snapshot { total: None, duration: Some(Duration::from_secs(60)), ..snapshot() };
        assert_eq!(bar_prefix(Lang::En, &timed), "25 done | elapsed 2.5s/1m00s | ETA 58s");
        let open = Snapshot { total: None, ..snapshot() };
        assert_eq!(bar_prefix(Lang::En, &open), "25 done | elapsed 2.5s");
        let fresh = Snapshot { done: 0, ttft_p50: None, ttft_p99: None, ..snapshot() };
        assert_eq!(bar_prefix(Lang::En, &fresh), "0/100 | elapsed 2.5s", "no ETA before a rate");
        assert!(bar_message(Lang::En, &fresh).starts_with("TTFT p50 - p99 - |"));
        let draining = Snapshot { phase: Phase::Draining, ..snapshot() };
        assert!(bar_message(Lang::En, &draining).ends_with("(press again to cancel them)"));
        let cancelling = Snapshot { phase: Phase::Cancelling, ..snapshot() };
        assert!(bar_message(Lang::Zh, &cancelling).ends_with("正在取消进行中的请求"));
    }
}
