//! The faults `?fail=…` injects, one per request: their names, what each does, and after how
//! many chunks a stream-ending one fires. Where each is carried out: status-like answers in
//! `request` (`errors`, `foreign`), the stream's own faults in `driver`, connections in `conn`,
//! redirects in `redirect`, extra headers in `overrides`.

use std::fmt;

/// A fault injected with `?fail=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// `status:<code>`: answer `<code>` with a JSON error body right away.
    Status(u16),
    /// `status-close:<code>`: answer as `status:<code>` does, then close the connection while
    /// advertising keep-alive, as a server that crashes or recycles a worker after an error
    /// does: the client's next request on it must not be lost.
    StatusClose(u16),
    /// `html:<code>`: answer `<code>` with nginx's HTML error page (`text/html`), as a
    /// reverse proxy in front of an LLM server does when the upstream fails.
    Html(u16),
    /// `throttle-date`: the route's 429 rate-limit error, with `Retry-After` as an HTTP-date
    /// 2 seconds ahead instead of seconds, the other form RFC 9110 allows.
    ThrottleDate,
    /// `close:<k>`: after k chunks, abort the body (truncated chunked encoding).
    Close(u64),
    /// `stall:<k>`: after k chunks, send nothing more until the client goes away.
    Stall(u64),
    /// `error:<k>`: after k chunks, send an in-stream error payload and end.
    Error(u64),
    /// `pause:<k>:<ms>`: after k chunks, wait `ms` more milliseconds, then carry on; the rest
    /// of the stream shifts by the pause and completes normally.
    Pause {
        /// Chunks sent before the pause.
        after: u64,
        /// Length of the pause, milliseconds.
        ms: u64,
    },
    /// `slow-headers:<ms>`: the response head leaves `ms` milliseconds late, as behind a
    /// queue or a buffering proxy; the answer's timing starts then, so it is otherwise normal.
    SlowHeaders(u64),
    /// `endless`: answer chunks at the usual pace forever, no end marker, no usage, as a
    /// generation that never stops; it ends only when the client goes away (or the server
    /// stops). A whole answer never completes: its head, then nothing.
    Endless,
    /// A connection behaviour (`close-idle`, `connection-close`, `http10`): the stream itself
    /// is unchanged; `conn` carries it out.
    Connection(ConnFault),
    /// `redirect:<code>`: answer `<code>` (301, 302, 303, 307, 308) with a `Location` (see
    /// `redirect`); the route never runs for this request.
    Redirect(u16),
    /// `redirect-loop`: a 307 back to this very URL.
    RedirectLoop,
    /// `headers:<n>`: `n` extra response headers (`x-mock-header-1: 1`, …), past hyper's
    /// default limit of 100 for a client.
    Headers(u32),
    /// `big-event:<bytes>`: the first chunk's text is padded to `bytes` bytes, one event that
    /// large; the rest of the stream is unchanged.
    BigEvent(u64),
    /// `bad-utf8`: the first chunk's text has the bytes 0xFF 0xFE in its middle, so that event
    /// is not UTF-8; the rest of the stream (and a whole answer) is unchanged.
    BadUtf8,
    /// `endless-line`: after the preamble, bytes without a line end until the client leaves.
    EndlessLine,
    /// `garbage:<bytes>`: a 200 `text/event-stream` of `bytes` pseudo-random bytes (the same
    /// every time), then the end: no event, no format at all.
    Garbage(u64),
}

/// Most extra headers `fail=headers:<n>` sends.
pub(crate) const MAX_HEADERS: u32 = 10_000;

/// Most bytes `fail=garbage:<bytes>` sends (10 MiB).
pub(crate) const MAX_GARBAGE: u64 = 10 << 20;

/// The faults without an argument, by name.
const BARE: [(&str, Fault); 5] = [
    ("throttle-date", Fault::ThrottleDate),
    ("endless", Fault::Endless),
    ("redirect-loop", Fault::RedirectLoop),
    ("bad-utf8", Fault::BadUtf8),
    ("endless-line", Fault::EndlessLine),
];

/// What a server does with the connection of a request, for `fail=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnFault {
    /// `close-idle`: answer, then drop the next request on the connection unanswered and close.
    CloseIdle,
    /// `connection-close`: answer with `Connection: close`, then close.
    ConnectionClose,
    /// `http10`: answer as HTTP/1.0 (no chunked encoding, the body ends at the close).
    Http10,
}

impl ConnFault {
    pub(crate) const ALL: [(&'static str, ConnFault); 3] = [
        ("close-idle", ConnFault::CloseIdle),
        ("connection-close", ConnFault::ConnectionClose),
        ("http10", ConnFault::Http10),
    ];

    /// The `fail=` name.
    pub(crate) fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, f)| *f == self).map_or("", |(name, _)| name)
    }
}

impl Fault {
    /// Parses one of the values [`Fault::parse`]'s error lists.
    pub(crate) fn parse(s: &str) -> Result<Fault, String> {
        let bad = || {
            format!(
                "invalid fail={s:?}: expected status:<code>, status-close:<code>, html:<code>, \
                 throttle-date, close:<k>, stall:<k>, error:<k>, pause:<k>:<ms>, \
                 slow-headers:<ms>, endless, close-idle, connection-close, http10, \
                 redirect:<code>, redirect-loop, headers:<n> (at most {MAX_HEADERS}), \
                 big-event:<bytes>, bad-utf8, endless-line or garbage:<bytes> (at most \
                 {MAX_GARBAGE})"
            )
        };
        if let Some((_, fault)) = BARE.iter().find(|(name, _)| *name == s) {
            return Ok(*fault);
        }
        if let Some((_, fault)) = ConnFault::ALL.iter().find(|(name, _)| *name == s) {
            return Ok(Fault::Connection(*fault));
        }
        let (kind, arg) = s.split_once(':').ok_or_else(bad)?;
        Self::with_arg(kind, arg).ok_or_else(bad)
    }

    /// The fault `kind:arg`, if `arg` suits `kind`.
    fn with_arg(kind: &str, arg: &str) -> Option<Fault> {
        let number = || arg.parse::<u64>().ok();
        let code = || arg.parse::<u16>().ok().filter(|c| (100..=999).contains(c));
        match kind {
            "status" => code().map(Fault::Status),
            "status-close" => code().map(Fault::StatusClose),
            "html" => code().map(Fault::Html),
            "close" => number().map(Fault::Close),
            "stall" => number().map(Fault::Stall),
            "error" => number().map(Fault::Error),
            "pause" => {
                let (after, ms) = arg.split_once(':')?;
                Some(Fault::Pause { after: after.parse().ok()?, ms: ms.parse().ok()? })
            }
            "slow-headers" => number().map(Fault::SlowHeaders),
            "redirect" => {
                code().filter(|c| matches!(c, 301 | 302 | 303 | 307 | 308)).map(Fault::Redirect)
            }
            "headers" => arg.parse().ok().filter(|n| *n <= MAX_HEADERS).map(Fault::Headers),
            "big-event" => number().map(Fault::BigEvent),
            "garbage" => number().filter(|n| *n <= MAX_GARBAGE).map(Fault::Garbage),
            _ => None,
        }
    }

    /// After how many chunks (reasoning and answer together; tokens when a chunk holds one
    /// token) a stream-ending fault fires (`None` for the faults that do not end a stream
    /// there: answered before it, changing its pace or its bytes, or never ending it).
    pub(crate) fn after_chunks(self) -> Option<u64> {
        match self {
            Fault::Close(k) | Fault::Stall(k) | Fault::Error(k) => Some(k),
            Fault::EndlessLine => Some(0),
            Fault::Status(_) | Fault::StatusClose(_) | Fault::Html(_) | Fault::ThrottleDate => None,
            Fault::Pause { .. } | Fault::SlowHeaders(_) | Fault::Endless => None,
            Fault::Connection(_) | Fault::Redirect(_) | Fault::RedirectLoop => None,
            Fault::Headers(_) | Fault::BigEvent(_) | Fault::BadUtf8 | Fault::Garbage(_) => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Status(c) => write!(f, "status:{c}"),
            Fault::StatusClose(c) => write!(f, "status-close:{c}"),
            Fault::Html(c) => write!(f, "html:{c}"),
            Fault::Close(k) => write!(f, "close:{k}"),
            Fault::Stall(k) => write!(f, "stall:{k}"),
            Fault::Error(k) => write!(f, "error:{k}"),
            Fault::Pause { after, ms } => write!(f, "pause:{after}:{ms}"),
            Fault::SlowHeaders(ms) => write!(f, "slow-headers:{ms}"),
            Fault::Connection(c) => f.write_str(c.name()),
            Fault::Redirect(code) => write!(f, "redirect:{code}"),
            Fault::Headers(n) => write!(f, "headers:{n}"),
            Fault::BigEvent(bytes) => write!(f, "big-event:{bytes}"),
            Fault::Garbage(bytes) => write!(f, "garbage:{bytes}"),
            Fault::ThrottleDate
            | Fault::Endless
            | Fault::RedirectLoop
            | Fault::BadUtf8
            | Fault::EndlessLine => {
                let name =
                    BARE.iter().find(|(_, fault)| fault == self).map_or("", |(name, _)| name);
                f.write_str(name)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        assert_eq!(Fault::parse("status:503"), Ok(Fault::Status(503)));
        assert_eq!(Fault::parse("close:3"), Ok(Fault::Close(3)));
        assert_eq!(Fault::parse("stall:0"), Ok(Fault::Stall(0)));
        assert_eq!(Fault::parse("error:2"), Ok(Fault::Error(2)));
        for bad in ["", "close", "close:x", "status:42", "boom:1"] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Fault::parse("pause:10:300"), Ok(Fault::Pause { after: 10, ms: 300 }));
        for bad in ["pause:1", "pause:x:3", "pause:1:"] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Fault::Error(2).to_string(), "error:2");
        assert_eq!(Fault::Pause { after: 1, ms: 2 }.to_string(), "pause:1:2");
        for (name, fault) in ConnFault::ALL {
            assert_eq!(Fault::parse(name), Ok(Fault::Connection(fault)));
            assert_eq!(Fault::Connection(fault).to_string(), name);
        }
        assert!(Fault::parse("close-idle:1").is_err());
        assert_eq!(Fault::parse("redirect:308"), Ok(Fault::Redirect(308)));
        assert_eq!(Fault::parse("redirect-loop"), Ok(Fault::RedirectLoop));
        assert!(Fault::parse("redirect:200").is_err());
        for (text, fault) in [
            ("headers:150", Fault::Headers(150)),
            ("big-event:1048576", Fault::BigEvent(1 << 20)),
            ("endless-line", Fault::EndlessLine),
        ] {
            assert_eq!(Fault::parse(text), Ok(fault));
            assert_eq!(fault.to_string(), text);
        }
        for bad in ["headers:x", "headers:10001", "big-event", "big-event:-1", "endless-line:1"] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Fault::EndlessLine.after_chunks(), Some(0), "right after the preamble");
    }

    #[test]
    fn the_gateway_faults_parse_and_print_back() {
        for (text, fault) in [
            ("html:502", Fault::Html(502)),
            ("throttle-date", Fault::ThrottleDate),
            ("slow-headers:1500", Fault::SlowHeaders(1500)),
            ("garbage:4096", Fault::Garbage(4096)),
            ("garbage:10485760", Fault::Garbage(MAX_GARBAGE)),
            ("bad-utf8", Fault::BadUtf8),
            ("status-close:503", Fault::StatusClose(503)),
            ("endless", Fault::Endless),
        ] {
            assert_eq!(Fault::parse(text), Ok(fault), "{text}");
            assert_eq!(fault.to_string(), text);
            assert_eq!(fault.after_chunks(), None, "{text} ends no stream after k chunks");
        }
        let bad = [
            "html",
            "html:42",
            "html:x",
            "throttle-date:1",
            "slow-headers",
            "slow-headers:-5",
            "garbage:10485761",
            "garbage:",
            "bad-utf8:1",
            "status-close:1000",
            "endless:1",
        ];
        for bad in bad {
            let error = Fault::parse(bad).expect_err(bad);
            assert!(error.contains("garbage:<bytes> (at most 10485760)"), "{error}");
        }
        let listed = Fault::parse("nope").unwrap_err();
        for name in ["html:<code>", "throttle-date", "slow-headers:<ms>", "bad-utf8"] {
            assert!(listed.contains(name), "{name} in {listed}");
        }
        assert!(listed.contains("status-close:<code>") && listed.contains(", endless,"));
    }
}
