//! OpenAI Responses API, `POST /v1/responses`: named SSE events (`event: <type>` and a JSON
//! `data:` whose `type` repeats it), each with a growing `sequence_number`.
//!
//! `response.created`, `response.in_progress`; reasoning as a `reasoning` output item whose
//! summary streams as `response.reasoning_summary_text.delta`; the answer as a `message` item
//! streaming `response.output_text.delta`; every item closed with its `*.done` events; then
//! `response.completed` (`response.incomplete` when `max_output_tokens` cut it) carrying the
//! usage, whose `input_tokens_details.cached_tokens` is always there, as in the API: 0, or
//! with `--prefix-cache` the cached prompt tokens. An injected error is `response.failed` with
//! `response.error`.
//!
//! Without `"stream": true` the answer is that final `response` object alone, sent whole
//! (the `failed` one for an injected error).

use std::fmt::Write as _;

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::driver::{Chunk, Framer};
use crate::reply::Reply;
use crate::words::{Part, mock_reasoning_text, mock_text};

/// Frames a Responses API stream.
pub(crate) struct ResponsesEvents {
    reply: Reply,
    /// The next `sequence_number`.
    seq: u64,
    /// The output item being streamed, if any.
    open: Option<Part>,
    /// `data: {"type":"response.reasoning_summary_text.delta",…,"delta":"`.
    reasoning_head: String,
    /// `data: {"type":"response.output_text.delta",…,"delta":"`.
    text_head: String,
}

impl ResponsesEvents {
    pub(crate) fn new(reply: Reply) -> ResponsesEvents {
        let reasoning_head = format!(
            "event: response.reasoning_summary_text.delta\ndata: {{\"type\":\
             \"response.reasoning_summary_text.delta\",\"item_id\":\"rs_mock_{}\",\
             \"output_index\":0,\"summary_index\":0,\"delta\":\"",
            reply.id
        );
        let text_head = format!(
            "event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\
             \"item_id\":\"msg_mock_{}\",\"output_index\":{},\"content_index\":0,\"delta\":\"",
            reply.id,
            message_index(&reply)
        );
        ResponsesEvents { reply, seq: 0, open: None, reasoning_head, text_head }
    }

    /// Writes one named event; `data` gets its `type` first and `sequence_number` last.
    fn event(&mut self, buf: &mut BytesMut, kind: &str, data: Value) {
        let mut ev = json!({"type": kind});
        if let (Some(ev), Value::Object(fields)) = (ev.as_object_mut(), data) {
            ev.extend(fields);
            ev.insert("sequence_number".into(), self.seq.into());
        }
        self.seq += 1;
        let _ = write!(buf, "event: {kind}\ndata: {ev}\n\n");
    }

    /// The `response` object in `status`.
    fn response(&self, status: &str, output: Value, usage: Value) -> Value {
        json!({
            "id": format!("resp_mock_{}", self.reply.id),
            "object": "response",
            "created_at": self.reply.created,
            "status": status,
            "error": null,
            "incomplete_details": null,
            "model": self.reply.model,
            "output": output,
            "usage": usage,
        })
    }

    fn reasoning_item(&self, text: Option<&str>) -> Value {
        let summary = match text {
            Some(t) => json!([{"type": "summary_text", "text": t}]),
            None => json!([]),
        };
        json!({"id": format!("rs_mock_{}", self.reply.id), "type": "reasoning", "summary": summary})
    }

    fn message_item(&self, text: Option<&str>) -> Value {
        let (status, content) = match text {
            Some(t) => {
                ("completed", json!([{"type": "output_text", "annotations": [], "text": t}]))
            }
            None => ("in_progress", json!([])),
        };
        json!({"id": format!("msg_mock_{}", self.reply.id), "type": "message",
               "status": status, "role": "assistant", "content": content})
    }

    /// Opens the output item of `part`, closing the reasoning item first if it is open.
    fn open(&mut self, buf: &mut BytesMut, part: Part) {
        self.close(buf);
        let rs = format!("rs_mock_{}", self.reply.id);
        let msg = format!("msg_mock_{}", self.reply.id);
        let index = message_index(&self.reply);
        match part {
            Part::Reasoning => {
                let item = self.reasoning_item(None);
                self.event(
                    buf,
                    "response.output_item.added",
                    json!({"output_index": 0, "item": item}),
                );
                let part = json!({"type": "summary_text", "text": ""});
                let added =
                    json!({"item_id": rs, "output_index": 0, "summary_index": 0, "part": part});
                self.event(buf, "response.reasoning_summary_part.added", added);
            }
            Part::Answer => {
                let item = self.message_item(None);
                self.event(
                    buf,
                    "response.output_item.added",
                    json!({"output_index": index, "item": item}),
                );
                let part = json!({"type": "output_text", "annotations": [], "text": ""});
                let added = json!({
                    "item_id": msg, "output_index": index, "content_index": 0, "part": part,
                });
                self.event(buf, "response.content_part.added", added);
            }
        }
        self.open = Some(part);
    }

    /// Closes the open output item with its `*.done` events (each repeats the full text).
    fn close(&mut self, buf: &mut BytesMut) {
        match self.open.take() {
            None => {}
            Some(Part::Reasoning) => {
                let text = mock_reasoning_text(self.reply.reasoning());
                let ids = json!({"item_id": format!("rs_mock_{}", self.reply.id),
                                 "output_index": 0, "summary_index": 0});
                let mut done = ids.clone();
                done["text"] = json!(text);
                self.event(buf, "response.reasoning_summary_text.done", done);
                let mut done = ids;
                done["part"] = json!({"type": "summary_text", "text": text});
                self.event(buf, "response.reasoning_summary_part.done", done);
                let item = self.reasoning_item(Some(&text));
                self.event(
                    buf,
                    "response.output_item.done",
                    json!({"output_index": 0, "item": item}),
                );
            }
            Some(Part::Answer) => {
                let text = mock_text(self.reply.tokens());
                let index = message_index(&self.reply);
                let ids = json!({"item_id": format!("msg_mock_{}", self.reply.id),
                                 "output_index": index, "content_index": 0});
                let mut done = ids.clone();
                done["text"] = json!(text);
                self.event(buf, "response.output_text.done", done);
                let mut done = ids;
                done["part"] = json!({"type": "output_text", "annotations": [], "text": text});
                self.event(buf, "response.content_part.done", done);
                let item = self.message_item(Some(&text));
                self.event(
                    buf,
                    "response.output_item.done",
                    json!({"output_index": index, "item": item}),
                );
            }
        }
    }

    /// The final output array and usage (`null` with `?usage=false`).
    fn output_and_usage(&self) -> (Value, Value) {
        let r = &self.reply;
        let mut output = Vec::new();
        if r.reasoning() > 0 {
            output.push(self.reasoning_item(Some(&mock_reasoning_text(r.reasoning()))));
        }
        if r.tokens() > 0 {
            output.push(self.message_item(Some(&mock_text(r.tokens()))));
        }
        let usage = r.usage.then(|| {
            json!({
                "input_tokens": r.prompt_tokens,
                "input_tokens_details": {"cached_tokens": r.cached_tokens.unwrap_or(0)},
                "output_tokens": r.output_tokens(),
                "output_tokens_details": {"reasoning_tokens": r.reasoning()},
                "total_tokens": r.prompt_tokens + r.output_tokens(),
            })
        });
        (Value::Array(output), usage.unwrap_or(Value::Null))
    }
}

impl ResponsesEvents {
    /// The finished `response` object: `completed`, or `incomplete` when
    /// `max_output_tokens` cut it; also the whole answer of a non-streaming request.
    pub(crate) fn finished(&self) -> Value {
        let (output, usage) = self.output_and_usage();
        let status = if self.reply.capped() { "incomplete" } else { "completed" };
        let mut response = self.response(status, output, usage);
        if self.reply.capped() {
            response["incomplete_details"] = json!({"reason": "max_output_tokens"});
        }
        response
    }

    /// The `failed` response object with its `error`.
    pub(crate) fn failed(&self) -> Value {
        let mut response = self.response("failed", json!([]), Value::Null);
        response["error"] = json!({"code": "server_error", "message": "mock in-stream error"});
        response
    }
}

/// The message item follows the reasoning item when there is one.
fn message_index(reply: &Reply) -> u64 {
    u64::from(reply.reasoning() > 0)
}

impl Framer for ResponsesEvents {
    fn preamble(&mut self, buf: &mut BytesMut) {
        let response = self.response("in_progress", json!([]), Value::Null);
        self.event(buf, "response.created", json!({"response": response.clone()}));
        self.event(buf, "response.in_progress", json!({"response": response}));
    }

    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
        if chunk.opens_part() {
            self.open(buf, chunk.part);
        }
        let (head, tail) = match chunk.part {
            Part::Reasoning => (&self.reasoning_head, ""),
            Part::Answer => (&self.text_head, ",\"logprobs\":[]"),
        };
        buf.extend_from_slice(head.as_bytes());
        buf.extend_from_slice(chunk.text.as_bytes());
        let _ = write!(buf, "\"{tail},\"sequence_number\":{}}}\n\n", self.seq);
        self.seq += 1;
    }

    fn finish(&mut self, buf: &mut BytesMut) {
        self.close(buf);
        let kind = if self.reply.capped() { "response.incomplete" } else { "response.completed" };
        let response = self.finished();
        self.event(buf, kind, json!({"response": response}));
    }

    fn error(&mut self, buf: &mut BytesMut) {
        let response = self.failed();
        self.event(buf, "response.failed", json!({"response": response}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::collect_shape;
    use crate::fault::Fault;
    use crate::reply::testing::{error_last, joined, named_events};

    async fn run(reply: Reply, fault: Option<Fault>) -> Vec<(String, Value)> {
        let shape = reply.shape;
        named_events(&collect_shape(ResponsesEvents::new(reply), shape, fault).await)
    }

    fn names(ev: &[(String, Value)]) -> Vec<&str> {
        ev.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[tokio::test]
    async fn reasoning_item_then_message_item() {
        let ev = run(Reply::test(3, 4, 2), None).await;
        let mut want = vec!["response.created", "response.in_progress"];
        want.extend(["response.output_item.added", "response.reasoning_summary_part.added"]);
        want.extend(["response.reasoning_summary_text.delta"; 2]);
        want.extend([
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
        ]);
        want.extend(["response.output_item.done", "response.output_item.added"]);
        want.push("response.content_part.added");
        want.extend(["response.output_text.delta"; 2]);
        want.extend(["response.output_text.done", "response.content_part.done"]);
        want.extend(["response.output_item.done", "response.completed"]);
        assert_eq!(names(&ev), want);
        let seqs: Vec<u64> =
            ev.iter().map(|(_, d)| d["sequence_number"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (0..ev.len() as u64).collect::<Vec<_>>());
        let data: Vec<Value> = ev.iter().map(|(_, d)| d.clone()).collect();
        let deltas = |kind: &str| -> Vec<Value> {
            ev.iter().filter(|(n, _)| n == kind).map(|(_, d)| d.clone()).collect()
        };
        let reasoning = deltas("response.reasoning_summary_text.delta");
        assert_eq!(joined(&reasoning, "/delta"), mock_reasoning_text(3));
        let text = deltas("response.output_text.delta");
        assert_eq!(joined(&text, "/delta"), mock_text(4));
        assert_eq!(text[0]["output_index"], 1);
        let done = &data.last().unwrap()["response"];
        assert_eq!(done["status"], "completed");
        assert_eq!(done["usage"]["output_tokens"], 7);
        assert_eq!(done["usage"]["input_tokens"], 4);
        assert_eq!(done["usage"]["output_tokens_details"]["reasoning_tokens"], 3);
        assert_eq!(done["output"][1]["content"][0]["text"], mock_text(4));
    }

    #[test]
    fn cached_tokens_in_the_input_details() {
        let usage = |reply| ResponsesEvents::new(reply).finished()["usage"].clone();
        let cached = usage(Reply::test(0, 2, 1).cached());
        assert_eq!(
            (cached["input_tokens"].clone(), cached["input_tokens_details"].clone()),
            (json!(40), json!({"cached_tokens": 32}))
        );
        let plain = usage(Reply::test(0, 2, 1));
        assert_eq!(plain["input_tokens_details"], json!({"cached_tokens": 0}), "the API's zero");
    }

    #[tokio::test]
    async fn answer_only_usage_off_and_capped() {
        let ev = run(Reply::test(0, 2, 1).truncated().without_usage(), None).await;
        assert_eq!(ev[2].0, "response.output_item.added");
        assert_eq!(ev[2].1["item"]["type"], "message");
        assert_eq!(ev[4].1["output_index"], 0);
        let (name, last) = ev.last().unwrap();
        assert_eq!(name, "response.incomplete");
        assert_eq!(last["response"]["incomplete_details"]["reason"], "max_output_tokens");
        assert!(last["response"]["usage"].is_null());
    }

    #[tokio::test]
    async fn error_is_response_failed() {
        let ev = run(Reply::test(2, 2, 1), Some(Fault::Error(3))).await;
        let last = error_last(&ev, "response.failed", "response.completed");
        assert_eq!(last["response"]["status"], "failed");
        assert_eq!(last["response"]["error"]["code"], "server_error");
    }
}
