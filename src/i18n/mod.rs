//! User-facing words in English and Chinese.
//!
//! The report's words live here, one [`Words`] table per language, so a translation is reviewed
//! in one place. Outputs with a vocabulary of their own keep their tables beside them
//! (`output/live/words.rs`, `output/export/html/words.rs`, `output/compare/render.rs`), and the
//! few sentences built around values (the history table, compare's verdicts, a sweep level's
//! line, the demo's introduction) match on [`Lang`] where they are built. The Chinese wording of
//! the original tool's report is kept character for character (【总体统计】, 首Token时间, 吞吐量,
//! …).
//!
//! This file holds the language and its detection; `words.rs` the tables.

mod en;
mod words;
mod zh;

pub use words::{Words, words};

/// Output language of the terminal report (`--lang`, else the locale: [`detect_lang`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// Chinese (简体中文).
    Zh,
}

/// The report language from the process locale: the first non-empty of `LC_ALL`,
/// `LC_MESSAGES` and `LANG` (POSIX precedence) decides; `zh…` gives Chinese, anything else
/// (or nothing) English.
pub fn detect_lang() -> Lang {
    detect_lang_with(&|name| std::env::var(name).ok())
}

/// [`detect_lang`] reading the environment through `env`.
pub fn detect_lang_with(env: &dyn Fn(&str) -> Option<String>) -> Lang {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| env(name))
        .find(|value| !value.is_empty());
    match locale {
        Some(l) if l.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
        _ => Lang::En,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_from_locale() {
        // LC_ALL is set but empty, so LANG decides.
        let zh = |n: &str| match n {
            "LANG" => Some("zh_CN.UTF-8".to_string()),
            "LC_ALL" => Some(String::new()),
            _ => None,
        };
        assert_eq!(detect_lang_with(&zh), Lang::Zh);
        assert_eq!(detect_lang_with(&|_| None), Lang::En);
        let en = |n: &str| (n == "LC_MESSAGES").then(|| "en_US.UTF-8".to_string());
        assert_eq!(detect_lang_with(&en), Lang::En);
    }
}
