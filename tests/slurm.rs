//! The Slurm launcher for real: a one-node Slurm cluster of our own (slurmctld and slurmd in a
//! temporary folder, `AuthType=auth/none`, ephemeral ports), `deploy/slurm/streamperf.sbatch`
//! submitted with 3 tasks against the built-in mock, and the job's own `streamperf merge`:
//! the mock saw exactly the one-process run's requests and the merged summary equals the pooled
//! records.
//!
//! Needs Debian's `slurm-wlm`. Without it, or when the daemons cannot start, the test says why
//! and is skipped, unless `STREAMPERF_REQUIRE_SLURM=1` (CI), where it fails with the daemons'
//! logs.

mod support;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use streamperf::cli::RunArgs;
use streamperf::mock::{MockOptions, MockServer};
use support::{args, run_args};

/// slurmctld and slurmd of a one-node cluster, stopped when dropped.
struct Cluster {
    conf: PathBuf,
    dir: PathBuf,
    daemons: Vec<Child>,
}

impl Cluster {
    /// Writes `slurm.conf` into `dir`, starts both daemons in the foreground and waits (≤ 30 s)
    /// until the node takes jobs. Err: why not, with the daemons' logs.
    fn start(dir: &Path) -> Result<Cluster, String> {
        let host = hostname();
        let user = output(Command::new("id").arg("-un"));
        let free_port = || TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let d = dir.display();
        let conf = dir.join("slurm.conf");
        // The node claims 8 CPUs whatever the machine has (config_overrides), so 3 tasks fit
        // on a 2-core CI machine; no cgroups, no munge.
        let text = format!(
            "ClusterName=streamperf\nSlurmctldHost={host}(127.0.0.1)\nAuthType=auth/none\n\
             CredType=cred/none\nProctrackType=proctrack/pgid\nTaskPlugin=task/none\n\
             SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nMpiDefault=none\n\
             SlurmUser={user}\nSlurmdUser={user}\nSlurmdParameters=config_overrides\n\
             SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
             StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
             SlurmctldLogFile={d}/slurmctld.log\nSlurmdLogFile={d}/slurmd.log\n\
             SlurmctldPort={}\nSlurmdPort={}\nReturnToService=2\n\
             NodeName={host} NodeAddr=127.0.0.1 CPUs=8 RealMemory=1000 State=UNKNOWN\n\
             PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
            free_port(),
            free_port()
        );
        for sub in ["state", "spool"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(&conf, text).unwrap();
        let mut cluster = Cluster { conf, dir: dir.to_owned(), daemons: Vec::new() };
        for (daemon, extra) in [("slurmctld", vec!["-i"]), ("slurmd", vec!["-N", host.as_str()])] {
            let child = Command::new(daemon_path(daemon))
                .arg("-D")
                .args(extra)
                .arg("-f")
                .arg(&cluster.conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("{daemon} did not start: {e}"))?;
            cluster.daemons.push(child);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state = cluster.command("sinfo").args(["-h", "-o", "%t"]).output();
            let state = state.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
            match state {
                Ok(s) if s == "idle" => return Ok(cluster),
                _ if Instant::now() > deadline => {
                    return Err(format!(
                        "the node did not become idle in 30 s (sinfo: {state:?})\n{}",
                        cluster.logs()
                    ));
                }
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// A Slurm command talking to this cluster.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("SLURM_CONF", &self.conf);
        command
    }

    fn logs(&self) -> String {
        ["slurmctld.log", "slurmd.log"]
            .iter()
            .map(|name| {
                let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                format!(
                    "--- {name} (last lines)\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for daemon in &mut self.daemons {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

/// Runs `command` to its end, or kills it after `limit`.
fn within(mut command: Command, limit: Duration) -> Result<std::process::Output, String> {
    let child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = child.map_err(|e| format!("{command:?}: {e}"))?;
    let deadline = Instant::now() + limit;
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!("{command:?} still running after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().map_err(|e| e.to_string())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_owned()
}

/// What `command` printed, trimmed.
fn output(command: &mut Command) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Debian puts the daemons in /usr/sbin, which a CI user's PATH may lack.
fn daemon_path(name: &str) -> PathBuf {
    let sbin = Path::new("/usr/sbin").join(name);
    if sbin.exists() { sbin } else { PathBuf::from(name) }
}

/// The cluster, or None (skipped, with the reason printed) where Slurm is not required.
fn cluster(dir: &Path) -> Option<Cluster> {
    let required = std::env::var("STREAMPERF_REQUIRE_SLURM").is_ok_and(|v| v == "1");
    let why = match Command::new(daemon_path("slurmctld")).arg("-V").output() {
        Err(e) => format!("slurmctld not found ({e}): install Debian's slurm-wlm"),
        Ok(_) => match Cluster::start(dir) {
            Ok(cluster) => return Some(cluster),
            Err(why) => why,
        },
    };
    assert!(!required, "STREAMPERF_REQUIRE_SLURM=1 but no Slurm cluster: {why}");
    eprintln!("skipped: no Slurm cluster: {why}");
    None
}

async fn mock() -> MockServer {
    let options =
        MockOptions { port: 0, ttft_ms: 20, itl_ms: 1, tokens: 4, ..MockOptions::default() };
    MockServer::start(options).await.unwrap()
}

fn prompts(mock: &MockServer) -> BTreeSet<String> {
    let prompt = |b: &Value| b["messages"][0]["content"].as_str().unwrap().to_owned();
    mock.stats.bodies().iter().map(prompt).collect()
}

/// The flags the batch script is given, as one process would run them.
const WORKLOAD: &str = "--model mock --input-tokens 20";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slurm_batch_script_runs_three_shards_and_merges_them_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let Some(cluster) = cluster(&dir.path().join("slurm")) else { return };

    let whole = mock().await;
    let one = RunArgs {
        body: None,
        input_tokens: Some("20".into()),
        model: Some("mock".into()),
        ..args(whole.url("/v1/chat/completions"), 300, 6, dir.path())
    };
    let one = run_args(&one).await;
    assert_eq!(one.result.summary.success_count, 300);

    let shared = mock().await;
    let results = dir.path().join("results");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm/streamperf.sbatch");
    let mut sbatch = cluster.command("sbatch");
    sbatch
        .args(["--wait", "--time=3", "--ntasks=3", "--ntasks-per-node=3"])
        .arg(format!("--output={}/job.out", dir.path().display()))
        .arg(&script)
        .env("URL", shared.url("/v1/chat/completions"))
        .env("CONCURRENCY", "6")
        .env("REQUESTS", "300")
        .env("WORKLOAD", WORKLOAD)
        .env("START_AFTER", "3s")
        .env("RESULTS", &results)
        .env("STREAMPERF", env!("CARGO_BIN_EXE_streamperf"))
        .current_dir(dir.path());
    let done = tokio::task::spawn_blocking(move || within(sbatch, Duration::from_secs(180)));
    let done = done.await.unwrap().unwrap_or_else(|why| {
        let queue = cluster.command("squeue").output().map(|o| o.stdout).unwrap_or_default();
        panic!("{why}\nsqueue:\n{}\n{}", String::from_utf8_lossy(&queue), cluster.logs())
    });
    let job_out = std::fs::read_to_string(dir.path().join("job.out")).unwrap_or_default();
    assert!(
        done.status.success(),
        "sbatch: {}{}\njob output:\n{job_out}\n{}",
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr),
        cluster.logs()
    );

    // The mock saw exactly the one-process run's requests, never more than 6 at once.
    let stats = shared.stats.snapshot();
    assert_eq!(stats.requests, 300, "{job_out}");
    assert!(stats.max_in_flight <= 6, "{}", stats.max_in_flight);
    assert_eq!(prompts(&shared), prompts(&whole), "the same prompts as one process");

    // Each task ran its shard, started together.
    let shards: Vec<_> = (0..3)
        .map(|i| streamperf::report::read_result(&results.join(format!("shard-{i}.json"))).unwrap())
        .collect();
    for (i, shard) in shards.iter().enumerate() {
        assert_eq!(shard.config["shard"]["index"], i as u64);
        assert_eq!(shard.config["shard"]["count"], 3);
        assert_eq!(shard.summary.total_requests, 100);
        let skew = shard.run.start_skew.expect("a start skew");
        assert!(skew.abs() < 0.5, "shard {i} started {skew} s off");
    }

    // The job's merge equals the pooled records.
    let merged = streamperf::report::read_result(&results.join("merged.json")).unwrap();
    let mut pooled = streamperf::metrics::Aggregator::new();
    shards.iter().flat_map(|s| &s.metrics).for_each(|r| pooled.add(r));
    let pooled = pooled.summary(Duration::from_secs(1));
    let m = &merged.summary;
    assert_eq!((m.total_requests, m.success_count), (300, pooled.success_count));
    assert_eq!(m.total_output_tokens, pooled.total_output_tokens);
    for (x, y) in [(&m.ttft, &pooled.ttft), (&m.total_time, &pooled.total_time)] {
        let (x, y) = (x.as_ref().unwrap(), y.as_ref().unwrap());
        assert_eq!((x.count, x.p50, x.p99, x.min, x.max), (y.count, y.p50, y.p99, y.min, y.max));
    }
    assert!(job_out.contains("300"), "the merged report in the job's output: {job_out}");
}
