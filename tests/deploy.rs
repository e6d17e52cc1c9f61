//! The launchers in `deploy/` hold together: the Kubernetes files parse and name what an
//! Indexed Job of shards needs, and the Slurm batch script is valid shell that runs the shards
//! and merges them.

use std::path::Path;

use serde_json::Value;

fn yaml(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_kubernetes_job_runs_one_shard_a_pod_and_the_merge_reads_them() {
    let job = yaml("job.yaml");
    let spec = &job["spec"];
    assert_eq!((&job["kind"], &spec["completionMode"]), (&"Job".into(), &"Indexed".into()));
    assert_eq!(spec["completions"], spec["parallelism"], "every shard at once");
    let container = &spec["template"]["spec"]["containers"][0];
    let args: Vec<&str> =
        container["args"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let after = |flag: &str| args.iter().position(|a| *a == flag).map(|i| args[i + 1]);
    assert_eq!(after("--shard"), Some("auto"));
    assert!(after("--start-at").is_some_and(|s| s.starts_with('+')));
    assert!(after("-o").unwrap().starts_with("/results/shard-$(JOB_COMPLETION_INDEX)"));
    let env = |name: &str| {
        let vars = container["env"].as_array().unwrap();
        vars.iter().find(|v| v["name"] == name).map(|v| v["value"].clone())
    };
    let shards = env("STREAMPERF_SHARDS").unwrap();
    assert_eq!(
        shards.as_str().unwrap().parse::<u64>().unwrap(),
        spec["completions"].as_u64().unwrap()
    );
    assert!(env("STREAMPERF_START_BASE").is_some(), "a relative --start-at needs a shared base");
    assert_eq!(container["volumeMounts"][0]["mountPath"], "/results");
    assert_eq!(spec["template"]["spec"]["subdomain"], yaml("service.yaml")["metadata"]["name"]);
    assert_eq!(yaml("service.yaml")["spec"]["clusterIP"], "None", "headless");

    let merge = yaml("merge-job.yaml");
    let script = merge["spec"]["template"]["spec"]["containers"][0]["args"][0].as_str().unwrap();
    assert!(script.starts_with("streamperf merge /results/shard-*.json"), "{script}");
    let claim = |v: &Value| {
        v["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"].clone()
    };
    assert_eq!(claim(&job), claim(&merge));
    assert_eq!(claim(&job), yaml("results-pvc.yaml")["metadata"]["name"]);
}

#[test]
fn the_slurm_script_is_valid_shell_that_shards_and_merges() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm/streamperf.sbatch");
    let checked = std::process::Command::new("bash").arg("-n").arg(&path).status().unwrap();
    assert!(checked.success(), "bash -n {}", path.display());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("srun") && text.contains("--shard auto") && text.contains("--start-at"));
    assert!(text.contains("merge \"$RESULTS\"/shard-*.json"));
}
