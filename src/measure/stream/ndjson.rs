//! Newline-delimited JSON framing (Ollama, JSON Lines): each line is one event.
//!
//! Only LF ends a line; one CR right before it is dropped, so CRLF bodies work and a CRLF
//! cut between two reads needs no special state (the CR simply waits in the carried line).
//! Lines are cut on bytes and decoded one whole line at a time: LF is ASCII and never sits
//! inside a UTF-8 sequence, so a character split across reads is joined before decoding and
//! invalid bytes turn into U+FFFD exactly as if the whole body had been decoded at once.
//! Complete lines are decoded straight from the caller's buffer; only the partial last line
//! of a read is copied. The JSON itself is not checked here: that is the protocol layer's job.
//! A line longer than the cap (`--max-event-bytes`) is an error, checked before each append.

use super::Event;
use super::limit::{DEFAULT_MAX_EVENT_BYTES, Oversized};
use super::scan::{find, strip_bom};

/// Incremental NDJSON framer.
#[derive(Debug)]
pub struct NdjsonFramer {
    /// The partial line carried over from earlier reads. At the very start of the body it
    /// holds the bytes that may still turn out to be a BOM.
    line: Vec<u8>,
    /// Whether the start of the body has been checked for a BOM.
    bom_checked: bool,
    /// The longest line accepted.
    limit: usize,
}

impl Default for NdjsonFramer {
    fn default() -> Self {
        NdjsonFramer::with_limit(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl NdjsonFramer {
    /// A framer at the start of a body, with the default cap.
    pub fn new() -> Self {
        NdjsonFramer::default()
    }

    /// A framer whose lines may be at most `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        NdjsonFramer { line: Vec::new(), bom_checked: false, limit }
    }

    /// Feeds one body read; appends one event per complete, non-blank line to `out`. A line
    /// longer than the cap is an error (the lines completed before it are in `out`).
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) -> Result<(), Oversized> {
        let mut rest = bytes;
        if !self.bom_checked {
            match strip_bom(&mut self.line, &mut self.bom_checked, rest) {
                Some(after) => rest = after,
                None => return Ok(()),
            }
        }
        while let Some(end) = find_lf(rest) {
            let line = &rest[..end];
            self.check(self.line.len() + line.len())?;
            if self.line.is_empty() {
                emit(line, out);
            } else {
                self.line.extend_from_slice(line);
                emit(&self.line, out);
                // Cleared, not dropped: the allocation serves the next partial line.
                self.line.clear();
            }
            rest = &rest[end + 1..];
        }
        self.check(self.line.len() + rest.len())?;
        self.line.extend_from_slice(rest);
        Ok(())
    }

    /// A line of `len` bytes (so far) is within the cap.
    fn check(&self, len: usize) -> Result<(), Oversized> {
        match len > self.limit {
            true => Err(Oversized { what: "an NDJSON line", limit: self.limit }),
            false => Ok(()),
        }
    }

    /// End of body: a final line without LF is still an event (NDJSON writers often omit
    /// the last LF), unless it is blank.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        emit(&self.line, out);
        self.line.clear();
    }
}

/// One line without its LF → one event, unless it is blank. A trailing CR is dropped.
fn emit(line: &[u8], out: &mut Vec<Event>) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // JSON's own whitespace is ASCII; real lines start with `{`, so this stops at once.
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    // `from_utf8` first: its validation is word-at-a-time, several times faster than the
    // chunk-by-chunk walk of `from_utf8_lossy`, which only runs for invalid lines. Lossy
    // decoding gives one U+FFFD per maximal invalid subpart, as WHATWG decoding does.
    let data = match std::str::from_utf8(line) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(line).into_owned(),
    };
    out.push(Event { name: String::new(), data, id: None });
}

/// Position of the first line end.
fn find_lf(bytes: &[u8]) -> Option<usize> {
    find(bytes, |b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::stream::scan::BOM;

    use base64::Engine as _;
    use serde_json::Value;

    /// Feeds `reads` in order, then finishes; returns the events' data.
    fn frame(reads: &[&[u8]]) -> Vec<String> {
        let mut framer = NdjsonFramer::new();
        let mut out = Vec::new();
        for read in reads {
            framer.feed(read, &mut out).expect("within the cap");
        }
        framer.finish(&mut out);
        out.into_iter().map(|e| e.data).collect()
    }

    /// `body` cut at the sorted byte offsets `cuts`.
    fn frame_cut(body: &[u8], cuts: &[usize]) -> Vec<String> {
        let bounds: Vec<usize> =
            std::iter::once(0).chain(cuts.iter().copied()).chain([body.len()]).collect();
        let reads: Vec<&[u8]> = bounds.windows(2).map(|w| &body[w[0]..w[1]]).collect();
        frame(&reads)
    }

    /// Chinese text (3-byte characters), CRLF and LF endings, blank lines and a final line
    /// without LF: every cut of this body lands somewhere interesting.
    const MIXED: &[u8] =
        "{\"content\":\"天空是蓝色的\"}\r\n\r\n{\"content\":\"因为瑞利散射\"}\n  \n\
                          {\"content\":\"好\"}\r\n{\"done\":true}"
            .as_bytes();

    const MIXED_EVENTS: [&str; 4] = [
        "{\"content\":\"天空是蓝色的\"}",
        "{\"content\":\"因为瑞利散射\"}",
        "{\"content\":\"好\"}",
        "{\"done\":true}",
    ];

    #[test]
    fn whole_body_gives_one_event_per_line() {
        let mut framer = NdjsonFramer::new();
        let mut out = Vec::new();
        framer.feed(b"{\"a\":1}\n{\"b\":2}\r\n", &mut out).unwrap();
        framer.finish(&mut out);
        let event = |data: &str| Event { name: String::new(), data: data.into(), id: None };
        assert_eq!(out, [event("{\"a\":1}"), event("{\"b\":2}")]);
        assert_eq!(frame(&[MIXED]), MIXED_EVENTS);
    }

    #[test]
    fn every_split_point_matches_whole() {
        for at in 1..MIXED.len() {
            assert_eq!(frame_cut(MIXED, &[at]), MIXED_EVENTS, "split at {at}");
        }
        // With a BOM in front, the first cuts fall inside the BOM itself.
        let with_bom = [BOM, MIXED].concat();
        for at in 1..with_bom.len() {
            assert_eq!(frame_cut(&with_bom, &[at]), MIXED_EVENTS, "BOM body split at {at}");
        }
    }

    #[test]
    fn every_pair_of_split_points_matches_whole() {
        for first in 1..MIXED.len() {
            for second in first + 1..MIXED.len() {
                let got = frame_cut(MIXED, &[first, second]);
                assert_eq!(got, MIXED_EVENTS, "split at {first} and {second}");
            }
        }
    }

    #[test]
    fn one_byte_per_read() {
        let reads: Vec<&[u8]> = MIXED.chunks(1).collect();
        assert_eq!(frame(&reads), MIXED_EVENTS);
    }

    #[test]
    fn complete_lines_are_dispatched_without_waiting_for_more() {
        let mut framer = NdjsonFramer::new();
        let mut out = Vec::new();
        framer.feed(b"{\"a\":1}\n{\"b\"", &mut out).unwrap();
        assert_eq!(out.len(), 1);
        framer.feed(b":2}\r", &mut out).unwrap();
        // The CR may be the first half of a CRLF: the line is not over yet.
        assert_eq!(out.len(), 1);
        framer.feed(b"\n", &mut out).unwrap();
        assert_eq!(out[1].data, "{\"b\":2}");
    }

    #[test]
    fn blank_and_whitespace_lines_are_skipped() {
        assert_eq!(frame(&[b"\n\r\n \t \n{}\n\r\n  \r\n[]\n"]), ["{}", "[]"]);
        assert!(frame(&[b"\n\n\n"]).is_empty());
    }

    #[test]
    fn only_lf_ends_a_line() {
        // A lone CR is an ordinary byte (JSON would reject it; that is not framing's call).
        assert_eq!(frame(&[b"{\"a\":\r1}\n"]), ["{\"a\":\r1}"]);
        // Only one CR is dropped before LF.
        assert_eq!(frame(&[b"x\r\r\n"]), ["x\r"]);
    }

    #[test]
    fn final_line_without_lf_is_dispatched_at_finish() {
        let mut framer = NdjsonFramer::new();
        let mut out = Vec::new();
        framer.feed(b"{\"a\":1}\n{\"done\":", &mut out).unwrap();
        framer.feed(b"true}", &mut out).unwrap();
        assert_eq!(out.len(), 1, "the last line is held until EOF");
        framer.finish(&mut out);
        assert_eq!(out[1].data, "{\"done\":true}");
        assert_eq!(frame(&[b"{\"a\":1}\r"]), ["{\"a\":1}"]);
    }

    #[test]
    fn whitespace_remainder_is_not_dispatched_at_finish() {
        assert_eq!(frame(&[b"{}\n  \t"]), ["{}"]);
        assert_eq!(frame(&[b"{}\n\r"]), ["{}"]);
        assert!(frame(&[]).is_empty());
    }

    #[test]
    fn invalid_utf8_is_replaced_per_whole_line() {
        // A character split across reads is joined, not replaced.
        assert_eq!(frame(&[b"\"caf\xC3", b"\xA9 \xE6\x97", b"\xA5\"\n"]), ["\"café 日\""]);
        // Truly invalid bytes: one U+FFFD per maximal invalid subpart, however they arrive.
        let want = ["\u{1F600}\u{FFFD}x", "\u{FFFD}\u{FFFD}\u{FFFD}"];
        let body = b"\xF0\x9F\x98\x80\xF0\x9Fx\n\xED\xA0\x80\n";
        assert_eq!(frame(&[body]), want);
        let reads: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(frame(&reads), want);
        // A truncated character at EOF is one U+FFFD.
        assert_eq!(frame(&[b"{}\nab\xE6\x97"]), ["{}", "ab\u{FFFD}"]);
    }

    #[test]
    fn bom_is_stripped_once_at_the_start() {
        assert_eq!(frame(&[b"\xEF\xBB\xBF{}\n"]), ["{}"]);
        assert_eq!(frame(&[b"\xEF", b"\xBB", b"\xBF{}\n"]), ["{}"]);
        // Only at the very start: later a BOM is part of the line.
        assert_eq!(frame(&[b"{}\n\xEF\xBB\xBF[]\n"]), ["{}", "\u{FEFF}[]"]);
        assert_eq!(frame(&[b"\xEF\xBB\xBF\xEF\xBB\xBF{}"]), ["\u{FEFF}{}"]);
        // A BOM alone is an empty body.
        assert!(frame(&[b"\xEF\xBB", b"\xBF"]).is_empty());
    }

    #[test]
    fn bom_prefix_that_is_not_a_bom_stays_in_the_line() {
        assert_eq!(frame(&[b"\xEF\xBB", b"x\n{}\n"]), ["\u{FFFD}x", "{}"]);
        assert_eq!(frame(&[b"\xEF", b"\xBB"]), ["\u{FFFD}"]);
        assert_eq!(frame(&[b"{", b"}"]), ["{}"]);
    }

    #[test]
    fn a_line_over_the_cap_is_an_error_at_any_read_boundary() {
        let body = b"{\"a\":1}\n{\"b\":22}\n"; // lines of 7 and 8 bytes
        for step in [1, 2, 5, 100] {
            let feed = |limit| {
                let mut framer = NdjsonFramer::with_limit(limit);
                let mut out = Vec::new();
                body.chunks(step).try_for_each(|read| framer.feed(read, &mut out)).map(|_| out)
            };
            assert_eq!(feed(8).map(|out| out.len()), Ok(2), "step {step}");
            let e = feed(7).unwrap_err();
            assert_eq!(e, Oversized { what: "an NDJSON line", limit: 7 }, "step {step}");
        }
        // A line that never ends fails once it outgrows the cap.
        let mut framer = NdjsonFramer::with_limit(1000);
        let mut out = Vec::new();
        let fed: Vec<_> = (0..4).map(|_| framer.feed(&[b'x'; 300], &mut out).is_ok()).collect();
        assert_eq!(fed, [true, true, true, false]);
    }

    #[test]
    fn line_search_handles_block_edges() {
        for len in 0..100 {
            let mut bytes = vec![b'a'; len];
            assert_eq!(find_lf(&bytes), None);
            for at in 0..len {
                bytes[at] = b'\n';
                assert_eq!(find_lf(&bytes), Some(at));
                bytes[at] = b'\r';
                assert_eq!(find_lf(&bytes), None, "CR is not a line end");
                bytes[at] = b'a';
            }
        }
    }

    /// A provider fixture's body, optional read offsets and expected event count.
    fn fixture(name: &str) -> (Vec<u8>, Vec<usize>, usize) {
        let path = format!("{}/tests/fixtures/providers/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("fixture readable");
        let v: Value = serde_json::from_str(&text).expect("fixture is JSON");
        let body = base64::engine::general_purpose::STANDARD
            .decode(v["body_b64"].as_str().expect("body_b64"))
            .expect("body_b64 is base64");
        let cuts = v["chunks"]
            .as_array()
            .map(|c| c.iter().map(|n| n.as_u64().expect("offset") as usize).collect())
            .unwrap_or_default();
        let count = v["expected"]["dispatched_event_count"].as_u64().expect("event count");
        (body, cuts, count as usize)
    }

    #[test]
    fn ollama_fixtures_whole_and_split_at_every_byte() {
        for name in ["ollama-chat-ndjson.json", "ollama-generate-ndjson.json"] {
            let (body, cuts, count) = fixture(name);
            let whole = frame(&[&body]);
            assert_eq!(whole.len(), count, "{name}: event count");
            for (i, data) in whole.iter().enumerate() {
                let parsed = serde_json::from_str::<Value>(data);
                assert!(parsed.is_ok_and(|v| v.is_object()), "{name}: event {i} is not JSON");
            }
            if !cuts.is_empty() {
                assert_eq!(frame_cut(&body, &cuts), whole, "{name}: fixture reads {cuts:?}");
            }
            for at in 1..body.len() {
                assert_eq!(frame_cut(&body, &[at]), whole, "{name}: split at {at}");
            }
        }
    }
}
