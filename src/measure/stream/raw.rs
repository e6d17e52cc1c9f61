//! Raw-chunk framing: each body read is one event (the original tool's chunk counting).
//!
//! The text is decoded as one UTF-8 stream: a multi-byte character cut by a read boundary
//! is held back and completed by the next read, so no U+FFFD appears where the network
//! merely split a character.

use super::Event;

/// Decodes reads as UTF-8 across read boundaries.
#[derive(Debug, Default)]
pub struct RawFramer {
    /// An incomplete UTF-8 sequence at the end of the last read (at most 3 bytes).
    tail: Vec<u8>,
}

impl RawFramer {
    /// A fresh framer.
    pub fn new() -> Self {
        RawFramer::default()
    }

    /// One read → one event (even when the read only held part of a character).
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        let mut data = String::with_capacity(bytes.len() + self.tail.len());
        if self.tail.is_empty() {
            let held = decode(bytes, &mut data);
            self.tail.extend_from_slice(held);
        } else {
            // Rare (a read ended inside a character): copying the read keeps this simple.
            let mut joined = std::mem::take(&mut self.tail);
            joined.extend_from_slice(bytes);
            self.tail = decode(&joined, &mut data).to_vec();
        }
        out.push(Event { name: String::new(), data, id: None });
    }

    /// End of body: a held incomplete character becomes one U+FFFD, as one more event.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        if !self.tail.is_empty() {
            self.tail.clear();
            let data = char::REPLACEMENT_CHARACTER.to_string();
            out.push(Event { name: String::new(), data, id: None });
        }
    }
}

/// Appends `bytes` decoded (one U+FFFD per maximal invalid subpart) to `out`, except for
/// an incomplete sequence at the very end, which is returned to wait for more bytes.
fn decode<'b>(bytes: &'b [u8], out: &mut String) -> &'b [u8] {
    let mut consumed = 0;
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        consumed += chunk.valid().len();
        let invalid = chunk.invalid();
        if invalid.is_empty() {
            continue;
        }
        let at_end = consumed + invalid.len() == bytes.len();
        // `error_len() == None` means "valid so far, cut short": a prefix the next read
        // may complete, as opposed to bytes that can never become valid.
        let incomplete =
            std::str::from_utf8(invalid).err().is_some_and(|e| e.error_len().is_none());
        if at_end && incomplete {
            return invalid;
        }
        out.push(char::REPLACEMENT_CHARACTER);
        consumed += invalid.len();
    }
    &[]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(reads: &[&[u8]]) -> Vec<String> {
        let mut framer = RawFramer::new();
        let mut out = Vec::new();
        for read in reads {
            framer.feed(read, &mut out);
        }
        framer.finish(&mut out);
        out.into_iter().map(|e| e.data).collect()
    }

    #[test]
    fn character_split_across_reads_is_joined() {
        assert_eq!(run(&[b"caf\xC3", b"\xA9 \xE6\x97", b"\xA5"]), ["caf", "é ", "\u{65E5}"]);
    }

    #[test]
    fn one_event_per_read_even_if_empty() {
        assert_eq!(run(&[b"\xF0", b"\x9F", b"\x98", b"\x80!"]), ["", "", "", "\u{1F600}!"]);
    }

    #[test]
    fn invalid_bytes_and_unfinished_tail() {
        assert_eq!(
            run(&[b"a\xFFb\xC0\xAF", b"c\xE2\x82"]),
            ["a\u{FFFD}b\u{FFFD}\u{FFFD}", "c", "\u{FFFD}"]
        );
        // A held prefix followed by a byte that cannot continue it.
        assert_eq!(run(&[b"\xE2", b"x"]), ["", "\u{FFFD}x"]);
    }
}
