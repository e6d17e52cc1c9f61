//! Anthropic Messages, `POST /v1/messages`: named SSE events whose JSON `type` repeats the
//! name.
//!
//! `message_start` (usage with the placeholder `output_tokens: 1`), `content_block_start`,
//! `ping`; with reasoning a `thinking` block of `thinking_delta`s closed by a `signature_delta`,
//! then a `text` block of `text_delta`s; `content_block_stop`; `message_delta` with
//! `stop_reason` and the cumulative `usage.output_tokens` (thinking included, as the API counts
//! it); `message_stop`. Errors are `event: error` with an `overloaded_error`.
//!
//! Without `"stream": true` the answer is one `message` object: its `content` blocks
//! (thinking with its signature, then text), `stop_reason` and `usage`.
//!
//! The usage always has the API's cache fields. `cache_read_input_tokens` is 0, or with
//! `--prefix-cache` the cached prompt tokens, which `input_tokens` then leaves out, as
//! Anthropic counts them: `input_tokens + cache_read_input_tokens` is the whole prompt.
//! `cache_creation_input_tokens` stays 0 (an engine's prefix cache is written for free).

use std::fmt::Write as _;

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::driver::{Chunk, Framer};
use crate::reply::Reply;
use crate::words::{Part, mock_reasoning_text, mock_text};

/// The mock's thinking signature (opaque to clients, as the real one).
const SIGNATURE: &str = "bW9jay1zaWduYXR1cmU=";

/// `end_turn`, or `max_tokens` when the body's `max_tokens` cut the output.
fn stop_reason(reply: &Reply) -> &'static str {
    if reply.capped() { "max_tokens" } else { "end_turn" }
}

/// The whole answer as one `message` object (non-streaming requests).
pub(crate) fn message(reply: &Reply) -> Value {
    let mut content = Vec::new();
    if reply.reasoning() > 0 {
        let thinking = mock_reasoning_text(reply.reasoning());
        content.push(json!({"type": "thinking", "thinking": thinking, "signature": SIGNATURE}));
    }
    content.push(json!({"type": "text", "text": mock_text(reply.tokens())}));
    let mut message = json!({
        "id": format!("msg_mock_{}", reply.id),
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": content,
        "stop_reason": stop_reason(reply),
        "stop_sequence": null,
    });
    if reply.usage {
        message["usage"] = json!({
            "input_tokens": reply.uncached_tokens(),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": reply.cached_tokens.unwrap_or(0),
            "output_tokens": reply.output_tokens(),
        });
    }
    message
}

/// What a failing whole answer (`fail=error:k`) is instead: the API's error object.
pub(crate) fn whole_error() -> Value {
    json!({"type": "error", "error": {"type": "overloaded_error", "message": "mock in-stream error"}})
}

/// Frames an Anthropic Messages stream.
pub(crate) struct AnthropicEvents {
    reply: Reply,
    /// The content block being streamed: thinking first when there is reasoning.
    block: Part,
}

impl AnthropicEvents {
    pub(crate) fn new(reply: Reply) -> AnthropicEvents {
        let block = if reply.reasoning() > 0 { Part::Reasoning } else { Part::Answer };
        AnthropicEvents { reply, block }
    }

    /// The text block follows the thinking block when there is one.
    fn text_index(&self) -> u64 {
        u64::from(self.reply.reasoning() > 0)
    }

    fn start_block(&self, buf: &mut BytesMut, part: Part) {
        let (index, block) = match part {
            Part::Reasoning => (0, r#"{"type":"thinking","thinking":"","signature":""}"#),
            Part::Answer => (self.text_index(), r#"{"type":"text","text":""}"#),
        };
        let _ = write!(
            buf,
            "event: content_block_start\ndata: {{\"type\":\"content_block_start\",\
             \"index\":{index},\"content_block\":{block}}}\n\n"
        );
    }

    /// Ends the current block; a thinking block gets its signature first, as the API sends.
    fn stop_block(&self, buf: &mut BytesMut) {
        let index = match self.block {
            Part::Reasoning => {
                buf.extend_from_slice(
                    b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\
                      \"index\":0,\"delta\":{\"type\":\"signature_delta\",\
                      \"signature\":\"bW9jay1zaWduYXR1cmU=\"}}\n\n",
                );
                0
            }
            Part::Answer => self.text_index(),
        };
        let _ = write!(
            buf,
            "event: content_block_stop\ndata: {{\"type\":\"content_block_stop\",\
             \"index\":{index}}}\n\n"
        );
    }
}

impl Framer for AnthropicEvents {
    fn preamble(&mut self, buf: &mut BytesMut) {
        let r = &self.reply;
        let usage = if r.usage {
            format!(
                ",\"usage\":{{\"input_tokens\":{},\"cache_creation_input_tokens\":0,\
                 \"cache_read_input_tokens\":{},\"output_tokens\":1}}",
                r.uncached_tokens(),
                r.cached_tokens.unwrap_or(0)
            )
        } else {
            String::new()
        };
        let _ = write!(
            buf,
            "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\
             \"id\":\"msg_mock_{}\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\
             \"model\":{},\"stop_reason\":null,\"stop_sequence\":null{usage}}}}}\n\n",
            r.id,
            r.model_json()
        );
        self.start_block(buf, self.block);
        buf.extend_from_slice(b"event: ping\ndata: {\"type\":\"ping\"}\n\n");
    }

    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
        if chunk.part != self.block {
            self.stop_block(buf);
            self.block = chunk.part;
            self.start_block(buf, chunk.part);
        }
        let (index, kind, field) = match chunk.part {
            Part::Reasoning => (0, "thinking_delta", "thinking"),
            Part::Answer => (self.text_index(), "text_delta", "text"),
        };
        let _ = write!(
            buf,
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\
             \"index\":{index},\"delta\":{{\"type\":\"{kind}\",\"{field}\":\"{}\"}}}}\n\n",
            chunk.text
        );
    }

    fn finish(&mut self, buf: &mut BytesMut) {
        self.stop_block(buf);
        let r = &self.reply;
        let reason = stop_reason(r);
        let usage = if r.usage {
            format!(",\"usage\":{{\"output_tokens\":{}}}", r.output_tokens())
        } else {
            String::new()
        };
        let _ = write!(
            buf,
            "event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\
             \"stop_reason\":\"{reason}\",\"stop_sequence\":null}}{usage}}}\n\n\
             event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
        );
    }

    fn error(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(
            b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\
              \"message\":\"mock in-stream error\"}}\n\n",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::collect_shape;
    use crate::fault::Fault;
    use crate::reply::testing::{error_last, joined, named_events};
    use crate::words::{mock_reasoning_text, mock_text};
    use serde_json::Value;

    async fn run(reply: Reply, fault: Option<Fault>) -> Vec<(String, Value)> {
        let shape = reply.shape;
        named_events(&collect_shape(AnthropicEvents::new(reply), shape, fault).await)
    }

    fn deltas(ev: &[(String, Value)], kind: &str) -> Vec<Value> {
        ev.iter().filter(|(_, d)| d["delta"]["type"] == kind).map(|(_, d)| d.clone()).collect()
    }

    #[tokio::test]
    async fn thinking_block_then_text_block() {
        let ev = run(Reply::test(3, 5, 2), None).await;
        let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
        let mut want = vec!["message_start", "content_block_start", "ping"];
        want.extend(["content_block_delta"; 2 + 1]); // 2 thinking chunks, the signature
        want.extend(["content_block_stop", "content_block_start"]);
        want.extend(["content_block_delta"; 3]);
        want.extend(["content_block_stop", "message_delta", "message_stop"]);
        assert_eq!(names, want);
        assert_eq!(ev[0].1["message"]["usage"]["output_tokens"], 1, "the placeholder");
        assert_eq!(ev[1].1["content_block"]["type"], "thinking");
        assert_eq!(ev[7].1["content_block"]["type"], "text");
        assert_eq!(ev[7].1["index"], 1);
        let thinking = deltas(&ev, "thinking_delta");
        assert_eq!(joined(&thinking, "/delta/thinking"), mock_reasoning_text(3));
        assert!(thinking.iter().all(|d| d["index"] == 0));
        let text = deltas(&ev, "text_delta");
        assert_eq!(text.len(), 3);
        assert_eq!(joined(&text, "/delta/text"), mock_text(5));
        assert_eq!(ev[12].1["delta"]["stop_reason"], "end_turn");
        assert_eq!(ev[12].1["usage"]["output_tokens"], 8);
    }

    #[tokio::test]
    async fn text_only_capped_and_usage_off() {
        let ev = run(Reply::test(0, 2, 1).truncated().without_usage(), None).await;
        assert_eq!(ev.len(), 3 + 2 + 3);
        assert_eq!(ev[1].1["content_block"]["type"], "text");
        assert_eq!(ev[1].1["index"], 0);
        assert!(ev[0].1["message"].get("usage").is_none());
        assert_eq!(ev[6].1["delta"]["stop_reason"], "max_tokens");
        assert!(ev[6].1.get("usage").is_none());
    }

    #[tokio::test]
    async fn input_tokens_leave_out_the_cache_reads() {
        let ev = run(Reply::test(0, 2, 1).cached(), None).await;
        let split = |usage: &Value| {
            (usage["input_tokens"].clone(), usage["cache_read_input_tokens"].clone())
        };
        let want = (json!(8), json!(32));
        assert_eq!(split(&ev[0].1["message"]["usage"]), want, "40 prompt tokens, 32 cached");
        assert_eq!(split(&message(&Reply::test(0, 2, 1).cached())["usage"]), want);
        let ev = run(Reply::test(0, 2, 1), None).await;
        assert_eq!(ev[0].1["message"]["usage"]["input_tokens"], 4);
        assert_eq!(ev[0].1["message"]["usage"]["cache_read_input_tokens"], 0);
    }

    #[tokio::test]
    async fn error_event() {
        let ev = run(Reply::test(0, 4, 1), Some(Fault::Error(2))).await;
        let data = error_last(&ev, "error", "message_stop");
        assert_eq!(data["error"]["type"], "overloaded_error");
    }
}
