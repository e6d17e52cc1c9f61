//! Rendering tests: both languages, the original tool's titles and numbers, omitted sections.

use std::time::Duration;

use super::sections::EXAMPLE_CHARS;
use super::*;
use crate::analyse::metrics::Aggregator;
use crate::measure::record::testing::{failed, ok};
use crate::measure::record::{ErrorClass, Failure, RequestRecord, TokenSource};
use crate::output::report::{SCHEMA_VERSION, ToolInfo};

fn result_of(records: Vec<RequestRecord>, secs: u64) -> RunResult {
    let mut agg = Aggregator::new();
    records.iter().for_each(|r| agg.add(r));
    RunResult {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::default(),
        config: serde_json::json!({"url": "http://localhost:8000/v1/chat/completions"}),
        summary: agg.summary(Duration::from_secs(secs)),
        metrics: records,
        ..RunResult::default()
    }
}

/// 98 successes (TTFT 0.100 s … 0.197 s, e2e 2 s … 2.97 s, tokens with usage) and two failures.
fn sample() -> RunResult {
    let mut records: Vec<RequestRecord> = (1..=98u64)
        .map(|i| {
            let ttft = Duration::from_millis(99 + i);
            let mut r = ok(i, ttft, Duration::from_millis(1990 + 10 * i), 40 + i % 10);
            r.ttfat = Some(ttft + Duration::from_millis(300));
            r.tokens_per_second = Some(20.0 + (i % 5) as f64);
            r.tpot = Some(Duration::from_millis(45));
            r.itl = vec![Duration::from_millis(40), Duration::from_millis(50)];
            r
        })
        .collect();
    records.push(failed(99, Failure::new(ErrorClass::Timeout, "no first token within 300s")));
    records.push(failed(
        100,
        Failure::new(ErrorClass::HttpStatus, "HTTP 429\n{\"error\": \"slow down\"}"),
    ));
    result_of(records, 25)
}

fn info() -> ReportInfo {
    ReportInfo {
        url: "http://localhost:8000/v1/chat/completions".into(),
        detected_format: Some("openai-chat".into()),
        result_path: Some("test_results.json".into()),
    }
}

#[test]
fn chinese_report_keeps_the_seed_sections_and_alignment() {
    let text = render(&sample(), Lang::Zh, &info());
    println!("{text}");
    let rule = "=".repeat(60);
    assert!(text.starts_with(&format!("{rule}\n测试报告\n{rule}\n\n【总体统计】\n")));
    for line in [
        "  总请求数:    100\n",
        "  成功:        98 (98.0%)\n",
        "  失败:        2 (2.0%)\n",
        "  总耗时:      25.00s\n",
        "  吞吐量:      3.92 req/s\n",
        "\n【首Token时间 (TTFT)】\n  最小值:      0.100s\n  最大值:      0.197s\n",
        "  标准差:      0.028s\n",
        "  P50:         0.148s\n",
        "\n【总耗时】\n  最小值:      2.000s\n",
        "\n【生成速率】\n  平均值:      ",
        "【首 token 与首个回答 token (推理)】",
        "【首字节时间 (TTFB)】",
        "  计数来源:    usage\n",
        "  P50:         45.00ms\n",
        "\n【失败详情】\n  timeout:     1次\n    示例: no first token within 300s\n",
        "  http_status: 1次\n    示例: HTTP 429 {\"error\": \"slow down\"}\n",
        "结果已保存到: test_results.json",
    ] {
        assert!(text.contains(line), "missing {line:?}");
    }
}

#[test]
fn english_report_has_the_same_sections() {
    let text = render(&sample(), Lang::En, &info());
    println!("{text}");
    for line in [
        "Test report\n",
        "\n[Overall]\n  Requests:    100\n  Succeeded:   98 (98.0%)\n",
        "  Format:      openai-chat\n",
        "[Time to first token (TTFT)]\n  Min:         0.100s\n",
        "  P99:         0.197s\n",
        "[Total time]\n",
        "[Generation rate]\n",
        "[Output tokens]\n  Mean:        44.5\n",
        "[Decode rate (tokens/s per request)]\n",
        "  Aggregate:   174.44 tokens/s\n",
        "[Inter-token latency (ITL)]\n",
        "[Time per output token (TPOT)]\n",
        "[Failures]\n",
        "Results saved to: test_results.json",
    ] {
        assert!(text.contains(line), "missing {line:?}");
    }
}

#[test]
fn all_failed_shows_only_overall_and_failures() {
    let records = vec![
        failed(1, Failure::new(ErrorClass::Connect, "connection refused")),
        failed(2, Failure::new(ErrorClass::Connect, "connection refused again")),
    ];
    let text = render(&result_of(records, 1), Lang::En, &ReportInfo::default());
    println!("{text}");
    assert!(text.contains("  Failed:      2 (100.0%)\n"));
    assert!(text.contains("[Failures]\n  connect:     2\n    e.g. connection refused\n"));
    assert_eq!(text.matches('[').count(), 2, "only two sections");
    assert!(!text.contains("Results saved to"));
}

#[test]
fn ttfat_equal_to_ttft_and_empty_runs_are_omitted() {
    let mut r = ok(1, Duration::from_millis(234), Duration::from_millis(2456), 45);
    r.token_source = TokenSource::Events;
    let text = render(&result_of(vec![r], 2), Lang::Zh, &info());
    assert!(!text.contains("TTFAT"));
    assert!(!text.contains("标准差"), "one value has no stddev, as in the original tool");
    assert!(!text.contains("ITL") && !text.contains("TPOT") && !text.contains("失败详情"));

    let empty = render(&result_of(Vec::new(), 0), Lang::En, &ReportInfo::default());
    assert!(empty.contains("  Succeeded:   0 (0.0%)\n  Failed:      0 (0.0%)\n"));
    assert!(!empty.contains("NaN"));
}

#[test]
fn long_messages_are_cut_to_one_line() {
    let long = format!("line one\nline two {}", "x".repeat(500));
    let cut = one_line(&long, EXAMPLE_CHARS);
    assert_eq!(cut.chars().count(), EXAMPLE_CHARS + 1);
    assert!(cut.starts_with("line one line two x") && cut.ends_with('…'));
    assert_eq!(one_line("short", 10), "short");
}
