//! `streamperf run` (and `streamperf` with no subcommand): one load test from flags and the
//! config file.

mod built;
mod history;
mod load;
mod resolve;

use std::process::ExitCode;

use crate::cli::RunArgs;
use crate::plan::config::Config;

/// Resolves the flags into a [`Config`], measures and reports. `Err` is a usage or setup error:
/// nothing was sent.
pub async fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let config = Config::resolve(args)?;
    // A completed run exits 0 even when requests failed (the report says which), 3 when an
    // SLO failed, 4 when an output could not be written, so cron and CI can alert.
    Ok(crate::run::execute(&config).await?.exit_code())
}
