//! Framing: response bytes → events. `sse` follows the WHATWG "Parsing an event stream"
//! algorithm exactly; `ndjson` makes each line one event; `raw` makes each body read one
//! event. `limit` caps one event or line; `sniff` tells the framing from the first bytes
//! when the `Content-Type` does not.

pub mod decode;
pub mod limit;
pub mod ndjson;
pub mod raw;
mod scan;
pub mod sniff;
pub mod sse;

pub use limit::Oversized;

/// How a body is cut into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-Sent Events.
    Sse,
    /// Newline-delimited JSON: each line is one event.
    Ndjson,
    /// Each body read is one event.
    Raw,
}

impl Framing {
    /// `sse` for `text/event-stream`, `ndjson` for `application/x-ndjson`,
    /// `application/jsonl` and their kin, otherwise `raw`.
    ///
    /// Only the media type counts: case and parameters (`; charset=…`) are ignored, because
    /// SSE is always UTF-8 whatever the header says.
    pub fn from_content_type(content_type: Option<&str>) -> Framing {
        let media_type = content_type.and_then(|ct| ct.split(';').next()).map(str::trim);
        match media_type {
            Some(mt) if mt.eq_ignore_ascii_case("text/event-stream") => Framing::Sse,
            Some(mt) if NDJSON_TYPES.iter().any(|t| mt.eq_ignore_ascii_case(t)) => Framing::Ndjson,
            _ => Framing::Raw,
        }
    }

    /// The name used in reports and configs: `sse`, `ndjson`, `raw`.
    pub fn name(self) -> &'static str {
        match self {
            Framing::Sse => "sse",
            Framing::Ndjson => "ndjson",
            Framing::Raw => "raw",
        }
    }
}

/// Media types of newline-delimited JSON (Ollama sends `application/x-ndjson`).
const NDJSON_TYPES: [&str; 5] = [
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
];

/// One framed event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    /// SSE event type (`message` when the stream named none); empty in raw mode.
    pub name: String,
    /// Event data (SSE: data lines joined by LF) or the decoded text of one read.
    pub data: String,
    /// SSE last event ID at dispatch (sticky across events); `None` when empty or in raw mode.
    pub id: Option<String>,
}

/// A framer of either kind, fed the body one read at a time.
#[derive(Debug)]
pub enum Framer {
    /// SSE parser.
    Sse(sse::SseParser),
    /// NDJSON lines.
    Ndjson(ndjson::NdjsonFramer),
    /// Raw chunks.
    Raw(raw::RawFramer),
}

impl Framer {
    /// A fresh framer for `framing`, with the default cap on one event or line.
    pub fn new(framing: Framing) -> Self {
        Framer::with_limit(framing, limit::DEFAULT_MAX_EVENT_BYTES)
    }

    /// A fresh framer for `framing` whose events and lines may be at most `limit` bytes. Raw
    /// reads need no cap: each is one event, as large as the HTTP client's read.
    pub fn with_limit(framing: Framing, limit: usize) -> Self {
        match framing {
            Framing::Sse => Framer::Sse(sse::SseParser::with_limit(limit)),
            Framing::Ndjson => Framer::Ndjson(ndjson::NdjsonFramer::with_limit(limit)),
            Framing::Raw => Framer::Raw(raw::RawFramer::new()),
        }
    }

    /// Feeds one body read; appends every event it completes to `out`. An event or line over
    /// the cap is an error; the events completed before it are in `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) -> Result<(), Oversized> {
        match self {
            Framer::Sse(p) => p.feed(bytes, out),
            Framer::Ndjson(n) => n.feed(bytes, out),
            Framer::Raw(r) => {
                r.feed(bytes, out);
                Ok(())
            }
        }
    }

    /// End of body: appends what EOF completes (raw: a held partial character; SSE: nothing).
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        match self {
            Framer::Sse(p) => p.finish(out),
            Framer::Ndjson(n) => n.finish(out),
            Framer::Raw(r) => r.finish(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Framing;

    #[test]
    fn framing_from_content_type() {
        assert_eq!(Framing::from_content_type(Some("text/event-stream")), Framing::Sse);
        assert_eq!(
            Framing::from_content_type(Some(" Text/Event-Stream ; charset=utf-8")),
            Framing::Sse
        );
        assert_eq!(Framing::from_content_type(Some("text/plain")), Framing::Raw);
        assert_eq!(Framing::from_content_type(Some("application/x-ndjson")), Framing::Ndjson);
        assert_eq!(Framing::from_content_type(Some("application/jsonl")), Framing::Ndjson);
        assert_eq!(Framing::from_content_type(None), Framing::Raw);
    }
}
