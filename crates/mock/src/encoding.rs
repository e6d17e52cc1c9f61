//! `?ce=gzip|deflate|br|zstd`: the response body compressed with that coding under a
//! `Content-Encoding` header — whatever the client asked, as some gateways and proxies do. Every
//! chunk is flushed as it is written (a sync flush), so a stream stays a stream and each event
//! arrives with its own read; error responses are compressed too. `?ce=garbage` sends the body
//! as it is under `Content-Encoding: gzip`: a client must fail it, not count it.

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use std::io::Write;

use super::plan::MockQuery;

/// A streaming compressor that hands out what each chunk produced.
enum Encoder {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Deflate(flate2::write::ZlibEncoder<Vec<u8>>),
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
    /// Claims gzip, sends the bytes as they are.
    Garbage,
}

impl Encoder {
    /// The encoder `ce=` names, with the header value it sends.
    fn new(name: &str) -> Option<(Encoder, &'static str)> {
        let level = flate2::Compression::fast();
        Some(match name {
            "gzip" => (Encoder::Gzip(flate2::write::GzEncoder::new(Vec::new(), level)), "gzip"),
            "deflate" => {
                (Encoder::Deflate(flate2::write::ZlibEncoder::new(Vec::new(), level)), "deflate")
            }
            "br" => (
                Encoder::Brotli(Box::new(brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22))),
                "br",
            ),
            "zstd" => {
                (Encoder::Zstd(zstd::stream::write::Encoder::new(Vec::new(), 1).ok()?), "zstd")
            }
            "garbage" => (Encoder::Garbage, "gzip"),
            _ => return None,
        })
    }

    /// `chunk` compressed and flushed.
    fn chunk(&mut self, chunk: &[u8]) -> Bytes {
        fn flushed<W: Write>(
            w: &mut W,
            chunk: &[u8],
            out: impl Fn(&mut W) -> &mut Vec<u8>,
        ) -> Bytes {
            // Writing into a Vec cannot fail.
            let _ = w.write_all(chunk).and_then(|()| w.flush());
            Bytes::from(std::mem::take(out(w)))
        }
        match self {
            Encoder::Gzip(w) => flushed(w, chunk, |w| w.get_mut()),
            Encoder::Deflate(w) => flushed(w, chunk, |w| w.get_mut()),
            Encoder::Brotli(w) => flushed(&mut **w, chunk, |w| w.get_mut()),
            Encoder::Zstd(w) => flushed(w, chunk, |w| w.get_mut()),
            Encoder::Garbage => Bytes::copy_from_slice(chunk),
        }
    }

    /// The coding's end (trailer, checksum).
    fn finish(self) -> Bytes {
        let end = match self {
            Encoder::Gzip(w) => w.finish().unwrap_or_default(),
            Encoder::Deflate(w) => w.finish().unwrap_or_default(),
            Encoder::Brotli(w) => w.into_inner(),
            Encoder::Zstd(w) => w.finish().unwrap_or_default(),
            Encoder::Garbage => Vec::new(),
        };
        Bytes::from(end)
    }
}

/// Middleware: compresses the response when the query asks (`ce=`).
pub(crate) async fn encode(req: Request, next: Next) -> Response {
    let name = Query::<MockQuery>::try_from_uri(req.uri()).ok().and_then(|q| q.0.ce);
    let Some(name) = name else { return next.run(req).await };
    let Some((encoder, header_value)) = Encoder::new(&name) else {
        return (StatusCode::BAD_REQUEST, "ce= must be gzip, deflate, br, zstd or garbage\n")
            .into_response();
    };
    let (mut parts, body) = next.run(req).await.into_parts();
    parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(header_value));
    parts.headers.remove(header::CONTENT_LENGTH);
    let chunks = body.into_data_stream();
    let stream = futures_util::stream::unfold(Some((chunks, encoder)), |state| async move {
        let (mut chunks, mut encoder) = state?;
        match chunks.next().await {
            Some(Ok(chunk)) => {
                let out = encoder.chunk(&chunk);
                Some((Ok(out), Some((chunks, encoder))))
            }
            // A cut body (`fail=close:<k>`) stays cut: no trailer.
            Some(Err(e)) => Some((Err(e), None)),
            None => Some((Ok(encoder.finish()), None)),
        }
    });
    Response::from_parts(parts, Body::from_stream(stream))
}
