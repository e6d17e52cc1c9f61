//! Where and how a run is stored in the history: the checks of a label and of tags
//! (`--label`, `--tag`, the file's `label` and `tags`).

use anyhow::bail;

/// The history part of a [`super::Config`] is the history's own settings.
pub use crate::output::history::HistorySettings;

/// `--tag KEY=VALUE`.
pub(crate) fn parse_tag(flag: &str) -> anyhow::Result<(String, String)> {
    let Some((key, value)) = flag.split_once('=') else {
        bail!("`--tag {flag}`: must look like KEY=VALUE, e.g. --tag env=staging");
    };
    let (key, value) = (key.trim(), value.trim());
    check_tag(key, value, &format!("`--tag {flag}`"))?;
    Ok((key.to_string(), value.to_string()))
}

/// Keys: letters, digits and `_ - . / :`; values: any text without control characters.
pub(crate) fn check_tag(key: &str, value: &str, what: &str) -> anyhow::Result<()> {
    let key_ok = |c: char| c.is_alphanumeric() || "_-./:".contains(c);
    if key.is_empty() || !key.chars().all(key_ok) {
        bail!("{what}: the key {key:?} must be letters, digits, `_`, `-`, `.`, `/` or `:`");
    }
    if value.chars().any(char::is_control) {
        bail!("{what}: the value holds a control character");
    }
    Ok(())
}

pub(crate) fn set_tag(tags: &mut Vec<(String, String)>, key: &str, value: &str) {
    match tags.iter_mut().find(|(k, _)| k == key) {
        Some(tag) => tag.1 = value.to_string(),
        None => tags.push((key.to_string(), value.to_string())),
    }
}

/// A label may not be empty, a run id (`compare 12` means run #12) or a result file name
/// (`compare a.json` reads the file).
pub(crate) fn check_label(label: &str, what: &str) -> anyhow::Result<String> {
    let label = label.trim();
    if label.is_empty() || label.chars().any(char::is_control) {
        bail!("{what}: a label must be non-empty text without control characters");
    }
    if crate::output::history::parse_id(label).is_some() {
        bail!(
            "{what} {label:?}: a label must not be a number (`compare {label}` means run #{label})"
        );
    }
    if label.to_ascii_lowercase().ends_with(".json") {
        bail!(
            "{what} {label:?}: a label must not end in .json (compare reads such names as files)"
        );
    }
    Ok(label.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_and_bad_ones_name_the_flag() {
        assert_eq!(parse_tag("env=staging").unwrap(), ("env".into(), "staging".into()));
        assert_eq!(parse_tag("note=a=b").unwrap(), ("note".into(), "a=b".into()));
        assert_eq!(parse_tag("empty=").unwrap(), ("empty".into(), String::new()));
        for (bad, want) in [
            ("env", "must look like KEY=VALUE"),
            ("=x", "the key \"\""),
            ("a b=c", "the key \"a b\""),
            ("k=a\u{7}", "control character"),
        ] {
            let err = parse_tag(bad).unwrap_err().to_string();
            assert!(err.starts_with(&format!("`--tag {bad}`")), "{err}");
            assert!(err.contains(want), "{bad}: {err}");
        }
    }

    #[test]
    fn labels_that_compare_would_misread_are_refused() {
        assert_eq!(check_label(" model-a ", "`--label`").unwrap(), "model-a");
        for bad in ["12", "#3", "", "run.json"] {
            assert!(check_label(bad, "`--label`").is_err(), "{bad}");
        }
    }
}
