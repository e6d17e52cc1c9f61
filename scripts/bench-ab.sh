#!/usr/bin/env bash
# Two (or more) builds of streamperf, alternately against the same mock: is one slower?
#
# bench-overhead.sh starts a mock of each build's own, and the mock's process alone moves the
# overhead at 2,048 streams from 4 to 15 ms p50 between starts (docs/PERFORMANCE.md). Here
# every build runs against the same mock process, in turn, and the mock is restarted INSTANCES
# times so that no build gets a lucky one; medians per build at the end.
#
# Usage: scripts/bench-ab.sh REV_OR_BINARY [REV_OR_BINARY …]
#        scripts/bench-ab.sh 9673963 .             (a commit against the working tree)
#        C=512 ROUNDS=3 INSTANCES=3 scripts/bench-ab.sh old-build/streamperf .
# A git revision is built in a temporary worktree (target/bench-ab); `.` is the working tree.
# The mock (TTFT 100 ms, ITL 10 ms, 64 tokens) is the first build's.
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,14p "$0"; exit 2; }
cd "$(dirname "$0")/.."
C=${C:-2048} ROUNDS=${ROUNDS:-2} INSTANCES=${INSTANCES:-3} PORT=${PORT:-18779}
ulimit -n "$(ulimit -Hn)"
# shellcheck source=lib/mock.sh
. scripts/lib/mock.sh

work=$(mktemp -d)
mock_pid=
cleanup() {
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The binary for a revision, a path or `.`, and a short name for the table.
build() {
  local what=$1
  if [ "$what" = . ]; then
    cargo build --release --quiet
    echo "$PWD/target/release/streamperf working-tree"
  elif [ -x "$what" ] && [ -f "$what" ]; then
    echo "$(realpath "$what") $(basename "$(dirname "$(realpath "$what")")")/$(basename "$what")"
  else
    local sha tree
    sha=$(git rev-parse --short "$what^{commit}")
    tree="$work/tree-$sha"
    git worktree add --quiet --detach "$tree" "$sha"
    CARGO_TARGET_DIR="$PWD/target/bench-ab" cargo build --release --quiet --manifest-path "$tree/Cargo.toml"
    mkdir -p target/bench-ab/bin
    cp "target/bench-ab/release/streamperf" "target/bench-ab/bin/streamperf-$sha"
    git worktree remove --force "$tree"
    echo "$PWD/target/bench-ab/bin/streamperf-$sha $sha"
  fi
}

bins=() names=()
for what in "$@"; do
  read -r bin name < <(build "$what")
  bins+=("$bin") names+=("$name")
done

start_ab_mock() {
  "${bins[0]}" mock --port "$PORT" --ttft-ms 100 --itl-ms 10 --tokens 64 >"$work/mock.log" 2>&1 &
  mock_pid=$!
  mock_ready "$PORT" "$work/mock.log"
}

BODY='{"model":"mock","messages":[{"role":"user","content":"Write a short essay about AI."}],"stream":true,"stream_options":{"include_usage":true}}'
n=$((C * 3))
echo "concurrency $C, $n requests a run; $INSTANCES mock starts × $ROUNDS rounds × ${#bins[@]} builds" >&2
: >"$work/runs.tsv"
for instance in $(seq "$INSTANCES"); do
  start_ab_mock
  for _ in $(seq "$ROUNDS"); do
    for i in "${!bins[@]}"; do
      curl -fsS -X POST "http://127.0.0.1:$PORT/mock/reset" >/dev/null
      /usr/bin/time -f '%U %S %M' -o "$work/time.txt" "${bins[$i]}" run \
        -u "http://127.0.0.1:$PORT/v1/chat/completions" -n "$n" -p "$C" -q --no-history \
        --body "$BODY" -o "$work/result.json" >/dev/null 2>&1
      curl -fsS "http://127.0.0.1:$PORT/mock/stats" >"$work/stats.json"
      python3 - "${names[$i]}" "$instance" "$n" "$work/result.json" "$work/stats.json" \
        "$work/time.txt" >>"$work/runs.tsv" <<'PY'
import json, sys
name, instance, n, result, stats, timing = sys.argv[1:7]
r = json.load(open(result)); s = json.load(open(stats))
user, sys_, rss_kib = open(timing).read().split()
ttft, server = r["summary"]["ttft"], s["first_content_us"]
d50 = (ttft["p50"] - server["p50"] / 1e6) * 1e3
d99 = (ttft["p99"] - server["p99"] / 1e6) * 1e3
cpu = (float(user) + float(sys_)) / int(n) * 1000
print(f"{name}\t{instance}\t{d50:.2f}\t{d99:.2f}\t{cpu:.3f}\t{int(rss_kib) / 1024:.1f}\t{r['summary']['success_count']}")
PY
      tail -1 "$work/runs.tsv" | awk -F'\t' '{printf "mock %s  %-16s overhead p50 %6s ms  p99 %7s ms  CPU %s s/1,000  RSS %s MiB  ok %s\n", $2, $1, $3, $4, $5, $6, $7}' >&2
    done
  done
  kill "$mock_pid"; wait "$mock_pid" 2>/dev/null || true; mock_pid=
done

python3 - "$work/runs.tsv" "$C" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
print(f"\n| build | runs | overhead p50 (ms), median | overhead p99 (ms), median | CPU s / 1,000 req | peak RSS (MiB) |")
print("| --- | --- | --- | --- | --- | --- |")
for name in dict.fromkeys(r[0] for r in rows):
    mine = [r for r in rows if r[0] == name]
    med = lambda k: statistics.median(float(r[k]) for r in mine)
    print(f"| {name} | {len(mine)} | {med(2):.2f} | {med(3):.2f} | {med(4):.3f} | {med(5):.1f} |")
print(f"\n(concurrency {sys.argv[2]}; per-run rows above, on stderr)")
PY
