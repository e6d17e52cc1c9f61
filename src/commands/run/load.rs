//! The load model and the sweep from the flags: closed loop (`-p`) or open loop (`--rate`),
//! when to stop, warm-up, ramp-up, and the levels of a sweep (flags, or the file's `sweep`
//! block standing for them). Every error names its flag.

use std::time::Duration;

use anyhow::bail;

use crate::cli::RunArgs;
use crate::plan::config::file::{FileConfig, FileSweep};
use crate::plan::config::flags::Origin;
use crate::plan::config::load::{DEFAULT_GRACEFUL_STOP, error_rate, parse_duration, warmup};
use crate::plan::config::{
    DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT_SECS, DEFAULT_TOTAL_REQUESTS, LoadSettings, Sweep,
    SweepOver,
};
use crate::plan::schedule::parse_arrival;

/// How much load, for how long: the timeout, the concurrency, the count, the load model and the
/// sweep, flags over the file.
pub(super) struct LoadPlan {
    pub timeout: Duration,
    pub concurrency: u64,
    pub total_requests: Option<u64>,
    pub load: LoadSettings,
    pub sweep: Option<Sweep>,
}

pub(super) fn load_plan(
    args: &RunArgs,
    file: &FileConfig,
    origin: &Origin,
) -> anyhow::Result<LoadPlan> {
    let timeout = match (args.timeout, file.timeout) {
        (Some(secs), _) => seconds(secs, "`--timeout`")?,
        (None, Some(secs)) => seconds(secs, &origin.describe("timeout"))?,
        (None, None) => Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS),
    };
    for p in &args.concurrency {
        at_least_one(Some(*p), "-p/--concurrency")?;
    }
    let concurrency =
        args.concurrency.first().copied().or(file.concurrency).unwrap_or(DEFAULT_CONCURRENCY);
    // A `sweep` block in the file stands for the list flags when none is given.
    let merged;
    let args = match (&file.sweep, args.concurrency.len() > 1 || args.rate.len() > 1) {
        (Some(block), false) if args.sweep.is_none() => {
            merged = with_file_sweep(args, block);
            &merged
        }
        _ => args,
    };
    let load = load_settings(args)?;
    let level_duration = sweep_duration(args)?;
    let sweep = sweep(args, level_duration)?;
    // With a duration and no count, the duration alone ends the run.
    let total_requests = match at_least_one(args.requests, "-n/--requests")?.or(file.total_requests)
    {
        None if load.duration.is_some() || level_duration.is_some() => None,
        n => Some(n.unwrap_or(DEFAULT_TOTAL_REQUESTS)),
    };
    Ok(LoadPlan { timeout, concurrency, total_requests, load, sweep })
}

fn seconds(secs: f64, what: &str) -> anyhow::Result<Duration> {
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if secs > 0.0 => Ok(d),
        _ => bail!("{what} must be a positive number of seconds, got {secs}"),
    }
}

fn at_least_one(value: Option<u64>, flag: &str) -> anyhow::Result<Option<u64>> {
    match value {
        Some(0) => bail!("`{flag}` must be at least 1, got 0"),
        other => Ok(other),
    }
}

/// Reads and checks the load flags of `args`.
fn load_settings(args: &RunArgs) -> anyhow::Result<LoadSettings> {
    if let Some(r) = args.rate.iter().find(|r| !(r.is_finite() && **r > 0.0)) {
        bail!("`--rate` must be a positive number of requests per second, got {r}")
    }
    let rate = args.rate.first().copied();
    if rate.is_none() {
        let open_only = [
            ("--arrival", args.arrival.is_some()),
            ("--burstiness", args.burstiness.is_some()),
            ("--seed", args.seed.is_some() && !args.shuffle),
            ("--max-in-flight", args.max_in_flight.is_some()),
        ];
        if let Some((flag, _)) = open_only.iter().find(|(_, given)| *given) {
            bail!("`{flag}` shapes the open loop: add `--rate R` (the closed loop uses -p)");
        }
    }
    if args.max_in_flight == Some(0) {
        bail!("`--max-in-flight` must be at least 1, got 0");
    }
    let duration = args.duration.as_deref().map(|d| parse_duration(d, "--duration")).transpose()?;
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

/// `--sweep-duration`, checked.
fn sweep_duration(args: &RunArgs) -> anyhow::Result<Option<Duration>> {
    args.sweep_duration.as_deref().map(|d| parse_duration(d, "--sweep-duration")).transpose()
}

/// The sweep the flags ask for: a list of more than one concurrency or rate.
fn sweep(args: &RunArgs, level_duration: Option<Duration>) -> anyhow::Result<Option<Sweep>> {
    if let Some(mode) = &args.sweep {
        return auto_sweep(args, mode, level_duration).map(Some);
    }
    let (p, r) = (args.concurrency.len() > 1, args.rate.len() > 1);
    if p && r {
        bail!("sweep one thing at a time: a list for either `-p` or `--rate`, not both");
    }
    let (over, levels): (SweepOver, Vec<f64>) = match (p, r) {
        (true, _) => (SweepOver::Concurrency, args.concurrency.iter().map(|&n| n as f64).collect()),
        (_, true) => (SweepOver::Rate, args.rate.clone()),
        _ if level_duration.is_some() => {
            bail!("`--sweep-duration` needs a list of levels, e.g. `-p 1,4,16` or `--rate 1,5,10`")
        }
        _ => return Ok(None),
    };
    Ok(Some(Sweep { over, levels, auto: false, level_duration }))
}

/// `--sweep auto`, starting from the given `-p` or `--rate` (else concurrency 1).
fn auto_sweep(
    args: &RunArgs,
    mode: &str,
    level_duration: Option<Duration>,
) -> anyhow::Result<Sweep> {
    if !mode.eq_ignore_ascii_case("auto") {
        bail!("`--sweep {mode}`: the only mode is `auto` (a list of levels goes to -p or --rate)");
    }
    if args.concurrency.len() > 1 || args.rate.len() > 1 {
        bail!("`--sweep auto` finds the levels itself: give one -p or --rate to start from");
    }
    let (over, start) = match args.rate.first() {
        Some(&rate) => (SweepOver::Rate, rate),
        None => (SweepOver::Concurrency, args.concurrency.first().copied().unwrap_or(1) as f64),
    };
    Ok(Sweep { over, levels: vec![start], auto: true, level_duration })
}

/// `args` with the file's `sweep` block's levels, as if given as flags (flags already given win).
fn with_file_sweep(args: &RunArgs, sweep: &FileSweep) -> RunArgs {
    let mut merged = args.clone();
    if !sweep.concurrency.is_empty() {
        merged.concurrency = sweep.concurrency.clone();
    }
    if !sweep.rate.is_empty() {
        merged.rate = sweep.rate.clone();
    }
    if sweep.auto {
        merged.sweep = Some("auto".into());
    }
    if merged.sweep_duration.is_none() {
        merged.sweep_duration = sweep.duration.clone();
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::schedule::Arrival;

    fn resolve(args: RunArgs) -> anyhow::Result<LoadSettings> {
        load_settings(&args)
    }

    #[test]
    fn defaults_are_the_closed_loop_without_limits() {
        assert_eq!(resolve(RunArgs::default()).unwrap(), LoadSettings::default());
    }

    #[test]
    fn graceful_stop_parses_and_names_its_flag() {
        let graceful = |text: &str| {
            let args = RunArgs { graceful_stop: Some(text.into()), ..RunArgs::default() };
            resolve(args).map(|s| s.graceful_stop)
        };
        assert_eq!(graceful("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(resolve(RunArgs::default()).unwrap().graceful_stop, DEFAULT_GRACEFUL_STOP);
        let e = graceful("later").unwrap_err();
        assert!(format!("{e:#}").starts_with("`--graceful-stop later`"), "{e:#}");
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

    #[test]
    fn a_list_is_a_sweep_and_one_value_is_not() {
        let args = RunArgs { concurrency: vec![1, 4, 16], ..RunArgs::default() };
        let s = sweep(&args, None).unwrap().unwrap();
        assert_eq!((s.over, s.levels), (SweepOver::Concurrency, vec![1.0, 4.0, 16.0]));
        let single = RunArgs { concurrency: vec![4], ..RunArgs::default() };
        assert_eq!(sweep(&single, None).unwrap(), None);
        let rates = RunArgs { rate: vec![1.0, 2.5], ..RunArgs::default() };
        assert_eq!(sweep(&rates, None).unwrap().unwrap().over, SweepOver::Rate);
        let both = RunArgs { concurrency: vec![1, 2], rate: vec![1.0, 2.0], ..RunArgs::default() };
        assert!(sweep(&both, None).unwrap_err().to_string().contains("one thing at a time"));
        let auto = RunArgs { sweep: Some("auto".into()), ..RunArgs::default() };
        let s = sweep(&auto, None).unwrap().unwrap();
        assert!(s.auto && s.levels == [1.0] && s.over == SweepOver::Concurrency);
        let bad = RunArgs { sweep: Some("fast".into()), ..RunArgs::default() };
        assert!(sweep(&bad, None).unwrap_err().to_string().contains("only mode is `auto`"));
        let d = Some(Duration::from_secs(5));
        assert!(sweep(&single, d).unwrap_err().to_string().contains("needs a list"));
    }
}
