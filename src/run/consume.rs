//! The consumer of engine events: the original tool's per-request and progress lines, aggregation,
//! the per-second series, warm-up bookkeeping, the error limits that stop a run, and the live
//! view's snapshots (published on a timer, drawn elsewhere).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::lines::connections_line;
use super::monitor::{self, Figures, Monitor};
use super::records::RecordSink;
use crate::analyse::metrics::Aggregator;
use crate::analyse::timeseries::TimeSeries;
use crate::measure::engine::{EngineEvent, Preconnect, RunControl, StopReason};
use crate::measure::record::RequestRecord;
use crate::output::live::lines as request_lines;
use crate::output::live::{self, Live, Tracker};
use crate::plan::config::Config;
use crate::{errln, outln};

/// Error rates are judged only after this many finished requests: one early failure must not
/// stop a run at a 100 % error rate.
const ERROR_RATE_MIN_REQUESTS: u64 = 10;

/// What consuming a run's events produced.
pub(super) struct Consumed {
    /// Every measured request except warm-ups.
    pub aggregator: Aggregator,
    /// The records, warm-ups included (flagged), in arrival order: the first
    /// `--max-records-in-result` of them (the records file has every one).
    pub records: Vec<RequestRecord>,
    /// Every record seen, kept or not.
    pub seen: u64,
    /// Measured records meeting every per-request `--slo` (goodput), counted as they come so
    /// that it covers the records not kept in memory too.
    pub good: u64,
    /// The per-second series.
    pub series: TimeSeries,
    /// Warm-up requests seen.
    pub warmups: u64,
}

/// Consumes engine events until the engine is done. Starts the `--duration` clock when the
/// load starts and stops sending when an error limit is crossed. With a bar or a dashboard,
/// publishes a snapshot every [`live::TICK`] instead of printing progress lines.
pub(super) async fn consume(
    config: &Config,
    control: &Arc<RunControl>,
    mut rx: mpsc::UnboundedReceiver<EngineEvent>,
    live: &Live,
    sink: &RecordSink,
    monitor: Option<&Monitor>,
) -> Consumed {
    let mut consumer = Consumer::new(config, control, live, sink);
    let mut tick = tokio::time::interval(live::TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut monitor_tick = tokio::time::interval(monitor::EVERY);
    monitor_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let event = tokio::select! {
            // First, or a busy channel would starve it; it is ready only once a tick.
            biased;
            _ = tick.tick(), if consumer.draws => {
                consumer.publish();
                continue;
            }
            _ = monitor_tick.tick(), if monitor.is_some() => {
                consumer.monitor(monitor);
                continue;
            }
            event = rx.recv() => match event {
                Some(event) => event,
                None => break,
            },
        };
        match event {
            EngineEvent::Connected(preconnect) => consumer.on_connected(&preconnect),
            EngineEvent::Started { at, .. } => consumer.on_started(at),
            EngineEvent::FirstToken { request_id, ttft, at } => {
                consumer.on_first_token(request_id, ttft, at)
            }
            EngineEvent::Finished { record, at } => consumer.on_finished(*record, at),
        }
    }
    consumer.monitor(monitor);
    consumer.finish()
}

/// One run's consumption in progress: what it produced so far, the clocks and the views.
struct Consumer<'a> {
    config: &'a Config,
    sink: &'a RecordSink,
    control: &'a Arc<RunControl>,
    live: &'a Live,
    out: Consumed,
    /// When the load started (after connecting): the progress line's clock.
    started: Instant,
    progress: ProgressLine,
    /// The `--duration` timer, once the load started.
    deadline: Option<tokio::task::JoinHandle<()>>,
    /// Measured requests that failed, for the progress line.
    errors: u64,
    /// Whether a bar or dashboard draws (snapshots instead of progress lines).
    draws: bool,
    tracker: Tracker,
    /// The live monitoring's window and counts.
    figures: Figures,
}

impl<'a> Consumer<'a> {
    fn new(
        config: &'a Config,
        control: &'a Arc<RunControl>,
        live: &'a Live,
        sink: &'a RecordSink,
    ) -> Self {
        let expected = config.requests_here().unwrap_or(1024).min(config.max_records_in_result);
        let out = Consumed {
            aggregator: Aggregator::new(),
            records: Vec::with_capacity(expected.min(1 << 20) as usize),
            seen: 0,
            good: 0,
            series: TimeSeries::new(Instant::now()),
            warmups: 0,
        };
        let started = Instant::now();
        let draws = live.draws();
        let header = super::lines::live_header(config);
        let mut tracker =
            Tracker::new(header, config.requests_here(), config.load.duration, started);
        if draws {
            live.begin(tracker.snapshot(started, &out.aggregator, control.phase()));
        }
        Consumer {
            config,
            sink,
            control,
            live,
            out,
            started,
            progress: ProgressLine::new(config.quiet),
            deadline: None,
            errors: 0,
            draws,
            tracker,
            figures: Figures::new(started),
        }
    }

    /// Hands the live monitoring (`--metrics-listen`, `--push-interval`) the figures of now.
    fn monitor(&mut self, monitor: Option<&Monitor>) {
        if let Some(monitor) = monitor {
            let finished = self.out.seen;
            self.figures.publish(monitor, &self.out.aggregator, finished, self.started);
        }
    }

    /// Hands the live view a snapshot of now.
    fn publish(&mut self) {
        let snapshot = self.snapshot();
        self.live.publish(snapshot);
    }

    fn snapshot(&mut self) -> live::Snapshot {
        self.tracker.snapshot(Instant::now(), &self.out.aggregator, self.control.phase())
    }

    fn on_connected(&mut self, preconnect: &Preconnect) {
        let config = self.config;
        self.live.say(connections_line(config.lang, preconnect));
        self.started = Instant::now(); // the load starts now, not when connecting did
        self.figures = Figures::new(self.started);
        self.out.series = TimeSeries::new(self.started);
        self.tracker.restart(self.started);
        self.deadline = config.load.duration.map(|d| deadline_timer(config, self.control, d));
    }

    fn on_started(&mut self, at: Instant) {
        self.figures.on_started();
        self.out.series.on_start(at);
        self.tracker.on_start(at);
    }

    fn on_first_token(&mut self, request_id: u64, ttft: Duration, at: Instant) {
        self.out.series.on_first_token(at, ttft);
        self.tracker.on_first_token(at, ttft);
        if !self.config.quiet {
            let line =
                request_lines::first_token_line(self.config.lang, request_id, ttft.as_secs_f64());
            self.live.request_line(line);
        }
    }

    fn on_finished(&mut self, mut record: RequestRecord, at: Instant) {
        let config = self.config;
        self.out.series.on_finish(at, &record);
        self.tracker.on_finish(at, &record);
        if !config.quiet {
            let line = match record.is_success() {
                true => request_lines::done_line(config.lang, &record),
                false => request_lines::failed_line(config.lang, &record),
            };
            self.live.request_line(config.redactor.redact(&line));
        }
        if record.warmup {
            self.out.warmups += 1;
        } else {
            self.out.aggregator.add(&record);
            self.out.good += u64::from(crate::analyse::slo::is_good(&config.slos, &record));
            self.figures.on_measured(&record);
            self.errors += u64::from(!record.is_success());
            check_error_limits(config, self.control, &self.out.aggregator, self.live);
        }
        record.itl = Vec::new(); // consumed by the aggregator; not kept per request
        record.itl_token = Vec::new();
        self.sink.append(&record, self.live);
        self.out.seen += 1;
        // Memory stays flat however long the run: beyond the limit, records are on disk only.
        if (self.out.records.len() as u64) < config.max_records_in_result {
            self.out.records.push(record);
        }
        if !self.draws {
            let (done, errors) = (self.out.seen as usize, self.errors);
            let (aggregator, started) = (&self.out.aggregator, self.started);
            self.progress.tick(|| progress_line(config, aggregator, done, started, errors));
        }
    }

    /// Stops the `--duration` timer and shows the final state: what the run consumed.
    fn finish(mut self) -> Consumed {
        if let Some(timer) = self.deadline.take() {
            timer.abort();
        }
        match self.draws {
            true => {
                let snapshot = self.snapshot();
                self.live.end(snapshot);
            }
            false => {
                let (done, errors) = (self.out.seen as usize, self.errors);
                let (aggregator, started) = (&self.out.aggregator, self.started);
                let config = self.config;
                self.progress.finish(|| progress_line(config, aggregator, done, started, errors));
            }
        }
        self.out
    }
}

/// Stops sending (or cancels, with `--cancel-at-deadline`) when `--duration` has passed.
fn deadline_timer(
    config: &Config,
    control: &Arc<RunControl>,
    duration: Duration,
) -> tokio::task::JoinHandle<()> {
    let (control, cancel) = (Arc::clone(control), config.load.cancel_at_deadline);
    tokio::spawn(async move {
        tokio::time::sleep(duration).await;
        match cancel {
            true => control.cancel(StopReason::Duration),
            false => control.stop_sending(StopReason::Duration),
        }
    })
}

/// `--max-errors` and `--max-error-rate`, judged on the measured (non-warm-up) requests.
fn check_error_limits(config: &Config, control: &RunControl, aggregator: &Aggregator, live: &Live) {
    if !control.sending() {
        return;
    }
    let failed = aggregator.failed_count();
    let finished = failed + aggregator.success_count();
    if config.load.max_errors.is_some_and(|max| failed >= max) {
        live.warn(format!("streamperf: {failed} requests failed (--max-errors): stopping"));
        control.stop_sending(StopReason::MaxErrors);
    } else if let Some(max) = config.load.max_error_rate {
        let rate = failed as f64 / finished.max(1) as f64;
        if finished >= ERROR_RATE_MIN_REQUESTS && rate > max {
            let pct = rate * 100.0;
            live.warn(format!(
                "streamperf: {pct:.1}% of {finished} requests failed (--max-error-rate): stopping"
            ));
            control.stop_sending(StopReason::MaxErrorRate);
        }
    }
}

fn progress_line(
    config: &Config,
    aggregator: &Aggregator,
    done: usize,
    started: Instant,
    errors: u64,
) -> String {
    let (p50, _) = aggregator.snapshot_ttft();
    let elapsed = started.elapsed().as_secs_f64();
    let rate = (elapsed >= 1.0).then(|| done as f64 / elapsed);
    // The end that comes first: the duration's, or the requests' at the current pace.
    let by_duration = config.load.duration.map(|d| (d.as_secs_f64() - elapsed).max(0.0));
    let by_count = config
        .total_requests
        .zip(rate.filter(|r| *r > 0.0))
        .map(|(total, rate)| total.saturating_sub(done as u64) as f64 / rate);
    let left = match (by_duration, by_count) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let pace = request_lines::Pace { rate, left };
    request_lines::progress_line(
        config.lang,
        done as u64,
        config.requests_here(),
        elapsed,
        p50,
        errors,
        pace,
    )
}

/// The progress line: after every request in verbose mode (the original tool's behaviour); in quiet
/// mode at most every 200 ms, redrawn in place on a terminal and every 5 s otherwise.
struct ProgressLine {
    verbose: bool,
    tty: bool,
    last: Option<Instant>,
}

impl ProgressLine {
    fn new(quiet: bool) -> Self {
        ProgressLine { verbose: !quiet, tty: std::io::stderr().is_terminal(), last: None }
    }

    fn tick(&mut self, line: impl FnOnce() -> String) {
        if self.verbose {
            outln!("{}", line());
            return;
        }
        let every = if self.tty { Duration::from_millis(200) } else { Duration::from_secs(5) };
        if self.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        match self.tty {
            true => crate::console::write_err(format_args!("\r\x1b[2K{}", line())),
            false => errln!("{}", line()),
        }
    }

    /// Shows the final count: ends the redrawn line, or prints it once more in plain mode.
    fn finish(&mut self, line: impl FnOnce() -> String) {
        match (self.verbose, self.tty) {
            (true, _) => {}
            (false, true) => errln!("\r\x1b[2K{}", line()),
            (false, false) => errln!("{}", line()),
        }
    }
}
