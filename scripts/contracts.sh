#!/usr/bin/env bash
# Checks and rebuilds Blink's Solidity contracts (bridge-contracts/):
#   1. scripts/setup.sh (pinned npm toolchain)
#   2. forge fmt --check, forge build, forge test (offline, fuzzing included)
#   3. regenerates bridge-contracts/artifacts with blink-compile-contracts
#   4. fails if the regenerated artifacts differ from the committed ones (stale artifacts)
# Exits non-zero on any failure. Set CONTRACTS_SKIP_STALE_CHECK=1 to regenerate without
# step 4 (e.g. while editing contracts, before committing the new artifacts).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh
forge="$root/node_modules/@foundry-rs/forge-linux-amd64/bin/forge"

step() { printf '==> %s\n' "$*"; }

(
  cd bridge-contracts
  step "forge fmt --check"
  "$forge" fmt --check
  step "forge build"
  "$forge" build --offline
  step "forge test"
  "$forge" test --offline
)

step "blink-compile-contracts (regenerate bridge-contracts/artifacts)"
cargo run --quiet -p blink-bridge-contracts --features compiler --bin blink-compile-contracts -- \
  --repo-root "$root"

if [[ "${CONTRACTS_SKIP_STALE_CHECK:-0}" != 1 ]]; then
  step "artifacts match the committed ones"
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1 ; then
    # Untracked artifacts (a new contract whose artifact was never committed) count as stale too.
    untracked="$(git ls-files --others --exclude-standard -- bridge-contracts/artifacts)"
    if ! git diff --exit-code --stat -- bridge-contracts/artifacts || [[ -n "$untracked" ]]; then
      [[ -n "$untracked" ]] && printf 'untracked: %s\n' $untracked
      echo "contracts.sh: bridge-contracts/artifacts are stale: commit the regenerated files" >&2
      exit 1
    fi
  else
    echo "contracts.sh: not a git work tree; skipped the committed-artifacts comparison" >&2
  fi
fi
step "contracts OK"
