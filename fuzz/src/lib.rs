//! Shared harness code for Blink's fuzz targets (see `docs/fuzzing.md`).
//!
//! The JSON-RPC targets share one in-memory sequencer node, built once per fuzzing
//! process, and a current-thread tokio runtime that drives the RPC futures. The node
//! runs on its own threads (executor, commitment), exactly as in production.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use alloy::signers::local::PrivateKeySigner;
use alloy_primitives::{Address, B256};
use blink_protocol::ChainConfig;
use blink_sequencer::{Node, NodeConfig, Shared, dev};
use jsonrpsee::RpcModule;
use serde_json::Value;

/// Longest any single request may take. `eth_sendRawTransactionSync` may legitimately
/// wait up to its 10 s cap (EIP-7966 timeout); anything beyond that is a hang.
pub const HANG_LIMIT: Duration = Duration::from_secs(15);

/// The in-memory node, its RPC module and the runtime that drives it.
pub struct RpcHarness {
    /// Kept alive for the whole fuzzing process.
    pub node: Node,
    /// All JSON-RPC methods of the node.
    pub module: RpcModule<Arc<Shared>>,
    /// Drives the RPC futures (the node itself uses its own threads).
    pub rt: tokio::runtime::Runtime,
    /// Address the dev sequencer key signs as.
    pub sequencer: Address,
}

/// The dev sequencer's address.
pub fn sequencer_address() -> Address {
    let key = dev::dev_sequencer_key();
    PrivateKeySigner::from_bytes(&B256::from(key))
        .expect("dev sequencer key is valid")
        .address()
}

/// The process-wide harness, started on first use.
pub fn rpc() -> &'static RpcHarness {
    static H: OnceLock<RpcHarness> = OnceLock::new();
    H.get_or_init(|| {
        let key = dev::dev_sequencer_key();
        let sequencer = sequencer_address();
        let genesis = dev::dev_genesis(ChainConfig::default(), 1, sequencer).expect("dev genesis");
        let node = Node::start(
            genesis,
            NodeConfig {
                datadir: None,
                block_time: Duration::from_secs(1),
                mini_block_time: Duration::from_millis(10),
                mini_block_max_txs: 4096,
                fsync: false,
                sequencer_key: Some(key),
                l1_view: None,
                retention: Default::default(),
            snapshot_every: 0,
            snapshot_log_bytes: 0,
            hot_blocks: blink_sequencer::node::DEFAULT_HOT_BLOCKS,
            },
        )
        .expect("start in-memory node");
        let module = blink_sequencer::rpc::module(node.shared.clone()).expect("rpc module");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("tokio runtime");
        RpcHarness {
            node,
            module,
            rt,
            sequencer,
        }
    })
}

/// Sends one raw JSON-RPC request through the node's RPC module.
///
/// Returns `None` when jsonrpsee refuses the text as a request (not JSON, or not a
/// request object), otherwise the response text. Panics (= a finding) if the request
/// hangs, if the response is not a well-formed JSON-RPC 2.0 response, or if it is an
/// internal error (-32603): jsonrpsee turns a panic inside a blocking method
/// (`eth_call`, `eth_estimateGas`) into a bare "Internal error", so that code is how a
/// swallowed panic shows up.
pub fn call(request: &str) -> Option<String> {
    let h = rpc();
    h.rt.block_on(async {
        let answer =
            tokio::time::timeout(HANG_LIMIT, h.module.raw_json_request(request, 1024)).await;
        let (resp, _subscription) = match answer {
            Err(_) => panic!("JSON-RPC request hung for {HANG_LIMIT:?}: {request}"),
            Ok(Err(_)) => return None,
            Ok(Ok(r)) => r,
        };
        let text = resp.get().to_string();
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {text}"));
        assert_eq!(v["jsonrpc"], "2.0", "not a JSON-RPC 2.0 response: {text}");
        let has_result = v.get("result").is_some();
        let error = v.get("error");
        assert!(
            has_result != error.is_some(),
            "response must have exactly one of result/error: {text}"
        );
        if let Some(e) = error {
            let code = e["code"]
                .as_i64()
                .unwrap_or_else(|| panic!("error without code: {text}"));
            assert_ne!(code, -32603, "internal error for request {request}: {text}");
        }
        Some(text)
    })
}
