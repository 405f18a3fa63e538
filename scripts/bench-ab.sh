#!/usr/bin/env bash
# Side by side on one machine in one run: two builds of `blink-sequencer --dev` (A = a
# baseline, B = this tree), each fresh for every round, alternating A B A B so machine
# noise hits both alike. Per round: pre-confirmation latency of ETH transfers sent open
# loop at RATE tx/s (eth_sendRawTransactionSync, p50/p99), then closed-loop throughput.
#
#   bash scripts/bench-ab.sh A_BIN_DIR [B_BIN_DIR]
#
# A_BIN_DIR holds `blink` and `blink-sequencer` of the baseline (build it from another
# commit, e.g. in a git worktree with CARGO_TARGET_DIR shared); B_BIN_DIR defaults to
# this tree's release build. Environment: ROUNDS (2), RATE (5000), SECS (10), OUT
# (stdout only when unset). Talks only to 127.0.0.1; everything it starts is stopped.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
A="${1:?usage: bench-ab.sh A_BIN_DIR [B_BIN_DIR]}"
B="${2:-$root/target/release}"
ROUNDS="${ROUNDS:-2}"
RATE="${RATE:-5000}"
SECS="${SECS:-10}"
PORT=19745
URL="http://127.0.0.1:$PORT"
command -v jq >/dev/null || { echo "bench-ab.sh: jq is required" >&2; exit 1; }
for d in "$A" "$B"; do
  [[ -x "$d/blink-sequencer" && -x "$d/blink" ]] || { echo "bench-ab.sh: no blink/blink-sequencer in $d" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/blink-ab.XXXXXX")"
node_pid=""
cleanup() {
  [[ -n "$node_pid" ]] && kill -9 "$node_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_node() { # bin dir
  "$1/blink-sequencer" --dev --http-port "$PORT" --datadir "$work/data" >"$work/node.out" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 200); do
    curl -s -m 1 -X POST -H 'content-type: application/json' \
      --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$URL" >/dev/null && return 0
    sleep 0.1
  done
  echo "bench-ab.sh: node did not start" >&2; cat "$work/node.out" >&2; exit 1
}
stop_node() {
  kill -9 "$node_pid" 2>/dev/null || true
  wait "$node_pid" 2>/dev/null || true
  node_pid=""
  rm -rf "$work/data"
}

rows=()
for round in $(seq 1 "$ROUNDS"); do
  for side in A B; do
    dir="$A"; [[ "$side" == B ]] && dir="$B"
    start_node "$dir"
    "$dir/blink" bench --rpc "$URL" --rate "$RATE" --duration "$SECS" --method sync \
      --json "$work/open.json" >/dev/null 2>&1
    "$dir/blink" bench --rpc "$URL" --closed --duration "$SECS" --seed 7 \
      --json "$work/closed.json" >/dev/null 2>&1
    stop_node
    p50="$(jq -r '.runs[0].latency.p50_ms' "$work/open.json")"
    p99="$(jq -r '.runs[0].latency.p99_ms' "$work/open.json")"
    ok="$(jq -r '.runs[0].ok' "$work/open.json")"
    tps="$(jq -r '.runs[0].tps | floor' "$work/closed.json")"
    rows+=("| $round | $side | $ok | $(printf '%.2f' "$p50") | $(printf '%.2f' "$p99") | $tps |")
  done
done

table="$(
  echo "| round | build | sync sends ok at $RATE/s | p50 ms | p99 ms | closed-loop tx/s |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
)"
echo "A = $A"
echo "B = $B"
echo "$table"
if [[ -n "${OUT:-}" ]]; then echo "$table" >"$OUT"; fi
