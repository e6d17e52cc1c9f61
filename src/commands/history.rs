//! `streamperf history [--db PATH] [--label X] [--last 20] [--format text|json]`: the most
//! recent stored runs, oldest first, so the newest ends up next to the prompt.

use crate::cli::HistoryArgs;
use crate::i18n::detect_lang;
use crate::output::history::{self, History};

/// Runs `history`: the runs as a table (or JSON).
pub fn run(args: &HistoryArgs) -> anyhow::Result<()> {
    let db = history::db_for_command(args.db.as_deref())?;
    let history = History::open_existing(&db)?;
    let rows = history.list(args.label.as_deref(), args.last)?;
    let lang = args.lang.unwrap_or_else(detect_lang);
    match args.format.trim().to_ascii_lowercase().as_str() {
        "text" | "terminal" => {
            crate::out!("{}", history::list::render(lang, &rows, &db.display().to_string()))
        }
        "json" => crate::outln!("{}", serde_json::to_string_pretty(&rows)?),
        other => anyhow::bail!("`history --format {other}`: use text or json"),
    }
    Ok(())
}
