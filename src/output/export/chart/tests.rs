use super::scale::{linear_ticks, log_ticks};
use super::*;

fn num(v: f64) -> String {
    format!("{v}")
}

fn frame<'a>(id: &'a str, fmt: &'a dyn Fn(f64) -> String) -> Frame<'a> {
    Frame::new(id, Axis::linear("x", fmt), Axis::zero("y", fmt))
}

fn count(svg: &str, needle: &str) -> usize {
    svg.matches(needle).count()
}

#[test]
fn a_line_chart_draws_each_series_with_a_legend() {
    let f = num;
    let svg = line_chart(
        &frame("rates", &f),
        &[
            Series::line("completed", vec![(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)]),
            Series::line("failed", vec![(0.0, 0.0), (1.0, 1.0)]),
        ],
        &[],
    );
    assert!(svg.starts_with("<svg data-chart=\"rates\" viewBox") && svg.ends_with("</svg>"));
    assert_eq!(count(&svg, "class=\"data line\""), 2);
    assert_eq!(count(&svg, "class=\"data dot\""), 5, "few points: a dot on each");
    assert!(svg.contains(">completed</text>") && svg.contains(">failed</text>"), "legend");
    assert!(!svg.contains("data-empty"));
    assert_eq!(
        svg,
        line_chart(
            &frame("rates", &f),
            &[
                Series::line("completed", vec![(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)]),
                Series::line("failed", vec![(0.0, 0.0), (1.0, 1.0)])
            ],
            &[]
        )
    );
}

#[test]
fn without_data_a_chart_says_so() {
    let f = num;
    let mut fr = frame("nothing", &f);
    fr.empty = "Keine Daten";
    for svg in [
        line_chart(
            &fr,
            &[Series::line("a", vec![]), Series::line("b", vec![(f64::NAN, 1.0)])],
            &[],
        ),
        histogram(&fr, &[Bucket { lo: 0.0, hi: 1.0, count: 0 }]),
        histogram(&fr, &[]),
    ] {
        assert!(svg.contains("data-chart=\"nothing\" data-empty=\"true\""), "{svg}");
        assert!(svg.contains(">Keine Daten</text>"));
        assert_eq!(count(&svg, "class=\"data"), 0);
    }
}

#[test]
fn a_histogram_has_one_bar_per_non_empty_bucket() {
    let f = num;
    let buckets = [
        Bucket { lo: 0.1, hi: 0.2, count: 3 },
        Bucket { lo: 0.2, hi: 0.3, count: 0 },
        Bucket { lo: 0.3, hi: 0.4, count: 9 },
    ];
    let svg = histogram(&frame("h", &f), &buckets);
    assert_eq!(count(&svg, "class=\"data bar\""), 2);
    assert!(svg.contains("<title>0.3 – 0.4: 9</title>"));
    // All values equal: one bucket of zero width still shows as a bar.
    let same = histogram(&frame("h", &f), &[Bucket { lo: 0.5, hi: 0.5, count: 4 }]);
    assert_eq!(count(&same, "class=\"data bar\""), 1);
}

#[test]
fn cdf_points_climb_from_zero_to_one() {
    let buckets = [Bucket { lo: 1.0, hi: 2.0, count: 1 }, Bucket { lo: 2.0, hi: 4.0, count: 3 }];
    assert_eq!(cdf_points(&buckets), [(1.0, 0.0), (2.0, 0.25), (4.0, 1.0)]);
    assert!(cdf_points(&[]).is_empty());
    let f = num;
    let svg = line_chart(&frame("cdf", &f), &[Series::step("cdf", cdf_points(&buckets))], &[]);
    assert!(svg.contains("H") && svg.contains("V"), "a staircase: {svg}");
    assert_eq!(count(&svg, "class=\"data dot\""), 0, "steps have no dots");
}

#[test]
fn text_from_the_caller_is_escaped() {
    let f = num;
    let mut s = Series::line("<script>alert(1)</script>", vec![(1.0, 1.0), (2.0, 2.0)]);
    s.labels = vec!["a\"b".into(), "<b>".into()];
    let mark = Mark { x: 2.0, y: 2.0, text: "knee & <i>" };
    let svg = line_chart(&frame("x\"y", &f), &[s, Series::line("two", vec![(1.0, 0.0)])], &[mark]);
    assert!(!svg.contains("<script>") && !svg.contains("<b>") && !svg.contains("<i>"));
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(svg.contains("a&quot;b") && svg.contains("knee &amp; &lt;i&gt;"));
    assert!(svg.contains("data-chart=\"x&quot;y\""));
}

#[test]
fn a_log_axis_leaves_out_values_at_or_below_zero() {
    let f = num;
    let fr = Frame::new("log", Axis::log("x", &f), Axis::zero("y", &f));
    let svg = line_chart(&fr, &[Series::line("a", vec![(0.0, 1.0), (0.01, 1.0), (1.0, 2.0)])], &[]);
    assert_eq!(count(&svg, "class=\"data dot\""), 2);
    assert!(svg.contains(">0.1</text>") && svg.contains(">1</text>"), "{svg}");
}

#[test]
fn ticks_are_round_numbers() {
    let (lo, hi, ticks) = linear_ticks(0.0, 0.93);
    assert_eq!((lo, hi), (0.0, 1.0));
    assert_eq!(ticks, [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
    let (lo, hi, ticks) = linear_ticks(5.0, 5.0);
    assert!(lo < 5.0 && hi > 5.0 && ticks.len() >= 2);
    assert_eq!(log_ticks(0.02, 2.0), [0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]);
    assert_eq!(log_ticks(0.001, 100.0), [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]);
    assert_eq!(log_ticks(0.3, 0.4), [0.3, 0.4], "no round value inside: the ends");
}

#[test]
fn marks_and_point_labels_are_drawn() {
    let f = num;
    let mut s = Series::line("sweep", vec![(1.0, 0.2), (2.0, 0.3)]);
    s.labels = vec!["p=1".into(), "p=2".into()];
    let svg = line_chart(&frame("sweep", &f), &[s], &[Mark { x: 2.0, y: 0.3, text: "knee" }]);
    assert!(svg.contains(">p=1</text>") && svg.contains(">p=2</text>"));
    assert!(svg.contains("class=\"mark\"") && svg.contains(">knee</text>"));
}

#[test]
fn a_series_may_choose_its_colour() {
    let f = num;
    let red = Series { colour: Some("#dc2626"), ..Series::line("failed", vec![(0.0, 1.0)]) };
    let svg = line_chart(&frame("c", &f), &[Series::line("ok", vec![(0.0, 2.0)]), red], &[]);
    assert!(svg.contains("stroke=\"#dc2626\"") && svg.contains("fill=\"#dc2626\"/><text"), "{svg}");
    assert!(svg.contains(&format!("stroke=\"{}\"", PALETTE[0])));
}
