//! Output-token counting for streams whose API reports no usage.
//!
//! Output tokens come from the API's usage report when present, else they are counted with a
//! tokenizer (tiktoken `o200k_base` by default, configurable), else they are the number of content
//! events (README, "Metrics"). This module is the middle step: a [`Tokenizer`] chosen with
//! `--tokenizer`, which counts the tokens of a response's text ([`Tokenizer::count`]) and splits
//! that count over the content chunks the text arrived in ([`Tokenizer::count_pieces`]), for the
//! per-token inter-token latency (a gap between two chunks divided by the tokens the later one
//! carried).
//!
//! Counting is local and approximate: the server's tokenizer may differ from the one chosen
//! here, so reports name the tokenizer ([`Tokenizer::name`]).

use std::path::Path;
use std::sync::LazyLock;

use anyhow::bail;
use tiktoken_rs::{CoreBPE, Rank};

/// The `--tokenizer` value used when none is given.
pub const DEFAULT_SPEC: &str = "o200k_base";

/// The names [`Tokenizer::from_spec`] accepts besides a file path, for help and errors.
pub const NAMES: [&str; 4] = ["o200k_base", "cl100k_base", "chars", "events"];

/// How output tokens are counted when a stream reports no usage.
///
/// Build it with [`Tokenizer::from_spec`], which loads the tables: a tiktoken variant made
/// directly loads them on its first count instead, inside whatever is being timed.
#[derive(Clone)]
pub enum Tokenizer {
    /// tiktoken `o200k_base` (GPT-4o, GPT-4.1, GPT-5, o-series); the default.
    O200kBase,
    /// tiktoken `cl100k_base` (GPT-4, GPT-3.5).
    Cl100kBase,
    /// One token per Unicode scalar value: a crude approximation (against `o200k_base` it
    /// counts English about 4.4 times over and Chinese about 1.3 times), for when no real
    /// tokenizer is wanted.
    Chars,
    /// No tokenizer: the caller counts content events instead.
    Events,
    /// A Hugging Face tokenizer loaded from a `tokenizer.json` file.
    #[cfg(feature = "hf-tokenizer")]
    HuggingFace {
        /// The file name, for [`Tokenizer::name`].
        file_name: String,
        /// Shared so that cloning a config does not copy the vocabulary.
        tokenizer: std::sync::Arc<tokenizers::Tokenizer>,
    },
}

impl std::fmt::Debug for Tokenizer {
    // The Hugging Face tokenizer's own Debug prints its whole vocabulary.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokenizer({})", self.name())
    }
}

impl Tokenizer {
    /// Parses a `--tokenizer` value: `o200k_base` (default) | `cl100k_base` | `chars` |
    /// `events` | a path to a Hugging Face `tokenizer.json` (with the `hf-tokenizer` feature).
    ///
    /// A tiktoken table is loaded lazily, once per process, by the first
    /// [`count`](Self::count): it takes real time (measured on a 2-core machine: `o200k_base`
    /// about 150 ms in a release build and 350 ms in a debug one, `cl100k_base` about 60 ms
    /// and 200 ms) and about 45 MiB, which a run whose responses all report usage never needs.
    /// Count off the async runtime (`spawn_blocking`), or call [`load`](Self::load) first.
    /// A Hugging Face file is read now, so that a bad file is an error before anything runs.
    pub fn from_spec(spec: &str) -> anyhow::Result<Tokenizer> {
        Ok(match spec {
            "o200k_base" => Tokenizer::O200kBase,
            "cl100k_base" => Tokenizer::Cl100kBase,
            "chars" => Tokenizer::Chars,
            "events" => Tokenizer::Events,
            _ => return from_path(spec),
        })
    }

    /// Loads the process-wide tiktoken table now (see [`from_spec`](Self::from_spec)).
    pub fn load(&self) {
        if let Some(table) = self.table() {
            LazyLock::force(table);
        }
    }

    /// Whether counting reads the text (everything but `events`).
    pub fn counts_text(&self) -> bool {
        !matches!(self, Tokenizer::Events)
    }

    /// Name for reports: `o200k_base`, `cl100k_base`, `chars`, `events`, or `hf:<file name>`.
    pub fn name(&self) -> String {
        match self {
            Tokenizer::O200kBase => "o200k_base".to_owned(),
            Tokenizer::Cl100kBase => "cl100k_base".to_owned(),
            Tokenizer::Chars => "chars".to_owned(),
            Tokenizer::Events => "events".to_owned(),
            #[cfg(feature = "hf-tokenizer")]
            Tokenizer::HuggingFace { file_name, .. } => format!("hf:{file_name}"),
        }
    }

    /// Tokens in `text`; `None` for `events` (the caller counts events instead), and also when
    /// a Hugging Face tokenizer fails on `text`, so the caller falls back the same way.
    pub fn count(&self, text: &str) -> Option<u64> {
        let count = match self {
            Tokenizer::O200kBase | Tokenizer::Cl100kBase => {
                self.table()?.bpe.encode_ordinary(text).len()
            }
            Tokenizer::Chars => text.chars().count(),
            Tokenizer::Events => return None,
            #[cfg(feature = "hf-tokenizer")]
            Tokenizer::HuggingFace { tokenizer, .. } => {
                // `encode_fast` skips computing offsets, which counting does not need.
                tokenizer.encode_fast(text, false).ok()?.len()
            }
        };
        Some(count as u64)
    }

    /// Splits the tokens of `text` over consecutive pieces of it (the content chunks it
    /// arrived in). `ends` are the pieces' end byte offsets: increasing, the last equal to
    /// `text.len()`, each on a char boundary. An empty piece (an end equal to the one before)
    /// gets 0; were the last end short of `text.len()`, the last piece would take the rest.
    ///
    /// Returns one count per piece, summing to [`count`](Self::count)`(text)`. A token belongs
    /// to the piece that holds its last byte: a token whose text arrived across two chunks is
    /// complete only with the second. The whole text is tokenized once, because tokenizing
    /// each piece separately over-counts (a word cut in two becomes two or more tokens).
    /// `None` as for [`count`](Self::count).
    pub fn count_pieces(&self, text: &str, ends: &[usize]) -> Option<Vec<u32>> {
        match self {
            Tokenizer::O200kBase | Tokenizer::Cl100kBase => Some(self.table()?.tally(text, ends)),
            Tokenizer::Chars => {
                let char_ends = text.char_indices().map(|(at, c)| at + c.len_utf8());
                Some(tally(char_ends, ends))
            }
            Tokenizer::Events => None,
            #[cfg(feature = "hf-tokenizer")]
            Tokenizer::HuggingFace { tokenizer, .. } => {
                // tokenizers 0.22 `encode` gives byte offsets into the original text
                // (`encode_char_offsets` would give chars). Only the end is used: a
                // byte-level post-processor may trim a token's leading space from its start.
                let encoding = tokenizer.encode(text, false).ok()?;
                Some(tally(encoding.get_offsets().iter().map(|&(_, end)| end), ends))
            }
        }
    }

    /// The tiktoken table of a tiktoken variant.
    fn table(&self) -> Option<&'static LazyLock<TiktokenTable>> {
        match self {
            Tokenizer::O200kBase => Some(&O200K_BASE),
            Tokenizer::Cl100kBase => Some(&CL100K_BASE),
            _ => None,
        }
    }
}

/// Counts tokens per piece: the token ending at byte offset `end` (exclusive) belongs to the
/// first piece whose end is at or after it, that is the piece holding the token's last byte.
fn tally(token_ends: impl Iterator<Item = usize>, ends: &[usize]) -> Vec<u32> {
    let mut counts = vec![0u32; ends.len()];
    let Some(last) = ends.len().checked_sub(1) else {
        return counts;
    };
    for end in token_ends {
        // The first of equal ends is the piece that holds the byte; clamped so that a short
        // last end cannot drop tokens or panic.
        let piece = ends.partition_point(|&piece_end| piece_end < end).min(last);
        counts[piece] += 1;
    }
    counts
}

static O200K_BASE: LazyLock<TiktokenTable> =
    LazyLock::new(|| TiktokenTable::new(tiktoken_rs::o200k_base_singleton(), 199_998));
static CL100K_BASE: LazyLock<TiktokenTable> =
    LazyLock::new(|| TiktokenTable::new(tiktoken_rs::cl100k_base_singleton(), 100_256));

/// A tiktoken encoding plus each ordinary token's length in bytes.
///
/// `count_pieces` needs every token's byte length, and tiktoken-rs 0.12 gives a token's bytes
/// only by decoding it. Decoding each token of each text costs a `Vec` per token (about a
/// quarter more time per call), so the lengths are tabulated once at load instead.
struct TiktokenTable {
    bpe: &'static CoreBPE,
    /// Indexed by rank; no token is longer than 128 bytes. Empty if the vocabulary is not the
    /// expected one, and then lengths come from `decode_bytes`.
    lens: Vec<u8>,
}

impl TiktokenTable {
    /// `ordinary` is the number of ordinary (non-special) ranks, which are 0..ordinary.
    fn new(bpe: &'static CoreBPE, ordinary: Rank) -> TiktokenTable {
        // `_decode_native_and_split` clones each token once; it takes 10 ms for o200k_base
        // where `decode_bytes` per rank takes 100 ms. It panics on an unknown rank, hence the
        // check of the range's ends (the ranks between have no gaps in either file).
        let expected =
            bpe.decode_bytes(&[ordinary - 1]).is_ok() && bpe.decode_bytes(&[ordinary]).is_err();
        let lens = if expected {
            let ranks = (0..ordinary).collect();
            bpe._decode_native_and_split(ranks).map(|bytes| bytes.len().min(255) as u8).collect()
        } else {
            Vec::new()
        };
        TiktokenTable { bpe, lens }
    }

    /// Byte length of token `rank`; decoded only for a rank outside the table (none while the
    /// vocabulary is the expected one).
    fn len(&self, rank: Rank) -> usize {
        match self.lens.get(rank as usize) {
            Some(&len) if len < u8::MAX => usize::from(len),
            _ => self.bpe.decode_bytes(&[rank]).map_or(0, |bytes| bytes.len()),
        }
    }

    /// [`Tokenizer::count_pieces`] for this encoding.
    fn tally(&self, text: &str, ends: &[usize]) -> Vec<u32> {
        let mut at = 0;
        let token_ends = self.bpe.encode_ordinary(text).into_iter().map(|rank| {
            at += self.len(rank);
            at
        });
        tally(token_ends, ends)
    }
}

/// A spec that names no built-in tokenizer: a Hugging Face `tokenizer.json` path.
fn from_path(spec: &str) -> anyhow::Result<Tokenizer> {
    let path = Path::new(spec);
    // A build without Hugging Face support says so for anything meant as a file, existing or
    // not: rebuilding is the first thing to fix.
    if !path.exists() && (cfg!(feature = "hf-tokenizer") || !looks_like_path(spec)) {
        bail!(
            "`--tokenizer {spec}`: not a known tokenizer (expected {}{}), and no file `{}` \
             exists",
            NAMES.join(", "),
            if cfg!(feature = "hf-tokenizer") {
                " or a path to a Hugging Face tokenizer.json"
            } else {
                ""
            },
            path.display()
        );
    }
    load_hf(spec, path)
}

/// Whether a spec that names no file was still meant as one.
fn looks_like_path(spec: &str) -> bool {
    spec.contains(['/', '\\']) || spec.ends_with(".json")
}

#[cfg(feature = "hf-tokenizer")]
fn load_hf(spec: &str, path: &Path) -> anyhow::Result<Tokenizer> {
    let mut tokenizer = tokenizers::Tokenizer::from_file(path).map_err(|cause| {
        anyhow::anyhow!(
            "`--tokenizer {spec}`: cannot load the Hugging Face tokenizer `{}`: {cause}",
            path.display()
        )
    })?;
    // A tokenizer.json made for model input may truncate or pad; a count must do neither.
    tokenizer
        .with_truncation(None)
        .map_err(|cause| anyhow::anyhow!("`--tokenizer {spec}`: {cause}"))?
        .with_padding(None);
    let file_name = path.file_name().unwrap_or(path.as_os_str()).to_string_lossy().into_owned();
    Ok(Tokenizer::HuggingFace { file_name, tokenizer: std::sync::Arc::new(tokenizer) })
}

#[cfg(not(feature = "hf-tokenizer"))]
fn load_hf(spec: &str, _path: &Path) -> anyhow::Result<Tokenizer> {
    bail!(
        "`--tokenizer {spec}`: this streamperf was built without Hugging Face tokenizer \
         support; rebuild with `cargo install streamperf --features hf-tokenizer` or use \
         o200k_base, cl100k_base, chars or events"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference texts: about 60 words of English with punctuation and numbers, and about 80
    // characters of Chinese with Chinese punctuation.
    const EN: &str = "Streaming responses arrive in small pieces, so a load tester must time each \
        gap with care. In 2024, our team sent 1,250 requests to three endpoints and found that \
        the slowest server took 3.7 seconds to deliver its first token. Don't trust averages \
        alone: the tail, not the mean, decides how long people really wait (and whether they \
        come back)!";
    const ZH: &str = "流式接口把回答拆成许多小块逐个发送，因此压测工具必须仔细测量每一段间隔。\
        我们发现，最慢的服务器需要将近四秒才送出第一个词元；平均值并不可靠，决定用户等待多久的是长尾。";

    // Expected counts and first ten ids from the npm package js-tiktoken 1.0.21 (the JS port
    // of tiktoken that ships the ranks), Node 20, per encoding and text:
    //   const ids = new Tiktoken(require(`js-tiktoken/ranks/${enc}`)).encode(text);
    //   console.log(ids.length, ids.slice(0, 10));
    // Cross-checked, identical: npm `tiktoken` 1.0.22 (WASM build of tiktoken's Rust core),
    // `get_encoding(enc).encode_ordinary(text)`, and PyPI `tiktoken` 0.14.0,
    // `tiktoken.get_encoding(enc).encode_ordinary(text)`, fed the .tiktoken files through
    // TIKTOKEN_CACHE_DIR after they matched tiktoken's expected SHA-256.
    const O200K_EN: (u64, [Rank; 10]) =
        (78, [83208, 22488, 18338, 306, 3291, 12762, 11, 813, 261, 4700]);
    const O200K_ZH: (u64, [Rank; 10]) =
        (63, [15484, 10348, 80549, 32180, 89785, 172655, 5543, 37225, 6183, 5820]);
    const CL100K_EN: (u64, [Rank; 10]) =
        (79, [77609, 14847, 17782, 304, 2678, 9863, 11, 779, 264, 2865]);
    const CL100K_ZH: (u64, [Rank; 10]) =
        (98, [89753, 29430, 30177, 40526, 24326, 232, 18904, 29857, 242, 26955]);

    fn load(spec: &str) -> Tokenizer {
        Tokenizer::from_spec(spec).unwrap()
    }

    fn first_ids(tokenizer: &Tokenizer, text: &str) -> Vec<Rank> {
        tokenizer.table().unwrap().bpe.encode_ordinary(text).into_iter().take(10).collect()
    }

    /// End offsets of pieces of at least `min` bytes, on char boundaries, like streamed chunks.
    fn piece_ends(text: &str, min: usize) -> Vec<usize> {
        let mut ends = Vec::new();
        let mut start = 0;
        for (at, c) in text.char_indices() {
            let end = at + c.len_utf8();
            if end - start >= min || end == text.len() {
                ends.push(end);
                start = end;
            }
        }
        ends
    }

    #[test]
    fn tiktoken_counts_match_the_reference() {
        for (spec, text, (count, ids)) in [
            ("o200k_base", EN, O200K_EN),
            ("o200k_base", ZH, O200K_ZH),
            ("cl100k_base", EN, CL100K_EN),
            ("cl100k_base", ZH, CL100K_ZH),
        ] {
            let tokenizer = load(spec);
            assert_eq!(tokenizer.count(text), Some(count), "{spec}: {text}");
            assert_eq!(first_ids(&tokenizer, text), ids, "{spec}: {text}");
        }
    }

    #[test]
    fn length_tables_cover_every_ordinary_rank() {
        for spec in ["o200k_base", "cl100k_base"] {
            let table = load(spec).table().unwrap();
            assert!(!table.lens.is_empty(), "{spec}: the vocabulary changed size");
            for (rank, &len) in (0..).zip(&table.lens) {
                let bytes = table.bpe.decode_bytes(&[rank]).unwrap();
                assert_eq!(usize::from(len), bytes.len(), "{spec} rank {rank}");
            }
        }
    }

    #[test]
    fn special_token_text_is_plain_text() {
        // `<|endoftext|>` in generated text is characters, not the one special token.
        let count = load("o200k_base").count("<|endoftext|>").unwrap();
        assert!(count > 1, "counted as a special token: {count}");
    }

    #[test]
    fn names_round_trip() {
        for name in NAMES {
            assert_eq!(load(name).name(), name);
        }
        assert_eq!(DEFAULT_SPEC, "o200k_base");
        assert_eq!(format!("{:?}", load("chars")), "Tokenizer(chars)");
    }

    #[test]
    fn pieces_sum_to_the_whole_count() {
        for spec in ["o200k_base", "cl100k_base", "chars"] {
            let tokenizer = load(spec);
            for text in [EN, ZH] {
                // Single chars too: cl100k splits some Chinese chars into byte-fragment tokens.
                for min in [1, 4, 16, text.len()] {
                    let counts = tokenizer.count_pieces(text, &piece_ends(text, min)).unwrap();
                    let sum: u64 = counts.iter().map(|&n| u64::from(n)).sum();
                    assert_eq!(Some(sum), tokenizer.count(text), "{spec} min {min}: {text}");
                }
            }
        }
    }

    #[test]
    fn counting_pieces_separately_would_over_count() {
        // Why `count_pieces` tokenizes the whole text: pieces alone split words.
        let tokenizer = load("o200k_base");
        let ends = piece_ends(EN, 4);
        let starts = std::iter::once(0).chain(ends.iter().copied());
        let separately: u64 =
            starts.zip(&ends).map(|(start, &end)| tokenizer.count(&EN[start..end]).unwrap()).sum();
        assert!(separately > tokenizer.count(EN).unwrap() + 10, "{separately}");
    }

    #[test]
    fn a_split_token_counts_in_the_later_piece() {
        // o200k_base: "Hello" | " world" (bytes 0..5, 5..11).
        let tokenizer = load("o200k_base");
        assert_eq!(tokenizer.count_pieces("Hello world", &[3, 8, 11]), Some(vec![0, 1, 1]));
        // A piece that completes no token gets 0, wherever it is.
        assert_eq!(tokenizer.count_pieces("Hello world", &[5, 7, 9, 11]), Some(vec![1, 0, 0, 1]));
        assert_eq!(tokenizer.count_pieces("Hello world", &[11]), Some(vec![2]));
        // "流" "式" "接口": 接口 is one o200k token cut by the piece end at byte 9 (after 接);
        // cl100k_base has 接 and 口 as separate tokens.
        assert_eq!(tokenizer.count_pieces("流式接口", &[9, 12]), Some(vec![2, 1]));
        assert_eq!(load("cl100k_base").count_pieces("流式接口", &[9, 12]), Some(vec![3, 1]));
    }

    #[test]
    fn empty_and_short_pieces_keep_the_sum() {
        let tokenizer = load("o200k_base");
        // An empty piece between "Hello" and " world" gets 0, as does an empty first piece.
        assert_eq!(tokenizer.count_pieces("Hello world", &[0, 5, 5, 11]), Some(vec![0, 1, 0, 1]));
        // A last end short of the text: the last piece takes the rest.
        assert_eq!(tokenizer.count_pieces("Hello world", &[3, 8]), Some(vec![0, 2]));
        assert_eq!(load("chars").count_pieces("abc", &[1, 1, 2]), Some(vec![1, 0, 2]));
    }

    #[test]
    fn chars_counts_scalar_values_per_piece() {
        let chars = load("chars");
        // "hé" | "llo" | "世界" | "!": é is 2 bytes, 世 and 界 3 each.
        let text = "héllo世界!";
        assert_eq!(chars.count(text), Some(8));
        assert_eq!(chars.count_pieces(text, &[3, 6, 12, 13]), Some(vec![2, 3, 2, 1]));
        assert_eq!(chars.count(""), Some(0));
    }

    #[test]
    fn events_counts_nothing() {
        let events = load("events");
        assert_eq!(events.count("Hello world"), None);
        assert_eq!(events.count_pieces("Hello world", &[5, 11]), None);
    }

    #[test]
    fn empty_ends_give_no_counts() {
        assert_eq!(load("o200k_base").count_pieces("", &[]), Some(vec![]));
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let message = Tokenizer::from_spec("o200k").unwrap_err().to_string();
        for needle in ["`--tokenizer o200k`", "o200k_base, cl100k_base, chars, events", "`o200k`"] {
            assert!(message.contains(needle), "{needle:?} not in {message:?}");
        }
        assert!(message.contains("no file"), "{message}");
    }

    const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tokenizer/tiny-bpe.json");

    #[cfg(not(feature = "hf-tokenizer"))]
    #[test]
    fn a_path_says_how_to_get_hugging_face_support() {
        for spec in [TINY, "missing/tokenizer.json"] {
            let message = Tokenizer::from_spec(spec).unwrap_err().to_string();
            assert!(message.contains(&format!("`--tokenizer {spec}`")), "{message}");
            assert!(message.contains("--features hf-tokenizer"), "{message}");
        }
    }

    #[cfg(feature = "hf-tokenizer")]
    #[test]
    fn hugging_face_counts_with_byte_offsets() {
        let tokenizer = load(TINY);
        assert_eq!(tokenizer.name(), "hf:tiny-bpe.json");
        // hell o | w o r l d | ! | 世界: 9 tokens, though the file truncates to 4.
        let text = "hello world! 世界";
        assert_eq!(tokenizer.count(text), Some(9));
        // "hel" | "lo wo" | "rld! 世" | "界": 世界 ends at byte 19, in the last piece (char
        // offsets would put its end, 15, in the third).
        assert_eq!(tokenizer.count_pieces(text, &[3, 8, 16, 19]), Some(vec![0, 4, 4, 1]));
    }

    #[cfg(feature = "hf-tokenizer")]
    #[test]
    fn hugging_face_errors_name_the_file() {
        let missing = Tokenizer::from_spec("missing/tokenizer.json").unwrap_err().to_string();
        assert!(missing.contains("no file `missing/tokenizer.json` exists"), "{missing}");
        let dir = tempfile::tempdir().unwrap();
        let broken = dir.path().join("tokenizer.json");
        std::fs::write(&broken, r#"{"version": "1.0", "model": "#).unwrap();
        let message = Tokenizer::from_spec(broken.to_str().unwrap()).unwrap_err().to_string();
        assert!(message.contains(&broken.display().to_string()), "{message}");
        assert!(message.contains("cannot load"), "{message}");
    }
}
