"""Drives an Ethereum JSON-RPC node exactly as dApp code does, with web3.py (pinned in
e2e/clients/requirements.txt, installed into the repo's .venv by scripts/setup.sh), and
prints one JSON result.

Usage: .venv/bin/python e2e/clients/flows.py --http URL --ws URL --key 0xPRIVATEKEY
       [--step-timeout-s N]

The Python twin of flows.mjs (ethers v6 and viem). Every step has a timeout; the script
exits 0 only if every step passed, 1 otherwise (2 for bad usage). It is run against
`blink-sequencer --dev` and against anvil by e2e/tests/clients.rs, so the flows are
proven standard. It is not a benchmark: the per-step times it prints are for reading,
not for asserting.
"""

import argparse
import asyncio
import json
import secrets
import signal
import sys
import time
import traceback
from pathlib import Path

from eth_account import Account
from web3 import AsyncWeb3, Web3
from web3 import __version__ as web3_version
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.providers.persistent import WebSocketProvider

HERE = Path(__file__).resolve().parent
ARTIFACT = json.loads((HERE / "../../bridge-contracts/artifacts/TestToken.json").read_text())
SUPPLY = 10**24

steps = []


class StepTimeout(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise AssertionError(f"check failed: {msg}")


def step(name, timeout_s, fn):
    """Runs one step under a wall-clock alarm; a failure is recorded and stops the flow
    (later steps depend on it)."""

    def on_alarm(_sig, _frame):
        raise StepTimeout(f"{name}: timed out after {timeout_s} s")

    started = time.monotonic()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        info = fn()
        steps.append({"name": name, "ok": True, "ms": ms_since(started), **({"info": info} if info else {})})
        return info
    except BaseException as e:
        steps.append({"name": name, "ok": False, "ms": ms_since(started), "error": "".join(traceback.format_exception(e))})
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def ms_since(t):
    return round((time.monotonic() - t) * 1000)


def fresh_address():
    return Account.from_key("0x" + secrets.token_hex(32)).address


def to_json(v):
    """AttributeDict / HexBytes → plain JSON."""
    return json.loads(Web3.to_json(v))


def main(opts):
    # a dApp's setup: an HTTP provider and the signing middleware for a local key
    w3 = Web3(Web3.HTTPProvider(opts.http, request_kwargs={"timeout": 30}))
    acct = Account.from_key(opts.key)
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(acct), layer=0)
    w3.eth.default_account = acct.address
    me = acct.address
    someone = fresh_address()
    t = opts.step_timeout_s
    ctx = {}

    def wait(tx_hash):
        # web3.py's defaults but for the timeout (poll every 100 ms)
        return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=t)

    def transfer_and_blocks():
        tx_hash = w3.eth.send_transaction({"to": someone, "value": 1})
        receipt = wait(tx_hash)
        check(receipt.status == 1, "status 1")
        check(receipt.blockHash is not None, "receipt has a block hash")
        head = w3.eth.block_number
        check(receipt.blockNumber <= head, f"blockNumber {receipt.blockNumber} <= head {head}")
        by_number = w3.eth.get_block(receipt.blockNumber)
        check(by_number.hash == receipt.blockHash, "get_block(receipt.blockNumber) is the receipt's block")
        by_hash = w3.eth.get_block(receipt.blockHash)
        check(by_hash.number == receipt.blockNumber, "get_block(receipt.blockHash) has its number")
        check(tx_hash in by_hash.transactions, "the block lists the transaction")
        again = w3.eth.get_transaction(tx_hash)
        check(again.blockHash == receipt.blockHash, "get_transaction has the same block")
        return {"blockNumber": receipt.blockNumber}

    step("web3.py: send_transaction + wait_for_transaction_receipt + get_block(number | hash)", t, transfer_and_blocks)

    def deploy_and_call():
        factory = w3.eth.contract(abi=ARTIFACT["abi"], bytecode=ARTIFACT["bytecode"])
        tx_hash = factory.constructor("Flows", "FLW", SUPPLY).transact()
        receipt = wait(tx_hash)
        check(receipt.status == 1, "deployment succeeded")
        address = receipt.contractAddress
        check(address, "receipt has contractAddress")
        check(len(w3.eth.get_code(address)) > 0, "code deployed")
        token = w3.eth.contract(address=address, abi=ARTIFACT["abi"])
        check(token.functions.symbol().call() == "FLW", "symbol()")
        check(token.functions.totalSupply().call() == SUPPLY, "totalSupply()")
        check(token.functions.balanceOf(me).call() == SUPPLY, "balanceOf(deployer)")
        ctx["token"] = token
        ctx["deployed_at"] = receipt.blockNumber
        return {"address": address, "blockNumber": receipt.blockNumber}

    step("web3.py: deploy a contract, wait, call it", t, deploy_and_call)
    token = ctx["token"]

    def events():
        to = fresh_address()
        event_filter = token.events.Transfer.create_filter(from_block="latest")
        block_filter = w3.eth.filter("latest")
        tx_hash = token.functions.transfer(to, 5).transact()
        receipt = wait(tx_hash)
        check(receipt.status == 1, "transfer succeeded")
        # a dApp polls its filter; the log arrives once its block does
        found = []
        deadline = time.monotonic() + t
        while not found and time.monotonic() < deadline:
            found = [e for e in event_filter.get_new_entries() if e.args.to == to]
            if not found:
                time.sleep(0.1)
        check(found, "create_filter().get_new_entries() saw the Transfer")
        log = found[0]
        check(log.args.value == 5, "event value")
        check(log.blockHash == receipt.blockHash, "filter log carries the receipt's block hash")
        check(log.transactionHash == tx_hash, "filter log names the transaction")
        check(w3.eth.get_block(log.blockHash).number == log.blockNumber, "the log's block resolves")
        blocks = block_filter.get_new_entries()
        check(all(w3.eth.get_block(h).hash == h for h in blocks), "block filter hashes resolve")
        # the same log by eth_getLogs, through the contract and raw
        logs = token.events.Transfer.get_logs(from_block=receipt.blockNumber, to_block="latest")
        check(any(e.transactionHash == tx_hash and e.args.to == to for e in logs), "contract get_logs to latest")
        raw = w3.eth.get_logs({"address": token.address, "fromBlock": receipt.blockNumber, "toBlock": receipt.blockNumber})
        check(any(e.transactionHash == tx_hash for e in raw), "eth.get_logs at the receipt's block")
        check(all(e.blockHash == receipt.blockHash for e in raw), "get_logs logs carry the block hash")
        check(w3.eth.uninstall_filter(event_filter.filter_id), "uninstall_filter")
        w3.eth.uninstall_filter(block_filter.filter_id)
        ctx["token_transfer"] = tx_hash
        ctx["token_transfer_receipt"] = receipt
        ctx["token_to"] = to
        return {"blockNumber": receipt.blockNumber, "blockFilterHashes": len(blocks)}

    step("web3.py: events by create_filter/get_new_entries over HTTP and get_logs", t, events)

    def older_reads():
        who = fresh_address()
        first = wait(w3.eth.send_transaction({"to": who, "value": 1}))
        second = wait(w3.eth.send_transaction({"to": who, "value": 2}))
        b1, b2 = first.blockNumber, second.blockNumber
        # a receipt is visible only once its block is sealed, so the second send lands later
        check(b2 > b1, f"second transfer in a later block ({b1} then {b2})")
        check(w3.eth.get_balance(who, block_identifier=b1 - 1) == 0, "balance before the first transfer")
        check(w3.eth.get_balance(who, block_identifier=b1) == 1, "balance at the first transfer's block")
        check(w3.eth.get_balance(who, block_identifier=b2) == 3, "balance at the second's")
        check(w3.eth.get_balance(who) == 3, "balance at latest")
        check(w3.eth.get_balance(who, block_identifier=first.blockHash) == 1, "balance at a block hash")
        # a contract call at an older block: before the token was deployed and before the
        # event's transfer
        to = ctx["token_to"]
        at = ctx["token_transfer_receipt"].blockNumber
        check(token.functions.balanceOf(to).call(block_identifier=at - 1) == 0, "balanceOf before the transfer")
        check(token.functions.balanceOf(to).call(block_identifier=at) == 5, "balanceOf at the transfer's block")
        check(
            token.functions.balanceOf(me).call(block_identifier=ctx["deployed_at"]) == SUPPLY,
            "deployer's balance at deployment",
        )
        check(
            w3.eth.get_code(token.address, block_identifier=ctx["deployed_at"] - 1) in (b"", None),
            "no code before deployment",
        )
        return {"blocks": [b1, b2]}

    step("web3.py: get_balance and a contract call at older blocks", t, older_reads)

    def trace():
        tx_hash = ctx["token_transfer"]
        receipt = ctx["token_transfer_receipt"]
        r = w3.provider.make_request("debug_traceTransaction", [tx_hash.to_0x_hex(), {"tracer": "callTracer"}])
        check("error" not in r, f"no error: {r.get('error')}")
        frame = r["result"]
        check(frame["type"] == "CALL", f"a CALL frame, got {frame['type']}")
        check(Web3.to_checksum_address(frame["to"]) == token.address, "called the token")
        check(Web3.to_checksum_address(frame["from"]) == me, "from the sender")
        selector = token.functions.transfer(ctx["token_to"], 5)._encode_transaction_data()[:10]
        check(frame["input"].startswith(selector), "input is transfer(...)")
        check("error" not in frame, "the traced call did not fail")
        check(int(frame["gasUsed"], 16) == receipt.gasUsed, f"trace gasUsed {int(frame['gasUsed'], 16)} == receipt {receipt.gasUsed}")
        return {"gasUsed": receipt.gasUsed}

    step("web3.py: debug_traceTransaction with callTracer (make_request)", t, trace)

    def eip1559():
        to = fresh_address()
        nonce = w3.eth.get_transaction_count(me, "pending")
        # build_transaction fills gas (eth_estimateGas) and the 1559 fees as dApps get them
        tx = token.functions.transfer(to, 9).build_transaction({"from": me, "nonce": nonce})
        check("maxFeePerGas" in tx and "maxPriorityFeePerGas" in tx, f"1559 fees filled: {sorted(tx)}")
        check("gasPrice" not in tx, "no legacy gas price")
        estimate = w3.eth.estimate_gas({"from": me, "to": token.address, "data": tx["data"]})
        check(tx["gas"] == estimate, f"gas {tx['gas']} is the estimate {estimate}")
        signed = acct.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = wait(tx_hash)
        check(receipt.status == 1, "status 1")
        check(receipt.type == 2, f"type 2 receipt, got {receipt.type}")
        check(receipt.gasUsed <= tx["gas"], "used no more than the estimate")
        check(receipt.effectiveGasPrice <= tx["maxFeePerGas"], "effective price within maxFeePerGas")
        check(token.functions.balanceOf(to).call() == 9, "tokens arrived")
        return {"gas": tx["gas"], "gasUsed": receipt.gasUsed, "maxFeePerGas": tx["maxFeePerGas"]}

    step("web3.py: EIP-1559 transaction with estimated gas (build_transaction, sign, send_raw)", t, eip1559)

    def websocket():
        return asyncio.run(ws_logs(opts.ws, w3, token, t))

    step("web3.py: eth_subscribe('logs') over WebSocket (AsyncWeb3)", t, websocket)


async def ws_logs(ws_url, w3, token, t):
    to = fresh_address()
    async with AsyncWeb3(WebSocketProvider(ws_url)) as aw3:
        sub_id = await aw3.eth.subscribe("logs", {"address": token.address})
        check(isinstance(sub_id, str) and sub_id.startswith("0x"), f"subscription id is a hex string: {sub_id!r}")
        tx_hash = token.functions.transfer(to, 3).transact()
        topic = Web3.to_hex(Web3.to_bytes(hexstr=to).rjust(32, b"\0"))

        async def first_match():
            async for msg in aw3.socket.process_subscriptions():
                log = msg["result"]
                if log["transactionHash"] == tx_hash and Web3.to_hex(log["topics"][2]) == topic:
                    return log

        log = await asyncio.wait_for(first_match(), timeout=t)
        check(log["blockHash"] is not None, "subscribed log has a block hash")
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=t)
        check(log["blockHash"] == receipt.blockHash, "subscribed log's block is the receipt's")
        await aw3.eth.unsubscribe(sub_id)
        return {"blockNumber": receipt.blockNumber}


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--http", required=True)
    p.add_argument("--ws", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--step-timeout-s", type=float, default=30.0)
    return p.parse_args()


if __name__ == "__main__":
    opts = parse()  # exits 2 on bad usage
    try:
        main(opts)
    except BaseException:  # recorded in its step; anything else is reported below
        if not steps or steps[-1]["ok"]:
            steps.append({"name": "setup", "ok": False, "error": traceback.format_exc()})
    ok = bool(steps) and all(s["ok"] for s in steps)
    print(json.dumps({"ok": ok, "web3": web3_version, "steps": steps}, indent=2, default=str))
    sys.exit(0 if ok else 1)
