//! A data file's bytes → text in its encoding: the original tool's `data_source.encoding`,
//! for every dataset format.
//!
//! The whole file is decoded up front (data files are small next to a load test's traffic),
//! so a file in the wrong encoding fails before the first request, with the line at fault.

use std::path::Path;

use anyhow::bail;
use encoding_rs::{DecoderResult, Encoding};

/// The labels named in the error for an unknown encoding; any WHATWG label is accepted too.
const COMMON_LABELS: &str = "utf-8, utf-8-sig, gbk, gb18030, gb2312, big5, shift_jis, euc-kr, \
                             utf-16, utf-16le, utf-16be, latin1";

/// The encoding for `label`: WHATWG labels (as in browsers: `utf-8`, `gbk`, `gb18030`,
/// `gb2312`, `utf-16`, `utf-16le`, `utf-16be`, `big5`, …) plus the Python spellings a seed
/// config may carry (`utf_8`, `utf-8-sig`, `cp936`).
pub(crate) fn encoding_for_label(label: &str) -> anyhow::Result<&'static Encoding> {
    let normalized = label.trim().to_ascii_lowercase().replace('_', "-");
    let encoding = match normalized.as_str() {
        // The BOM is stripped whatever the label says, so utf-8-sig is plain UTF-8 here.
        "utf-8-sig" | "utf8-sig" | "utf8" => Some(encoding_rs::UTF_8),
        "cp936" | "ms936" => Some(encoding_rs::GBK),
        other => Encoding::for_label(other.as_bytes()),
    };
    match encoding {
        // `replacement` is a WHATWG label that decodes everything to one U+FFFD: never useful.
        Some(e) if e != encoding_rs::REPLACEMENT => Ok(e),
        _ => bail!("unknown encoding {label:?}; supported: {COMMON_LABELS} (any WHATWG label)"),
    }
}

/// Reads and decodes the data file at `path`. Errors name the file (and line).
pub(crate) fn read_text(path: &Path, label: &str) -> anyhow::Result<String> {
    let shown = path.display();
    // The label first: a wrong one is named even when the file is missing too.
    encoding_for_label(label).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read data file {shown}: {e}"))?;
    decode_text(path, &bytes, label)
}

/// Decodes `bytes`, the contents of `path`, as `label` names: [`read_text`] without the disk,
/// for the fuzzer. Errors name the file (and line).
pub(crate) fn decode_text(path: &Path, bytes: &[u8], label: &str) -> anyhow::Result<String> {
    let shown = path.display();
    let encoding = encoding_for_label(label).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    decode(bytes, encoding).map_err(|line| {
        anyhow::anyhow!(
            "{shown}:{line}: not valid {label} text; set `data_source.encoding` to the file's \
             encoding (e.g. \"gbk\", \"gb18030\" or \"utf-16\")"
        )
    })
}

/// Decodes `bytes`; a byte-order mark wins over the label (as in browsers), so UTF-8 and
/// UTF-16 files with a BOM always decode, and the BOM never reaches the first column's name.
/// On failure, the 1-based line of the first undecodable byte.
fn decode(bytes: &[u8], encoding: &'static Encoding) -> Result<String, usize> {
    let (encoding, bytes) = match Encoding::for_bom(bytes) {
        Some((bom_encoding, len)) => (bom_encoding, &bytes[len..]),
        None => (encoding, bytes),
    };
    let line_of = |decoded: &str| decoded.matches('\n').count() + 1;
    if encoding == encoding_rs::UTF_8 {
        return match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(e) => Err(bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1),
        };
    }
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder.max_utf8_buffer_length_without_replacement(bytes.len()).ok_or(1usize)?;
    let mut text = String::with_capacity(capacity);
    match decoder.decode_to_string_without_replacement(bytes, &mut text, true) {
        (DecoderResult::InputEmpty, _) => Ok(text),
        _ => Err(line_of(&text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(encoding_for_label("UTF_8").unwrap(), encoding_rs::UTF_8);
        assert_eq!(encoding_for_label("utf-8-sig").unwrap(), encoding_rs::UTF_8);
        assert_eq!(encoding_for_label("gb2312").unwrap(), encoding_rs::GBK);
        assert_eq!(encoding_for_label("cp936").unwrap(), encoding_rs::GBK);
        assert_eq!(encoding_for_label("utf-16").unwrap(), encoding_rs::UTF_16LE);
        assert_eq!(encoding_for_label("utf-16be").unwrap(), encoding_rs::UTF_16BE);
        let err = encoding_for_label("utf8mb4").unwrap_err().to_string();
        assert!(err.contains("unknown encoding \"utf8mb4\"; supported: utf-8"), "{err}");
        assert!(encoding_for_label("replacement").is_err());
    }

    #[test]
    fn decoding() {
        assert_eq!(decode(b"\xEF\xBB\xBFa,b\n", encoding_rs::UTF_8).unwrap(), "a,b\n");
        // GBK for 中文
        assert_eq!(decode(b"\xD6\xD0\xCE\xC4", encoding_rs::GBK).unwrap(), "中文");
        // A UTF-16BE BOM wins over a utf-8 label.
        assert_eq!(decode(b"\xFE\xFF\x00a", encoding_rs::UTF_8).unwrap(), "a");
        assert_eq!(decode(b"a\nb\n\xD6\xD0", encoding_rs::UTF_8), Err(3));
        assert_eq!(decode(b"a\n\xFF", encoding_rs::GBK), Err(2));
    }
}
