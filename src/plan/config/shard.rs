//! A sharded run (`--shard I/N`): N processes, on as many machines, each running its exact part
//! of the one run the flags describe. Shard I takes the run's jobs I, I + N, I + 2N, … (requests,
//! or sessions), so the N shards together send exactly the one-process run's requests, bodies
//! and data rows; the closed loop's concurrency and the total split with the remainder to the
//! first shards, and the open loop's seeded schedule gives every N-th arrival to each.

use anyhow::bail;

use super::Env;

/// This process's part of a sharded run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based shard number.
    pub index: u64,
    /// Shards in the run.
    pub count: u64,
}

impl Shard {
    /// `I/N` (0 ≤ I < N), or `auto`: Slurm's `SLURM_PROCID`/`SLURM_NTASKS`, else Kubernetes'
    /// `JOB_COMPLETION_INDEX` with `shards` (`--shards`) or `STREAMPERF_SHARDS`.
    pub fn parse(spec: &str, shards: Option<u64>, env: Env<'_>) -> anyhow::Result<Shard> {
        let spec = spec.trim();
        if spec == "auto" {
            return Shard::from_env(shards, env);
        }
        let Some((index, count)) = spec.split_once('/') else {
            bail!("`--shard {spec}`: expected I/N (e.g. 0/4) or auto");
        };
        let (Ok(index), Ok(count)) = (index.trim().parse::<u64>(), count.trim().parse::<u64>())
        else {
            bail!("`--shard {spec}`: expected I/N with whole numbers (e.g. 0/4)");
        };
        Shard::new(index, count, &format!("`--shard {spec}`"))
    }

    fn from_env(shards: Option<u64>, env: Env<'_>) -> anyhow::Result<Shard> {
        let number = |name: &str| -> anyhow::Result<Option<u64>> {
            match env(name) {
                None => Ok(None),
                Some(v) => match v.trim().parse() {
                    Ok(n) => Ok(Some(n)),
                    Err(_) => bail!("`--shard auto`: {name}={v:?} is not a whole number"),
                },
            }
        };
        if let (Some(index), Some(count)) = (number("SLURM_PROCID")?, number("SLURM_NTASKS")?) {
            return Shard::new(index, count, "`--shard auto` (SLURM_PROCID/SLURM_NTASKS)");
        }
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let Some(count) = shards.or(number("STREAMPERF_SHARDS")?) else {
                bail!(
                    "`--shard auto` in a Kubernetes Indexed Job: say how many shards with \
                     --shards N or STREAMPERF_SHARDS"
                );
            };
            return Shard::new(index, count, "`--shard auto` (JOB_COMPLETION_INDEX)");
        }
        bail!(
            "`--shard auto` found neither Slurm's SLURM_PROCID/SLURM_NTASKS nor Kubernetes' \
             JOB_COMPLETION_INDEX; give --shard I/N"
        )
    }

    fn new(index: u64, count: u64, what: &str) -> anyhow::Result<Shard> {
        if count == 0 || index >= count {
            bail!("{what}: shard {index} of {count} does not exist (0 ≤ I < N)");
        }
        Ok(Shard { index, count })
    }

    /// This shard's part of `total` jobs (or workers): the run's jobs I, I + N, …, below it.
    pub fn part(&self, total: u64) -> u64 {
        total / self.count + u64::from(self.index < total % self.count)
    }

    /// The settings as the result file's `config.shard`.
    pub fn view(&self) -> serde_json::Value {
        serde_json::json!({"index": self.index, "count": self.count})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn parts_add_up_with_the_remainder_to_the_first_shards() {
        let parts: Vec<u64> = (0..3).map(|i| Shard { index: i, count: 3 }.part(301)).collect();
        assert_eq!(parts, [101, 100, 100]);
        assert_eq!((0..4).map(|i| Shard { index: i, count: 4 }.part(6)).sum::<u64>(), 6);
    }

    #[test]
    fn specs_and_the_environment() {
        let none = env(&[]);
        assert_eq!(Shard::parse("1/3", None, &none).unwrap(), Shard { index: 1, count: 3 });
        let slurm = env(&[("SLURM_PROCID", "2"), ("SLURM_NTASKS", "4")]);
        assert_eq!(Shard::parse("auto", None, &slurm).unwrap(), Shard { index: 2, count: 4 });
        let k8s = env(&[("JOB_COMPLETION_INDEX", "1"), ("STREAMPERF_SHARDS", "2")]);
        assert_eq!(Shard::parse("auto", None, &k8s).unwrap(), Shard { index: 1, count: 2 });
        let e = |spec: &str, vars: &[(&str, &str)]| {
            Shard::parse(spec, None, &env(vars)).unwrap_err().to_string()
        };
        assert!(e("3/3", &[]).contains("shard 3 of 3 does not exist"));
        assert!(e("a/b", &[]).contains("whole numbers"));
        assert!(e("auto", &[("JOB_COMPLETION_INDEX", "0")]).contains("--shards N"));
        assert!(e("auto", &[]).contains("give --shard I/N"));
    }
}
