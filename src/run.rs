//! One load test from a validated [`Config`] to a report: workload, engine, live lines,
//! aggregation, result file. The engine measures; everything here consumes its events.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::cli::Lang;
use crate::config::Config;
use crate::engine::{Engine, EngineEvent, Preconnect};
use crate::metrics::Aggregator;
use crate::record::RequestRecord;
use crate::report::terminal::{self, ReportInfo};
use crate::report::{RunResult, SCHEMA_VERSION, ToolInfo, json};
use crate::workload::Workload;
use crate::{limits, ui};

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
}

/// Runs the load test described by `config`, printing progress and the report to stdout.
pub async fn execute(config: &Config) -> anyhow::Result<RunOutput> {
    let workload = Workload::load(config)?;
    let engine = Arc::new(Engine::new(config, &workload)?);
    if let Some(warning) = limits::check_descriptors(config.concurrency) {
        eprintln!("streamperf: warning: {warning}");
    }
    if config.tls.insecure {
        eprintln!(
            "streamperf: warning: -k/--insecure: TLS certificates are not verified; \
             anything on the network path could pose as the server"
        );
    }
    println!("{}", banner(config));

    let (tx, rx) = mpsc::unbounded_channel();
    let load = {
        let engine = Arc::clone(&engine);
        let (concurrency, total) = (config.concurrency, config.total_requests);
        tokio::spawn(async move { engine.run_closed_loop(concurrency, total, tx).await })
    };
    let (aggregator, mut records) = consume(config, rx).await;
    let duration = load.await?;

    records.sort_by_key(|r| r.request_id);
    for record in &mut records {
        record.error = record.error.as_deref().map(|e| config.redactor.redact(e));
    }
    let detected_format = engine.detected_format().map(str::to_owned);
    let timestamp = jiff::ZonedDateTime::now().strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let mut view = config.result_view(&timestamp);
    if let (Some(object), Some(format)) = (view.as_object_mut(), &detected_format) {
        object.insert("detected_format".into(), format.clone().into());
    }
    let mut summary = aggregator.summary(duration);
    for example in summary.failure_examples.values_mut() {
        *example = config.redactor.redact(example);
    }
    let result = RunResult {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::default(),
        config: view,
        summary,
        metrics: records,
    };
    let result_path = match config.write_result {
        true => Some(json::write_result(&result, config.output.as_deref())?),
        false => None,
    };
    let info = ReportInfo {
        url: config.redactor.redact(&config.url),
        detected_format: detected_format.clone(),
        result_path: result_path.clone(),
    };
    let report = terminal::render(&result, config.lang, &info);
    println!("{report}");
    Ok(RunOutput { result, result_path, report, detected_format })
}

fn banner(config: &Config) -> String {
    let url = config.redactor.redact(&config.url);
    let (n, p) = (config.total_requests, config.concurrency);
    match config.lang {
        Lang::En => format!("streamperf: {n} requests to {url}, concurrency {p}"),
        Lang::Zh => format!("streamperf: 共 {n} 个请求 → {url},并发数 {p}"),
    }
}

/// One line on the connections opened before the clock started, e.g.
/// `connections: 512 opened in 45 ms`.
fn connections_line(lang: Lang, p: &Preconnect) -> String {
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

/// Consumes engine events until the engine is done: prints the seed's per-request lines and
/// progress line, aggregates, and keeps every record.
async fn consume(
    config: &Config,
    mut rx: mpsc::UnboundedReceiver<EngineEvent>,
) -> (Aggregator, Vec<RequestRecord>) {
    let mut aggregator = Aggregator::new();
    let mut records = Vec::with_capacity(config.total_requests.min(1 << 20) as usize);
    let mut started = Instant::now();
    let mut progress = Progress::new(config.quiet);
    let mut errors = 0;
    while let Some(event) = rx.recv().await {
        match event {
            EngineEvent::Connected(preconnect) => {
                println!("{}", connections_line(config.lang, &preconnect));
                started = Instant::now(); // the load starts now, not when connecting did
            }
            EngineEvent::FirstToken { request_id, ttft } => {
                if !config.quiet {
                    println!(
                        "{}",
                        ui::first_token_line(config.lang, request_id, ttft.as_secs_f64())
                    );
                }
            }
            EngineEvent::Finished(record) => {
                aggregator.add(&record);
                if !record.is_success() {
                    errors += 1;
                }
                if !config.quiet {
                    let line = match record.is_success() {
                        true => ui::done_line(config.lang, &record),
                        false => ui::failed_line(config.lang, &record),
                    };
                    println!("{}", config.redactor.redact(&line));
                }
                let mut record = *record;
                record.itl = Vec::new(); // consumed by the aggregator; not kept per request
                records.push(record);
                let line = || progress_line(config, &aggregator, records.len(), started, errors);
                progress.tick(line);
            }
        }
    }
    progress.finish(|| progress_line(config, &aggregator, records.len(), started, errors));
    (aggregator, records)
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
    ui::progress_line(config.lang, done as u64, config.total_requests, elapsed, p50, errors)
}

/// The progress line: after every request in verbose mode (the seed's behaviour); in quiet
/// mode at most every 200 ms, redrawn in place on a terminal and every 5 s otherwise.
struct Progress {
    verbose: bool,
    tty: bool,
    last: Option<Instant>,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        Progress { verbose: !quiet, tty: std::io::stderr().is_terminal(), last: None }
    }

    fn tick(&mut self, line: impl FnOnce() -> String) {
        if self.verbose {
            println!("{}", line());
            return;
        }
        let every = if self.tty { Duration::from_millis(200) } else { Duration::from_secs(5) };
        if self.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        let _ = match self.tty {
            true => write!(err, "\r\x1b[2K{}", line()),
            false => writeln!(err, "{}", line()),
        };
    }

    /// Shows the final count: ends the redrawn line, or prints it once more in plain mode.
    fn finish(&mut self, line: impl FnOnce() -> String) {
        match (self.verbose, self.tty) {
            (true, _) => {}
            (false, true) => eprintln!("\r\x1b[2K{}", line()),
            (false, false) => eprintln!("{}", line()),
        }
    }
}
