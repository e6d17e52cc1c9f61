#!/usr/bin/env bash
# How many concurrent streams one client core holds: streamperf pinned to core 0, the mock to
# core 1 (taskset), at several concurrencies, with a paced stream like a loaded LLM server's
# (TTFT 200 ms, a token every 50 ms, 32 tokens: each stream lasts ~1.8 s). For each level:
# the client's overhead (reported TTFT minus the mock's own, p50 / p99), its CPU use as a share
# of its one core, its self-check verdict and peak RSS. Results go into docs/PERFORMANCE.md
# between the markers; the shards a target concurrency needs follow from the largest level
# that stayed within the budget (overhead p99 ≤ 25 ms, not client-bound).
#
# Usage: scripts/bench-streams-per-core.sh   (LEVELS="1024 2048 4096 8192" ROUNDS=3 PORT=18778)
set -euo pipefail
cd "$(dirname "$0")/.."

LEVELS=${LEVELS:-"1024 2048 4096 8192"}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18778}
OUT=${OUT:-docs/PERFORMANCE.md}
BODY='{"model":"mock","messages":[{"role":"user","content":"Write a short essay about AI."}],"stream":true,"stream_options":{"include_usage":true}}'

ulimit -n "$(ulimit -Hn)"
cargo build --release --quiet
BIN=$PWD/target/release/streamperf
work=$(mktemp -d)
taskset -c 1 "$BIN" mock --port "$PORT" --ttft-ms 200 --itl-ms 50 --tokens 32 >"$work/mock.log" 2>&1 &
mock_pid=$!
trap 'kill "$mock_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
# shellcheck source=lib/mock.sh
. scripts/lib/mock.sh
mock_ready "$PORT" "$work/mock.log"

rows=""
for c in $LEVELS; do
  n=$((c * ROUNDS))
  curl -fsS -X POST "http://127.0.0.1:$PORT/mock/reset" >/dev/null
  echo "== concurrency $c, $n requests, client on core 0" >&2
  /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" taskset -c 0 \
    "$BIN" run -u "http://127.0.0.1:$PORT/v1/chat/completions" -n "$n" -p "$c" -q --no-history \
    --body "$BODY" -o "$work/result-$c.json" >"$work/run-$c.log" 2>&1
  curl -fsS "http://127.0.0.1:$PORT/mock/stats" >"$work/stats-$c.json"
  row=$(python3 - "$c" "$n" "$work/result-$c.json" "$work/stats-$c.json" "$work/time.txt" <<'PY'
import json, sys
c, n, result, stats, timing = sys.argv[1:6]
r = json.load(open(result)); s = json.load(open(stats))
wall, user, sys_, rss_kib = open(timing).read().split()
ttft = r["summary"]["ttft"]; server = s["first_content_us"]
d50 = (ttft["p50"] - server["p50"] / 1e6) * 1e3
d99 = (ttft["p99"] - server["p99"] / 1e6) * 1e3
core = (float(user) + float(sys_)) / float(wall) * 100
client = r.get("client") or {}
verdict = "client-bound" if client.get("client_bound") else "ok"
tps = r["summary"]["output_token_throughput"]
# Warm connections: each slot's later requests (the first ones also opened their connection,
# all at once).
later = sorted(m["ttft"] for m in r["metrics"] if m["request_id"] > int(c) and m["ttft"] is not None)
def pct(values, q):
    return values[min(len(values) - 1, int(q * len(values)))]
warm = (f"{(pct(later, .5) - server['p50'] / 1e6) * 1e3:.2f} / {(pct(later, .99) - server['p99'] / 1e6) * 1e3:.2f}"
        if later else "–")
print(f"| {c} | {n} | {r['summary']['success_count']} | {d50:.2f} / {d99:.2f} | {warm} | {core:.0f} % | "
      f"{client.get('scheduling_lag_p99_ms', 0):.1f} | {verdict} | {tps:,.0f} | {int(rss_kib)/1024:.1f} |")
PY
)
  echo "$row" >&2
  rows+="$row"$'\n'
done

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
table=$(cat <<MD
<!-- bench-streams-per-core:start -->
Measured $(date -u +%Y-%m-%d) on: $machine.
Command: \`LEVELS="$LEVELS" ROUNDS=$ROUNDS scripts/bench-streams-per-core.sh\` (client: \`taskset -c 0\`; mock: \`taskset -c 1\`, TTFT 200 ms, ITL 50 ms, 32 tokens).

| concurrent streams | requests | ok | overhead p50 / p99 (ms) | warm connections p50 / p99 (ms) | client CPU (of its core) | scheduling lag p99 (ms) | self-check | output tokens/s | peak RSS (MiB) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows}<!-- bench-streams-per-core:end -->
MD
)
python3 - "$OUT" "$table" <<'PY'
import re, sys, pathlib
path, table = pathlib.Path(sys.argv[1]), sys.argv[2]
text = path.read_text()
marker = r"<!-- bench-streams-per-core:start -->.*?<!-- bench-streams-per-core:end -->"
if re.search(marker, text, flags=re.S):
    text = re.sub(marker, lambda _: table, text, flags=re.S)
else:
    text += "\n## Streams per core, and shards for a target concurrency\n\n" + table + "\n"
path.write_text(text)
PY
echo "written to $OUT" >&2
