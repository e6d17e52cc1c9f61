//! Google Gemini, `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`: one
//! `GenerateContentResponse` per `data:` event (LF framing; the real endpoint's CRLF is not
//! reproduced).
//!
//! Text in `candidates[0].content.parts[{text}]`, reasoning as thought parts
//! `{"text": …, "thought": true}`. Every chunk carries `usageMetadata` with the prompt count, as
//! the API does; a last chunk with an empty text part adds `finishReason` (`STOP`, or
//! `MAX_TOKENS` when `maxOutputTokens` cut it) and the counts: `candidatesTokenCount` is the
//! answer only, `thoughtsTokenCount` the reasoning. With `--prefix-cache` every
//! `usageMetadata` also has `cachedContentTokenCount`, the cached prompt tokens (counted in
//! `promptTokenCount`, as Gemini counts them).
//!
//! `POST /v1beta/models/{model}:generateContent` answers whole: one `GenerateContentResponse`
//! with the thought part and the text part, `finishReason` and the final `usageMetadata`.

use std::fmt::Write as _;

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::driver::{Chunk, Framer};
use crate::reply::Reply;
use crate::words::{Part, mock_reasoning_text, mock_text};

/// `STOP`, or `MAX_TOKENS` when `maxOutputTokens` cut the output.
fn finish_reason(reply: &Reply) -> &'static str {
    if reply.capped() { "MAX_TOKENS" } else { "STOP" }
}

/// The whole answer of `:generateContent` (non-streaming requests).
pub(crate) fn generate_content(reply: &Reply) -> Value {
    let mut parts = Vec::new();
    if reply.reasoning() > 0 {
        parts.push(json!({"text": mock_reasoning_text(reply.reasoning()), "thought": true}));
    }
    parts.push(json!({"text": mock_text(reply.tokens())}));
    let mut answer = json!({
        "candidates": [{
            "content": {"parts": parts, "role": "model"},
            "finishReason": finish_reason(reply),
            "index": 0,
        }],
    });
    if reply.usage {
        let (p, a, t) = (reply.prompt_tokens, reply.tokens(), reply.reasoning());
        let mut usage = json!({"promptTokenCount": p});
        if let Some(cached) = reply.cached_tokens {
            usage["cachedContentTokenCount"] = json!(cached);
        }
        usage["candidatesTokenCount"] = json!(a);
        if t > 0 {
            usage["thoughtsTokenCount"] = json!(t);
        }
        usage["totalTokenCount"] = json!(p + a + t);
        answer["usageMetadata"] = usage;
    }
    answer["modelVersion"] = json!(reply.model);
    answer["responseId"] = json!(format!("mock-{}", reply.id));
    answer
}

/// What a failing whole answer (`fail=error:k`) is instead: Google's error object.
pub(crate) fn whole_error() -> Value {
    json!({"error": {"code": 500, "message": "mock in-stream error", "status": "INTERNAL"}})
}

/// Frames a Gemini stream.
pub(crate) struct GeminiChunks {
    reply: Reply,
    /// `],"role":"model"},"index":0}],"usageMetadata":{…},"modelVersion":…,"responseId":…}`
    /// after the parts of a non-final chunk.
    tail: String,
    /// `,"modelVersion":…,"responseId":…}` closing every chunk.
    ids: String,
}

/// Opens a chunk, up to its first part.
const HEAD: &str = "data: {\"candidates\":[{\"content\":{\"parts\":[";

impl GeminiChunks {
    pub(crate) fn new(reply: Reply) -> GeminiChunks {
        let ids = format!(
            ",\"modelVersion\":{},\"responseId\":\"mock-{}\"}}\n\n",
            reply.model_json(),
            reply.id
        );
        let usage = if reply.usage {
            let p = reply.prompt_tokens;
            let cached = cached_count(&reply);
            format!(
                ",\"usageMetadata\":{{\"promptTokenCount\":{p}{cached},\"totalTokenCount\":{p}}}"
            )
        } else {
            String::new()
        };
        let tail = format!("],\"role\":\"model\"}},\"index\":0}}]{usage}{ids}");
        GeminiChunks { reply, tail, ids }
    }

    /// The last chunk's `usageMetadata`, empty with `?usage=false`.
    fn final_usage(&self) -> String {
        let r = &self.reply;
        if !r.usage {
            return String::new();
        }
        let (p, a, t) = (r.prompt_tokens, r.tokens(), r.reasoning());
        let thoughts = if t > 0 { format!(",\"thoughtsTokenCount\":{t}") } else { String::new() };
        format!(
            ",\"usageMetadata\":{{\"promptTokenCount\":{p}{},\"candidatesTokenCount\":{a}\
             {thoughts},\"totalTokenCount\":{}}}",
            cached_count(r),
            p + a + t
        )
    }
}

/// `,"cachedContentTokenCount":N` with `--prefix-cache`, else nothing.
fn cached_count(reply: &Reply) -> String {
    match reply.cached_tokens {
        Some(cached) => format!(",\"cachedContentTokenCount\":{cached}"),
        None => String::new(),
    }
}

impl Framer for GeminiChunks {
    fn preamble(&mut self, _buf: &mut BytesMut) {}

    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
        buf.extend_from_slice(HEAD.as_bytes());
        buf.extend_from_slice(b"{\"text\":\"");
        buf.extend_from_slice(chunk.text.as_bytes());
        buf.extend_from_slice(match chunk.part {
            Part::Reasoning => b"\",\"thought\":true}".as_slice(),
            Part::Answer => b"\"}",
        });
        buf.extend_from_slice(self.tail.as_bytes());
    }

    fn finish(&mut self, buf: &mut BytesMut) {
        let reason = finish_reason(&self.reply);
        let _ = write!(
            buf,
            "{HEAD}{{\"text\":\"\"}}],\"role\":\"model\"}},\"finishReason\":\"{reason}\",\
             \"index\":0}}]{}{}",
            self.final_usage(),
            self.ids
        );
    }

    fn error(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(
            b"data: {\"error\":{\"code\":500,\"message\":\"mock in-stream error\",\
              \"status\":\"INTERNAL\"}}\n\n",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::collect_shape;
    use crate::fault::Fault;
    use crate::reply::testing::data_events;
    use crate::words::{mock_reasoning_text, mock_text};
    use serde_json::Value;

    async fn run(reply: Reply, fault: Option<Fault>) -> Vec<Value> {
        let shape = reply.shape;
        data_events(&collect_shape(GeminiChunks::new(reply), shape, fault).await)
    }

    /// The text of the parts whose `thought` flag is `thought`.
    fn text(ev: &[Value], thought: bool) -> String {
        ev.iter()
            .flat_map(|e| e["candidates"][0]["content"]["parts"].as_array().cloned().unwrap())
            .filter(|p| p["thought"].as_bool().unwrap_or(false) == thought)
            .map(|p| p["text"].as_str().unwrap().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn thoughts_then_text_then_finish() {
        let ev = run(Reply::test(3, 4, 2), None).await;
        assert_eq!(ev.len(), 2 + 2 + 1);
        assert_eq!(ev[0]["candidates"][0]["content"]["parts"][0]["thought"], true);
        assert!(ev[2]["candidates"][0]["content"]["parts"][0].get("thought").is_none());
        assert_eq!(text(&ev, true), mock_reasoning_text(3));
        assert_eq!(text(&ev, false), mock_text(4));
        assert!(ev[..4].iter().all(|e| e["candidates"][0].get("finishReason").is_none()));
        assert!(ev[..4].iter().all(|e| e["usageMetadata"]["promptTokenCount"] == 4));
        let last = &ev[4];
        assert_eq!(last["candidates"][0]["finishReason"], "STOP");
        assert_eq!(last["candidates"][0]["content"]["role"], "model");
        let usage = &last["usageMetadata"];
        assert_eq!(usage["candidatesTokenCount"], 4, "answer only");
        assert_eq!(usage["thoughtsTokenCount"], 3);
        assert_eq!(usage["totalTokenCount"], 11);
        assert_eq!(last["modelVersion"], "m\"x");
    }

    #[tokio::test]
    async fn usage_off_and_capped() {
        let ev = run(Reply::test(0, 2, 1).truncated().without_usage(), None).await;
        assert!(ev.iter().all(|e| e.get("usageMetadata").is_none()));
        assert_eq!(ev[2]["candidates"][0]["finishReason"], "MAX_TOKENS");
        assert!(
            run(Reply::test(0, 2, 1), None).await[2]["usageMetadata"]
                .get("thoughtsTokenCount")
                .is_none()
        );
    }

    #[tokio::test]
    async fn cached_content_only_with_the_prefix_cache() {
        let ev = run(Reply::test(0, 2, 1).cached(), None).await;
        assert!(ev.iter().all(|e| e["usageMetadata"]["cachedContentTokenCount"] == 32));
        assert!(ev.iter().all(|e| e["usageMetadata"]["promptTokenCount"] == 40), "cache included");
        let whole = generate_content(&Reply::test(0, 2, 1).cached());
        assert_eq!(whole["usageMetadata"]["cachedContentTokenCount"], 32);
        let ev = run(Reply::test(0, 2, 1), None).await;
        assert!(ev.iter().all(|e| e["usageMetadata"].get("cachedContentTokenCount").is_none()));
        assert!(
            generate_content(&Reply::test(0, 2, 1))["usageMetadata"]
                .get("cachedContentTokenCount")
                .is_none()
        );
    }

    #[tokio::test]
    async fn error_payload() {
        let ev = run(Reply::test(0, 3, 1), Some(Fault::Error(1))).await;
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[1]["error"]["status"], "INTERNAL");
        assert_eq!(ev[1]["error"]["code"], 500);
    }
}
