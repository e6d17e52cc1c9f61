#!/usr/bin/env bash
# streamperf's own overhead: reported TTFT minus the mock's server-side TTFT, CPU seconds per
# 1,000 requests and peak RSS, at several concurrencies.
#
# The mock runs as a separate process (TTFT 100 ms, ITL 10 ms, 64 tokens) and records, per
# request, the time from request received to first content chunk written. Each level runs
# about ROUNDS requests per slot. Results go into docs/PERFORMANCE.md between the markers.
#
# Usage: scripts/bench-overhead.sh            (LEVELS="1 64 512 2048" ROUNDS=3 PORT=18777)
#        MOCK_FLAGS=--close-after-response OUT=/tmp/close.md scripts/bench-overhead.sh
#        (a server that closes after every response: each later request pays a connect)
set -euo pipefail
cd "$(dirname "$0")/.."

LEVELS=${LEVELS:-"1 64 512 2048"}
ROUNDS=${ROUNDS:-3}
MIN_REQUESTS=${MIN_REQUESTS:-60}
PORT=${PORT:-18777}
MOCK_FLAGS=${MOCK_FLAGS:-}
OUT=${OUT:-docs/PERFORMANCE.md}
BODY='{"model":"mock","messages":[{"role":"user","content":"Write a short essay about AI."}],"stream":true,"stream_options":{"include_usage":true}}'

ulimit -n "$(ulimit -Hn)"
# shellcheck source=lib/mock.sh
. scripts/lib/mock.sh
# shellcheck disable=SC2086 # MOCK_FLAGS is a list of flags
start_mock "$PORT" --ttft-ms 100 --itl-ms 10 --tokens 64 $MOCK_FLAGS

# The mock's own CPU time (utime + stime, in clock ticks): the same events cost it too.
mock_cpu_ticks() { awk '{print $14 + $15}' "/proc/$mock_pid/stat"; }

rows=""
for c in $LEVELS; do
  n=$((c * ROUNDS)); [ "$n" -lt "$MIN_REQUESTS" ] && n=$MIN_REQUESTS
  curl -fsS -X POST "http://127.0.0.1:$PORT/mock/reset" >/dev/null
  mock_before=$(mock_cpu_ticks)
  echo "== concurrency $c, $n requests" >&2
  /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" \
    "$BIN" run -u "http://127.0.0.1:$PORT/v1/chat/completions" -n "$n" -p "$c" -q --no-history \
    --body "$BODY" -o "$work/result-$c.json" >"$work/run-$c.log"
  curl -fsS "http://127.0.0.1:$PORT/mock/stats" >"$work/stats-$c.json"
  mock_ticks=$(( $(mock_cpu_ticks) - mock_before ))
  row=$(python3 - "$c" "$n" "$work/result-$c.json" "$work/stats-$c.json" "$work/time.txt" "$mock_ticks" "$(getconf CLK_TCK)" <<'PY'
import json, sys
c, n, result, stats, timing, mock_ticks, hz = sys.argv[1:8]
r = json.load(open(result)); s = json.load(open(stats))
wall, user, sys_, rss_kib = open(timing).read().split()
ok = r["summary"]["success_count"]
# Per-request overhead needs pairs; the p50/p99 of each side is what both tools can see.
ttft = r["summary"]["ttft"]; server = s["first_content_us"]
d50 = (ttft["p50"] - server["p50"] / 1e6) * 1e3
d99 = (ttft["p99"] - server["p99"] / 1e6) * 1e3
cpu = (float(user) + float(sys_)) / int(n) * 1000
mock_cpu = int(mock_ticks) / int(hz) / int(n) * 1000
# Steady state: requests after each slot's first one, i.e. on a warm connection.
later = sorted(m["ttft"] for m in r["metrics"] if m["request_id"] > int(c) and m["ttft"] is not None)
def pct(values, q):
    return values[min(len(values) - 1, int(q * len(values)))]
steady = (f"{(pct(later, .5) - server['p50'] / 1e6) * 1e3:.2f} / {(pct(later, .99) - server['p99'] / 1e6) * 1e3:.2f}"
          if later else "–")
print(f"| {c} | {n} | {ok} | {ttft['p50']*1e3:.1f} / {ttft['p99']*1e3:.1f} | "
      f"{server['p50']/1e3:.1f} / {server['p99']/1e3:.1f} | {d50:.2f} / {d99:.2f} | {steady} | "
      f"{cpu:.3f} | {mock_cpu:.3f} | {int(rss_kib)/1024:.1f} | {s['max_in_flight']} |")
PY
)
  echo "$row" >&2
  rows+="$row"$'\n'
done

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
table=$(cat <<MD
<!-- bench-overhead:start -->
Measured $(date -u +%Y-%m-%d) on: $machine.
Command: \`${MOCK_FLAGS:+MOCK_FLAGS=$MOCK_FLAGS }LEVELS="$LEVELS" ROUNDS=$ROUNDS scripts/bench-overhead.sh\` (mock: TTFT 100 ms, ITL 10 ms, 64 tokens${MOCK_FLAGS:+, $MOCK_FLAGS}, separate process).

| concurrency | requests | ok | reported TTFT p50 / p99 (ms) | server TTFT p50 / p99 (ms) | overhead p50 / p99 (ms) | overhead, warm connections p50 / p99 (ms) | streamperf CPU s / 1,000 req | mock CPU s / 1,000 req | peak RSS (MiB) | mock peak in flight |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows}<!-- bench-overhead:end -->
MD
)
python3 - "$OUT" "$table" <<'PY'
import re, sys, pathlib
path, table = pathlib.Path(sys.argv[1]), sys.argv[2]
text = path.read_text() if path.exists() else "# Performance\n\n<!-- bench-overhead:start -->\n<!-- bench-overhead:end -->\n"
new = re.sub(r"<!-- bench-overhead:start -->.*?<!-- bench-overhead:end -->", lambda _: table, text, flags=re.S)
path.write_text(new)
PY
echo "written to $OUT" >&2
