//! User-facing words in English and Chinese.
