//! The BurstGPT CSV trace: a header row (`Timestamp`, `Model`, `Request tokens`,
//! `Response tokens`, `Total tokens`, `Log Type`), then a row a request. Only the time and the
//! two lengths are read; each row's prompt is a unique one of its length. Errors start with
//! `:line: ` or `: `, for the caller to put the file name before.

use super::{TraceContent, TraceRow, offset};
use crate::plan::workload::dataset::csv::{self, Row};

/// The columns read, as BurstGPT names them (matched in any case).
const COLUMNS: [&str; 3] = ["Timestamp", "Request tokens", "Response tokens"];

/// The rows of the CSV `text`, parsed by the dataset's CSV reader.
pub(super) fn read(text: &str) -> anyhow::Result<Vec<TraceRow>> {
    let table = csv::parse(text)?;
    let mut at = [0; 3];
    for (slot, name) in at.iter_mut().zip(COLUMNS) {
        let found = table.headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        *slot = found.ok_or_else(|| {
            anyhow::anyhow!(
                ": a BurstGPT trace needs a `{name}` column (the header has: {})",
                table.headers.join(", ")
            )
        })?;
    }
    let rows = table
        .rows
        .iter()
        .map(|row| trace_row(row, at).map_err(|e| anyhow::anyhow!(":{}: {e}", row.line)));
    rows.collect()
}

/// One request: `Request tokens` above 0; `Response tokens` 0 (a request that failed when the
/// trace was recorded) leaves the answer's length to the server.
fn trace_row(row: &Row, [time, input, output]: [usize; 3]) -> Result<TraceRow, String> {
    let field = |i: usize| row.fields.get(i).unwrap_or_default().trim();
    let (seconds, got) = (field(time).parse().ok(), format!("{:?}", field(time)));
    let at = offset(COLUMNS[0], seconds, "seconds", 1e9, &got)?;
    let tokens = |i: usize, name: &str, least: u64| match field(i).parse::<u64>() {
        Ok(n) if n >= least => Ok(n),
        _ => Err(format!(
            "`{name}` must be a whole number of tokens{}, got {:?}",
            if least > 0 { " above 0" } else { "" },
            field(i)
        )),
    };
    let input = tokens(input, COLUMNS[1], 1)?;
    let output = tokens(output, COLUMNS[2], 0)?;
    Ok(TraceRow {
        line: row.line,
        at,
        input_tokens: Some(input),
        output_tokens: (output > 0).then_some(output),
        hash_ids: Vec::new(),
        content: TraceContent::Blocks,
        headers: Vec::new(),
    })
}
