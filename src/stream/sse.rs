//! WHATWG "Parsing an event stream", split-safe at any byte.

use super::Event;

/// Incremental SSE parser.
#[derive(Debug, Default)]
pub struct SseParser {}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        SseParser::default()
    }

    /// Feeds bytes; appends dispatched events to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        let _ = (bytes, out);
        todo!()
    }

    /// End of stream: pending data is discarded (spec).
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let _ = out;
    }
}
