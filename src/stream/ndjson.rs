//! Placeholder: NDJSON framing is being written.

use super::Event;

/// Newline-delimited JSON framer.
#[derive(Debug, Default)]
pub struct NdjsonFramer {}

impl NdjsonFramer {
    /// A fresh framer.
    pub fn new() -> Self {
        NdjsonFramer::default()
    }

    /// Feeds one body read; appends every complete line to `out`.
    pub fn feed(&mut self, _bytes: &[u8], _out: &mut Vec<Event>) {}

    /// End of body: a final line without LF.
    pub fn finish(&mut self, _out: &mut Vec<Event>) {}
}
