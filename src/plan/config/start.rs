//! `--start-at`: the instant every shard of a run starts its load together, each having
//! connected before it. An RFC 3339 time (`2026-12-06T10:00:00Z`), or `+DURATION` after a base
//! all shards share: Slurm's `SLURM_JOB_START_TIME` (Unix seconds), else `STREAMPERF_START_BASE`
//! (Unix seconds or RFC 3339).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};

use super::Env;
use super::load::parse_duration;

/// The instant `text` names.
pub fn parse_start_at(text: &str, env: Env<'_>) -> anyhow::Result<SystemTime> {
    let text = text.trim();
    let Some(offset) = text.strip_prefix('+') else {
        return instant(text).with_context(|| {
            format!(
                "`--start-at {text}`: expected an RFC 3339 time (2026-12-06T10:00:00Z) or +DURATION"
            )
        });
    };
    let offset = parse_duration(offset, "--start-at")?;
    let base = match (env("SLURM_JOB_START_TIME"), env("STREAMPERF_START_BASE")) {
        (Some(slurm), _) => instant(&slurm).context("SLURM_JOB_START_TIME")?,
        (None, Some(base)) => instant(&base).context("STREAMPERF_START_BASE")?,
        (None, None) => bail!(
            "`--start-at {text}` is relative: every shard needs the same base, from Slurm's \
             SLURM_JOB_START_TIME or STREAMPERF_START_BASE (Unix seconds or RFC 3339)"
        ),
    };
    Ok(base + offset)
}

/// Unix seconds, or an RFC 3339 time.
fn instant(text: &str) -> anyhow::Result<SystemTime> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(UNIX_EPOCH + Duration::from_secs_f64(secs));
        }
    }
    let stamp: jiff::Timestamp = text.parse().with_context(|| format!("{text:?} is not a time"))?;
    let nanos = u64::try_from(stamp.as_nanosecond()).context("a time before 1970")?;
    Ok(UNIX_EPOCH + Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_and_relative_instants() {
        let none = |_: &str| None;
        let at = parse_start_at("2026-12-06T10:00:00Z", &none).unwrap();
        assert_eq!(at.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_796_551_200);
        let slurm = |name: &str| (name == "SLURM_JOB_START_TIME").then(|| "1000".to_owned());
        let at = parse_start_at("+30s", &slurm).unwrap();
        assert_eq!(at.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1030);
        let e = parse_start_at("+30s", &none).unwrap_err().to_string();
        assert!(e.contains("needs the same base"), "{e}");
        let e = format!("{:#}", parse_start_at("soon", &none).unwrap_err());
        assert!(e.contains("expected an RFC 3339 time"), "{e}");
    }
}
