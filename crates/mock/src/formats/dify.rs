//! Dify chat (`POST /v1/chat-messages`) and workflow (`POST /v1/workflows/run`) streams.
//!
//! Real Dify puts the event name inside the JSON (`data: {"event":"message",…}`); the original
//! tool's README shows the other style, `event: <name>` plus a bare inner payload, which the
//! workflow route emits with `?framing=event-lines` so that both kinds of config can be tested.
//!
//! Dify has no reasoning field: `--reasoning-tokens` does not apply. `?usage=false` leaves out
//! `metadata.usage` (chat) and `total_tokens` (workflow).
//!
//! With `"response_mode": "blocking"` both routes answer whole, as Dify's blocking mode does:
//! the chat message (`answer`, `metadata.usage`) or the workflow run (`data.outputs`).
//!
//! Every chat answer names its conversation: the request's, or a new one (which ids the
//! mock issued, and the 404 for others, is `conversations`' and the handler's business).

use bytes::BytesMut;
use serde_json::{Value, json};

use crate::driver::{Chunk, Framer};
use crate::reply::{Reply, json_str, uuid};
use crate::words::mock_text;

/// The id of the conversation `reply` starts.
pub(crate) fn new_conversation_id(reply: &Reply) -> String {
    uuid(3, reply.id)
}

/// The chat's blocking answer: the whole message, in conversation `conversation_id`.
pub(crate) fn blocking_message(reply: &Reply, conversation_id: &str) -> Value {
    let message_id = uuid(2, reply.id);
    let mut metadata = json!({});
    if reply.usage {
        let (p, n) = (reply.prompt_tokens, reply.tokens());
        metadata["usage"] =
            json!({"prompt_tokens": p, "completion_tokens": n, "total_tokens": p + n});
    }
    json!({
        "event": "message",
        "task_id": uuid(1, reply.id),
        "id": message_id,
        "message_id": message_id,
        "conversation_id": conversation_id,
        "mode": "chat",
        "answer": mock_text(reply.tokens()),
        "metadata": metadata,
        "created_at": reply.created,
    })
}

/// The workflow's blocking answer: the finished run with its outputs; `status` `failed` with
/// its error for a failing one (`fail=error:k`).
pub(crate) fn blocking_run(reply: &Reply, succeeded: bool) -> Value {
    let mut data = json!({
        "id": uuid(4, reply.id),
        "workflow_id": uuid(5, 0),
        "status": if succeeded { "succeeded" } else { "failed" },
        "outputs": if succeeded { json!({"result": mock_text(reply.tokens())}) } else { json!({}) },
        "error": if succeeded { Value::Null } else { json!("mock in-stream error") },
        "elapsed_time": reply.start.elapsed().as_secs_f64(),
        "total_steps": 2,
        "created_at": reply.created,
        "finished_at": reply.created,
    });
    if reply.usage {
        data["total_tokens"] = json!(reply.prompt_tokens + reply.tokens());
    }
    json!({"task_id": uuid(1, reply.id), "workflow_run_id": uuid(4, reply.id), "data": data})
}

/// What a failing blocking chat (`fail=error:k`) answers instead: Dify's error body.
pub(crate) fn whole_error() -> Value {
    json!({"code": "internal_server_error", "message": "mock in-stream error", "status": 500})
}

/// Frames a Dify chat answer: one `ping`, `message` events, `message_end`.
pub(crate) struct DifyChat {
    req: Reply,
    /// `data: {"event":"message",<ids>,"answer":"` before each token.
    head: String,
    /// `","created_at":…}\n\n` after each token.
    tail: String,
    /// `"task_id":…,"id":…,"message_id":…,"conversation_id":…` shared by every event.
    ids: String,
}

impl DifyChat {
    /// Frames the answer `req` in conversation `conversation_id`.
    pub(crate) fn new(req: Reply, conversation_id: &str) -> DifyChat {
        let message_id = uuid(2, req.id);
        let ids = format!(
            "\"task_id\":\"{}\",\"id\":\"{message_id}\",\"message_id\":\"{message_id}\",\
             \"conversation_id\":{}",
            uuid(1, req.id),
            json_str(conversation_id)
        );
        let head = format!("data: {{\"event\":\"message\",{ids},\"answer\":\"");
        let tail = format!("\",\"created_at\":{}}}\n\n", req.created);
        DifyChat { req, head, tail, ids }
    }
}

impl Framer for DifyChat {
    fn preamble(&mut self, buf: &mut BytesMut) {
        // Dify sends a ping first; it is an SSE event of type "ping" with no data, which a
        // conforming parser does not dispatch.
        buf.extend_from_slice(b"event: ping\n\n");
    }

    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
        buf.extend_from_slice(self.head.as_bytes());
        buf.extend_from_slice(chunk.text.as_bytes());
        buf.extend_from_slice(self.tail.as_bytes());
    }

    fn finish(&mut self, buf: &mut BytesMut) {
        let r = &self.req;
        let (p, n) = (r.prompt_tokens, r.tokens());
        let usage = if r.usage {
            format!(
                "\"usage\":{{\"prompt_tokens\":{p},\"completion_tokens\":{n},\
                 \"total_tokens\":{}}}",
                p + n
            )
        } else {
            String::new()
        };
        let end = format!(
            "data: {{\"event\":\"message_end\",{},\"metadata\":{{{usage}}},\"created_at\":{}}}\n\n",
            self.ids, r.created
        );
        buf.extend_from_slice(end.as_bytes());
    }

    fn error(&mut self, buf: &mut BytesMut) {
        let ev = format!(
            "data: {{\"event\":\"error\",{},\"status\":500,\"code\":\"internal_server_error\",\
             \"message\":\"mock in-stream error\"}}\n\n",
            self.ids
        );
        buf.extend_from_slice(ev.as_bytes());
    }
}

/// Which way the workflow route frames its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Real Dify: `data: {"event":…,"task_id":…,"workflow_run_id":…,"data":{…}}`.
    Dify,
    /// The original README: `event: <name>` then `data: <inner payload>`.
    EventLines,
}

impl Framing {
    /// Parses the `framing` query parameter.
    pub(crate) fn parse(s: Option<&str>) -> Result<Framing, String> {
        match s {
            None | Some("dify") => Ok(Framing::Dify),
            Some("event-lines") => Ok(Framing::EventLines),
            Some(other) => Err(format!("invalid framing={other:?}: expected dify or event-lines")),
        }
    }
}

/// Frames a Dify workflow run: `workflow_started`, `node_started`, `text_chunk` per token,
/// `node_finished`, `workflow_finished`.
pub(crate) struct DifyWorkflow {
    req: Reply,
    framing: Framing,
    /// `"task_id":…,"workflow_run_id":…` (Dify framing).
    ids: String,
    run_id: String,
}

/// The workflow's one node, an LLM node as in Dify's default template.
const NODE_ID: &str = "llm";

impl DifyWorkflow {
    pub(crate) fn new(req: Reply, framing: Framing) -> DifyWorkflow {
        let run_id = uuid(4, req.id);
        let ids = format!("\"task_id\":\"{}\",\"workflow_run_id\":\"{run_id}\"", uuid(1, req.id));
        DifyWorkflow { req, framing, ids, run_id }
    }

    /// Writes one event; `outer` is Dify's `data` object, `inner` the README-style payload.
    fn event(&self, buf: &mut BytesMut, name: &str, outer: &str, inner: &str) {
        let ev = match self.framing {
            Framing::Dify => {
                format!("data: {{\"event\":\"{name}\",{},\"data\":{outer}}}\n\n", self.ids)
            }
            Framing::EventLines => format!("event: {name}\ndata: {inner}\n\n"),
        };
        buf.extend_from_slice(ev.as_bytes());
    }
}

impl Framer for DifyWorkflow {
    fn preamble(&mut self, buf: &mut BytesMut) {
        let (id, created) = (self.req.id, self.req.created);
        let workflow_id = uuid(5, 0);
        let outer = format!(
            "{{\"id\":\"{}\",\"workflow_id\":\"{workflow_id}\",\"sequence_number\":{id},\
             \"created_at\":{created}}}",
            self.run_id
        );
        let inner = format!(
            "{{\"workflow_id\":\"{workflow_id}\",\"workflow_run_id\":\"{}\"}}",
            self.run_id
        );
        self.event(buf, "workflow_started", &outer, &inner);
        let outer = format!(
            "{{\"id\":\"{}\",\"node_id\":\"{NODE_ID}\",\"node_type\":\"llm\",\"title\":\"LLM\",\
             \"index\":1,\"created_at\":{created}}}",
            uuid(6, id)
        );
        let inner = format!("{{\"node_id\":\"{NODE_ID}\"}}");
        self.event(buf, "node_started", &outer, &inner);
    }

    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
        let token = chunk.text;
        match self.framing {
            Framing::Dify => {
                buf.extend_from_slice(b"data: {\"event\":\"text_chunk\",");
                buf.extend_from_slice(self.ids.as_bytes());
                buf.extend_from_slice(b",\"data\":{\"text\":\"");
                buf.extend_from_slice(token.as_bytes());
                buf.extend_from_slice(b"\",\"from_variable_selector\":[\"llm\",\"text\"]}}\n\n");
            }
            Framing::EventLines => {
                buf.extend_from_slice(b"event: text_chunk\ndata: {\"text\":\"");
                buf.extend_from_slice(token.as_bytes());
                buf.extend_from_slice(b"\"}\n\n");
            }
        }
    }

    fn finish(&mut self, buf: &mut BytesMut) {
        let r = &self.req;
        let text = json_str(&mock_text(r.tokens()));
        let outer = format!(
            "{{\"id\":\"{}\",\"node_id\":\"{NODE_ID}\",\"node_type\":\"llm\",\"title\":\"LLM\",\
             \"index\":1,\"status\":\"succeeded\",\"outputs\":{{\"text\":{text}}},\
             \"created_at\":{}}}",
            uuid(6, r.id),
            r.created
        );
        let inner = format!("{{\"node_id\":\"{NODE_ID}\",\"outputs\":{{\"text\":{text}}}}}");
        self.event(buf, "node_finished", &outer, &inner);
        let total = if r.usage {
            format!("\"total_tokens\":{},", r.prompt_tokens + r.tokens())
        } else {
            String::new()
        };
        let outer = format!(
            "{{\"id\":\"{}\",\"workflow_id\":\"{}\",\"status\":\"succeeded\",\
             \"outputs\":{{\"result\":{text}}},\"error\":null,{total}\
             \"total_steps\":2,\"created_at\":{},\"finished_at\":{}}}",
            self.run_id,
            uuid(5, 0),
            r.created,
            r.created
        );
        let inner = format!("{{\"node_id\":\"{NODE_ID}\",\"outputs\":{{\"result\":{text}}}}}");
        self.event(buf, "workflow_finished", &outer, &inner);
    }

    fn error(&mut self, buf: &mut BytesMut) {
        match self.framing {
            Framing::Dify => {
                let ev = format!(
                    "data: {{\"event\":\"error\",{},\"status\":500,\
                     \"code\":\"internal_server_error\",\"message\":\"mock in-stream error\"}}\n\n",
                    self.ids
                );
                buf.extend_from_slice(ev.as_bytes());
            }
            Framing::EventLines => {
                buf.extend_from_slice(
                    b"event: error\ndata: {\"message\":\"mock in-stream error\"}\n\n",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::collect;
    use crate::reply::testing::sse as events;

    fn request() -> Reply {
        let mut r = Reply::test(0, 2, 1);
        r.id = 3;
        r.prompt_tokens = 5;
        r
    }

    fn chat() -> DifyChat {
        DifyChat::new(request(), "c\"1")
    }

    #[tokio::test]
    async fn chat_events() {
        let ev = events(&collect(chat(), 2, None).await);
        assert_eq!(ev.len(), 4);
        assert_eq!(ev[0].0.as_deref(), Some("ping"));
        assert_eq!(ev[1].1["answer"], " Hello");
        assert_eq!(ev[1].1["conversation_id"], "c\"1");
        assert_eq!(ev[3].1["event"], "message_end");
        assert_eq!(ev[3].1["metadata"]["usage"]["total_tokens"], 7);
    }

    #[tokio::test]
    async fn usage_off_and_chunks() {
        let r = request().without_usage();
        let new = new_conversation_id(&r);
        let ev = events(&collect(DifyChat::new(r.clone(), &new), 2, None).await);
        assert_eq!(ev[3].1["metadata"], serde_json::json!({}));
        assert_eq!(ev[3].1["conversation_id"], new.as_str());
        assert_ne!(new, new_conversation_id(&Reply { id: 4, ..r.clone() }), "one a request");
        let ev = events(&collect(DifyWorkflow::new(r, Framing::Dify), 2, None).await);
        assert!(ev[5].1["data"].get("total_tokens").is_none());
        assert_eq!(ev[5].1["data"]["status"], "succeeded");

        let shape = crate::plan::Shape { reasoning: 0, tokens: 5, per_chunk: 2, capped: false };
        let out = crate::driver::collect_shape(chat(), shape, None).await;
        let ev = events(&out);
        assert_eq!(ev.len(), 1 + 3 + 1);
        assert_eq!(ev[2].1["answer"], ", this");
    }

    #[tokio::test]
    async fn workflow_events_both_framings() {
        let ev = events(&collect(DifyWorkflow::new(request(), Framing::Dify), 2, None).await);
        let names: Vec<_> = ev.iter().map(|e| e.1["event"].clone()).collect();
        assert_eq!(
            names,
            [
                "workflow_started",
                "node_started",
                "text_chunk",
                "text_chunk",
                "node_finished",
                "workflow_finished"
            ]
        );
        assert_eq!(ev[3].1["data"]["text"], " world");
        assert_eq!(ev[5].1["data"]["outputs"]["result"], " Hello world");

        let w = DifyWorkflow::new(request(), Framing::EventLines);
        let ev = events(&collect(w, 2, None).await);
        assert_eq!(ev[5].0.as_deref(), Some("workflow_finished"));
        assert_eq!(ev[5].1["outputs"]["result"], " Hello world");
        assert_eq!(ev[2].1["text"], " Hello");
    }
}
