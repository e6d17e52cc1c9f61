#!/usr/bin/env bash
# Does the live view disturb timing? The same 512-stream run with `-q` and no terminal (plain
# lines), with the progress bar (on a pty from util-linux `script`), and with `--tui` (on a
# 120×40 pty), ROUNDS times each, the order rotated every round (whichever runs first in a
# round was measured cheaper: a fixed order biases the comparison); reported TTFT minus the
# mock's own server-side TTFT, and the client's CPU. Medians go into docs/PERFORMANCE.md
# between the bench-live markers.
#
# Usage: scripts/bench-live.sh            (STREAMS=512 ROUNDS=3 PER_SLOT=3 PORT=18778)
set -euo pipefail
cd "$(dirname "$0")/.."

STREAMS=${STREAMS:-512}
ROUNDS=${ROUNDS:-3}
PER_SLOT=${PER_SLOT:-3}
PORT=${PORT:-18778}
OUT=${OUT:-docs/PERFORMANCE.md}
BODY='{"model":"mock","messages":[{"role":"user","content":"Write a short essay about AI."}],"stream":true,"stream_options":{"include_usage":true}}'

ulimit -n "$(ulimit -Hn)"
# shellcheck source=lib/mock.sh
. scripts/lib/mock.sh
start_mock "$PORT" --ttft-ms 100 --itl-ms 10 --tokens 64

n=$((STREAMS * PER_SLOT))
run="$BIN run -u http://127.0.0.1:$PORT/v1/chat/completions -n $n -p $STREAMS -q --no-history --body '$BODY'"
views=(lines bar tui)
for round in $(seq "$ROUNDS"); do
  for i in 0 1 2; do
    view=${views[$(( (i + round - 1) % 3 ))]}
    curl -fsS -X POST "http://127.0.0.1:$PORT/mock/reset" >/dev/null
    result="$work/$view-$round.json"
    timing="$work/$view-$round.time"
    echo "== round $round, $view" >&2
    case $view in
      lines) /usr/bin/time -f '%U %S' -o "$timing" bash -c "$run -o '$result'" >/dev/null 2>&1 ;;
      bar) script -qec "/usr/bin/time -f '%U %S' -o '$timing' $run -o '$result'" /dev/null \
             >"$work/$view-$round.log" </dev/null ;;
      tui) script -qec "stty cols 120 rows 40; /usr/bin/time -f '%U %S' -o '$timing' $run --tui -o '$result'" \
             /dev/null >"$work/$view-$round.log" </dev/null ;;
    esac
    curl -fsS "http://127.0.0.1:$PORT/mock/stats" >"$work/$view-$round.stats"
  done
done

rows=$(python3 - "$work" "$ROUNDS" "$n" <<'PY'
import json, statistics, sys
work, rounds, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = {"lines": "`-q`, no terminal (plain lines)", "bar": "`-q`, progress bar (pty)",
         "tui": "`-q --tui` (pty, 120×40)"}
for view in ("lines", "bar", "tui"):
    cols = {k: [] for k in ("p50", "p99", "d50", "d99", "cpu", "ok")}
    for r in range(1, rounds + 1):
        res = json.load(open(f"{work}/{view}-{r}.json"))
        srv = json.load(open(f"{work}/{view}-{r}.stats"))["first_content_us"]
        ttft = res["summary"]["ttft"]
        user, sys_ = open(f"{work}/{view}-{r}.time").read().split()[-2:]
        cols["p50"].append(ttft["p50"] * 1e3); cols["p99"].append(ttft["p99"] * 1e3)
        cols["d50"].append(ttft["p50"] * 1e3 - srv["p50"] / 1e3)
        cols["d99"].append(ttft["p99"] * 1e3 - srv["p99"] / 1e3)
        cols["cpu"].append((float(user) + float(sys_)) / n * 1000)
        cols["ok"].append(res["summary"]["success_count"])
    m = {k: statistics.median(v) for k, v in cols.items()}
    runs = ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(cols["d50"], cols["d99"]))
    print(f"| {names[view]} | {m['ok']:.0f} | {m['p50']:.1f} / {m['p99']:.1f} | "
          f"{m['d50']:.2f} / {m['d99']:.2f} | {runs} | {m['cpu']:.3f} |")
PY
)
echo "$rows" >&2

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
table=$(cat <<MD
<!-- bench-live:start -->
Measured $(date -u +%Y-%m-%d) on: $machine.
Command: \`STREAMS=$STREAMS ROUNDS=$ROUNDS PER_SLOT=$PER_SLOT scripts/bench-live.sh\` ($n requests a run at concurrency $STREAMS; mock: TTFT 100 ms, ITL 10 ms, 64 tokens, separate process; the three views alternate, their order rotated every round).

| view | ok (median) | reported TTFT p50 / p99 (ms) | overhead p50 / p99 (ms), median | overhead p50/p99 of each run | streamperf CPU s / 1,000 req |
| --- | --- | --- | --- | --- | --- |
${rows}
<!-- bench-live:end -->
MD
)
python3 - "$OUT" "$table" <<'PY'
import re, sys, pathlib
path, table = pathlib.Path(sys.argv[1]), sys.argv[2]
text = path.read_text()
if "<!-- bench-live:start -->" not in text:
    text += "\n<!-- bench-live:start -->\n<!-- bench-live:end -->\n"
new = re.sub(r"<!-- bench-live:start -->.*?<!-- bench-live:end -->", lambda _: table, text, flags=re.S)
path.write_text(new)
PY
echo "written to $OUT" >&2
