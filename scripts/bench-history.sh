#!/usr/bin/env bash
# Historical read latency: a fresh `blink-sequencer --dev` makes BLOCKS blocks of history
# (a token transfer and an ETH transfer about twice per block), then one client times
# eth_call and eth_getBalance at `latest`, 10 blocks back and BLOCKS back, and
# debug_traceTransaction (callTracer, struct logger) of a recent and an old transaction,
# one request at a time over one keep-alive connection (scripts/bench_history.py).
#
#   bash scripts/bench-history.sh [BIN_DIR]
#
# BIN_DIR (default: this tree's release build) holds `blink-sequencer`. Environment:
# BLOCKS (1000), BLOCK_MS (100: the node's --block-time-ms, so 1,000 blocks of history
# take ~2 minutes instead of 17; a dev chain has no L1, so its timestamps, one second
# apart, simply run ahead of the clock), CALLS (1000 per row), TRACE_CALLS (200),
# OUT (a Markdown file; stdout only when unset). Talks only to 127.0.0.1; everything it
# starts is stopped.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
BIN="${1:-$root/target/release}"
BLOCKS="${BLOCKS:-1000}"
BLOCK_MS="${BLOCK_MS:-100}"
CALLS="${CALLS:-1000}"
TRACE_CALLS="${TRACE_CALLS:-200}"
PORT=19945
URL="http://127.0.0.1:$PORT"
[[ -x "$BIN/blink-sequencer" ]] || { echo "bench-history.sh: no blink-sequencer in $BIN" >&2; exit 1; }
bash scripts/setup.sh # the .venv with web3.py (signing, ABI encoding)

work="$(mktemp -d "${TMPDIR:-/tmp}/blink-history.XXXXXX")"
node_pid=""
cleanup() {
  if [[ -n "$node_pid" ]]; then
    kill -9 "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BIN/blink-sequencer" --dev --http-port "$PORT" --block-time-ms "$BLOCK_MS" >"$work/node.out" 2>&1 &
node_pid=$!
for _ in $(seq 1 300); do
  curl -s -m 1 -X POST -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$URL" >/dev/null && break
  kill -0 "$node_pid" 2>/dev/null || { echo "bench-history.sh: node exited" >&2; cat "$work/node.out" >&2; exit 1; }
  sleep 0.1
done

report="$(timeout 1800 .venv/bin/python scripts/bench_history.py --rpc "$URL" --blocks "$BLOCKS" \
  --block-ms "$BLOCK_MS" --calls "$CALLS" --trace-calls "$TRACE_CALLS")"
rss="$(awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$node_pid/status")"
text="$(
  echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), binaries: $BIN"
  echo "command: BLOCKS=$BLOCKS BLOCK_MS=$BLOCK_MS CALLS=$CALLS TRACE_CALLS=$TRACE_CALLS bash scripts/bench-history.sh; node RSS at the end: ${rss} MB"
  echo
  echo "$report"
)"
echo "$text"
if [[ -n "${OUT:-}" ]]; then echo "$text" >"$OUT"; fi
