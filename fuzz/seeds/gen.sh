#!/usr/bin/env bash
# Regenerates the committed seed corpora under fuzz/seeds/<target>/.
# Needs `cast` (npm @foundry-rs/cast, in the repo's node_modules) and python3; runs offline.
# The keys are the well-known dev keys (anvil account 0 and Blink's dev sequencer key).
set -euo pipefail
cd "$(dirname "$0")"
CAST=${CAST:-../../node_modules/.bin/cast}
KEY0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 # dev account 0
CHAIN=42424
TO=0x0000000000000000000000000000000000000001
mkdir -p raw_tx jsonrpc jsonrpc_structured wal smt_proof preconf_json

# --- raw_tx: valid signed transactions of every accepted type, plus near misses -------
mk() { "$CAST" mktx --private-key "$KEY0" --nonce "${NONCE:-0}" --gas-limit 21000 "$@"; }
tx1559=$(mk --chain $CHAIN --gas-price 2000000000 --priority-gas-price 1000000 $TO --value 1)
txlegacy=$(mk --chain $CHAIN --legacy --gas-price 2000000000 $TO --value 1)
tx2930=$(mk --chain $CHAIN --legacy --gas-price 2000000000 --access-list '[{"address":"0x0000000000000000000000000000000000000002","storageKeys":["0x0000000000000000000000000000000000000000000000000000000000000001"]}]' $TO --value 1 2>/dev/null || true)
tx7702=$(mk --chain $CHAIN --gas-price 2000000000 --priority-gas-price 1000000 --auth 0x0000000000000000000000000000000000000003 $TO 2>/dev/null || true)
txcreate=$("$CAST" mktx --private-key "$KEY0" --nonce 1 --gas-limit 100000 --chain $CHAIN --gas-price 2000000000 --priority-gas-price 1000000 --create 0x600160005260206000f3)
txwrongchain=$(mk --chain 1 --gas-price 2000000000 --priority-gas-price 1000000 $TO --value 1)
hex2bin() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1][2:]))' "$1"; }
hex2bin "$tx1559" > raw_tx/eip1559.bin
hex2bin "$txlegacy" > raw_tx/legacy_eip155.bin
[ -n "$tx2930" ] && hex2bin "$tx2930" > raw_tx/eip2930.bin
[ -n "$tx7702" ] && hex2bin "$tx7702" > raw_tx/eip7702.bin
hex2bin "$txcreate" > raw_tx/create.bin
hex2bin "$txwrongchain" > raw_tx/wrong_chain.bin
printf '\x02\xc0' > raw_tx/empty_typed.bin

# --- jsonrpc: one request per shape ---------------------------------------------------
req() { printf '%s' "$2" > "jsonrpc/$1.json"; }
req chainId '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
req blockNumber '{"jsonrpc":"2.0","id":"a","method":"eth_blockNumber"}'
req getBalance '{"jsonrpc":"2.0","id":2,"method":"eth_getBalance","params":["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","latest"]}'
req getStorageAt '{"jsonrpc":"2.0","id":3,"method":"eth_getStorageAt","params":["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","0x0","pending"]}'
req call '{"jsonrpc":"2.0","id":4,"method":"eth_call","params":[{"from":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","to":"0x0000000000000000000000000000000000000004","data":"0x1234","gas":"0x5208"},"latest"]}'
req estimateGas '{"jsonrpc":"2.0","id":5,"method":"eth_estimateGas","params":[{"from":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","to":"0x0000000000000000000000000000000000000001","value":"0x1"}]}'
req blockByNumber '{"jsonrpc":"2.0","id":6,"method":"eth_getBlockByNumber","params":["pending",true]}'
req blockByHash '{"jsonrpc":"2.0","id":7,"method":"eth_getBlockByHash","params":["0x0000000000000000000000000000000000000000000000000000000000000000",false]}'
req blockReceipts '{"jsonrpc":"2.0","id":8,"method":"eth_getBlockReceipts","params":["latest"]}'
req txByBlockAndIndex '{"jsonrpc":"2.0","id":9,"method":"eth_getTransactionByBlockNumberAndIndex","params":["0x1","0x0"]}'
req feeHistory '{"jsonrpc":"2.0","id":10,"method":"eth_feeHistory","params":["0x4","latest",[10,50,90]]}'
req getLogs '{"jsonrpc":"2.0","id":11,"method":"eth_getLogs","params":[{"fromBlock":"0x0","toBlock":"latest","address":"0x0000000000000000000000000000000000000001","topics":[null,["0x0000000000000000000000000000000000000000000000000000000000000001"]]}]}'
req getProof '{"jsonrpc":"2.0","id":12,"method":"eth_getProof","params":["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",["0x0000000000000000000000000000000000000000000000000000000000000000"],"latest"]}'
req preconf '{"jsonrpc":"2.0","id":13,"method":"blink_getPreconfirmation","params":["0x0000000000000000000000000000000000000000000000000000000000000001"]}'
req sha3 '{"jsonrpc":"2.0","id":14,"method":"web3_sha3","params":["0x68656c6c6f"]}'
req sendRaw "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"eth_sendRawTransaction\",\"params\":[\"$tx1559\"]}"
req sendRawSync "{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"eth_sendRawTransactionSync\",\"params\":[\"$txlegacy\",\"0x64\"]}"
req subscribe '{"jsonrpc":"2.0","id":17,"method":"eth_subscribe","params":["newHeads"]}'
req subscribeLogs '{"jsonrpc":"2.0","id":18,"method":"eth_subscribe","params":["logs",{"address":"0x0000000000000000000000000000000000000001"}]}'
req byName '{"jsonrpc":"2.0","id":19,"method":"eth_getBalance","params":{"address":"0x0000000000000000000000000000000000000001"}}'
req txCount '{"jsonrpc":"2.0","id":20,"method":"eth_getTransactionCount","params":["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",{"blockNumber":"0x0"}]}'

# --- jsonrpc_structured: arbitrary-decoded; any bytes are a valid seed ------------------
for i in 1 2 3 4; do
  python3 -c "import random,sys; r=random.Random($i); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(64*$i)))" > "jsonrpc_structured/random$i.bin"
done

# --- wal / preconf_json / smt_proof -------------------------------------------------------
python3 - "$tx1559" "$txlegacy" <<'PY'
import struct, sys, zlib, json, os
tx1, tx2 = (bytes.fromhex(t[2:]) for t in sys.argv[1:3])

def rlp_bytes(b):
    if len(b) == 1 and b[0] < 0x80: return b
    return rlp_len(len(b), 0x80) + b
def rlp_len(n, off):
    if n < 56: return bytes([off + n])
    nb = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([off + 55 + len(nb)]) + nb
def rlp_int(i): return rlp_bytes(i.to_bytes((i.bit_length() + 7) // 8, 'big') if i else b'')
def rlp_list(items):
    body = b''.join(items); return rlp_len(len(body), 0xc0) + body
def frame(payload): return struct.pack('<II', len(payload), zlib.crc32(payload)) + payload
open_ = lambda n, ts, fee: frame(b'\x01' + rlp_list([rlp_int(n), rlp_int(ts), rlp_int(fee)]))
mini = lambda n, txs: frame(b'\x02' + rlp_list([rlp_int(n), rlp_list([rlp_bytes(t) for t in txs])]))
seal = lambda n: frame(b'\x03' + rlp_int(n))
log = open_(1, 1700000000, 1000000) + mini(1, [tx1, tx2]) + seal(1) + open_(2, 1700000001, 1000000) + mini(2, [])
w = lambda name, data: open('wal/' + name, 'wb').write(data)
w('empty.log', b'')
w('one_block.log', log)
w('torn_tail.log', log + frame(b'\x03' + rlp_int(2))[:-1])
bad = bytearray(seal(9)); bad[5] ^= 1
w('bad_crc_middle.log', open_(1, 1, 1) + bytes(bad) + seal(1))
w('bad_record_middle.log', open_(1, 1, 1) + frame(b'\x07\x01') + seal(1))

# smt_proof is arbitrary-decoded too: a few byte strings
import random
for i in range(1, 4):
    r = random.Random(100 + i)
    open(f'smt_proof/random{i}.bin', 'wb').write(bytes(r.randrange(256) for _ in range(80 * i)))
PY

# preconf_json: a valid pre-confirmation signed by the dev sequencer key (one-leaf tree,
# so the batch root is the leaf and the proof is empty), and a two-leaf one.
SEQKEY=$("$CAST" keccak "blink dev sequencer key")
TH=$("$CAST" keccak "TxPreconfirmation(bytes32 txHash,uint64 blockNumber,uint32 index,bool success,uint64 gasUsed)")
TXHASH=$("$CAST" keccak "$tx1559")
leaf() { "$CAST" keccak "$("$CAST" abi-encode 'f(bytes32,bytes32,uint64,uint32,bool,uint64)' "$TH" "$1" 7 "$2" true 21000)"; }
L0=$(leaf "$TXHASH" 0)
sign_root() {
  cat > /tmp/blink-preconf-typed.json <<JSON
{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"}],
"PreconfirmationBatch":[{"name":"blockNumber","type":"uint64"},{"name":"root","type":"bytes32"}]},
"primaryType":"PreconfirmationBatch","domain":{"name":"Blink","version":"1","chainId":$CHAIN},
"message":{"blockNumber":7,"root":"$1"}}
JSON
  "$CAST" wallet sign --private-key "$SEQKEY" --data --from-file /tmp/blink-preconf-typed.json
}
sig_json() { python3 -c '
import sys; s=sys.argv[1][2:]; r,s_,v=s[:64],s[64:128],int(s[128:],16)
print("{\"r\":\"0x%s\",\"s\":\"0x%s\",\"yParity\":\"0x%x\",\"v\":\"0x%x\"}" % (r.lstrip("0") or "0", s_.lstrip("0") or "0", v-27, v-27))' "$1"; }
S0=$(sign_root "$L0")
printf '{"txHash":"%s","blockNumber":"0x7","index":"0x0","success":true,"gasUsed":"0x5208","batchRoot":"%s","proof":[],"signature":%s}' \
  "$TXHASH" "$L0" "$(sig_json "$S0")" > preconf_json/single.json
TXHASH1=$("$CAST" keccak "$txlegacy")
L1=$(leaf "$TXHASH1" 1)
ROOT=$(python3 -c 'import sys; a,b=sorted([sys.argv[1],sys.argv[2]]); print(a+b[2:])' "$L0" "$L1")
ROOT=$("$CAST" keccak "$ROOT")
S1=$(sign_root "$ROOT")
printf '{"txHash":"%s","blockNumber":"0x7","index":"0x1","success":true,"gasUsed":"0x5208","batchRoot":"%s","proof":["%s"],"signature":%s}' \
  "$TXHASH1" "$ROOT" "$L0" "$(sig_json "$S1")" > preconf_json/pair.json
# --- batch_v2: first byte = record block count, then a version-2 stream --------------
mkdir -p batch_v2 derive
python3 - <<'PY'
import struct
def enc(blocks):
    txs = [t for b in blocks for t in b[2]]
    out = bytes([2]) + struct.pack('>I', len(txs))
    end = 0
    for ts, origin, t in blocks:
        end += len(t); out += struct.pack('>QQI', ts, origin, end)
    end = 0
    for t in txs:
        end += len(t); out += struct.pack('>I', end)
    return out + b''.join(txs)
def put(name, count, stream):
    open('batch_v2/' + name, 'wb').write(bytes([count]) + stream)
ex = [(100, 10, [b'\xaa\xbb', b'\xcc']), (101, 10, []), (102, 11, [b'\xdd\xee\xff'])]
put('three_blocks.bin', 3, enc(ex))
put('one_empty_block.bin', 1, enc([(1750000000, 20000000, [])]))
tx = bytes([2]) + bytes(range(117))  # transfer-sized entry
put('two_txs.bin', 1, enc([(1750000000, 20000000, [tx, tx])]))
s = bytearray(enc(ex)); s[65:69] = struct.pack('>I', 5)  # entry 1 reversed
put('reversed_entry.bin', 3, bytes(s))
# --- derive: chunks split by fe fe, chunk k posted in L1 block k % 6 + 1 as a record ----
# (byte 0 first block, 1 block count, 2 parent hash right unless % 4 == 0, 3 last origin,
# then the stream); these continue the chain so the fuzzer starts from taken blocks
tx = bytes([2]) + bytes(range(100))  # seeds for derive from here on
first = bytes([1, 2, 1, 1]) + enc([(113, 1, [tx]), (114, 1, [])])
second = bytes([3, 1, 1, 2]) + enc([(125, 2, [tx, tx])])
assert b'\xfe\xfe' not in first + second
open('derive/two_records.bin', 'wb').write(first + b'\xfe\xfe' + second)
bad_parent = bytes([1, 1, 4, 1]) + enc([(113, 1, [])])
open('derive/wrong_parent_then_right.bin', 'wb').write(bad_parent + b'\xfe\xfe' + bytes([1, 1, 1, 2]) + enc([(125, 2, [])]))
PY
echo "seeds written"
