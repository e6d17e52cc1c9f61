//! The `history` table: the most recent runs, oldest first, so the newest ends up next to the
//! prompt (the command is in `commands/history.rs`).

use super::RunRow;
use super::table;
use crate::i18n::Lang;

/// The table, with a line naming the database (or saying it holds no such run).
pub fn render(lang: Lang, rows: &[RunRow], db: &str) -> String {
    if rows.is_empty() {
        return match lang {
            Lang::En => format!("no runs in {db}\n"),
            Lang::Zh => format!("{db} 中没有运行记录\n"),
        };
    }
    let header: Vec<String> = match lang {
        Lang::En => ["run", "time", "label", "target", "ok/total", "TTFT p50", "TTFT p99"]
            .iter()
            .chain(&["e2e p50", "req/s", "tok/s", "SLOs"])
            .map(|s| s.to_string())
            .collect(),
        Lang::Zh => ["运行", "时间", "标签", "目标", "成功/总数", "首 token P50", "首 token P99"]
            .iter()
            .chain(&["端到端 P50", "请求/秒", "token/秒", "SLO"])
            .map(|s| s.to_string())
            .collect(),
    };
    let cells: Vec<Vec<String>> = rows.iter().map(|r| row(lang, r)).collect();
    let right = [true, false, false, false, true, true, true, true, true, true, false];
    let mut footer = match lang {
        Lang::En => format!("{} runs from {db}, newest last\n", rows.len()),
        Lang::Zh => format!("{db} 中的 {} 次运行,最新的在最后\n", rows.len()),
    };
    if rows.iter().any(|r| r.interrupted) {
        footer += match lang {
            Lang::En => "! interrupted (Ctrl-C): the requests finished before the stop\n",
            Lang::Zh => "! 被中断(Ctrl-C):只含中断前完成的请求\n",
        };
    }
    table::render(&header, &cells, &right) + &footer
}

fn row(lang: Lang, r: &RunRow) -> Vec<String> {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |s| format!("{:.1} ms", s * 1e3));
    let mut label = r.label.clone().unwrap_or_else(|| "-".into());
    if !r.tags.is_empty() {
        let tags: Vec<String> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        label = format!("{label} [{}]", tags.join(","));
    }
    let slos = match (r.slos_passed, r.slos_failed, lang) {
        (0, 0, _) => "-".to_string(),
        (p, 0, Lang::En) => format!("{p} pass"),
        (p, 0, Lang::Zh) => format!("{p} 通过"),
        (_, f, Lang::En) => format!("{f} FAIL"),
        (_, f, Lang::Zh) => format!("{f} 未达标"),
    };
    vec![
        format!("#{}", r.id),
        local_time(&r.created_at),
        table::cut(&label, 24),
        table::cut(&target(r), 40),
        format!(
            "{}/{}{}",
            r.success_count,
            r.total_requests,
            if r.interrupted { " !" } else { "" }
        ),
        ms(r.ttft_p50),
        ms(r.ttft_p99),
        ms(r.e2e_p50),
        format!("{:.2}", r.throughput),
        format!("{:.1}", r.output_token_throughput),
        slos,
    ]
}

/// `model @ host/path`: the model when the body named one, and the URL without its scheme or
/// query.
fn target(r: &RunRow) -> String {
    let url = r.url.split_once("://").map_or(r.url.as_str(), |(_, rest)| rest);
    let url = url.split(['?', '#']).next().unwrap_or(url);
    match &r.model {
        Some(model) => format!("{model} @ {url}"),
        None => url.to_string(),
    }
}

/// A stored UTC time (`2026-11-28T01:02:03Z`) as local `2026-11-28 02:02:03`; as stored when
/// it does not parse.
pub(crate) fn local_time(utc: &str) -> String {
    utc.parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| utc.to_string())
}
