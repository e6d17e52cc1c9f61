//! Goodput: the requests per second that met every per-request objective.

use super::Slo;
use crate::measure::record::RequestRecord;

/// Whether `record` counts toward goodput: measured (successful, not warm-up) and meeting every
/// objective that applies to a single request.
pub fn is_good(slos: &[Slo], record: &RequestRecord) -> bool {
    record.is_success()
        && !record.warmup
        && slos.iter().all(|slo| slo.met_by(record) != Some(false))
}

/// Requests (successful, not warm-up) meeting every per-request SLO, ÷ `duration_secs`;
/// failed requests never count. With no per-request SLO this is the successful-request rate;
/// a non-positive duration gives 0.
pub fn goodput<'a>(
    slos: &[Slo],
    records: impl IntoIterator<Item = &'a RequestRecord>,
    duration_secs: f64,
) -> f64 {
    if duration_secs <= 0.0 {
        return 0.0;
    }
    let good = records.into_iter().filter(|r| is_good(slos, r)).count();
    good as f64 / duration_secs
}
