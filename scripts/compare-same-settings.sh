#!/usr/bin/env bash
# How often would `streamperf compare` call two runs with the SAME settings different? Runs
# PAIRS pairs of identical 100-request runs against the built-in mock (TTFT 200 ms, jitter
# JITTER ms) and counts, for TTFT and e2e, the pairs flagged significant and those a bare
# p < 0.05 would have flagged (no minimum effect). Traffic goes to 127.0.0.1 only.
#
# usage: scripts/compare-same-settings.sh [PAIRS=10] [JITTER_MS=0] [PORT=18610]
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-10}
JITTER=${2:-0}
PORT=${3:-18610}
# shellcheck source=lib/mock.sh
. scripts/lib/mock.sh
start_mock "$PORT" --ttft-ms 200 --itl-ms 2 --tokens 8 --jitter-ms "$JITTER"
for i in $(seq $((PAIRS * 2))); do
  "$BIN" -u "http://127.0.0.1:$PORT/v1/chat/completions" -n 100 -p 10 -q \
    --db "$work/h.db" -o "$work/r$i.json" >/dev/null 2>&1
done
for i in $(seq "$PAIRS"); do
  "$BIN" compare $((2 * i - 1)) $((2 * i)) --db "$work/h.db" --format json
done | python3 -c '
import json, sys
decoder, text, tests = json.JSONDecoder(), sys.stdin.read(), []
while text.strip():
    c, end = decoder.raw_decode(text.lstrip())
    text = text.lstrip()[end:]
    tests += c["tests"]
for metric in ("ttft", "e2e"):
    ts = [t for t in tests if t["metric"] == metric]
    flagged = sum(t["significant"] for t in ts)
    bare = sum(t["test"]["p"] < 0.05 for t in ts)
    largest = max(abs(t["median_change_pct"]) for t in ts)
    print(f"{metric}: {flagged} of {len(ts)} pairs flagged; a bare p < 0.05 would flag {bare}; "
          f"largest median change {largest:.2f} %")
'
echo "(pairs: $PAIRS, mock TTFT 200 ms, jitter $JITTER ms, 100 requests at -p 10 a run)"
