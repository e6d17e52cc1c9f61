//! Ollama, `POST /api/chat` and `POST /api/generate`: NDJSON (`application/x-ndjson`), one JSON
//! object per line; with `"stream": false` one JSON object, the last line's fields with the
//! whole text.
//!
//! Chat lines carry `message.content` (reasoning in `message.thinking` with empty content),
//! generate lines `response` (and `thinking`). The last line has `"done": true`,
//! `done_reason` (`stop`, or `length` when `options.num_predict` cut it), the durations in
//! nanoseconds and the counts `prompt_eval_count` and `eval_count` (reasoning included).

use std::fmt::Write as _;

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::driver::{Chunk, Framer};
use crate::reply::Reply;
use crate::words::{Part, mock_reasoning_text, mock_text};

/// Which Ollama endpoint is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `/api/chat`: text in `message`.
    Chat,
    /// `/api/generate`: text in `response`.
    Generate,
}

/// Frames an Ollama stream.
pub(crate) struct OllamaLines {
    reply: Reply,
    endpoint: Endpoint,
    /// `{"model":…,"created_at":…,` opening every line.
    head: String,
}

impl OllamaLines {
    pub(crate) fn new(reply: Reply, endpoint: Endpoint) -> OllamaLines {
        // One timestamp per response: a fresh one per line would cost a clock read and a
        // format for nothing a client measures.
        let head = format!(
            "{{\"model\":{},\"created_at\":\"{}\",",
            reply.model_json(),
            jiff::Timestamp::now()
        );
        OllamaLines { reply, endpoint, head }
    }

    /// The text fields of one line: `text` as content or as thinking.
    fn text_fields(&self, buf: &mut BytesMut, part: Part, text: &str) {
        let _ = match (self.endpoint, part) {
            (Endpoint::Chat, Part::Answer) => {
                write!(buf, "\"message\":{{\"role\":\"assistant\",\"content\":\"{text}\"}}")
            }
            (Endpoint::Chat, Part::Reasoning) => write!(
                buf,
                "\"message\":{{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"{text}\"}}"
            ),
            (Endpoint::Generate, Part::Answer) => write!(buf, "\"response\":\"{text}\""),
            (Endpoint::Generate, Part::Reasoning) => {
                write!(buf, "\"response\":\"\",\"thinking\":\"{text}\"")
            }
        };
    }
}

impl Framer for OllamaLines {
    fn preamble(&mut self, _buf: &mut BytesMut) {}

    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
        buf.extend_from_slice(self.head.as_bytes());
        self.text_fields(buf, chunk.part, chunk.text);
        buf.extend_from_slice(b",\"done\":false}\n");
    }

    fn finish(&mut self, buf: &mut BytesMut) {
        let r = &self.reply;
        buf.extend_from_slice(self.head.as_bytes());
        self.text_fields(buf, Part::Answer, "");
        let reason = if r.capped() { "length" } else { "stop" };
        let total = nanos(r.start.elapsed());
        let prompt = nanos(r.ttft).min(total);
        let _ = write!(
            buf,
            ",\"done_reason\":\"{reason}\",\"done\":true,\"total_duration\":{total},\
             \"load_duration\":0"
        );
        if r.usage {
            let _ = write!(buf, ",\"prompt_eval_count\":{}", r.prompt_tokens);
        }
        let _ = write!(buf, ",\"prompt_eval_duration\":{prompt}");
        if r.usage {
            let _ = write!(buf, ",\"eval_count\":{}", r.output_tokens());
        }
        let _ = writeln!(buf, ",\"eval_duration\":{}}}", total - prompt);
    }

    fn error(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(b"{\"error\":\"mock in-stream error\"}\n");
    }
}

/// The whole answer of `endpoint` (`"stream": false`): the done line with the whole text.
pub(crate) fn whole(reply: &Reply, endpoint: Endpoint) -> Value {
    let mut lines = OllamaLines::new(reply.clone(), endpoint);
    let mut buf = BytesMut::new();
    lines.finish(&mut buf);
    let mut answer: Value = serde_json::from_slice(&buf).expect("the done line is JSON");
    let (text, thinking) = (mock_text(reply.tokens()), mock_reasoning_text(reply.reasoning()));
    let fields = match endpoint {
        Endpoint::Chat => &mut answer["message"],
        Endpoint::Generate => &mut answer,
    };
    let text_key = if endpoint == Endpoint::Chat { "content" } else { "response" };
    fields[text_key] = json!(text);
    if reply.reasoning() > 0 {
        fields["thinking"] = json!(thinking);
    }
    answer
}

/// What a failing whole answer (`fail=error:k`) is instead: Ollama's error object.
pub(crate) fn whole_error() -> Value {
    json!({"error": "mock in-stream error"})
}

/// Nanoseconds, saturating.
fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::collect_chunks;
    use crate::fault::Fault;
    use crate::reply::testing::joined;
    use crate::words::{mock_reasoning_text, mock_text};
    use serde_json::Value;

    async fn run(reply: Reply, endpoint: Endpoint, fault: Option<Fault>) -> Vec<Value> {
        let shape = reply.shape;
        let chunks = collect_chunks(OllamaLines::new(reply, endpoint), shape, fault).await;
        let out = chunks.concat();
        assert!(out.ends_with('\n'), "{out:?}");
        out.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
    }

    #[tokio::test]
    async fn chat_thinking_then_content_then_done() {
        let lines = run(Reply::test(3, 4, 2), Endpoint::Chat, None).await;
        assert_eq!(lines.len(), 2 + 2 + 1);
        assert_eq!(joined(&lines, "/message/thinking"), mock_reasoning_text(3));
        assert_eq!(joined(&lines, "/message/content"), mock_text(4));
        assert!(lines[..2].iter().all(|l| l["message"]["content"] == ""));
        assert!(lines[..4].iter().all(|l| l["done"] == false && l["model"] == "m\"x"));
        let done = &lines[4];
        assert_eq!(done["done"], true);
        assert_eq!(done["done_reason"], "stop");
        assert_eq!(done["eval_count"], 7);
        assert_eq!(done["prompt_eval_count"], 4);
        assert!(done["total_duration"].as_u64().is_some());
    }

    #[tokio::test]
    async fn generate_fields_usage_off_and_capped() {
        let reply = Reply::test(1, 2, 1).truncated().without_usage();
        let lines = run(reply, Endpoint::Generate, None).await;
        assert_eq!(lines[0]["thinking"], mock_reasoning_text(1));
        assert_eq!(joined(&lines, "/response"), mock_text(2));
        let done = lines.last().unwrap();
        assert_eq!(
            (done["done"].clone(), done["done_reason"].clone()),
            (true.into(), "length".into())
        );
        assert!(done.get("eval_count").is_none() && done.get("prompt_eval_count").is_none());
        assert!(lines.iter().all(|l| l.get("message").is_none()));
    }

    #[tokio::test]
    async fn error_line() {
        let lines = run(Reply::test(0, 3, 1), Endpoint::Chat, Some(Fault::Error(2))).await;
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2], serde_json::json!({"error": "mock in-stream error"}));
    }
}
