# Shared by the benchmark scripts: source it, then `start_mock PORT [mock flags…]` (or start a
# mock of your own and `mock_ready PORT LOG`).
# Builds the release binary (BIN), makes a scratch folder (work), starts `streamperf mock` on
# 127.0.0.1:PORT in the background (mock_pid), removes both on exit, and returns once the mock
# answers.
start_mock() {
  local port=$1
  shift
  cargo build --release --quiet
  BIN=$PWD/target/release/streamperf
  work=$(mktemp -d)
  "$BIN" mock --port "$port" "$@" >"$work/mock.log" 2>&1 &
  mock_pid=$!
  trap 'kill "$mock_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
  mock_ready "$port" "$work/mock.log"
}

# Returns once the mock on 127.0.0.1:PORT answers (10 s at most); else names its LOG.
mock_ready() {
  local port=$1 log=$2
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/mock/stats" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "streamperf mock did not start on port $port; see $log" >&2
  return 1
}
