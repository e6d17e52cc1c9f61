//! Placeholder: the tgi adapter is being written.

use serde_json::Value;

use super::Interpretation;
use crate::stream::Event;

/// Per-request state of the tgi adapter.
#[derive(Debug, Default)]
pub struct Tgi {}

impl Tgi {
    /// A fresh adapter.
    pub fn new() -> Self {
        Tgi::default()
    }

    /// Interprets one event.
    pub fn interpret(&mut self, _event: &Event) -> Interpretation {
        Interpretation::default()
    }
}

/// Whether a stream's first JSON payload has this format's shape (used by `auto`).
pub(crate) fn looks_like(_payload: &Value) -> bool {
    false
}
