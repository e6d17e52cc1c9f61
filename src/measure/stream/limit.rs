//! The cap on one event or line (`--max-event-bytes`): its default, sizes as users write them
//! (`16MiB`) and shown back, and the error a framer returns past it.
//!
//! Without a cap, one 200 MB SSE event or a line that never ends grows the carried buffer
//! until the request times out (#17). The framers compare lengths as they append, so the
//! cap costs no allocation and decides the same way at any read boundary.

use std::fmt;

/// Default `--max-event-bytes`: far above any real event, far below a memory problem.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 << 20;

/// An event or line longer than the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oversized {
    /// What grew too large: `an SSE line`, `an NDJSON line`, ….
    pub what: &'static str,
    /// The cap, in bytes.
    pub limit: usize,
}

impl fmt::Display for Oversized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is larger than --max-event-bytes ({})", self.what, show_size(self.limit))
    }
}

impl std::error::Error for Oversized {}

/// Units a size may carry, binary whatever the spelling (as curl's `--max-filesize`).
const UNITS: [(&str, usize); 4] = [("", 1), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30)];

/// Parses `16777216`, `16MiB`, `16M`, `512KiB`, `1GiB` (case-insensitive; `K`, `KB` and
/// `KiB` all mean 1024 bytes). The size must be at least 1 byte.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let bad = || format!("{text:?} is not a size: use bytes or a unit, e.g. 16777216 or 16MiB");
    let lower = text.trim().to_ascii_lowercase();
    let digits = lower.find(|c: char| !c.is_ascii_digit()).unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits);
    let unit = unit.trim_start();
    let unit = unit.strip_suffix("ib").or_else(|| unit.strip_suffix('b')).unwrap_or(unit);
    let (_, scale) = UNITS.iter().find(|(name, _)| *name == unit).ok_or_else(bad)?;
    let n: usize = number.parse().map_err(|_| bad())?;
    match n.checked_mul(*scale) {
        Some(0) => Err(format!("{text:?}: the size must be at least 1 byte")),
        Some(bytes) => Ok(bytes),
        None => Err(format!("{text:?} is too large")),
    }
}

/// A size as people read it: `16 MiB`, `512 KiB`, or `1000 bytes` when no unit divides it.
pub fn show_size(bytes: usize) -> String {
    match UNITS.iter().rev().find(|(_, scale)| *scale > 1 && bytes % scale == 0) {
        Some((unit, scale)) => format!("{} {}iB", bytes / scale, unit.to_ascii_uppercase()),
        None => format!("{bytes} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_bytes_and_binary_units() {
        assert_eq!(parse_size("16777216"), Ok(16 << 20));
        for text in ["16MiB", "16mib", "16M", " 16 MB "] {
            assert_eq!(parse_size(text), Ok(16 << 20), "{text}");
        }
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("100b"), Ok(100));
        for bad in ["", "MiB", "16TiB", "16Mi", "-1", "1.5MiB", "16 MiB x"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(parse_size("0").unwrap_err().contains("at least 1 byte"));
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn sizes_show_in_the_largest_unit_that_divides_them() {
        assert_eq!(show_size(DEFAULT_MAX_EVENT_BYTES), "16 MiB");
        assert_eq!(show_size(64 << 10), "64 KiB");
        assert_eq!(show_size(3 << 30), "3 GiB");
        assert_eq!(show_size(1000), "1000 bytes");
        let e = Oversized { what: "an SSE line", limit: 1 << 20 };
        assert_eq!(e.to_string(), "an SSE line is larger than --max-event-bytes (1 MiB)");
    }
}
