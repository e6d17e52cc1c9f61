//! OpenAI-compatible `POST /v1/chat/completions`: `chat.completion.chunk` events framed as
//! `data: <json>\n\n`, then `data: [DONE]`; or one `chat.completion` object when not streaming.
//!
//! Reasoning goes in `delta.reasoning_content` with `"content": null`, as DeepSeek and Qwen
//! send it. `stream_options.include_usage` adds the usage chunk (`choices: []`) before
//! `[DONE]`; vLLM's `stream_options.continuous_usage_stats` puts the running `usage` on every
//! chunk. With `--prefix-cache` the final usage (not the running one, as in vLLM) tells the
//! cached prompt tokens in `prompt_tokens_details.cached_tokens`. The invariant part of every
//! chunk (id, created, model) is formatted once per request.

use std::fmt::Write as _;

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::driver::{Chunk, Framer};
use crate::reply::Reply;
use crate::words::{Part, mock_reasoning_text, mock_text};

/// The `stream_options` the OpenAI routes honour.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StreamOptions {
    /// `include_usage`: a usage-only chunk before `[DONE]`.
    pub include_usage: bool,
    /// `continuous_usage_stats` (vLLM): running usage on every chunk.
    pub continuous: bool,
}

impl StreamOptions {
    /// Reads `stream_options` from the body; anything missing is false.
    pub(crate) fn from_body(body: &Value) -> StreamOptions {
        let flag = |p: &str| body.pointer(p).and_then(Value::as_bool).unwrap_or(false);
        StreamOptions {
            include_usage: flag("/stream_options/include_usage"),
            continuous: flag("/stream_options/continuous_usage_stats"),
        }
    }

    /// The options in effect for `reply`: none with `?usage=false`.
    pub(crate) fn for_reply(self, reply: &Reply) -> StreamOptions {
        if reply.usage { self } else { StreamOptions::default() }
    }

    /// Closes a chunk: the running usage (`completion` tokens so far) when asked for, then `}`
    /// and the blank line.
    pub(crate) fn close_chunk(self, buf: &mut BytesMut, reply: &Reply, completion: u64) {
        if self.continuous {
            running_usage(buf, reply.prompt_tokens, completion);
        }
        buf.extend_from_slice(b"}\n\n");
    }

    /// Ends the stream after the finish chunk: the usage-only chunk when asked for (`open`
    /// writes it up to its `"usage":` field), then `[DONE]`.
    pub(crate) fn end(self, buf: &mut BytesMut, reply: &Reply, open: impl FnOnce(&mut BytesMut)) {
        if self.include_usage {
            open(buf);
            buf.extend_from_slice(b"\"usage\":");
            buf.extend_from_slice(usage(reply).to_string().as_bytes());
            buf.extend_from_slice(b"}\n\n");
        }
        buf.extend_from_slice(b"data: [DONE]\n\n");
    }
}

/// What both OpenAI routes answer instead of a whole answer that fails (`fail=error:k`).
pub(crate) fn whole_error() -> Value {
    json!({"error": {"message": "mock in-stream error", "type": "server_error"}})
}

/// The in-stream error event of both OpenAI streaming routes.
pub(crate) const ERROR_EVENT: &[u8] =
    b"data: {\"error\":{\"message\":\"mock in-stream error\",\"type\":\"server_error\"}}\n\n";

/// `"stop"`, or `"length"` when the max-tokens field cut the output.
pub(crate) fn finish_reason(reply: &Reply) -> &'static str {
    if reply.capped() { "length" } else { "stop" }
}

/// The final usage object, reasoning included in `completion_tokens`, and with
/// `--prefix-cache` the cached prompt tokens in `prompt_tokens_details.cached_tokens`.
pub(crate) fn usage(reply: &Reply) -> Value {
    let completion = reply.output_tokens();
    let mut usage = json!({
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": reply.prompt_tokens + completion,
    });
    if let Some(cached) = reply.cached_tokens {
        usage["prompt_tokens_details"] = json!({"cached_tokens": cached});
    }
    usage["completion_tokens_details"] = json!({"reasoning_tokens": reply.reasoning()});
    usage
}

/// Appends `,"usage":{…}` with `completion` tokens so far (continuous usage).
fn running_usage(buf: &mut BytesMut, prompt: u64, completion: u64) {
    let total = prompt + completion;
    // Writing into a BytesMut cannot fail.
    let _ = write!(
        buf,
        ",\"usage\":{{\"prompt_tokens\":{prompt},\"completion_tokens\":{completion},\
         \"total_tokens\":{total}}}"
    );
}

/// A whole (non-streaming) answer: `id`, `object`, `created`, `model` and `choices`, then
/// the usage unless `?usage=false`.
pub(crate) fn whole_answer(reply: &Reply, id: &str, object: &str, choice: Value) -> Value {
    let mut c = json!({
        "id": id,
        "object": object,
        "created": reply.created,
        "model": reply.model,
        "choices": [choice],
    });
    if reply.usage {
        c["usage"] = usage(reply);
    }
    c
}

/// The whole answer as one `chat.completion` object (non-streaming requests).
pub(crate) fn chat_completion(reply: &Reply) -> Value {
    let mut message = json!({"role": "assistant", "content": mock_text(reply.tokens())});
    if reply.reasoning() > 0 {
        message["reasoning_content"] = json!(mock_reasoning_text(reply.reasoning()));
    }
    let choice = json!({"index": 0, "message": message, "finish_reason": finish_reason(reply)});
    whole_answer(reply, &format!("chatcmpl-mock-{}", reply.id), "chat.completion", choice)
}

/// Frames a streaming chat completion.
pub(crate) struct OpenAiChunks {
    reply: Reply,
    options: StreamOptions,
    /// `data: {"id":…,"object":…,"created":…,"model":…,` shared by every chunk.
    head: String,
}

impl OpenAiChunks {
    pub(crate) fn new(reply: Reply, options: StreamOptions) -> OpenAiChunks {
        let head = format!(
            "data: {{\"id\":\"chatcmpl-mock-{}\",\"object\":\"chat.completion.chunk\",\
             \"created\":{},\"model\":{},",
            reply.id,
            reply.created,
            reply.model_json()
        );
        let options = options.for_reply(&reply);
        OpenAiChunks { reply, options, head }
    }

    /// Closes a chunk: running usage when asked for, then `}` and the blank line.
    fn close(&self, buf: &mut BytesMut, completion: u64) {
        self.options.close_chunk(buf, &self.reply, completion);
    }
}

impl Framer for OpenAiChunks {
    fn preamble(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(self.head.as_bytes());
        buf.extend_from_slice(
            br#""choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]"#,
        );
        self.close(buf, 0);
    }

    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
        buf.extend_from_slice(self.head.as_bytes());
        buf.extend_from_slice(match chunk.part {
            Part::Answer => br#""choices":[{"index":0,"delta":{"content":""#.as_slice(),
            Part::Reasoning => {
                br#""choices":[{"index":0,"delta":{"content":null,"reasoning_content":""#
            }
        });
        buf.extend_from_slice(chunk.text.as_bytes());
        buf.extend_from_slice(br#""},"finish_reason":null}]"#);
        self.close(buf, chunk.output_so_far(self.reply.reasoning()));
    }

    fn finish(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(self.head.as_bytes());
        buf.extend_from_slice(br#""choices":[{"index":0,"delta":{},"finish_reason":""#);
        buf.extend_from_slice(finish_reason(&self.reply).as_bytes());
        buf.extend_from_slice(b"\"}]");
        self.close(buf, self.reply.output_tokens());
        self.options.end(buf, &self.reply, |buf| {
            buf.extend_from_slice(self.head.as_bytes());
            buf.extend_from_slice(br#""choices":[],"#);
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

    fn options(include_usage: bool, continuous: bool) -> StreamOptions {
        StreamOptions { include_usage, continuous }
    }

    #[tokio::test]
    async fn chunks_are_valid_json() {
        let reply = Reply::test(0, 2, 1).truncated();
        let out = collect(OpenAiChunks::new(reply, options(true, false)), 2, None).await;
        let ev = events(&out);
        assert_eq!(ev.len(), 6, "{out}");
        assert_eq!(ev[0]["model"], "m\"x");
        assert_eq!(ev[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(ev[2]["choices"][0]["delta"]["content"], " world");
        assert_eq!(ev[3]["choices"][0]["finish_reason"], "length");
        assert_eq!(ev[4]["usage"]["total_tokens"], 6);
        assert!(ev[1].get("usage").is_none(), "no running usage unless asked for");
        assert_eq!(ev[5], Value::Null);

        let reply = Reply::test(0, 2, 1);
        let out =
            collect(OpenAiChunks::new(reply, options(false, false)), 2, Some(Fault::Error(1)));
        let ev = events(&out.await);
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[2]["error"]["type"], "server_error");
    }

    #[tokio::test]
    async fn reasoning_first_and_counted_in_usage() {
        let reply = Reply::test(5, 4, 2);
        let shape = reply.shape;
        let chunks = collect_chunks(OpenAiChunks::new(reply, options(true, false)), shape, None);
        let chunks = chunks.await;
        // Preamble, 3 reasoning chunks (2+2+1), 2 answer chunks, then finish+usage+[DONE].
        assert_eq!(chunks.len(), 1 + 3 + 2 + 1, "{chunks:?}");
        let ev = events(&chunks.concat());
        assert_eq!(joined(&ev[1..4], "/choices/0/delta/reasoning_content"), mock_reasoning_text(5));
        assert!(ev[1..4].iter().all(|e| e["choices"][0]["delta"]["content"].is_null()));
        assert_eq!(joined(&ev[4..6], "/choices/0/delta/content"), mock_text(4));
        assert_eq!(joined(&ev[4..6], "/choices/0/delta/reasoning_content"), "");
        let usage = &ev[7]["usage"];
        assert_eq!(usage["completion_tokens"], 9);
        assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 5);
    }

    #[tokio::test]
    async fn continuous_usage_on_every_chunk() {
        let reply = Reply::test(2, 3, 1);
        let shape = reply.shape;
        let out = collect_chunks(OpenAiChunks::new(reply, options(false, true)), shape, None);
        let ev = events(&out.await.concat());
        // Role, 2 reasoning, 3 answer, finish, [DONE].
        assert_eq!(ev.len(), 8);
        let running: Vec<_> =
            ev[..7].iter().map(|e| e["usage"]["completion_tokens"].clone()).collect();
        assert_eq!(running, [0, 1, 2, 3, 4, 5, 5].map(Value::from));
        assert!(ev[..7].iter().all(|e| e["usage"]["prompt_tokens"] == 4));
    }

    #[tokio::test]
    async fn usage_false_drops_every_usage() {
        let reply = Reply::test(1, 2, 1).without_usage();
        let shape = reply.shape;
        let out =
            collect_chunks(OpenAiChunks::new(reply.clone(), options(true, true)), shape, None);
        let out = out.await.concat();
        assert!(!out.contains("usage"), "{out}");
        assert!(out.ends_with("data: [DONE]\n\n"));
        assert!(chat_completion(&reply).get("usage").is_none());
    }

    #[test]
    fn cached_tokens_only_with_the_prefix_cache() {
        let usage = usage(&Reply::test(0, 2, 1).cached());
        assert_eq!(usage["prompt_tokens"], 40);
        assert_eq!(usage["prompt_tokens_details"], json!({"cached_tokens": 32}));
        let c = chat_completion(&Reply::test(0, 2, 1));
        assert!(c["usage"].get("prompt_tokens_details").is_none(), "{c}");
    }

    #[test]
    fn completion_object() {
        let c = chat_completion(&Reply::test(0, 2, 1));
        assert_eq!(c["choices"][0]["message"]["content"], " Hello world");
        assert!(c["choices"][0]["message"].get("reasoning_content").is_none());
        assert_eq!(c["usage"]["completion_tokens"], 2);
        let c = chat_completion(&Reply::test(3, 2, 1));
        assert_eq!(c["choices"][0]["message"]["reasoning_content"], mock_reasoning_text(3));
        assert_eq!(c["usage"]["completion_tokens"], 5);
    }
}
