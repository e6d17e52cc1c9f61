//! Dify's conversations: a chat's first answer issues a `conversation_id`, a later query
//! sends it back to go on in that conversation, and an id the mock never issued is Dify's 404.

use serde_json::{Value, json};
use streamperf_mock::MockServer;

use super::{events, json, post, start};

const CHAT: &str = "/v1/chat-messages";

/// A streaming Dify chat query in `conversation_id` (`""` starts a new one).
fn query(conversation_id: &str) -> Value {
    json!({
        "inputs": {}, "query": "Hi", "response_mode": "streaming",
        "conversation_id": conversation_id, "user": "abc-123",
    })
}

/// The one conversation id every event of a streamed chat answer names.
async fn conversation_of(mock: &MockServer, body: &Value) -> String {
    let (status, sse) = post(mock, CHAT, body).await;
    assert_eq!(status, 200, "{sse}");
    let events = events(&sse);
    let id = events[0]["conversation_id"].as_str().expect("an id").to_owned();
    assert!(events.iter().all(|e| e["conversation_id"] == id.as_str()), "{sse}");
    assert_eq!(events.last().unwrap()["event"], "message_end");
    id
}

#[tokio::test]
async fn the_first_answer_starts_a_conversation_the_next_query_goes_on_in_it() {
    let mock = start(false).await;
    let id = conversation_of(&mock, &query("")).await;
    assert!(!id.is_empty());
    assert_eq!(conversation_of(&mock, &query(&id)).await, id, "the same conversation");
    let mut blocking = query(&id);
    blocking["response_mode"] = json!("blocking");
    let (status, answer) = post(&mock, CHAT, &blocking).await;
    assert_eq!((status, json(&answer)["conversation_id"].clone()), (200, json!(id)));
    assert_eq!(mock.stats.snapshot().dify_conversations_continued, 2);

    let mut missing = query("");
    missing.as_object_mut().unwrap().remove("conversation_id");
    let other = conversation_of(&mock, &missing).await;
    assert_ne!(other, id, "no conversation_id starts a new one too");
    assert_ne!(conversation_of(&mock, &query("")).await, id, "and so does an empty one");
}

#[tokio::test]
async fn a_conversation_the_mock_never_issued_is_a_404() {
    let mock = start(false).await;
    let made_up = "00000000-0003-4000-8000-000000000001";
    for mode in ["streaming", "blocking"] {
        let mut body = query(made_up);
        body["response_mode"] = json!(mode);
        let (status, answer) = post(&mock, CHAT, &body).await;
        assert_eq!(status, 404, "{mode}");
        let want =
            json!({"code": "not_found", "message": "Conversation Not Exists.", "status": 404});
        assert_eq!(json(&answer), want, "{mode}");
    }
    assert_eq!(mock.stats.snapshot().dify_conversations_continued, 0);
}
