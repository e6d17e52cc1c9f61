//! WHATWG SSE conformance: every case in `fixtures/sse-conformance/`, fed whole, in the
//! case's own reads, split in two at every byte, and one byte per read. All failures of
//! all cases are collected and reported together, each naming its fixture.
//!
//! The fixtures live beside the repository (`../shared/fixtures`); set `STREAMPERF_FIXTURES`
//! to the folder holding `sse-conformance/` when the repository is cloned elsewhere.

use std::path::Path;

mod common;

use base64::Engine as _;
use common::fixture_files;
use serde_json::Value;
use streamperf::stream::Event;
use streamperf::stream::sse::SseParser;

/// Inputs longer than this are split at a sample of offsets (see `split_points`): every
/// offset of a 200 KiB input would parse 40 GB in a debug build.
const EVERY_SPLIT_LIMIT: usize = 8 * 1024;

/// Failure messages kept per case and feeding mode; the rest are only counted.
const MESSAGES_PER_MODE: usize = 3;

/// What a test compares: type, data, id.
type Seen = (String, String, Option<String>);

struct Case {
    name: String,
    input: Vec<u8>,
    chunks: Option<Vec<usize>>,
    expected: Vec<Seen>,
    /// `None`: not asserted (key absent); `Some(None)`: never set.
    expected_retry: Option<Option<u64>>,
    dispatch_after: Option<Vec<usize>>,
}

fn load(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let name = v["name"].as_str().ok_or("no name")?.to_owned();
    let input = base64::engine::general_purpose::STANDARD
        .decode(v["input_b64"].as_str().ok_or("no input_b64")?)
        .map_err(|e| e.to_string())?;
    let offsets = |key: &str| -> Option<Vec<usize>> {
        v.get(key)?
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).map(|n| n as usize).collect())
    };
    let expected = v["expected_events"]
        .as_array()
        .ok_or("no expected_events")?
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().map(str::to_owned);
            (s("type").unwrap_or_default(), s("data").unwrap_or_default(), s("id"))
        })
        .collect();
    Ok(Case {
        name,
        input,
        chunks: offsets("chunks"),
        expected,
        expected_retry: v.get("expected_retry").map(Value::as_u64),
        dispatch_after: offsets("expected_dispatch_after_chunk"),
    })
}

/// Feeds `input` cut at `cuts`; returns each event with the index of the read that
/// dispatched it, and the final retry value.
fn run(input: &[u8], cuts: &[usize]) -> (Vec<(usize, Seen)>, Option<u64>) {
    let mut parser = SseParser::new();
    let mut batch: Vec<Event> = Vec::new();
    let mut seen = Vec::new();
    let bounds: Vec<usize> =
        std::iter::once(0).chain(cuts.iter().copied()).chain([input.len()]).collect();
    for (read, pair) in bounds.windows(2).enumerate() {
        parser.feed(&input[pair[0]..pair[1]], &mut batch).expect("within the cap");
        seen.extend(batch.drain(..).map(|e| (read, (e.name, e.data, e.id))));
    }
    parser.finish(&mut batch);
    seen.extend(batch.drain(..).map(|e| (bounds.len() - 1, (e.name, e.data, e.id))));
    (seen, parser.retry())
}

/// One feeding of one case; failures are appended to `problems`.
fn check(case: &Case, mode: &str, cuts: &[usize], problems: &mut Vec<String>) {
    let (seen, retry) = run(&case.input, cuts);
    let events: Vec<&Seen> = seen.iter().map(|(_, e)| e).collect();
    let expected: Vec<&Seen> = case.expected.iter().collect();
    if events != expected {
        problems.push(format!("{} [{mode}]: events {events:?}, expected {expected:?}", case.name));
    }
    if let Some(want) = case.expected_retry {
        if retry != want {
            problems.push(format!("{} [{mode}]: retry {retry:?}, expected {want:?}", case.name));
        }
    }
}

/// Offsets to split at: all of them for small inputs; for large ones, both ends, a stride
/// across the middle, and the neighbourhood of every line ending.
fn split_points(input: &[u8]) -> Vec<usize> {
    let len = input.len();
    if len <= EVERY_SPLIT_LIMIT {
        return (0..=len).collect();
    }
    let edge = 512;
    let mut points: Vec<usize> =
        (0..edge).chain(len - edge..=len).chain((0..len).step_by(len / 512)).collect();
    for (i, b) in input.iter().enumerate() {
        if *b == b'\n' || *b == b'\r' {
            points.extend(i.saturating_sub(2)..=(i + 2).min(len));
        }
    }
    points.sort_unstable();
    points.dedup();
    points
}

fn check_case(case: &Case, problems: &mut Vec<String>) {
    check(case, "whole", &[], problems);
    if let Some(chunks) = &case.chunks {
        check(case, &format!("chunks {chunks:?}"), chunks, problems);
        if let Some(want) = &case.dispatch_after {
            let (seen, _) = run(&case.input, chunks);
            let got: Vec<usize> = seen.iter().map(|(read, _)| *read).collect();
            if &got != want {
                problems.push(format!(
                    "{}: dispatched after reads {got:?}, expected {want:?}",
                    case.name
                ));
            }
        }
    }
    let mut split_problems = Vec::new();
    for at in split_points(&case.input) {
        check(case, &format!("split at {at}"), &[at], &mut split_problems);
    }
    let extra = split_problems.len().saturating_sub(MESSAGES_PER_MODE);
    problems.extend(split_problems.into_iter().take(MESSAGES_PER_MODE));
    if extra > 0 {
        problems.push(format!("{}: {extra} more split failures", case.name));
    }
    let bytewise: Vec<usize> = (1..case.input.len()).collect();
    check(case, "one byte per read", &bytewise, problems);
}

#[test]
fn every_sse_conformance_fixture() {
    let mut problems = Vec::new();
    let files = fixture_files("sse-conformance");
    for path in &files {
        match load(path) {
            Ok(case) => check_case(&case, &mut problems),
            Err(e) => problems.push(format!("{}: unreadable fixture: {e}", path.display())),
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) over {} fixtures:\n{}",
        problems.len(),
        files.len(),
        problems.join("\n")
    );
}
