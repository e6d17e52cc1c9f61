//! Where and how a run is stored in the history, from `--db`, `--no-history`, `--label`, `--tag`
//! and the file's `db`, `history`, `label` and `tags`. Flags win over the file; `--tag`s are
//! added to the file's tags, replacing a tag of the same key.

use std::path::{Path, PathBuf};

use crate::cli::RunArgs;
use crate::output::history::{HistorySettings, default_db_path};
use crate::plan::config::Env;
use crate::plan::config::file::FileConfig;
use crate::plan::config::history::{check_label, check_tag, parse_tag, set_tag};

/// Resolves the flags over the file. A relative `db` in the file is relative to the file's
/// folder, as the file's data paths are.
pub(super) fn history_settings(
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
    let db = db.or_else(|| default_db_path(env));
    Ok(HistorySettings { enabled, db, label, tags })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    }

    fn resolve(args: &RunArgs, file: &FileConfig, env: Env<'_>) -> anyhow::Result<HistorySettings> {
        history_settings(args, file, env)
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
