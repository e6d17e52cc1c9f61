use std::process::ExitCode;

use clap::Parser;
use streamperf::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("streamperf: error: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(streamperf::main(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("streamperf: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
