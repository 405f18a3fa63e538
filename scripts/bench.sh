#!/usr/bin/env bash
# Benchmarks the Blink sequencer against anvil with `blink bench` and writes the
# results into docs/bench.md (between the `bench:results` markers).
#
# Each run gets a fresh node (anvil with default automine; `blink-sequencer --dev`
# with a new temporary datadir), and the two nodes never run at the same time, so
# every run has the machine's cores to itself (besides the generator).
#
#   bash scripts/bench.sh                      # full run, ~2 minutes
#   BENCH_DURATION=3 bash scripts/bench.sh     # quick run
#
# Environment (all optional):
#   BENCH_DURATION      measured seconds per run (10)
#   BENCH_ACCOUNTS      sending accounts (200)
#   BENCH_CONCURRENCY   requests in flight, closed and open loop (64)
#   BLINK_OPEN_RATE     open-loop offered tx/s against Blink (5000)
#   ANVIL_OPEN_RATE     open-loop offered tx/s against anvil (200: anvil's Sync
#                       path sustains a few hundred tx/s on 2 cores)
#   BENCH_OUT           Markdown file to update (docs/bench.md)
#   BENCH_REQUIRE_BLINK 1 = fail if the Blink sequencer cannot be built or started
#                       (default: write a TODO line for its rows and go on)
#
# Everything this script starts is killed on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

DURATION="${BENCH_DURATION:-10}"
ACCOUNTS="${BENCH_ACCOUNTS:-200}"
CONCURRENCY="${BENCH_CONCURRENCY:-64}"
BLINK_OPEN_RATE="${BLINK_OPEN_RATE:-5000}"
ANVIL_OPEN_RATE="${ANVIL_OPEN_RATE:-200}"
OUT="${BENCH_OUT:-docs/bench.md}"
REQUIRE_BLINK="${BENCH_REQUIRE_BLINK:-0}"
ANVIL_PORT=8545
BLINK_PORT=9545

ANVIL="$root/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
BENCH="$root/target/release/blink"
SEQUENCER="$root/target/release/blink-sequencer"

for tool in jq curl awk; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench.sh: $tool is required" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/blink-bench.XXXXXX")"
node_pid=""

stop_node() {
  if [[ -n "$node_pid" ]]; then
    kill "$node_pid" 2>/dev/null || true
    # Bounded wait: ~10 s, then SIGKILL.
    for _ in $(seq 1 100); do
      kill -0 "$node_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
    node_pid=""
  fi
}

cleanup() {
  stop_node
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench.sh: $*" >&2; }

# port_free PORT: nothing answers JSON-RPC there.
port_free() {
  ! curl -s -m 1 -o /dev/null -X POST -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$1"
}

# wait_rpc PORT: until eth_chainId answers (30 s at most) and the node is alive.
wait_rpc() {
  for _ in $(seq 1 300); do
    if ! kill -0 "$node_pid" 2>/dev/null; then
      return 1
    fi
    if curl -s -m 1 -X POST -H 'content-type: application/json' \
      --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
      "http://127.0.0.1:$1" | grep -q '"result"'; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

start_anvil() {
  "$ANVIL" --port "$ANVIL_PORT" --silent >"$work/anvil.log" 2>&1 &
  node_pid=$!
  wait_rpc "$ANVIL_PORT" || { log "anvil did not start; its log:"; cat "$work/anvil.log" >&2; exit 1; }
}

start_blink() {
  local datadir
  datadir="$(mktemp -d "$work/blink-data.XXXXXX")"
  "$SEQUENCER" --dev --http-port "$BLINK_PORT" --datadir "$datadir" "$@" >"$work/blink.log" 2>&1 &
  node_pid=$!
  wait_rpc "$BLINK_PORT"
}

# bench NAME PORT LABEL ARGS...: one `blink bench` run; table on stdout to $work/NAME.txt.
bench() {
  local name="$1" port="$2" label="$3"
  shift 3
  log "run $name: blink bench --rpc http://127.0.0.1:$port --label $label $*"
  "$BENCH" bench --rpc "http://127.0.0.1:$port" --label "$label" \
    --accounts "$ACCOUNTS" --concurrency "$CONCURRENCY" --duration "$DURATION" \
    --json "$work/$name.json" "$@" | tee "$work/$name.txt"
}

# ---------------------------------------------------------------------------
bash scripts/setup.sh
[[ -x "$ANVIL" ]] || { log "anvil not found at $ANVIL (scripts/setup.sh should install it)"; exit 1; }

log "building blink (release)"
cargo build --release -p blink
have_blink=1
log "building blink-sequencer (release)"
if ! cargo build --release -p blink-sequencer; then
  have_blink=0
  log "blink-sequencer does not build"
fi

for port in "$ANVIL_PORT" "$BLINK_PORT"; do
  port_free "$port" || { log "something already answers on 127.0.0.1:$port; stop it first"; exit 1; }
done

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
runs=()

# anvil: a fresh node per run (anvil slows down as its chain grows).
for spec in "anvil-eth-closed:--workload eth --closed" \
  "anvil-erc20-closed:--workload erc20 --closed" \
  "anvil-eth-open:--workload eth --rate $ANVIL_OPEN_RATE"; do
  name="${spec%%:*}"
  # shellcheck disable=SC2086 # word splitting of the argument list is intended
  start_anvil && bench "$name" "$ANVIL_PORT" anvil ${spec#*:}
  stop_node
  runs+=("$name")
done

# Blink sequencer.
blink_note=""
if [[ "$have_blink" == 1 ]]; then
  for spec in "blink-eth-closed:--workload eth --closed" \
    "blink-erc20-closed:--workload erc20 --closed" \
    "blink-eth-open:--workload eth --rate $BLINK_OPEN_RATE"; do
    name="${spec%%:*}"
    if ! start_blink; then
      log "blink-sequencer did not start or answer on :$BLINK_PORT; last lines of its log:"
      tail -n 20 "$work/blink.log" >&2 || true
      stop_node
      have_blink=0
      break
    fi
    # shellcheck disable=SC2086
    bench "$name" "$BLINK_PORT" blink ${spec#*:}
    stop_node
    runs+=("$name")
  done
  # the cost of power-loss durability: the same runs with one fdatasync per mini-block
  for spec in "blink-fsync-eth-closed:--workload eth --closed" \
    "blink-fsync-eth-open:--workload eth --rate $BLINK_OPEN_RATE"; do
    name="${spec%%:*}"
    start_blink --fsync || { log "blink-sequencer --fsync did not start"; stop_node; break; }
    # shellcheck disable=SC2086
    bench "$name" "$BLINK_PORT" "blink-fsync" ${spec#*:}
    stop_node
    runs+=("$name")
  done
fi
if [[ "$have_blink" == 0 ]]; then
  [[ "$REQUIRE_BLINK" == 1 ]] && { log "BENCH_REQUIRE_BLINK=1 and the Blink sequencer could not be benchmarked"; exit 1; }
  blink_note="TODO: Blink rows missing: \`target/release/blink-sequencer --dev\` did not build or did not serve JSON-RPC on :$BLINK_PORT when this was run. Re-run \`bash scripts/bench.sh\` once it does."
fi

# ---------------------------------------------------------------------------
# Markdown.
tps() { [[ -f "$work/$1.json" ]] && jq -r '.runs[0].tps' "$work/$1.json" || echo ""; }
ratio_row() {
  local what="$1" a b
  a="$(tps "anvil-$2")"
  b="$(tps "blink-$2")"
  if [[ -n "$a" && -n "$b" ]]; then
    awk -v w="$what" -v a="$a" -v b="$b" \
      'BEGIN { printf "| %s | %.0f | %.0f | %s |\n", w, a, b, (a > 0 ? sprintf("%.1fx", b / a) : "n/a") }'
  else
    awk -v w="$what" -v a="$a" -v b="$b" \
      'BEGIN { printf "| %s | %s | %s | n/a |\n", w, (a == "" ? "not run" : sprintf("%.0f", a)), (b == "" ? "not run" : sprintf("%.0f", b)) }'
  fi
}

section="$work/section.md"
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores ($(lscpu 2>/dev/null | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }')), load average before: $load_before."
  echo "Settings: $ACCOUNTS accounts, concurrency $CONCURRENCY, $DURATION s per run, a fresh node per run; anvil $("$ANVIL" --version | head -n1 | awk '{print $3}') with default automine."
  echo
  echo "| label | workload | mode | method | offered tx/s | sent | ok | errors | TPS | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |"
  echo "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for r in "${runs[@]}"; do
    grep -E '^\| (anvil|blink|blink-fsync) \|' "$work/$r.txt" || true
  done
  [[ -n "$blink_note" ]] && { echo; echo "$blink_note"; }
  notes="$(for r in "${runs[@]}"; do grep -vE '^\||^$' "$work/$r.txt" || true; done)"
  if [[ -n "$notes" ]]; then
    echo
    echo "Notes printed by the runs:"
    echo
    echo "$notes" | sed 's/^/- /'
  fi
  echo
  echo "Closed-loop throughput, Blink / anvil:"
  echo
  echo "| workload | anvil TPS | Blink TPS | Blink / anvil |"
  echo "|---|---:|---:|---:|"
  ratio_row "eth transfer" eth-closed
  ratio_row "erc20 transfer" erc20-closed
} >"$section"

begin='<!-- bench:results:begin -->'
end='<!-- bench:results:end -->'
if [[ -f "$OUT" ]] && grep -qF "$begin" "$OUT" && grep -qF "$end" "$OUT"; then
  awk -v b="$begin" -v e="$end" -v f="$section" '
    $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
    $0 == e { skip = 0 }
    !skip { print }' "$OUT" >"$work/out.md"
  cp "$work/out.md" "$OUT"
else
  { echo "# Benchmarks"; echo; echo "$begin"; cat "$section"; echo "$end"; } >"$OUT"
fi
log "results written to $OUT"
cat "$section"
