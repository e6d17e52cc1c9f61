//! OpenAI-compatible `POST /v1/chat/completions`: `chat.completion.chunk` events framed as
//! `data: <json>\n\n`, then `data: [DONE]`; or one `chat.completion` object when not streaming.
//!
//! The invariant part of every chunk (id, created, model) is formatted once per request; a
//! token chunk is that prefix, the token and a fixed suffix copied into the reused buffer.

use bytes::BytesMut;
use serde_json::{Value, json};

use super::driver::Framer;
use super::plan::mock_text;

/// What an OpenAI response needs to know about its request.
#[derive(Debug, Clone)]
pub(crate) struct OpenAiRequest {
    /// Sequence number, shown as `chatcmpl-mock-<id>`.
    pub id: u64,
    /// Unix seconds.
    pub created: i64,
    /// The request's `model`, or "mock".
    pub model: String,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// Estimated from the request body.
    pub prompt_tokens: u64,
    /// Content tokens in the answer.
    pub tokens: u64,
    /// `max_tokens` cut the answer: finish reason "length".
    pub capped: bool,
}

impl OpenAiRequest {
    /// Reads `model` and `stream_options.include_usage` from the body.
    pub(crate) fn from_body(body: &Value) -> (String, bool) {
        let model = body.get("model").and_then(Value::as_str).unwrap_or("mock").to_owned();
        let include_usage =
            body.pointer("/stream_options/include_usage").and_then(Value::as_bool).unwrap_or(false);
        (model, include_usage)
    }

    fn finish_reason(&self) -> &'static str {
        if self.capped { "length" } else { "stop" }
    }

    fn usage(&self) -> Value {
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.tokens,
            "total_tokens": self.prompt_tokens + self.tokens,
        })
    }

    /// The whole answer as one `chat.completion` object (non-streaming requests).
    pub(crate) fn completion(&self) -> Value {
        json!({
            "id": format!("chatcmpl-mock-{}", self.id),
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": mock_text(self.tokens)},
                "finish_reason": self.finish_reason(),
            }],
            "usage": self.usage(),
        })
    }
}

/// Frames a streaming chat completion.
pub(crate) struct OpenAiChunks {
    req: OpenAiRequest,
    /// `data: {"id":…,"object":…,"created":…,"model":…,` shared by every chunk.
    head: String,
}

impl OpenAiChunks {
    pub(crate) fn new(req: OpenAiRequest) -> OpenAiChunks {
        let model = serde_json::to_string(&req.model).expect("a string serializes");
        let head = format!(
            "data: {{\"id\":\"chatcmpl-mock-{}\",\"object\":\"chat.completion.chunk\",\
             \"created\":{},\"model\":{model},",
            req.id, req.created
        );
        OpenAiChunks { req, head }
    }
}

impl Framer for OpenAiChunks {
    fn preamble(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(self.head.as_bytes());
        buf.extend_from_slice(
            br#""choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
        );
        buf.extend_from_slice(b"\n\n");
    }

    fn token(&mut self, token: &str, buf: &mut BytesMut) {
        buf.extend_from_slice(self.head.as_bytes());
        buf.extend_from_slice(br#""choices":[{"index":0,"delta":{"content":""#);
        buf.extend_from_slice(token.as_bytes());
        buf.extend_from_slice(b"\"},\"finish_reason\":null}]}\n\n");
    }

    fn finish(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(self.head.as_bytes());
        buf.extend_from_slice(br#""choices":[{"index":0,"delta":{},"finish_reason":""#);
        buf.extend_from_slice(self.req.finish_reason().as_bytes());
        buf.extend_from_slice(b"\"}]}\n\n");
        if self.req.include_usage {
            buf.extend_from_slice(self.head.as_bytes());
            buf.extend_from_slice(br#""choices":[],"usage":"#);
            buf.extend_from_slice(self.req.usage().to_string().as_bytes());
            buf.extend_from_slice(b"}\n\n");
        }
        buf.extend_from_slice(b"data: [DONE]\n\n");
    }

    fn error(&mut self, buf: &mut BytesMut) {
        buf.extend_from_slice(
            br#"data: {"error":{"message":"mock in-stream error","type":"server_error"}}"#,
        );
        buf.extend_from_slice(b"\n\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::driver::collect;
    use crate::mock::plan::Fault;

    fn request(include_usage: bool) -> OpenAiRequest {
        OpenAiRequest {
            id: 7,
            created: 1,
            model: "m\"x".into(),
            include_usage,
            prompt_tokens: 4,
            tokens: 2,
            capped: true,
        }
    }

    fn events(text: &str) -> Vec<Value> {
        text.split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| {
                let data = e.strip_prefix("data: ").expect("data: framing");
                if data == "[DONE]" {
                    Value::Null
                } else {
                    serde_json::from_str(data).expect("valid JSON event")
                }
            })
            .collect()
    }

    #[tokio::test]
    async fn chunks_are_valid_json() {
        let out = collect(OpenAiChunks::new(request(true)), 2, None).await;
        let ev = events(&out);
        assert_eq!(ev.len(), 6, "{out}");
        assert_eq!(ev[0]["model"], "m\"x");
        assert_eq!(ev[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(ev[2]["choices"][0]["delta"]["content"], " world");
        assert_eq!(ev[3]["choices"][0]["finish_reason"], "length");
        assert_eq!(ev[4]["usage"]["total_tokens"], 6);
        assert_eq!(ev[5], Value::Null);

        let out = collect(OpenAiChunks::new(request(false)), 2, Some(Fault::Error(1))).await;
        let ev = events(&out);
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[2]["error"]["type"], "server_error");
    }

    #[test]
    fn completion_object() {
        let c = request(false).completion();
        assert_eq!(c["choices"][0]["message"]["content"], "Hello world");
        assert_eq!(c["usage"]["completion_tokens"], 2);
    }
}
