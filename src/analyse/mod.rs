//! Analysis: records in, numbers out. HDR summaries ([`metrics`]), the per-second series
//! ([`timeseries`]) and the verdicts on service-level objectives ([`slo`]); pure functions of
//! the records, no I/O.

pub mod metrics;
pub mod slo;
pub mod timeseries;
