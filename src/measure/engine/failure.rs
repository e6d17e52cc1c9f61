//! Classifying what went wrong with a request into the stable failure classes README's "Metrics"
//! lists.
//!
//! Connecting classifies itself (`connect`, `tls`: see `socket`); this module covers
//! what happens on an open connection.

use std::error::Error as _;

use crate::measure::record::{ErrorClass, Failure, TimeoutPhase};

/// Longest HTTP error body excerpt kept (README, "Metrics": the first KiB).
pub const BODY_EXCERPT: usize = 1024;

/// A failure while sending the request or waiting for its response head.
pub fn from_send_error(err: &hyper::Error) -> Failure {
    let message = chain(err);
    if err.is_parse() {
        return Failure::new(
            ErrorClass::Malformed,
            format!("the response is not valid HTTP: {message}"),
        );
    }
    Failure::new(
        ErrorClass::Incomplete,
        format!("connection closed before the response head: {message}"),
    )
}

/// Whether `err` means the connection ended before any response byte (EOF, reset, an
/// incomplete head): on a kept-alive connection, the server closed it as the request arrived.
pub fn lost_before_response(err: &hyper::Error) -> bool {
    use std::io::ErrorKind;
    if err.is_incomplete_message() || err.is_closed() || err.is_canceled() {
        return true;
    }
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
            );
        }
        source = cause.source();
    }
    false
}

/// A failure while reading the body before the completion marker arrived.
pub fn from_body_error(err: &hyper::Error) -> Failure {
    Failure::new(ErrorClass::Incomplete, format!("stream broke off: {}", chain(err)))
}

/// A non-2xx response: the status, `Retry-After` when given, and a body excerpt.
pub fn from_status(status: http::StatusCode, retry_after: Option<&str>, body: &[u8]) -> Failure {
    let mut message = format!("HTTP {status}");
    if let Some(retry) = retry_after {
        message.push_str(&format!(" (Retry-After: {retry})"));
    }
    let excerpt = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT)]);
    let excerpt = match excerpt.trim_start().starts_with('<') {
        // A proxy's HTML error page: its words, not its markup.
        true => html_text(&excerpt),
        false => excerpt.trim().to_owned(),
    };
    if !excerpt.is_empty() {
        message.push_str(": ");
        message.push_str(&excerpt);
    }
    Failure::new(ErrorClass::HttpStatus, message)
}

/// The text of an HTML page: tags dropped, whitespace collapsed (`502 Bad Gateway nginx`).
fn html_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first bytes of a body that was not what it claimed, quoted printable: control
/// characters and bytes that are not UTF-8 escaped, at most [`QUOTED`] characters.
pub fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for c in text.chars().take(QUOTED) {
        match c {
            '\u{fffd}' => out.push_str("\\ufffd"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    format!("\"{out}\"")
}

/// Most characters [`quote`] shows.
pub const QUOTED: usize = 64;

/// The deadline `limit` passed in `phase`.
pub fn timeout(phase: TimeoutPhase, limit: std::time::Duration) -> Failure {
    let during = match phase {
        TimeoutPhase::Connect => "connecting",
        TimeoutPhase::FirstByte => "waiting for the response",
        TimeoutPhase::FirstToken => "waiting for the first token",
        TimeoutPhase::Total => "while streaming",
    };
    Failure {
        class: ErrorClass::Timeout,
        message: format!("timed out after {:.3}s {during}", limit.as_secs_f64()),
        phase: Some(phase),
    }
}

/// An error's message with its causes, `outer: inner: root`, since hyper's own Display
/// hides the cause that says what actually happened.
fn chain(err: &hyper::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxys_html_error_page_is_reported_by_its_words() {
        let page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center>\
            <h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>";
        let f = from_status(http::StatusCode::BAD_GATEWAY, None, page);
        assert_eq!(f.message, "HTTP 502 Bad Gateway: 502 Bad Gateway 502 Bad Gateway nginx");
    }

    #[test]
    fn quoted_bytes_are_printable() {
        assert_eq!(quote(b"ab\x00\n\xffc"), "\"ab\\u{0}\\n\\ufffdc\"");
    }
}
