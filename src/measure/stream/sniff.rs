//! Content sniffing: the framing of a body whose `Content-Type` is missing or says nothing,
//! told from its first bytes.
//!
//! Gateways and hand-written servers label streams `text/plain`, `application/octet-stream`,
//! `application/json` or nothing at all; trusting such a label reads an OpenAI stream as raw
//! text, or an SSE body as a broken JSON answer (#17). The stream media types
//! (`text/event-stream`, NDJSON's) are taken at their word and never sniffed.
//!
//! The rules, on the body after a BOM and blank lines: a line that starts with an SSE field
//! (`data:`, `event:`, `id:`, `retry:`) or a comment (`:`) is SSE; a first line that is one
//! whole JSON value followed by more lines is NDJSON; other JSON (`{…}`, a pretty-printed
//! document, and anything labelled JSON) is one whole document; anything else is raw.

use serde::de::IgnoredAny;

use super::Framing;
use super::scan::BOM;

/// What a response's `Content-Type` says about its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// A stream media type: taken at its word.
    Stream(Framing),
    /// JSON (`application/json`, `…+json`): one document, unless its first bytes are a stream.
    Json,
    /// None, or one that says nothing about framing (`text/plain`, `application/octet-stream`):
    /// the first bytes decide.
    Generic,
    /// Any other media type (`text/html`, …): read raw, as it says.
    Other,
}

/// Media types that say nothing about how a body is framed.
const GENERIC_TYPES: [&str; 3] = ["text/plain", "application/octet-stream", "binary/octet-stream"];

impl Declared {
    /// What `content_type` declares; only the media type counts (case and parameters are
    /// ignored).
    pub fn from_content_type(content_type: Option<&str>) -> Declared {
        let media_type = content_type.and_then(|ct| ct.split(';').next()).map(str::trim);
        let Some(media_type) = media_type.filter(|mt| !mt.is_empty()) else {
            return Declared::Generic;
        };
        let lower = media_type.to_ascii_lowercase();
        match Framing::from_content_type(Some(&lower)) {
            Framing::Raw if lower == "application/json" || lower.ends_with("+json") => {
                Declared::Json
            }
            Framing::Raw if GENERIC_TYPES.contains(&lower.as_str()) => Declared::Generic,
            Framing::Raw => Declared::Other,
            framing => Declared::Stream(framing),
        }
    }
}

/// What a body's first bytes show it to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// Server-Sent Events.
    Sse,
    /// Newline-delimited JSON.
    Ndjson,
    /// One whole JSON document.
    Json,
    /// Anything else: raw chunks.
    Raw,
}

/// The most bytes sniffing looks at: past them the bytes so far decide (a JSON first line
/// this long is one document). Only a pathological body gets near it.
pub const SNIFF_LIMIT: usize = 64 << 10;

/// The SSE fields (and the comment) a body may start with.
const SSE_STARTS: [&[u8]; 5] = [b"data:", b"event:", b"id:", b"retry:", b":"];

/// What `prefix`, the first bytes of a body, is; `json_declared` when it was labelled JSON
/// (then anything but a stream is one document). `complete` says `prefix` is the whole body;
/// without it, `None` means that more bytes could change the answer.
pub fn sniff(prefix: &[u8], json_declared: bool, complete: bool) -> Option<Sniffed> {
    let other = if json_declared { Sniffed::Json } else { Sniffed::Raw };
    // What the bytes so far say, when no more will come (or no more will be looked at).
    let settle = |sniffed| (complete || prefix.len() >= SNIFF_LIMIT).then_some(sniffed);
    let body = match prefix.strip_prefix(BOM) {
        Some(after) => after,
        None if BOM.starts_with(prefix) && !prefix.is_empty() => return settle(other),
        None => prefix,
    };
    let body = skip_blank_lines(body);
    if SSE_STARTS.iter().any(|start| body.starts_with(start)) {
        return Some(Sniffed::Sse);
    }
    if SSE_STARTS.iter().any(|start| start.starts_with(body)) {
        // Empty, or a field name cut short ("da").
        return settle(other);
    }
    let json = body.trim_ascii_start();
    match json.first() {
        None => return settle(other),
        Some(b'{') => {}
        Some(_) => return Some(other),
    }
    let Some(end) = json.iter().position(|&b| b == b'\n') else {
        return settle(Sniffed::Json);
    };
    if serde_json::from_slice::<IgnoredAny>(&json[..end]).is_err() {
        // The first line of a pretty-printed document.
        return Some(Sniffed::Json);
    }
    match json[end + 1..].iter().all(u8::is_ascii_whitespace) {
        true => settle(Sniffed::Json),
        false => Some(Sniffed::Ndjson),
    }
}

/// `bytes` after its leading blank lines, which SSE allows before the first field.
fn skip_blank_lines(bytes: &[u8]) -> &[u8] {
    let blank = bytes.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
    &bytes[blank..]
}

#[cfg(test)]
mod tests {
    use super::*;

    use base64::Engine as _;
    use serde_json::Value;

    /// Every provider transcript: its name, body and the framing its real `Content-Type`
    /// names.
    fn fixtures() -> Vec<(String, Vec<u8>, Framing)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/providers");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("fixture").path();
            let text = std::fs::read_to_string(&path).expect("fixture readable");
            let v: Value = serde_json::from_str(&text).expect("fixture is JSON");
            let body = base64::engine::general_purpose::STANDARD
                .decode(v["body_b64"].as_str().expect("body_b64"))
                .expect("body_b64 is base64");
            let framing = Framing::from_content_type(v["content_type"].as_str());
            out.push((path.display().to_string(), body, framing));
        }
        assert!(out.len() >= 18, "the provider fixtures are found");
        out
    }

    fn expected(framing: Framing) -> Sniffed {
        match framing {
            Framing::Sse => Sniffed::Sse,
            Framing::Ndjson => Sniffed::Ndjson,
            Framing::Raw => Sniffed::Raw,
        }
    }

    #[test]
    fn every_provider_fixture_is_recognised_without_its_content_type() {
        for (name, body, framing) in fixtures() {
            let want = expected(framing);
            assert_eq!(sniff(&body, false, true), Some(want), "{name}");
            // Labelled JSON, only plain text becomes a (malformed) document.
            let json = if want == Sniffed::Raw { Sniffed::Json } else { want };
            assert_eq!(sniff(&body, true, true), Some(json), "{name} as application/json");
        }
    }

    #[test]
    fn every_prefix_of_a_fixture_is_undecided_or_decided_right() {
        for (name, body, framing) in fixtures() {
            let want = expected(framing);
            for n in 0..body.len().min(2048) {
                let got = sniff(&body[..n], false, false);
                assert!(got.is_none() || got == Some(want), "{name}: {n} bytes gave {got:?}");
            }
            let decided = (0..=body.len()).find(|&n| sniff(&body[..n], false, false).is_some());
            assert!(decided.is_some_and(|n| n < 1024), "{name}: decided after {decided:?} bytes");
        }
    }

    #[test]
    fn sse_starts_with_a_field_or_comment_after_a_bom_and_blank_lines() {
        for body in ["data: {}\n\n", "event: x\n", "id: 1\n", "retry: 10\n", ": ping\n\n"] {
            assert_eq!(sniff(body.as_bytes(), false, false), Some(Sniffed::Sse), "{body}");
        }
        assert_eq!(sniff(b"\xEF\xBB\xBF\r\n\ndata:x", false, false), Some(Sniffed::Sse));
        for cut in [&b""[..], b"d", b"dat", b"\n", b"\xEF\xBB", b"retry"] {
            assert_eq!(sniff(cut, false, false), None, "{cut:?} waits for more");
            assert_eq!(sniff(cut, false, true), Some(Sniffed::Raw), "{cut:?} ended");
        }
        assert_eq!(sniff(b" data: x", false, false), Some(Sniffed::Raw), "not at line start");
        assert_eq!(sniff(b"data", true, true), Some(Sniffed::Json));
    }

    #[test]
    fn json_lines_need_a_whole_first_line_and_more() {
        let line = b"{\"a\":1}\r\n";
        assert_eq!(sniff(line, false, false), None, "one line so far");
        assert_eq!(sniff(line, false, true), Some(Sniffed::Json), "one line, then the end");
        assert_eq!(sniff(b"{\"a\":1}\n{\"a\"", false, false), Some(Sniffed::Ndjson));
        assert_eq!(sniff(b"{\"a\":1}\n \n", false, false), None, "blank lines are no more");
        assert_eq!(sniff(b"  {\"a\":", true, false), None, "the first line is not over");
        assert_eq!(sniff(b"{\"a\":", true, true), Some(Sniffed::Json));
        let pretty = b"{\n  \"id\": 1,\n  \"choices\": []\n}\n";
        assert_eq!(sniff(pretty, false, false), Some(Sniffed::Json), "a pretty document");
        assert_eq!(sniff(pretty, true, false), Some(Sniffed::Json));
    }

    #[test]
    fn other_bytes_are_raw_or_the_declared_document() {
        assert_eq!(sniff(b"Hello", false, false), Some(Sniffed::Raw));
        assert_eq!(sniff(b"[1, 2]", false, false), Some(Sniffed::Raw));
        assert_eq!(sniff(b"[1, 2]", true, false), Some(Sniffed::Json));
        assert_eq!(sniff(b"Internal Server Error", true, false), Some(Sniffed::Json));
        // A long first line decides once the limit is reached.
        let long = [b"{\"a\":\"".as_slice(), &[b'x'; SNIFF_LIMIT]].concat();
        assert_eq!(sniff(&long[..SNIFF_LIMIT - 1], false, false), None);
        assert_eq!(sniff(&long, false, false), Some(Sniffed::Json));
        let blank = vec![b'\n'; SNIFF_LIMIT];
        assert_eq!(sniff(&blank, false, false), Some(Sniffed::Raw));
    }

    #[test]
    fn content_types_declare_a_stream_json_nothing_or_something_else() {
        let declared = Declared::from_content_type;
        assert_eq!(
            declared(Some("text/event-stream; charset=utf-8")),
            Declared::Stream(Framing::Sse)
        );
        assert_eq!(declared(Some("application/x-ndjson")), Declared::Stream(Framing::Ndjson));
        for json in ["application/json", "Application/JSON; charset=utf-8", "application/x+json"] {
            assert_eq!(declared(Some(json)), Declared::Json, "{json}");
        }
        for generic in [None, Some(""), Some("text/plain"), Some("application/octet-stream")] {
            assert_eq!(declared(generic), Declared::Generic, "{generic:?}");
        }
        assert_eq!(declared(Some("text/html")), Declared::Other);
    }
}
