//! Traces are read in each format, sorted by time from 0, cut to a window, sped up and summed
//! up; a bad row is an error naming the file, its line and the field.

use std::time::Duration;

use super::*;
use crate::i18n::Lang;

/// `text` written to a file called `name` in a fresh folder and read as a trace; errors show
/// the file as a user who names it in the current folder sees it.
fn read(name: &str, text: &str, format: Option<TraceFormat>) -> Result<Trace, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let folder = format!("{}/", dir.path().display());
    Trace::read(&path, format).map_err(|e| e.to_string().replace(&folder, ""))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Each row's (line, offset).
fn timeline(trace: &Trace) -> Vec<(usize, Duration)> {
    trace.rows().iter().map(|r| (r.line, r.at)).collect()
}

const MOONCAKE: &str = r#"{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47]}
{"timestamp": 27000, "input_length": 100, "output_length": 0, "hash_ids": [46]}

{"timestamp": 30500.0, "input_length": 20, "hash_ids": []}
{"timestamp": 27482, "input_length": 7, "output_length": 3}
"#;

#[test]
fn a_mooncake_trace_is_sorted_by_time_and_starts_at_zero() {
    let trace = read("trace.jsonl", MOONCAKE, None).unwrap();
    assert_eq!(trace.format(), TraceFormat::Mooncake);
    // Rows of the same instant keep the file's order.
    assert_eq!(timeline(&trace), [(2, ms(0)), (1, ms(482)), (5, ms(482)), (4, ms(3500))]);
    let first = &trace.rows()[1];
    assert_eq!((first.input_tokens, first.output_tokens), (Some(6955), Some(52)));
    assert_eq!((&first.hash_ids[..], &first.content), (&[46, 47][..], &TraceContent::Blocks));
    assert_eq!(trace.rows()[0].output_tokens, None, "an output length of 0 is left to the server");
    assert!(trace.rows()[2].hash_ids.is_empty());
}

#[test]
fn a_burstgpt_trace_reads_its_time_and_lengths() {
    let csv = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n\
               5,ChatGPT,472,18,490,Conversation log\n\
               0.5,GPT-4,1024,0,1024,API log\n\
               45.25,ChatGPT,300,200,500,Conversation log\n";
    let trace = read("BurstGPT_1.csv", csv, None).unwrap();
    assert_eq!(trace.format(), TraceFormat::BurstGpt);
    assert_eq!(timeline(&trace), [(3, ms(0)), (2, ms(4500)), (4, ms(44_750))]);
    let lengths: Vec<_> = trace.rows().iter().map(|r| (r.input_tokens, r.output_tokens)).collect();
    // A failed request (0 response tokens) is kept, its answer's length left to the server.
    assert_eq!(lengths, [(Some(1024), None), (Some(472), Some(18)), (Some(300), Some(200))]);
    assert!(
        trace.rows().iter().all(|r| r.content == TraceContent::Blocks && r.hash_ids.is_empty())
    );
}

#[test]
fn timestamped_requests_carry_what_they_send() {
    let jsonl = r#"{"timestamp": 1000, "prompt": "Hi", "output_tokens": 5}
{"timestamp": 250, "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}], "headers": {"x-session": "a"}}
{"timestamp": 1000.5, "body": {"model": "m", "stream": true}, "input_tokens": 9}
"#;
    let trace = read("requests.jsonl", jsonl, None).unwrap();
    assert_eq!(trace.format(), TraceFormat::Requests);
    let half = Duration::from_micros(750_500);
    assert_eq!(timeline(&trace), [(2, ms(0)), (1, ms(750)), (3, half)]);
    let [chat, prompt, body] = trace.rows() else { panic!("three rows") };
    let system = Message { role: crate::plan::workload::bodies::Role::System, content: "S".into() };
    assert_eq!(chat.content, TraceContent::Messages(vec![system, Message::user("Q")]));
    assert_eq!(chat.headers, [("x-session".to_owned(), "a".to_owned())]);
    assert_eq!(prompt.content, TraceContent::Messages(vec![Message::user("Hi")]));
    assert_eq!(prompt.output_tokens, Some(5));
    assert_eq!(body.content, TraceContent::Body(Bytes::from(r#"{"model":"m","stream":true}"#)));
    assert_eq!(body.input_tokens, Some(9));
}

#[test]
fn the_format_flag_wins_and_the_names_are_listed() {
    let lengths_only = r#"{"timestamp": 5, "input_length": 10}"#;
    assert_eq!(read("t.log", lengths_only, None).unwrap().format(), TraceFormat::Mooncake);
    let e = read("t.log", lengths_only, Some(TraceFormat::Requests)).unwrap_err();
    assert_eq!(
        e,
        "t.log:1: a record needs `prompt`, `messages`, `body` or `conversations` (this one has: \
         input_length)"
    );
    let e = read("t.csv", "Timestamp\n1\n", Some(TraceFormat::Mooncake)).unwrap_err();
    assert!(e.starts_with("t.csv:1: not a JSON record: "), "{e}");
    assert_eq!(TraceFormat::parse(" BurstGPT ").unwrap(), TraceFormat::BurstGpt);
    assert_eq!(
        TraceFormat::parse("sharegpt").unwrap_err().to_string(),
        "unknown trace format \"sharegpt\"; expected one of mooncake, burstgpt, requests"
    );
}

/// Requests at 0, 1, 2, 3 and 4 seconds, on lines 1 to 5.
fn every_second() -> Trace {
    let lines: Vec<String> =
        (0..5).map(|s| format!(r#"{{"timestamp": {}, "input_length": 8}}"#, 1000 * s)).collect();
    read("t.jsonl", &lines.join("\n"), None).unwrap()
}

#[test]
fn a_window_keeps_its_requests_and_starts_them_at_zero() {
    let mut trace = every_second();
    trace.window(ms(500), Some(ms(3000)));
    assert_eq!(timeline(&trace), [(2, ms(0)), (3, ms(1000))], "from 0.5 s up to, not at, 3 s");
    let mut trace = every_second();
    trace.window(ms(3000), None);
    assert_eq!(timeline(&trace), [(4, ms(0)), (5, ms(1000))]);
    trace.window(ms(5000), None);
    assert!(trace.is_empty(), "a window past the end keeps nothing");
    assert_eq!(trace.summary().rows, 0);
}

#[test]
fn a_speedup_divides_every_offset() {
    let mut trace = every_second();
    trace.speedup(2.0);
    assert_eq!(trace.rows()[1].at, ms(500));
    trace.speedup(0.25);
    assert_eq!(trace.rows()[4].at, ms(8000), "4 s twice as fast, then four times as slow");
}

#[test]
fn the_summary_gives_rate_lengths_and_block_reuse() {
    let jsonl = r#"{"timestamp": 0, "input_length": 100, "output_length": 10, "hash_ids": [1, 2]}
{"timestamp": 1000, "input_length": 300, "output_length": 20, "hash_ids": [1, 2, 3]}
{"timestamp": 2000, "input_length": 200, "output_length": 0, "hash_ids": [1, 4]}
{"timestamp": 4000, "input_length": 400, "output_length": 30, "hash_ids": [5]}"#;
    let summary = read("t.jsonl", jsonl, None).unwrap().summary();
    // 8 ids in all; 1 and 2 again in the second row, 1 again in the third.
    let expected = TraceSummary {
        rows: 4,
        span: ms(4000),
        rate: 1.0,
        input: Some((250.0, 200, 400)),
        output: Some((20.0, 20, 30)),
        block_reuse: Some(3.0 / 8.0),
    };
    assert_eq!(summary, expected);
    assert_eq!(
        summary.line(Lang::En),
        "trace: 4 requests over 4.0 s (1.0 req/s)\n  input mean 250 / P50 200 / P99 400 tokens; \
         output mean 20 / P50 20 / P99 30 tokens; block reuse 37.5 %"
    );
    assert_eq!(
        summary.line(Lang::Zh),
        "回放轨迹:4 个请求,历时 4.0 秒(1.0 请求/秒)\n  输入 token 平均 250 / P50 200 / P99 400;\
         输出 token 平均 20 / P50 20 / P99 30;块复用率 37.5%"
    );
    let one = read("t.jsonl", r#"{"timestamp": 9, "prompt": "x"}"#, None).unwrap().summary();
    assert_eq!((one.rate, one.input, one.block_reuse), (0.0, None, None));
    assert_eq!(one.line(Lang::En), "trace: 1 request over 0.0 s");
}

#[test]
fn a_bad_row_names_the_file_its_line_and_the_field() {
    let good = "{\"timestamp\": 0, \"input_length\": 1}\n";
    let mooncake = [
        (
            r#"{"timestamp": "x", "input_length": 5}"#,
            "`timestamp` must be a number of milliseconds, got \"x\"",
        ),
        (r#"{"timestamp": -5, "input_length": 5}"#, "`timestamp` must not be negative, got -5"),
        (r#"{"input_length": 5}"#, "`timestamp` is missing"),
        (r#"{"timestamp": 1, "hash_ids": [1]}"#, "`input_length` is missing"),
        (
            r#"{"timestamp": 1, "input_length": 0}"#,
            "`input_length` must be a whole number of tokens above 0, got 0",
        ),
        (
            r#"{"timestamp": 1, "input_length": 5, "output_length": -1}"#,
            "`output_length` must be a whole number of tokens, got -1",
        ),
        (
            r#"{"timestamp": 1, "input_length": 5, "hash_ids": "a"}"#,
            "`hash_ids` must be a list of whole numbers, got a string",
        ),
        (
            r#"{"timestamp": 1, "input_length": 5, "hash_ids": [1, -2]}"#,
            "`hash_ids[1]` must be a whole number, got -2",
        ),
        ("[1]", "a trace record must be an object, got a list"),
    ];
    for (line, error) in mooncake {
        let e = read("trace.jsonl", &format!("{good}{line}"), None).unwrap_err();
        assert_eq!(e, format!("trace.jsonl:2: {error}"));
    }
    let e = read("trace.jsonl", &format!("{good}{{oops"), None).unwrap_err();
    assert!(e.starts_with("trace.jsonl:2: not a JSON record: "), "{e}");

    let requests = [
        (
            r#"{"timestamp": 0}"#,
            "a record needs `prompt`, `messages`, `body` or `conversations` (this one has: no keys)",
        ),
        (
            r#"{"timestamp": 0, "prompt": "x", "headers": ["a"]}"#,
            "`headers` must be an object of strings, got a list",
        ),
        (
            r#"{"timestamp": 0, "prompt": "x", "headers": {"x-a": 1}}"#,
            "`headers.x-a` must be a string, got a number",
        ),
        (
            r#"{"timestamp": 0, "prompt": "x", "headers": {"x-a": "1\n2"}}"#,
            "`headers.x-a` is not a valid HTTP header value (a line break?)",
        ),
        (
            r#"{"timestamp": 0, "prompt": "x", "headers": {"a b": "1"}}"#,
            "`headers` has \"a b\", which is not an HTTP header name",
        ),
        (r#"{"timestamp": 0, "prompt": 3}"#, "`prompt` must be a string, got a number"),
    ];
    for (line, error) in requests {
        let e = read("trace.jsonl", line, Some(TraceFormat::Requests)).unwrap_err();
        assert_eq!(e, format!("trace.jsonl:1: {error}"));
    }
}

#[test]
fn a_bad_burstgpt_row_names_the_file_its_line_and_the_column() {
    let header = "Timestamp,Model,Request tokens,Response tokens\n0,m,1,1\n";
    let rows = [
        ("x,m,1,1", "`Timestamp` must be a number of seconds, got \"x\""),
        ("NaN,m,1,1", "`Timestamp` must be a number of seconds, got \"NaN\""),
        ("-1,m,1,1", "`Timestamp` must not be negative, got \"-1\""),
        ("1,m,0,1", "`Request tokens` must be a whole number of tokens above 0, got \"0\""),
        ("1,m,1,", "`Response tokens` must be a whole number of tokens, got \"\""),
    ];
    for (row, error) in rows {
        let e = read("burst.csv", &format!("{header}{row}\n"), None).unwrap_err();
        assert_eq!(e, format!("burst.csv:3: {error}"));
    }
    let e = read("burst.csv", "Timestamp,Model,Response tokens\n1,m,2\n", None).unwrap_err();
    assert_eq!(
        e,
        "burst.csv: a BurstGPT trace needs a `Request tokens` column (the header has: \
         Timestamp, Model, Response tokens)"
    );
}

#[test]
fn an_empty_trace_is_an_error_naming_the_file() {
    for (name, text) in [("trace.jsonl", ""), ("trace.jsonl", "\n  \n"), ("burst.csv", "")] {
        let e = read(name, text, None).unwrap_err();
        assert_eq!(e, format!("{name}: the trace is empty: it has no requests to replay"));
    }
    let e = read("burst.csv", "Timestamp,Request tokens,Response tokens\n", None).unwrap_err();
    assert_eq!(
        e,
        "burst.csv: no data rows after the header (Timestamp, Request tokens, Response tokens)"
    );
}
