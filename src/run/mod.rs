//! One load test from a validated [`Config`] to a report: workload, engine, live lines,
//! aggregation, result file. The engine measures; everything here consumes its events
//! (`consume`) or stops it ([`RunControl`]: deadline, error limits, Ctrl-C), and
//! `outputs` writes its files.

mod auto;
mod consume;
mod lines;
mod outputs;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::config::{Config, SweepOver};
use crate::engine::open::SendStats;
use crate::engine::{
    ClosedLoop, ConnectionStats, Engine, EngineEvent, OpenLoop, Phase, RunControl, StopReason,
};
use crate::limits;
use crate::live::{Live, Mode};
use crate::load::Schedule;
use crate::metrics::Summary;
use crate::record::RequestRecord;
use crate::report::terminal::{self, ReportInfo};
use crate::report::{LevelResult, RunInfo, RunResult, SCHEMA_VERSION, ToolInfo};
use crate::selfcheck::{ClientHealth, SelfCheck};
use crate::slo;
use crate::timeseries::Second;
use crate::workload::Workload;
use crate::{errln, exit, outln};

/// What a finished run leaves behind.
#[derive(Debug)]
pub struct RunOutput {
    /// The result, as written to the result file.
    pub result: RunResult,
    /// Where the result file went, if one was written.
    pub result_path: Option<PathBuf>,
    /// The terminal report as printed.
    pub report: String,
    /// `framing/adapter` the responses were read with.
    pub detected_format: Option<String>,
    /// Whether any `--slo` failed (exit code 3).
    pub slo_failed: bool,
    /// One message for each output that could not be written, naming it (exit code 4).
    pub unwritten: Vec<String>,
}

impl RunOutput {
    /// 3 when an SLO failed, else 4 when an output could not be written, else 0 (see
    /// [`crate::exit`]).
    pub fn exit_code(&self) -> ExitCode {
        match (self.slo_failed, self.unwritten.is_empty()) {
            (true, _) => ExitCode::from(exit::SLO_FAILED),
            (false, false) => ExitCode::from(exit::OUTPUT_NOT_WRITTEN),
            (false, true) => ExitCode::SUCCESS,
        }
    }
}

/// Runs the load test described by `config`, printing progress and the report to stdout.
/// `Err` is a setup error, before anything was sent: an output location that cannot take the
/// files is one. Once measured, a run is always reported and stored, and every file that can
/// be written is ([`RunOutput::unwritten`] names the others).
///
/// The first Ctrl-C (SIGINT, SIGTERM, SIGHUP or the dashboard's key) stops sending and waits
/// up to `--graceful-stop` for the requests in flight; the second, or the end of that wait,
/// cancels them. Either way the result is written, marked interrupted.
pub async fn execute(config: &Config) -> anyhow::Result<RunOutput> {
    let workload = Workload::load(config)?;
    outputs::check(config)?;
    let highest =
        config.sweep.as_ref().map_or(0.0, |s| s.levels.iter().copied().fold(0.0, f64::max));
    let expected_streams = match (config.load.rate, &config.sweep) {
        (_, Some(sweep)) if sweep.over == SweepOver::Concurrency => highest as u64,
        (Some(_), _) => config.load.max_in_flight.unwrap_or(config.concurrency),
        (None, _) => config.concurrency,
    };
    if let Some(warning) = limits::check_descriptors(expected_streams) {
        errln!("streamperf: warning: {warning}");
    }
    if config.tls.insecure {
        errln!(
            "streamperf: warning: -k/--insecure: TLS certificates are not verified; \
             anything on the network path could pose as the server"
        );
    }

    let interrupt = Arc::new(RunControl::new());
    let on_key = {
        let interrupt = Arc::clone(&interrupt);
        Box::new(move || {
            press(&interrupt);
        })
    };
    let live = Arc::new(Live::start(config.tui, config.lang, on_key));
    let signals = watch_signals(Arc::clone(&interrupt), Arc::clone(&live), config);
    let graceful = bound_graceful_stop(Arc::clone(&interrupt), Arc::clone(&live), config);
    let measured = measure_all(config, &workload, &interrupt, &live).await;
    signals.abort();
    graceful.abort();
    live.finish(); // the bar finished or the terminal given back, even on an error
    let measured = measured?;
    let mut result = assemble(config, measured);
    judge_slos(config, &mut result);
    Ok(deliver(config, result))
}

/// A measured run's ending, each step whatever the one before did: its files written, the
/// report printed, the run stored in the history, and what could not be written named last,
/// where the user sees it.
fn deliver(config: &Config, result: RunResult) -> RunOutput {
    let written = outputs::write_all(config, &result);
    let detected_format = result.config["detected_format"].as_str().map(str::to_owned);
    let info = ReportInfo {
        url: config.redactor.redact(&config.url),
        detected_format: detected_format.clone(),
        result_path: written.result.clone(),
    };
    let report = terminal::render(&result, config.lang, &info);
    outln!("{report}");
    for path in &written.exports {
        outln!("{}: {}", crate::i18n::words(config.lang).saved_to, path.display());
    }
    // After the files: a history failure is only a warning, and the history keeps a run whose
    // result file could not be written.
    crate::history::record(&config.history, config.lang, &result, written.result.as_deref());
    for failure in &written.failures {
        errln!("streamperf: error: {failure}");
    }
    if !written.failures.is_empty() {
        errln!("{}", lines::unwritten_notice(config.lang));
    }
    let slo_failed = result.slos.iter().any(|s| !s.pass);
    RunOutput {
        result,
        result_path: written.result,
        report,
        detected_format,
        slo_failed,
        unwritten: written.failures,
    }
}

/// The run, or each level of a sweep in turn (until interrupted).
async fn measure_all(
    config: &Config,
    workload: &Workload,
    interrupt: &Arc<RunControl>,
    live: &Live,
) -> anyhow::Result<Vec<Measured>> {
    Ok(match &config.sweep {
        None => {
            live.say(lines::banner(config));
            vec![measure(config, workload, interrupt, live).await?]
        }
        Some(sweep) if sweep.auto => {
            auto::find_knee(config, sweep, workload, interrupt, live).await?
        }
        Some(sweep) => {
            let mut levels = Vec::with_capacity(sweep.levels.len());
            for &level in &sweep.levels {
                if !interrupt.sending() {
                    break; // interrupted: the levels measured so far are the result
                }
                let level_config = config.at_level(sweep, level);
                live.say(format!("\n{}", lines::banner(&level_config)));
                levels.push(measure(&level_config, workload, interrupt, live).await?);
            }
            levels
        }
    })
}

/// Judges the `--slo`s on the summary (the last level's, in a sweep) and its goodput.
fn judge_slos(config: &Config, result: &mut RunResult) {
    if config.slos.is_empty() {
        return;
    }
    result.slos = slo::evaluate(&config.slos, &result.summary);
    // Each sweep level's goodput, so the sweep table shows where the SLOs stop being met.
    let metrics = &result.metrics;
    for (index, level) in result.levels.iter_mut().enumerate() {
        let records = metrics.iter().filter(|r| r.level == Some(index as u32));
        level.summary.goodput = Some(slo::goodput(&config.slos, records, level.summary.duration));
    }
    let goodput = slo::goodput(&config.slos, result.last_level_records(), result.summary.duration);
    result.summary.goodput = Some(goodput);
}

/// One load test (one level of a sweep), measured.
struct Measured {
    level: Option<f64>,
    summary: Summary,
    records: Vec<RequestRecord>,
    run: RunInfo,
    client: Option<ClientHealth>,
    connections: ConnectionStats,
    timeseries: Vec<Second>,
    detected_format: Option<String>,
}

/// Runs `config`'s load once. Ctrl-C on `interrupt` reaches this level's own control, which
/// the duration and error limits also stop.
async fn measure(
    config: &Config,
    workload: &Workload,
    interrupt: &Arc<RunControl>,
    live: &Live,
) -> anyhow::Result<Measured> {
    let engine = Arc::new(Engine::new(&config.engine_settings(), workload.specs())?);
    let selfcheck = SelfCheck::start();
    let plan = Plan::new(config, &selfcheck)?;
    let control = Arc::new(RunControl::new());
    let forward = forward_interrupts(Arc::clone(interrupt), Arc::clone(&control));
    let (tx, rx) = mpsc::unbounded_channel();
    let load = tokio::spawn(plan.run(Arc::clone(&engine), Arc::clone(&control), tx));
    let consumed = consume::consume(config, &control, rx, live).await;
    let (duration, sends) = load.await?;
    forward.abort();
    let client = Some(selfcheck.finish().await);

    let mut records = consumed.records;
    records.sort_by_key(|r| r.request_id);
    for record in &mut records {
        record.error = record.error.as_deref().map(|e| config.redactor.redact(e));
        record.final_url = record.final_url.as_deref().map(|u| config.redactor.redact(u));
    }
    let mut connections = engine.connection_stats();
    connections.redirected_to = connections.redirected_to.map(|u| config.redactor.redact(&u));
    let mut summary = consumed.aggregator.summary(duration);
    for example in summary.failure_examples.values_mut() {
        *example = config.redactor.redact(example);
    }
    let level = config.sweep_level;
    if let Some(level) = level {
        live.say(lines::level_line(config.lang, config, level, &summary));
    }
    Ok(Measured {
        level,
        summary,
        records,
        run: run_info(config, &control, sends, consumed.warmups),
        client,
        connections,
        timeseries: consumed.series.seconds(),
        detected_format: engine.detected_format().map(str::to_owned),
    })
}

/// The result file: one run, or a sweep's levels (the top-level summary is the last level's,
/// so a reader of one summary sees the highest load; every request is in `metrics`, tagged
/// with its level).
fn assemble(config: &Config, measured: Vec<Measured>) -> RunResult {
    let timestamp = jiff::ZonedDateTime::now().strftime("%Y-%m-%dT%H:%M:%S").to_string();
    // A sweep's config shows the last level's concurrency or rate, as its summary does.
    let last_level = measured.last().and_then(|m| m.level);
    let mut view = match (&config.sweep, last_level) {
        (Some(sweep), Some(level)) => config.at_level(sweep, level).result_view(&timestamp),
        _ => config.result_view(&timestamp),
    };
    let detected = measured.iter().find_map(|m| m.detected_format.clone());
    if let (Some(object), Some(format)) = (view.as_object_mut(), detected) {
        object.insert("detected_format".into(), format.into());
    }
    let mut result = RunResult {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::default(),
        config: view,
        ..RunResult::default()
    };
    let over = config.sweep.as_ref().map(|s| s.over);
    let mut next_id = 0;
    for (index, m) in measured.into_iter().enumerate() {
        let mut records = m.records;
        if let Some(over) = over {
            for record in &mut records {
                record.level = Some(index as u32);
                record.request_id += next_id;
            }
            next_id += records.len() as u64;
            let mut level = LevelResult::new(
                over,
                m.level.unwrap_or_default(),
                &m.summary,
                &m.run,
                &m.client,
                &m.timeseries,
            );
            level.connections = m.connections.clone();
            result.levels.push(level);
        }
        result.metrics.extend(records);
        result.summary = m.summary;
        result.run = m.run;
        result.client = m.client;
        result.connections = m.connections;
        result.timeseries = m.timeseries;
    }
    result
}

/// Passes the user's Ctrl-C on `interrupt` to one level's `control`.
fn forward_interrupts(
    interrupt: Arc<RunControl>,
    control: Arc<RunControl>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        interrupt.reached(Phase::Draining).await;
        control.stop_sending(StopReason::Interrupted);
        interrupt.reached(Phase::Cancelling).await;
        control.cancel(StopReason::Interrupted);
    })
}

/// The load the config asks for: the closed loop, or the open loop on its schedule.
enum Plan {
    Closed(ClosedLoop),
    Open(OpenLoop),
}

impl Plan {
    fn new(config: &Config, selfcheck: &SelfCheck) -> anyhow::Result<Plan> {
        let load = &config.load;
        let Some(rate) = load.rate else {
            return Ok(Plan::Closed(ClosedLoop {
                concurrency: config.concurrency,
                total: config.total_requests,
                ramp_up: load.ramp_up,
            }));
        };
        let schedule = Schedule::new(rate, load.arrival, load.seed, load.ramp_up)?;
        let lateness = selfcheck.send_lateness_recorder();
        Ok(Plan::Open(OpenLoop {
            schedule: Box::new(schedule),
            total: config.total_requests,
            duration: load.duration,
            max_in_flight: load.max_in_flight,
            // One second's worth of connections before the clock; more open on demand.
            preconnect: (rate.ceil() as u64).clamp(1, MAX_OPEN_LOOP_PRECONNECT),
            on_lateness: Some(Box::new(move |late| lateness.note(late))),
        }))
    }

    /// Runs it: the wall time of the load, and for the open loop what sending found.
    async fn run(
        self,
        engine: Arc<Engine>,
        control: Arc<RunControl>,
        events: mpsc::UnboundedSender<EngineEvent>,
    ) -> (Duration, Option<SendStats>) {
        match self {
            Plan::Closed(plan) => (engine.run_closed_loop(plan, control, events).await, None),
            Plan::Open(plan) => {
                let (duration, stats) = engine.run_open_loop(plan, control, events).await;
                (duration, Some(stats))
            }
        }
    }
}

/// Open-loop connections opened before the clock starts, at most.
const MAX_OPEN_LOOP_PRECONNECT: u64 = 1024;

/// How the load was generated and why it stopped.
fn run_info(
    config: &Config,
    control: &RunControl,
    sends: Option<SendStats>,
    warmups: u64,
) -> RunInfo {
    let reason = control.reason().unwrap_or(StopReason::Completed);
    let early = reason != StopReason::Completed;
    RunInfo {
        load_model: if config.load.rate.is_some() { "open" } else { "closed" }.into(),
        stop_reason: Some(reason),
        interrupted: reason == StopReason::Interrupted,
        in_flight_at_stop: early.then(|| match control.phase() {
            Phase::Cancelling => "cancelled".into(),
            _ => "awaited".into(),
        }),
        target_rate: config.load.rate,
        achieved_rate: sends.and_then(|s| s.achieved_rate()),
        queued_sends: sends.map_or(0, |s| s.queued),
        warmup_requests: warmups,
    }
}

/// The first Ctrl-C (or SIGTERM, SIGHUP) stops sending; the second cancels what is in flight.
fn watch_signals(
    control: Arc<RunControl>,
    live: Arc<Live>,
    config: &Config,
) -> tokio::task::JoinHandle<()> {
    let graceful_stop = config.load.graceful_stop;
    tokio::spawn(async move {
        loop {
            if interrupted().await.is_err() {
                return; // no signal handling here: the default (exit) stays
            }
            let cancelled = press(&control);
            // The dashboard shows the phase itself; its screen must not be written over.
            if live.mode() != Mode::Tui {
                let notice = lines::interrupt_notice(live.lang(), cancelled, graceful_stop);
                live.warn(format!("\n{notice}"));
            }
            if cancelled {
                return;
            }
        }
    })
}

/// Once a Ctrl-C (signal or key) stopped sending, the requests in flight get
/// `--graceful-stop` to finish; then they are cancelled, as a second Ctrl-C would, so that a
/// supervisor's SIGTERM never waits out `--timeout` for stalled streams.
fn bound_graceful_stop(
    control: Arc<RunControl>,
    live: Arc<Live>,
    config: &Config,
) -> tokio::task::JoinHandle<()> {
    let limit = config.load.graceful_stop;
    tokio::spawn(async move {
        control.reached(Phase::Draining).await;
        tokio::select! {
            () = control.reached(Phase::Cancelling) => return, // pressed again
            () = tokio::time::sleep(limit) => {}
        }
        control.cancel(StopReason::Interrupted);
        if live.mode() != Mode::Tui {
            live.warn(format!("\n{}", lines::graceful_stop_over(live.lang(), limit)));
        }
    })
}

/// One Ctrl-C, from a signal or the dashboard's keys: the first stops sending, the next
/// cancels the requests in flight. Returns whether this one cancelled.
fn press(control: &RunControl) -> bool {
    match control.sending() {
        true => control.stop_sending(StopReason::Interrupted),
        false => control.cancel(StopReason::Interrupted),
    }
    control.phase() == Phase::Cancelling
}

/// Resolves at the next Ctrl-C or (on Unix) SIGTERM or SIGHUP (a closed terminal or
/// session: the same as being asked to stop).
async fn interrupted() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
            _ = hangup.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
