//! `--tui`: a full-screen dashboard (ratatui, crossterm backend) in the spirit of oha's:
//! header, progress gauge, live numbers, errors by class, a TTFT histogram and per-second
//! series. Drawn from its own thread; q / Esc / Ctrl-C act as Ctrl-C does without it.

use std::sync::mpsc;

use ratatui::DefaultTerminal;
use ratatui::Frame;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Gauge, Paragraph, Sparkline};
use tokio::sync::watch;

use super::snapshot::{Snapshot, TTFT_BUCKETS};
use super::words::live_words;
use super::{Msg, TICK, fmt_secs};
use crate::i18n::Lang;
use crate::measure::engine::Phase;

/// Columns of the labels in the numbers panel.
const LABEL_COLUMNS: usize = 11;

/// The terminal in raw mode on the alternate screen, given back when dropped.
pub(super) struct Screen {
    terminal: DefaultTerminal,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Screen")
    }
}

impl Screen {
    /// Raw mode, alternate screen, and a panic hook that restores both (ratatui's).
    pub(super) fn open() -> std::io::Result<Screen> {
        match ratatui::try_init() {
            Ok(terminal) => Ok(Screen { terminal }),
            Err(e) => {
                ratatui::restore(); // whatever half of the setup succeeded
                Err(e)
            }
        }
    }

    /// Draws every tick until the run says stop; keys go to `on_key`.
    pub(super) fn run(
        mut self,
        lang: Lang,
        snapshots: watch::Receiver<Snapshot>,
        msgs: mpsc::Receiver<Msg>,
        on_key: Box<dyn Fn() + Send>,
    ) {
        let mut begun = false; // nothing worth drawing before the run's first snapshot
        loop {
            loop {
                match msgs.try_recv() {
                    Ok(Msg::Stop) | Err(mpsc::TryRecvError::Disconnected) => return,
                    Ok(Msg::Begin) => begun = true,
                    Ok(_) => {}
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            let snapshot = snapshots.borrow().clone();
            if begun && self.terminal.draw(|frame| draw(frame, &snapshot, lang)).is_err() {
                return;
            }
            if let Ok(true) = event::poll(TICK)
                && let Ok(Event::Key(key)) = event::read()
                && key.kind == KeyEventKind::Press
                && is_stop_key(key.code, key.modifiers)
            {
                on_key();
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        ratatui::restore();
    }
}

fn is_stop_key(code: KeyCode, modifiers: KeyModifiers) -> bool {
    match code {
        KeyCode::Char('q') | KeyCode::Esc => true,
        KeyCode::Char('c') => modifiers.contains(KeyModifiers::CONTROL),
        _ => false,
    }
}

/// Draws the dashboard of `s` on `frame`.
pub fn draw(frame: &mut Frame, s: &Snapshot, lang: Lang) {
    let [head, gauge, middle, histogram, series] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Length(1),
        Constraint::Length(8),
        Constraint::Min(6),
        Constraint::Length(7),
    ])
    .areas(frame.area());
    header(frame, head, s, lang);
    progress(frame, gauge, s);
    let [stats, errors] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(middle);
    numbers(frame, stats, s, lang);
    errors_by_class(frame, errors, s, lang);
    ttft_histogram(frame, histogram, s, lang);
    per_second(frame, series, s, lang);
}

fn header(frame: &mut Frame, area: Rect, s: &Snapshot, lang: Lang) {
    let w = live_words(lang);
    let h = &s.header;
    let mut load = format!("{}: {}", w.load, h.load);
    if let Some(level) = &h.level {
        load.push_str(&format!(" | {}: {level}", w.level));
    }
    let elapsed = match s.duration {
        Some(d) => format!("{} {}/{}", w.elapsed, fmt_secs(s.elapsed), fmt_secs(d)),
        None => format!("{} {}", w.elapsed, fmt_secs(s.elapsed)),
    };
    let done = match s.total {
        Some(total) => format!("{} {}/{total}", w.done, s.done),
        None => format!("{} {}", w.done, s.done),
    };
    let (status, color) = match s.phase {
        Phase::Sending => (w.sending, Color::Green),
        Phase::Draining => (w.draining, Color::Yellow),
        Phase::Cancelling => (w.cancelling, Color::Red),
    };
    let lines = vec![
        Line::from(h.url.clone()).bold(),
        Line::from(format!("{load} | {elapsed} | {done}")),
        Line::from(vec![status.fg(color), format!("  ({})", w.keys).dark_gray()]),
    ];
    let block = Block::bordered().title(" streamperf ");
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn progress(frame: &mut Frame, area: Rect, s: &Snapshot) {
    let label = match (s.total, s.duration) {
        (Some(total), _) => format!("{}/{total}", s.done),
        (None, Some(d)) => format!("{}/{}", fmt_secs(s.elapsed), fmt_secs(d)),
        (None, None) => s.done.to_string(),
    };
    let ratio = s.fraction().unwrap_or(0.0);
    let gauge = Gauge::default()
        .ratio(ratio)
        .label(format!("{label} ({:.0}%)", ratio * 100.0))
        .gauge_style(Style::default().fg(Color::Cyan).bg(Color::Black));
    frame.render_widget(gauge, area);
}

fn numbers(frame: &mut Frame, area: Rect, s: &Snapshot, lang: Lang) {
    let w = live_words(lang);
    let secs = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}s"));
    let rows = [
        ("TTFT p50".to_string(), secs(s.ttft_p50)),
        ("TTFT p99".to_string(), secs(s.ttft_p99)),
        (w.req_per_sec.to_string(), format!("{:.2}", s.requests_per_second())),
        (w.tok_per_sec.to_string(), format!("{:.1}", s.tokens_per_second())),
        (w.in_flight.to_string(), s.in_flight.to_string()),
        (w.errors.to_string(), s.failed.to_string()),
    ];
    // Padded by display width: a Chinese label is two columns a character.
    let lines: Vec<Line> = rows
        .into_iter()
        .map(|(k, v)| {
            let pad = " ".repeat(LABEL_COLUMNS.saturating_sub(Span::raw(&k).width()));
            Line::from(vec![Span::raw(format!("{k}{pad}")), v.bold()])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title(w.stats)), area);
}

fn errors_by_class(frame: &mut Frame, area: Rect, s: &Snapshot, lang: Lang) {
    let w = live_words(lang);
    let lines: Vec<Line> = match s.errors.is_empty() {
        true => vec![Line::from(w.no_errors).green()],
        false => s
            .errors
            .iter()
            .map(|(class, n)| Line::from(format!("{:<13} {n}", class.as_str())).red())
            .collect(),
    };
    let block = Block::bordered().title(w.errors_by_class);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn ttft_histogram(frame: &mut Frame, area: Rect, s: &Snapshot, lang: Lang) {
    let block = Block::bordered().title(live_words(lang).ttft_histogram);
    let inner = block.inner(area).width;
    let bins = histogram_bins(&s.ttft_buckets, inner);
    let width = bins.len().max(1) as u16;
    let bar_width = ((inner.saturating_sub(width - 1)) / width).clamp(1, 9);
    let bars: Vec<Bar> = bins
        .iter()
        .map(|(label, n)| Bar::default().value(*n).label(Line::from(label.clone())))
        .collect();
    let chart = BarChart::default()
        .block(block)
        .data(BarGroup::default().bars(&bars))
        .bar_width(bar_width)
        .bar_gap(1)
        .bar_style(Style::default().fg(Color::Cyan));
    frame.render_widget(chart, area);
}

/// The non-empty range of TTFT buckets, neighbours merged until they fit `width` columns with
/// labels at least 5 wide: (lower edge, count) pairs.
pub fn histogram_bins(buckets: &[u64; TTFT_BUCKETS], width: u16) -> Vec<(String, u64)> {
    let (Some(first), Some(last)) =
        (buckets.iter().position(|&n| n > 0), buckets.iter().rposition(|&n| n > 0))
    else {
        return Vec::new();
    };
    let fits = (usize::from(width) / 6).max(1);
    let mut step = 1;
    while (last - first) / step + 1 > fits {
        step *= 2;
    }
    (first..=last)
        .step_by(step)
        .map(|i| {
            let n = buckets[i..(i + step).min(TTFT_BUCKETS)].iter().sum();
            (fmt_ttft(Snapshot::bucket_floor(i)), n)
        })
        .collect()
}

/// `91ms`, `1.4s`.
fn fmt_ttft(secs: f64) -> String {
    match secs {
        s if s < 1.0 => format!("{:.0}ms", s * 1000.0),
        s if s < 100.0 => format!("{s:.1}s"),
        s => format!("{s:.0}s"),
    }
}

fn per_second(frame: &mut Frame, area: Rect, s: &Snapshot, lang: Lang) {
    let w = live_words(lang);
    let areas: [Rect; 3] = Layout::horizontal([Constraint::Ratio(1, 3); 3]).areas(area);
    let last = s.history.back();
    let finished: Vec<u64> = s.history.iter().map(|p| p.finished).collect();
    let ttft: Vec<Option<u64>> =
        s.history.iter().map(|p| p.ttft_p50.map(|t| (t * 1000.0).round() as u64)).collect();
    let in_flight: Vec<u64> = s.history.iter().map(|p| p.in_flight).collect();
    let titles = [
        format!("{}: {}", w.throughput_series, last.map_or(0, |p| p.finished)),
        format!(
            "{}: {}",
            w.ttft_series,
            last.and_then(|p| p.ttft_p50).map_or("-".into(), |t| format!("{:.0}ms", t * 1000.0))
        ),
        format!("{}: {}", w.in_flight_series, last.map_or(0, |p| p.in_flight)),
    ];
    for (i, title) in titles.into_iter().enumerate() {
        let block = Block::bordered().title(title);
        // The newest seconds that fit.
        let keep = usize::from(block.inner(areas[i]).width);
        let from = s.history.len().saturating_sub(keep);
        let spark = match i {
            0 => Sparkline::default().data(&finished[from..]).style(Color::Green),
            1 => Sparkline::default().data(&ttft[from..]).style(Color::Yellow),
            _ => Sparkline::default().data(&in_flight[from..]).style(Color::Magenta),
        };
        frame.render_widget(spark.block(block), areas[i]);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::time::Duration;

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::measure::record::ErrorClass;
    use crate::output::live::snapshot::{Header, Point};

    fn snapshot() -> Snapshot {
        let mut buckets = [0; TTFT_BUCKETS];
        (buckets[53], buckets[56], buckets[64]) = (5, 30, 2);
        Snapshot {
            header: Header {
                url: "http://127.0.0.1:9/v1/chat/completions".into(),
                load: "closed loop, concurrency 8".into(),
                level: Some("p=8".into()),
            },
            elapsed: Duration::from_millis(12_300),
            duration: None,
            done: 37,
            total: Some(100),
            in_flight: 8,
            failed: 3,
            errors: vec![(ErrorClass::HttpStatus, 2), (ErrorClass::Timeout, 1)],
            ttft_p50: Some(0.2344),
            ttft_p99: Some(0.5121),
            output_tokens: 1476,
            history: (0..12)
                .map(|t| Point {
                    t,
                    finished: 3,
                    output_tokens: 120,
                    ttft_p50: Some(0.234),
                    in_flight: 8,
                })
                .collect::<VecDeque<_>>(),
            ttft_buckets: buckets,
            phase: Phase::Sending,
        }
    }

    /// The screen as text, one line a row, spaces dropped (a wide character's second cell
    /// is blank).
    fn screen(s: &Snapshot, lang: Lang) -> String {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        terminal.draw(|f| draw(f, s, lang)).unwrap();
        let buffer = terminal.backend().buffer();
        let width = buffer.area.width as usize;
        let cells: Vec<&str> = buffer.content.iter().map(|c| c.symbol()).collect();
        cells.chunks(width).map(|row| row.concat().replace(' ', "") + "\n").collect()
    }

    #[test]
    fn the_dashboard_shows_the_numbers_in_english() {
        let text = screen(&snapshot(), Lang::En);
        for expected in [
            "http://127.0.0.1:9/v1/chat/completions",
            "load:closedloop,concurrency8|level:p=8|elapsed12s|done37/100",
            "37/100(37%)",
            "TTFTp500.234s",
            "TTFTp990.512s",
            "req/s3.01", // 37 in 12.3 s
            "tok/s120.0",
            "inflight8",
            "errors3",
            "http_status2",
            "timeout1",
            "TTFThistogram",
            "99ms",
            "128ms",
            "throughput(req/s):3",
            "TTFTp50persecond:234ms",
            "inflight,persecond:8",
            "q/Esc/Ctrl-C:stopsending",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
    }

    #[test]
    fn the_dashboard_speaks_chinese_and_shows_stopping() {
        let s = Snapshot { phase: Phase::Draining, errors: Vec::new(), ..snapshot() };
        let text = screen(&s, Lang::Zh);
        for expected in [
            "负载:closedloop,concurrency8|档位:p=8|已用时12s|完成37/100",
            "请求/秒3.01",
            "token/秒120.0",
            "进行中8",
            "错误3",
            "错误分类",
            "无错误",
            "首Token时间分布",
            "每秒首Tokenp50:234ms",
            "吞吐量(请求/秒):3",
            "已停止发送",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        // The numbers line up although the labels are two columns a character.
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        terminal.draw(|f| draw(f, &s, Lang::Zh)).unwrap();
        let buffer = terminal.backend().buffer();
        let column = |value: &str| {
            (0..40u16)
                .find_map(|y| {
                    let row: String = (0..120u16).map(|x| buffer[(x, y)].symbol()).collect();
                    row.find(value).map(|i| row[..i].chars().count())
                })
                .unwrap_or_else(|| panic!("{value} not on screen"))
        };
        assert_eq!(column("0.234s"), column("3.01"));
        assert_eq!(column("0.234s"), column("120.0"));
    }

    #[test]
    fn histogram_bins_cover_the_range_and_merge_to_fit() {
        let mut buckets = [0; TTFT_BUCKETS];
        // 99 ms, 128 ms and 256 ms: 2^(53/8), 2^(56/8), 2^(64/8) ms.
        (buckets[53], buckets[56], buckets[64]) = (5, 30, 2);
        let bins = histogram_bins(&buckets, 100);
        assert_eq!(bins.len(), 12, "every bucket from the first to the last, empty ones too");
        assert_eq!((bins[0].clone(), bins[3].clone()), (("99ms".into(), 5), ("128ms".into(), 30)));
        assert_eq!(bins[11], ("256ms".into(), 2));
        let narrow = histogram_bins(&buckets, 12);
        assert_eq!(narrow, [("99ms".into(), 35), ("197ms".into(), 2)]);
        assert_eq!(narrow.iter().map(|b| b.1).sum::<u64>(), 37, "merging loses nothing");
        assert!(histogram_bins(&[0; TTFT_BUCKETS], 100).is_empty());
    }
}
