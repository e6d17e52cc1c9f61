//! `{{column}}` placeholders: finding them and filling them in.
//!
//! Placeholders are replaced inside individual strings (the URL, a header value, one JSON
//! string value of the body), never in serialized JSON text: a value holding quotes, newlines
//! or backslashes then stays one valid JSON string once the body is serialized. Spaces inside
//! the braces are ignored (`{{ name }}` is `{{name}}`).

use serde_json::Value;

/// A piece of a template string.
enum Piece<'t> {
    /// Literal text.
    Text(&'t str),
    /// `{{ name }}`: the whole placeholder as written and the trimmed name.
    Placeholder { raw: &'t str, name: &'t str },
}

/// Splits `text` into literal text and placeholders. `{{` without a closing `}}`, or with
/// nothing but spaces, braces or line breaks inside, is literal text.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut literal_start = 0;
    let mut at = 0;
    while let Some(open) = text[at..].find("{{").map(|i| at + i) {
        let inner_start = open + 2;
        let Some(close) = text[inner_start..].find("}}").map(|i| inner_start + i) else {
            break;
        };
        let name = text[inner_start..close].trim();
        if name.is_empty() || name.contains(['{', '}', '\n', '\r']) {
            // Not a placeholder here; a later `{{` (as in `{{{x}}}`) may still start one.
            at = open + 1;
            continue;
        }
        if literal_start < open {
            out.push(Piece::Text(&text[literal_start..open]));
        }
        out.push(Piece::Placeholder { raw: &text[open..close + 2], name });
        literal_start = close + 2;
        at = literal_start;
    }
    if literal_start < text.len() {
        out.push(Piece::Text(&text[literal_start..]));
    }
    out
}

/// The placeholder names in `text`, in order (with repeats).
pub(crate) fn names(text: &str) -> Vec<&str> {
    pieces(text)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Placeholder { name, .. } => Some(name),
            Piece::Text(_) => None,
        })
        .collect()
}

/// `text` with each placeholder replaced by `lookup(name)`; a placeholder for which `lookup`
/// gives `None` stays as written.
pub(crate) fn replace_all<'v>(text: &str, lookup: impl Fn(&str) -> Option<&'v str>) -> String {
    if !text.contains("{{") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Placeholder { raw, name } => out.push_str(lookup(name).unwrap_or(raw)),
        }
    }
    out
}

/// Every placeholder inside the string values of `value` (not object keys), each with the
/// dotted path of the string that holds it (`body.messages[0].content`).
pub(crate) fn json_names(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) => {
            for name in names(s) {
                out.push((name.to_string(), path.to_string()));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_names(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                json_names(item, &format!("{path}.{key}"), out);
            }
        }
        _ => {}
    }
}

/// `value` with [`replace_all`] applied to every string value (object keys are left alone).
pub(crate) fn render_json<'v>(value: &Value, lookup: &impl Fn(&str) -> Option<&'v str>) -> Value {
    match value {
        Value::String(s) => Value::String(replace_all(s, lookup)),
        Value::Array(items) => Value::Array(items.iter().map(|v| render_json(v, lookup)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), render_json(v, lookup))).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookup(name: &str) -> Option<&'static str> {
        match name {
            "a" => Some("A\"\n\\"),
            "topic" => Some("话题"),
            _ => None,
        }
    }

    #[test]
    fn finds_names_with_spaces() {
        assert_eq!(names("{{ a }} x {{topic}}{{a}}"), vec!["a", "topic", "a"]);
        assert!(names("{{}} {{ }} {{ x").is_empty());
        assert_eq!(names("{{{a}}}"), vec!["a"]);
    }

    #[test]
    fn replaces_and_keeps_unknown() {
        assert_eq!(replace_all("{{topic}} - {{ a }}!", lookup), "话题 - A\"\n\\!");
        assert_eq!(replace_all("{{nope}} {{topic}}", lookup), "{{nope}} 话题");
        assert_eq!(replace_all("{{{a}}}", lookup), "{A\"\n\\}");
        assert_eq!(replace_all("no braces", lookup), "no braces");
    }

    #[test]
    fn json_values_only() {
        let v = json!({"{{a}}": ["{{a}}", 1, {"k": "{{topic}}"}]});
        let mut found = Vec::new();
        json_names(&v, "body", &mut found);
        assert_eq!(
            found,
            vec![
                ("a".to_string(), "body.{{a}}[0]".to_string()),
                ("topic".to_string(), "body.{{a}}[2].k".to_string())
            ]
        );
        let out = render_json(&v, &lookup);
        assert_eq!(out, json!({"{{a}}": ["A\"\n\\", 1, {"k": "话题"}]}));
        // Serialized, the value is one properly escaped JSON string.
        assert!(serde_json::to_string(&out).unwrap().contains(r#""A\"\n\\""#));
    }
}
