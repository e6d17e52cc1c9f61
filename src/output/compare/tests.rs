use super::*;
use crate::analyse::metrics::Stats;
use crate::i18n::Lang;

/// `n` values around `center` seconds: a deterministic spread of ±`spread` seconds.
fn sample(n: usize, center: f64, spread: f64) -> Vec<f64> {
    (0..n).map(|i| center + spread * (((i * 37) % 101) as f64 / 50.0 - 1.0)).collect()
}

#[test]
fn two_hundred_vs_three_hundred_ms_is_significant_with_its_change() {
    let a = sample(100, 0.200, 0.005);
    let b = sample(100, 0.300, 0.005);
    let s = significance("ttft", &a, &b, Rule::default()).unwrap();
    assert!(s.significant);
    assert!((s.median_change_pct.unwrap() - 50.0).abs() < 0.5, "{s:?}");
    assert!(s.test.p < 1e-20, "{}", s.test.p);
}

#[test]
fn a_tiny_systematic_shift_is_not_flagged_however_small_p_is() {
    // 0.2 % slower with little noise: p is tiny, the effect is not worth a flag.
    let a = sample(2000, 0.2000, 0.0002);
    let b = sample(2000, 0.2004, 0.0002);
    let s = significance("ttft", &a, &b, Rule::default()).unwrap();
    assert!(s.test.p < 0.05, "{}", s.test.p);
    assert!(!s.significant);
    // With no minimum effect the same data would be flagged.
    let strict = Rule { min_effect: 0.0, ..Rule::default() };
    assert!(significance("ttft", &a, &b, strict).unwrap().significant);
    // Same distribution: nothing.
    let same = significance("ttft", &a, &a, Rule::default()).unwrap();
    assert_eq!((same.test.p, same.significant), (1.0, false));
    assert!(significance("ttft", &[], &a, Rule::default()).is_none());
}

#[test]
fn directions_know_lower_latency_and_higher_throughput_are_better() {
    let stats = |p50: f64| Stats { p50, p90: p50, p99: p50, mean: p50, ..Stats::default() };
    let a = Summary {
        total_requests: 100,
        failed_count: 0,
        throughput: 10.0,
        output_token_throughput: 100.0,
        ttft: Some(stats(0.2)),
        ..Summary::default()
    };
    let b = Summary {
        total_requests: 100,
        failed_count: 2,
        throughput: 8.0,
        output_token_throughput: 100.5,
        ttft: Some(stats(0.1)),
        ..Summary::default()
    };
    let rows = metric_rows(&a, &b);
    let get =
        |name: &str| rows.iter().find(|r| r.metric == name).unwrap_or_else(|| panic!("{name}"));
    assert_eq!(
        (get("ttft.p50").change, get("ttft.p50").direction),
        (Some(-50.0), Some(Direction::Better))
    );
    assert_eq!(
        (get("throughput").change, get("throughput").direction),
        (Some(-20.0), Some(Direction::Worse))
    );
    assert_eq!(get("output_token_throughput").direction, Some(Direction::Same));
    assert_eq!(
        (get("error_rate").change, get("error_rate").direction),
        (Some(2.0), Some(Direction::Worse))
    );
    assert_eq!(get("requests").direction, None);
    assert!(rows.iter().all(|r| !r.metric.starts_with("itl")), "absent on both sides: no row");
}

#[test]
fn min_effect_and_alpha_parse_or_name_the_flag() {
    assert_eq!(parse_effect("5%").unwrap(), 0.05);
    assert_eq!(parse_effect("0.1").unwrap(), 0.1);
    assert_eq!(parse_effect("0").unwrap(), 0.0);
    assert!(parse_effect("120%").unwrap_err().to_string().starts_with("`--min-effect 120%`"));
    assert!(parse_effect("lots").is_err());
    assert!(parse_alpha(0.0).unwrap_err().to_string().starts_with("`--alpha 0`"));
}

#[test]
fn text_names_the_method_alpha_and_verdicts() {
    let side = |name: &str, center: f64| Side {
        name: name.into(),
        time: None,
        summary: Summary::default(),
        ttft: sample(50, center, 0.002),
        e2e: sample(50, 1.0, 0.01),
    };
    let c = compare(&side("#1", 0.2), &side("#2", 0.3), Rule::default());
    let text = render::text(Lang::En, &c);
    assert!(text.contains("Mann-Whitney U"), "{text}");
    assert!(text.contains("α = 0.05") && text.contains("≥ 5%"), "{text}");
    assert!(text.contains("TTFT: median 200.0 ms → 300.0 ms (+50.0%)"), "{text}");
    assert!(text.contains("→ SIGNIFICANT"), "{text}");
    assert!(text.contains("e2e: median 999.9 ms → 999.9 ms (+0.0%)"), "{text}");
    assert!(text.contains("not significant (p ≥ α)"), "{text}");
    let zh = render::text(Lang::Zh, &c);
    assert!(zh.contains("显著性") && zh.contains("→ 显著"), "{zh}");
    let md = render::markdown(Lang::En, &c);
    assert!(md.contains("|---|--:|--:|--:|---|"), "{md}");
}
