// How long a dApp waits for its receipt: time from eth_sendRawTransaction leaving the
// client to the library handing back a receipt, with ethers v6 and viem (the repo's
// pinned versions) as dApps use them, and what eth_sendRawTransactionSync answers in.
// Used by scripts/bench-block-time.sh; prints one JSON object.
//
// Usage: node scripts/receipt-latency.mjs --http URL --key 0xKEY [--n N] [--slow-n N]
//
// Modes (each N sequential ETH transfers, one at a time):
//   ethers default     JsonRpcProvider defaults (pollingInterval 4 s), tx.wait()
//   ethers 100 ms      pollingInterval 100 ms (web3.py's default poll), cacheTimeout off, tx.wait()
//   viem default       no chain blockTime (pollingInterval 4 s), waitForTransactionReceipt
//   viem blockTime 1s  chain.blockTime = 1000 (viem then polls every 500 ms, its floor)
//   sendRawTransactionSync  viem's sendRawTransactionSync (EIP-7966)
// Each send waits a random 0–1 s first, so it lands at a random point of the block
// interval (sequential sends would otherwise lock to the seal's phase).
// Bounded: every wait has a 30 s timeout.

import { JsonRpcProvider, Wallet } from "ethers";
import { createPublicClient, createWalletClient, defineChain, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";

const opts = { n: 10, slowN: 5 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const [k, v] = [argv[i], argv[i + 1]];
  if (k === "--http") opts.http = v;
  else if (k === "--key") opts.key = v;
  else if (k === "--n") opts.n = Number(v);
  else if (k === "--slow-n") opts.slowN = Number(v);
  else {
    console.error(`unknown argument ${k}`);
    process.exit(2);
  }
}
if (!opts.http || !opts.key) {
  console.error("usage: receipt-latency.mjs --http URL --key 0xKEY [--n N] [--slow-n N]");
  process.exit(2);
}

const timeout = (p, ms = 30_000) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error("timeout")), ms))]);
const now = () => performance.now();
let sentAt = 0; // when the last eth_sendRawTransaction left

class TimedProvider extends JsonRpcProvider {
  async _send(payload) {
    for (const p of Array.isArray(payload) ? payload : [payload])
      if (p.method === "eth_sendRawTransaction") sentAt = now();
    return super._send(payload);
  }
}
const timedFetch = async (url, init) => {
  try {
    const body = JSON.parse(init.body);
    for (const p of Array.isArray(body) ? body : [body])
      if (p.method === "eth_sendRawTransaction" || p.method === "eth_sendRawTransactionSync")
        sentAt = now();
  } catch {
    // not JSON
  }
  return fetch(url, init);
};

function summary(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))];
  return {
    n: s.length,
    p50: +q(50).toFixed(1),
    p90: +q(90).toFixed(1),
    max: +s[s.length - 1].toFixed(1),
    mean: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(1),
  };
}

const to = "0x00000000000000000000000000000000000b10c5";
const jitter = () => new Promise((r) => setTimeout(r, Math.random() * 1000));
const out = {};

async function ethersMode(name, options, n) {
  const provider = new TimedProvider(opts.http, undefined, options);
  if (options?.pollingInterval) provider.pollingInterval = options.pollingInterval;
  const wallet = new Wallet(opts.key, provider);
  const ms = [];
  for (let i = 0; i < n; i++) {
    await jitter();
    const tx = await timeout(wallet.sendTransaction({ to, value: 1n }));
    await timeout(tx.wait());
    ms.push(now() - sentAt);
    // past ethers' 250 ms request cache, so the next nonce is fresh
    await new Promise((r) => setTimeout(r, 300));
  }
  provider.destroy();
  out[name] = summary(ms);
}

async function viemMode(name, blockTime, n, sync = false) {
  const res = await fetch(opts.http, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
  });
  const id = Number((await res.json()).result);
  const chain = defineChain({
    id: Number(id),
    name: "under-test",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [opts.http] } },
    ...(blockTime ? { blockTime } : {}),
  });
  const transport = http(opts.http, { fetchFn: timedFetch });
  const client = createPublicClient({ chain, transport });
  const wallet = createWalletClient({ account: privateKeyToAccount(opts.key), chain, transport });
  const ms = [];
  for (let i = 0; i < n; i++) {
    await jitter();
    if (sync) {
      const request = await wallet.prepareTransactionRequest({ to, value: 1n });
      const serializedTransaction = await wallet.signTransaction(request);
      const t = now();
      const r = await timeout(wallet.sendRawTransactionSync({ serializedTransaction }));
      if (r.status !== "success") throw new Error("sync: failed");
      ms.push(now() - t);
    } else {
      const hash = await timeout(wallet.sendTransaction({ to, value: 1n }));
      await timeout(client.waitForTransactionReceipt({ hash }));
      ms.push(now() - sentAt);
    }
  }
  out[name] = { pollingMs: client.pollingInterval, ...summary(ms) };
}

try {
  await ethersMode("ethers default (4 s polling)", undefined, opts.slowN);
  await ethersMode("ethers pollingInterval 100 ms", { pollingInterval: 100, cacheTimeout: -1 }, opts.n);
  await viemMode("viem default (4 s polling)", undefined, opts.slowN);
  await viemMode("viem chain.blockTime 1000", 1000, opts.n);
  await viemMode("viem sendRawTransactionSync", 1000, opts.n, true);
  process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(0));
} catch (e) {
  console.error(String(e?.stack ?? e));
  process.stdout.write(JSON.stringify({ error: String(e), partial: out }) + "\n", () =>
    process.exit(1),
  );
}
