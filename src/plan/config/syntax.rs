//! Parsing a config file's text by extension into a `serde_json::Value`, with errors that
//! start with `file:line:column:` whatever the format.

use std::path::Path;

use serde_json::Value;

/// Parses by extension; anything but `.yaml`/`.yml`/`.toml` is tried as JSON.
pub(crate) fn parse(path: &Path, text: &str) -> anyhow::Result<Value> {
    let shown = path.display();
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("yaml" | "yml") => serde_saphyr::from_str::<Value>(text).map_err(|e| {
            let message = yaml_message(&e);
            match e.location() {
                Some(l) => {
                    anyhow::anyhow!("{shown}:{}:{}: invalid YAML: {message}", l.line(), l.column())
                }
                None => anyhow::anyhow!("{shown}: invalid YAML: {message}"),
            }
        }),
        Some("toml") => {
            let mut value = toml::from_str::<Value>(text).map_err(|e| {
                let (line, col) = e.span().map_or((0, 0), |s| line_col(text, s.start));
                anyhow::anyhow!("{shown}:{line}:{col}: invalid TOML: {}", e.message().trim())
            })?;
            if let Ok(doc) = toml::de::DeTable::parse(text) {
                toml_document_order(&mut value, doc.get_ref());
            }
            Ok(value)
        }
        ext => serde_json::from_str::<Value>(text).map_err(|e| {
            let what = match ext {
                Some("json") => "invalid JSON".to_string(),
                Some(other) => format!(
                    "unknown config extension `.{other}` (use .json, .yaml, .yml or .toml), \
                     and it is not valid JSON either"
                ),
                None => {
                    "no extension (use .json, .yaml, .yml or .toml), and not valid JSON".to_string()
                }
            };
            anyhow::anyhow!("{shown}:{}:{}: {what}: {}", e.line(), e.column(), json_message(&e))
        }),
    }
}

/// Puts the keys of every table back in the order the file wrote them: without the toml
/// crate's `preserve_order` feature its tables come out sorted, which would reorder headers
/// and body keys (and so the bytes sent) compared to the same config in JSON or YAML.
fn toml_document_order(value: &mut Value, table: &toml::de::DeTable<'_>) {
    let Value::Object(map) = value else {
        return;
    };
    let position = |key: &str| {
        table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(k, v)| (k.span().start, v.get_ref()))
    };
    let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    entries.sort_by_key(|(k, _)| position(k).map_or(usize::MAX, |(at, _)| at));
    for (key, item) in &mut entries {
        if let Some((_, de)) = position(key) {
            toml_value_order(item, de);
        }
    }
    map.extend(entries);
}

fn toml_value_order(value: &mut Value, de: &toml::de::DeValue<'_>) {
    match (value, de) {
        (value @ Value::Object(_), toml::de::DeValue::Table(table)) => {
            toml_document_order(value, table)
        }
        (Value::Array(items), toml::de::DeValue::Array(de_items)) => {
            for (item, de_item) in items.iter_mut().zip(de_items.iter()) {
                toml_value_order(item, de_item.get_ref());
            }
        }
        _ => {}
    }
}

/// serde-saphyr's message on one line, without its source snippet and its own location
/// (we print the location first, as for JSON and TOML).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let full = e.without_snippet().to_string();
    let first = full.lines().next().unwrap_or_default();
    let message = first.strip_prefix("error: ").unwrap_or(first);
    let message = match message.strip_prefix("line ").and_then(|m| m.split_once(": ")) {
        Some((_, rest)) => rest,
        None => message,
    };
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// serde_json's message without its trailing " at line L column C" (we print that first).
fn json_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(at) => msg[..at].to_string(),
        None => msg,
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }

    #[test]
    fn toml_keeps_document_order() {
        let text = "b = 1\na = 2\n[z]\ny = 1\nx = 2\n[[z.list]]\nq = 1\np = 2\n";
        let v = parse(Path::new("c.toml"), text).unwrap();
        assert_eq!(v.to_string(), r#"{"b":1,"a":2,"z":{"y":1,"x":2,"list":[{"q":1,"p":2}]}}"#);
    }
}
