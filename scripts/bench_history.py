"""Historical read latency against a running `blink-sequencer --dev` (driven by
scripts/bench-history.sh, which starts the node; run with the repo's .venv Python).

Makes history: deploys TestToken, then sends a token transfer and an ETH transfer to two
fixed recipients about twice per block until the chain has grown by --blocks blocks, so
`balanceOf(R)` and the balance of R2 change in almost every block. Then times, one
request at a time over one keep-alive HTTP connection (what a node answers, not what a
client library adds):

  eth_call balanceOf(R) and eth_getBalance(R2) at `latest`, 10 blocks back and
  --blocks back (or the oldest block the history holds);
  debug_traceTransaction (callTracer and the struct logger) of a token transfer in a
  recent block and of one ~--blocks back.

Prints a Markdown table and, with --json, writes the figures. Bounded: every wait has a
deadline, every loop a count.
"""

import argparse
import http.client
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from eth_account import Account
from web3 import Web3

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = json.loads((ROOT / "bridge-contracts/artifacts/TestToken.json").read_text())
DEV_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
R = "0x00000000000000000000000000000000000b1e55"
R2 = "0x00000000000000000000000000000000000b1e56"
ROUNDS = 5


class Rpc:
    """One keep-alive HTTP connection; raw JSON-RPC."""

    def __init__(self, url):
        u = urlparse(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.path = u.path or "/"
        self.id = 0

    def call(self, method, params):
        self.id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params})
        self.conn.request("POST", self.path, body, {"content-type": "application/json"})
        r = json.loads(self.conn.getresponse().read())
        if "error" in r:
            raise RuntimeError(f"{method} {params}: {r['error']}")
        return r["result"]


def wait_receipt(rpc, tx_hash, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = rpc.call("eth_getTransactionReceipt", [tx_hash])
        if r is not None:
            return r
        time.sleep(0.02)
    raise TimeoutError(f"no receipt for {tx_hash} in {timeout} s")


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def timed(rpc, method, params, n, warmup=20):
    for _ in range(min(warmup, n)):
        rpc.call(method, params)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        result = rpc.call(method, params)
        out.append((time.perf_counter() - t) * 1000)
    return out, result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rpc", required=True)
    p.add_argument("--blocks", type=int, default=1000)
    p.add_argument("--block-ms", type=int, default=100, help="the node's block time (pacing)")
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--trace-calls", type=int, default=200)
    p.add_argument("--json")
    a = p.parse_args()

    rpc = Rpc(a.rpc)
    w3 = Web3()  # offline: ABI encoding only
    acct = Account.from_key(DEV_KEY_0)
    chain_id = int(rpc.call("eth_chainId", []), 16)
    nonce = int(rpc.call("eth_getTransactionCount", [acct.address, "pending"]), 16)
    fee = {"maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**6, "chainId": chain_id, "type": 2}

    def send(tx):
        nonlocal nonce
        signed = acct.sign_transaction({**fee, "nonce": nonce, **tx})
        nonce += 1
        return rpc.call("eth_sendRawTransaction", [signed.raw_transaction.to_0x_hex()])

    factory = w3.eth.contract(abi=ARTIFACT["abi"], bytecode=ARTIFACT["bytecode"])
    data = factory.constructor("Bench", "BNC", 10**27).data_in_transaction
    token_addr = Web3.to_checksum_address(
        wait_receipt(rpc, send({"data": data, "gas": 3_000_000, "value": 0}))["contractAddress"]
    )
    token = w3.eth.contract(address=token_addr, abi=ARTIFACT["abi"])
    transfer_data = token.functions.transfer(R, 1)._encode_transaction_data()
    call_data = token.functions.balanceOf(R)._encode_transaction_data()

    # ---- history: ~2 token + 2 ETH transfers per block until --blocks blocks have passed
    start = int(rpc.call("eth_blockNumber", []), 16)
    target = start + a.blocks
    deadline = time.monotonic() + a.blocks * a.block_ms / 1000 * 3 + 60
    token_txs = []
    sent = 0
    t0 = time.monotonic()
    while int(rpc.call("eth_blockNumber", []), 16) < target:
        if time.monotonic() > deadline:
            sys.exit(f"history: block {target} not reached in time")
        token_txs.append(send({"to": token_addr, "data": transfer_data, "gas": 100_000, "value": 0}))
        send({"to": R2, "value": 1, "gas": 21_000})
        sent += 2
        time.sleep(a.block_ms / 2000)
    last = wait_receipt(rpc, token_txs[-1])
    made_s = time.monotonic() - t0
    head = int(rpc.call("eth_blockNumber", []), 16)
    while head < int(last["blockNumber"], 16):
        time.sleep(0.05)
        head = int(rpc.call("eth_blockNumber", []), 16)

    far = max(1, head - a.blocks)
    tags = [("latest", "latest"), ("10 back", hex(head - 10)), (f"{head - far} back", hex(far))]
    rows = []
    values = {}
    cases = [
        (method, label, params)
        for label, tag in tags
        for method, params in [
            ("eth_call balanceOf", [{"to": token_addr, "data": call_data}, tag]),
            ("eth_getBalance", [R2, tag]),
        ]
    ]
    # interleaved in ROUNDS rounds, so machine noise and the node's own sealing hit
    # every case alike rather than whichever ran first
    samples = {(m, label): [] for m, label, _ in cases}
    for _ in range(ROUNDS):
        for method, label, params in cases:
            ms, result = timed(rpc, method.split()[0], params, max(1, a.calls // ROUNDS))
            values[(method, label)] = int(result, 16)
            samples[(method, label)].extend(ms)
    rows = [(m, label, samples[(m, label)]) for m, label, _ in cases]
    # the answers are history, not the head: older blocks saw fewer transfers
    for method in ("eth_call balanceOf", "eth_getBalance"):
        v = [values[(method, label)] for label, _ in tags]
        if not v[2] < v[1] <= v[0]:
            sys.exit(f"{method}: values do not grow with the block: {v}")

    # ---- traces: a token transfer ~10 back and one near `far`
    def tx_in_block_near(n):
        # the first token transfer whose block is >= n
        lo, hi = 0, len(token_txs) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if int(wait_receipt(rpc, token_txs[mid])["blockNumber"], 16) < n:
                lo = mid + 1
            else:
                hi = mid
        r = wait_receipt(rpc, token_txs[lo])
        return token_txs[lo], int(r["blockNumber"], 16), int(r["transactionIndex"], 16), int(r["gasUsed"], 16)

    targets = []
    for n in (head - 10, far):
        h, bn, idx, gas = tx_in_block_near(n)
        for tracer, opts in [("callTracer", {"tracer": "callTracer"}), ("struct logger", {})]:
            targets.append((f"debug_traceTransaction {tracer}", f"{head - bn} back (tx {idx} of its block)", h, opts, gas))
    tsamples = {t[:2]: [] for t in targets}
    for _ in range(ROUNDS):
        for method, label, h, opts, gas in targets:
            ms, result = timed(rpc, "debug_traceTransaction", [h, opts], max(1, a.trace_calls // ROUNDS), warmup=5)
            traced = int(result["gasUsed"], 16) if "tracer" in opts else result["gas"]
            if traced != gas:
                sys.exit(f"trace of {h} ({method}): gas {traced} != receipt {gas}")
            tsamples[(method, label)].extend(ms)
    rows += [(m, label, tsamples[(m, label)]) for m, label, *_ in targets]

    print(f"history: {head - start} blocks, {sent} transfers in {made_s:.0f} s; head {head}")
    print()
    print("| request | block | calls | p50 ms | p99 ms | mean ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    out = []
    for method, label, ms in rows:
        p50, p99, mean = percentile(ms, 50), percentile(ms, 99), statistics.fmean(ms)
        print(f"| {method} | {label} | {len(ms)} | {p50:.3f} | {p99:.3f} | {mean:.3f} |")
        out.append({"request": method, "block": label, "calls": len(ms), "p50_ms": p50, "p99_ms": p99, "mean_ms": mean})
    if a.json:
        Path(a.json).write_text(json.dumps({"head": head, "blocks": head - start, "rows": out}, indent=2))


if __name__ == "__main__":
    main()
