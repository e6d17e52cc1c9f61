//! streamperf: a fast, truthful load tester for HTTP streaming APIs.
//!
//! Layers (DESIGN §6): [`cli`] flags → [`config`] (validated [`config::Config`]) → [`workload`]
//! (rendered requests) → [`engine`] (closed-loop load, sending, timing) → [`stream`] (framing)
//! → [`protocol`] (adapters) → [`record`] (per-request metrics) → [`metrics`] (HDR summary) →
//! [`report`] (terminal, JSON). [`run`] ties them together for one load test; [`mock`] is the
//! built-in server used by [`demo`] and the tests.
//! [`history`] stores every run in a local SQLite database; [`compare`] sets two runs side by
//! side with a significance test.

#![warn(missing_docs)]

pub mod cli;
pub mod compare;
pub mod config;
pub mod demo;
pub mod engine;
pub mod export;
pub mod history;
pub mod i18n;
pub mod limits;
pub mod live;
pub mod load;
pub mod metrics;
pub mod mock;
pub mod protocol;
pub mod record;
pub mod redact;
pub mod report;
pub mod run;
pub mod selfcheck;
pub mod slo;
pub mod stream;
pub mod timeseries;
pub mod tokens;
pub mod ui;
pub mod workload;

use std::process::ExitCode;

use cli::{Cli, Command};

/// Runs the command `cli` names. `Err` is a usage or setup error: nothing was measured.
pub async fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => run_command(&cli.run).await,
        Some(Command::Run(args)) => run_command(&args).await,
        Some(Command::Mock(options)) => {
            mock::run_mock_command(options).await.map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Demo(args)) => demo::run(&args).await.map(|_| ExitCode::SUCCESS),
        Some(Command::Report(args)) if args.trend => {
            history::trend::command(&args).map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Report(args)) => report::rerender(&args).map(|()| ExitCode::SUCCESS),
        Some(Command::History(args)) => history::history_command(&args).map(|()| ExitCode::SUCCESS),
        Some(Command::Compare(args)) => compare::command(&args).map(|()| ExitCode::SUCCESS),
    }
}

async fn run_command(args: &cli::RunArgs) -> anyhow::Result<ExitCode> {
    let config = config::Config::resolve(args)?;
    let output = run::execute(&config).await?;
    // A completed run exits 0 even when requests failed (the report says which), 3 when an
    // SLO failed, so cron and CI can alert.
    Ok(if output.slo_failed { ExitCode::from(3) } else { ExitCode::SUCCESS })
}
