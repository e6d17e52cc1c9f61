//! Framing throughput: the SSE and NDJSON framers, and SSE framing plus the OpenAI adapter,
//! on realistic LLM streams of about 1 MiB.
//!
//! Each body is fed two ways: in 16 KiB reads (a busy socket, many events per read) and one
//! event per read (how tokens really arrive from a streaming server, one small segment per
//! token). Run with `cargo bench --bench framing`; the results are in docs/PERFORMANCE.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use streamperf::config::StreamFormat;
use streamperf::protocol::Adapter;
use streamperf::stream::{Event, Framer, Framing};

/// Body size each stream is repeated up to: large enough that per-body setup is noise.
const BODY_BYTES: usize = 1 << 20;

/// Read size of the bulk case, as a socket read of a busy connection.
const READ_BYTES: usize = 16 * 1024;

/// The answer's pieces, cycled so content lengths vary as real tokens do.
const TOKENS: [&str; 8] = [" today", " the", " sky", " is", " blue", " because", ",", " and"];

/// A typical OpenAI chat completions stream with `include_usage` (gpt-4o's field layout):
/// role chunk, content chunks, finish chunk, usage chunk, `[DONE]`. Returns the body and
/// where each event ends.
fn openai_chat_stream() -> (Vec<u8>, Vec<usize>) {
    const HEAD: &str = r#"data: {"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"fp_eb9dce56a8","choices":"#;
    let choice = |delta: &str, finish: &str| {
        format!(
            r#"{HEAD}[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}],"usage":null}}"#
        ) + "\n\n"
    };
    let mut events = vec![choice(r#"{"role":"assistant","content":"","refusal":null}"#, "null")];
    let mut size = events[0].len();
    let mut tokens = 0;
    for token in TOKENS.iter().cycle() {
        events.push(choice(&format!(r#"{{"content":"{token}"}}"#), "null"));
        size += events[events.len() - 1].len();
        tokens += 1;
        if size >= BODY_BYTES {
            break;
        }
    }
    events.push(choice("{}", r#""stop""#));
    let usage = format!(
        r#""prompt_tokens":19,"completion_tokens":{tokens},"total_tokens":{}"#,
        tokens + 19
    );
    events.push(format!("{HEAD}[],\"usage\":{{{usage}}}}}\n\n"));
    events.push("data: [DONE]\n\n".to_owned());
    concat(&events)
}

/// A typical Ollama `/api/chat` stream: content lines, then the `done: true` line with the
/// timings. Returns the body and where each line ends.
fn ollama_chat_stream() -> (Vec<u8>, Vec<usize>) {
    let line = |i: usize, token: &str| {
        format!(
            r#"{{"model":"llama3.2","created_at":"2025-03-01T10:00:00.{i:09}Z","message":{{"role":"assistant","content":"{token}"}},"done":false}}"#
        ) + "\n"
    };
    let mut lines = Vec::new();
    let mut size = 0;
    for (i, token) in TOKENS.iter().cycle().enumerate() {
        lines.push(line(i, token));
        size += lines[i].len();
        if size >= BODY_BYTES {
            break;
        }
    }
    let eval_count = lines.len();
    lines.push(format!(
        r#"{{"model":"llama3.2","created_at":"2025-03-01T10:00:59.999999999Z","message":{{"role":"assistant","content":""}},"done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":{eval_count},"eval_duration":4535599000}}"#
    ) + "\n");
    concat(&lines)
}

/// The pieces joined, and the offset where each piece ends.
fn concat(pieces: &[String]) -> (Vec<u8>, Vec<usize>) {
    let mut body = Vec::with_capacity(pieces.iter().map(String::len).sum());
    let mut ends = Vec::with_capacity(pieces.len());
    for piece in pieces {
        body.extend_from_slice(piece.as_bytes());
        ends.push(body.len());
    }
    (body, ends)
}

/// `body` cut at `ends`: one read per event.
fn reads_at<'b>(body: &'b [u8], ends: &[usize]) -> Vec<&'b [u8]> {
    let starts = std::iter::once(0).chain(ends.iter().copied());
    starts.zip(ends).map(|(start, &end)| &body[start..end]).collect()
}

/// Frames one body, read by read, as the engine does: each read's events are taken out
/// before the next read. Returns the event count so the work cannot be optimised away.
fn frame(framing: Framing, reads: &[&[u8]], batch: &mut Vec<Event>) -> usize {
    let mut framer = Framer::new(framing);
    let mut events = 0;
    for read in reads {
        framer.feed(black_box(read), batch).expect("within the cap");
        events += batch.len();
        batch.clear();
    }
    framer.finish(batch);
    events + batch.drain(..).count()
}

/// Frames and interprets one body with the default (`auto`) format for a chat completions
/// URL, as `streamperf run` does by default. Returns the answer bytes seen.
fn frame_and_interpret(reads: &[&[u8]], batch: &mut Vec<Event>) -> usize {
    let mut framer = Framer::new(Framing::Sse);
    let mut adapter = Adapter::new(&StreamFormat::default(), Framing::Sse, "/v1/chat/completions");
    let mut answer = 0;
    for read in reads {
        framer.feed(black_box(read), batch).expect("within the cap");
        for event in batch.drain(..) {
            answer += adapter.interpret(&event).answer.map_or(0, |a| a.len());
        }
    }
    answer
}

/// Benchmarks `framing` on `body` in 16 KiB reads and in one read per event.
fn bench_framer(
    group: &mut BenchmarkGroup<'_, WallTime>,
    framing: Framing,
    body: &[u8],
    ends: &[usize],
) {
    let bulk: Vec<&[u8]> = body.chunks(READ_BYTES).collect();
    let per_event = reads_at(body, ends);
    let mut batch = Vec::new();
    let name = framing.name();
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(format!("{name}/16KiB-reads"), |b| {
        b.iter(|| frame(framing, &bulk, &mut batch));
    });
    group.bench_function(format!("{name}/event-per-read"), |b| {
        b.iter(|| frame(framing, &per_event, &mut batch));
    });
}

/// The five benchmarks, in one group so their reports sit together.
fn framing(c: &mut Criterion) {
    let (openai, openai_ends) = openai_chat_stream();
    let (ollama, ollama_ends) = ollama_chat_stream();
    check(&openai, &openai_ends, &ollama, &ollama_ends);

    let mut group = c.benchmark_group("framing");
    bench_framer(&mut group, Framing::Sse, &openai, &openai_ends);
    bench_framer(&mut group, Framing::Ndjson, &ollama, &ollama_ends);
    let bulk: Vec<&[u8]> = openai.chunks(READ_BYTES).collect();
    let mut batch = Vec::new();
    group.throughput(Throughput::Bytes(openai.len() as u64));
    group.bench_function("sse+openai-adapter/16KiB-reads", |b| {
        b.iter(|| frame_and_interpret(&bulk, &mut batch));
    });
    group.finish();
}

/// Guards the numbers: a bench of a framer that drops events, or an adapter that reads no
/// answer, would measure nothing useful.
fn check(openai: &[u8], openai_ends: &[usize], ollama: &[u8], ollama_ends: &[usize]) {
    let mut batch = Vec::new();
    for (framing, body, ends) in
        [(Framing::Sse, openai, openai_ends), (Framing::Ndjson, ollama, ollama_ends)]
    {
        let bulk: Vec<&[u8]> = body.chunks(READ_BYTES).collect();
        assert_eq!(frame(framing, &bulk, &mut batch), ends.len(), "{framing:?} in 16 KiB reads");
        let per_event = reads_at(body, ends);
        assert_eq!(frame(framing, &per_event, &mut batch), ends.len(), "{framing:?} per event");
    }
    let content_events = openai_ends.len() - 4;
    let expected: usize = TOKENS.iter().cycle().take(content_events).map(|t| t.len()).sum();
    let bulk: Vec<&[u8]> = openai.chunks(READ_BYTES).collect();
    assert_eq!(frame_and_interpret(&bulk, &mut batch), expected, "adapter answer bytes");
}

criterion_group! {
    name = benches;
    // Modest sampling keeps the whole bench under a minute; the bodies are 1 MiB, so each
    // sample is still thousands of events.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30);
    targets = framing
}
criterion_main!(benches);
