//! What the configuration reads from the environment: `${NAME}` references (so that API keys
//! stay out of config files) and the report language from the locale.
//!
//! The environment is passed in as a lookup function ([`Env`]) so that tests never have to
//! mutate the process environment, which is unsound while other test threads read it.

use anyhow::bail;
use serde_json::Value;

use crate::redact::Redactor;

/// Looks up one environment variable; `None` when it is not set (or not valid UTF-8).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, as an [`Env`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Replaces every `${NAME}` in `text` with the variable's value and remembers each value as a
/// secret. `$${` stands for a literal `${`. `used_in` says where the text came from, for the
/// error when a variable is not set.
pub fn substitute(
    text: &str,
    env: Env<'_>,
    redactor: &mut Redactor,
    used_in: &dyn Fn() -> String,
) -> anyhow::Result<String> {
    if !text.contains("${") {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        // `$${NAME}` is the escape for a literal `${NAME}`.
        if rest[..at].ends_with('$') {
            out.push_str(&rest[..at - 1]);
            out.push_str("${");
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find('}').map(|end| (&after[..end], end)) {
            Some((name, end)) if is_var_name(name) => {
                let Some(value) = env(name) else {
                    bail!(
                        "environment variable `{name}` is not set (used in {}); set it, e.g. \
                         `export {name}=…`, or write the value in place of `${{{name}}}`",
                        used_in()
                    );
                };
                redactor.add_secret(value.clone());
                out.push_str(&value);
                rest = &after[end + 1..];
            }
            // Not a reference (`${` followed by something else): keep the text as written.
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// [`substitute`] applied to every string value inside `value` (object keys are left alone).
/// `path` is the dotted path of `value`, used in error messages.
pub fn substitute_json(
    value: &mut Value,
    path: &str,
    env: Env<'_>,
    redactor: &mut Redactor,
    origin: &dyn Fn(&str) -> String,
) -> anyhow::Result<()> {
    match value {
        Value::String(s) => *s = substitute(s, env, redactor, &|| origin(path))?,
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute_json(item, &format!("{path}[{i}]"), env, redactor, origin)?;
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                substitute_json(item, &format!("{path}.{key}"), env, redactor, origin)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "KEY" => Some("sk-123".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_and_remembers() {
        let mut r = Redactor::default();
        let out =
            substitute("Bearer ${KEY}; $${KEY}; ${not a var}; $", &env, &mut r, &|| "x".into())
                .unwrap();
        assert_eq!(out, "Bearer sk-123; ${KEY}; ${not a var}; $");
        assert_eq!(r.redact(&out), "Bearer ***; ${KEY}; ${not a var}; $");
    }

    #[test]
    fn missing_variable_names_it_and_the_place() {
        let mut r = Redactor::default();
        let err = substitute("${NOPE}", &env, &mut r, &|| "`url`".into()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`NOPE` is not set (used in `url`)"), "{msg}");
    }

    #[test]
    fn json_values_not_keys() {
        let mut r = Redactor::default();
        let mut v = serde_json::json!({"${KEY}": ["${KEY}", 1]});
        substitute_json(&mut v, "body", &env, &mut r, &|p| p.to_string()).unwrap();
        assert_eq!(v, serde_json::json!({"${KEY}": ["sk-123", 1]}));
    }
}
