//! What every framer needs to know about its request, and small JSON helpers they share.

use std::time::Duration;

use tokio::time::Instant;

use super::plan::Shape;

/// One response being generated: ids, model, token counts.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// Sequence number of the request, spread into the response ids.
    pub id: u64,
    /// Unix seconds.
    pub created: i64,
    /// The request's model (body `model`, or Gemini's path), else "mock".
    pub model: String,
    /// Estimated from the request body.
    pub prompt_tokens: u64,
    /// Of them, those the prefix cache served; `None` without `--prefix-cache`, when the
    /// usage reports carry no cached count of their own.
    pub cached_tokens: Option<u64>,
    /// Reasoning and answer token counts and chunking.
    pub shape: Shape,
    /// False with `?usage=false`: leave out every usage and token-count field.
    pub usage: bool,
    /// Handler entry, for formats that report durations (Ollama).
    pub start: Instant,
    /// The time to first chunk, for the same.
    pub ttft: Duration,
}

impl Reply {
    /// Reasoning tokens.
    pub(crate) fn reasoning(&self) -> u64 {
        self.shape.reasoning
    }

    /// Answer tokens.
    pub(crate) fn tokens(&self) -> u64 {
        self.shape.tokens
    }

    /// Prompt tokens the prefix cache did not serve (all of them without it).
    pub(crate) fn uncached_tokens(&self) -> u64 {
        self.prompt_tokens.saturating_sub(self.cached_tokens.unwrap_or(0))
    }

    /// Output tokens as the APIs count them: reasoning plus answer.
    pub(crate) fn output_tokens(&self) -> u64 {
        self.shape.reasoning + self.shape.tokens
    }

    /// The max-tokens field cut the output short.
    pub(crate) fn capped(&self) -> bool {
        self.shape.capped
    }

    /// The model as a JSON string literal.
    pub(crate) fn model_json(&self) -> String {
        json_str(&self.model)
    }

    /// A test reply: id 7, created 1, model "m\"x" (needs escaping), prompt 4 tokens.
    #[cfg(test)]
    pub(crate) fn test(reasoning: u64, tokens: u64, per_chunk: u64) -> Reply {
        Reply {
            id: 7,
            created: 1,
            model: "m\"x".into(),
            prompt_tokens: 4,
            cached_tokens: None,
            shape: Shape { reasoning, tokens, per_chunk, capped: false },
            usage: true,
            start: Instant::now(),
            ttft: Duration::ZERO,
        }
    }

    /// The test reply of a 40-token prompt of which the prefix cache served 32.
    #[cfg(test)]
    pub(crate) fn cached(mut self) -> Reply {
        self.prompt_tokens = 40;
        self.cached_tokens = Some(32);
        self
    }

    /// The test reply as if the max-tokens field had cut it.
    #[cfg(test)]
    pub(crate) fn truncated(mut self) -> Reply {
        self.shape.capped = true;
        self
    }

    /// The test reply as with `?usage=false`.
    #[cfg(test)]
    pub(crate) fn without_usage(mut self) -> Reply {
        self.usage = false;
        self
    }
}

/// A string as a JSON literal (quotes included).
pub(crate) fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// A UUID-shaped id, distinct per request and per `kind`.
pub(crate) fn uuid(kind: u16, id: u64) -> String {
    format!("00000000-{kind:04x}-4000-8000-{:012x}", id & 0xFFFF_FFFF_FFFF)
}

/// Test helpers shared by the framers' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::Value;

    /// Splits SSE text into (`event:` name, `data:` JSON) pairs; `data: [DONE]` is `Null`.
    /// Accepts `data:` with or without the space (TGI omits it) and asserts every line is
    /// one of the two fields.
    pub(crate) fn sse(text: &str) -> Vec<(Option<String>, Value)> {
        assert!(text.is_empty() || text.ends_with("\n\n"), "unterminated: {text:?}");
        text.split("\n\n")
            .filter(|b| !b.is_empty())
            .map(|block| {
                let mut name = None;
                let mut data = Value::Null;
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = Some(n.to_owned());
                    } else if let Some(d) = line.strip_prefix("data:") {
                        let d = d.strip_prefix(' ').unwrap_or(d);
                        if d != "[DONE]" {
                            data = serde_json::from_str(d)
                                .unwrap_or_else(|e| panic!("{e}: invalid JSON {d:?}"));
                        }
                    } else {
                        panic!("unexpected line {line:?}");
                    }
                }
                (name, data)
            })
            .collect()
    }

    /// The `data:` payloads of SSE text whose events are all unnamed.
    pub(crate) fn data_events(text: &str) -> Vec<Value> {
        sse(text)
            .into_iter()
            .map(|(name, data)| {
                assert_eq!(name, None, "data-only events");
                data
            })
            .collect()
    }

    /// The named events of SSE text: every event has a name, and its JSON `type` repeats it.
    pub(crate) fn named_events(text: &str) -> Vec<(String, Value)> {
        sse(text)
            .into_iter()
            .map(|(name, data)| {
                let name = name.expect("every event is named");
                assert_eq!(data["type"], name.as_str(), "type repeats the event name");
                (name, data)
            })
            .collect()
    }

    /// The payload of the last named event, an in-stream error named `error`; asserts that the
    /// stream's normal `end` event never came.
    pub(crate) fn error_last<'a>(ev: &'a [(String, Value)], error: &str, end: &str) -> &'a Value {
        let (name, data) = ev.last().expect("events");
        assert_eq!(name, error);
        assert!(ev.iter().all(|(n, _)| n != end), "{end} after an error");
        data
    }

    /// The concatenated strings at `pointer` of the events that have one.
    pub(crate) fn joined(events: &[Value], pointer: &str) -> String {
        events.iter().filter_map(|e| e.pointer(pointer)?.as_str()).collect()
    }
}
