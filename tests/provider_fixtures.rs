//! Provider transcripts (`fixtures/providers/`) through framing + protocol adapter, fed
//! whole, in the fixture's own reads, and split in two at every byte; each with its protocol
//! forced (`--format NAME`) and with `auto` detection, which must pick the same adapter.
//!
//! Dify transcripts also run through the seed's generic `stream_format` rules, which keep
//! their own meaning (first-token event, completion event, workflow output). Set
//! `STREAMPERF_FIXTURES` when the repository is cloned away from `../shared/fixtures`.

use std::path::Path;

mod common;

use base64::Engine as _;
use common::{fixture_files, fixtures_dir};
use serde_json::Value;
use streamperf::config::{FormatKind, StreamFormat};
use streamperf::protocol::{Adapter, Protocol};
use streamperf::stream::{Event, Framer, Framing};

/// What one run of a body produced, in the terms of the fixtures' `expected`.
#[derive(Debug, PartialEq)]
struct Outcome {
    text: String,
    reasoning: Option<String>,
    tool_call: String,
    output_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
    /// Not in the fixtures' `expected`; still must not depend on how the body was split.
    input_tokens: Option<u64>,
    finish_reason: Option<String>,
    first_content: Option<usize>,
    first_reasoning: Option<usize>,
    first_token_marker: Option<usize>,
    completion: bool,
    error: Option<String>,
    events: usize,
    adapter: &'static str,
}

fn run(body: &[u8], cuts: &[usize], content_type: &str, format: &StreamFormat) -> Outcome {
    let framing = Framing::from_content_type(Some(content_type));
    let mut framer = Framer::new(framing);
    let mut adapter = Adapter::new(format, framing, "");
    let mut o = Outcome {
        text: String::new(),
        reasoning: None,
        tool_call: String::new(),
        output_tokens: None,
        reasoning_tokens: None,
        input_tokens: None,
        finish_reason: None,
        first_content: None,
        first_reasoning: None,
        first_token_marker: None,
        completion: false,
        error: None,
        events: 0,
        adapter: "",
    };
    let mut batch: Vec<Event> = Vec::new();
    let bounds: Vec<usize> =
        std::iter::once(0).chain(cuts.iter().copied()).chain([body.len()]).collect();
    let mut done = false;
    let mut apply = |batch: &mut Vec<Event>, adapter: &mut Adapter, o: &mut Outcome| {
        for event in batch.drain(..) {
            let index = o.events;
            o.events += 1;
            let meaning = adapter.interpret(&event);
            assert!(meaning.malformed.is_none(), "malformed at event {index}: {meaning:?}");
            if let Some(answer) = meaning.answer.filter(|a| !a.is_empty()) {
                o.first_content.get_or_insert(index);
                o.text.push_str(&answer);
            }
            if let Some(reasoning) = meaning.reasoning.filter(|r| !r.is_empty()) {
                o.first_reasoning.get_or_insert(index);
                o.reasoning.get_or_insert_with(String::new).push_str(&reasoning);
            }
            if let Some(tool_call) = meaning.tool_call {
                o.tool_call.push_str(&tool_call);
            }
            if meaning.token_marker {
                o.first_token_marker.get_or_insert(index);
            }
            o.output_tokens = meaning.output_tokens.or(o.output_tokens);
            o.reasoning_tokens = meaning.reasoning_tokens.or(o.reasoning_tokens);
            o.input_tokens = meaning.input_tokens.or(o.input_tokens);
            o.finish_reason = meaning.finish_reason.or(o.finish_reason.take());
            done |= meaning.done;
            if meaning.error.is_some() {
                o.error = meaning.error;
            }
        }
    };
    for pair in bounds.windows(2) {
        framer.feed(&body[pair[0]..pair[1]], &mut batch).expect("within the cap");
        apply(&mut batch, &mut adapter, &mut o);
    }
    framer.finish(&mut batch);
    apply(&mut batch, &mut adapter, &mut o);
    // The README: an in-band error means the stream did not complete cleanly, unless the
    // documented end marker itself arrived (a Dify workflow that finished as failed).
    o.completion = done || (adapter.eof_completes() && o.error.is_none());
    o.adapter = adapter.name();
    o
}

/// How one fixture is run and which `expected` keys are asserted.
struct Plan {
    format: StreamFormat,
    adapter: &'static str,
    /// Compare `text` (and `reasoning_text`, usage, first content/reasoning indices).
    content: bool,
    /// Compare `first_content_event_index` with the first `token_marker` instead.
    marker_is_first_content: bool,
}

/// The fixture's format → the protocol that reads it (`None`: raw chunks).
fn protocol_of(format: &str) -> Result<Option<Protocol>, String> {
    Ok(Some(match format {
        "openai-chat-completions" => Protocol::OpenAiChat,
        "openai-completions" => Protocol::OpenAiCompletions,
        "openai-responses" => Protocol::OpenAiResponses,
        "anthropic-messages" => Protocol::Anthropic,
        "gemini-generate-content" => Protocol::Gemini,
        "dify-chat-messages" | "dify-workflow" => Protocol::Dify,
        "ollama-chat" | "ollama-generate" => Protocol::Ollama,
        "tgi-generate-stream" => Protocol::Tgi,
        "plain-text" => return Ok(None),
        other => return Err(format!("unknown format {other:?}: add it to protocol_of()")),
    }))
}

/// Forced and `auto` plans for a fixture's format.
fn plans(format: &str) -> Result<Vec<(&'static str, Plan)>, String> {
    let protocol = protocol_of(format)?;
    let adapter = protocol.map_or("raw", Protocol::name);
    let forced = StreamFormat {
        kind: protocol.map_or(FormatKind::Raw, FormatKind::Protocol),
        ..StreamFormat::default()
    };
    let plan = |format: StreamFormat| Plan {
        format,
        adapter,
        content: true,
        marker_is_first_content: false,
    };
    let mut plans = vec![("forced", plan(forced)), ("auto", plan(StreamFormat::default()))];
    let generic = |first: &str, completion: &str, output: Option<&str>| StreamFormat {
        kind: FormatKind::Sse,
        first_token_event: Some(first.into()),
        completion_event: Some(completion.into()),
        output_path: output.map(Into::into),
        ..StreamFormat::default()
    };
    let seed =
        |format| Plan { format, adapter: "generic", content: false, marker_is_first_content: true };
    // The seed's rules on real Dify: the first-token event is the first content's event.
    match format {
        "dify-chat-messages" => {
            plans.push(("seed rules", seed(generic("message", "message_end", None))))
        }
        // The streamed text equals the final `outputs.text`, which `output_path` extracts.
        "dify-workflow" => plans.push((
            "seed rules",
            seed(generic("text_chunk", "workflow_finished", Some("data.outputs.text"))),
        )),
        _ => {}
    }
    Ok(plans)
}

fn compare(
    name: &str,
    mode: &str,
    plan: &Plan,
    got: &Outcome,
    want: &Value,
    problems: &mut Vec<String>,
) {
    let mut fail = |what: &str, got: &dyn std::fmt::Debug, want: &dyn std::fmt::Debug| {
        problems.push(format!("{name} [{mode}]: {what} = {got:?}, expected {want:?}"));
    };
    let index = |key: &str| want[key].as_u64().map(|n| n as usize);
    if got.adapter != plan.adapter {
        fail("adapter", &got.adapter, &plan.adapter);
    }
    if got.completion != want["completion_seen"].as_bool().unwrap_or(false) {
        fail("completion_seen", &got.completion, &want["completion_seen"]);
    }
    match (&got.error, want["error"].as_str()) {
        (None, None) => {}
        // "Compare by containment of the type or code": the part before the first ': '.
        (Some(g), Some(w)) if g.contains(w.split(": ").next().unwrap_or(w)) => {}
        (g, w) => fail("error", g, &w),
    }
    if let Some(count) = want["dispatched_event_count"].as_u64() {
        if got.events as u64 != count {
            fail("dispatched events", &got.events, &count);
        }
    }
    if plan.marker_is_first_content {
        if got.first_token_marker != index("first_content_event_index") {
            fail(
                "first token-marker event",
                &got.first_token_marker,
                &want["first_content_event_index"],
            );
        }
    } else if got.first_content != index("first_content_event_index") {
        fail("first content event", &got.first_content, &want["first_content_event_index"]);
    }
    let text_defined = want.get("workflow_outputs").is_some() || plan.content;
    if text_defined && got.text != want["text"].as_str().unwrap_or_default() {
        fail("text", &got.text, &want["text"]);
    }
    if !plan.content {
        return;
    }
    if got.reasoning.as_deref() != want["reasoning_text"].as_str() {
        fail("reasoning", &got.reasoning, &want["reasoning_text"]);
    }
    if got.first_reasoning != index("first_reasoning_event_index") {
        fail("first reasoning event", &got.first_reasoning, &want["first_reasoning_event_index"]);
    }
    // Gemini's `candidatesTokenCount` leaves thinking out; the adapter adds it back so that
    // output tokens mean the same for every API.
    let reported = match got.adapter {
        "gemini" => got.output_tokens.map(|n| n - got.reasoning_tokens.unwrap_or(0)),
        _ => got.output_tokens,
    };
    if reported != want["output_tokens_reported"].as_u64() {
        fail("output tokens", &got.output_tokens, &want["output_tokens_reported"]);
    }
    if let Some(n) = want.get("reasoning_tokens_reported") {
        if got.reasoning_tokens != n.as_u64() {
            fail("reasoning tokens", &got.reasoning_tokens, n);
        }
    }
    let calls = want.get("tool_calls").and_then(Value::as_array).cloned().unwrap_or_default();
    let expected: String = calls
        .iter()
        .map(|c| {
            format!("{}{}", c["name"].as_str().unwrap_or(""), c["arguments"].as_str().unwrap_or(""))
        })
        .collect();
    if got.tool_call != expected {
        fail("tool-call text", &got.tool_call, &expected);
    }
}

fn check_fixture(
    path: &Path,
    problems: &mut Vec<String>,
    ran: &mut Vec<String>,
) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let name = v["name"].as_str().ok_or("no name")?;
    let format = v["format"].as_str().ok_or("no format")?;
    let content_type = v["content_type"].as_str().ok_or("no content_type")?;
    let body = base64::engine::general_purpose::STANDARD
        .decode(v["body_b64"].as_str().ok_or("no body_b64")?)
        .map_err(|e| e.to_string())?;
    let want = &v["expected"];
    for (mode, plan) in plans(format)? {
        let label = format!("{name} ({mode})");
        let whole = run(&body, &[], content_type, &plan.format);
        compare(&label, "whole", &plan, &whole, want, problems);
        if let Some(chunks) = v["chunks"].as_array() {
            let cuts: Vec<usize> =
                chunks.iter().filter_map(Value::as_u64).map(|n| n as usize).collect();
            let got = run(&body, &cuts, content_type, &plan.format);
            compare(&label, &format!("chunks {cuts:?}"), &plan, &got, want, problems);
        }
        // Empty reads never happen on the wire (a zero-length read is EOF), so split at 1..len.
        for at in 1..body.len() {
            let mut got = run(&body, &[at], content_type, &plan.format);
            if plan.adapter == "raw" {
                // Raw events are the reads themselves, so their count follows the split.
                got.events = whole.events;
            }
            if got != whole {
                compare(&label, &format!("split at {at}"), &plan, &got, want, problems);
                problems.push(format!("{label} [split at {at}]: differs from the whole-body run"));
                break;
            }
        }
    }
    ran.push(name.to_owned());
    Ok(())
}

#[test]
fn provider_fixtures_through_framer_and_adapter() {
    let dir = fixtures_dir("providers");
    let files = fixture_files("providers");
    let mut problems = Vec::new();
    let mut ran = Vec::new();
    for path in &files {
        if let Err(e) = check_fixture(path, &mut problems, &mut ran) {
            problems.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(!ran.is_empty(), "no provider fixture was run from {}", dir.display());
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
    println!("ran {} provider fixtures: {}", ran.len(), ran.join(", "));
}
