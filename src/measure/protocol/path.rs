//! Dotted paths into an event's JSON payload: `data.outputs.result`, `choices.0.text`.
//!
//! The original tool's own example puts `{"outputs": …}` straight in the SSE `data:` field while
//! real Dify nests it as `{"event": …, "data": {"outputs": …}}`. So a leading `data` segment that
//! the payload lacks names the SSE data field itself (README, "Stream formats"), and the seed's
//! `data.outputs.result` works on both.

use serde_json::Value;

/// The value at `path` in `payload`; numeric segments index arrays.
pub(crate) fn resolve<'v>(payload: &'v Value, path: &str) -> Option<&'v Value> {
    let path = if payload.get("data").is_some() {
        path
    } else if path == "data" {
        return Some(payload);
    } else {
        path.strip_prefix("data.").unwrap_or(path)
    };
    path.split('.').try_fold(payload, |value, segment| match value {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// The text at `path`: strings as they are, other JSON serialised; missing, `null` and
/// empty strings give nothing. `payload` is `None` when `data` is not a JSON object, and
/// then only the path `data` (the whole field) gives anything.
pub(crate) fn extract_text(path: &str, data: &str, payload: Option<&Value>) -> Option<String> {
    let text = match payload {
        Some(payload) => match resolve(payload, path)? {
            Value::Null => return None,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        None if path == "data" => data.to_owned(),
        None => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// The string at `path`, if there is one.
pub(crate) fn resolve_str<'v>(payload: &'v Value, path: &str) -> Option<&'v str> {
    resolve(payload, path).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_payload_uses_its_data_key() {
        let dify = json!({"event": "workflow_finished", "data": {"outputs": {"result": "ok"}}});
        assert_eq!(resolve(&dify, "data.outputs.result"), Some(&json!("ok")));
        assert_eq!(resolve(&dify, "event"), Some(&json!("workflow_finished")));
    }

    #[test]
    fn leading_data_names_the_sse_field_when_the_payload_lacks_it() {
        let seed = json!({"node_id": "n", "outputs": {"result": "最终结果"}});
        assert_eq!(resolve(&seed, "data.outputs.result"), Some(&json!("最终结果")));
        assert_eq!(resolve(&seed, "outputs.result"), Some(&json!("最终结果")));
        assert_eq!(resolve(&seed, "data"), Some(&seed));
    }

    #[test]
    fn numeric_segments_index_arrays() {
        let v = json!({"choices": [{"text": "a"}, {"text": "b"}]});
        assert_eq!(resolve(&v, "choices.1.text"), Some(&json!("b")));
        assert_eq!(resolve(&v, "choices.2.text"), None);
        assert_eq!(resolve(&v, "choices.x"), None);
    }

    #[test]
    fn extract_text_serialises_non_strings_and_skips_null() {
        let v = json!({"data": {"outputs": {"n": 3, "o": {"k": 1}, "z": null, "e": ""}}});
        assert_eq!(extract_text("data.outputs.n", "", Some(&v)).as_deref(), Some("3"));
        assert_eq!(extract_text("data.outputs.o", "", Some(&v)).as_deref(), Some(r#"{"k":1}"#));
        assert_eq!(extract_text("data.outputs.z", "", Some(&v)), None);
        assert_eq!(extract_text("data.outputs.e", "", Some(&v)), None);
        assert_eq!(extract_text("data.outputs.missing", "", Some(&v)), None);
        assert_eq!(extract_text("data", "plain", None).as_deref(), Some("plain"));
        assert_eq!(extract_text("data.x", "plain", None), None);
    }
}
