//! `streamperf compare RUN_A RUN_B [--db PATH] [--format text|json|md] [--alpha 0.05]
//! [--min-effect 5%]`: two runs (history ids, labels or result files) side by side.

use crate::cli::CompareArgs;
use crate::i18n::detect_lang;
use crate::output::compare::{self, Rule, render};

/// Runs `compare`: the table and the significance lines (or JSON, or Markdown).
pub fn run(args: &CompareArgs) -> anyhow::Result<()> {
    let rule = Rule::parse(args.alpha, &args.min_effect)?;
    let format = args.format.trim().to_ascii_lowercase();
    if !matches!(format.as_str(), "text" | "json" | "md" | "markdown") {
        anyhow::bail!("`compare --format {}`: use text, json or md", args.format);
    }
    let mut history = None;
    let a = compare::resolve(&args.a, args.db.as_deref(), &mut history)?;
    let b = compare::resolve(&args.b, args.db.as_deref(), &mut history)?;
    let comparison = compare::compare(&a, &b, rule);
    let lang = args.lang.unwrap_or_else(detect_lang);
    let text = match format.as_str() {
        "json" => format!("{}\n", serde_json::to_string_pretty(&comparison)?),
        "md" | "markdown" => render::markdown(lang, &comparison),
        _ => render::text(lang, &comparison),
    };
    crate::out!("{text}");
    Ok(())
}
