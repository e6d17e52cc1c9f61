//! Outputs: every one a consumer of the [`RunResult`]; none re-measures.

pub mod json;
pub mod terminal;
#[cfg(test)]
pub(crate) mod test_support;

pub use json::{read_result, write_result};
pub use terminal::{ReportInfo, render};

use serde::{Deserialize, Serialize};

use crate::metrics::Summary;
use crate::record::RequestRecord;

/// Version of the result file layout.
pub const SCHEMA_VERSION: u32 = 1;

/// The tool that wrote a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Always `streamperf`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo { name: "streamperf".into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

/// A whole run: the result file (DESIGN §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Who wrote it.
    pub tool: ToolInfo,
    /// The configuration that ran, secrets redacted (seed keys: url, concurrency,
    /// total_requests, timestamp).
    pub config: serde_json::Value,
    /// Aggregates.
    pub summary: Summary,
    /// One record per request, in request order.
    pub metrics: Vec<RequestRecord>,
}
