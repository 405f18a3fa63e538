#!/usr/bin/env bash
# What a shorter L2 block time would cost and gain, measured on the real node (the study
# in docs/block-time.md). For each block time in BLOCK_TIMES, a fresh
# `blink-sequencer --dev --block-time-ms T --metrics-port M`:
#   idle   IDLE_S seconds without transactions: blocks/s, node CPU, commitment (state
#          root + header) ms per block, from /metrics and /proc;
#   loaded RATE ETH transfers/s for LOAD_S seconds (`blink bench`, eth_sendRawTransactionSync
#          open loop): the same, plus the pre-confirmation p50/p99;
#   wait   how long ethers v6 and viem take to hand back a receipt (scripts/receipt-latency.mjs);
#   clock  how far the head's timestamp has run ahead of the wall clock at the end
#          (timestamps are whole seconds and strictly rising: a block time below 1 s
#          makes them run ahead; a dev chain has no L1, so nothing stops it).
#
#   bash scripts/bench-block-time.sh [BIN_DIR]
#
# BIN_DIR (default: this tree's release build) holds `blink` and `blink-sequencer`.
# Environment: BLOCK_TIMES ("1000 500 250 100"), IDLE_S (20), LOAD_S (20), RATE (5000),
# N (20 receipts per fast mode), SLOW_N (5 per 4 s-polling mode), OUT (a Markdown file).
# Talks only to 127.0.0.1; everything it starts is stopped.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
BIN="${1:-$root/target/release}"
BLOCK_TIMES="${BLOCK_TIMES:-1000 500 250 100}"
IDLE_S="${IDLE_S:-20}"
LOAD_S="${LOAD_S:-20}"
RATE="${RATE:-5000}"
N="${N:-20}"
SLOW_N="${SLOW_N:-5}"
PORT=19955
MPORT=19956
URL="http://127.0.0.1:$PORT"
KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
command -v jq >/dev/null || { echo "bench-block-time.sh: jq is required" >&2; exit 1; }
for b in blink blink-sequencer; do
  [[ -x "$BIN/$b" ]] || { echo "bench-block-time.sh: no $b in $BIN" >&2; exit 1; }
done
bash scripts/setup.sh

work="$(mktemp -d "${TMPDIR:-/tmp}/blink-blocktime.XXXXXX")"
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

rpc() { # method params-json
  curl -s -m 5 -X POST -H 'content-type: application/json' \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "$URL"
}
metric() { curl -s -m 5 "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$node_pid/stat"; }
tick="$(getconf CLK_TCK)"
# one sample: "blocks commitment_seconds cpu_ticks time_ms"
sample() { echo "$(metric blink_committed_block) $(metric blink_commitment_seconds_total) $(cpu_ticks) $(date +%s%3N)"; }
# per-window figures from two samples: blocks/s, commitment ms per block, commitment ms/s, CPU %
window() {
  read -r b0 c0 t0 w0 <<<"$1"
  read -r b1 c1 t1 w1 <<<"$2"
  awk -v b0="$b0" -v c0="$c0" -v t0="$t0" -v w0="$w0" -v b1="$b1" -v c1="$c1" -v t1="$t1" -v w1="$w1" -v hz="$tick" \
    'BEGIN { s = (w1 - w0) / 1000; n = b1 - b0; if (n < 1) n = 1;
      printf "%.2f | %.3f | %.1f | %.1f", n / s, (c1 - c0) * 1000 / n, (c1 - c0) * 1000 / s, (t1 - t0) / hz / s * 100 }'
}

rows=()
waits=()
for ms in $BLOCK_TIMES; do
  "$BIN/blink-sequencer" --dev --http-port "$PORT" --metrics-port "$MPORT" --block-time-ms "$ms" \
    >"$work/node.out" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 300); do
    rpc eth_chainId '[]' >/dev/null 2>&1 && curl -s -m 1 "http://127.0.0.1:$MPORT/metrics" >/dev/null && break
    kill -0 "$node_pid" 2>/dev/null || { echo "bench-block-time.sh: node exited" >&2; cat "$work/node.out" >&2; exit 1; }
    sleep 0.1
  done
  sleep 2
  s0="$(sample)"; sleep "$IDLE_S"; s1="$(sample)"
  idle="$(window "$s0" "$s1")"
  "$BIN/blink" bench --rpc "$URL" --rate "$RATE" --duration "$LOAD_S" --method sync \
    --json "$work/load.json" >/dev/null 2>&1 &
  bench_pid=$!
  sleep 3; s2="$(sample)"; sleep $(( LOAD_S - 6 )); s3="$(sample)"
  wait "$bench_pid" || true
  loaded="$(window "$s2" "$s3")"
  p50="$(jq -r '.runs[0].latency.p50_ms' "$work/load.json")"
  p99="$(jq -r '.runs[0].latency.p99_ms' "$work/load.json")"
  ok="$(jq -r '.runs[0].ok' "$work/load.json")"
  sleep 2
  lat="$(timeout 900 node scripts/receipt-latency.mjs --http "$URL" --key "$KEY" --n "$N" --slow-n "$SLOW_N")"
  head="$(rpc eth_getBlockByNumber '["latest", false]')"
  ahead="$(( $(printf '%d' "$(jq -r .result.timestamp <<<"$head")") - $(date +%s) ))"
  number="$(printf '%d' "$(jq -r .result.number <<<"$head")")"
  rss="$(awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$node_pid/status")"
  kill -9 "$node_pid"; wait "$node_pid" 2>/dev/null || true
  node_pid=""
  rows+=("| $ms | idle | $idle | | |")
  rows+=("| $ms | $RATE tx/s ($ok ok) | $loaded | $(printf '%.2f' "$p50") | $(printf '%.2f' "$p99") |")
  for mode in "ethers default (4 s polling)" "ethers pollingInterval 100 ms" "viem default (4 s polling)" \
    "viem chain.blockTime 1000" "viem sendRawTransactionSync"; do
    waits+=("| $ms | $mode | $(jq -r --arg m "$mode" '.[$m] | "\(.n) | \(.p50) | \(.p90) | \(.max)"' <<<"$lat") |")
  done
  waits+=("| $ms | (head $number: its timestamp is $ahead s ahead of the clock; RSS $rss MB) | | | | |")
done

text="$(
  echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), binaries: $BIN"
  echo "command: BLOCK_TIMES=\"$BLOCK_TIMES\" IDLE_S=$IDLE_S LOAD_S=$LOAD_S RATE=$RATE N=$N SLOW_N=$SLOW_N bash scripts/bench-block-time.sh"
  echo
  echo "| block time ms | load | blocks/s | commitment ms/block | commitment ms/s | node CPU % | pre-conf p50 ms | pre-conf p99 ms |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "| block time ms | how the client waits | n | p50 ms | p90 ms | max ms |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${waits[@]}"
)"
echo "$text"
if [[ -n "${OUT:-}" ]]; then echo "$text" >"$OUT"; fi
