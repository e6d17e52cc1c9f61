//! Where and how a run is stored in the history: `--db`, `--no-history`, `--label`, `--tag`
//! and the file's `db`, `history`, `label` and `tags`. Flags win over the file; `--tag`s are
//! added to the file's tags, replacing a tag of the same key.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::Env;
use super::file::FileConfig;
use crate::cli::RunArgs;

/// The history part of a [`super::Config`] is the history's own settings.
pub use crate::history::HistorySettings;

/// Resolves the flags over the file. A relative `db` in the file is relative to the file's
/// folder, as the file's data paths are.
pub(crate) fn resolve(
    args: &RunArgs,
    file: &FileConfig,
    env: Env<'_>,
) -> anyhow::Result<HistorySettings> {
    let label = match (&args.label, &file.label) {
        (Some(label), _) => Some(check_label(label, "`--label`")?),
        (None, Some(label)) => Some(check_label(label, "`label` in the config file")?),
        (None, None) => None,
    };
    let mut tags = Vec::new();
    for (key, value) in &file.tags {
        check_tag(key, value, &format!("`tags.{key}` in the config file"))?;
        set_tag(&mut tags, key, value);
    }
    for flag in &args.tags {
        let (key, value) = parse_tag(flag)?;
        set_tag(&mut tags, &key, &value);
    }
    let file_db =
        file.db.as_deref().map(|db| match args.config.as_deref().and_then(Path::parent) {
            Some(dir) if Path::new(db).is_relative() => dir.join(db),
            _ => PathBuf::from(db),
        });
    let db = args.db.clone().or(file_db);
    // `--db` asks for storing even when the file says `history: false`.
    let enabled = !args.no_history && (args.db.is_some() || file.history != Some(false));
    let db = db.or_else(|| crate::history::default_db_path(env));
    Ok(HistorySettings { enabled, db, label, tags })
}

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
fn check_tag(key: &str, value: &str, what: &str) -> anyhow::Result<()> {
    let key_ok = |c: char| c.is_alphanumeric() || "_-./:".contains(c);
    if key.is_empty() || !key.chars().all(key_ok) {
        bail!("{what}: the key {key:?} must be letters, digits, `_`, `-`, `.`, `/` or `:`");
    }
    if value.chars().any(char::is_control) {
        bail!("{what}: the value holds a control character");
    }
    Ok(())
}

fn set_tag(tags: &mut Vec<(String, String)>, key: &str, value: &str) {
    match tags.iter_mut().find(|(k, _)| k == key) {
        Some(tag) => tag.1 = value.to_string(),
        None => tags.push((key.to_string(), value.to_string())),
    }
}

/// A label may not be empty, a run id (`compare 12` means run #12) or a result file name
/// (`compare a.json` reads the file).
fn check_label(label: &str, what: &str) -> anyhow::Result<String> {
    let label = label.trim();
    if label.is_empty() || label.chars().any(char::is_control) {
        bail!("{what}: a label must be non-empty text without control characters");
    }
    if crate::history::parse_id(label).is_some() {
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

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    }

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

    #[test]
    fn flags_win_and_tags_merge() {
        let file = FileConfig {
            label: Some("from-file".into()),
            tags: vec![("env".into(), "prod".into()), ("team".into(), "a".into())],
            db: Some("hist.db".into()),
            ..FileConfig::default()
        };
        let args = RunArgs {
            config: Some(PathBuf::from("conf/c.json")),
            tags: vec!["env=staging".into()],
            ..RunArgs::default()
        };
        let h = resolve(&args, &file, &env(&[])).unwrap();
        assert!(h.enabled);
        assert_eq!(h.label.as_deref(), Some("from-file"));
        assert_eq!(h.db, Some(PathBuf::from("conf/hist.db")));
        assert_eq!(h.tags, vec![("env".into(), "staging".into()), ("team".into(), "a".into())]);
        let off = RunArgs { no_history: true, db: Some("x.db".into()), ..args.clone() };
        assert!(!resolve(&off, &file, &env(&[])).unwrap().enabled);
    }

    #[test]
    fn history_false_in_the_file_is_off_unless_a_db_flag_asks() {
        let file = FileConfig { history: Some(false), ..FileConfig::default() };
        let home = env(&[("HOME", "/home/u")]);
        assert!(!resolve(&RunArgs::default(), &file, &home).unwrap().enabled);
        let args = RunArgs { db: Some("x.db".into()), ..RunArgs::default() };
        assert!(resolve(&args, &file, &home).unwrap().enabled);
    }

    #[test]
    fn default_db_follows_the_data_directory() {
        let none = FileConfig::default();
        let db =
            |vars: &[(&str, &str)]| resolve(&RunArgs::default(), &none, &env(vars)).unwrap().db;
        if cfg!(target_os = "linux") {
            assert_eq!(
                db(&[("HOME", "/home/u")]),
                Some(PathBuf::from("/home/u/.local/share/streamperf/history.db"))
            );
            assert_eq!(
                db(&[("HOME", "/home/u"), ("XDG_DATA_HOME", "/data")]),
                Some(PathBuf::from("/data/streamperf/history.db"))
            );
            assert_eq!(
                db(&[("HOME", "/home/u"), ("XDG_DATA_HOME", "relative")]),
                Some(PathBuf::from("/home/u/.local/share/streamperf/history.db"))
            );
        }
        assert_eq!(db(&[]), None);
    }
}
