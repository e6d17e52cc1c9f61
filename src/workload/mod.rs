//! Request templates and data sources: turns a [`Config`] into the concrete request of each
//! request number.
//!
//! Bodies are rendered before the run starts (one per CSV row, cycled), so building a request
//! on the hot path is a cheap clone.

use bytes::Bytes;

use crate::config::Config;

/// One fully rendered request.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// Final URL.
    pub url: String,
    /// Final headers.
    pub headers: Vec<(String, String)>,
    /// Serialized JSON body (empty: no body).
    pub body: Bytes,
}

/// The rendered requests, used in order and cycled.
#[derive(Debug, Clone)]
pub struct Workload {
    specs: Vec<RequestSpec>,
}

impl Workload {
    /// Loads the data source (if any) and renders every distinct request; fails before any
    /// request is sent when the file is unreadable or a placeholder names no column.
    pub fn load(config: &Config) -> anyhow::Result<Workload> {
        let _ = config;
        anyhow::bail!("workload is not built yet")
    }

    /// The request for 0-based request number `index` (rows cycle).
    pub fn request(&self, index: u64) -> &RequestSpec {
        &self.specs[(index % self.specs.len() as u64) as usize]
    }

    /// Number of distinct requests (CSV rows, or 1 without a data source).
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Always false: a workload holds at least one request.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }
}
