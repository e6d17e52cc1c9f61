//! One dataset record → one [`Item`]: a prompt, a conversation or a whole body, and the
//! lengths the file gives. Every error names the field at fault; the caller adds the file and
//! line.

use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::measure::tokens::Tokenizer;
use crate::plan::config::file::kind;
use crate::plan::workload::bodies::{Message, Role};

/// What one request of a dataset sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Messages to build the protocol's body from (a prompt is one user message).
    Messages(Vec<Message>),
    /// A whole body, sent as written.
    Body(Bytes),
}

/// One record of a dataset.
#[derive(Debug)]
pub struct Item {
    /// 1-based line of the file where the record starts.
    pub line: usize,
    /// What it sends.
    pub content: Content,
    /// `output_tokens` as the file gives it.
    pub output_tokens: Option<u64>,
    /// `input_tokens` as the file gives it.
    pub input_tokens: Option<u64>,
    /// A ShareGPT reply, whose length is the default output length.
    pub reply: Option<Box<str>>,
    /// A ShareGPT conversation's later human turns, for multi-turn sessions (`--turns`).
    pub later_turns: Vec<String>,
    /// (input, reply) lengths counted on first use: a run that sends 100 of a 90,000-record
    /// file counts 100 prompts, and cycling counts none again.
    counted: OnceLock<(Option<u64>, Option<u64>)>,
}

impl Item {
    /// A record of `content`, no lengths given.
    pub fn new(line: usize, content: Content) -> Item {
        Item {
            line,
            content,
            output_tokens: None,
            input_tokens: None,
            reply: None,
            later_turns: Vec::new(),
            counted: OnceLock::new(),
        }
    }

    /// The prompt's length and the default output length: as the file gives them, else
    /// counted with `tokenizer` (the messages' text; a ShareGPT reply). A whole body is not
    /// counted: its prompt could be anywhere in it.
    pub fn lengths(&self, tokenizer: &Tokenizer) -> (Option<u64>, Option<u64>) {
        let (input, reply) = *self.counted.get_or_init(|| {
            let input = match (&self.content, self.input_tokens) {
                (Content::Messages(m), None) => {
                    m.iter().map(|m| tokenizer.count(&m.content)).sum::<Option<u64>>()
                }
                _ => None,
            };
            let reply = match (&self.reply, self.output_tokens) {
                (Some(text), None) => tokenizer.count(text),
                _ => None,
            };
            (input, reply)
        });
        (self.input_tokens.or(input), self.output_tokens.or(reply))
    }
}

/// The item a JSON record makes: a string is a prompt; an object has `prompt`, `messages`,
/// `body` or `conversations` (ShareGPT), and optionally `output_tokens` and `input_tokens`.
pub fn from_json(value: Value, line: usize) -> Result<Item, String> {
    let mut record = match value {
        Value::String(prompt) => return Ok(Item::new(line, prompt_content(prompt))),
        Value::Object(record) => record,
        other => {
            return Err(format!(
                "a record must be an object (or a string prompt), got {}",
                kind(&other)
            ));
        }
    };
    let mut item = if let Some(conversations) = record.remove("conversations") {
        sharegpt(conversations, line)?
    } else if let Some(body) = record.remove("body") {
        let Value::Object(_) = body else {
            return Err(format!("`body` must be an object, got {}", kind(&body)));
        };
        Item::new(line, Content::Body(Bytes::from(body.to_string())))
    } else if let Some(messages) = record.remove("messages") {
        Item::new(line, Content::Messages(message_list(messages)?))
    } else if let Some(prompt) = record.remove("prompt") {
        let Value::String(prompt) = prompt else {
            return Err(format!("`prompt` must be a string, got {}", kind(&prompt)));
        };
        Item::new(line, prompt_content(prompt))
    } else {
        let keys: Vec<&str> = record.keys().map(String::as_str).collect();
        return Err(format!(
            "a record needs `prompt`, `messages`, `body` or `conversations` (this one has: {})",
            if keys.is_empty() { "no keys".to_owned() } else { keys.join(", ") }
        ));
    };
    item.output_tokens = length(&record, "output_tokens")?;
    item.input_tokens = length(&record, "input_tokens")?;
    Ok(item)
}

/// A prompt as the one user message it is.
pub fn prompt_content(prompt: String) -> Content {
    Content::Messages(vec![Message::user(prompt)])
}

/// `record[key]` as a length: absent, `null`, or a positive whole number.
fn length(record: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match record.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(format!("`{key}` must be a whole number of tokens above 0, got {v}")),
        },
    }
}

/// A ShareGPT conversation: the first human turn is the prompt (after any system turn), the
/// reply that follows it the default output length.
fn sharegpt(conversations: Value, line: usize) -> Result<Item, String> {
    let Value::Array(turns) = conversations else {
        return Err(format!("`conversations` must be an array, got {}", kind(&conversations)));
    };
    let mut parsed = Vec::with_capacity(turns.len());
    for (i, turn) in turns.iter().enumerate() {
        let field = |name: &str| format!("`conversations[{i}].{name}`");
        let from = turn.get("from").and_then(Value::as_str);
        let from = from.ok_or_else(|| format!("{} must be a string", field("from")))?;
        let role = sharegpt_role(from).ok_or_else(|| {
            format!("{} is {from:?}: expected human, gpt or system", field("from"))
        })?;
        let value = turn.get("value").and_then(Value::as_str);
        let value = value.ok_or_else(|| format!("{} must be a string", field("value")))?;
        parsed.push((role, value));
    }
    let Some(first) = parsed.iter().position(|(role, _)| *role == Role::User) else {
        return Err("`conversations` has no human turn to send".to_owned());
    };
    let mut messages: Vec<Message> = parsed[..first]
        .iter()
        .filter(|(role, _)| *role == Role::System)
        .map(|(role, text)| Message { role: *role, content: (*text).to_owned() })
        .collect();
    messages.push(Message::user(parsed[first].1));
    let mut item = Item::new(line, Content::Messages(messages));
    item.later_turns = parsed[first + 1..]
        .iter()
        .filter(|(role, _)| *role == Role::User)
        .map(|(_, text)| (*text).to_owned())
        .collect();
    item.reply = parsed
        .get(first + 1)
        .filter(|(role, _)| *role == Role::Assistant)
        .map(|(_, text)| Box::from(*text));
    Ok(item)
}

/// ShareGPT's speaker names (and the OpenAI ones some exports use).
fn sharegpt_role(from: &str) -> Option<Role> {
    match from.to_ascii_lowercase().as_str() {
        "human" | "user" => Some(Role::User),
        "gpt" | "assistant" | "chatgpt" | "bard" | "bing" | "model" => Some(Role::Assistant),
        "system" => Some(Role::System),
        _ => None,
    }
}

/// OpenAI-style messages: `role` system (or developer), user or assistant; `content` a string
/// or a list of parts whose text parts are kept.
fn message_list(messages: Value) -> Result<Vec<Message>, String> {
    let Value::Array(list) = messages else {
        return Err(format!("`messages` must be an array, got {}", kind(&messages)));
    };
    if list.is_empty() {
        return Err("`messages` is empty".to_owned());
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let role = match m.get("role").and_then(Value::as_str) {
            Some("system" | "developer") => Role::System,
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            other => {
                return Err(format!(
                    "`messages[{i}].role` must be system, user or assistant, got {}",
                    other.map_or("nothing".to_owned(), |r| format!("{r:?}"))
                ));
            }
        };
        let content = match m.get("content") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(parts)) => {
                let texts = parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str));
                texts.collect::<Vec<_>>().join("\n")
            }
            _ => {
                return Err(format!("`messages[{i}].content` must be a string or a list of parts"));
            }
        };
        out.push(Message { role, content });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(value: Value) -> Result<Item, String> {
        from_json(value, 7)
    }

    fn messages(item: &Item) -> &[Message] {
        match &item.content {
            Content::Messages(m) => m,
            Content::Body(_) => panic!("a body"),
        }
    }

    #[test]
    fn each_record_shape_makes_its_item() {
        let p = item(json!({"prompt": "Hi", "output_tokens": 5, "input_tokens": 2})).unwrap();
        assert_eq!(
            (messages(&p), p.output_tokens, p.input_tokens),
            (&[Message::user("Hi")][..], Some(5), Some(2))
        );
        assert_eq!(messages(&item(json!("Hi")).unwrap()), [Message::user("Hi")]);
        let m = item(json!({"messages": [{"role": "developer", "content": "S"},
            {"role": "user", "content": [{"type": "text", "text": "A"}, {"type": "image_url"}]}]}));
        assert_eq!(messages(&m.unwrap())[1], Message::user("A"));
        let b = item(json!({"body": {"model": "x", "stream": true}})).unwrap();
        assert_eq!(b.content, Content::Body(Bytes::from(r#"{"model":"x","stream":true}"#)));
    }

    #[test]
    fn sharegpt_sends_the_first_human_turn_and_counts_the_reply() {
        let record = json!({"id": "x", "conversations": [
            {"from": "system", "value": "Be kind."}, {"from": "gpt", "value": "Welcome"},
            {"from": "human", "value": "Hello there"}, {"from": "gpt", "value": "Hi friend"},
            {"from": "human", "value": "Later"}]});
        let i = item(record).unwrap();
        assert_eq!(messages(&i).len(), 2);
        assert_eq!(messages(&i)[1], Message::user("Hello there"));
        assert_eq!(i.later_turns, ["Later"]);
        assert_eq!(i.lengths(&Tokenizer::Chars), (Some(8 + 11), Some(9)), "system and prompt");
        let e = item(json!({"conversations": [{"from": "gpt", "value": "x"}]})).unwrap_err();
        assert_eq!(e, "`conversations` has no human turn to send");
        let e = item(json!({"conversations": [{"from": "robot", "value": "x"}]})).unwrap_err();
        assert!(e.starts_with("`conversations[0].from` is \"robot\""), "{e}");
    }

    #[test]
    fn the_field_at_fault_is_named() {
        let e = |v| item(v).unwrap_err();
        assert_eq!(e(json!({"prompt": 3})), "`prompt` must be a string, got a number");
        assert!(e(json!({"text": "x"})).contains("this one has: text"));
        assert!(e(json!({"prompt": "x", "output_tokens": 0})).starts_with("`output_tokens`"));
        assert!(e(json!({"prompt": "x", "input_tokens": "9"})).starts_with("`input_tokens`"));
        assert!(
            e(json!({"messages": [{"role": "bot", "content": "x"}]}))
                .starts_with("`messages[0].role`")
        );
        assert!(e(json!({"messages": [{"role": "user"}]})).starts_with("`messages[0].content`"));
        assert!(e(json!([1])).contains("got a list"));
        assert!(e(json!({"body": "x"})).starts_with("`body` must be an object"));
    }

    #[test]
    fn given_lengths_win_over_counted_ones() {
        let mut i = item(json!({"prompt": "abcd"})).unwrap();
        assert_eq!(i.lengths(&Tokenizer::Chars), (Some(4), None));
        i = item(json!({"prompt": "abcd", "input_tokens": 9})).unwrap();
        assert_eq!(i.lengths(&Tokenizer::Chars), (Some(9), None));
    }
}
