//! Compressed bodies: `Content-Encoding: gzip`, `deflate`, `br` or `zstd`, as gateways and
//! proxies send them whatever the client asked. Each read is decoded as it arrives — after its
//! instant was taken, so timestamps stay those of the compressed socket reads — and its decoded
//! bytes go on to the framer. Every codec here flushes what a read completes, so an event
//! compressed with a sync flush (as streaming servers do) is framed with the read that carried
//! it. The codecs are the well-kept crates (flate2, brotli's decompressor, zstd); only the
//! choice among them is ours.

use std::fmt;
use std::io::Write;

use bytes::Bytes;

/// A body's content coding, from its `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `gzip` (or `x-gzip`).
    Gzip,
    /// `deflate`: zlib-wrapped per RFC 9110, or raw deflate as some servers send it.
    Deflate,
    /// `br`.
    Brotli,
    /// `zstd`.
    Zstd,
}

impl Encoding {
    /// The coding `header` names: `None` for none (or `identity`), an error naming a coding
    /// streamperf cannot decode, or a chain of several.
    pub fn from_header(header: &str) -> Result<Option<Encoding>, String> {
        let codings: Vec<&str> = header
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty() && *c != "identity")
            .collect();
        let coding = match codings.as_slice() {
            [] => return Ok(None),
            [one] => one.to_ascii_lowercase(),
            _ => return Err(format!("the body is encoded as `{header}`: several codings at once")),
        };
        Ok(Some(match coding.as_str() {
            "gzip" | "x-gzip" => Encoding::Gzip,
            "deflate" => Encoding::Deflate,
            "br" => Encoding::Brotli,
            "zstd" => Encoding::Zstd,
            _ => {
                return Err(format!(
                    "the body is encoded as `{coding}`, which streamperf cannot decode"
                ));
            }
        }))
    }

    /// The name `Content-Encoding` gives it.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
            Encoding::Brotli => "br",
            Encoding::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The codec's state; `Deflate` waits for its first bytes to tell zlib from raw deflate.
enum Codec {
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    Zlib(flate2::write::ZlibDecoder<Vec<u8>>),
    RawDeflate(flate2::write::DeflateDecoder<Vec<u8>>),
    Deflate,
    Brotli(Box<brotli_decompressor::DecompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Decoder<'static, Vec<u8>>),
}

/// Decodes one body, read by read.
pub struct Decoder {
    encoding: Encoding,
    codec: Codec,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decoder({})", self.encoding)
    }
}

/// Brotli's window buffer, bytes.
const BROTLI_BUFFER: usize = 4096;

impl Decoder {
    /// A decoder of `encoding`.
    pub fn new(encoding: Encoding) -> std::io::Result<Decoder> {
        let codec = match encoding {
            Encoding::Gzip => Codec::Gzip(flate2::write::GzDecoder::new(Vec::new())),
            Encoding::Deflate => Codec::Deflate,
            Encoding::Brotli => Codec::Brotli(Box::new(
                brotli_decompressor::DecompressorWriter::new(Vec::new(), BROTLI_BUFFER),
            )),
            Encoding::Zstd => Codec::Zstd(zstd::stream::write::Decoder::new(Vec::new())?),
        };
        Ok(Decoder { encoding, codec })
    }

    /// The coding it decodes.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The decoded bytes of the next read `input` (maybe none yet), or why it cannot be decoded.
    pub fn decode(&mut self, input: &[u8]) -> Result<Bytes, String> {
        if matches!(self.codec, Codec::Deflate) && !input.is_empty() {
            self.codec = match is_zlib(input) {
                true => Codec::Zlib(flate2::write::ZlibDecoder::new(Vec::new())),
                false => Codec::RawDeflate(flate2::write::DeflateDecoder::new(Vec::new())),
            };
        }
        let done = match &mut self.codec {
            Codec::Gzip(d) => write_flush(d, input).map(|()| d.get_mut()),
            Codec::Zlib(d) => write_flush(d, input).map(|()| d.get_mut()),
            Codec::RawDeflate(d) => write_flush(d, input).map(|()| d.get_mut()),
            Codec::Deflate => return Ok(Bytes::new()),
            Codec::Brotli(d) => write_flush(&mut **d, input).map(|()| d.get_mut()),
            Codec::Zstd(d) => write_flush(d, input).map(|()| d.get_mut()),
        };
        let out =
            done.map_err(|e| format!("the {} body could not be decoded: {e}", self.encoding))?;
        Ok(Bytes::from(std::mem::take(out)))
    }

    /// The end of the body: what the codec still held, or why the body ended cut off.
    pub fn finish(&mut self) -> Result<Bytes, String> {
        let cut = |e: std::io::Error| format!("the {} body ended cut off: {e}", self.encoding);
        let out = match &mut self.codec {
            Codec::Gzip(d) => d.try_finish().map(|()| d.get_mut()),
            Codec::Zlib(d) => d.try_finish().map(|()| d.get_mut()),
            Codec::RawDeflate(d) => d.try_finish().map(|()| d.get_mut()),
            Codec::Deflate => return Ok(Bytes::new()),
            Codec::Brotli(d) => d.close().map(|()| d.get_mut()),
            Codec::Zstd(d) => d.flush().map(|()| d.get_mut()),
        };
        Ok(Bytes::from(std::mem::take(out.map_err(cut)?)))
    }
}

fn write_flush(writer: &mut impl Write, input: &[u8]) -> std::io::Result<()> {
    writer.write_all(input)?;
    writer.flush()
}

/// Whether `bytes` start with a zlib header (RFC 1950: method 8, the check bits).
fn is_zlib(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[u8] = b"data: {\"choices\":[{\"delta\":{\"content\":\"hello\"}}]}\n\n";

    /// `TEXT` twice, compressed with a flush after each, split after the first flush.
    fn compressed(encoding: Encoding) -> (Vec<u8>, Vec<u8>) {
        fn two<W: Write>(
            mut w: W,
            end: impl FnOnce(W) -> Vec<u8>,
            take: impl Fn(&mut W) -> Vec<u8>,
        ) -> (Vec<u8>, Vec<u8>) {
            w.write_all(TEXT).unwrap();
            w.flush().unwrap();
            let first = take(&mut w);
            w.write_all(TEXT).unwrap();
            (first, end(w))
        }
        let level = flate2::Compression::default();
        match encoding {
            Encoding::Gzip => two(
                flate2::write::GzEncoder::new(Vec::new(), level),
                |w| w.finish().unwrap(),
                |w| std::mem::take(w.get_mut()),
            ),
            Encoding::Deflate => two(
                flate2::write::ZlibEncoder::new(Vec::new(), level),
                |w| w.finish().unwrap(),
                |w| std::mem::take(w.get_mut()),
            ),
            Encoding::Brotli => two(
                brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22),
                |w| w.into_inner(),
                |w| std::mem::take(w.get_mut()),
            ),
            Encoding::Zstd => two(
                zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap(),
                |w| w.finish().unwrap(),
                |w| std::mem::take(w.get_mut()),
            ),
        }
    }

    #[test]
    fn each_coding_decodes_read_by_read() {
        for encoding in [Encoding::Gzip, Encoding::Deflate, Encoding::Brotli, Encoding::Zstd] {
            let (first, rest) = compressed(encoding);
            let mut d = Decoder::new(encoding).unwrap();
            let a = d.decode(&first).unwrap();
            assert_eq!(&a[..], TEXT, "{encoding}: the first flush decodes with its own read");
            let mut b = d.decode(&rest).unwrap().to_vec();
            b.extend_from_slice(&d.finish().unwrap());
            assert_eq!(&b[..], TEXT, "{encoding}");
        }
    }

    #[test]
    fn raw_deflate_is_told_from_zlib() {
        let mut w = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        w.write_all(TEXT).unwrap();
        let raw = w.finish().unwrap();
        let mut d = Decoder::new(Encoding::Deflate).unwrap();
        let mut out = d.decode(&raw).unwrap().to_vec();
        out.extend_from_slice(&d.finish().unwrap());
        assert_eq!(out, TEXT);
    }

    #[test]
    fn garbage_and_cut_bodies_are_errors_naming_the_coding() {
        let mut d = Decoder::new(Encoding::Gzip).unwrap();
        let e = d.decode(b"this is not gzip at all").unwrap_err();
        assert!(e.starts_with("the gzip body could not be decoded"), "{e}");
        let (first, rest) = compressed(Encoding::Gzip);
        let mut d = Decoder::new(Encoding::Gzip).unwrap();
        d.decode(&first).unwrap();
        d.decode(&rest[..rest.len() / 2]).unwrap();
        let e = d.finish().unwrap_err();
        assert!(e.starts_with("the gzip body ended cut off"), "{e}");
    }

    #[test]
    fn headers_name_one_coding_or_say_why_not() {
        assert_eq!(Encoding::from_header("identity"), Ok(None));
        assert_eq!(Encoding::from_header(" GZIP "), Ok(Some(Encoding::Gzip)));
        assert_eq!(Encoding::from_header("br"), Ok(Some(Encoding::Brotli)));
        let e = Encoding::from_header("compress").unwrap_err();
        assert!(e.contains("`compress`, which streamperf cannot decode"), "{e}");
        assert!(Encoding::from_header("gzip, br").unwrap_err().contains("several codings"));
    }
}
