#!/usr/bin/env bash
# Runs every test of Blink on a fresh machine: installs the pinned npm toolchain,
# checks the Solidity contracts (forge fmt/build/test, artifact freshness), then
# `cargo test` over the whole workspace (unit, property, Solidity-on-revm and the
# e2e tests that start the real binaries).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v cargo >/dev/null || { echo "test.sh: cargo not found (install Rust via rustup)" >&2; exit 1; }
bash scripts/setup.sh
bash scripts/contracts.sh
# the e2e tests start the real binaries: build them first
cargo build --workspace --bins
cargo test --workspace --no-fail-fast
