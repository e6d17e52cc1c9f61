//! `streamperf merge SHARD.json|DIR|PATTERN… [-o merged.json] [--allow-partial]`: the shards'
//! results (or records files) of a `--shard` run merged into the whole run's result, written
//! (never overwriting) and reported.

use std::path::Path;

use crate::cli::MergeArgs;
use crate::i18n::{Lang, detect_lang};
use crate::outln;
use crate::output::merge::{self, inputs};
use crate::output::report::{self, ReportInfo, json};

/// The merged result's default file name.
const DEFAULT_MERGED: &str = "merged.json";

/// Reads every result, merges them, writes the merged result and prints its report.
pub fn run(args: &MergeArgs) -> anyhow::Result<()> {
    let target = args.output.as_deref().unwrap_or(Path::new(DEFAULT_MERGED));
    let files = inputs::expand(&args.results, target)?;
    let mut results = Vec::with_capacity(files.len());
    for path in files {
        let result = inputs::read_input(&path)?;
        results.push((path, result));
    }
    let merged = merge::merge(results, args.allow_partial)?;
    let written = json::write_result(&merged, Some(target))?;
    let lang = args.lang.unwrap_or_else(|| match merged.config["lang"].as_str() {
        Some("zh") => Lang::Zh,
        Some("en") => Lang::En,
        _ => detect_lang(),
    });
    let info = ReportInfo {
        url: merged.config["url"].as_str().unwrap_or_default().to_owned(),
        detected_format: merged.config["detected_format"].as_str().map(str::to_owned),
        result_path: Some(written),
    };
    outln!("{}", report::render(&merged, lang, &info));
    Ok(())
}
