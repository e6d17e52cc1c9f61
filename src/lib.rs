//! streamperf: a fast, truthful load tester for HTTP streaming APIs.
//!
//! The crate is one pipeline, and its folders are its layers, each importing only those below
//! it (ARCHITECTURE.md draws them, with the way of one request through the code):
//!
//! ```text
//! cli/          the clap types of every subcommand
//! commands/     one file a subcommand: the only code that reads the clap types
//! run/          one load test end to end: plan → measure → analyse → output
//! plan/         config/ (a validated Config), workload/ (the requests), schedule/ (arrivals)
//! measure/      engine/, stream/, protocol/, record/, tokens, selfcheck: plain values in,
//!               one RequestRecord per request out
//! analyse/      metrics/ (HDR summaries), timeseries, slo
//! output/       report/ (result file, terminal), export/, live/, history/, compare/
//! mock/         the built-in server the demo and the tests measure against (beside the rest)
//! leaves        i18n, console (printing that never panics), redact, limits
//! ```
//!
//! [`cli`] → [`commands`] → [`run`] → [`plan`] → [`output`] → [`analyse`] → [`measure`]: the
//! plan names the outputs a run writes, the outputs render the analysis, and the analysis reads
//! the records the measuring core made. [`mock`], [`i18n`], [`console`], [`redact`] and
//! [`limits`] stand beside them.

#![warn(missing_docs)]
// A closed stdout or stderr must not panic: print with `outln!`/`errln!` ([`console`]).
#![cfg_attr(not(test), warn(clippy::print_stdout, clippy::print_stderr))]

pub mod analyse;
pub mod cli;
pub mod commands;
pub mod console;
// The fuzz targets (`fuzz/`, `tests/fuzz_props.rs`): a test harness, not part of the API.
#[doc(hidden)]
pub mod fuzzing;
pub mod i18n;
pub mod limits;
pub mod measure;
pub mod mock;
pub mod output;
pub mod plan;
pub mod redact;
pub mod run;

// The flat paths of the first releases (`streamperf::engine`, `streamperf::config`, …), which
// the integration tests and library users name. Code inside the crate uses the layer paths.
pub use analyse::{metrics, slo, timeseries};
pub use measure::{engine, protocol, record, selfcheck, stream, tokens};
pub use output::{compare, export, history, live, records, report};
pub use plan::{config, workload};

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
        Some(Command::Merge(args)) => commands::merge::run(&args).map(|()| ExitCode::SUCCESS),
    }
}
