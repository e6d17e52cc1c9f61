//! The load model: closed loop (`-p`) or open loop (`--rate`), and when to stop
//! (`-n`, `--duration`, error limits, `--graceful-stop`), warm-up and ramp-up. Every error
//! names its flag.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::measure::engine::Warmup;
use crate::plan::schedule::Arrival;

/// How load is generated and when it stops.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSettings {
    /// Open loop at this many requests per second; `None` is the closed loop at
    /// `concurrency`.
    pub rate: Option<f64>,
    /// How open-loop arrivals are spaced.
    pub arrival: Arrival,
    /// Seed of the open-loop schedule.
    pub seed: u64,
    /// Open loop: at most this many requests in flight.
    pub max_in_flight: Option<u64>,
    /// Stop sending after this long.
    pub duration: Option<Duration>,
    /// Reach the target concurrency or rate linearly over this long.
    pub ramp_up: Option<Duration>,
    /// Warm-up requests, kept out of the statistics.
    pub warmup: Warmup,
    /// Stop sending after this many failures.
    pub max_errors: Option<u64>,
    /// Stop sending once more than this share of finished requests failed.
    pub max_error_rate: Option<f64>,
    /// Cancel in-flight requests at the deadline instead of awaiting them.
    pub cancel_at_deadline: bool,
    /// After a Ctrl-C, SIGTERM or SIGHUP: how long requests in flight may finish before they
    /// are cancelled.
    pub graceful_stop: Duration,
}

/// `--graceful-stop` unless given: long enough for a typical answer to finish, well inside
/// the grace period supervisors give before SIGKILL (Docker 10 s, Kubernetes 30 s).
pub const DEFAULT_GRACEFUL_STOP: Duration = Duration::from_secs(10);

impl Default for LoadSettings {
    fn default() -> Self {
        LoadSettings {
            rate: None,
            arrival: Arrival::Poisson,
            seed: 0,
            max_in_flight: None,
            duration: None,
            ramp_up: None,
            warmup: Warmup::None,
            max_errors: None,
            max_error_rate: None,
            cancel_at_deadline: false,
            graceful_stop: DEFAULT_GRACEFUL_STOP,
        }
    }
}

impl LoadSettings {
    /// The settings as the result file's `config.load`.
    pub fn view(&self) -> serde_json::Value {
        let secs = |d: Option<Duration>| d.map(|d| d.as_secs_f64());
        let burstiness = match self.arrival {
            Arrival::Gamma { shape } => Some(shape),
            _ => None,
        };
        let open = self.rate.is_some();
        serde_json::json!({
            "model": if open { "open" } else { "closed" },
            "rate": self.rate,
            "arrival": open.then(|| self.arrival.name()),
            "burstiness": burstiness,
            "seed": open.then_some(self.seed),
            "max_in_flight": self.max_in_flight,
            "duration": secs(self.duration),
            "ramp_up": secs(self.ramp_up),
            "warmup_requests": match self.warmup { Warmup::Requests(n) => Some(n), _ => None },
            "warmup_duration": match self.warmup { Warmup::Duration(d) => Some(d.as_secs_f64()), _ => None },
            "max_errors": self.max_errors,
            "max_error_rate": self.max_error_rate,
            "cancel_at_deadline": self.cancel_at_deadline,
            "graceful_stop": self.graceful_stop.as_secs_f64(),
        })
    }
}
/// `60s`, `5m`, `1h30m`, or a bare number of seconds.
pub(crate) fn parse_duration(text: &str, flag: &str) -> anyhow::Result<Duration> {
    let parsed = match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 => Ok(Duration::from_secs_f64(secs)),
        Ok(_) => Err(anyhow::anyhow!("must be positive")),
        Err(_) => humantime::parse_duration(text.trim()).map_err(anyhow::Error::from),
    };
    match parsed {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => bail!("`{flag}` must be longer than zero, got {text:?}"),
        Err(e) => Err(e).with_context(|| {
            format!("`{flag} {text}`: expected a duration such as 30s, 5m or 1h30m")
        }),
    }
}

/// `--warmup 20` (requests) or `--warmup 10s`.
pub(crate) fn warmup(text: &str) -> anyhow::Result<Warmup> {
    match text.trim().parse::<u64>() {
        Ok(0) => Ok(Warmup::None),
        Ok(n) => Ok(Warmup::Requests(n)),
        Err(_) => parse_duration(text, "--warmup").map(Warmup::Duration),
    }
}

/// `0.05` or `5%`, a share in (0, 1].
pub(crate) fn error_rate(text: &str) -> anyhow::Result<f64> {
    let t = text.trim();
    let share = match t.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    };
    match share {
        Ok(s) if s > 0.0 && s <= 1.0 => Ok(s),
        _ => bail!("`--max-error-rate` must be a share in (0, 1] such as 0.05 or 5%, got {text:?}"),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_warmups_and_rates_parse() {
        assert_eq!(parse_duration("90s", "-d").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1m30s", "-d").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2.5", "-d").unwrap(), Duration::from_millis(2500));
        assert!(parse_duration("0s", "-d").unwrap_err().to_string().contains("longer than zero"));
        let e = parse_duration("soon", "--duration").unwrap_err();
        assert!(format!("{e:#}").starts_with("`--duration soon`: expected a duration"), "{e:#}");
        assert_eq!(warmup("20").unwrap(), Warmup::Requests(20));
        assert_eq!(warmup("10s").unwrap(), Warmup::Duration(Duration::from_secs(10)));
        assert_eq!(error_rate("5%").unwrap(), 0.05);
        assert_eq!(error_rate("0.5").unwrap(), 0.5);
        assert!(error_rate("150%").is_err() && error_rate("0").is_err());
    }
}
