#!/usr/bin/env bash
# Brings up the whole local Blink stack on a fresh machine: builds the release binaries
# (and installs the pinned npm toolchain), then runs `blink devnet` until Ctrl-C.
# Arguments are passed to `blink devnet` (see `blink devnet --help`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
command -v cargo >/dev/null || { echo "devnet.sh: cargo not found (install Rust via rustup)" >&2; exit 1; }
bash scripts/setup.sh
echo "building release binaries (first time: a few minutes)..."
cargo build --release --quiet -p blink -p blink-sequencer -p blink-challenger
exec "${CARGO_TARGET_DIR:-target}/release/blink" devnet "$@"
