use std::process::ExitCode;

use clap::Parser;
use streamperf::cli::Cli;
use streamperf::{errln, exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            errln!("streamperf: error: cannot start the async runtime: {err}");
            return ExitCode::from(exit::SETUP_ERROR);
        }
    };
    match runtime.block_on(streamperf::run_cli(cli)) {
        Ok(code) => code,
        Err(err) => {
            errln!("streamperf: error: {err:#}");
            ExitCode::from(exit::SETUP_ERROR)
        }
    }
}
