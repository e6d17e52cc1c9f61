//! `POST|GET /v1/stream`: plain chunked text, one token per chunk, as the original tool's
//! README example (`http://localhost:8000/v1/stream`) expects.

use bytes::BytesMut;

use super::driver::Framer;

/// Frames nothing: each token is its own chunk and the stream simply ends.
pub(crate) struct PlainText;

impl Framer for PlainText {
    fn preamble(&mut self, _buf: &mut BytesMut) {}

    fn token(&mut self, token: &str, buf: &mut BytesMut) {
        buf.extend_from_slice(token.as_bytes());
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
    use crate::mock::driver::collect;
    use crate::mock::plan::mock_text;

    #[tokio::test]
    async fn text_only() {
        assert_eq!(collect(PlainText, 20, None).await, mock_text(20));
    }
}
