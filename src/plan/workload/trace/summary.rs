//! What a trace will do, in numbers, printed before its replay starts: one look tells whether
//! the window and speed-up asked for make the load meant (a rate, a mix of lengths, how much
//! of the prompts a prefix cache could reuse).

use std::collections::HashSet;
use std::time::Duration;

use super::{Trace, TraceFormat, TraceRow};
use crate::i18n::Lang;

/// A trace's requests, span, rate, lengths and block reuse.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSummary {
    /// Requests.
    pub rows: u64,
    /// From the first request to the last.
    pub span: Duration,
    /// Requests per second over the span; 0 when the span is 0 (one request, say).
    pub rate: f64,
    /// Prompt lengths of the rows that give one: mean, P50, P99 (nearest rank).
    pub input: Option<(f64, u64, u64)>,
    /// Answer lengths of the rows that give one: mean, P50, P99 (nearest rank).
    pub output: Option<(f64, u64, u64)>,
    /// Mooncake: the share (0 to 1) of hash-id occurrences whose id appeared in an earlier
    /// request, the most a prefix cache of unlimited size could reuse. `None` in the other
    /// formats and when no row has ids.
    pub block_reuse: Option<f64>,
}

impl TraceSummary {
    /// The numbers of `trace` as it stands (after any window and speed-up).
    pub(super) fn of(trace: &Trace) -> TraceSummary {
        let rows = trace.rows();
        let span = rows.last().map_or(Duration::ZERO, |last| last.at - rows[0].at);
        let seconds = span.as_secs_f64();
        let rate = if seconds > 0.0 { rows.len() as f64 / seconds } else { 0.0 };
        let block_reuse = match trace.format() {
            TraceFormat::Mooncake => block_reuse(rows),
            _ => None,
        };
        TraceSummary {
            rows: rows.len() as u64,
            span,
            rate,
            input: lengths(rows.iter().filter_map(|r| r.input_tokens)),
            output: lengths(rows.iter().filter_map(|r| r.output_tokens)),
            block_reuse,
        }
    }

    /// The summary for the console: requests, span and rate, then (on a second line, when the
    /// trace gives any) the lengths and block reuse.
    pub fn line(&self, lang: Lang) -> String {
        let zh = lang == Lang::Zh;
        let span = number(self.span.as_secs_f64(), 1);
        let requests = number(self.rows as f64, 0);
        let mut line = match (zh, self.rows) {
            (true, _) => format!("回放轨迹:{requests} 个请求,历时 {span} 秒"),
            (false, 1) => format!("trace: 1 request over {span} s"),
            (false, _) => format!("trace: {requests} requests over {span} s"),
        };
        if self.rate > 0.0 {
            let rate = number(self.rate, 1);
            line += &if zh { format!("({rate} 请求/秒)") } else { format!(" ({rate} req/s)") };
        }
        let mut details = Vec::new();
        let names = if zh { ["输入", "输出"] } else { ["input", "output"] };
        for (name, stats) in names.into_iter().zip([self.input, self.output]) {
            if let Some((mean, p50, p99)) = stats {
                let (mean, p50, p99) =
                    (number(mean, 0), number(p50 as f64, 0), number(p99 as f64, 0));
                details.push(match zh {
                    true => format!("{name} token 平均 {mean} / P50 {p50} / P99 {p99}"),
                    false => format!("{name} mean {mean} / P50 {p50} / P99 {p99} tokens"),
                });
            }
        }
        if let Some(share) = self.block_reuse {
            let share = number(share * 100.0, 1);
            details.push(if zh {
                format!("块复用率 {share}%")
            } else {
                format!("block reuse {share} %")
            });
        }
        if !details.is_empty() {
            line += "\n  ";
            line += &details.join(if zh { ";" } else { "; " });
        }
        line
    }
}

/// Mean, P50 and P99 (nearest rank) of `values`; `None` for none.
fn lengths(values: impl Iterator<Item = u64>) -> Option<(f64, u64, u64)> {
    let mut sorted: Vec<u64> = values.collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_unstable();
    let mean = sorted.iter().map(|&v| v as f64).sum::<f64>() / sorted.len() as f64;
    let rank = |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).max(1) - 1];
    Some((mean, rank(0.50), rank(0.99)))
}

/// The share of hash-id occurrences whose id an earlier row had; `None` when no row has ids.
fn block_reuse(rows: &[TraceRow]) -> Option<f64> {
    let (mut seen, mut occurrences, mut reused) = (HashSet::new(), 0u64, 0u64);
    for row in rows {
        occurrences += row.hash_ids.len() as u64;
        reused += row.hash_ids.iter().filter(|id| seen.contains(*id)).count() as u64;
        seen.extend(row.hash_ids.iter().copied());
    }
    (occurrences > 0).then(|| reused as f64 / occurrences as f64)
}

/// `value` with `decimals` places and its whole part grouped by thousands: `2,048`, `16.7`.
fn number(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let (sign, text) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = text.split_once('.').map_or((text, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::with_capacity(text.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(fraction) => format!("{sign}{grouped}.{fraction}"),
        None => format!("{sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(number(1000.0, 0), "1,000");
        assert_eq!(number(2048.0, 0), "2,048");
        assert_eq!(number(16.666, 1), "16.7");
        assert_eq!(number(1234567.25, 1), "1,234,567.2");
        assert_eq!(number(999.96, 1), "1,000.0");
        assert_eq!(number(0.0, 1), "0.0");
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(lengths([4, 1, 3, 2].into_iter()), Some((2.5, 2, 4)));
        assert_eq!(lengths((1..=100).rev()), Some((50.5, 50, 99)));
        assert_eq!(lengths([7].into_iter()), Some((7.0, 7, 7)));
        assert_eq!(lengths(std::iter::empty()), None);
    }
}
