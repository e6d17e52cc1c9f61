//! Datasets: prompts, conversations or whole bodies read from a file (`--dataset`, the
//! config's `data_source`), sent in order and cycled, or shuffled with a seed.
//!
//! Formats: JSONL and JSON arrays of records (`prompt`, `messages` or `body`, optional
//! `output_tokens` and `input_tokens`), ShareGPT (a JSON array of `conversations`), plain text
//! (a prompt a line) and the original tool's CSV. The format comes from `--dataset-format`,
//! else the file's extension and its first character. The whole file is read before the run,
//! so a bad record is an error naming its line before anything is sent.

pub(crate) mod csv;
pub mod records;
pub mod source;
pub(crate) mod text;

use std::path::Path;

use anyhow::bail;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use serde_json::value::RawValue;

pub use records::{Content, Item};
pub use source::DatasetBodies;

use crate::plan::config::DataSource;

/// How a dataset file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetFormat {
    /// One JSON record a line.
    Jsonl,
    /// A JSON array of records.
    Json,
    /// A JSON array (or JSONL) of ShareGPT `conversations`.
    ShareGpt,
    /// One prompt a line.
    Text,
    /// The original tool's CSV: a header row, then a row a request.
    Csv,
}

impl DatasetFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [DatasetFormat; 5] = [
        DatasetFormat::Jsonl,
        DatasetFormat::Json,
        DatasetFormat::ShareGpt,
        DatasetFormat::Text,
        DatasetFormat::Csv,
    ];

    /// The format's name, as `--dataset-format` takes it.
    pub fn name(self) -> &'static str {
        match self {
            DatasetFormat::Jsonl => "jsonl",
            DatasetFormat::Json => "json",
            DatasetFormat::ShareGpt => "sharegpt",
            DatasetFormat::Text => "text",
            DatasetFormat::Csv => "csv",
        }
    }

    /// The format called `name`; the error lists the names.
    pub fn parse(name: &str) -> anyhow::Result<DatasetFormat> {
        let lower = name.trim().to_ascii_lowercase();
        let found = DatasetFormat::ALL.into_iter().find(|f| f.name() == lower);
        found.ok_or_else(|| {
            let names: Vec<&str> = DatasetFormat::ALL.iter().map(|f| f.name()).collect();
            anyhow::anyhow!("unknown dataset format {name:?}; expected one of {}", names.join(", "))
        })
    }

    /// The format a file's extension names, if it names one (`.json` may hold JSONL too).
    pub fn from_extension(path: &Path) -> Option<DatasetFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(DatasetFormat::Csv),
            "jsonl" | "ndjson" => Some(DatasetFormat::Jsonl),
            "txt" | "text" => Some(DatasetFormat::Text),
            _ => None,
        }
    }
}

/// A dataset's records, in the order they are sent (shuffled when asked).
#[derive(Debug)]
pub struct Dataset {
    items: Vec<Item>,
    format: DatasetFormat,
}

impl Dataset {
    /// Reads `source`: every record checked, none left out. Errors name the file, the line
    /// and the field; an empty file is one.
    pub fn read(source: &DataSource) -> anyhow::Result<Dataset> {
        let text = text::read_text(&source.file, &source.encoding)?;
        Dataset::from_text(source, &text)
    }

    /// The dataset `text`, the decoded contents of `source.file`, holds: [`Dataset::read`]
    /// without the disk, for the fuzzer.
    pub(crate) fn from_text(source: &DataSource, text: &str) -> anyhow::Result<Dataset> {
        let path = &source.file;
        let shown = path.display();
        let (items, format) = match source.format.or_else(|| DatasetFormat::from_extension(path)) {
            Some(DatasetFormat::Csv) => (csv_items(source, text)?, DatasetFormat::Csv),
            known => {
                let format = known.unwrap_or_else(|| sniff(text));
                let framing = match format {
                    DatasetFormat::Json | DatasetFormat::ShareGpt => sniff(text),
                    other => other,
                };
                let (items, sharegpt) = match framing {
                    DatasetFormat::Text => text_items(text).map(|items| (items, false)),
                    DatasetFormat::Jsonl => jsonl_items(text),
                    _ => json_items(text),
                }
                .map_err(|e| anyhow::anyhow!("{shown}:{e}"))?;
                let named = match format {
                    DatasetFormat::Json | DatasetFormat::Jsonl if sharegpt => {
                        DatasetFormat::ShareGpt
                    }
                    other => other,
                };
                (items, named)
            }
        };
        if items.is_empty() {
            bail!("{shown}: the dataset has no records ({} format)", format.name());
        }
        let mut dataset = Dataset { items, format };
        if let Some(seed) = source.shuffle {
            shuffle(&mut dataset.items, seed);
        }
        Ok(dataset)
    }

    /// The record request number `index` sends (records cycle).
    pub fn item(&self, index: u64) -> &Item {
        &self.items[(index % self.items.len() as u64) as usize]
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Always false: an empty dataset is an error.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The format the file was read as.
    pub fn format(&self) -> DatasetFormat {
        self.format
    }

    /// Whether any record is to be built into a body (rather than sent as written), and so
    /// needs a protocol, a model and maybe the tokenizer.
    pub fn builds_bodies(&self) -> bool {
        self.items.iter().any(|i| matches!(i.content, Content::Messages(_)))
    }

    /// The first record that needs a body built.
    pub fn first_to_build(&self) -> Option<&Item> {
        self.items.iter().find(|i| matches!(i.content, Content::Messages(_)))
    }
}

/// `items` in the reproducible order `seed` gives (the same on every run and machine:
/// `StdRng` is ChaCha12).
pub(crate) fn shuffle<T>(items: &mut [T], seed: u64) {
    items.shuffle(&mut StdRng::seed_from_u64(seed));
}

/// The format the text looks like: a JSON array, JSON lines, or plain lines.
fn sniff(text: &str) -> DatasetFormat {
    match text.trim_start().as_bytes().first() {
        Some(b'[') => DatasetFormat::Json,
        Some(b'{') => DatasetFormat::Jsonl,
        _ => DatasetFormat::Text,
    }
}

/// Plain text: every non-blank line a prompt. Errors start with the line (`N: …`).
fn text_items(text: &str) -> anyhow::Result<Vec<Item>> {
    let lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    Ok(lines.map(|(i, l)| Item::new(i + 1, records::prompt_content(l.to_owned()))).collect())
}

/// Records read so far, and whether the first was a ShareGPT conversation.
type Read = (Vec<Item>, bool);

/// Adds the record `value` found at `line`.
fn push(read: &mut Read, value: serde_json::Value, line: usize) -> anyhow::Result<()> {
    if read.0.is_empty() {
        read.1 = value.get("conversations").is_some();
    }
    let item = records::from_json(value, line).map_err(|e| anyhow::anyhow!("{line}: {e}"))?;
    read.0.push(item);
    Ok(())
}

/// JSON lines: every non-blank line a record.
fn jsonl_items(text: &str) -> anyhow::Result<Read> {
    let mut read = (Vec::new(), false);
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let value = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{}: not a JSON record: {e}", i + 1))?;
        push(&mut read, value, i + 1)?;
    }
    Ok(read)
}

/// A JSON array of records. Each record is cut out of the text unparsed first, so that its
/// line is known when its fields are checked.
fn json_items(text: &str) -> anyhow::Result<Read> {
    let raw: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| match e.line() {
        0 => anyhow::anyhow!(" {e}"),
        line => anyhow::anyhow!("{line}: not a JSON array of records: {e}"),
    })?;
    let (mut counted_to, mut line) = (0usize, 1usize);
    let mut read = (Vec::with_capacity(raw.len()), false);
    for record in raw {
        // The record's offset in `text`, from where its slice starts.
        let at = record.get().as_ptr() as usize - text.as_ptr() as usize;
        line += text.as_bytes()[counted_to..at].iter().filter(|&&b| b == b'\n').count();
        counted_to = at;
        let value =
            serde_json::from_str(record.get()).map_err(|e| anyhow::anyhow!("{line}: {e}"))?;
        push(&mut read, value, line)?;
    }
    Ok(read)
}

/// The CSV's rows (`text`) as prompts: the `data_source.column` column, else the one called
/// `prompt`, with `output_tokens` and `input_tokens` columns read when present.
fn csv_items(source: &DataSource, text: &str) -> anyhow::Result<Vec<Item>> {
    let shown = source.file.display();
    let table = csv::parse(text).map_err(|e| anyhow::anyhow!("{shown}{e}"))?;
    let column = |name: &str| table.headers.iter().rposition(|h| h == name);
    let wanted = source.column.as_deref().map_or("prompt", str::trim);
    let Some(prompt) = column(wanted) else {
        bail!(
            "{shown}: no `{wanted}` column to take prompts from (the header has: {}); name it \
             with `data_source.column`, or give a body with {{{{column}}}} placeholders",
            table.headers.join(", ")
        );
    };
    let (output, input) = (column("output_tokens"), column("input_tokens"));
    let mut items = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let length = |at: Option<usize>, name: &str| -> anyhow::Result<Option<u64>> {
            let Some(text) = at.and_then(|i| row.fields.get(i)).map(str::trim) else {
                return Ok(None);
            };
            match text.parse::<u64>() {
                _ if text.is_empty() => Ok(None),
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => bail!(
                    "{shown}:{}: `{name}` must be a whole number above 0, got {text:?}",
                    row.line
                ),
            }
        };
        let text = row.fields.get(prompt).unwrap_or_default().to_owned();
        let mut item = Item::new(row.line, records::prompt_content(text));
        item.output_tokens = length(output, "output_tokens")?;
        item.input_tokens = length(input, "input_tokens")?;
        items.push(item);
    }
    Ok(items)
}

#[cfg(test)]
mod tests;
