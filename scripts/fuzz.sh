#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (libFuzzer on `streamperf::fuzzing`) for SECONDS each,
# one after the other. Each corpus (fuzz/corpus/TARGET/) is seeded first from the fixtures
# (the SSE cases' and provider transcripts' decoded bodies; for the readers, the example
# configs, the data files and the fixture files as written) and from the saved crash inputs.
# A crash artifact is copied into tests/fuzz_regressions/TARGET/, which `cargo test` replays
# (tests/fuzz_props.rs): commit it with its fix. Prints per target the seconds, executions,
# corpus size and whether it crashed; exits 1 when any target crashed.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET…]     (600 s each; sse ndjson protocols config dataset)
#        STREAMPERF_FIXTURES=DIR scripts/fuzz.sh  (the folder of sse-conformance/ and providers/;
#                                                   default tests/fixtures)
# Needs cargo-fuzz (`cargo install cargo-fuzz`), jq and base64. Only a stable toolchain is
# needed: RUSTC_BOOTSTRAP=1 lets it take libFuzzer's nightly flags.
set -euo pipefail
cd "$(dirname "$0")/.."
ALL=(sse ndjson protocols config dataset)
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")
fixtures=${STREAMPERF_FIXTURES:-tests/fixtures}
# cargo fuzz builds into fuzz/target; a CARGO_TARGET_DIR set for the main crate would mix them.
unset CARGO_TARGET_DIR
export RUSTC_BOOTSTRAP=1
# -a: debug assertions (integer overflow, slice bounds in `debug_assert!`) as in `cargo test`.
FUZZ_FLAGS=(-a)

for t in "${targets[@]}"; do
  [[ " ${ALL[*]} " == *" $t "* ]] || { echo "unknown target $t (one of: ${ALL[*]})" >&2; exit 2; }
done

# Seeds TARGET's corpus folder (files already there, the corpus grown so far, are kept).
seed() {
  local t=$1 corpus=fuzz/corpus/$1 f name
  mkdir -p "$corpus"
  case $t in
    sse | ndjson | protocols)
      for f in "$fixtures"/sse-conformance/*.json "$fixtures"/providers/*.json; do
        name=fixture-$(basename "$f" .json)
        jq -r '.input_b64 // .body_b64' "$f" | base64 -d >"$corpus/$name"
      done
      ;;
    config)
      cp configs/*.json configs/*.yaml configs/*.toml "$corpus/"
      for f in "$fixtures"/*/*.json; do cp "$f" "$corpus/fixture-$(basename "$f")"; done
      ;;
    dataset)
      cp tests/data/*.csv configs/data/* fuzz/seeds/dataset/* "$corpus/"
      for f in "$fixtures"/*/*.json; do cp "$f" "$corpus/fixture-$(basename "$f")"; done
      ;;
  esac
  if [ -d "tests/fuzz_regressions/$t" ]; then
    find "tests/fuzz_regressions/$t" -type f ! -name README.md -exec cp {} "$corpus/" \;
  fi
}

# Copies TARGET's crash artifacts into tests/fuzz_regressions/TARGET/; prints how many.
keep_crashes() {
  local t=$1 kept=0 f
  [ -d "fuzz/artifacts/$t" ] || { echo 0; return; }
  for f in "fuzz/artifacts/$t"/crash-* "fuzz/artifacts/$t"/oom-* "fuzz/artifacts/$t"/timeout-*; do
    [ -f "$f" ] || continue
    mkdir -p "tests/fuzz_regressions/$t"
    cp "$f" "tests/fuzz_regressions/$t/"
    kept=$((kept + 1))
  done
  echo "$kept"
}

mkdir -p fuzz/logs
summary=()
crashed_any=0
for t in "${targets[@]}"; do
  seed "$t"
  log=fuzz/logs/$t.log
  echo "== $t: ${seconds}s (log: $log)"
  rm -rf "fuzz/artifacts/$t"
  # Built first, so that a build error stops the script rather than reading as a crash.
  cargo fuzz build "${FUZZ_FLAGS[@]}" "$t"
  status=ok
  start=$(date +%s)
  # -timeout: one input running 30 s is a finding (a hang), as a panic is. -max_len: the one
  # seed past 16 KiB (very-long-lines, 214 KiB; tests/fuzz_props.rs runs it whole) would
  # otherwise let every input grow that long, at a tenth of the executions a second.
  cargo fuzz run "${FUZZ_FLAGS[@]}" "$t" -- -max_total_time="$seconds" -timeout=30 \
    -max_len=16384 -print_final_stats=1 >"$log" 2>&1 || status=crashed
  ran=$(($(date +%s) - start))
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  kept=$(keep_crashes "$t")
  [ "$status" = ok ] || crashed_any=1
  summary+=("$(printf '%-10s %6ss %12s execs %6s corpus files   %s (%s kept in tests/fuzz_regressions/%s)' \
    "$t" "$ran" "${execs:-?}" "$corpus" "$status" "$kept" "$t")")
done
echo
printf '%s\n' "${summary[@]}"
exit "$crashed_any"
