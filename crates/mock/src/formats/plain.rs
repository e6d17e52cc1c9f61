//! `POST|GET /v1/stream`: plain chunked text, one chunk per write, as the original tool's
//! README example (`http://localhost:8000/v1/stream`) expects. Plain text has no place for
//! reasoning or usage: `--reasoning-tokens` and `?usage=false` do not apply.

use bytes::BytesMut;

use crate::driver::{Chunk, Framer};

/// Frames nothing: each chunk's text is written as is and the stream simply ends.
pub(crate) struct PlainText;

impl Framer for PlainText {
    fn preamble(&mut self, _buf: &mut BytesMut) {}

    fn chunk(&mut self, chunk: &Chunk<'_>, buf: &mut BytesMut) {
        buf.extend_from_slice(chunk.text.as_bytes());
    }

    fn finish(&mut self, _buf: &mut BytesMut) {}

    fn error(&mut self, buf: &mut BytesMut) {
        // Plain text has no error event; a marker line is the closest a raw stream gets.
        buf.extend_from_slice(b"\n[mock in-stream error]\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::collect;
    use crate::words::mock_text;

    #[tokio::test]
    async fn text_only() {
        assert_eq!(collect(PlainText, 20, None).await, mock_text(20));
    }
}
