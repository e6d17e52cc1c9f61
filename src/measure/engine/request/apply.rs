//! Applying interpretations: what each event means for the request's [`Timeline`] (first
//! token, first answer, usage, errors, the end), and the end of body. Apart from the reading
//! loop so the loop shows only reads and their instants; called with each read's instant.

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::Progress;
use crate::measure::engine::EngineEvent;
use crate::measure::protocol::{Adapter, Interpretation};
use crate::measure::record::{ErrorClass, Failure};
use crate::measure::stream::Event;

/// Interprets the events one read completed, all stamped with that read's instant.
pub(super) fn apply_all(
    adapter: &mut Adapter,
    batch: &mut Vec<Event>,
    now: Instant,
    raw: bool,
    request_id: u64,
    events: &UnboundedSender<EngineEvent>,
    progress: &mut Progress,
) -> Result<(), Failure> {
    for event in batch.drain(..) {
        let tl = &mut progress.timeline;
        if !raw {
            tl.chunks += 1;
        }
        tl.first_event.get_or_insert(now);
        let meaning = adapter.interpret(&event);
        apply_and_tell(meaning, now, request_id, events, progress)?;
        if progress.done {
            break;
        }
    }
    batch.clear();
    Ok(())
}

/// [`apply`], telling the live view when `meaning` gave the request its first token.
pub(super) fn apply_and_tell(
    meaning: Interpretation,
    now: Instant,
    request_id: u64,
    events: &UnboundedSender<EngineEvent>,
    progress: &mut Progress,
) -> Result<(), Failure> {
    let had_token = progress.timeline.first_token.is_some();
    apply(meaning, now, progress)?;
    if let (false, Some(first)) = (had_token, progress.timeline.first_token) {
        let ttft = first.saturating_duration_since(progress.timeline.sched);
        let _ = events.send(EngineEvent::FirstToken { request_id, ttft, at: first });
    }
    Ok(())
}

pub(super) fn apply(
    meaning: Interpretation,
    now: Instant,
    progress: &mut Progress,
) -> Result<(), Failure> {
    if let Some(message) = meaning.error {
        return Err(Failure::new(ErrorClass::StreamError, message));
    }
    if let Some(message) = meaning.malformed {
        return Err(Failure::new(ErrorClass::Malformed, message));
    }
    let tl = &mut progress.timeline;
    let answer = meaning.answer.filter(|a| !a.is_empty());
    let reasoning = meaning.reasoning.filter(|r| !r.is_empty());
    let tool_call = meaning.tool_call.filter(|t| !t.is_empty());
    let parts = [reasoning.as_deref(), answer.as_deref(), tool_call.as_deref()];
    if parts.iter().any(Option::is_some) {
        tl.content_at(now, &parts, meaning.output_tokens);
    }
    if meaning.token_marker {
        tl.first_token.get_or_insert(now);
    }
    if let Some(text) = answer {
        tl.first_answer.get_or_insert(now);
        if let Some(out) = &mut progress.answer {
            out.push_str(&text);
        }
    }
    if let (Some(text), Some(out)) = (reasoning, &mut progress.reasoning) {
        out.push_str(&text);
    }
    if meaning.output_tokens.is_some() {
        tl.usage_output_tokens = meaning.output_tokens;
    }
    if meaning.input_tokens.is_some() {
        tl.usage_input_tokens = meaning.input_tokens;
    }
    if meaning.reasoning_tokens.is_some() {
        tl.usage_reasoning_tokens = meaning.reasoning_tokens;
    }
    if meaning.cached_tokens.is_some() {
        tl.usage_cached_tokens = meaning.cached_tokens;
    }
    if meaning.conversation_id.is_some() {
        progress.conversation_id = meaning.conversation_id;
    }
    if meaning.finish_reason.is_some() {
        progress.finish_reason = meaning.finish_reason;
    }
    if meaning.done {
        tl.end = Some(now);
        progress.done = true;
    }
    Ok(())
}

/// A clean end of body: complete if the format needs no marker, else `incomplete`.
pub(super) fn eof(adapter: &Adapter, now: Instant, progress: &mut Progress) -> Result<(), Failure> {
    if adapter.eof_completes() {
        progress.timeline.end = Some(now);
        progress.done = true;
        Ok(())
    } else {
        Err(Failure::new(
            ErrorClass::Incomplete,
            format!("stream ended before its completion marker ({} format)", adapter.name()),
        ))
    }
}
