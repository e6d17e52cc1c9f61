//! streamperf: a fast, truthful load tester for HTTP streaming APIs.
//!
//! The crate is one pipeline, its dependencies running one way, top to bottom (ARCHITECTURE.md
//! draws it, with the way of one request through the code):
//!
//! - [`cli`] flags → [`commands`]: one file a subcommand, the only readers of the clap types
//!   besides `config`.
//! - The plan: [`config`] (a validated [`config::Config`]), [`workload`] (the rendered
//!   requests), [`load`] (open-loop schedules).
//! - The measuring core, which takes plain values: [`engine`] (workers, connections, sending,
//!   timing), [`stream`] (framing), [`protocol`] (adapters), [`record`] (one request's
//!   metrics), [`tokens`], [`selfcheck`].
//! - Analysis: [`metrics`] (HDR summaries), [`slo`], [`timeseries`], [`compare`].
//! - Outputs: [`report`] (the result file and the terminal report), [`export`], [`live`],
//!   [`history`]; [`run`] ties one load test together.
//! - Beside them: [`mock`], the built-in server the demo and the tests measure against; leaves:
//!   [`i18n`], [`console`] (printing that never panics on a closed pipe), [`redact`],
//!   [`limits`].

#![warn(missing_docs)]
// A closed stdout or stderr must not panic: print with `outln!`/`errln!` ([`console`]).
#![cfg_attr(not(test), warn(clippy::print_stdout, clippy::print_stderr))]

pub mod cli;
pub mod commands;
pub mod compare;
pub mod config;
pub mod console;
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

/// Exit codes (README, "Commands and flags"). When an SLO failed and an output could not be
/// written, [`exit::SLO_FAILED`] wins: the verdict on the service is what CI acts on, and the
/// unwritten outputs are named on stderr either way.
pub mod exit {
    /// A usage, config or setup error: nothing was sent.
    pub const SETUP_ERROR: u8 = 2;
    /// The run was measured and an `--slo` failed.
    pub const SLO_FAILED: u8 = 3;
    /// The run was measured and reported, but an output (result file, export, `--prometheus`)
    /// could not be written.
    pub const OUTPUT_NOT_WRITTEN: u8 = 4;
}

/// Runs the command `cli` names (the binary's whole job). `Err` is a usage or setup error:
/// nothing was measured.
pub async fn run_cli(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => commands::run::run(&cli.run).await,
        Some(Command::Run(args)) => commands::run::run(&args).await,
        Some(Command::Mock(options)) => {
            commands::mock::run(options).await.map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Demo(args)) => commands::demo::run(&args).await.map(|out| out.exit_code()),
        Some(Command::Report(args)) => commands::report::run(&args).map(|()| ExitCode::SUCCESS),
        Some(Command::History(args)) => commands::history::run(&args).map(|()| ExitCode::SUCCESS),
        Some(Command::Compare(args)) => commands::compare::run(&args).map(|()| ExitCode::SUCCESS),
    }
}
