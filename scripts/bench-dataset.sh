#!/usr/bin/env bash
# Reading a large dataset: a ShareGPT-shaped file of RECORDS conversations (one human turn of
# 20–400 words, one reply of 20–600 words, cut from the compiled-in corpus), then a one-request
# run against the mock with `--dataset` (wall time and peak RSS, the reading dominating), next
# to the same run with a 5-record JSONL file (the fixed cost of a run).
#
# Usage: scripts/bench-dataset.sh            RECORDS=20000 scripts/bench-dataset.sh
# Needs python3 (to write the file) and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-100000} PORT=${PORT:-18781}
# shellcheck source=lib/mock.sh
. scripts/lib/mock.sh
start_mock "$PORT"

python3 - "$work" "$RECORDS" <<'PY'
import json, random, sys
work, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
words = open('src/plan/workload/prompts/moby-dick.txt').read().split()
def text(start, count): return " ".join(words[start:start + count])
records = []
for i in range(n):
    a, b = random.randint(20, 400), random.randint(20, 600)
    s = random.randint(0, len(words) - 1000)
    records.append({"id": str(i), "conversations": [
        {"from": "human", "value": text(s, a)}, {"from": "gpt", "value": text(s + a, b)}]})
json.dump(records, open(f"{work}/sharegpt.json", "w"))
with open(f"{work}/small.jsonl", "w") as f:
    for i in range(5):
        f.write(json.dumps({"prompt": f"prompt {i}"}) + "\n")
PY

run() {
  /usr/bin/time -f "%e %M" "$BIN" -u "http://127.0.0.1:$PORT/v1/chat/completions" \
    --dataset "$1" -n 1 -p 1 --output-tokens 1 -q --no-history -o "$work/result-$RANDOM.json" \
    2>&1 >/dev/null | tail -1
}
printf '%-28s %10s %10s %12s\n' dataset size_MB wall_s peak_RSS_MiB
for file in sharegpt.json small.jsonl; do
  for _ in 1 2 3; do
    read -r secs kb < <(run "$work/$file")
    size=$(( $(stat -c %s "$work/$file") / 1048576 ))
    printf '%-28s %10s %10s %12s\n' "$file" "$size" "$secs" "$(( kb / 1024 ))"
  done
done
