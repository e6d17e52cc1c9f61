//! The SLO parser, evaluation and goodput against hand-made summaries and records.

use std::time::Duration;

use super::metric::{Metric, Op, Stat};
use super::*;
use crate::analyse::metrics::Stats;

fn slo(text: &str) -> Slo {
    Slo::parse(text).unwrap_or_else(|e| panic!("{text}: {e:#}"))
}

fn parse_err(text: &str) -> String {
    format!("{:#}", Slo::parse(text).expect_err(text))
}

fn stats(p50: f64, p95: f64, p99: f64) -> Stats {
    Stats {
        min: 0.0,
        max: p99,
        mean: p50,
        median: p50,
        stddev: 0.0,
        p50,
        p90: p95,
        p95,
        p99,
        count: 10,
    }
}

fn summary() -> Summary {
    Summary {
        success_count: 99,
        failed_count: 1,
        total_requests: 100,
        duration: 10.0,
        throughput: 9.9,
        output_token_throughput: 150.0,
        ttft: Some(stats(0.3, 0.612, 0.8)),
        total_time: Some(stats(4.0, 8.0, 9.5)),
        tpot: Some(stats(0.04, 0.05, 0.06)),
        tokens_per_second: Some(stats(25.0, 30.0, 35.0)),
        ..Summary::default()
    }
}

fn record(ttft_ms: Option<u64>, ok: bool, warmup: bool) -> RequestRecord {
    RequestRecord {
        ttft: ttft_ms.map(Duration::from_millis),
        total_time: Some(Duration::from_secs(2)),
        tokens_per_second: Some(30.0),
        error_class: (!ok).then_some(crate::measure::record::ErrorClass::Timeout),
        warmup,
        ..RequestRecord::default()
    }
}

#[test]
fn parses_every_documented_form_into_base_units() {
    let cases = [
        ("ttft.p95<800ms", Metric::Ttft, Some(Stat::P95), Op::Lt, 0.8),
        ("e2e.p99 < 10s", Metric::E2e, Some(Stat::P99), Op::Lt, 10.0),
        ("total_time.max<=1m", Metric::E2e, Some(Stat::Max), Op::Le, 60.0),
        ("error_rate<1%", Metric::ErrorRate, None, Op::Lt, 0.01),
        ("error_rate<0.01", Metric::ErrorRate, None, Op::Lt, 0.01),
        ("tpot.p50<50ms", Metric::Tpot, Some(Stat::P50), Op::Lt, 0.05),
        ("itl.p99<=0.2s", Metric::Itl, Some(Stat::P99), Op::Le, 0.2),
        ("ttfat.p90<2s", Metric::Ttfat, Some(Stat::P90), Op::Lt, 2.0),
        ("throughput>5", Metric::Throughput, None, Op::Gt, 5.0),
        ("output_tokens_per_s>=100", Metric::OutputTokenThroughput, None, Op::Ge, 100.0),
        ("tokens_per_second.p50>20", Metric::TokensPerSecond, Some(Stat::P50), Op::Gt, 20.0),
        ("max_gap.p99<1s", Metric::MaxGap, Some(Stat::P99), Op::Lt, 1.0),
        ("queue_wait.mean<500us", Metric::QueueWait, Some(Stat::Mean), Op::Lt, 0.0005),
        ("ttfb.min < 250µs", Metric::Ttfb, Some(Stat::Min), Op::Lt, 0.00025),
        ("ttft.median<1.5", Metric::Ttft, Some(Stat::Median), Op::Lt, 1.5),
    ];
    for (text, metric, stat, op, threshold) in cases {
        let s = slo(text);
        assert_eq!((s.metric, s.stat, s.op), (metric, stat, op), "{text}");
        assert!((s.threshold - threshold).abs() < 1e-12, "{text}: {}", s.threshold);
        assert_eq!(s.text, text);
    }
}

#[test]
fn rejects_bad_slos_naming_the_flag_and_the_bad_part() {
    let cases = [
        ("ttft.p95", "missing comparison"),
        ("latency.p95<1s", "unknown metric `latency`; known: ttft, ttfb"),
        ("ttftt.p95<1s", "did you mean `ttft`?"),
        ("<1s", "missing metric"),
        ("ttft<1s", "`ttft` needs a statistic"),
        ("ttft.p42<1s", "unknown statistic `p42`; known: p50, p90"),
        ("error_rate.p99<1%", "`error_rate` is a single number and takes no statistic"),
        ("throughput.mean>5", "takes no statistic"),
        ("ttft.p95<", "missing threshold"),
        ("ttft.p95<fast", "threshold `fast` does not start with a number"),
        ("ttft.p95<800 hours", "unknown unit `hours`"),
        ("ttft.p95<-1s", "negative"),
        ("error_rate<5", "over 1; write a fraction (0.01) or a percentage (`5%`)"),
        ("error_rate<150%", "over 100%"),
        ("throughput>5req", "unit `req`"),
    ];
    for (text, want) in cases {
        let msg = parse_err(text);
        assert!(msg.starts_with(&format!("`--slo {text}`: ")), "{msg}");
        assert!(msg.contains(want), "{text}: {msg}");
    }
}

#[test]
fn check_passes_and_fails_with_the_measured_value() {
    let s = summary();
    let pass = slo("ttft.p95<800ms").check(&s);
    assert_eq!(
        pass,
        SloResult {
            slo: "ttft.p95<800ms".into(),
            measured: Some(0.612),
            unit: "s".into(),
            pass: true
        }
    );
    assert_eq!(pass.describe(), "ttft.p95<800ms: 0.612 s — pass");
    let fail = slo("e2e.p99<9s").check(&s);
    assert!(!fail.pass);
    assert_eq!(fail.measured, Some(9.5));
    assert!(slo("tokens_per_second.p50>20").check(&s).pass);
    assert!(!slo("throughput>10").check(&s).pass);
    let tokens = slo("output_token_throughput>=150").check(&s);
    assert!(tokens.pass);
    assert_eq!(tokens.unit, "tokens/s");
}

#[test]
fn boundary_separates_strict_from_inclusive() {
    let s = summary();
    assert!(!slo("ttft.p99<800ms").check(&s).pass);
    assert!(slo("ttft.p99<=800ms").check(&s).pass);
    assert!(!slo("tpot.p50>40ms").check(&s).pass);
    assert!(slo("tpot.p50>=40ms").check(&s).pass);
}

#[test]
fn unmeasured_metric_fails() {
    let s = Summary { ttft: None, ..summary() };
    let r = slo("ttft.p95<800ms").check(&s);
    assert_eq!((r.measured, r.pass), (None, false));
    assert_eq!(r.describe(), "ttft.p95<800ms: not measured — fail");
    let empty = Summary::default();
    assert!(!slo("error_rate<1%").check(&empty).pass);
    assert!(!slo("throughput>0").check(&empty).pass);
}

#[test]
fn error_rate_percent_and_fraction_agree() {
    let s = summary(); // 1 failure in 100: exactly 1%.
    for text in ["error_rate<1%", "error_rate<0.01"] {
        let r = slo(text).check(&s);
        assert_eq!((r.measured, r.unit.as_str(), r.pass), (Some(1.0), "%", false), "{text}");
    }
    for text in ["error_rate<=1%", "error_rate<=0.01", "error_rate<2%"] {
        assert!(slo(text).check(&s).pass, "{text}");
    }
    assert_eq!(slo("error_rate<2%").check(&s).describe(), "error_rate<2%: 1.00 % — pass");
}

#[test]
fn met_by_applies_the_threshold_to_the_records_own_value() {
    let ttft = slo("ttft.p95<800ms");
    assert_eq!(ttft.met_by(&record(Some(500), true, false)), Some(true));
    assert_eq!(ttft.met_by(&record(Some(800), true, false)), Some(false));
    assert_eq!(ttft.met_by(&record(Some(900), true, false)), Some(false));
    assert_eq!(ttft.met_by(&record(None, false, false)), Some(false));
    assert_eq!(ttft.met_by(&record(Some(100), false, false)), Some(false));
    assert_eq!(slo("tokens_per_second.p50>20").met_by(&record(None, true, false)), Some(true));
    assert_eq!(slo("e2e.p99<1s").met_by(&record(None, true, false)), Some(false));
}

#[test]
fn met_by_is_none_for_run_level_metrics() {
    let r = record(Some(100), true, false);
    for text in ["error_rate<1%", "throughput>1", "output_tokens_per_s>1", "itl.p99<1s"] {
        assert_eq!(slo(text).met_by(&r), None, "{text}");
    }
}

#[test]
fn goodput_counts_successful_non_warmup_requests_meeting_every_slo() {
    let slos = [slo("ttft.p95<800ms"), slo("e2e.p99<10s"), slo("error_rate<1%")];
    let records = [
        record(Some(100), true, false),  // good
        record(Some(700), true, false),  // good
        record(Some(900), true, false),  // ttft too slow
        record(Some(100), true, true),   // warm-up
        record(Some(100), false, false), // failed
        record(None, false, false),      // failed, no ttft
    ];
    assert_eq!(goodput(&slos, &records, 4.0), 0.5);
    assert_eq!(goodput(&[], &records, 2.0), 1.5);
    assert_eq!(goodput(&slos, &records, 0.0), 0.0);
}

#[test]
fn evaluate_keeps_order_and_any_failed_reports_it() {
    let slos = [slo("ttft.p95<800ms"), slo("error_rate<1%")];
    let results = evaluate(&slos, &summary());
    let names: Vec<&str> = results.iter().map(|r| r.slo.as_str()).collect();
    assert_eq!(names, ["ttft.p95<800ms", "error_rate<1%"]);
    assert!(any_failed(&results));
    assert!(!any_failed(&results[..1]));
}

#[test]
fn serde_reads_and_writes_the_text() {
    let slos: Vec<Slo> = serde_json::from_str(r#"["ttft.p95<800ms", "error_rate<1%"]"#).unwrap();
    assert_eq!(slos[0], slo("ttft.p95<800ms"));
    assert_eq!(serde_json::to_string(&slos).unwrap(), r#"["ttft.p95<800ms","error_rate<1%"]"#);
    let err = serde_json::from_str::<Vec<Slo>>(r#"["ttft<1s"]"#).unwrap_err();
    assert!(err.to_string().contains("`--slo ttft<1s`: `ttft` needs a statistic"), "{err}");
}
