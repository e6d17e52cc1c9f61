//! `streamperf demo`: the built-in mock in-process on a free loopback port, a short benchmark
//! against it and the full report. The first command a new user runs: no setup, no API key.

use std::time::Duration;

use crate::cli::DemoArgs;
use crate::i18n::Lang;
use crate::measure::protocol::Protocol;
use crate::mock::{self, MockOptions, MockServer};
use crate::plan::config::{Config, HistorySettings};
use crate::run::{self, RunOutput};

/// The mock's timing in the demo: an LLM-like stream that finishes in well under a second.
fn demo_mock(reasoning_tokens: u64) -> MockOptions {
    MockOptions {
        port: 0,
        ttft_ms: 150,
        itl_ms: 10,
        tokens: 32,
        reasoning_tokens,
        jitter_ms: 5,
        ..MockOptions::default()
    }
}

/// The protocol `--format` names; `generic` and framings are not mock formats.
fn demo_protocol(name: &str) -> anyhow::Result<Protocol> {
    match Protocol::from_name(name.trim().to_ascii_lowercase().as_str()) {
        Some(Protocol::Generic) | None => {
            let names: Vec<&str> = Protocol::ALL
                .iter()
                .filter(|p| **p != Protocol::Generic)
                .map(|p| p.name())
                .collect();
            anyhow::bail!("`demo --format {name}`: use one of {}", names.join(", "))
        }
        Some(protocol) => Ok(protocol),
    }
}

/// Runs the demo and prints its report.
pub async fn run(args: &DemoArgs) -> anyhow::Result<RunOutput> {
    let protocol = demo_protocol(&args.format)?;
    let options = demo_mock(args.reasoning_tokens);
    let mock = MockServer::start(options.clone()).await?;
    let lang = args.lang.unwrap_or_else(crate::i18n::detect_lang);
    let o = &options;
    let reasoning = match (lang, o.reasoning_tokens) {
        (_, 0) => String::new(),
        (Lang::En, n) => format!(" after {n} reasoning tokens"),
        (Lang::Zh, n) => format!(",其前 {n} 个推理 token"),
    };
    let (addr, name) = (mock.addr, protocol.name());
    let (ttft, itl, tokens, jitter) = (o.ttft_ms, o.itl_ms, o.tokens, o.jitter_ms);
    let intro = match lang {
        Lang::En => format!(
            "demo: built-in mock at http://{addr} speaking {name} (TTFT {ttft} ms, ITL {itl} ms, \
             {tokens} tokens{reasoning}, jitter ≤{jitter} ms)"
        ),
        Lang::Zh => format!(
            "演示:内置模拟服务 http://{addr}({name} 格式,首 token {ttft} ms,token 间隔 {itl} ms,\
             {tokens} 个 token{reasoning},抖动 ≤{jitter} ms)"
        ),
    };
    crate::outln!("{intro}");
    let config = Config {
        body: Some(mock::request_body_for(protocol)),
        timeout: Duration::from_secs(30),
        concurrency: args.concurrency,
        total_requests: Some(args.requests),
        output: args.output.clone(),
        write_result: args.output.is_some(),
        lang,
        quiet: !args.verbose,
        // A demo measures the mock, not an API: stored only when `--db` asks.
        history: match &args.db {
            Some(db) => HistorySettings::at(db.clone()),
            None => HistorySettings::off(),
        },
        ..Config::new(mock.url(mock::path_for(protocol)))
    };
    run::execute(&config).await
}
