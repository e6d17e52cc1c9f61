//! The original tool's CSV data source: decoded text → header + rows.

use std::path::Path;

use anyhow::bail;
use csv::StringRecord;

/// A parsed CSV file: header names (trimmed) and data rows (each knows its line).
#[derive(Debug)]
pub(crate) struct Table {
    /// Column names from the header row.
    pub headers: Vec<String>,
    /// Data rows, all as wide as the header.
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug)]
pub(crate) struct Row {
    /// 1-based line of the file where the row starts.
    pub line: usize,
    /// The row's fields.
    pub fields: StringRecord,
}

/// Reads, decodes and parses the CSV file at `path`. Errors name the file (and line).
pub(crate) fn read_table(path: &Path, label: &str) -> anyhow::Result<Table> {
    let text = super::text::read_text(path, label)?;
    parse(&text).map_err(|e| anyhow::anyhow!("{}{e}", path.display()))
}

/// Parses CSV text with a header row. Errors start with `:line: ` or `: ` (after the file name).
pub(crate) fn parse(text: &str) -> anyhow::Result<Table> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| anyhow::anyhow!(": {e}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.iter().all(String::is_empty) {
        bail!(": the CSV file is empty; it needs a header row (column names) and data rows");
    }
    // The csv crate does not count skipped blank lines in its line numbers, so lines are
    // counted here from byte offsets, incrementally (rows come in order).
    let (mut counted_to, mut line) = (0usize, 1usize);
    let mut line_at = |byte: u64| {
        // A record's position is where the previous one ended: skip the blank lines between.
        let mut byte = (byte as usize).min(text.len());
        while matches!(text.as_bytes().get(byte), Some(b'\n' | b'\r')) {
            byte += 1;
        }
        if byte >= counted_to {
            line += text.as_bytes()[counted_to..byte].iter().filter(|&&b| b == b'\n').count();
            counted_to = byte;
        }
        line
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(fields) => {
                let line = fields.position().map_or(0, |p| line_at(p.byte()));
                rows.push(Row { line, fields });
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
                    let line = pos.as_ref().map_or(0, |p| line_at(p.byte()));
                    bail!(
                        ":{line}: this row has {len} fields but the header has {expected_len} \
                         ({}); quote fields that contain commas",
                        headers.join(", ")
                    );
                }
                _ => bail!(": {e}"),
            },
        }
    }
    if rows.is_empty() {
        bail!(": no data rows after the header ({})", headers.join(", "));
    }
    Ok(Table { headers, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        let t = parse(" a ,b\n1,\"x,\"\"y\"\"\nz\"\n\n2,3\n").unwrap();
        assert_eq!(t.headers, vec!["a", "b"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(&t.rows[0].fields[1], "x,\"y\"\nz");
        assert_eq!((t.rows[0].line, t.rows[1].line), (2, 5));
        assert_eq!(
            parse("").unwrap_err().to_string().split(';').next(),
            Some(": the CSV file is empty")
        );
        assert!(parse("a,b\n").unwrap_err().to_string().contains("no data rows"));
        let err = parse("a,b\n\n1,2\n3\n").unwrap_err().to_string();
        assert!(err.starts_with(":4: this row has 1 fields but the header has 2"), "{err}");
    }
}
