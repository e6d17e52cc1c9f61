//! One load test from a validated [`Config`] to a report: workload, engine, live lines,
//! aggregation, result file. The engine measures; everything here consumes its events
//! (`consume`) or stops it ([`RunControl`]: deadline, error limits, Ctrl-C), and
//! `outputs` writes its files.
//! `plan.rs` chooses the load model, `result.rs` assembles the result file, `signals.rs`
//! handles Ctrl-C and the other stop signals.

mod auto;
mod consume;
mod lines;
mod models;
mod monitor;
mod outputs;
mod plan;
mod records;
mod result;
mod signals;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::analyse::metrics::Summary;
use crate::analyse::timeseries::Second;
use crate::limits;
use crate::measure::engine::{ConnectionStats, Engine, RunControl};
use crate::measure::record::RequestRecord;
use crate::measure::selfcheck::{ClientHealth, SelfCheck};
use crate::output::live::Live;
use crate::output::report::terminal::{self, ReportInfo};
use crate::output::report::{RecordsInfo, RunInfo, RunResult};
use crate::plan::config::{Config, SweepOver};
use crate::plan::workload::Workload;
use crate::{errln, exit, outln};

use plan::{Plan, run_info};
use records::RecordSink;
use result::{assemble, judge_slos};
use signals::{bound_graceful_stop, forward_interrupts, press, watch_signals};

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
    let listed = models::with_served_model(config).await?;
    let mut settled = listed.unwrap_or_else(|| config.clone());
    let workload = Workload::load(&settled)?;
    // The result says how the dataset was read, not only how it was named.
    if let (Some(source), Some((format, _))) = (settled.data_source.as_mut(), workload.dataset()) {
        source.format = Some(format);
    }
    if let Some((offsets, summary)) = workload.trace() {
        outln!("{}", summary.line(settled.lang));
        // The progress counts the rows that will be sent.
        let rows = offsets.len() as u64;
        settled.total_requests = Some(settled.total_requests.map_or(rows, |n| n.min(rows)));
    }
    // With sessions, -n counted conversations: the progress counts their requests (a shard's:
    // the conversations I, I + N, …).
    let (first, step) = settled.shard.map_or((0, 1), |s| (s.index, s.count));
    if let Some(count) = settled.sessions.as_ref().and_then(|s| s.count) {
        settled.total_requests = workload.requests_in((first..count).step_by(step as usize));
    }
    let config = &settled;
    outputs::check(config)?;
    let records = RecordSink::open(config)?;
    let monitor = monitor::Monitor::start(config).await?;
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
    let shared = Shared {
        workload: &workload,
        interrupt: &interrupt,
        live: &live,
        records: &records,
        monitor: monitor.as_ref(),
    };
    let measured = measure_all(config, &shared).await;
    if let Some(monitor) = monitor {
        monitor.stop().await;
    }
    signals.abort();
    graceful.abort();
    live.finish(); // the bar finished or the terminal given back, even on an error
    let measured = measured?;
    let goods: Vec<u64> = measured.iter().map(|m| m.good).collect();
    let mut result = assemble(config, measured);
    if let Some((file, total)) = records.finish() {
        let in_result = result.metrics.len() as u64;
        result.records = Some(RecordsInfo { file: file.display().to_string(), total, in_result });
    }
    judge_slos(config, &mut result, &goods);
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
    crate::output::history::record(
        &config.history,
        config.lang,
        &result,
        written.result.as_deref(),
    );
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
async fn measure_all(config: &Config, shared: &Shared<'_>) -> anyhow::Result<Vec<MeasuredLevel>> {
    let (interrupt, live) = (shared.interrupt, shared.live);
    Ok(match &config.sweep {
        None => {
            live.say(lines::banner(config));
            vec![measure(config, shared).await?]
        }
        Some(sweep) if sweep.auto => auto::find_knee(config, sweep, shared).await?,
        Some(sweep) => {
            let mut levels = Vec::with_capacity(sweep.levels.len());
            for &level in &sweep.levels {
                if !interrupt.sending() {
                    break; // interrupted: the levels measured so far are the result
                }
                let level_config = config.at_level(sweep, level);
                live.say(format!("\n{}", lines::banner(&level_config)));
                levels.push(measure(&level_config, shared).await?);
            }
            levels
        }
    })
}

/// What every level of a run shares: the workload, Ctrl-C, the live view, the records file.
struct Shared<'a> {
    workload: &'a Workload,
    interrupt: &'a Arc<RunControl>,
    live: &'a Live,
    records: &'a RecordSink,
    monitor: Option<&'a monitor::Monitor>,
}

/// One load test (one level of a sweep), measured.
struct MeasuredLevel {
    level: Option<f64>,
    summary: Summary,
    records: Vec<RequestRecord>,
    run: RunInfo,
    client: Option<ClientHealth>,
    connections: ConnectionStats,
    timeseries: Vec<Second>,
    detected_format: Option<String>,
    /// Measured requests meeting every per-request SLO (all of them, kept in memory or not).
    good: u64,
    /// The histograms behind `summary`, kept for merging shards.
    aggregate: crate::analyse::metrics::Aggregator,
}

/// Runs `config`'s load once. Ctrl-C on `interrupt` reaches this level's own control, which
/// the duration and error limits also stop.
async fn measure(config: &Config, shared: &Shared<'_>) -> anyhow::Result<MeasuredLevel> {
    let (workload, interrupt, live) = (shared.workload, shared.interrupt, shared.live);
    let mut engine = Engine::new(&config.engine_settings(), workload.specs())?;
    if let Some(bodies) = workload.bodies() {
        engine = engine.with_bodies(bodies);
    }
    if let Some(sessions) = workload.sessions() {
        engine = engine.with_sessions(sessions);
    }
    if let Some(shard) = config.shard {
        engine = engine.with_shard(shard.index, shard.count);
    }
    if let Some(at) = config.start_at {
        engine = engine.with_start_at(at);
    }
    let engine = Arc::new(engine);
    let selfcheck = SelfCheck::start();
    let plan = Plan::new(config, workload, &selfcheck)?;
    let control = Arc::new(RunControl::new());
    let forward = forward_interrupts(Arc::clone(interrupt), Arc::clone(&control));
    let (tx, rx) = mpsc::unbounded_channel();
    let load = tokio::spawn(plan.run(Arc::clone(&engine), Arc::clone(&control), tx));
    let consumed =
        consume::consume(config, &control, rx, live, shared.records, shared.monitor).await;
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
    let mut aggregate = consumed.aggregator;
    aggregate.rewrite_examples(|e| config.redactor.redact(e));
    let mut summary = aggregate.summary(duration);
    for example in summary.failure_examples.values_mut() {
        *example = config.redactor.redact(example);
    }
    let level = config.sweep_level;
    if let Some(level) = level {
        live.say(lines::level_line(config.lang, config, level, &summary));
    }
    Ok(MeasuredLevel {
        level,
        summary,
        records,
        run: RunInfo {
            start_skew: engine.start_skew(),
            started_unix: engine.started_unix(),
            ..run_info(config, workload, &control, sends, consumed.warmups)
        },
        client,
        connections,
        timeseries: consumed.series.seconds(),
        good: consumed.good,
        aggregate,
        detected_format: engine.detected_format().map(str::to_owned),
    })
}
