#!/usr/bin/env bash
# A soak run: an open-loop run of DURATION at RATE requests a second against the mock, the
# client's RSS sampled every 10 s. Memory must stay flat once the result's records are capped
# (--max-records-in-result, here CAP): the growth after the first minute is printed, and the
# records file must hold one line per request the run finished.
#
# Usage: scripts/bench-soak.sh                      (10 minutes at 300 req/s)
#        DURATION=2m RATE=500 scripts/bench-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10m} RATE=${RATE:-300} CAP=${CAP:-10000} PORT=${PORT:-18783}
# shellcheck source=lib/mock.sh
. scripts/lib/mock.sh
start_mock "$PORT" --ttft-ms 20 --itl-ms 5 --tokens 16

"$BIN" -u "http://127.0.0.1:$PORT/v1/chat/completions" --rate "$RATE" -d "$DURATION" \
  --max-records-in-result "$CAP" -q --no-history -o "$work/soak.json" >"$work/run.log" 2>&1 &
run=$!
echo "seconds rss_MiB"
samples=()
t=0
while kill -0 "$run" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$run/status" 2>/dev/null || true)
  [ -n "$rss" ] && { echo "$t $((rss / 1024))"; samples+=("$t:$rss"); }
  sleep 10
  t=$((t + 10))
done
wait "$run" || { echo "the run failed:"; tail -20 "$work/run.log"; exit 1; }

# Growth after the first minute: the largest sample from 60 s on, less the one at 60 s.
awk -v list="${samples[*]}" 'BEGIN {
  n = split(list, s, " ");
  for (i = 1; i <= n; i++) { split(s[i], p, ":"); if (p[1] >= 60) { if (base == "") base = p[2]; if (p[2] > max) max = p[2] } }
  printf "RSS growth after the first minute: %.1f MiB (from %.1f to at most %.1f MiB)\n", (max - base) / 1024, base / 1024, max / 1024
}'
lines=$(wc -l <"$work/soak.records.jsonl")
total=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["total_requests"])' "$work/soak.json")
echo "records file: $lines lines; the result's total_requests: $total"
[ "$lines" = "$total" ] || { echo "MISMATCH"; exit 1; }
