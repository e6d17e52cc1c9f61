//! OpenAI legacy completions, `POST /v1/completions`: `text_completion` chunks carrying
//! `choices[0].text`, a last chunk with `finish_reason`, the optional usage chunk, `[DONE]`.
//!
//! There is no role chunk (the first chunk already carries text) and no reasoning field, so
//! `--reasoning-tokens` does not apply. Usage options are the chat route's.

use bytes::BytesMut;
use serde_json::{Value, json};

use super::openai::{ERROR_EVENT, StreamOptions, finish_reason, whole_answer};
use crate::driver::{Chunk, Framer};
use crate::reply::Reply;
use crate::words::mock_text;

/// The whole answer as one `text_completion` object (non-streaming requests).
pub(crate) fn text_completion(reply: &Reply) -> Value {
    let choice = json!({
        "text": mock_text(reply.tokens()),
        "index": 0,
        "logprobs": null,
        "finish_reason": finish_reason(reply),
    });
    whole_answer(reply, &format!("cmpl-mock-{}", reply.id), "text_completion", choice)
}

/// Frames a streaming legacy completion.
pub(crate) struct CompletionChunks {
    reply: Reply,
    options: StreamOptions,
    /// `data: {"id":…,"object":"text_completion","created":…,"choices":[` before each choice.
    head: String,
    /// `],"model":…` after it (the field order of the real API).
    tail: String,
}

impl CompletionChunks {
    pub(crate) fn new(reply: Reply, options: StreamOptions) -> CompletionChunks {
        let head = format!(
            "data: {{\"id\":\"cmpl-mock-{}\",\"object\":\"text_completion\",\"created\":{},\
             \"choices\":[",
            reply.id, reply.created
        );
        let tail = format!("],\"model\":{}", reply.model_json());
        let options = options.for_reply(&reply);
        CompletionChunks { reply, options, head, tail }
    }

    /// One chunk with one choice of `text` and `finish_reason` (a JSON literal).
    fn write(&self, buf: &mut BytesMut, text: &str, finish_reason: &str, completion: u64) {
        buf.extend_from_slice(self.head.as_bytes());
        buf.extend_from_slice(b"{\"text\":\"");
        buf.extend_from_slice(text.as_bytes());
        buf.extend_from_slice(b"\",\"index\":0,\"logprobs\":null,\"finish_reason\":");
        buf.extend_from_slice(finish_reason.as_bytes());
        buf.extend_from_slice(b"}");
        buf.extend_from_slice(self.tail.as_bytes());
        self.options.close_chunk(buf, &self.reply, completion);
    }
}

impl Framer for CompletionChunks {
    fn preamble(&mut self, _buf: &mut BytesMut) {}

    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
        self.write(buf, chunk.text, "null", chunk.output_so_far(0));
    }

    fn finish(&mut self, buf: &mut BytesMut) {
        let reason = format!("\"{}\"", finish_reason(&self.reply));
        self.write(buf, "", &reason, self.reply.tokens());
        self.options.end(buf, &self.reply, |buf| {
            buf.extend_from_slice(self.head.as_bytes());
            buf.extend_from_slice(self.tail.as_bytes());
            buf.extend_from_slice(b",");
        });
    }

    fn error(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(ERROR_EVENT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{collect, collect_chunks};
    use crate::fault::Fault;
    use crate::reply::testing::{data_events as events, joined};

    fn framer(reply: Reply, include_usage: bool, continuous: bool) -> CompletionChunks {
        CompletionChunks::new(reply, StreamOptions { include_usage, continuous })
    }

    #[tokio::test]
    async fn text_then_finish_usage_and_done() {
        let out = collect(framer(Reply::test(0, 3, 1), true, false), 3, None).await;
        let ev = events(&out);
        assert_eq!(ev.len(), 3 + 1 + 1 + 1, "{out}");
        assert!(ev[..4].iter().all(|e| e["object"] == "text_completion" && e["model"] == "m\"x"));
        assert_eq!(joined(&ev[..3], "/choices/0/text"), mock_text(3));
        assert!(ev[0]["choices"][0]["finish_reason"].is_null());
        assert_eq!(ev[3]["choices"][0]["text"], "");
        assert_eq!(ev[3]["choices"][0]["finish_reason"], "stop");
        assert_eq!(ev[4]["choices"], json!([]));
        assert_eq!(ev[4]["usage"]["completion_tokens"], 3);
        assert_eq!(ev[5], Value::Null);
    }

    #[tokio::test]
    async fn chunks_continuous_usage_and_usage_off() {
        let reply = Reply::test(0, 5, 2);
        let shape = reply.shape;
        let chunks = collect_chunks(framer(reply, false, true), shape, None).await;
        assert_eq!(chunks.len(), 3 + 1, "2+2+1 tokens, then finish and [DONE] in one write");
        let ev = events(&chunks.concat());
        assert_eq!(ev[1]["choices"][0]["text"], ", this");
        let running: Vec<_> =
            ev[..4].iter().map(|e| e["usage"]["completion_tokens"].clone()).collect();
        assert_eq!(running, [2, 4, 5, 5].map(Value::from));

        let reply = Reply::test(0, 2, 1).without_usage();
        let out = collect(framer(reply.clone(), true, true), 2, None).await;
        assert!(!out.contains("usage"), "{out}");
        assert!(text_completion(&reply).get("usage").is_none());
    }

    #[tokio::test]
    async fn in_stream_error() {
        let out = collect(framer(Reply::test(0, 3, 1), false, false), 3, Some(Fault::Error(2)));
        let ev = events(&out.await);
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[2]["error"]["type"], "server_error");
    }
}
