//! A merged run's shards side by side: a column a shard, a row a figure, so an uneven shard (a
//! late start, a limited client, a slower TTFT) stands out against the others.

use std::fmt::Write as _;

use super::words::Words;
use super::{Html, duration};
use crate::output::export::chart::escape;
use crate::output::report::{RunResult, ShardRun};

/// A row of the table: its label, and a shard's value (given the merged run's start).
type Row<'a> = (&'a str, fn(&ShardRun, f64) -> String);

/// The shards table; nothing for a result that is not a merge.
pub(super) fn shards(result: &RunResult, w: &Words) -> String {
    if result.shards.is_empty() {
        return String::new();
    }
    let start = result.run.started_unix.unwrap_or_default();
    let rows: [Row; 8] = [
        (w.requests, |s, _| s.total_requests.to_string()),
        (w.succeeded, |s, _| s.success_count.to_string()),
        ("TTFT P50", |s, _| s.ttft_p50.map_or("—".into(), duration)),
        ("TTFT P99", |s, _| s.ttft_p99.map_or("—".into(), duration)),
        (w.token_throughput, |s, _| format!("{:.1}", s.output_token_throughput)),
        (w.started_at, |s, start| {
            s.started_unix.map_or("—".into(), |t| format!("+{}", duration(t - start)))
        }),
        (w.start_skew, |s, _| {
            s.start_skew.map_or("—".into(), |k| format!("{:+.1} ms", k * 1000.0))
        }),
        (w.client, |s, _| match &s.client {
            Some(c) => format!(
                "{} · {:.1} ms · {:.0} %",
                if c.client_bound { "CLIENT-BOUND" } else { "OK" },
                c.scheduling_lag_p99_ms,
                c.cpu_share * 100.0
            ),
            None => "—".into(),
        }),
    ];
    let mut table = format!(
        "<div class=\"panel\"><table class=\"numbers\"><thead><tr><th>{}</th>",
        escape(w.shard)
    );
    for (i, shard) in result.shards.iter().enumerate() {
        let name = shard.index.map_or(format!("({})", i + 1), |n| n.to_string());
        let _ = write!(table, "<th title=\"{}\">{}</th>", escape(&shard.file), escape(&name));
    }
    table += "</tr></thead><tbody>";
    for (label, value) in rows {
        let _ = write!(table, "<tr><td>{}</td>", escape(label));
        for shard in &result.shards {
            let _ = write!(table, "<td>{}</td>", escape(&value(shard, start)));
        }
        table += "</tr>";
    }
    let mut html = Html::section(w.shards);
    html.push(&(table + "</tbody></table></div>"));
    html.note(w.shards_note);
    html.end()
}
