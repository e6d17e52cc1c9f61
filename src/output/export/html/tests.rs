use std::time::Duration;

use super::*;
use crate::analyse::metrics::Aggregator;
use crate::analyse::slo::SloResult;
use crate::analyse::timeseries::Second;
use crate::measure::record::testing::{failed, ok};
use crate::measure::record::{ErrorClass, Failure};
use crate::measure::selfcheck::ClientHealth;
use crate::output::export::sample_result;
use crate::output::report::SweepOver;
use crate::output::report::{LevelResult, RunInfo};

const AT: &str = "2026-11-28T01:02:03+00:00";

/// The `<svg data-chart="ID" …>…</svg>` element of chart `id`.
fn chart<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let start = html.find(&format!("<svg data-chart=\"{id}\""))?;
    let end = start + html[start..].find("</svg>")?;
    Some(&html[start..end])
}

/// Elements drawing data in chart `id`.
fn data_elements(html: &str, id: &str) -> usize {
    chart(html, id).map_or(0, |svg| svg.matches("class=\"data").count())
}

/// `n` successful requests with spread-out timings, per-second series and ITL gaps.
fn big_result(n: u64) -> RunResult {
    let mut aggregator = Aggregator::new();
    let mut metrics = Vec::with_capacity(n as usize);
    for id in 0..n {
        let ttft = Duration::from_micros(150_000 + (id * 7919) % 200_000);
        let mut r = ok(id, ttft, ttft * 8, 50);
        r.ttfat = Some(ttft + Duration::from_millis(5));
        r.itl = (0..20).map(|k| Duration::from_micros(20_000 + (id + k) % 5_000)).collect();
        aggregator.add(&r);
        r.itl = Vec::new(); // as the run does: gaps are not kept per request
        metrics.push(r);
    }
    let timeseries = (0..3600)
        .map(|t| Second {
            t,
            started: 6,
            completed: 5,
            failed: 1,
            in_flight: 12,
            output_tokens: 250,
            ttft_p50: Some(0.2),
        })
        .collect();
    RunResult {
        config: serde_json::json!({"url": "http://127.0.0.1:1/v1/chat/completions", "concurrency": 12}),
        summary: aggregator.summary(Duration::from_secs(3600)),
        metrics,
        timeseries,
        ..RunResult::default()
    }
}

#[test]
fn every_chart_has_data_for_a_run_with_data() {
    let html = render(&big_result(500), Lang::En, AT);
    for id in [
        "ttft-histogram",
        "ttft-cdf",
        "ttfat-histogram",
        "ttfat-cdf",
        "e2e-histogram",
        "e2e-cdf",
        "itl-histogram",
        "itl-cdf",
        "requests-over-time",
        "tokens-over-time",
        "ttft-over-time",
    ] {
        assert!(data_elements(&html, id) > 0, "{id}: {:?}", chart(&html, id));
    }
    assert!(chart(&html, "sweep").is_none(), "no sweep chart without levels");
    let bars = chart(&html, "ttft-histogram").unwrap().matches("class=\"data bar\"").count();
    assert!((8..=60).contains(&bars), "{bars} bars");
}

#[test]
fn charts_without_data_show_the_empty_state_in_the_language() {
    let result =
        RunResult { config: serde_json::json!({"url": "http://x"}), ..RunResult::default() };
    let en = render(&result, Lang::En, AT);
    assert!(chart(&en, "ttft-histogram").unwrap().contains("data-empty=\"true\""));
    assert!(chart(&en, "requests-over-time").unwrap().contains(">No data</text>"));
    let zh = render(&result, Lang::Zh, AT);
    assert!(chart(&zh, "itl-cdf").unwrap().contains(">无数据</text>"));
    assert_eq!(data_elements(&zh, "itl-histogram"), 0);
}

#[test]
fn text_from_the_result_is_escaped() {
    let mut result = sample_result();
    let script = "<script>alert('x')</script>";
    result.config["url"] = format!("http://h/{script}").into();
    result.config["body"]["model"] = script.into();
    let bad = failed(3, Failure::new(ErrorClass::HttpStatus, format!("HTTP 500: {script}")));
    let mut aggregator = Aggregator::new();
    aggregator.add(&result.metrics[0]);
    aggregator.add(&result.metrics[1]);
    aggregator.add(&bad);
    result.summary = aggregator.summary(Duration::from_secs(2));
    result.slos = vec![SloResult {
        slo: format!("ttft.p95<{script}"),
        measured: None,
        unit: "s".into(),
        pass: false,
    }];
    let html = render(&result, Lang::En, AT);
    assert!(!html.contains("<script"), "no raw tag anywhere");
    assert!(html.contains("http://h/&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("HTTP 500: &lt;script&gt;"), "the error example, escaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;"), "the config");
}

#[test]
fn chinese_labels() {
    let html = render(&sample_result(), Lang::Zh, AT);
    for word in [
        "压测报告",
        "成功率",
        "首Token时间",
        "延迟分布",
        "直方图",
        "随时间变化",
        "按类别统计的失败",
        "配置(已隐去密钥)",
        "生成于",
    ] {
        assert!(html.contains(word), "{word}");
    }
    for english in ["Success rate", "Latency distributions", "Failures by class", "No data"] {
        assert!(!html.contains(english), "{english} is not translated");
    }
}

#[test]
fn only_the_generation_line_differs_between_renderings() {
    let result = sample_result();
    let a = render(&result, Lang::En, AT);
    let b = render(&result, Lang::En, "2030-01-01T00:00:00+08:00");
    let differing: Vec<(&str, &str)> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
    assert_eq!(differing.len(), 1, "{differing:?}");
    assert!(differing[0].0.starts_with(&format!("<footer {GENERATED_MARKER}")));
    assert_eq!(a.lines().count(), b.lines().count());
    assert_eq!(a, render(&result, Lang::En, AT));
}

#[test]
fn the_page_is_self_contained() {
    let html = render(&big_result(50), Lang::En, AT);
    for external in ["<script", "<link", "<img", "<iframe", "url(", "@import", "src="] {
        assert!(!html.contains(external), "{external}");
    }
    // The only URLs are the SVG namespace and the tested endpoint, as text.
    let urls: Vec<&str> = html.match_indices("http").map(|(i, _)| &html[i..i + 20]).collect();
    assert!(
        urls.iter()
            .all(|u| u.starts_with("http://www.w3.org/2") || u.starts_with("http://127.0.0.1")),
        "{urls:?}"
    );
}

#[test]
fn a_sweep_gets_its_chart_with_the_knee() {
    let mut result = sample_result();
    let summary = |throughput: f64, p99: f64| {
        let mut s = result.summary.clone();
        s.throughput = throughput;
        s.failed_count = 0;
        s.ttft.as_mut().unwrap().p99 = p99;
        s
    };
    let levels = [(1.0, 1.0, 0.2), (2.0, 1.9, 0.21), (4.0, 3.8, 0.25), (8.0, 3.9, 0.9)];
    result.levels = levels
        .iter()
        .map(|&(p, tput, p99)| {
            LevelResult::new(
                SweepOver::Concurrency,
                p,
                &summary(tput, p99),
                &RunInfo::default(),
                &None,
                &[],
            )
        })
        .collect();
    let html = render(&result, Lang::En, AT);
    let svg = chart(&html, "sweep").expect("a sweep chart");
    assert_eq!(svg.matches("class=\"data dot\"").count(), 4);
    assert!(svg.contains(">p=8</text>") && svg.contains(">knee p=4</text>"), "{svg}");
    assert!(html.contains("<td>p=2</td><td>1.90</td>"), "the levels table");
    assert!(!html.contains("<th>Goodput</th>"), "no goodput column without SLOs");
    result.levels[1].summary.goodput = Some(1.5);
    let html = render(&result, Lang::En, AT);
    assert!(html.contains("<th>Goodput</th>"), "a goodput column with SLOs");
    assert!(html.contains("<td>1.50</td></tr>") && html.contains("<td>—</td></tr>"), "{html}");
}

#[test]
fn warnings_slos_and_run_facts_are_shown() {
    let mut result = sample_result();
    result.client = Some(ClientHealth {
        client_bound: true,
        reasons: vec!["scheduling lag p99 25.0 ms > 10 ms".into()],
        ..ClientHealth::default()
    });
    result.slos = vec![
        SloResult {
            slo: "ttft.p95<800ms".into(),
            measured: Some(0.12),
            unit: "s".into(),
            pass: true,
        },
        SloResult {
            slo: "error_rate<1%".into(),
            measured: Some(50.0),
            unit: "%".into(),
            pass: false,
        },
    ];
    result.summary.goodput = Some(0.5);
    result.run = RunInfo {
        load_model: "closed".into(),
        stop_reason: Some(crate::measure::engine::StopReason::Duration),
        ..RunInfo::default()
    };
    let html = render(&result, Lang::En, AT);
    assert!(
        html.contains("id=\"client-bound\"")
            && html.contains("CLIENT-BOUND")
            && html.contains("scheduling lag p99 25.0 ms")
    );
    assert!(
        html.contains(
            "<code>ttft.p95&lt;800ms</code> 120 ms <span class=\"verdict pass\">pass</span>"
        ),
        "{html}"
    );
    assert!(html.contains(
        "<code>error_rate&lt;1%</code> 50.00 % <span class=\"verdict fail\">fail</span>"
    ));
    assert!(html.contains(">Goodput</div><div class=\"value\">0.50 req/s"));
    assert!(html.contains("<dd>the duration passed</dd>"));
    assert!(html.contains("<code>timeout</code></td><td>1</td><td>50.0 %"), "failures by class");
    assert!(!render(&sample_result(), Lang::En, AT).contains("id=\"client-bound\""));
}

/// 20,000 requests over an hour: bins and merged seconds keep the page small.
#[test]
fn a_large_run_gives_a_small_page() {
    let html = render(&big_result(20_000), Lang::En, AT);
    eprintln!("20,000 requests, 3,600 s: {} bytes", html.len());
    assert!(html.len() < 250_000, "{} bytes", html.len());
    let points = chart(&html, "requests-over-time").unwrap().matches(['L', 'H']).count();
    assert!(points <= 4 * MAX_TIME_POINTS + 100, "{points}");
    assert!(html.contains("each point is the mean of several seconds"));
}

#[test]
fn durations_and_numbers_read_well() {
    assert_eq!(duration(0.000_512), "0.51 ms");
    assert_eq!(duration(0.0123), "12.3 ms");
    assert_eq!(duration(0.8504), "850 ms");
    assert_eq!(duration(1.234), "1.23 s");
    assert_eq!(duration(f64::NAN), "—");
    assert_eq!(charts::number(0.0), "0");
    assert_eq!(charts::number(250.0), "250");
    assert_eq!(charts::number(12.5), "12.5");
    assert_eq!(charts::number(0.25), "0.25");
    assert_eq!(charts::number(2.0), "2");
}

#[test]
fn lengths_get_a_histogram_pair_when_input_tokens_are_known() {
    let without = render(&big_result(200), Lang::En, AT);
    assert!(chart(&without, "isl-histogram").is_none(), "no input tokens, no pair");
    let mut result = big_result(200);
    for (i, r) in result.metrics.iter_mut().enumerate() {
        r.input_tokens = Some(900 + (i as u64 % 200));
    }
    let html = render(&result, Lang::En, AT);
    assert!(html.contains("Lengths (ISL / OSL)"));
    for id in ["isl-histogram", "osl-histogram"] {
        assert!(data_elements(&html, id) > 0, "{id}: {:?}", chart(&html, id));
    }
    assert!(render(&result, Lang::Zh, AT).contains("输入/输出长度 (ISL / OSL)"));
}
