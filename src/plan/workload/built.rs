//! The settings of bodies streamperf builds (`--model`, `--output-tokens`, the protocol, or
//! the user's template), shared by synthetic prompts and datasets: one request's messages and
//! output length in, its body's bytes out.

use bytes::Bytes;
use serde_json::Value;

use super::bodies::{Ask, Message, Role, body_for, openai_messages};
use super::prompts::LengthSpec;
use crate::measure::protocol::Protocol;

/// How each request's body is built.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSettings {
    /// The output length asked for; `None` leaves it to the server (or to the dataset).
    pub output: Option<LengthSpec>,
    /// The model named in the body (`--model`); empty until the run asks the server for it.
    pub model: String,
    /// The model came from the server's models list, not from `--model`.
    pub model_listed: bool,
    /// The protocol the body is built for (`--format`, else the URL's path).
    pub protocol: Protocol,
    /// Let servers stop before the output length (`--allow-early-stop`).
    pub allow_early_stop: bool,
    /// The user's own body with `{{prompt}}` (and `{{max_tokens}}`, `{{messages}}`) where
    /// they go, instead of the body built for the protocol.
    pub template: Option<Value>,
}

impl BuildSettings {
    /// The settings as the result file's `config.built_bodies`.
    pub fn view(&self) -> Value {
        serde_json::json!({
            "output_tokens": self.output.map(|o| o.to_string()),
            "model": self.model,
            "model_listed": self.model_listed,
            "protocol": self.protocol.name(),
            "allow_early_stop": self.allow_early_stop,
            "template": self.template.is_some(),
        })
    }

    /// Whether a body can be built: a template, or a protocol whose shape is known.
    pub fn can_build(&self) -> bool {
        self.template.is_some() || self.protocol != Protocol::Generic
    }

    /// The body asking `messages` to be answered in `max_tokens` tokens: the user's template
    /// filled, else the protocol's own body (empty for `generic`, which `can_build` rules out).
    pub fn build(&self, messages: &[Message], max_tokens: Option<u64>) -> Bytes {
        let body = self.value(messages, max_tokens);
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }

    /// [`build`](Self::build)'s body as JSON, for a caller that adds to it.
    pub fn value(&self, messages: &[Message], max_tokens: Option<u64>) -> Value {
        match &self.template {
            Some(template) => fill(template, messages, max_tokens),
            None => {
                let ask = Ask {
                    model: &self.model,
                    messages,
                    max_tokens,
                    allow_early_stop: self.allow_early_stop,
                };
                body_for(self.protocol, &ask).unwrap_or_default().body
            }
        }
    }
}

/// `template` with its placeholders filled: in strings, `{{prompt}}` is the last user
/// message and `{{max_tokens}}` the length; a string that is only `{{max_tokens}}` becomes the
/// number (JSON APIs want one, `null` without a length), one that is only `{{messages}}` the
/// OpenAI-style message list.
fn fill(template: &Value, messages: &[Message], max_tokens: Option<u64>) -> Value {
    match template {
        Value::String(text) if text == "{{max_tokens}}" => {
            max_tokens.map_or(Value::Null, Value::from)
        }
        Value::String(text) if text == "{{messages}}" => openai_messages(messages),
        Value::String(text) => {
            let prompt = messages.iter().rev().find(|m| m.role == Role::User);
            let prompt = prompt.map_or("", |m| m.content.as_str());
            let max = max_tokens.map(|n| n.to_string()).unwrap_or_default();
            Value::String(text.replace("{{prompt}}", prompt).replace("{{max_tokens}}", &max))
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| fill(v, messages, max_tokens)).collect())
        }
        Value::Object(fields) => Value::Object(
            fields.iter().map(|(k, v)| (k.clone(), fill(v, messages, max_tokens))).collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_template_gets_the_prompt_the_length_and_the_messages() {
        let template = json!({
            "max_new": "{{max_tokens}}", "history": "{{messages}}",
            "messages": [{"role": "user", "content": "Summarise: {{prompt}} in {{max_tokens}}"}],
        });
        let m = [Message { role: Role::System, content: "S".into() }, Message::user("P")];
        let filled = fill(&template, &m, Some(20));
        assert_eq!(filled["max_new"], 20);
        assert_eq!(filled["messages"][0]["content"], "Summarise: P in 20");
        assert_eq!(filled["history"][0], json!({"role": "system", "content": "S"}));
        assert_eq!(fill(&template, &m, None)["max_new"], Value::Null);
    }
}
