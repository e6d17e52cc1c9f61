//! Live monitoring of a long run: the Prometheus page served at `--metrics-listen ADDR`
//! (`/metrics`) and the `--prometheus` textfile rewritten every `--push-interval`, both from
//! what the consumer measured so far: the run's aggregates and the last [`WINDOW`]'s.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::analyse::metrics::{Aggregator, Summary};
use crate::measure::record::RequestRecord;
use crate::output::live::{LiveFigures, bind_metrics, live_exposition, serve_metrics};
use crate::output::report::json;
use crate::plan::config::Config;

/// The span of the "last window" figures.
pub(super) const WINDOW: Duration = Duration::from_secs(10);

/// How long the page still serves the run's final figures after the run.
const LINGER: Duration = Duration::from_secs(1);

/// How often the figures are rendered.
pub(super) const EVERY: Duration = Duration::from_secs(1);

/// The page's server and the textfile, when the run asked for either.
pub(super) struct Monitor {
    text: Arc<Mutex<String>>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    push: Option<(PathBuf, Duration, Mutex<Option<Instant>>)>,
}

impl Monitor {
    /// Listens on `--metrics-listen` (an address in use is a setup error, before anything is
    /// sent); `None` when the run asked for no live metrics.
    pub(super) async fn start(config: &Config) -> anyhow::Result<Option<Monitor>> {
        let push = match (&config.prometheus, config.push_interval) {
            (Some(path), Some(every)) => Some((path.clone(), every, Mutex::new(None))),
            _ => None,
        };
        if config.metrics_listen.is_none() && push.is_none() {
            return Ok(None);
        }
        let text = Arc::new(Mutex::new(String::new()));
        let (stop, stopped) = watch::channel(false);
        let server = match &config.metrics_listen {
            Some(addr) => {
                let listener = bind_metrics(addr).await?;
                Some(tokio::spawn(serve_metrics(listener, Arc::clone(&text), stopped)))
            }
            None => None,
        };
        Ok(Some(Monitor { text, stop, server, push }))
    }

    /// Renders `figures` for the page, and into the textfile when its interval has passed.
    pub(super) fn update(&self, figures: &LiveFigures) {
        let rendered = live_exposition(figures);
        if let Some((path, every, last)) = &self.push {
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_none_or(|at| at.elapsed() >= *every) {
                // A failed rewrite is retried at the next interval; the run's end writes it too.
                let _ = json::replace(path, rendered.as_bytes());
                *last = Some(Instant::now());
            }
        }
        *self.text.lock().unwrap_or_else(|e| e.into_inner()) = rendered;
    }

    /// Stops the server after [`LINGER`] (the final figures stay up for a scraper polling
    /// each second), letting a scrape in progress finish.
    pub(super) async fn stop(self) {
        if self.server.is_some() {
            tokio::time::sleep(LINGER).await;
        }
        let _ = self.stop.send(true);
        if let Some(server) = self.server {
            let _ = server.await;
        }
    }
}

/// What the consumer keeps for the figures: the current window's aggregates, the last full
/// window's summary, and the requests started.
pub(super) struct Figures {
    window: Aggregator,
    window_started: Instant,
    last_window: Option<Summary>,
    sent: u64,
}

impl Figures {
    pub(super) fn new(now: Instant) -> Figures {
        Figures { window: Aggregator::new(), window_started: now, last_window: None, sent: 0 }
    }

    pub(super) fn on_started(&mut self) {
        self.sent += 1;
    }

    pub(super) fn on_measured(&mut self, record: &RequestRecord) {
        self.window.add(record);
    }

    /// Hands `monitor` the figures of now: `run` so far, `finished` requests of `started`.
    pub(super) fn publish(
        &mut self,
        monitor: &Monitor,
        run: &Aggregator,
        finished: u64,
        started: Instant,
    ) {
        let now = Instant::now();
        if now.duration_since(self.window_started) >= WINDOW {
            let span = now.duration_since(self.window_started);
            let ended = std::mem::take(&mut self.window);
            self.last_window = Some(ended.summary(span));
            self.window_started = now;
        }
        let elapsed = now.duration_since(started);
        let summary = run.summary(elapsed);
        monitor.update(&LiveFigures {
            run: &summary,
            window: self.last_window.as_ref(),
            window_seconds: WINDOW.as_secs_f64(),
            in_flight: self.sent.saturating_sub(finished),
            sent: self.sent,
            elapsed,
        });
    }
}
