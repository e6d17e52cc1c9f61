//! Checks of the values that can come from a flag or from the file: headers (`-H`), body
//! (`--body`), method (`-X`) and URL (`-u`). Each error names where the value came from.

use std::path::{Path, PathBuf};

use anyhow::bail;
use http::HeaderName;
use serde_json::Value;

/// Where a value came from, for error messages.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// A command-line flag, e.g. `-u/--url`.
    Flag(&'static str),
    /// A key of this config file.
    File(PathBuf),
    /// The built-in default.
    Default,
}

impl Origin {
    /// "`-u/--url`", "`url` in configs/x.json" or "`url` (built-in default)".
    pub fn describe(&self, key: &str) -> String {
        match self {
            Origin::Flag(flag) => format!("`{flag}`"),
            Origin::File(path) => format!("`{key}` in {}", path.display()),
            Origin::Default => format!("`{key}` (built-in default)"),
        }
    }
}

/// One `-H 'Name: value'` flag: `Some` value to set, `None` (`-H 'Name:'`) to remove the
/// header, as curl does.
pub(crate) fn parse_header_flag(flag: &str) -> anyhow::Result<(String, Option<String>)> {
    let Some((name, value)) = flag.split_once(':') else {
        bail!("`-H/--header` must look like 'Name: value', got {flag:?}");
    };
    let name = name.trim();
    if name.is_empty() || HeaderName::from_bytes(name.as_bytes()).is_err() {
        bail!("`-H/--header` {flag:?}: {name:?} is not a valid header name");
    }
    let value = value.trim();
    Ok((name.to_string(), (!value.is_empty()).then(|| value.to_string())))
}

/// Sets header `name` (replacing one of the same name, case-insensitively) or removes it.
pub(crate) fn set_header(headers: &mut Vec<(String, String)>, name: String, value: Option<String>) {
    let existing = headers.iter().position(|(n, _)| n.eq_ignore_ascii_case(&name));
    match (existing, value) {
        (Some(i), Some(value)) => headers[i] = (name, value),
        (Some(i), None) => {
            headers.remove(i);
        }
        (None, Some(value)) => headers.push((name, value)),
        (None, None) => {}
    }
}

/// Checks a header name from the config file.
pub(crate) fn check_header_name(name: &str, origin: &Origin) -> anyhow::Result<()> {
    if HeaderName::from_bytes(name.as_bytes()).is_err() {
        bail!("{} is not a valid header name", origin.describe(&format!("headers.{name}")));
    }
    Ok(())
}

/// `--body JSON` or `--body @FILE` (relative to the current directory).
pub(crate) fn parse_body_flag(flag: &str) -> anyhow::Result<Value> {
    match flag.strip_prefix('@') {
        Some(file) => {
            let path = Path::new(file);
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("`--body @{file}`: cannot read {}: {e}", path.display())
            })?;
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            serde_json::from_str(text).map_err(|e| {
                anyhow::anyhow!(
                    "`--body @{file}`: {}:{}:{}: invalid JSON: {e}",
                    path.display(),
                    e.line(),
                    e.column()
                )
            })
        }
        None => serde_json::from_str(flag).map_err(|e| {
            anyhow::anyhow!(
                "`--body` is not valid JSON ({e}); pass JSON or @FILE to read it from a file"
            )
        }),
    }
}

/// Upper-cases and checks an HTTP method.
pub(crate) fn method(value: &str, origin: &Origin) -> anyhow::Result<String> {
    let upper = value.trim().to_ascii_uppercase();
    if upper.is_empty() || http::Method::from_bytes(upper.as_bytes()).is_err() {
        bail!(
            "{} must be an HTTP method such as POST or GET, got {value:?}",
            origin.describe("method")
        );
    }
    Ok(upper)
}

/// Checks that `url` is an absolute http(s) URL; `{{column}}` placeholders count as `x`.
pub(crate) fn check_url(url: &str, origin: &Origin) -> anyhow::Result<()> {
    let probe = crate::plan::workload::template::replace_all(url, |_| Some("x"));
    let what = origin.describe("url");
    match url::Url::parse(probe.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(u) => bail!(
            "{what} must be an http:// or https:// URL, got {url:?} (scheme `{}`); \
             did you forget `http://`?",
            u.scheme()
        ),
        Err(e) => bail!(
            "{what} is not a valid URL ({e}): {url:?}; it must look like http://host:port/path"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_flags() {
        assert_eq!(
            parse_header_flag("X-A:  b: c ").unwrap(),
            ("X-A".to_string(), Some("b: c".to_string()))
        );
        assert_eq!(parse_header_flag("X-A:").unwrap(), ("X-A".to_string(), None));
        assert!(parse_header_flag("nocolon").unwrap_err().to_string().contains("`-H/--header`"));
        assert!(parse_header_flag("bad name: v").is_err());
    }

    #[test]
    fn set_header_replaces_case_insensitively() {
        let mut h = vec![("Authorization".to_string(), "a".to_string())];
        set_header(&mut h, "authorization".into(), Some("b".into()));
        assert_eq!(h, vec![("authorization".to_string(), "b".to_string())]);
        set_header(&mut h, "AUTHORIZATION".into(), None);
        assert!(h.is_empty());
    }

    #[test]
    fn urls() {
        let flag = Origin::Flag("-u/--url");
        assert!(check_url("http://127.0.0.1:8000/v1/{{ path }}?q={{q}}", &flag).is_ok());
        let err = check_url("localhost:8000/v1", &flag).unwrap_err().to_string();
        assert!(err.contains("`-u/--url` must be an http:// or https:// URL"), "{err}");
        let err = check_url("ftp://x/", &Origin::File("c.json".into())).unwrap_err().to_string();
        assert!(err.starts_with("`url` in c.json must be"), "{err}");
        assert!(check_url("/v1/chat", &flag).is_err());
    }

    #[test]
    fn methods() {
        assert_eq!(method("post", &Origin::Default).unwrap(), "POST");
        assert!(method("PO ST", &Origin::Flag("-X/--method")).is_err());
    }
}
