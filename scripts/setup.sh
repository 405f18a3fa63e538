#!/usr/bin/env bash
# Installs the pinned npm toolchain (package-lock.json) into node_modules/: the Solidity
# toolchain, and ethers + viem for the client tests (e2e/clients/flows.mjs); and the
# pinned Python packages (e2e/clients/requirements.txt: web3.py for e2e/clients/flows.py)
# into a repo-local virtualenv, .venv/ (ignored by git).
#
# Idempotent and quiet: does nothing when node_modules already matches package-lock.json
# and .venv/ matches requirements.txt (a stamp file in each records what was installed).
# Safe to call from any directory, from other scripts and from Rust tests
# (`bash scripts/setup.sh`). Prints only on failure.
#
# Afterwards, binaries are at (relative to the repository root):
#   node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
#   node_modules/@foundry-rs/forge-linux-amd64/bin/forge
#   node_modules/@foundry-rs/cast-linux-amd64/bin/cast
#   tools/solc   (solcjs behind a native-solc command line)
#   .venv/bin/python   (Python 3 with web3.py)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v npm >/dev/null 2>&1; then
  echo "setup.sh: npm not found; install Node.js (>= 18) first" >&2
  exit 1
fi

stamp="node_modules/.blink-setup.sha256"
want="$(sha256sum package-lock.json package.json | sha256sum | cut -d' ' -f1)"
bins=(
  node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
  node_modules/@foundry-rs/forge-linux-amd64/bin/forge
  node_modules/@foundry-rs/cast-linux-amd64/bin/cast
)

fresh=1
[[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || fresh=0
[[ -f node_modules/solc/soljson.js ]] || fresh=0
for b in "${bins[@]}"; do [[ -f "$b" ]] || fresh=0; done

if [[ "$fresh" == 0 ]]; then
  # Serialize concurrent callers (e.g. parallel Rust tests) on one lock.
  # (The lock lives outside node_modules, which `npm ci` deletes.)
  lock="${TMPDIR:-/tmp}/blink-setup-$(printf '%s' "$root" | sha256sum | cut -c1-16).lock"
  exec 9>"$lock"
  flock 9
  # Re-check: another caller may have finished the install while we waited.
  if ! [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log="$(mktemp)"
    if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "setup.sh: npm ci failed" >&2
      exit 1
    fi
    rm -f "$log"
    echo "$want" >"$stamp"
  fi
fi

# ---- Python: web3.py in .venv/ (needs python3 >= 3.10; PyPI reachable on first run)
if ! command -v python3 >/dev/null 2>&1; then
  echo "setup.sh: python3 not found; install Python 3 (>= 3.10) first" >&2
  exit 1
fi
venv=".venv"
pystamp="$venv/.blink-requirements.sha256"
pywant="$( { sha256sum e2e/clients/requirements.txt; python3 --version; } | sha256sum | cut -d' ' -f1)"
if ! [[ -x "$venv/bin/python" && -f "$pystamp" && "$(cat "$pystamp")" == "$pywant" ]]; then
  lock="${TMPDIR:-/tmp}/blink-setup-$(printf '%s' "$root" | sha256sum | cut -c1-16).lock"
  exec 9>"$lock"
  flock 9
  if ! [[ -x "$venv/bin/python" && -f "$pystamp" && "$(cat "$pystamp")" == "$pywant" ]]; then
    log="$(mktemp)"
    rm -rf "$venv"
    # `python3 -m venv` needs ensurepip (Debian: the python3-venv package); without it,
    # make the venv without pip and install into it with the system pip (`--python`)
    if python3 -m venv "$venv" >"$log" 2>&1; then
      pip=("$venv/bin/python" -m pip)
    elif python3 -m venv --without-pip "$venv" >>"$log" 2>&1 \
      && python3 -m pip --version >/dev/null 2>&1; then
      pip=(python3 -m pip --python "$venv/bin/python")
    else
      cat "$log" >&2
      rm -f "$log"
      echo "setup.sh: cannot create $venv (python3 -m venv; install python3-venv or pip)" >&2
      exit 1
    fi
    if ! "${pip[@]}" install --disable-pip-version-check --no-input -q \
      -r e2e/clients/requirements.txt >>"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "setup.sh: pip install -r e2e/clients/requirements.txt failed" >&2
      exit 1
    fi
    rm -f "$log"
    echo "$pywant" >"$pystamp"
  fi
fi

for b in "${bins[@]}"; do
  [[ -x "$b" ]] || chmod +x "$b"
done
[[ -x tools/solc ]] || chmod +x tools/solc
exit 0
