//! Plain reference framers: the whole body decoded first, then cut into lines, as the specs
//! word it. Slow and short on purpose, they are the oracles the fuzzer holds the incremental
//! framers (`measure::stream`) to, which cut lines on bytes and decode a field or a line at a
//! time, one read at a time.

use crate::measure::stream::Event;

/// WHATWG HTML §9.2.5–9.2.6 on a whole body: decode as UTF-8 (one U+FFFD per maximal invalid
/// subpart), strip one leading BOM, split lines at CRLF, LF or CR, process each line; a last
/// line without its end, and an event without its blank line, are dropped at EOF.
pub(super) fn sse(body: &[u8]) -> Vec<Event> {
    let decoded = String::from_utf8_lossy(body);
    let mut rest = decoded.strip_prefix('\u{FEFF}').unwrap_or(&decoded);
    let mut events = Vec::new();
    let (mut data, mut kind, mut last_id) = (String::new(), String::new(), String::new());
    while let Some(end) = rest.find(['\r', '\n']) {
        let line = &rest[..end];
        let ending = if rest[end..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[end + ending..];
        if line.is_empty() {
            dispatch(&mut events, &mut data, &mut kind, &last_id);
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "event" => kind = value.to_owned(),
            "id" if !value.contains('\0') => last_id = value.to_owned(),
            _ => {}
        }
    }
    events
}

/// "Dispatch the event": nothing when the data buffer is empty; else the data without its
/// last LF, the type or `message`, the last event ID (sticky). Both buffers are emptied.
fn dispatch(events: &mut Vec<Event>, data: &mut String, kind: &mut String, last_id: &str) {
    let name = std::mem::take(kind);
    if data.is_empty() {
        return;
    }
    data.pop();
    events.push(Event {
        name: if name.is_empty() { "message".to_owned() } else { name },
        data: std::mem::take(data),
        id: (!last_id.is_empty()).then(|| last_id.to_owned()),
    });
}

/// Newline-delimited JSON on a whole body: decode, strip one leading BOM, split at LF, drop
/// one CR before it; every line that is not blank is an event, the last one too.
pub(super) fn ndjson(body: &[u8]) -> Vec<Event> {
    let decoded = String::from_utf8_lossy(body);
    let text = decoded.strip_prefix('\u{FEFF}').unwrap_or(&decoded);
    let lines = text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line));
    let event = |line: &str| Event { name: String::new(), data: line.to_owned(), id: None };
    lines.filter(|line| !line.trim_ascii().is_empty()).map(event).collect()
}
