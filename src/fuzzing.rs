//! Fuzz targets: one function a target, each taking any bytes and panicking only on a real
//! bug. `fuzz/` runs them under libFuzzer (`scripts/fuzz.sh`); `tests/fuzz_props.rs` runs
//! them in `cargo test` on the fixtures, the saved crash inputs and seeded mutations.
//!
//! This is a test harness, not a layer: it reads the framers, the adapters, the config file
//! and the datasets alike. Errors are fine everywhere (most fuzz inputs are not a stream, a
//! config or a dataset); what must hold is stated where it is checked.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::measure::protocol::{Adapter, FormatKind, Protocol, StreamFormat, whole};
use crate::measure::stream::limit::DEFAULT_MAX_EVENT_BYTES;
use crate::measure::stream::sniff::sniff;
use crate::measure::stream::{Event, Framer, Framing, Oversized};
use crate::measure::tokens::Tokenizer;
use crate::plan::config::env::substitute;
use crate::plan::config::{DataSource, file};
use crate::plan::workload::dataset::{Dataset, DatasetFormat, text};
use crate::redact::Redactor;

mod reference;

/// SSE framing: the events the plain reading of WHATWG's algorithm gives (the body decoded
/// whole, then cut into lines), and the same events (or the same cap error after the same
/// events) however the body is cut into reads.
pub fn sse(data: &[u8]) {
    frames_alike(Framing::Sse, data, check_sse_event, reference::sse);
}

/// NDJSON framing: as [`sse`], with one non-blank line an event.
pub fn ndjson(data: &[u8]) {
    frames_alike(Framing::Ndjson, data, check_ndjson_event, reference::ndjson);
}

/// Every protocol adapter (and `auto`, with no URL and with one the input's hash picks) on the
/// events of `data` framed as SSE and as NDJSON, the whole-answer reader on the raw bytes, raw
/// framing and sniffing.
pub fn protocols(data: &[u8]) {
    let formats = formats(URL_PATHS[fnv(data) as usize % URL_PATHS.len()]);
    for framing in [Framing::Sse, Framing::Ndjson] {
        let (events, _) = frame(framing, DEFAULT_MAX_EVENT_BYTES, data, &[]);
        for (format, url_path) in &formats {
            interpret_all(format, framing, url_path, &events);
        }
    }
    for (format, url_path) in &formats {
        // No silent success: a whole answer is complete, an error, or malformed.
        let (_, meaning) = whole::interpret(format, data, url_path);
        let settled = meaning.done || meaning.error.is_some() || meaning.malformed.is_some();
        assert!(settled, "a whole answer read as nothing: {meaning:?}");
    }
    raw(data);
    sniffing(data);
}

/// The config-file reader in each syntax (chosen by extension), and `${NAME}` substitution
/// with redaction: a substituted value never survives [`Redactor::redact`].
pub fn config(data: &[u8]) {
    // `file::read` refuses text that is not UTF-8 before parsing; lossy text reaches further.
    let text = String::from_utf8_lossy(data);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    for name in ["fuzz.json", "fuzz.yaml", "fuzz.yml", "fuzz.toml", "fuzz"] {
        let _ = file::parse_text(Path::new(name), text);
    }
    let given = RefCell::new(Vec::new());
    let env = |name: &str| {
        let value = fake_env(name)?;
        given.borrow_mut().push(value.clone());
        Some(value)
    };
    let mut redactor = Redactor::default();
    let Ok(substituted) = substitute(text, &env, &mut redactor, &|| "fuzz".to_owned()) else {
        return;
    };
    let redacted = redactor.redact(&substituted);
    for secret in given.borrow().iter() {
        assert!(!redacted.contains(secret.as_str()), "{secret} survived redaction: {redacted:?}");
    }
}

/// The dataset readers: every format by name, by extension and by sniffing, after decoding
/// in a few encodings; every record read back with its lengths.
pub fn dataset(data: &[u8]) {
    let path = Path::new("fuzz.data");
    for label in ["utf-8", "gbk", "utf-16le", "utf-16be", "shift_jis"] {
        let _ = text::decode_text(path, data, label);
    }
    let text = String::from_utf8_lossy(data);
    let named = DatasetFormat::ALL.map(|format| ("fuzz.data", Some(format)));
    let by_file = ["fuzz.jsonl", "fuzz.json", "fuzz.txt", "fuzz.csv", "fuzz"].map(|n| (n, None));
    for (i, (name, format)) in named.into_iter().chain(by_file).enumerate() {
        let source = DataSource {
            file: PathBuf::from(name),
            format,
            // A seeded shuffle and a named CSV column, every other time.
            shuffle: (i % 2 == 1).then_some(i as u64),
            column: (i % 2 == 1).then(|| "text".to_owned()),
            encoding: "utf-8".to_owned(),
        };
        let Ok(read) = Dataset::from_text(&source, &text) else {
            continue;
        };
        assert!(!read.is_empty(), "an empty dataset must be an error");
        for index in 0..read.len() as u64 {
            let _ = read.item(index).lengths(&Tokenizer::Chars);
        }
    }
}

/// What framing a body gave: the events, and the cap error if one stopped it.
type Outcome = (Vec<Event>, Option<Oversized>);

/// A reference framer ([`reference`]): a whole body to its events.
type Reference = fn(&[u8]) -> Vec<Event>;

/// Frames `data` whole, then cut in several ways, under the default cap and a small one
/// (the cap also decides the same way at any read boundary: `stream::limit`).
fn frames_alike(framing: Framing, data: &[u8], check: fn(&Event), reference: Reference) {
    let small = 8 + (fnv(data) % 512) as usize;
    for limit in [DEFAULT_MAX_EVENT_BYTES, small] {
        let whole = frame(framing, limit, data, &[]);
        whole.0.iter().for_each(check);
        if limit == DEFAULT_MAX_EVENT_BYTES {
            // No input here comes near the default cap.
            let want = (reference(data), None);
            assert_eq!(whole, want, "{} framing differs from the reference", framing.name());
        }
        for cuts in cuttings(data) {
            let split = frame(framing, limit, data, &cuts);
            assert_eq!(whole, split, "{} framing, cap {limit}, cut at {cuts:?}", framing.name());
        }
    }
}

/// Feeds `data` cut at `cuts` (sorted offsets, repeats allowed: an empty read), then finishes.
fn frame(framing: Framing, limit: usize, data: &[u8], cuts: &[usize]) -> Outcome {
    let mut framer = Framer::with_limit(framing, limit);
    let mut out = Vec::new();
    let mut from = 0;
    for &to in cuts.iter().chain([&data.len()]) {
        if let Err(e) = framer.feed(&data[from..to], &mut out) {
            return (out, Some(e));
        }
        from = to;
    }
    framer.finish(&mut out);
    (out, None)
}

/// Ways to cut `data` into reads: a byte a read, right after every CR (a CRLF split), inside
/// a BOM, in half, every few bytes, and at a few places the data's hash picks.
fn cuttings(data: &[u8]) -> Vec<Vec<usize>> {
    let n = data.len();
    if n < 2 {
        return vec![vec![0], vec![n, n]];
    }
    let mut rng = XorShift::new(fnv(data));
    let after_cr = (1..n).filter(|&i| data[i - 1] == b'\r').collect();
    let step = 2 + rng.below(15);
    let mut random: Vec<usize> = (0..1 + rng.below(8)).map(|_| rng.below(n + 1)).collect();
    random.sort_unstable();
    vec![
        (1..n).collect(),
        after_cr,
        [1, 2, 3].into_iter().filter(|&i| i < n).collect(),
        vec![n / 2],
        (step..n).step_by(step).collect(),
        random,
    ]
}

/// An SSE event as dispatch makes it: a type (never empty), data without CR, an id that is
/// absent or a non-empty line without NUL.
fn check_sse_event(event: &Event) {
    assert!(!event.name.is_empty(), "an SSE event without a type: {event:?}");
    assert!(!event.name.contains(['\r', '\n']), "a line end in the type: {event:?}");
    assert!(!event.data.contains('\r'), "a CR in the data: {event:?}");
    if let Some(id) = &event.id {
        assert!(!id.is_empty() && !id.contains(['\0', '\r', '\n']), "a bad id: {event:?}");
    }
}

/// An NDJSON event: one non-blank line, no name, no id.
fn check_ndjson_event(event: &Event) {
    assert!(event.name.is_empty() && event.id.is_none(), "NDJSON names nothing: {event:?}");
    assert!(!event.data.contains('\n'), "an LF inside a line: {event:?}");
    assert!(!event.data.trim_ascii().is_empty(), "a blank line is no event: {event:?}");
}

/// Raw framing: whatever the reads, their texts joined are the whole body decoded once.
fn raw(data: &[u8]) {
    let want = String::from_utf8_lossy(data);
    for cuts in cuttings(data) {
        let (events, _) = frame(Framing::Raw, DEFAULT_MAX_EVENT_BYTES, data, &cuts);
        let joined: String = events.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(joined, want, "raw framing cut at {cuts:?}");
    }
}

/// Sniffing: an answer given before the whole body is final (`None` means "more bytes could
/// change it"); the whole body always gets one.
fn sniffing(data: &[u8]) {
    for json_declared in [false, true] {
        let settled = sniff(data, json_declared, true);
        assert!(settled.is_some(), "a complete body must be sniffed");
        let prefixes = (0..data.len().min(16)).chain(cuttings(data).into_iter().flatten());
        for end in prefixes.filter(|&end| end <= data.len()) {
            if let Some(early) = sniff(&data[..end], json_declared, false) {
                assert_eq!(Some(early), settled, "sniffed after {end} bytes, then changed");
            }
        }
    }
}

/// Interprets every event with a fresh adapter, as one request would.
fn interpret_all(format: &StreamFormat, framing: Framing, url_path: &str, events: &[Event]) {
    let mut adapter = Adapter::new(format, framing, url_path);
    for event in events {
        let _ = adapter.interpret(event);
        // `auto` decides at the first event with data, whatever the data.
        let blank = event.data.trim().is_empty();
        assert!(
            blank || !matches!(adapter, Adapter::Auto(_)),
            "auto still undecided after {event:?}"
        );
        let _ = (adapter.first_token_by_marker(), adapter.name());
    }
    let _ = adapter.eof_completes();
}

/// URL paths that give `auto` a protocol hint.
const URL_PATHS: [&str; 8] = [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/responses",
    "/v1/messages",
    "/v1beta/models/m:streamGenerateContent",
    "/v1/chat-messages",
    "/api/chat",
    "/generate_stream",
];

/// Every adapter there is: `auto` with no URL hint and with `hinted` (one path an input, picked
/// by its hash: every path a run, at a ninth of the cost), each protocol forced, the generic
/// rules bare and with paths set.
fn formats(hinted: &'static str) -> Vec<(StreamFormat, &'static str)> {
    let kind = |kind| StreamFormat { kind, ..StreamFormat::default() };
    let mut all = vec![(StreamFormat::default(), ""), (StreamFormat::default(), hinted)];
    all.extend(Protocol::ALL.map(|p| (kind(FormatKind::Protocol(p)), "")));
    all.extend([FormatKind::Sse, FormatKind::Ndjson].map(|k| (kind(k), "")));
    let some = |s: &str| Some(s.to_owned());
    let dify = StreamFormat {
        first_token_event: some("message"),
        completion_event: some("workflow_finished"),
        output_path: some("data.outputs.text"),
        ..StreamFormat::default()
    };
    let paths = StreamFormat {
        content_path: some("choices.0.delta.content"),
        reasoning_path: some("choices.0.delta.reasoning_content"),
        usage_path: some("usage.completion_tokens"),
        error_path: some("error"),
        done_marker: some("[DONE]"),
        ..StreamFormat::default()
    };
    let whole_data = StreamFormat {
        content_path: some("data"),
        done_marker: some(""),
        ..StreamFormat::default()
    };
    all.extend([dify, paths, whole_data].map(|f| (f, "")));
    all
}

/// The environment of [`config`]: every variable set to a secret of its own, but those
/// starting `U` (so the "not set" error is reached too).
fn fake_env(name: &str) -> Option<String> {
    (!name.starts_with('U')).then(|| format!("s3cr3t-{name}"))
}

/// FNV-1a: a stable hash of the input, to derive cuts and caps from it.
fn fnv(data: &[u8]) -> u64 {
    data.iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// A small xorshift64 generator: reproducible cuts (and, in `tests/fuzz_props.rs`,
/// mutations) without a dependency.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator for `seed` (any value; zero is moved off the fixed point).
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n` above 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
