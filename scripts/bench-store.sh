#!/usr/bin/env bash
# How the node's memory and restart time grow with its chain: for each N in COUNTS, a
# fresh `blink-sequencer --dev --datadir` takes N ETH transfers (closed loop, real RPC),
# then its RSS is read, it is killed with SIGKILL, and the restart is timed from process
# start until it serves the same head over RPC.
#
#   bash scripts/bench-store.sh [BIN_DIR]
#
# BIN_DIR (default: this tree's release build) holds `blink` and `blink-sequencer`, so a
# baseline build can be measured the same way. Environment: COUNTS ("10000 100000
# 300000"), OUT (stdout only when unset). Talks only to 127.0.0.1; everything it starts
# is stopped.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
BIN="${1:-$root/target/release}"
COUNTS="${COUNTS:-10000 100000 300000}"
PORT=19845
URL="http://127.0.0.1:$PORT"
command -v jq >/dev/null || { echo "bench-store.sh: jq is required" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/blink-store.XXXXXX")"
node_pid=""
cleanup() {
  [[ -n "$node_pid" ]] && kill -9 "$node_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rpc() { curl -s -m 5 -X POST -H 'content-type: application/json' \
  --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":[]}" "$URL"; }
now_ms() { date +%s%3N; }
start_node() {
  "$BIN/blink-sequencer" --dev --http-port "$PORT" --datadir "$work/data" >>"$work/node.out" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 6000); do
    rpc eth_blockNumber >/dev/null 2>&1 && return 0
    kill -0 "$node_pid" 2>/dev/null || { echo "bench-store.sh: node exited" >&2; tail "$work/node.out" >&2; exit 1; }
    sleep 0.02
  done
  echo "bench-store.sh: node did not answer in 120 s" >&2; exit 1
}
rss_mb() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$node_pid/status"; }

rows=()
for n in $COUNTS; do
  rm -rf "$work/data"
  start_node
  rss0="$(rss_mb)"
  secs=$(( n / 4000 + 10 ))
  "$BIN/blink" bench --rpc "$URL" --closed --max-txs "$n" --duration "$secs" --accounts 400 \
    --json "$work/load.json" >/dev/null 2>&1
  ok="$(jq -r '.runs[0].ok' "$work/load.json")"
  tps="$(jq -r '.runs[0].tps | floor' "$work/load.json")"
  sleep 2
  head="$(printf '%d' "$(rpc eth_blockNumber | jq -r .result)")"
  rss1="$(rss_mb)"
  log_mb="$(du -m "$work/data" | tail -1 | cut -f1)"
  snaps="$(ls "$work/data/snapshots" 2>/dev/null | grep -c '^snapshot-' || true)"
  kill -9 "$node_pid"; wait "$node_pid" 2>/dev/null || true
  t0="$(now_ms)"
  start_node
  # served once it answers with at least the head it had (it seals on after replay);
  # bounded at about ten minutes
  for _ in $(seq 1 30000); do
    now="$(rpc eth_blockNumber | jq -r '.result // "0x0"' 2>/dev/null || echo 0x0)"
    (( $(printf '%d' "$now") >= head )) && break
    sleep 0.02
  done
  t1="$(now_ms)"
  rss2="$(rss_mb)"
  kill -9 "$node_pid"; wait "$node_pid" 2>/dev/null || true
  node_pid=""
  rows+=("| $n | $ok | $tps | $rss0 | $rss1 | $(( (rss1 - rss0) * 1024 * 1024 / (ok > 0 ? ok : 1) )) | $log_mb | ${snaps:-0} | $(( t1 - t0 )) | $rss2 |")
done

table="$(
  echo "| transfers asked | included | tx/s | RSS at start MB | RSS after MB | bytes/tx | datadir MB | snapshots | restart ms | RSS after restart MB |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
)"
echo "binaries: $BIN"
echo "$table"
if [[ -n "${OUT:-}" ]]; then echo "$table" >"$OUT"; fi
