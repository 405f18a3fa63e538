#!/usr/bin/env bash
# Blink under sustained load and hostile traffic, on a real devnet (anvil as L1, release
# binaries): writes docs/load.md.
#
#   1. Safe-head lag against offered load: open-loop ETH transfers at each rate in
#      LOAD_RATES for LOAD_SECS, sampling `latest` and `safe` every second during the run
#      and while the batcher drains; included tx/s counted from the blocks themselves.
#   2. Pre-confirmation latency (eth_sendRawTransactionSync, p50/p99) at PRECONF_RATE
#      alone, with heavy reads (eth_call of 2^24-gas loops from READERS clients), with a
#      deposit flood (an L1 contract looping Portal.depositTransaction every 2 s), and
#      with both.
#
# Environment (all optional): LOAD_RATES ("1000 5000 10000 20000"), LOAD_SECS (15),
# PRECONF_RATE (5000), PRECONF_SECS (15), READERS (2), OUT (docs/load.md).
# Talks only to 127.0.0.1; every loop is bounded in count and time; everything it starts
# is stopped on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

RATES="${LOAD_RATES:-1000 5000 10000 20000}"
LOAD_SECS="${LOAD_SECS:-15}"
PRECONF_RATE="${PRECONF_RATE:-5000}"
PRECONF_SECS="${PRECONF_SECS:-15}"
READERS="${READERS:-2}"
OUT="${OUT:-docs/load.md}"
L1_PORT=18545
L2_PORT=19545
L1="http://127.0.0.1:$L1_PORT"
L2="http://127.0.0.1:$L2_PORT"
BLINK="$root/target/release/blink"

for tool in jq curl python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench-load.sh: $tool is required" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/blink-load.XXXXXX")"
pids=()
devnet_pid=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n "$devnet_pid" ]]; then
    kill -INT "$devnet_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$devnet_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- "-$devnet_pid" 2>/dev/null || kill -9 "$devnet_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "bench-load.sh: $*" >&2; }

rpc() { # URL METHOD PARAMS-JSON
  curl -s -m 10 -X POST -H 'content-type: application/json' \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$1"
}
hex2dec() { printf '%d' "$1"; }
block_no() { hex2dec "$(rpc "$L2" eth_getBlockByNumber "[\"$1\",false]" | jq -r '.result.number // "0x0"')"; }

bash scripts/setup.sh >/dev/null
log "building release binaries"
cargo build --release -p blink -p blink-sequencer >&2

start_devnet() { # extra args
  rm -rf "$work/devnet"
  setsid "$BLINK" devnet --fresh --no-challenger --datadir "$work/devnet" --l1-port "$L1_PORT" --l2-port "$L2_PORT" \
    "$@" >"$work/devnet.out" 2>&1 &
  devnet_pid=$!
  for _ in $(seq 1 600); do
    [[ -f "$work/devnet/devnet.json" ]] && break
    kill -0 "$devnet_pid" 2>/dev/null || { log "devnet exited:"; cat "$work/devnet.out" >&2; exit 1; }
    sleep 0.2
  done
  [[ -f "$work/devnet/devnet.json" ]] || { log "no devnet manifest after 120 s"; exit 1; }
  sleep 1
}
stop_devnet() {
  kill -INT "$devnet_pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$devnet_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 -- "-$devnet_pid" 2>/dev/null || true
  devnet_pid=""
}

# ---------------------------------------------------------------------------
# 1. safe-head lag against offered load
load_rows=()
for rate in $RATES; do
  log "load: $rate tx/s for $LOAD_SECS s"
  start_devnet
  start_head="$(block_no latest)"
  "$BLINK" bench --rpc "$L2" --workload eth --rate "$rate" --duration "$LOAD_SECS" \
    --method async --accounts 400 --concurrency 128 --json "$work/load-$rate.json" >"$work/load-$rate.txt" 2>&1 &
  bench_pid=$!
  pids+=("$bench_pid")
  max_lag=0
  samples=0
  t0=$(date +%s)
  # during the load and up to 120 s after it, until safe reaches the head
  caught_up=""
  for i in $(seq 1 $((LOAD_SECS + 150))); do
    head="$(block_no latest)"; safe="$(block_no safe)"
    lag=$((head - safe))
    (( lag > max_lag )) && max_lag=$lag
    samples=$((samples + 1))
    if ! kill -0 "$bench_pid" 2>/dev/null; then
      [[ -z "${end_head:-}" ]] && end_head="$head" && t_end=$(date +%s)
      if (( safe >= end_head )); then caught_up=$(( $(date +%s) - t_end )); break; fi
    fi
    sleep 1
  done
  wait "$bench_pid" 2>/dev/null || true
  # transactions actually in blocks during the run
  included=0
  for n in $(seq $((start_head + 1)) "$end_head"); do
    c="$(rpc "$L2" eth_getBlockTransactionCountByNumber "[\"$(printf '0x%x' "$n")\"]" | jq -r '.result // "0x0"')"
    included=$((included + $(hex2dec "$c")))
  done
  secs=$(( t_end - t0 ))
  (( secs < 1 )) && secs=1
  throttled="$(jq -r '[.runs[0].error_kinds | to_entries[] | select(.key | test("-32005")) | .value] | add // 0' "$work/load-$rate.json" 2>/dev/null || echo 0)"
  sent="$(jq -r '.runs[0].sent // 0' "$work/load-$rate.json" 2>/dev/null || echo 0)"
  load_rows+=("| $rate | $sent | $throttled | $((included / secs)) | $max_lag | ${caught_up:-not within 150 s} |")
  unset end_head
  stop_devnet
done

# ---------------------------------------------------------------------------
# 2. pre-confirmation latency alone, with heavy reads, with a deposit flood, with both
# init code of a contract that loops Portal.depositTransaction N times (see e2e)
flood_code() { # portal address (0x…)
  python3 - "$1" <<'PY'
import sys
portal = bytes.fromhex(sys.argv[1][2:])
rt = bytes([0x60,0x20,0x36,0x03,0x80,0x60,0x20,0x60,0x00,0x37,0x60,0x00,0x35,0x5b,0x80,0x15,0x61,0x00,0x00,0x57,
            0x60,0x00,0x60,0x00,0x83,0x60,0x00,0x60,0x00,0x73]) + portal + bytes([0x5a,0xf1,0x50,0x60,0x01,0x90,0x03,0x61,0x00,0x0d,0x56])
end = len(rt)
rt = bytearray(rt + bytes([0x5b, 0x00]))
rt[17:19] = end.to_bytes(2, 'big')
init = bytes([0x61]) + len(rt).to_bytes(2, 'big') + bytes([0x80,0x60,0x0c,0x60,0x00,0x39,0x60,0x00,0xf3]) + bytes(rt)
print('0x' + init.hex())
PY
}
# calldata: N = 100 deposits of 100,000 gas each to 0x…61, no value
flood_input() {
  python3 - <<'PY'
n = (100).to_bytes(32, 'big')
sel = bytes.fromhex('e9e05c42')  # depositTransaction(address,uint256,uint64,bool,bytes)
word = lambda v: v.to_bytes(32, 'big')
args = word(int('61' * 20, 16)) + word(0) + word(100000) + word(0) + word(0xa0) + word(0)
print('0x' + (n + sel + args).hex())
PY
}

heavy_reader() { # bounded: at most 100,000 calls or until killed
  for _ in $(seq 1 100000); do
    rpc "$L2" eth_call '[{"data":"0x5b600056","gas":"0x1000000"},"latest"]' >/dev/null || true
  done
}
flooder() { # one flood transaction every 2 s, at most 300
  local flood="$1" input="$2"
  for _ in $(seq 1 300); do
    rpc "$L1" eth_sendTransaction "[{\"from\":\"$FLOOD_FROM\",\"to\":\"$flood\",\"data\":\"$input\",\"gas\":\"0x1c9c380\"}]" >/dev/null || true
    sleep 2
  done
}

preconf_rows=()
preconf_run() { # label readers(0/1) flood(0/1)
  local label="$1" readers="$2" flood="$3" bg=()
  start_devnet
  if [[ "$readers" == 1 ]]; then
    for _ in $(seq 1 "$READERS"); do heavy_reader & bg+=($!); pids+=("${bg[-1]}"); done
  fi
  if [[ "$flood" == 1 ]]; then
    portal="$(jq -r '.contracts.portal' "$work/devnet/devnet.json")"
    FLOOD_FROM="$(rpc "$L1" eth_accounts '[]' | jq -r '.result[5]')"
    deploy="$(rpc "$L1" eth_sendTransaction "[{\"from\":\"$FLOOD_FROM\",\"data\":\"$(flood_code "$portal")\"}]" | jq -r '.result')"
    sleep 2
    flood="$(rpc "$L1" eth_getTransactionReceipt "[\"$deploy\"]" | jq -r '.result.contractAddress')"
    flooder "$flood" "$(flood_input)" & bg+=($!); pids+=("${bg[-1]}")
    sleep 4
  fi
  "$BLINK" bench --rpc "$L2" --workload eth --rate "$PRECONF_RATE" --duration "$PRECONF_SECS" \
    --method sync --accounts 400 --concurrency 128 --json "$work/preconf-$label.json" >"$work/preconf-$label.txt" 2>&1 || true
  for p in "${bg[@]}"; do kill "$p" 2>/dev/null || true; done
  deposits="$(rpc "$L2" eth_getTransactionCount "[\"0x$(python3 -c "print('%040x' % ((int('${flood:-0x0}', 16) + 0x1111000000000000000000000000000000001111) % 2**160))")\",\"latest\"]" | jq -r '.result // "0x0"')"
  local r=".runs[0]"
  preconf_rows+=("$(jq -r --arg l "$label" --arg d "$(hex2dec "$deposits")" \
    "\"| \(\$l) | \($r.tps | floor) | \($r.latency.p50_ms) | \($r.latency.p99_ms) | \($r.latency.max_ms) | \($r.errors) | \(if \$d == \"0\" then \"-\" else \$d end) |\"" \
    "$work/preconf-$label.json" 2>/dev/null || echo "| $label | failed | | | | | |")")
  stop_devnet
}
preconf_run alone 0 0
preconf_run "heavy reads" 1 0
preconf_run "deposit flood" 0 1
preconf_run "both" 1 1

# ---------------------------------------------------------------------------
{
  echo "# Blink under load and hostile traffic"
  echo
  echo "Measured by \`bash scripts/bench-load.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, load"
  echo "average before: $(cut -d' ' -f1-3 /proc/loadavg)), on a devnet: anvil with 1 s blocks"
  echo "as L1, release binaries, default settings (6 blobs per post, 3 posts in flight,"
  echo "throttling above eight posts of unposted bytes). The load generator runs on the same"
  echo "two cores as anvil and the sequencer, so absolute figures are lower bounds."
  echo
  echo "## Safe-head lag against offered load"
  echo
  echo "Open-loop ETH transfers (\`eth_sendRawTransaction\`) for $LOAD_SECS s; a transaction refused"
  echo "with -32005 is sent again at its sender's next slot. *Throttled* counts -32005"
  echo "answers (the L1 data backlog above its threshold, or full blocks); *included* is what the"
  echo "blocks hold per second of the run; *max lag* is the largest \`latest − safe\` seen,"
  echo "in L2 blocks (1 s each); *catch-up* is how long after the load \`safe\` reached the head."
  echo
  echo "| offered tx/s | sent | throttled | included tx/s | max lag (blocks) | catch-up (s) |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${load_rows[@]}"
  echo
  echo "## Pre-confirmation latency at $PRECONF_RATE tx/s"
  echo
  echo "\`eth_sendRawTransactionSync\` (EIP-7966) round trips in ms, open loop, $PRECONF_SECS s."
  echo "*Heavy reads*: $READERS clients calling \`eth_call\` on a 2^24-gas loop back to back."
  echo "*Deposit flood*: an L1 contract calling \`Portal.depositTransaction\` 100 times"
  echo "(100,000 L2 gas each) every 2 s; *deposits* is how many reached L2."
  echo
  echo "| run | tx/s | p50 | p99 | max | errors | deposits |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${preconf_rows[@]}"
} >"$OUT"
log "wrote $OUT"
cat "$OUT"
