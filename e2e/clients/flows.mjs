// Drives an Ethereum JSON-RPC node exactly as dApp code does, with ethers v6 and viem
// (versions pinned in the repo's package.json), and prints one JSON result.
//
// Usage: node e2e/clients/flows.mjs --http URL --ws URL --key 0xPRIVATEKEY [--step-timeout-ms N]
//
// Every step has a timeout; the script exits 0 only if every step passed, 1 otherwise
// (2 for bad usage). It is run against `blink-sequencer --dev` and against anvil by
// e2e/tests/clients.rs, so the flows are proven standard. It is not a benchmark: the
// per-step times it prints are for reading, not for asserting.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ContractFactory, Contract, JsonRpcProvider, Wallet, getAddress } from "ethers";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  webSocket,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

function args() {
  const out = { stepTimeoutMs: 30_000 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === "--http") out.http = v;
    else if (k === "--ws") out.ws = v;
    else if (k === "--key") out.key = v;
    else if (k === "--step-timeout-ms") out.stepTimeoutMs = Number(v);
    else {
      console.error(`unknown argument ${k}`);
      process.exit(2);
    }
  }
  if (!out.http || !out.ws || !out.key) {
    console.error("usage: flows.mjs --http URL --ws URL --key 0xKEY");
    process.exit(2);
  }
  return out;
}

const opts = args();
const here = dirname(fileURLToPath(import.meta.url));
const artifact = JSON.parse(
  readFileSync(join(here, "../../bridge-contracts/artifacts/TestToken.json"), "utf8"),
);
const steps = [];

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Runs one step; a failure is recorded and stops the flow (later steps depend on it).
async function step(name, fn) {
  const started = Date.now();
  try {
    const info = await withTimeout(Promise.resolve().then(fn), opts.stepTimeoutMs, name);
    steps.push({ name, ok: true, ms: Date.now() - started, ...(info ? { info } : {}) });
    return info;
  } catch (e) {
    steps.push({ name, ok: false, ms: Date.now() - started, error: String(e?.stack ?? e) });
    throw e;
  }
}

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

const json = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === "bigint" ? x.toString() : x)));

// every JSON-RPC method a library sent, to prove which path it took (filters, not getLogs)
const methods = { ethers: new Set(), viemHttp: new Set() };

class RecordingProvider extends JsonRpcProvider {
  async _send(payload) {
    for (const p of Array.isArray(payload) ? payload : [payload]) methods.ethers.add(p.method);
    return super._send(payload);
  }
}

const recordingFetch = async (url, init) => {
  try {
    const body = JSON.parse(init.body);
    for (const p of Array.isArray(body) ? body : [body]) methods.viemHttp.add(p.method);
  } catch {
    // not JSON: nothing to record
  }
  return fetch(url, init);
};

let wsClient;
let ethersProvider;
let exitCode = 0;

async function main() {
  // ---------------------------------------------------------------- ethers v6
  // ethers caches identical requests for 250 ms (`cacheTimeout`), nonces included: on a
  // chain that answers in milliseconds a second send within 250 ms would reuse the first
  // one's nonce. dApps on Blink turn the cache off (or use ethers' NonceManager).
  ethersProvider = new RecordingProvider(opts.http, undefined, {
    pollingInterval: 200,
    cacheTimeout: -1,
  });
  ethersProvider.pollingInterval = 200;
  const wallet = new Wallet(opts.key, ethersProvider);
  const someone = Wallet.createRandom().address;

  await step("ethers: transfer and tx.wait()", async () => {
    const tx = await wallet.sendTransaction({ to: someone, value: 1n });
    const receipt = await tx.wait();
    check(receipt.status === 1, "status 1");
    check(receipt.blockHash, "receipt has a block hash");
    // ethers caches getBlockNumber() for 250 ms (its value may predate the receipt):
    // ask the node itself
    const head = Number(await ethersProvider.send("eth_blockNumber", []));
    check(receipt.blockNumber <= head, `blockNumber ${receipt.blockNumber} <= head ${head}`);
    const block = await ethersProvider.getBlock(receipt.blockHash);
    check(block, "getBlock(receipt.blockHash) finds the block");
    check(block.number === receipt.blockNumber, "block number matches");
    check(block.transactions.includes(tx.hash), "block lists the transaction");
    const again = await ethersProvider.getTransaction(tx.hash);
    check(again.blockHash === receipt.blockHash, "getTransaction has the same block");
    return { blockNumber: receipt.blockNumber };
  });

  let token;
  await step("ethers: deploy and waitForDeployment()", async () => {
    const factory = new ContractFactory(artifact.abi, artifact.bytecode, wallet);
    token = await factory.deploy("Flows", "FLW", 10n ** 24n);
    await token.waitForDeployment();
    const address = await token.getAddress();
    const code = await ethersProvider.getCode(address);
    check(code.length > 2, "code deployed");
    const receipt = await token.deploymentTransaction().wait();
    check(getAddress(receipt.contractAddress) === getAddress(address), "contractAddress");
    return { address };
  });

  await step("ethers: contract.on(event) over HTTP filters", async () => {
    const address = await token.getAddress();
    const watched = new Contract(address, artifact.abi, ethersProvider);
    const to = Wallet.createRandom().address;
    let resolve;
    const seen = new Promise((r) => (resolve = r));
    await watched.on("Transfer", (from, dest, value, event) => {
      if (getAddress(dest) === getAddress(to)) resolve({ value, event });
    });
    // one polling round, so the filter is installed before the transfer is mined
    await new Promise((r) => ethersProvider.once("block", r));
    const tx = await token.transfer(to, 5n);
    await tx.wait();
    const { value, event } = await seen;
    check(value === 5n, "event value");
    check(event.log.blockHash, "event log has a block hash");
    await watched.removeAllListeners();
    check(methods.ethers.has("eth_newFilter"), "ethers used eth_newFilter");
    check(methods.ethers.has("eth_getFilterChanges"), "ethers used eth_getFilterChanges");
    return { blockNumber: event.log.blockNumber };
  });

  // ---------------------------------------------------------------- viem
  const chainId = Number(await ethersProvider.send("eth_chainId", []));
  const chain = defineChain({
    id: chainId,
    name: "under-test",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [opts.http], webSocket: [opts.ws] } },
  });
  const account = privateKeyToAccount(opts.key);
  const httpTransport = http(opts.http, { fetchFn: recordingFetch });
  const client = createPublicClient({ chain, transport: httpTransport, pollingInterval: 200 });
  const walletClient = createWalletClient({ account, chain, transport: http(opts.http) });
  wsClient = createPublicClient({ chain, transport: webSocket(opts.ws) });
  const tokenAddress = await token.getAddress();

  await step("viem: sendTransaction + waitForTransactionReceipt + getBlock({blockHash})", async () => {
    const hash = await walletClient.sendTransaction({ to: someone, value: 1n });
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 200 });
    check(receipt.status === "success", "status success");
    check(receipt.blockHash, "receipt has a block hash");
    const head = await client.getBlockNumber({ cacheTime: 0 });
    check(receipt.blockNumber <= head, `blockNumber ${receipt.blockNumber} <= head ${head}`);
    const block = await client.getBlock({ blockHash: receipt.blockHash });
    check(block.number === receipt.blockNumber, "block number matches");
    check(block.transactions.includes(hash), "block lists the transaction");
    return { blockNumber: Number(receipt.blockNumber) };
  });

  await step("viem: watchContractEvent over WebSocket and HTTP, getContractEvents to latest", async () => {
    const to = privateKeyToAccount(
      "0x" + Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex"),
    ).address;
    const waitFor = (c) =>
      new Promise((resolve, reject) => {
        const unwatch = c.watchContractEvent({
          address: tokenAddress,
          abi: artifact.abi,
          eventName: "Transfer",
          pollingInterval: 200,
          onLogs: (logs) => {
            const log = logs.find((l) => getAddress(l.args.to) === getAddress(to));
            if (log) {
              unwatch();
              resolve(log);
            }
          },
          onError: (e) => {
            unwatch();
            reject(e);
          },
        });
      });
    const overWs = waitFor(wsClient);
    const overHttp = waitFor(client);
    // one polling round, so the HTTP filter is installed before the transfer is mined
    await new Promise((r) => {
      const unwatch = client.watchBlockNumber({
        pollingInterval: 200,
        emitOnBegin: false,
        onBlockNumber: () => {
          unwatch();
          r();
        },
      });
    });
    const hash = await walletClient.writeContract({
      address: tokenAddress,
      abi: artifact.abi,
      functionName: "transfer",
      args: [to, 7n],
    });
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 200 });
    const [wsLog, httpLog] = await Promise.all([overWs, overHttp]);
    check(wsLog.blockHash === receipt.blockHash, "WebSocket log carries the block hash");
    check(httpLog.blockHash === receipt.blockHash, "HTTP filter log carries the block hash");
    check(methods.viemHttp.has("eth_newFilter"), "viem used eth_newFilter");
    check(methods.viemHttp.has("eth_getFilterChanges"), "viem used eth_getFilterChanges");
    const events = await client.getContractEvents({
      address: tokenAddress,
      abi: artifact.abi,
      eventName: "Transfer",
      fromBlock: receipt.blockNumber,
      toBlock: "latest",
    });
    check(
      events.some((e) => e.transactionHash === hash && getAddress(e.args.to) === getAddress(to)),
      "getContractEvents up to latest sees the transfer",
    );
    return { blockNumber: Number(receipt.blockNumber) };
  });

  // EIP-7966: what eth_sendRawTransactionSync answers, as viem parses it
  await step("viem: sendRawTransactionSync", async () => {
    const request = await walletClient.prepareTransactionRequest({ to: someone, value: 1n });
    const serializedTransaction = await walletClient.signTransaction(request);
    const receipt = await walletClient.sendRawTransactionSync({ serializedTransaction });
    check(receipt.status === "success", "status success");
    const head = await client.getBlockNumber({ cacheTime: 0 });
    return {
      blockHash: receipt.blockHash ?? null,
      blockNumber: receipt.blockNumber?.toString() ?? null,
      headAtAnswer: head.toString(),
      preconfirmation: receipt.preconfirmation ? "present" : "absent",
    };
  });
}

try {
  await main();
} catch {
  exitCode = 1;
} finally {
  try {
    await wsClient?.transport?.getRpcClient?.().then((c) => c.close());
  } catch {
    // closing is best effort: the process exits next
  }
  ethersProvider?.destroy();
}
const ok = exitCode === 0 && steps.every((s) => s.ok);
process.stdout.write(JSON.stringify(json({ ok, steps }), null, 2) + "\n", () =>
  process.exit(ok ? 0 : 1),
);
