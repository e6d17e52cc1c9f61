//! Raw-chunk framing: each body read is one event (the seed's chunk counting).

use super::Event;

/// Decodes reads as UTF-8 across read boundaries.
#[derive(Debug, Default)]
pub struct RawFramer {}

impl RawFramer {
    /// A fresh framer.
    pub fn new() -> Self {
        RawFramer::default()
    }

    /// One read → one event.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        let _ = (bytes, out);
        todo!()
    }

    /// End of body.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let _ = out;
    }
}
