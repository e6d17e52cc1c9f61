//! The load model from the flags: closed loop (`-p`) or open loop (`--rate`), and when to stop
//! (`-n`, `--duration`, error limits, `--graceful-stop`), warm-up and ramp-up. Every error
//! names its flag.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::cli::RunArgs;
use crate::engine::Warmup;
use crate::load::{Arrival, parse_arrival};

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
    /// Reads and checks the load flags of `args`.
    pub fn resolve(args: &RunArgs) -> anyhow::Result<LoadSettings> {
        if let Some(r) = args.rate.iter().find(|r| !(r.is_finite() && **r > 0.0)) {
            bail!("`--rate` must be a positive number of requests per second, got {r}")
        }
        let rate = args.rate.first().copied();
        if rate.is_none() {
            let open_only = [
                ("--arrival", args.arrival.is_some()),
                ("--burstiness", args.burstiness.is_some()),
                ("--seed", args.seed.is_some()),
                ("--max-in-flight", args.max_in_flight.is_some()),
            ];
            if let Some((flag, _)) = open_only.iter().find(|(_, given)| *given) {
                bail!("`{flag}` shapes the open loop: add `--rate R` (the closed loop uses -p)");
            }
        }
        if args.max_in_flight == Some(0) {
            bail!("`--max-in-flight` must be at least 1, got 0");
        }
        let duration =
            args.duration.as_deref().map(|d| parse_duration(d, "--duration")).transpose()?;
        if args.cancel_at_deadline && duration.is_none() {
            bail!("`--cancel-at-deadline` needs `--duration`");
        }
        // `--burstiness` alone means gamma arrivals: it is gamma's parameter.
        let default_arrival = if args.burstiness.is_some() { "gamma" } else { "poisson" };
        let arrival =
            parse_arrival(args.arrival.as_deref().unwrap_or(default_arrival), args.burstiness)?;
        Ok(LoadSettings {
            rate,
            arrival,
            seed: args.seed.unwrap_or(0),
            max_in_flight: args.max_in_flight,
            duration,
            ramp_up: args.ramp_up.as_deref().map(|d| parse_duration(d, "--ramp-up")).transpose()?,
            warmup: args.warmup.as_deref().map(warmup).transpose()?.unwrap_or_default(),
            max_errors: match args.max_errors {
                Some(0) => bail!("`--max-errors` must be at least 1, got 0"),
                other => other,
            },
            max_error_rate: args.max_error_rate.as_deref().map(error_rate).transpose()?,
            cancel_at_deadline: args.cancel_at_deadline,
            graceful_stop: match &args.graceful_stop {
                Some(text) => parse_duration(text, "--graceful-stop")?,
                None => DEFAULT_GRACEFUL_STOP,
            },
        })
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

/// `--sweep-duration`, checked.
pub(super) fn sweep_duration(args: &RunArgs) -> anyhow::Result<Option<Duration>> {
    args.sweep_duration.as_deref().map(|d| parse_duration(d, "--sweep-duration")).transpose()
}

/// `60s`, `5m`, `1h30m`, or a bare number of seconds.
fn parse_duration(text: &str, flag: &str) -> anyhow::Result<Duration> {
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
fn warmup(text: &str) -> anyhow::Result<Warmup> {
    match text.trim().parse::<u64>() {
        Ok(0) => Ok(Warmup::None),
        Ok(n) => Ok(Warmup::Requests(n)),
        Err(_) => parse_duration(text, "--warmup").map(Warmup::Duration),
    }
}

/// `0.05` or `5%`, a share in (0, 1].
fn error_rate(text: &str) -> anyhow::Result<f64> {
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

    fn resolve(args: RunArgs) -> anyhow::Result<LoadSettings> {
        LoadSettings::resolve(&args)
    }

    #[test]
    fn defaults_are_the_closed_loop_without_limits() {
        assert_eq!(resolve(RunArgs::default()).unwrap(), LoadSettings::default());
    }

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
        let graceful = |text: &str| {
            let args = RunArgs { graceful_stop: Some(text.into()), ..RunArgs::default() };
            resolve(args).map(|s| s.graceful_stop)
        };
        assert_eq!(graceful("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(resolve(RunArgs::default()).unwrap().graceful_stop, DEFAULT_GRACEFUL_STOP);
        let e = graceful("later").unwrap_err();
        assert!(format!("{e:#}").starts_with("`--graceful-stop later`"), "{e:#}");
        assert_eq!(error_rate("0.5").unwrap(), 0.5);
        assert!(error_rate("150%").is_err() && error_rate("0").is_err());
    }

    #[test]
    fn open_loop_flags_need_a_rate() {
        let e = resolve(RunArgs { max_in_flight: Some(4), ..RunArgs::default() }).unwrap_err();
        assert!(e.to_string().starts_with("`--max-in-flight` shapes the open loop"), "{e}");
        let e = resolve(RunArgs { rate: vec![0.0], ..RunArgs::default() }).unwrap_err();
        assert!(e.to_string().starts_with("`--rate` must be a positive"), "{e}");
        let e = resolve(RunArgs { cancel_at_deadline: true, ..RunArgs::default() }).unwrap_err();
        assert_eq!(e.to_string(), "`--cancel-at-deadline` needs `--duration`");
        let open = RunArgs {
            rate: vec![20.0],
            arrival: Some("constant".into()),
            max_in_flight: Some(10),
            seed: Some(7),
            ..RunArgs::default()
        };
        let s = resolve(open).unwrap();
        assert_eq!(
            (s.rate, s.arrival, s.max_in_flight, s.seed),
            (Some(20.0), Arrival::Constant, Some(10), 7)
        );
    }
}
