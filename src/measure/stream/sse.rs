//! WHATWG "Parsing an event stream" (HTML §9.2.5–9.2.6), split-safe at any byte.
//!
//! Lines are cut on bytes and each field is decoded on its own. That equals decoding the
//! whole stream first: CR, LF and `:` are ASCII, so they never sit inside a UTF-8 sequence
//! and an invalid subpart never spans them. Only the partial last line of a read is carried
//! over; complete lines are parsed straight from the caller's buffer.
//!
//! A line, and an event's data, longer than the cap (`--max-event-bytes`) is an error: the
//! check is a length comparison before each append, so no read boundary changes the outcome.

use super::Event;
use super::limit::{DEFAULT_MAX_EVENT_BYTES, Oversized};
use super::scan::{find, strip_bom};

/// Incremental SSE parser.
#[derive(Debug)]
pub struct SseParser {
    /// The partial line carried over from earlier reads. At the very start of the stream it
    /// holds the bytes that may still turn out to be a BOM.
    line: Vec<u8>,
    /// Whether the start of the stream has been checked for a BOM.
    bom_checked: bool,
    /// The last read ended in a CR that ended a line: an LF arriving next belongs to it.
    skip_lf: bool,
    /// Data buffer: `data` values, each followed by LF.
    data: String,
    /// Event type buffer.
    event_type: String,
    /// Last event ID buffer; sticky across events.
    last_event_id: String,
    /// Reconnection time in milliseconds, once a valid `retry` field was seen.
    retry: Option<u64>,
    /// The longest line, and the longest event data, accepted.
    limit: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser::with_limit(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl SseParser {
    /// A parser at the start of a stream, with the default cap.
    pub fn new() -> Self {
        SseParser::default()
    }

    /// A parser whose lines and event data may be at most `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        SseParser {
            line: Vec::new(),
            bom_checked: false,
            skip_lf: false,
            data: String::new(),
            event_type: String::new(),
            last_event_id: String::new(),
            retry: None,
            limit,
        }
    }

    /// Feeds bytes; appends dispatched events to `out`. A line or an event's data longer
    /// than the cap is an error (the events completed before it are in `out`).
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) -> Result<(), Oversized> {
        let mut rest = bytes;
        if !self.bom_checked {
            match strip_bom(&mut self.line, &mut self.bom_checked, rest) {
                Some(after) => rest = after,
                None => return Ok(()),
            }
        }
        if self.skip_lf && !rest.is_empty() {
            self.skip_lf = false;
            if let [b'\n', tail @ ..] = rest {
                rest = tail;
            }
        }
        while let Some(end) = find_line_end(rest) {
            let (line, ending) = rest.split_at(end);
            if self.line.is_empty() {
                self.process_line(line, out)?;
            } else {
                self.line.extend_from_slice(line);
                // Taken out and put back so the line can borrow while `self` is mutated;
                // the allocation is reused for the next partial line.
                let mut carried = std::mem::take(&mut self.line);
                let processed = self.process_line(&carried, out);
                carried.clear();
                self.line = carried;
                processed?;
            }
            rest = match ending {
                [b'\r', b'\n', tail @ ..] => tail,
                // A CR at the end of a read ends the line now (the event may be dispatched
                // without waiting for the next read, which matters for TTFT); an LF that
                // opens the next read is then the second half of a CRLF.
                [b'\r'] => {
                    self.skip_lf = true;
                    &[]
                }
                [_, tail @ ..] => tail,
                [] => &[],
            };
        }
        if self.line.len() + rest.len() > self.limit {
            return Err(self.oversized("an SSE line"));
        }
        self.line.extend_from_slice(rest);
        Ok(())
    }

    /// End of stream: pending data and a partial line are discarded (spec).
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        let _ = out;
        self.line.clear();
        self.data.clear();
        self.event_type.clear();
        self.skip_lf = false;
    }

    /// The reconnection time (ms) the stream set with a `retry` field, if any.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// The last event ID so far (`None` when empty); what a reconnect would send.
    pub fn last_event_id(&self) -> Option<&str> {
        (!self.last_event_id.is_empty()).then_some(self.last_event_id.as_str())
    }

    fn oversized(&self, what: &'static str) -> Oversized {
        Oversized { what, limit: self.limit }
    }

    /// One complete line, without its line ending.
    fn process_line(&mut self, line: &[u8], out: &mut Vec<Event>) -> Result<(), Oversized> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line.len() > self.limit {
            return Err(self.oversized("an SSE line"));
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(0) => return Ok(()), // comment
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                if self.data.len() + value.len() > self.limit {
                    return Err(self.oversized("an SSE event's data"));
                }
                // One reservation for value + LF, so the push below never reallocates.
                self.data.reserve(value.len() + 1);
                push_utf8(&mut self.data, value);
                self.data.push('\n');
            }
            b"event" => {
                self.event_type.clear();
                push_utf8(&mut self.event_type, value);
            }
            // U+0000 is a single 0x00 byte in UTF-8 and never part of another sequence.
            b"id" if !value.contains(&0) => {
                self.last_event_id.clear();
                push_utf8(&mut self.last_event_id, value);
            }
            b"retry" => {
                if let Some(ms) = parse_retry(value) {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A blank line: dispatch the event being built, if it has data.
    fn dispatch(&mut self, out: &mut Vec<Event>) {
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        let name = if self.event_type.is_empty() {
            "message".to_owned()
        } else {
            std::mem::take(&mut self.event_type)
        };
        let id = (!self.last_event_id.is_empty()).then(|| self.last_event_id.clone());
        out.push(Event { name, data: std::mem::take(&mut self.data), id });
    }
}

/// Position of the first line end.
fn find_line_end(bytes: &[u8]) -> Option<usize> {
    find(bytes, |b| b == b'\n' || b == b'\r')
}

/// Appends `bytes` decoded as UTF-8, one U+FFFD per maximal invalid subpart (WHATWG).
fn push_utf8(buf: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => buf.push_str(text),
        Err(_) => {
            for chunk in bytes.utf8_chunks() {
                buf.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    buf.push(char::REPLACEMENT_CHARACTER);
                }
            }
        }
    }
}

/// A `retry` value: ASCII digits only, else ignored. Absurdly long values saturate.
fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0u64, |n, &d| n.saturating_mul(10).saturating_add(u64::from(d - b'0'))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(reads: &[&[u8]]) -> (Vec<Event>, SseParser) {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for read in reads {
            parser.feed(read, &mut out).expect("within the cap");
        }
        parser.finish(&mut out);
        (out, parser)
    }

    fn data(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn bom_split_across_reads_is_stripped_once() {
        let (events, _) = parse(&[b"\xEF", b"\xBB", b"\xBFdata: 1\n\n\xEF\xBB\xBFdata: 2\n\n"]);
        // The second BOM makes the field name "\u{FEFF}data", an unknown field.
        assert_eq!(data(&events), ["1"]);
    }

    #[test]
    fn bom_prefix_that_is_not_a_bom_stays_in_the_line() {
        let (events, _) = parse(&[b"\xEF\xBB", b"x\ndata: 1\n\n"]);
        assert_eq!(data(&events), ["1"]);
        let (events, _) = parse(&[b"\xEF", b"\xBB"]);
        assert!(events.is_empty());
    }

    #[test]
    fn crlf_split_between_reads() {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        parser.feed(b"data: a\r\n\r", &mut out).unwrap();
        // The blank line ended at the CR: dispatched without waiting for the LF.
        assert_eq!(data(&out), ["a"]);
        parser.feed(b"\ndata: b\r", &mut out).unwrap();
        parser.feed(b"\n", &mut out).unwrap();
        parser.feed(b"\r\n", &mut out).unwrap();
        assert_eq!(data(&out), ["a", "b"]);
    }

    #[test]
    fn lone_cr_then_non_lf_is_a_new_line() {
        let (events, _) = parse(&[b"data: a\r", b"data: b\r\r"]);
        assert_eq!(data(&events), ["a\nb"]);
    }

    #[test]
    fn fields_ids_and_retry() {
        let (events, parser) = parse(&[
            b"id: 7\nevent: add\nretry: 1500\ndata:x\n\nid: a\0b\ndata: y\n\nid\ndata\n\n",
        ]);
        assert_eq!(events[0], Event { name: "add".into(), data: "x".into(), id: Some("7".into()) });
        assert_eq!(
            events[1],
            Event { name: "message".into(), data: "y".into(), id: Some("7".into()) }
        );
        assert_eq!(events[2], Event { name: "message".into(), data: String::new(), id: None });
        assert_eq!(parser.retry(), Some(1500));
        assert_eq!(parser.last_event_id(), None);
    }

    #[test]
    fn unterminated_event_is_discarded_at_eof() {
        let (events, _) = parse(&[b"data: a\n\ndata: b\n"]);
        assert_eq!(data(&events), ["a"]);
    }

    #[test]
    fn invalid_utf8_is_replaced_per_maximal_subpart() {
        let (events, _) = parse(&[b"data: \xF0\x9F\x98\x80\xF0\x9F\n\ndata: \xED\xA0\x80\n\n"]);
        assert_eq!(data(&events), ["\u{1F600}\u{FFFD}", "\u{FFFD}\u{FFFD}\u{FFFD}"]);
    }

    #[test]
    fn line_end_search_handles_block_edges() {
        for len in 0..100 {
            let mut bytes = vec![b'a'; len];
            assert_eq!(find_line_end(&bytes), None);
            for at in 0..len {
                bytes[at] = b'\r';
                assert_eq!(find_line_end(&bytes), Some(at));
                bytes[at] = b'a';
            }
        }
    }

    /// Feeds `body` cut after every `step` bytes to a parser capped at `limit`.
    fn capped(body: &[u8], step: usize, limit: usize) -> Result<Vec<Event>, Oversized> {
        let mut parser = SseParser::with_limit(limit);
        let mut out = Vec::new();
        for read in body.chunks(step) {
            parser.feed(read, &mut out)?;
        }
        Ok(out)
    }

    #[test]
    fn a_line_or_data_over_the_cap_is_an_error_at_any_read_boundary() {
        // "data: " + 10 bytes: a 16-byte line, 10 bytes of data.
        let one = b"data: 0123456789\n\n";
        // Three 9-byte lines, 11 bytes of data ("012\n456\n89a").
        let three = b"data: 012\ndata: 456\ndata: 89a\n\n";
        for step in [1, 3, 7, 100] {
            assert_eq!(capped(one, step, 16).map(|e| e.len()), Ok(1), "step {step}");
            let line = capped(one, step, 15).unwrap_err();
            assert_eq!(line, Oversized { what: "an SSE line", limit: 15 }, "step {step}");
            assert_eq!(capped(three, step, 11).map(|e| e.len()), Ok(1), "step {step}");
            let data = capped(three, step, 10).unwrap_err();
            assert_eq!(data.what, "an SSE event's data", "step {step}");
        }
        // A line that never ends fails once it outgrows the cap, without waiting for its end.
        let mut parser = SseParser::with_limit(1000);
        let mut out = Vec::new();
        let endless = [b'x'; 300];
        let fed: Vec<_> = (0..4).map(|_| parser.feed(&endless, &mut out).is_ok()).collect();
        assert_eq!(fed, [true, true, true, false]);
        // Events completed before the oversized line are kept.
        let mut out = Vec::new();
        let mut parser = SseParser::with_limit(8);
        assert!(parser.feed(b"data: a\n\ndata: 0123456789", &mut out).is_err());
        assert_eq!(data(&out), ["a"]);
    }

    #[test]
    fn retry_values() {
        assert_eq!(parse_retry(b"02000"), Some(2000));
        assert_eq!(parse_retry(b"1000x"), None);
        assert_eq!(parse_retry(b""), None);
        assert_eq!(parse_retry(b" 1"), None);
        assert_eq!(parse_retry(b"99999999999999999999999"), Some(u64::MAX));
    }
}
