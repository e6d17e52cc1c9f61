//! streamperf: a fast, truthful load tester for HTTP streaming APIs.
//!
//! Layers (DESIGN §6): [`cli`] flags → [`commands`] (one file a subcommand, the only readers
//! of the clap types besides `config`) → [`config`] (validated [`config::Config`]) →
//! [`workload`] (rendered requests) → [`engine`] (closed-loop load, sending, timing) →
//! [`stream`] (framing) → [`protocol`] (adapters) → [`record`] (per-request metrics) →
//! [`metrics`] (HDR summary) → [`report`] (terminal, JSON). [`run`] ties them together for one
//! load test; [`mock`] is the built-in server used by [`commands::demo`] and the tests.
//! [`history`] stores every run in a local SQLite database; [`compare`] sets two runs side by
//! side with a significance test. Everything printed goes through [`console`], which never
//! panics on a closed pipe.

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
