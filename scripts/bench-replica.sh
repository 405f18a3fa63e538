#!/usr/bin/env bash
# How fast a replica derives the chain from L1, against how fast the sequencer made it:
# a devnet (anvil L1, release binaries) takes open-loop ETH transfers at RATE tx/s for
# SECS seconds; once the batcher has posted everything (safe = head), replicas that know
# only the manifest derive blocks 1..head from L1, timed from process start (start-up
# included) to the head. Run side by side in one go: signature recovery on one thread
# (RAYON_NUM_THREADS=1, how replicas recovered before) and on all cores.
#
# Environment (all optional): RATE (5000), SECS (10), OUT (docs/replica.md).
# Talks only to 127.0.0.1; every loop is bounded in count and time; everything it starts
# is stopped on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

RATE="${RATE:-5000}"
SECS="${SECS:-10}"
OUT="${OUT:-docs/replica.md}"
L1_PORT=18645
L2_PORT=19645
REPLICA_PORT=19646
L2="http://127.0.0.1:$L2_PORT"
REP="http://127.0.0.1:$REPLICA_PORT"
BLINK="$root/target/release/blink"
SEQ="$root/target/release/blink-sequencer"

for tool in jq curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench-replica.sh: $tool is required" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/blink-replica.XXXXXX")"
devnet_pid=""
replica_pid=""
cleanup() {
  [[ -n "$replica_pid" ]] && kill -9 "$replica_pid" 2>/dev/null || true
  if [[ -n "$devnet_pid" ]]; then
    kill -INT "$devnet_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$devnet_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- "-$devnet_pid" 2>/dev/null || kill -9 "$devnet_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "bench-replica.sh: $*" >&2; }

rpc() { # URL METHOD PARAMS-JSON
  curl -s -m 10 -X POST -H 'content-type: application/json' \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "$1"
}
block_no() { # URL TAG
  printf '%d' "$(rpc "$1" eth_getBlockByNumber "[\"$2\",false]" | jq -r '.result.number // "0x0"' 2>/dev/null || echo 0)"
}
now_ms() { date +%s%3N; }

bash scripts/setup.sh >/dev/null
log "building release binaries"
cargo build --release -p blink -p blink-sequencer >&2

# a snapshot at every output block (every 10 blocks), for the replica started from one
setsid "$BLINK" devnet --fresh --no-challenger --datadir "$work/devnet" --l1-port "$L1_PORT" --l2-port "$L2_PORT" \
  --snapshot-every 10 >"$work/devnet.out" 2>&1 &
devnet_pid=$!
for _ in $(seq 1 600); do
  [[ -f "$work/devnet/devnet.json" ]] && break
  kill -0 "$devnet_pid" 2>/dev/null || { log "devnet exited:"; cat "$work/devnet.out" >&2; exit 1; }
  sleep 0.2
done
[[ -f "$work/devnet/devnet.json" ]] || { log "no devnet manifest after 120 s"; exit 1; }
sleep 1

log "load: $RATE tx/s for $SECS s"
start_head="$(block_no "$L2" latest)"
t0="$(now_ms)"
"$BLINK" bench --rpc "$L2" --workload eth --rate "$RATE" --duration "$SECS" \
  --method async --accounts 400 --concurrency 128 >"$work/load.txt" 2>&1 &
load_pid=$!
wait "$load_pid"
t1="$(now_ms)"
# keep a copy of the newest snapshot at an output block inside the loaded range (the
# sequencer prunes all but two)
snap=""
for f in $(ls -r "$work/devnet/l2/snapshots" 2>/dev/null); do
  n="${f#snapshot-}"; n="$((10#${n%.bin}))"
  if (( n % 10 == 0 )); then cp "$work/devnet/l2/snapshots/$f" "$work/$f" && snap="$work/$f" && snap_block="$n"; break; fi
done
head="$(block_no "$L2" latest)"
included=0
for n in $(seq 1 "$head"); do
  c="$(rpc "$L2" eth_getBlockTransactionCountByNumber "[\"$(printf '0x%x' "$n")\"]" | jq -r '.result // "0x0"')"
  included=$((included + $(printf '%d' "$c")))
done
seq_rate=$(( included * 1000 / (t1 - t0) ))
log "$included transactions in blocks 1..$head; waiting for the batcher to post them"
for _ in $(seq 1 300); do
  (( $(block_no "$L2" safe) >= head )) && break
  sleep 1
done
(( $(block_no "$L2" safe) >= head )) || { log "safe did not reach $head within 300 s"; exit 1; }

replica_run() { # label, env assignments...
  local label="$1"; shift
  local t_start t_end
  t_start="$(now_ms)"
  env "$@" "$SEQ" --replica --manifest "$work/devnet/devnet.json" --http-port "$REPLICA_PORT" \
    ${FROM:+--snapshot "$FROM"} >"$work/replica-$label.out" 2>&1 &
  replica_pid=$!
  local reached=""
  for _ in $(seq 1 6000); do
    if (( $(block_no "$REP" latest) >= head )); then reached=1; break; fi
    kill -0 "$replica_pid" 2>/dev/null || { log "replica exited:"; cat "$work/replica-$label.out" >&2; exit 1; }
    sleep 0.05
  done
  t_end="$(now_ms)"
  [[ -n "$reached" ]] || { log "replica ($label) did not reach $head within 300 s"; exit 1; }
  local same="yes"
  for tag in "$(printf '0x%x' "$head")" "$(printf '0x%x' "${MID:-$((head / 2))}")"; do
    a="$(rpc "$L2" eth_getBlockByNumber "[\"$tag\",false]" | jq -r .result.hash)"
    b="$(rpc "$REP" eth_getBlockByNumber "[\"$tag\",false]" | jq -r .result.hash)"
    [[ "$a" == "$b" ]] || same="NO ($tag: $a vs $b)"
  done
  kill -9 "$replica_pid" 2>/dev/null || true
  wait "$replica_pid" 2>/dev/null || true
  replica_pid=""
  local ms=$(( t_end - t_start ))
  rows+=("| $label | $ms | $(( ${DERIVED:-$included} * 1000 / ms )) | $same |")
}

rows=()
replica_run "one thread (RAYON_NUM_THREADS=1)" RAYON_NUM_THREADS=1
replica_run "all cores ($(nproc))" BLINK_BENCH_UNUSED=1
replica_run "one thread, again" RAYON_NUM_THREADS=1
replica_run "all cores, again" BLINK_BENCH_UNUSED=1
snap_row=""
if [[ -n "$snap" ]]; then
  # its output must be final before a replica takes the snapshot
  for _ in $(seq 1 180); do
    (( $(block_no "$L2" finalized) >= snap_block )) && break
    sleep 1
  done
  after=0
  for n in $(seq $((snap_block + 1)) "$head"); do
    c="$(rpc "$L2" eth_getBlockTransactionCountByNumber "[\"$(printf '0x%x' "$n")\"]" | jq -r '.result // "0x0"')"
    after=$((after + $(printf '%d' "$c")))
  done
  FROM="$snap" DERIVED="$after" MID="$((snap_block + 1))" replica_run "from the snapshot of block $snap_block, all cores" BLINK_BENCH_UNUSED=1
  snap_row="A replica started from the sequencer's snapshot of block $snap_block (checked against its finalized output on L1) derived only blocks $((snap_block + 1))..$head ($after transactions; its tx/s counts those)."
fi

{
  echo "# Replica catch-up"
  echo
  echo "Measured by \`bash scripts/bench-replica.sh\` (RATE=$RATE, SECS=$SECS) on $(nproc) cores,"
  echo "$(date -u +%Y-%m-%d). A devnet took open-loop ETH transfers at $RATE tx/s for $SECS s:"
  echo "$included transactions in $head blocks, included at $seq_rate tx/s over the load"
  echo "(the sequencer's rate here is bounded by the offered load and DA throttling, not by"
  echo "its executor; \`docs/bench.md\` has its closed-loop figure). Once the batcher had"
  echo "posted all of them, replicas that know only the manifest derived blocks 1..$head from"
  echo "L1 (batches from blobs through the beacon API), timed from process start to the head,"
  echo "and checked against the sequencer's block hashes."
  [[ -n "$snap_row" ]] && { echo; echo "$snap_row"; }
  echo
  echo "| replica | ms to the head | tx/s | same hashes |"
  echo "| --- | ---: | ---: | --- |"
  printf '%s\n' "${rows[@]}"
} >"$OUT"
cat "$OUT"
