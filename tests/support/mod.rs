//! Helpers shared by the end-to-end tests: flags as a user passes them, and an in-process run.

use std::path::Path;

use streamperf::cli::RunArgs;
use streamperf::config::Config;
use streamperf::run::{self, RunOutput};

/// An OpenAI chat body that streams and asks for usage.
pub const CHAT_BODY: &str = r#"{"model":"mock","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#;

/// Flags as a user would pass them: `-u URL -n N -p P --body CHAT_BODY -q -o DIR/result.json
/// --no-history` (tests never write into the real data directory).
pub fn args(url: String, requests: u64, concurrency: u64, dir: &Path) -> RunArgs {
    RunArgs {
        url: Some(url),
        requests: Some(requests),
        concurrency: vec![concurrency],
        body: Some(CHAT_BODY.into()),
        output: Some(dir.join("result.json")),
        quiet: true,
        no_history: true,
        ..RunArgs::default()
    }
}

/// Resolves `args` as the CLI does and runs the load test in-process. Without `--db` the run
/// is not stored, so no test writes into the user's history database.
pub async fn run_args(args: &RunArgs) -> RunOutput {
    // The report is in the returned value; printed, it would bypass the harness's capture.
    streamperf::console::silence();
    let args = RunArgs { no_history: args.no_history || args.db.is_none(), ..args.clone() };
    let config = Config::resolve(&args).expect("valid flags");
    run::execute(&config).await.expect("run completes")
}
