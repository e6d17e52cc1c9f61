//! Hugging Face TGI, `POST /generate_stream`: SSE events framed `data:<json>` (no space, as
//! TGI writes them), one per token: `{"index","token":{"id","text","logprob","special"},
//! "generated_text":null,"details":null}`.
//!
//! A chunk of several tokens is several events in one write, since a TGI event holds exactly
//! one token. The end is the EOS token (`special: true`) carrying `generated_text` and
//! `details` (`finish_reason: "eos_token"`, `generated_tokens` counting the EOS); when
//! `parameters.max_new_tokens` cut the answer, the last text token carries them instead with
//! `finish_reason: "length"`, as TGI does. No reasoning field: `--reasoning-tokens` does not
//! apply.
//!
//! `POST /generate` answers whole: `{"generated_text", "details"}` with the same details.

use std::fmt::Write as _;

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::driver::{Chunk, Framer};
use crate::reply::{Reply, json_str};
use crate::words::{WORDS, mock_text, word};

/// Frames a TGI stream.
pub(crate) struct TgiEvents {
    reply: Reply,
    /// The final event was sent (on the last token when capped).
    ended: bool,
}

impl TgiEvents {
    pub(crate) fn new(reply: Reply) -> TgiEvents {
        TgiEvents { reply, ended: false }
    }

    /// `,"generated_text":…,"details":{…}}` of the final event.
    fn final_fields(&self, buf: &mut BytesMut, finish_reason: &str, generated: u64) {
        let text = json_str(&mock_text(self.reply.tokens()));
        let count = if self.reply.usage {
            format!(",\"generated_tokens\":{generated}")
        } else {
            String::new()
        };
        let _ = write!(
            buf,
            ",\"generated_text\":{text},\"details\":{{\"finish_reason\":\"{finish_reason}\"\
             {count},\"seed\":null}}}}\n\n"
        );
    }
}

/// `length` when `max_new_tokens` cut the answer, else `eos_token`; and the generated tokens,
/// which count the EOS token when there is one.
fn end_of(reply: &Reply) -> (&'static str, u64) {
    match reply.capped() {
        true => ("length", reply.tokens()),
        false => ("eos_token", reply.tokens() + 1),
    }
}

/// The whole answer of `/generate` (non-streaming requests).
pub(crate) fn generated(reply: &Reply) -> Value {
    let (finish_reason, generated) = end_of(reply);
    let mut details = json!({"finish_reason": finish_reason});
    if reply.usage {
        details["generated_tokens"] = json!(generated);
    }
    details["seed"] = Value::Null;
    json!({"generated_text": mock_text(reply.tokens()), "details": details})
}

/// What a failing whole answer (`fail=error:k`) is instead: TGI's error object.
pub(crate) fn whole_error() -> Value {
    json!({"error": "mock in-stream error", "error_type": "generation"})
}

/// A mock vocabulary id per answer word, stable across responses.
fn token_id(k: u64) -> u64 {
    1000 + k % WORDS.len() as u64
}

impl Framer for TgiEvents {
    fn preamble(&mut self, _buf: &mut BytesMut) {}

    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
        for k in chunk.first..chunk.first + chunk.tokens {
            let _ = write!(
                buf,
                "data:{{\"index\":{},\"token\":{{\"id\":{},\"text\":\"{}\",\"logprob\":-0.25,\
                 \"special\":false}}",
                k + 1,
                token_id(k),
                word(k)
            );
            let last = chunk.last && k + 1 == chunk.first + chunk.tokens;
            if last && self.reply.capped() {
                self.ended = true;
                self.final_fields(buf, "length", self.reply.tokens());
            } else {
                buf.extend_from_slice(b",\"generated_text\":null,\"details\":null}\n\n");
            }
        }
    }

    fn finish(&mut self, buf: &mut BytesMut) {
        if self.ended {
            return;
        }
        let n = self.reply.tokens();
        let _ = write!(
            buf,
            "data:{{\"index\":{},\"token\":{{\"id\":2,\"text\":\"</s>\",\"logprob\":-0.01,\
             \"special\":true}}",
            n + 1
        );
        let reason = if self.reply.capped() { "length" } else { "eos_token" };
        self.final_fields(buf, reason, n + 1);
    }

    fn error(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(
            b"data:{\"error\":\"mock in-stream error\",\"error_type\":\"generation\"}\n\n",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::collect_chunks;
    use crate::fault::Fault;
    use crate::reply::testing::{data_events, joined};
    use serde_json::Value;

    async fn run(reply: Reply, fault: Option<Fault>) -> Vec<String> {
        let shape = reply.shape;
        collect_chunks(TgiEvents::new(reply), shape, fault).await
    }

    fn events(chunks: &[String]) -> Vec<Value> {
        let out = chunks.concat();
        assert!(out.lines().all(|l| l.is_empty() || l.starts_with("data:{")), "{out}");
        data_events(&out)
    }

    #[tokio::test]
    async fn one_event_per_token_then_eos_with_details() {
        let chunks = run(Reply::test(0, 5, 2), None).await;
        assert_eq!(chunks.len(), 3 + 1, "3 writes of 2+2+1 tokens, then the EOS event");
        assert_eq!(chunks[0].matches("data:").count(), 2);
        let ev = events(&chunks);
        assert_eq!(ev.len(), 6);
        let indices: Vec<_> = ev.iter().map(|e| e["index"].as_u64().unwrap()).collect();
        assert_eq!(indices, [1, 2, 3, 4, 5, 6]);
        let visible: Vec<Value> =
            ev.iter().filter(|e| e["token"]["special"] == false).cloned().collect();
        assert_eq!(joined(&visible, "/token/text"), mock_text(5));
        assert!(ev[..5].iter().all(|e| e["details"].is_null() && e["generated_text"].is_null()));
        let last = &ev[5];
        assert_eq!(last["token"]["special"], true);
        assert_eq!(last["generated_text"], mock_text(5));
        assert_eq!(last["details"]["finish_reason"], "eos_token");
        assert_eq!(last["details"]["generated_tokens"], 6, "the EOS counts");
    }

    #[tokio::test]
    async fn capped_ends_on_the_last_token_and_usage_off() {
        let ev = events(&run(Reply::test(0, 3, 1).truncated().without_usage(), None).await);
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[2]["token"]["special"], false);
        assert_eq!(ev[2]["details"]["finish_reason"], "length");
        assert!(ev[2]["details"].get("generated_tokens").is_none());
        assert_eq!(ev[2]["generated_text"], mock_text(3));
    }

    #[tokio::test]
    async fn error_event() {
        let ev = events(&run(Reply::test(0, 3, 1), Some(Fault::Error(1))).await);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[1]["error_type"], "generation");
    }
}
