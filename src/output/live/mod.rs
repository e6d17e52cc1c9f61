//! The live view of a run: plain lines (pipes, CI), an `indicatif` bar (a terminal), or the
//! `--tui` dashboard.
//!
//! Nothing here runs on the measuring path. The run's event consumer keeps a
//! [`Tracker`] and publishes a [`Snapshot`] on a watch channel a few times
//! a second; the bar and the dashboard draw copies of it from their own thread, so a slow
//! terminal delays the picture, never a request. Lines meant for the terminal (per-request
//! lines, the banner) go through [`Live`] too, so they land above the bar, or after the
//! dashboard closes.
//!
//! For monitoring, [`exposition`] renders the run so far as Prometheus text and [`serve`]
//! answers scrapes of it (`--metrics-listen`); neither runs on the measuring path either.

pub mod bar;
pub mod exposition;
pub mod lines;
pub mod serve;
pub mod snapshot;
pub mod tui;
pub mod words;

use std::io::IsTerminal;
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

pub use exposition::{LiveFigures, live_exposition};
pub use serve::{bind_metrics, serve_metrics};
pub use snapshot::{Header, Snapshot, Tracker};

use crate::i18n::Lang;
use crate::{errln, outln};

/// How often the picture is refreshed (and the snapshot published).
pub const TICK: Duration = Duration::from_millis(100);

/// Which view a run gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain lines, as the original tool printed them: no terminal, or nothing else possible.
    Lines,
    /// The progress bar on stderr.
    Bar,
    /// The full-screen dashboard.
    Tui,
}

impl Mode {
    /// The view for `--tui` (`tui`) given where output goes: the dashboard wants stdout on a
    /// terminal (else a warning in `lang` and plain lines), the bar stderr.
    pub fn choose(tui: bool, lang: Lang, stdout_tty: bool, stderr_tty: bool) -> Mode {
        match (tui, stdout_tty, stderr_tty) {
            (true, true, _) => Mode::Tui,
            (true, false, _) => {
                errln!("{}", words::live_words(lang).tui_needs_terminal);
                Mode::Lines
            }
            (false, _, true) => Mode::Bar,
            (false, _, false) => Mode::Lines,
        }
    }
}

/// What the run tells the drawing thread, in order.
#[derive(Debug)]
enum Msg {
    /// A line for stdout.
    Out(String),
    /// A line for stderr.
    Err(String),
    /// A level (or the run) starts: its first snapshot is published.
    Begin,
    /// The level ended: its last snapshot is published.
    End,
    /// The run is over: stop drawing and give the terminal back.
    Stop,
}

/// The live view of one run, shared by the run and its consumer.
#[derive(Debug)]
pub struct Live {
    mode: Mode,
    lang: Lang,
    snapshots: watch::Sender<Snapshot>,
    msgs: Mutex<Option<mpsc::Sender<Msg>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// `--tui`: lines held until the dashboard closes (true: stderr).
    held: Mutex<Vec<(bool, String)>>,
}

impl Live {
    /// Starts the view `--tui` (`tui`) and the terminal call for, in `lang`. `on_key` is what
    /// the dashboard's q / Esc / Ctrl-C do: the same as a Ctrl-C signal.
    pub fn start(tui: bool, lang: Lang, on_key: Box<dyn Fn() + Send>) -> Live {
        let (stdout_tty, stderr_tty) =
            (std::io::stdout().is_terminal(), std::io::stderr().is_terminal());
        Live::with_mode(Mode::choose(tui, lang, stdout_tty, stderr_tty), lang, on_key)
    }

    /// Starts the view in `mode`, whatever the terminal (tests).
    pub fn with_mode(mode: Mode, lang: Lang, on_key: Box<dyn Fn() + Send>) -> Live {
        let (snapshots, rx) = watch::channel(Snapshot::default());
        let (tx, msgs) = mpsc::channel();
        let thread = match mode {
            Mode::Lines => None,
            Mode::Bar => Some(spawn("streamperf-bar", move || bar::run(lang, rx, msgs))),
            Mode::Tui => match tui::Screen::open() {
                Ok(screen) => {
                    Some(spawn("streamperf-tui", move || screen.run(lang, rx, msgs, on_key)))
                }
                Err(e) => {
                    errln!("streamperf: warning: --tui: cannot set up the terminal ({e})");
                    return Live::with_mode(Mode::Lines, lang, Box::new(|| {}));
                }
            },
        };
        Live {
            mode,
            lang,
            snapshots,
            msgs: Mutex::new(thread.is_some().then_some(tx)),
            thread: Mutex::new(thread),
            held: Mutex::new(Vec::new()),
        }
    }

    /// The view in use.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The run's language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Whether snapshots are drawn (the plain lines need none).
    pub fn draws(&self) -> bool {
        self.mode != Mode::Lines
    }

    /// Prints a line on stdout: now, above the bar, or after the dashboard.
    pub fn say(&self, line: String) {
        self.line(false, line);
    }

    /// Prints a line on stderr, as [`Live::say`].
    pub fn warn(&self, line: String) {
        self.line(true, line);
    }

    /// A per-request line: printed like [`Live::say`], but not kept for after the dashboard
    /// (it would flood the screen the dashboard gave back).
    pub fn request_line(&self, line: String) {
        if self.mode != Mode::Tui {
            self.say(line);
        }
    }

    fn line(&self, to_err: bool, line: String) {
        match self.mode {
            Mode::Lines => print_line(to_err, &line),
            Mode::Bar => self.send(if to_err { Msg::Err(line) } else { Msg::Out(line) }),
            Mode::Tui => lock(&self.held).push((to_err, line)),
        }
    }

    /// A level (or the run) starts with `first`.
    pub fn begin(&self, first: Snapshot) {
        self.snapshots.send_replace(first);
        self.send(Msg::Begin);
    }

    /// The newest numbers. Never waits for drawing: the watch keeps only the last.
    pub fn publish(&self, snapshot: Snapshot) {
        self.snapshots.send_replace(snapshot);
    }

    /// The level ends with `last`.
    pub fn end(&self, last: Snapshot) {
        self.snapshots.send_replace(last);
        self.send(Msg::End);
    }

    /// Stops drawing, gives the terminal back and prints what the dashboard held. Idempotent;
    /// also run on drop, so an error return restores the terminal too.
    pub fn finish(&self) {
        if let Some(tx) = lock(&self.msgs).take() {
            let _ = tx.send(Msg::Stop);
        }
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join(); // a panic there already restored the terminal (the hook)
        }
        for (to_err, line) in std::mem::take(&mut *lock(&self.held)) {
            print_line(to_err, &line);
        }
    }

    fn send(&self, msg: Msg) {
        if let Some(tx) = lock(&self.msgs).as_ref() {
            let _ = tx.send(msg);
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `line` on stderr (`to_err`) or stdout, never panicking on a closed stream.
fn print_line(to_err: bool, line: &str) {
    match to_err {
        true => errln!("{line}"),
        false => outln!("{line}"),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new().name(name.into()).spawn(f).expect("a thread for the live view")
}

/// `2.5s`, `45s`, `2m05s`.
pub fn fmt_secs(d: Duration) -> String {
    let secs = d.as_secs_f64();
    match secs {
        s if s < 10.0 => format!("{s:.1}s"),
        s if s < 60.0 => format!("{s:.0}s"),
        s => format!("{}m{:02}s", (s / 60.0) as u64, (s as u64) % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_short() {
        assert_eq!(fmt_secs(Duration::from_millis(2540)), "2.5s");
        assert_eq!(fmt_secs(Duration::from_secs(45)), "45s");
        assert_eq!(fmt_secs(Duration::from_secs(125)), "2m05s");
    }

    #[test]
    fn choosing_the_view() {
        assert_eq!(Mode::choose(false, Lang::En, true, true), Mode::Bar);
        let lines = Mode::choose(false, Lang::En, true, false);
        assert_eq!(lines, Mode::Lines, "the bar draws on stderr");
        assert_eq!(Mode::choose(true, Lang::En, true, false), Mode::Tui);
        assert_eq!(Mode::choose(true, Lang::En, false, true), Mode::Lines, "with a warning");
    }

    #[test]
    fn lines_mode_prints_at_once_and_needs_no_thread() {
        let live = Live::with_mode(Mode::Lines, Lang::En, Box::new(|| {}));
        assert!(!live.draws());
        assert!(lock(&live.thread).is_none());
        live.say("hello".into());
        live.finish();
        live.finish();
    }
}
