//! The sequencer's JSON-RPC surface, structure-aware.
//!
//! The input is decoded (with `arbitrary`) into a request for one of the node's real
//! methods with JSON params shaped like Ethereum JSON-RPC values (quantities, hashes,
//! addresses, block tags, call/filter objects, and validly signed transactions from
//! the funded dev accounts), so the fuzzer spends its time in each method's parameter
//! decoding and handler rather than in the JSON parser. Same oracle as `jsonrpc`: no
//! panic anywhere, no hang, no internal error, always a well-formed response.
#![no_main]

use std::sync::{Mutex, OnceLock};

use alloy::{network::TxSignerSync, signers::local::PrivateKeySigner};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy};
use alloy_eips::{eip2718::Encodable2718, eip2930::AccessList};
use alloy_primitives::{Address, Bytes, TxKind, U256, hex};
use arbitrary::Arbitrary;
use blink_protocol::chain::DEV_CHAIN_ID;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

/// Every method `blink_sequencer::rpc::module` registers, plus an unknown one.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Method {
    EthChainId,
    NetVersion,
    NetListening,
    NetPeerCount,
    Web3ClientVersion,
    Web3Sha3,
    EthSyncing,
    EthAccounts,
    EthBlockNumber,
    EthGasPrice,
    EthMaxPriorityFeePerGas,
    EthBlobBaseFee,
    EthGetBalance,
    EthGetTransactionCount,
    EthGetCode,
    EthGetStorageAt,
    EthCall,
    EthEstimateGas,
    EthGetBlockByNumber,
    EthGetBlockByHash,
    EthGetBlockTransactionCountByNumber,
    EthGetBlockReceipts,
    EthGetTransactionByHash,
    EthGetTransactionByBlockNumberAndIndex,
    EthGetTransactionReceipt,
    BlinkGetPreconfirmation,
    BlinkSequencer,
    EthFeeHistory,
    EthGetLogs,
    EthGetProof,
    EthSendRawTransaction,
    EthSendRawTransactionSync,
    EthSubscribe,
    EthUnsubscribe,
    Unknown,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::EthChainId => "eth_chainId",
            Method::NetVersion => "net_version",
            Method::NetListening => "net_listening",
            Method::NetPeerCount => "net_peerCount",
            Method::Web3ClientVersion => "web3_clientVersion",
            Method::Web3Sha3 => "web3_sha3",
            Method::EthSyncing => "eth_syncing",
            Method::EthAccounts => "eth_accounts",
            Method::EthBlockNumber => "eth_blockNumber",
            Method::EthGasPrice => "eth_gasPrice",
            Method::EthMaxPriorityFeePerGas => "eth_maxPriorityFeePerGas",
            Method::EthBlobBaseFee => "eth_blobBaseFee",
            Method::EthGetBalance => "eth_getBalance",
            Method::EthGetTransactionCount => "eth_getTransactionCount",
            Method::EthGetCode => "eth_getCode",
            Method::EthGetStorageAt => "eth_getStorageAt",
            Method::EthCall => "eth_call",
            Method::EthEstimateGas => "eth_estimateGas",
            Method::EthGetBlockByNumber => "eth_getBlockByNumber",
            Method::EthGetBlockByHash => "eth_getBlockByHash",
            Method::EthGetBlockTransactionCountByNumber => "eth_getBlockTransactionCountByNumber",
            Method::EthGetBlockReceipts => "eth_getBlockReceipts",
            Method::EthGetTransactionByHash => "eth_getTransactionByHash",
            Method::EthGetTransactionByBlockNumberAndIndex => {
                "eth_getTransactionByBlockNumberAndIndex"
            }
            Method::EthGetTransactionReceipt => "eth_getTransactionReceipt",
            Method::BlinkGetPreconfirmation => "blink_getPreconfirmation",
            Method::BlinkSequencer => "blink_sequencer",
            Method::EthFeeHistory => "eth_feeHistory",
            Method::EthGetLogs => "eth_getLogs",
            Method::EthGetProof => "eth_getProof",
            Method::EthSendRawTransaction => "eth_sendRawTransaction",
            Method::EthSendRawTransactionSync => "eth_sendRawTransactionSync",
            Method::EthSubscribe => "eth_subscribe",
            Method::EthUnsubscribe => "eth_unsubscribe",
            Method::Unknown => "eth_doesNotExist",
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Tag {
    Latest,
    Pending,
    Safe,
    Finalized,
    Earliest,
}

/// Field names of call requests, filters and subscriptions.
#[derive(Arbitrary, Debug)]
enum Field {
    From,
    To,
    Gas,
    GasPrice,
    MaxFeePerGas,
    MaxPriorityFeePerGas,
    Value,
    Data,
    Input,
    Nonce,
    Type,
    AccessList,
    ChainId,
    FromBlock,
    ToBlock,
    BlockHash,
    BlockNumber,
    RequireCanonical,
    Address,
    Topics,
    StorageKeys,
    AuthorizationList,
    Other(String),
}

impl Field {
    fn name(&self) -> String {
        let s = match self {
            Field::From => "from",
            Field::To => "to",
            Field::Gas => "gas",
            Field::GasPrice => "gasPrice",
            Field::MaxFeePerGas => "maxFeePerGas",
            Field::MaxPriorityFeePerGas => "maxPriorityFeePerGas",
            Field::Value => "value",
            Field::Data => "data",
            Field::Input => "input",
            Field::Nonce => "nonce",
            Field::Type => "type",
            Field::AccessList => "accessList",
            Field::ChainId => "chainId",
            Field::FromBlock => "fromBlock",
            Field::ToBlock => "toBlock",
            Field::BlockHash => "blockHash",
            Field::BlockNumber => "blockNumber",
            Field::RequireCanonical => "requireCanonical",
            Field::Address => "address",
            Field::Topics => "topics",
            Field::StorageKeys => "storageKeys",
            Field::AuthorizationList => "authorizationList",
            Field::Other(s) => return s.clone(),
        };
        s.to_string()
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum TxKindSpec {
    Legacy,
    Eip2930,
    Eip1559,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum NonceSpec {
    /// The account's next nonce: the transaction executes at once.
    Next,
    /// Ahead of it: the transaction is queued (nonce gap).
    Ahead(u8),
    Raw(u64),
}

/// A transaction signed by one of the funded dev accounts.
#[derive(Arbitrary, Debug)]
struct TxSpec {
    signer: u8,
    kind: TxKindSpec,
    nonce: NonceSpec,
    gas: u32,
    fee: u64,
    tip: u64,
    to: Option<u8>,
    value: u64,
    input: Vec<u8>,
    other_chain: Option<u64>,
}

/// A JSON value shaped like Ethereum JSON-RPC data.
#[derive(Arbitrary, Debug)]
enum J {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Quantity(u64),
    BigQuantity([u8; 32]),
    Str(String),
    Data(Vec<u8>),
    Hash([u8; 32]),
    Address([u8; 20]),
    DevAddress(u8),
    Tag(Tag),
    KnownHash(u8),
    SignedTx(TxSpec),
    Array(Vec<J>),
    Object(Vec<(Field, J)>),
}

#[derive(Arbitrary, Debug)]
enum Params {
    Absent,
    Array(Vec<J>),
    Object(Vec<(Field, J)>),
}

#[derive(Arbitrary, Debug)]
enum Id {
    Num(u64),
    Str(String),
    Null,
}

#[derive(Arbitrary, Debug)]
struct Request {
    method: Method,
    id: Id,
    params: Params,
}

fn dev_signers() -> &'static [PrivateKeySigner] {
    static S: OnceLock<Vec<PrivateKeySigner>> = OnceLock::new();
    S.get_or_init(|| {
        blink_sequencer::dev::dev_signers(blink_sequencer::dev::DEV_ACCOUNTS).expect("dev keys")
    })
}

/// Hashes of transactions this process has sent, so lookups can hit.
static KNOWN_HASHES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn quantity(v: u64) -> Value {
    Value::String(format!("{v:#x}"))
}

fn next_nonce(who: Address) -> u64 {
    let req = json!({"jsonrpc":"2.0","id":0,"method":"eth_getTransactionCount","params":[who, "pending"]});
    blink_fuzz::call(&req.to_string())
        .and_then(|r| serde_json::from_str::<Value>(&r).ok())
        .and_then(|v| v["result"].as_str().map(str::to_owned))
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0)
}

fn sign(spec: &TxSpec) -> Value {
    let signers = dev_signers();
    let signer = &signers[usize::from(spec.signer) % signers.len()];
    let chain_id = spec.other_chain.unwrap_or(DEV_CHAIN_ID);
    let nonce = match spec.nonce {
        NonceSpec::Next => next_nonce(signer.address()),
        NonceSpec::Ahead(d) => next_nonce(signer.address()) + u64::from(d),
        NonceSpec::Raw(n) => n,
    };
    let to = match spec.to {
        None => TxKind::Create,
        Some(b) => TxKind::Call(Address::repeat_byte(b)),
    };
    let gas_limit = u64::from(spec.gas);
    let input = Bytes::from(spec.input.clone());
    let value = U256::from(spec.value);
    let fee = u128::from(spec.fee);
    let envelope: TxEnvelope = match spec.kind {
        TxKindSpec::Legacy => {
            let mut tx = TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price: fee,
                gas_limit,
                to,
                value,
                input,
            };
            let Ok(sig) = signer.sign_transaction_sync(&mut tx) else {
                return Value::Null;
            };
            tx.into_signed(sig).into()
        }
        TxKindSpec::Eip2930 => {
            let mut tx = TxEip2930 {
                chain_id,
                nonce,
                gas_price: fee,
                gas_limit,
                to,
                value,
                access_list: AccessList::default(),
                input,
            };
            let Ok(sig) = signer.sign_transaction_sync(&mut tx) else {
                return Value::Null;
            };
            tx.into_signed(sig).into()
        }
        TxKindSpec::Eip1559 => {
            let mut tx = TxEip1559 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: fee,
                max_priority_fee_per_gas: u128::from(spec.tip),
                to,
                value,
                access_list: AccessList::default(),
                input,
            };
            let Ok(sig) = signer.sign_transaction_sync(&mut tx) else {
                return Value::Null;
            };
            tx.into_signed(sig).into()
        }
    };
    let hash = format!("{:#x}", envelope.tx_hash());
    if let Ok(mut h) = KNOWN_HASHES.lock() {
        if h.len() < 256 {
            h.push(hash);
        }
    }
    Value::String(hex::encode_prefixed(envelope.encoded_2718()))
}

const MAX_DEPTH: usize = 5;
const MAX_LEN: usize = 16;

fn value(j: &J, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Int(i) => json!(i),
        J::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        J::Quantity(q) => quantity(*q),
        J::BigQuantity(b) => Value::String(format!("{:#x}", U256::from_be_bytes(*b))),
        J::Str(s) => Value::String(s.clone()),
        J::Data(d) => Value::String(hex::encode_prefixed(d)),
        J::Hash(h) => Value::String(hex::encode_prefixed(h)),
        J::Address(a) => Value::String(hex::encode_prefixed(a)),
        J::DevAddress(i) => {
            let s = dev_signers();
            json!(s[usize::from(*i) % s.len()].address())
        }
        J::Tag(t) => Value::String(
            match t {
                Tag::Latest => "latest",
                Tag::Pending => "pending",
                Tag::Safe => "safe",
                Tag::Finalized => "finalized",
                Tag::Earliest => "earliest",
            }
            .into(),
        ),
        J::KnownHash(i) => KNOWN_HASHES
            .lock()
            .ok()
            .and_then(|h| (!h.is_empty()).then(|| h[usize::from(*i) % h.len()].clone()))
            .map_or(Value::Null, Value::String),
        J::SignedTx(spec) => sign(spec),
        J::Array(items) => Value::Array(
            items
                .iter()
                .take(MAX_LEN)
                .map(|j| value(j, depth + 1))
                .collect(),
        ),
        J::Object(fields) => object(fields, depth),
    }
}

fn object(fields: &[(Field, J)], depth: usize) -> Value {
    let mut m = Map::new();
    for (k, v) in fields.iter().take(MAX_LEN) {
        m.insert(k.name(), value(v, depth + 1));
    }
    Value::Object(m)
}

fuzz_target!(|req: Request| {
    let mut r = Map::new();
    r.insert("jsonrpc".into(), "2.0".into());
    r.insert(
        "id".into(),
        match &req.id {
            Id::Num(n) => json!(n),
            Id::Str(s) => json!(s),
            Id::Null => Value::Null,
        },
    );
    r.insert("method".into(), req.method.name().into());
    match &req.params {
        Params::Absent => {}
        Params::Array(items) => {
            r.insert(
                "params".into(),
                Value::Array(items.iter().take(MAX_LEN).map(|j| value(j, 1)).collect()),
            );
        }
        Params::Object(fields) => {
            r.insert("params".into(), object(fields, 0));
        }
    }
    let text = Value::Object(r).to_string();
    let resp = blink_fuzz::call(&text);
    assert!(
        resp.is_some(),
        "jsonrpsee refused a well-formed request: {text}"
    );
});
