//! `compare` as text (a table, then the significance lines) and as Markdown.

use super::{Comparison, Direction, MetricRow, Significance};
use crate::i18n::Lang;
use crate::output::history::table;

struct Words {
    metric: &'static str,
    change: &'static str,
    better: &'static str,
    worse: &'static str,
    same: &'static str,
    significant: &'static str,
    not_significant: &'static str,
    too_small: &'static str,
    p_too_high: &'static str,
    no_samples: &'static str,
}

const EN: Words = Words {
    metric: "metric",
    change: "change",
    better: "better",
    worse: "worse",
    same: "same",
    significant: "SIGNIFICANT",
    not_significant: "not significant",
    too_small: "median change below the minimum effect",
    p_too_high: "p ≥ α",
    no_samples: "not tested: a run has no successful request",
};

const ZH: Words = Words {
    metric: "指标",
    change: "变化",
    better: "更好",
    worse: "更差",
    same: "持平",
    significant: "显著",
    not_significant: "不显著",
    too_small: "中位数变化小于最小效应",
    p_too_high: "p ≥ α",
    no_samples: "未检验:有一次运行没有成功的请求",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

/// The terminal form.
pub fn text(lang: Lang, c: &Comparison) -> String {
    let w = words(lang);
    let mut out = heading(lang, c);
    let header = vec![w.metric.to_string(), "A".into(), "B".into(), w.change.into(), String::new()];
    let rows: Vec<Vec<String>> = c
        .metrics
        .iter()
        .map(|r| vec![r.metric.clone(), value(r, r.a), value(r, r.b), change(r), hint(w, r)])
        .collect();
    out.push_str(&table::render(&header, &rows, &[false, true, true, true, false]));
    out.push('\n');
    out.push_str(&rule_line(lang, c));
    out.push('\n');
    for name in ["ttft", "e2e"] {
        match c.tests.iter().find(|t| t.metric == name) {
            Some(t) => out.push_str(&format!("  {}\n", test_line(lang, t, c))),
            None => out.push_str(&format!("  {name}: {}\n", w.no_samples)),
        }
    }
    out
}

/// The Markdown form (for PRs and chat).
pub fn markdown(lang: Lang, c: &Comparison) -> String {
    let w = words(lang);
    let mut out = format!("### {}", heading(lang, c).replace('\n', "  \n"));
    out.push_str(&format!("\n| {} | A | B | {} | |\n|---|--:|--:|--:|---|\n", w.metric, w.change));
    for r in &c.metrics {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.metric,
            value(r, r.a),
            value(r, r.b),
            change(r),
            hint(w, r)
        ));
    }
    out.push_str(&format!("\n{}\n\n", rule_line(lang, c)));
    for t in &c.tests {
        out.push_str(&format!("- {}\n", test_line(lang, t, c)));
    }
    out
}

fn heading(lang: Lang, c: &Comparison) -> String {
    let when = |t: &Option<String>| t.as_ref().map(|t| format!(" ({t})")).unwrap_or_default();
    let title = match lang {
        Lang::En => "compare",
        Lang::Zh => "对比",
    };
    format!("{title}\n  A: {}{}\n  B: {}{}\n", c.a, when(&c.a_time), c.b, when(&c.b_time))
}

fn rule_line(lang: Lang, c: &Comparison) -> String {
    let (alpha, effect) = (c.rule.alpha, c.rule.min_effect * 100.0);
    match lang {
        Lang::En => format!(
            "Significance ({}; successful non-warm-up requests): flagged when p < α = {alpha} \
             and the medians differ by ≥ {effect}%.",
            c.method
        ),
        Lang::Zh => format!(
            "显著性(Mann-Whitney U 检验,双侧,正态近似并做结校正;成功且非预热的请求):\
             p < α = {alpha} 且中位数相差 ≥ {effect}% 时标为显著。"
        ),
    }
}

fn test_line(lang: Lang, t: &Significance, c: &Comparison) -> String {
    let w = words(lang);
    let name = match t.metric.as_str() {
        "ttft" => "TTFT",
        _ => "e2e",
    };
    let change = t.median_change_pct.map_or("-".into(), |p| format!("{p:+.1}%"));
    let verdict = if t.significant {
        w.significant.to_string()
    } else if t.test.p >= c.rule.alpha {
        format!("{} ({})", w.not_significant, w.p_too_high)
    } else {
        format!("{} ({})", w.not_significant, w.too_small)
    };
    let median = match lang {
        Lang::En => "median",
        Lang::Zh => "中位数",
    };
    format!(
        "{name}: {median} {:.1} ms → {:.1} ms ({change}), n = {}/{}, U = {}, p = {} → {verdict}",
        t.median_a * 1e3,
        t.median_b * 1e3,
        t.test.n_a,
        t.test.n_b,
        t.test.u,
        p_value(t.test.p)
    )
}

fn p_value(p: f64) -> String {
    match p {
        p if p < 1e-4 => format!("{p:.1e}"),
        p => format!("{p:.4}"),
    }
}

fn value(r: &MetricRow, v: Option<f64>) -> String {
    let Some(v) = v else { return "-".into() };
    match r.unit {
        "s" => format!("{:.1} ms", v * 1e3),
        "%" => format!("{v:.2} %"),
        "" => format!("{v:.0}"),
        unit => format!("{v:.2} {unit}"),
    }
}

fn change(r: &MetricRow) -> String {
    match (r.change, r.unit) {
        (None, _) => "-".into(),
        (Some(c), "%") => format!("{c:+.2} pp"),
        (Some(c), _) => format!("{c:+.1}%"),
    }
}

fn hint(w: &Words, r: &MetricRow) -> String {
    match r.direction {
        Some(Direction::Better) => w.better.into(),
        Some(Direction::Worse) => w.worse.into(),
        Some(Direction::Same) => w.same.into(),
        None => String::new(),
    }
}
