//! A distributed run's shards: a shard's own result says which it was and how far from
//! `--start-at` it started; a merged result lists its shards side by side, with each one's
//! start skew and client self-check (one limited shard makes the whole run client-bound).

use super::page::{Report, columns};
use crate::output::report::RunResult;

/// The shards section, for a shard's result or a merged one; nothing for other runs.
pub(super) fn shards(out: &mut Report, result: &RunResult) {
    let w = out.w;
    let shard = &result.config["shard"];
    if let (Some(index), Some(count)) = (shard["index"].as_u64(), shard["count"].as_u64()) {
        out.section(w.shards);
        out.row(w.shard, format!("{index}/{count}"));
        if let Some(skew) = result.run.start_skew {
            out.row(w.start_skew, skew_ms(skew));
        }
    }
    if result.shards.is_empty() {
        return;
    }
    out.section(w.shards);
    let header = columns([
        w.shard.to_owned(),
        w.requests_column.to_owned(),
        "TTFT P50".into(),
        "TTFT P99".into(),
        "tokens/s".into(),
        w.start_skew.to_owned(),
        w.client_column.to_owned(),
    ]);
    out.line(&format!("  {header}"));
    for s in &result.shards {
        let secs = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}s"));
        let client = match &s.client {
            Some(c) if c.client_bound => w.client_limited,
            Some(_) => w.client_fine,
            None => "-",
        };
        let row = columns([
            s.index.map_or("-".into(), |n| n.to_string()),
            format!("{}/{}", s.success_count, s.total_requests),
            secs(s.ttft_p50),
            secs(s.ttft_p99),
            format!("{:.1}", s.output_token_throughput),
            s.start_skew.map_or("-".into(), skew_ms),
            client.to_owned(),
        ]);
        out.line(&format!("  {row}"));
    }
}

/// `+12.3ms` (late) or `-0.4ms` (early).
fn skew_ms(skew: f64) -> String {
    format!("{:+.1}ms", skew * 1000.0)
}
