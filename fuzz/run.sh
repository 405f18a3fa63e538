#!/usr/bin/env bash
# Builds every fuzz target and runs each for N seconds (default 30), one after another.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Stable Rust only is installed here; cargo-fuzz needs nightly flags, hence
# RUSTC_BOOTSTRAP=1. Builds are release + debug assertions + overflow checks + ASan
# (cargo-fuzz defaults). Install the driver once with `cargo install cargo-fuzz --locked`.
# Each run is bounded twice: libFuzzer's -max_total_time and an outer `timeout`.
# New corpus entries go to fuzz/corpus/<target> (gitignored); the committed seeds in
# fuzz/seeds/<target> are read, never written. Crashes land in fuzz/artifacts/<target>.
# A summary (exit status, execs, exec/s, coverage) is appended to fuzz/run.log.
set -uo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1

SECS=${1:-30}
shift || true
ALL=(raw_tx jsonrpc jsonrpc_structured wal smt_proof preconf_json batch_decode derive snapshot batch_v2)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")

if ! command -v cargo-fuzz >/dev/null; then
  echo "cargo-fuzz missing: cargo install cargo-fuzz --locked" >&2
  exit 2
fi

# Build once, then run the binaries directly: `cargo fuzz run` would rebuild before
# every target, and the workspace may change under us between targets.
if ! cargo fuzz build; then
  if [ "${FUZZ_USE_STALE:-0}" = 1 ]; then
    echo "build failed; FUZZ_USE_STALE=1: running the binaries of the last good build" >&2
  else
    echo "build failed (set FUZZ_USE_STALE=1 to run the last good binaries)" >&2
    exit 1
  fi
fi
BIN=target/x86_64-unknown-linux-gnu/release

LOG=run.log
failed=()
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  extra=()
  [ -f "dicts/$t.dict" ] && extra+=("-dict=dicts/$t.dict")
  # libFuzzer exits when a corpus directory is missing; not every target has seeds.
  dirs=("corpus/$t")
  [ -d "seeds/$t" ] && dirs+=("seeds/$t")
  out="artifacts/$t/last-run.txt"
  echo "== $t: ${SECS}s"
  # -timeout: one input may take up to 20 s (eth_sendRawTransactionSync waits up to
  # 10 s by design; the harness itself panics past 15 s).
  [ -x "$BIN/$t" ] || { echo "missing $BIN/$t" >&2; failed+=("$t"); continue; }
  ASAN_OPTIONS="detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    timeout -k 10 $((SECS + 60)) "$BIN/$t" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$SECS" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    "${extra[@]}" "${dirs[@]}" >"$out" 2>&1
  rc=$?
  execs=$(grep -m1 '^stat::number_of_executed_units' "$out" | awk '{print $2}')
  eps=$(grep -m1 '^stat::average_exec_per_sec' "$out" | awk '{print $2}')
  cov=$(grep -E '^#[0-9]+' "$out" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+')
  line="$(date -u +%FT%TZ) $t secs=$SECS rc=$rc execs=${execs:-?} exec/s=${eps:-?} ${cov:-}"
  echo "$line" | tee -a "$LOG"
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    grep -E 'panicked at|SUMMARY|Test unit written|ERROR' "$out" | head -5
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "targets with findings: ${failed[*]} (see fuzz/artifacts/<target>/)" >&2
  exit 1
fi
echo "all targets ran clean"
