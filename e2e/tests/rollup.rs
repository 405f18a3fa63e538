//! The rollup pipeline on a real L1 (anvil, started by `blink devnet`): deposits reach
//! L2, outputs finalize, and a replica that knows only L1 and the genesis derives the
//! same chain as the sequencer. Outputs carry the derivation cursor's hash the fault
//! machine computes from L1, and dispute games open through the deployed factory
//! (`outputs_carry_cursors_and_games_hold_them`).

mod common;

use alloy::{
    primitives::{Address, B256, U256},
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use bridge_contracts::{BatchInbox, L1Block, L1StandardBridge, OutputOracle, Portal, TestToken};
use common::{Sequencer, call, devnet::Devnet};
use protocol::output::output_root;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Dev account 3 of the test mnemonic (L1 deposits come from it).
const DEV_KEY_3: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";

fn hex_u64(v: &Value) -> u64 {
    v.as_str()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or_else(|| panic!("hex number expected, got {v}"))
}

fn hex_u256(v: &Value) -> U256 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("hex number expected, got {v}"))
}

/// Polls `check` every 250 ms until it returns `Some`, at most `secs` seconds.
async fn wait_for<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {secs} s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A JSON-RPC call that must succeed; its result.
async fn ok_call(url: &str, method: &str, params: Value) -> Value {
    let r = call(url, method, params).await;
    assert!(r["error"].is_null(), "{method}: {r}");
    r["result"].clone()
}

/// The newest L2 deposited transaction (type 0x7e) sent to `to`, as JSON.
async fn deposit_to(l2: &str, to: Address) -> Option<Value> {
    let head = hex_u64(&call(l2, "eth_blockNumber", json!([])).await["result"]);
    for n in (1..=head).rev() {
        let block = call(l2, "eth_getBlockByNumber", json!([format!("{n:#x}"), true])).await;
        for tx in block["result"]["transactions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if tx["type"] == "0x7e" && tx["to"] == json!(to) {
                return Some(tx.clone());
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn deposit_reaches_l2() {
    let devnet = Devnet::start("deposit", &[]).await;
    let signer: PrivateKeySigner = DEV_KEY_3.parse().expect("key");
    let l1 = ProviderBuilder::new()
        .wallet(signer.clone())
        .connect_http(devnet.l1.parse().expect("url"));

    // ETH: 1.5 ETH minted to a fresh L2 address through Portal.depositTransaction
    let recipient = Address::repeat_byte(0x7a);
    let portal = Portal::new(devnet.contract("portal"), &l1);
    let mint = U256::from(15u64) * U256::from(10u64).pow(U256::from(17));
    let receipt = portal
        .depositTransaction(recipient, mint, 100_000, false, Default::default())
        .value(mint)
        .send()
        .await
        .expect("deposit")
        .with_timeout(Some(std::time::Duration::from_secs(60)))
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status());
    let deposit_l1_block = receipt.block_number.expect("mined");
    let l2 = devnet.l2.clone();
    let balance = wait_for("ETH deposit on L2", 60, || {
        let l2 = l2.clone();
        async move {
            let b = call(&l2, "eth_getBalance", json!([recipient, "latest"])).await;
            let b = hex_u256(&b["result"]);
            (b > U256::ZERO).then_some(b)
        }
    })
    .await;
    assert_eq!(balance, mint);

    // the deposit is an OP-style deposited transaction (type 0x7e) with its receipt
    let l2_tx = wait_for("deposit transaction in an L2 block", 10, || {
        let l2 = l2.clone();
        async move { deposit_to(&l2, recipient).await }
    })
    .await;
    assert_eq!(hex_u256(&l2_tx["mint"]), mint);
    assert_eq!(
        l2_tx["from"].as_str().map(str::to_lowercase),
        Some(signer.address().to_string().to_lowercase()),
        "an EOA deposits as itself"
    );
    let receipt = call(
        &l2,
        "eth_getTransactionReceipt",
        json!([l2_tx["hash"].clone()]),
    )
    .await["result"]
        .clone();
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(receipt["type"], "0x7e");
    assert!(receipt["depositNonce"].is_string(), "{receipt}");

    // its leaf in the block's transactionsRoot commits to what L1 storage keeps:
    // keccak(0x7E ‖ Portal.depositHashes(i)), i its place in Portal's numbering (the
    // devnet's first deposit is 0); a signed transaction's leaf is its hash
    let block = call(
        &l2,
        "eth_getBlockByNumber",
        json!([receipt["blockNumber"].clone(), true]),
    )
    .await["result"]
        .clone();
    let mut next = 0u64;
    let mut leaves = Vec::new();
    for tx in block["transactions"].as_array().expect("full transactions") {
        let hash: B256 = tx["hash"]
            .as_str()
            .and_then(|h| h.parse().ok())
            .expect("hash");
        if tx["type"] == "0x7e" {
            let stored = portal
                .depositHashes(U256::from(next))
                .call()
                .await
                .expect("Portal.depositHashes");
            assert_ne!(stored, B256::ZERO, "deposit {next} stored on L1");
            leaves.push(protocol::l1::deposit_leaf(stored));
            next += 1;
        } else {
            leaves.push(hash);
        }
    }
    assert!(next >= 1, "the block holds the deposit");
    let root: B256 = block["transactionsRoot"]
        .as_str()
        .and_then(|h| h.parse().ok())
        .expect("transactionsRoot");
    assert_eq!(protocol::block::transactions_root(&leaves), root);

    // the L1Block predeploy tells L2 contracts which L1 block they build on
    let l2p = ProviderBuilder::new().connect_http(devnet.l2.parse().expect("url"));
    let l1_block = L1Block::new(bridge_contracts::predeploys::L1_BLOCK, &l2p);
    let origin = l1_block.number().call().await.expect("L1Block.number");
    assert!(
        origin >= deposit_l1_block,
        "origin {origin} at or after the deposit's L1 block {deposit_l1_block}"
    );
    let origin_hash = l1_block.hash().call().await.expect("L1Block.hash");
    let l1_origin = l1
        .get_block_by_number(origin.into())
        .await
        .expect("l1 block")
        .expect("exists");
    assert_eq!(origin_hash, l1_origin.header.hash);

    // a deposit with the largest calldata Portal accepts executes on L2 like any other
    let big = Address::repeat_byte(0x7b);
    let data = vec![0xffu8; 120_000];
    let gas = 21_000 + 40 * data.len() as u64;
    let receipt = portal
        .depositTransaction(big, U256::ZERO, gas, false, data.into())
        .send()
        .await
        .expect("big deposit")
        .with_timeout(Some(std::time::Duration::from_secs(60)))
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status(), "big deposit on L1");
    let big_tx = wait_for("big deposit on L2", 60, || {
        let l2 = l2.clone();
        async move { deposit_to(&l2, big).await }
    })
    .await;
    assert_eq!(big_tx["input"].as_str().map(str::len), Some(2 + 240_000));
    let r = call(
        &l2,
        "eth_getTransactionReceipt",
        json!([big_tx["hash"].clone()]),
    )
    .await;
    assert_eq!(r["result"]["status"], "0x1", "{}", r["result"]);

    // ERC-20: tokens locked in L1StandardBridge are minted as the paired L2 token
    let token = TestToken::deploy(&l1, "Test".into(), "TST".into(), U256::from(1_000_000u64))
        .await
        .expect("deploy token");
    let bridge = L1StandardBridge::new(devnet.contract("l1StandardBridge"), &l1);
    let l2_token = bridge
        .l2TokenFor(*token.address())
        .call()
        .await
        .expect("l2TokenFor");
    assert!(
        token
            .approve(*bridge.address(), U256::from(700u64))
            .send()
            .await
            .expect("approve")
            .with_timeout(Some(std::time::Duration::from_secs(60)))
            .get_receipt()
            .await
            .expect("receipt")
            .status()
    );
    let receipt = bridge
        .depositERC20To(
            *token.address(),
            l2_token,
            recipient,
            U256::from(700u64),
            200_000,
            Default::default(),
        )
        .send()
        .await
        .expect("depositERC20To")
        .with_timeout(Some(std::time::Duration::from_secs(60)))
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status(), "ERC-20 deposit on L1");
    let l2_erc20 = TestToken::new(l2_token, &l2p);
    let got = wait_for("ERC-20 deposit on L2", 60, || {
        let l2_erc20 = l2_erc20.clone();
        async move {
            let b = l2_erc20.balanceOf(recipient).call().await.ok()?;
            (b > U256::ZERO).then_some(b)
        }
    })
    .await;
    assert_eq!(got, U256::from(700u64));
    assert_eq!(l2_erc20.symbol().call().await.expect("symbol"), "TST");
}

#[tokio::test(flavor = "multi_thread")]
async fn outputs_finalize() {
    let devnet = Devnet::start(
        "outputs",
        &["--submission-interval", "2", "--finalization-period", "3"],
    )
    .await;
    let l1p = ProviderBuilder::new().connect_http(devnet.l1.parse().expect("url"));
    let oracle = OutputOracle::new(devnet.contract("outputOracle"), &l1p);
    let output = wait_for("output 0 finalized", 90, || {
        let oracle = oracle.clone();
        async move {
            let o = oracle.getOutput(U256::ZERO).call().await.ok()?;
            o.bondReturned.then_some(o)
        }
    })
    .await;
    assert!(
        oracle
            .isFinalized(U256::ZERO)
            .call()
            .await
            .expect("isFinalized")
    );
    assert_eq!(output.l2BlockNumber, 2);
    let l2p = ProviderBuilder::new().connect_http(devnet.l2.parse().expect("url"));
    let block = l2p
        .get_block_by_number(2u64.into())
        .await
        .expect("rpc")
        .expect("block 2");
    assert_eq!(
        output.outputRoot,
        output_root(block.header.state_root, B256::ZERO, block.header.hash)
    );
    // the block tags follow L1: finalized (an output past its window) ≤ safe (posted to
    // L1) ≤ latest
    let number = |tag: &'static str| {
        let l2 = devnet.l2.clone();
        async move {
            hex_u64(
                &call(&l2, "eth_getBlockByNumber", json!([tag, false])).await["result"]["number"],
            )
        }
    };
    // (finalized never passes safe, and the first batch may still be on its way)
    let finalized = wait_for("the finalized tag reaches output 0", 60, || {
        let n = number("finalized");
        async move { Some(n.await).filter(|f| *f >= 2) }
    })
    .await;
    let (safe, latest) = (number("safe").await, number("latest").await);
    assert!(
        finalized <= safe && safe <= latest,
        "{finalized} ≤ {safe} ≤ {latest}"
    );
    // later outputs follow every 2 blocks
    let next = wait_for("output 1 proposed", 30, || {
        let oracle = oracle.clone();
        async move { oracle.getOutput(U256::from(1)).call().await.ok() }
    })
    .await;
    assert_eq!(next.l2BlockNumber, 4);
}

/// The cursor after each L2 block `1..=last`, computed from L1 alone by the fault
/// machine's `DERIVE` (`prologue::derive_step`, one decision at a time from the genesis
/// cursor) with horizon `horizon`; `depositNext` counts the deposits (type 0x7e) of the
/// blocks. L1 is read with the sequencer's readers (blocks, deposits, records with their
/// streams); nothing of the proposer's is used.
async fn machine_cursors(
    devnet: &Devnet,
    last: u64,
    horizon: u64,
) -> Vec<protocol::fault::prologue::BlockCursor> {
    use protocol::fault::prologue::{
        BlockCursor, Derive, DeriveRules, MemoryL1, ParentInfo, derive_step,
    };
    let path = devnet.manifest["l2"]["genesis"]
        .as_str()
        .expect("genesis path");
    let genesis: protocol::Genesis =
        serde_json::from_slice(&std::fs::read(path).expect("genesis")).expect("genesis json");
    let rollup = genesis.rollup.clone().expect("rollup genesis");
    let reader = l1_reader::L1Reader::new(&devnet.l1, rollup.portal).expect("reader");
    let inbox = l1_reader::InboxReader::from_urls(&devnet.l1, Some(&devnet.l1), rollup.batch_inbox)
        .expect("inbox");
    let inputs =
        sequencer::l1_driver::inputs(&reader, &inbox, rollup.l1_genesis.number + 1, horizon)
            .await
            .expect("L1 inputs");
    let l1 = MemoryL1::new(rollup.l1_genesis, &inputs);
    let rules = DeriveRules::new(&rollup, &genesis.config);
    // (timestamp, hash, deposits) of L2 block `n`, as JSON: alloy's Ethereum types do
    // not read deposit transactions
    let block = |n: u64| {
        let l2 = devnet.l2.clone();
        async move {
            let b = ok_call(
                &l2,
                "eth_getBlockByNumber",
                json!([format!("{n:#x}"), true]),
            )
            .await;
            let hash: B256 = b["hash"].as_str().expect("hash").parse().expect("hash");
            let deposits = b["transactions"]
                .as_array()
                .expect("transactions")
                .iter()
                .filter(|t| t["type"] == "0x7e")
                .count() as u64;
            (hex_u64(&b["timestamp"]), hash, deposits)
        }
    };
    let (genesis_ts, genesis_hash, _) = block(0).await;
    let mut cursor = BlockCursor {
        record_seq: 0,
        record_pos: 0,
        deposit_next: rollup.first_deposit_index,
        l1_origin: rollup.l1_genesis.number,
    };
    let mut parent = ParentInfo {
        number: 0,
        timestamp: genesis_ts,
        hash: genesis_hash,
        cursor,
        horizon,
        ..Default::default()
    };
    let mut out = Vec::new();
    while parent.number < last {
        let n = parent.number + 1;
        let (mut seq, mut pos) = (cursor.record_seq, cursor.record_pos);
        let taken = loop {
            match derive_step(&parent, seq, pos, &l1, &rules).expect("derive") {
                Derive::Skip { .. } => (seq, pos) = (seq + 1, 0),
                Derive::Take(t) => break t,
                Derive::NoOutput => panic!("block {n} does not derive by L1 block {horizon}"),
            }
        };
        let (timestamp, hash, deposits) = block(n).await;
        assert_eq!(taken.env.timestamp, timestamp, "block {n}");
        cursor = BlockCursor {
            record_seq: taken.env.next_record_seq,
            record_pos: taken.env.next_record_pos,
            deposit_next: cursor.deposit_next + deposits,
            l1_origin: taken.env.l1_origin_number,
        };
        out.push(cursor);
        parent = ParentInfo {
            number: n,
            timestamp,
            hash,
            cursor,
            horizon,
            ..Default::default()
        };
    }
    out
}

/// The challenger library's honest chain over a devnet's L1, with the readers it follows
/// L1 through, the devnet's outputs and its game's shape.
struct HonestView {
    honest: challenger::chain::Honest,
    reader: l1_reader::L1Reader,
    inbox: l1_reader::InboxReader,
    outputs: challenger::outputs::Outputs<alloy::providers::DynProvider>,
    shape: protocol::fault::game::GameShape,
}

impl HonestView {
    fn new(devnet: &Devnet) -> Self {
        let path = devnet.manifest["l2"]["genesis"]
            .as_str()
            .expect("genesis path");
        let genesis: protocol::Genesis =
            serde_json::from_slice(&std::fs::read(path).expect("genesis")).expect("genesis json");
        let rollup = genesis.rollup.clone().expect("rollup genesis");
        let l1p = ProviderBuilder::new()
            .connect_http(devnet.l1.parse().expect("url"))
            .erased();
        let game = &devnet.manifest["game"];
        let depth = |k: &str| game[k].as_u64().expect("depth") as u8;
        Self {
            honest: challenger::chain::Honest::new(&genesis).expect("honest chain"),
            reader: l1_reader::L1Reader::new(&devnet.l1, rollup.portal).expect("reader"),
            inbox: l1_reader::InboxReader::from_urls(
                &devnet.l1,
                Some(&devnet.l1),
                rollup.batch_inbox,
            )
            .expect("inbox"),
            outputs: challenger::outputs::Outputs::new(devnet.contract("outputOracle"), l1p),
            shape: protocol::fault::game::GameShape::new(
                depth("blockDepth"),
                depth("unitDepth"),
                depth("stepDepth"),
            )
            .expect("shape"),
        }
    }

    /// Reads L1 up to `l1_block` (bounded: the devnet's L1 is short).
    async fn read_to(&mut self, l1_block: u64) {
        for _ in 0..1_000 {
            if self.honest.l1_head().is_some_and(|h| h >= l1_block) {
                break;
            }
            self.honest
                .follow(&self.reader, &self.inbox, 0, 500)
                .await
                .expect("follow L1");
        }
    }
}

/// `challenger::chain::Honest` on the devnet's L1: every output `0..count` judged
/// `Agree` in order (each anchored on the one before), each changed root `Disagree`.
async fn challenger_agrees(devnet: &Devnet, count: u64) {
    use challenger::outputs::Verdict;
    let mut v = HonestView::new(devnet);
    let shape = v.shape;
    let mut anchor = 0;
    let started = std::time::Instant::now();
    for i in 0..count {
        let output = v.outputs.get(i).await.expect("output");
        v.read_to(output.l1_block).await;
        let mut changed = output.clone();
        changed.root.0[0] ^= 1;
        let (verdict, _) = v.honest.check(&changed, anchor, shape).expect("check");
        assert_eq!(verdict, Verdict::Disagree, "output {i} changed");
        let (verdict, trace) = v.honest.check(&output, anchor, shape).expect("check");
        assert_eq!(
            verdict,
            Verdict::Agree,
            "output {i} (block {})",
            output.l2_block
        );
        assert_eq!(trace.expect("trace").root_claim(), output.claim());
        anchor = output.l2_block;
    }
    eprintln!(
        "challenger: {count} outputs ({anchor} blocks) judged from L1 in {:?}",
        started.elapsed()
    );
}

/// Outputs carry `keccak(BlockCursor)` after their block, equal to the cursor the fault
/// machine's `DERIVE` computes from L1 (with a deposit, so `depositNext` moves); a game
/// opens through the deployed `DisputeGameFactory` against an output in its window with
/// the factory's bond, marks it disputed, and keeps it from finalizing past its window;
/// a game against a final output reverts `OutputAlreadyFinal`.
#[tokio::test(flavor = "multi_thread")]
async fn outputs_carry_cursors_and_games_hold_them() {
    use bridge_contracts::DisputeGameFactory::{self, DisputeGameFactoryErrors};
    // no challenger: the game below is left open to show the oracle holds the output (the
    // devnet's challenger would defend it and lift the dispute)
    let devnet = Devnet::start(
        "games",
        &[
            "--submission-interval",
            "3",
            "--finalization-period",
            "15",
            "--no-challenger",
        ],
    )
    .await;
    assert_eq!(devnet.manifest["game"]["blockDepth"], 2, "2^2 ≥ 3 blocks");
    assert_eq!(
        devnet.manifest["game"]["maxClockDuration"], 7,
        "below half the window"
    );
    deposit_and_wait(&devnet, Address::repeat_byte(0x44), 7).await;
    let l1p = ProviderBuilder::new().connect_http(devnet.l1.parse().expect("url"));
    let oracle = OutputOracle::new(devnet.contract("outputOracle"), &l1p);
    let factory_addr = devnet.contract("disputeGameFactory");
    assert_eq!(
        oracle.CHALLENGER().call().await.expect("CHALLENGER"),
        factory_addr
    );
    // (a) cursors: the outputs up to one past the deposit's block
    // the block that holds the deposit, once sealed
    let deposit = wait_for("the deposit in a sealed block", 30, || {
        let l2 = devnet.l2.clone();
        async move { deposit_to(&l2, Address::repeat_byte(0x44)).await }
    })
    .await;
    let deposit_block = hex_u64(&deposit["blockNumber"]);
    let count = deposit_block / 3 + 1;
    wait_for("outputs past the deposit", 90, || {
        let oracle = oracle.clone();
        async move {
            let n = oracle.nextOutputIndex().call().await.ok()?;
            (n >= U256::from(count)).then_some(())
        }
    })
    .await;
    let last = oracle
        .getOutput(U256::from(count - 1))
        .call()
        .await
        .expect("output");
    let cursors = machine_cursors(&devnet, last.l2BlockNumber, last.l1Block).await;
    assert!(
        cursors.last().expect("cursors").deposit_next > 0,
        "the deposit moved the cursor"
    );
    for i in 0..count {
        let o = oracle
            .getOutput(U256::from(i))
            .call()
            .await
            .expect("output");
        let cursor = cursors[o.l2BlockNumber as usize - 1];
        assert_eq!(
            oracle
                .cursorHash(U256::from(i))
                .call()
                .await
                .expect("cursorHash"),
            cursor.hash(),
            "output {i} (block {}): {cursor:?}",
            o.l2BlockNumber
        );
    }
    // (c) the challenger's honest chain, re-derived from L1 alone by the machine, agrees
    // with every output, and disagrees with each one changed
    challenger_agrees(&devnet, count).await;
    // (b) games: output 0 finalizes (window 15 s); then a game against it reverts
    wait_for("output 0 final", 60, || {
        let oracle = oracle.clone();
        async move {
            oracle
                .isFinalized(U256::ZERO)
                .call()
                .await
                .ok()?
                .then_some(())
        }
    })
    .await;
    let key: PrivateKeySigner = devnet.manifest["accounts"][4]["privateKey"]
        .as_str()
        .expect("key")
        .parse()
        .expect("key");
    let l1w = ProviderBuilder::new()
        .wallet(key)
        .connect_http(devnet.l1.parse().expect("url"));
    let factory = DisputeGameFactory::new(factory_addr, &l1w);
    let bond = factory.bondAtFirstMove().call().await.expect("bond");
    assert_eq!(
        bond,
        devnet.manifest["game"]["bond"]
            .as_str()
            .expect("bond")
            .parse::<U256>()
            .expect("bond")
    );
    assert_eq!(
        bond,
        U256::from(75_000_000_000_000_000u64),
        "1.5M gas at 50 gwei"
    );
    let claim = B256::repeat_byte(0xc1);
    let err = factory
        .create(U256::ZERO, claim)
        .value(bond)
        .call()
        .await
        .expect_err("a final output");
    assert!(
        matches!(
            err.as_decoded_interface_error::<DisputeGameFactoryErrors>(),
            Some(DisputeGameFactoryErrors::OutputAlreadyFinal(_))
        ),
        "{err}"
    );
    // the newest output, still in its window
    let index = oracle.latestOutputIndex().call().await.expect("latest");
    assert!(!oracle.isFinalized(index).call().await.expect("isFinalized"));
    let receipt = factory
        .create(index, claim)
        .value(bond)
        .send()
        .await
        .expect("create")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status(), "create");
    assert_eq!(
        factory.gameCount().call().await.expect("count"),
        U256::from(1)
    );
    assert_eq!(
        oracle.firstDisputed().call().await.expect("firstDisputed"),
        index
    );
    let output = oracle.getOutput(index).call().await.expect("output");
    // past its window the disputed output is still not final, and cannot be finalized
    wait_for("the disputed output's window passes", 60, || {
        let l1p = l1p.clone();
        async move {
            let b = l1p.get_block_by_number(Default::default()).await.ok()??;
            (b.header.timestamp >= output.timestamp + 15).then_some(())
        }
    })
    .await;
    assert!(!oracle.isFinalized(index).call().await.expect("isFinalized"));
    assert!(
        !oracle
            .getOutput(index)
            .call()
            .await
            .expect("output")
            .bondReturned
    );
    let err = oracle
        .finalize(index)
        .call()
        .await
        .expect_err("under dispute");
    assert!(
        matches!(
            err.as_decoded_interface_error::<OutputOracle::OutputOracleErrors>(),
            Some(OutputOracle::OutputOracleErrors::OutputUnderDispute(_))
        ),
        "{err}"
    );
    // the proposer goes on proposing after it
    let next = index + U256::from(1);
    wait_for("an output after the disputed one", 60, || {
        let oracle = oracle.clone();
        async move { (oracle.nextOutputIndex().call().await.ok()? > next).then_some(()) }
    })
    .await;
}

/// Deposits `amount` wei to `to` through `Portal` (minted to dev account 3 on L2 and
/// sent on to `to`), and waits until `to` holds exactly `amount` on L2.
async fn deposit_and_wait(devnet: &Devnet, to: Address, amount: u64) {
    let l1 = ProviderBuilder::new()
        .wallet(DEV_KEY_3.parse::<PrivateKeySigner>().expect("key"))
        .connect_http(devnet.l1.parse().expect("url"));
    let portal = Portal::new(devnet.contract("portal"), &l1);
    let receipt = portal
        .depositTransaction(to, U256::from(amount), 100_000, false, Default::default())
        .value(U256::from(amount))
        .send()
        .await
        .expect("deposit")
        .with_timeout(Some(std::time::Duration::from_secs(60)))
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status(), "deposit on L1");
    let l2 = devnet.l2.clone();
    wait_for("deposit on L2", 60, || {
        let l2 = l2.clone();
        async move {
            let b = call(&l2, "eth_getBalance", json!([to, "latest"])).await;
            (hex_u256(&b["result"]) == U256::from(amount)).then_some(())
        }
    })
    .await;
}

/// Starts a replica from the devnet's manifest alone and checks that it derives blocks
/// 1..=target with the sequencer's state roots, hashes and transactions.
async fn replica_matches(devnet: &Devnet, target: u64) -> Sequencer {
    let replica = spawn_replica(devnet);
    same_chain(devnet, &replica, target).await;
    replica
}

/// A replica with nothing but the devnet's manifest (L1 endpoints and the genesis).
fn spawn_replica(devnet: &Devnet) -> Sequencer {
    let manifest = devnet.dir.join("devnet.json");
    Sequencer::spawn(&[
        "--replica",
        "--manifest",
        manifest.to_str().expect("utf-8"),
        "--metrics-port",
        "0",
    ])
}

/// Waits for `replica` to reach block `target`, then checks blocks 1..=target against
/// the sequencer's.
async fn same_chain(devnet: &Devnet, replica: &Sequencer, target: u64) {
    let l2 = devnet.l2.clone();
    let rep = replica.http.clone();
    wait_for("replica reaches the sequencer's block", 90, || {
        let rep = rep.clone();
        async move {
            let n = hex_u64(&call(&rep, "eth_blockNumber", json!([])).await["result"]);
            (n >= target).then_some(())
        }
    })
    .await;
    for n in 1..=target {
        let tag = format!("{n:#x}");
        let a = call(&l2, "eth_getBlockByNumber", json!([tag, false])).await["result"].clone();
        let b = call(&rep, "eth_getBlockByNumber", json!([tag, false])).await["result"].clone();
        assert_eq!(a["stateRoot"], b["stateRoot"], "state root of block {n}");
        assert_eq!(a["hash"], b["hash"], "hash of block {n}");
        assert_eq!(
            a["transactions"], b["transactions"],
            "transactions of block {n}"
        );
    }
    // every batch named the parent the replica computed
    let metrics = replica.metrics.clone().expect("replica metrics");
    assert_eq!(
        metric(&metrics, "blink_batch_parent_mismatches_total").await,
        0,
        "batches name the parents the replica computed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn replica_matches_sequencer() {
    let devnet = Devnet::start("replica", &[]).await;
    // some traffic: L2 transfers and an L1 deposit
    for i in 0..5u64 {
        common::transfer(&devnet.l2, Address::repeat_byte(0x42), i + 1).await;
    }
    deposit_and_wait(&devnet, Address::repeat_byte(0x43), 5).await;
    let l2 = devnet.l2.clone();
    // the sequencer key posts garbage to the inbox (a buggy batcher): derivation skips it
    let seq_key = PrivateKeySigner::from_bytes(&B256::from(sequencer::dev::dev_sequencer_key()))
        .expect("key");
    let l1_seq = ProviderBuilder::new()
        .wallet(seq_key)
        .connect_http(devnet.l1.parse().expect("url"));
    let inbox = BatchInbox::new(devnet.contract("batchInbox"), &l1_seq);
    let mut posted = false;
    for _ in 0..10 {
        // the batcher shares the key (the inbox takes only it): a nonce race is retried
        // a high tip, so a batcher post at the same nonce cannot replace it
        if let Ok(pending) = inbox
            .submit(
                b"\x01not a batch".to_vec().into(),
                1,
                1,
                B256::ZERO,
                B256::ZERO,
            )
            .max_priority_fee_per_gas(100_000_000_000)
            .max_fee_per_gas(200_000_000_000)
            .send()
            .await
            // the batcher's own transaction may replace this one: never wait forever
            && let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(30), pending.get_receipt()).await
            && r.status()
        {
            posted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(posted, "garbage batch posted");
    let target = hex_u64(&call(&l2, "eth_blockNumber", json!([])).await["result"]);

    let replica = replica_matches(&devnet, target).await;
    let rep = replica.http.clone();
    let bal = call(
        &rep,
        "eth_getBalance",
        json!([Address::repeat_byte(0x42), "latest"]),
    )
    .await;
    assert_eq!(hex_u256(&bal["result"]), U256::from(15u64));
    // the garbage was seen and skipped
    let metrics = reqwest::get(replica.metrics.clone().expect("metrics url"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let skipped = metrics
        .lines()
        .find_map(|l| l.strip_prefix("blink_batches_skipped_total "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .expect("blink_batches_skipped_total");
    assert!(skipped >= 1, "{metrics}");
    // a replica refuses transactions
    let refused = call(&rep, "eth_sendRawTransaction", json!(["0x00"])).await;
    assert!(refused["error"].is_object(), "{refused}");
}

/// L1 unreachable: the sequencer keeps pre-confirming; when L1 is back the batcher and
/// the L1 follower catch up and a replica derives exactly the sequencer's chain.
#[tokio::test(flavor = "multi_thread")]
async fn l1_outage_does_not_stop_the_sequencer() {
    let devnet = Devnet::start("outage", &[]).await;
    let pid = std::process::Command::new("pgrep")
        .args(["-f", &format!("anvil --port {} ", devnet.l1_port)])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&pid.stdout)
        .lines()
        .next()
        .expect("anvil pid")
        .trim()
        .to_string();
    // freeze L1: connections hang, as with a node that stopped answering
    let frozen = Frozen::stop(pid);
    for i in 0..5u64 {
        let sent = common::transfer(&devnet.l2, Address::repeat_byte(0x44), i + 1);
        tokio::time::timeout(Duration::from_secs(5), sent)
            .await
            .expect("pre-confirmed while L1 is down");
    }
    tokio::time::sleep(Duration::from_secs(8)).await;
    drop(frozen);
    let target = hex_u64(&call(&devnet.l2, "eth_blockNumber", json!([])).await["result"]);
    let _replica = replica_matches(&devnet, target).await;
}

/// A process stopped with SIGSTOP, continued (SIGCONT) on drop, so a failed test never
/// leaves anvil frozen.
struct Frozen(String);

impl Frozen {
    fn stop(pid: String) -> Self {
        let status = std::process::Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .expect("kill");
        assert!(status.success(), "SIGSTOP {pid}");
        Self(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-CONT", &self.0])
            .status();
    }
}

/// An L1 reorg shallower than the confirmation depth: a deposit whose block is
/// reorganized away reaches L2 exactly as the canonical L1 has it (once if it was mined
/// again, never if it was dropped), and the replica agrees.
#[tokio::test(flavor = "multi_thread")]
async fn l1_reorg_below_confirmations_is_invisible() {
    let devnet = Devnet::start("reorg", &[]).await;
    let step = Duration::from_secs(30);
    let l1 = ProviderBuilder::new()
        .wallet(DEV_KEY_3.parse::<PrivateKeySigner>().expect("key"))
        .connect_http(devnet.l1.parse().expect("url"));
    let portal = Portal::new(devnet.contract("portal"), &l1);
    let moved = Address::repeat_byte(0x51);
    // mine by hand so the reorg lands before the deposit is two blocks deep
    let rpc = |method: &'static str, params: Value| ok_call(&devnet.l1, method, params);
    rpc("anvil_setIntervalMining", json!([0])).await;
    let resume_mining = IntervalMining(devnet.l1.clone());
    let pending = tokio::time::timeout(
        step,
        portal
            .depositTransaction(moved, U256::from(9u64), 100_000, false, Default::default())
            .value(U256::from(9u64))
            .send(),
    )
    .await
    .expect("send in time")
    .expect("deposit");
    let tx_hash = *pending.tx_hash();
    rpc("evm_mine", json!([])).await;
    let receipt = rpc("eth_getTransactionReceipt", json!([tx_hash])).await;
    let mined_in = hex_u64(&receipt["blockNumber"]);
    assert_eq!(
        hex_u64(&rpc("eth_blockNumber", json!([])).await),
        mined_in,
        "the deposit is in the head block"
    );
    rpc("anvil_reorg", json!([1, []])).await;
    let block_now = rpc(
        "eth_getBlockByNumber",
        json!([format!("{mined_in:#x}"), false]),
    )
    .await;
    assert_ne!(
        block_now["hash"], receipt["blockHash"],
        "block {mined_in} was replaced"
    );
    drop(resume_mining);
    // give the (possibly re-mined) deposit time to be confirmed and included
    tokio::time::sleep(Duration::from_secs(6)).await;
    let canonical = l1.get_transaction_receipt(tx_hash).await.expect("rpc");
    let expected = if canonical.is_some() { 9u64 } else { 0 };
    let l2 = devnet.l2.clone();
    wait_for("L2 follows the canonical L1", 60, || {
        let l2 = l2.clone();
        async move {
            let b = call(&l2, "eth_getBalance", json!([moved, "latest"])).await;
            (hex_u256(&b["result"]) == U256::from(expected)).then_some(())
        }
    })
    .await;
    let target = hex_u64(&call(&l2, "eth_blockNumber", json!([])).await["result"]);
    let _replica = replica_matches(&devnet, target).await;
    // once more, nothing changed: the deposit was not included twice
    let b = call(&l2, "eth_getBalance", json!([moved, "latest"])).await;
    assert_eq!(hex_u256(&b["result"]), U256::from(expected));
}

/// Turns anvil's 1 s interval mining back on when dropped.
struct IntervalMining(String);

impl Drop for IntervalMining {
    fn drop(&mut self) {
        let url = self.0.clone();
        // a plain blocking request: drop may run outside the runtime's async context
        let _ = std::thread::spawn(move || {
            let body =
                json!({"jsonrpc":"2.0","id":1,"method":"anvil_setIntervalMining","params":[1]});
            let _ = std::process::Command::new("curl")
                .args([
                    "-s",
                    "-X",
                    "POST",
                    "-H",
                    "content-type: application/json",
                    "--data",
                ])
                .arg(body.to_string())
                .arg(&url)
                .output();
        })
        .join();
    }
}

/// anvil restarted (its state kept on disk): the sequencer keeps pre-confirming while L1
/// is gone, then the batcher, the proposer and the L1 follower resume where L1 stands,
/// deposits flow again, and a replica derives exactly the sequencer's chain.
#[tokio::test(flavor = "multi_thread")]
async fn l1_restart_loses_and_repeats_nothing() {
    let devnet = Devnet::start("l1restart", &[]).await;
    let l2 = devnet.l2.clone();
    let send = |i: u64| {
        let l2 = l2.clone();
        async move {
            let sent = common::transfer(&l2, Address::repeat_byte(0x46), i);
            tokio::time::timeout(Duration::from_secs(5), sent)
                .await
                .expect("pre-confirmed");
        }
    };
    send(1).await;
    // stop anvil (it writes its state on exit) and start it again with the same flags
    let out = std::process::Command::new("pgrep")
        .args(["-f", &format!("anvil --port {} ", devnet.l1_port)])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .expect("anvil pid")
        .trim()
        .to_string();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
    let argv: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert!(
        std::process::Command::new("kill")
            .arg(&pid)
            .status()
            .expect("kill")
            .success()
    );
    let down = Instant::now();
    // gone once it no longer runs (it stays a zombie of `blink devnet` until reaped)
    let running = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
    };
    while running() {
        assert!(
            down.elapsed() < Duration::from_secs(10),
            "anvil did not stop"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // L1 is gone: L2 goes on
    for i in 2..=4 {
        send(i).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let anvil = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(common::repo_root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("restart anvil");
    let _anvil = KillOnDrop(anvil);
    let l1 = devnet.l1.clone();
    wait_for("anvil answers again", 30, || {
        let l1 = l1.clone();
        async move {
            let r = reqwest::Client::new()
                .post(&l1)
                .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}))
                .send()
                .await
                .ok()?;
            r.status().is_success().then_some(())
        }
    })
    .await;
    send(5).await;
    // a deposit after the restart reaches L2
    deposit_and_wait(&devnet, Address::repeat_byte(0x47), 3).await;
    let l2 = devnet.l2.clone();
    let target = hex_u64(&call(&l2, "eth_blockNumber", json!([])).await["result"]);
    let replica = replica_matches(&devnet, target).await;
    let bal = call(
        &replica.http,
        "eth_getBalance",
        json!([Address::repeat_byte(0x46), "latest"]),
    )
    .await;
    assert_eq!(hex_u256(&bal["result"]), U256::from(15u64));
}

/// Kills a child process when dropped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// EVM code of a contract that calls `Portal` `N` times with the same calldata: the
/// transaction's calldata is `N` (32 bytes) followed by the call's calldata.
fn flood_contract(portal: Address) -> Vec<u8> {
    let mut rt = vec![
        0x60, 0x20, 0x36, 0x03, // L = CALLDATASIZE - 32
        0x80, 0x60, 0x20, 0x60, 0x00, 0x37, // CALLDATACOPY(0, 32, L)
        0x60, 0x00, 0x35, // N = CALLDATALOAD(0)
        0x5b, // loop (13):
        0x80, 0x15, 0x61, 0x00, 0x00, 0x57, // DUP1 ISZERO PUSH2 end JUMPI (end patched)
        0x60, 0x00, 0x60, 0x00, 0x83, 0x60, 0x00, 0x60, 0x00, // ret 0,0; args L at 0; value 0
        0x73, // PUSH20 portal
    ];
    rt.extend_from_slice(portal.as_slice());
    rt.extend_from_slice(&[
        0x5a, 0xf1, 0x50, // GAS CALL POP
        0x60, 0x01, 0x90, 0x03, // N = N - 1
        0x61, 0x00, 0x0d, 0x56, // PUSH2 loop JUMP
    ]);
    let end = rt.len() as u16;
    rt.extend_from_slice(&[0x5b, 0x00]); // end: JUMPDEST STOP
    rt[17..19].copy_from_slice(&end.to_be_bytes());
    // init code: return the runtime
    let mut init = vec![0x61];
    init.extend_from_slice(&(rt.len() as u16).to_be_bytes());
    init.extend_from_slice(&[0x80, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3]);
    assert_eq!(init.len(), 0x0c);
    init.extend_from_slice(&rt);
    init
}

/// Hundreds of deposits from one L1 transaction (an L1 contract looping
/// `depositTransaction`), more deposit gas than one L2 block takes: pre-confirmations go
/// on while they land, every deposit arrives (the rest carried to the next block), and a
/// replica derives the same chain.
#[tokio::test(flavor = "multi_thread")]
async fn deposit_flood_does_not_stall() {
    use alloy::{network::TransactionBuilder, rpc::types::TransactionRequest, sol_types::SolCall};
    let devnet = Devnet::start("flood", &["--max-deposit-gas", "16777216"]).await;
    let l1 = ProviderBuilder::new()
        .wallet(DEV_KEY_3.parse::<PrivateKeySigner>().expect("key"))
        .connect_http(devnet.l1.parse().expect("url"));
    let portal = devnet.contract("portal");
    let deploy = l1
        .send_transaction(
            TransactionRequest::default()
                .into_create()
                .input(flood_contract(portal).into()),
        )
        .await
        .expect("deploy flood")
        .with_timeout(Some(Duration::from_secs(60)))
        .get_receipt()
        .await
        .expect("receipt");
    let flood = deploy.contract_address.expect("flood contract");
    const N: u64 = 150;
    const GAS: u64 = 120_000;
    let call_data = Portal::depositTransactionCall {
        _to: Address::repeat_byte(0x61),
        _value: U256::ZERO,
        _gasLimit: GAS,
        _isCreation: false,
        _data: Default::default(),
    }
    .abi_encode();
    let mut input = U256::from(N).to_be_bytes::<32>().to_vec();
    input.extend_from_slice(&call_data);
    let receipt = l1
        .send_transaction(
            TransactionRequest::default()
                .to(flood)
                .input(input.into())
                .gas_limit(29_000_000),
        )
        .await
        .expect("flood")
        .with_timeout(Some(Duration::from_secs(60)))
        .get_receipt()
        .await
        .expect("flood receipt");
    assert!(receipt.status(), "flood on L1");
    let deposited = receipt
        .inner
        .logs()
        .iter()
        .filter(|l| l.address() == portal)
        .count() as u64;
    assert_eq!(
        deposited, N,
        "every deposit accepted on L1 (gas {})",
        receipt.gas_used
    );
    // pre-confirmations go on while the deposits land
    for i in 0..30u64 {
        common::transfer(&devnet.l2, Address::repeat_byte(0x62), i + 1).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // every deposit arrives: the aliased sender's nonce counts them
    // the L2 alias of an L1 contract: address + 0x1111…1111 (mod 2^160)
    let offset = U256::from_be_slice(&alloy::primitives::hex!(
        "1111000000000000000000000000000000001111"
    ));
    let aliased = Address::from_word(B256::from(
        U256::from_be_slice(flood.as_slice()).wrapping_add(offset),
    ));
    let l2 = devnet.l2.clone();
    wait_for("every deposit on L2", 90, || {
        let l2 = l2.clone();
        async move {
            let n = call(&l2, "eth_getTransactionCount", json!([aliased, "latest"])).await;
            (hex_u64(&n["result"]) == N).then_some(())
        }
    })
    .await;
    // carried over: more than one L2 block holds them
    // the last of them may still be in the open block: wait until it is committed
    let now = hex_u64(&call(&l2, "eth_blockNumber", json!([])).await["result"]);
    let head = wait_for("two more blocks", 30, || {
        let l2 = l2.clone();
        async move {
            let n = hex_u64(&call(&l2, "eth_blockNumber", json!([])).await["result"]);
            (n >= now + 2).then_some(n)
        }
    })
    .await;
    let mut holders = 0;
    for n in 1..=head {
        let b = call(
            &l2,
            "eth_getBlockByNumber",
            json!([format!("{n:#x}"), true]),
        )
        .await;
        if b["result"]["transactions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["type"] == "0x7e" && t["from"] == json!(aliased))
        {
            holders += 1;
        }
    }
    assert!(
        holders >= 2,
        "deposits above the block's deposit gas carry over: {holders} of {head} blocks hold them"
    );
    let target = hex_u64(&call(&l2, "eth_blockNumber", json!([])).await["result"]);
    replica_matches(&devnet, target).await;
}

/// The L1 data fee on a real devnet: an L2 transfer's receipt carries OP's L1 fee fields,
/// its `l1Fee` equals `GasPriceOracle.getL1Fee(unsigned tx)` called through `eth_call`
/// under the same L1 prices, the L1 fee vault grows by exactly that, and the sender pays
/// `gasUsed * effectiveGasPrice + value + l1Fee`. The L1 prices in the receipt are the
/// origin's header values (base fee, blob base fee from `excessBlobGas`).
#[tokio::test(flavor = "multi_thread")]
async fn l1_fee_charged_and_estimated() {
    use alloy::{
        consensus::{SignableTransaction, TxEip1559, TxEnvelope},
        eips::eip2718::Encodable2718,
        network::TxSignerSync,
        primitives::{Bytes, TxKind},
        sol_types::SolCall,
    };
    use bridge_contracts::{GasPriceOracle, predeploys};

    let devnet = Devnet::start("l1fee", &[]).await;
    let l2 = devnet.l2.clone();
    let signer: PrivateKeySigner = DEV_KEY_3.parse().expect("key");
    let me = signer.address();
    let to = Address::repeat_byte(0x1f);
    let value = 12_345u64;
    let chain_id = hex_u64(&call(&l2, "eth_chainId", json!([])).await["result"]);
    let balance = |who: Address| {
        let l2 = l2.clone();
        async move { hex_u256(&call(&l2, "eth_getBalance", json!([who, "pending"])).await["result"]) }
    };
    let oracle = |data: Vec<u8>| {
        let l2 = l2.clone();
        async move { oracle_call(&l2, predeploys::GAS_PRICE_ORACLE, data).await }
    };
    // the oracle and the receipt must be compared under the same L1 origin; the origin
    // moves every L1 block, so a transfer whose block's origin moved on before the
    // oracle was read is tried again
    for attempt in 0..8 {
        let nonce =
            hex_u64(&call(&l2, "eth_getTransactionCount", json!([me, "pending"])).await["result"]);
        let mut tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit: 30_000,
            max_fee_per_gas: 1_000_000_000,
            max_priority_fee_per_gas: 1_000,
            to: TxKind::Call(to),
            value: U256::from(value),
            // non-zero and zero bytes: both cost 16 L1 gas
            input: Bytes::from(vec![0, 1, 0, 2, 0, 0, 3]),
            ..Default::default()
        };
        let mut unsigned = Vec::new();
        tx.encode_for_signing(&mut unsigned);
        let sig = signer.sign_transaction_sync(&mut tx).expect("sign");
        let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
        let (vault_before, me_before) =
            (balance(predeploys::L1_FEE_VAULT).await, balance(me).await);
        let r = call(&l2, "eth_sendRawTransactionSync", json!([Bytes::from(raw)])).await;
        let receipt = r["result"].clone();
        assert_eq!(receipt["status"], "0x1", "transfer failed: {r}");
        let l1_fee = hex_u256(&receipt["l1Fee"]);
        let gas_used = hex_u64(&receipt["gasUsed"]);
        let price = hex_u256(&receipt["effectiveGasPrice"]);
        assert!(l1_fee > U256::ZERO, "an L1 fee is charged: {receipt}");
        assert_eq!(
            hex_u64(&receipt["l1GasUsed"]),
            (unsigned.len() as u64 + 68) * 16
        );
        assert_eq!(hex_u64(&receipt["l1BaseFeeScalar"]), 1_368);
        assert_eq!(hex_u64(&receipt["l1BlobBaseFeeScalar"]), 810_949);
        // the money moved exactly (nothing else pays L1 fees on this devnet)
        assert_eq!(
            balance(predeploys::L1_FEE_VAULT).await - vault_before,
            l1_fee,
            "vault grew by l1Fee"
        );
        assert_eq!(
            me_before - balance(me).await,
            U256::from(gas_used) * price + U256::from(value) + l1_fee,
            "sender paid gas * price + value + l1Fee"
        );
        // the oracle's view, read while the block may still be open; read the origin
        // before and after, and compare only when it did not move in between
        let before = origin_view(&l2).await;
        let estimated = oracle(
            GasPriceOracle::getL1FeeCall {
                _data: unsigned.clone().into(),
            }
            .abi_encode(),
        )
        .await;
        let bound = oracle(
            GasPriceOracle::getL1FeeUpperBoundCall {
                _unsignedTxSize: U256::from(unsigned.len()),
            }
            .abi_encode(),
        )
        .await;
        let after = origin_view(&l2).await;
        let (l1_base_fee, blob_base_fee, origin_number) = before;
        if before != after
            || l1_base_fee != hex_u256(&receipt["l1GasPrice"])
            || blob_base_fee != hex_u256(&receipt["l1BlobBaseFee"])
        {
            eprintln!("attempt {attempt}: the L1 origin moved between receipt and oracle read");
            continue;
        }
        assert_eq!(
            estimated, l1_fee,
            "GasPriceOracle.getL1Fee == receipt l1Fee"
        );
        assert_eq!(bound, l1_fee, "getL1FeeUpperBound of the unsigned size");
        // the L1 prices are the origin header's
        let header = call(
            &devnet.l1,
            "eth_getBlockByNumber",
            json!([format!("{:#x}", origin_number.to::<u64>()), false]),
        )
        .await["result"]
            .clone();
        assert_eq!(hex_u256(&header["baseFeePerGas"]), l1_base_fee);
        let excess = header["excessBlobGas"]
            .as_str()
            .map(|_| hex_u64(&header["excessBlobGas"]));
        assert_eq!(
            U256::from(protocol::l1::blob_base_fee(excess)),
            blob_base_fee,
            "blob base fee from the origin's excessBlobGas"
        );
        return;
    }
    panic!("the L1 origin moved on every attempt");
}

/// A one-word answer of `eth_call` to `to` on L2 at `pending`.
async fn oracle_call(l2: &str, to: Address, data: Vec<u8>) -> U256 {
    let out = call(
        l2,
        "eth_call",
        json!([{"to": to, "data": alloy::primitives::Bytes::from(data)}, "pending"]),
    )
    .await;
    hex_u256(&out["result"])
}

/// The L1 origin as the open block sees it: (base fee, blob base fee, number), through
/// `GasPriceOracle` and `L1Block`.
async fn origin_view(l2: &str) -> (U256, U256, U256) {
    use alloy::sol_types::SolCall;
    use bridge_contracts::{GasPriceOracle, predeploys};
    (
        oracle_call(
            l2,
            predeploys::GAS_PRICE_ORACLE,
            GasPriceOracle::l1BaseFeeCall {}.abi_encode(),
        )
        .await,
        oracle_call(
            l2,
            predeploys::GAS_PRICE_ORACLE,
            GasPriceOracle::blobBaseFeeCall {}.abi_encode(),
        )
        .await,
        oracle_call(
            l2,
            predeploys::L1_BLOCK,
            L1Block::numberCall {}.abi_encode(),
        )
        .await,
    )
}

/// An L1 reorg deeper than the confirmation depth: the L1 blocks the sequencer took as
/// origins (and a deposit it had minted) are replaced. The sequencer rolls L2 back to
/// the newest block whose origin L1 still has, sequences the dropped blocks' transfers
/// again on the new L1, reports the broken pre-confirmations, keeps pre-confirming, and
/// the batcher posts the rebuilt chain, which a replica derives exactly.
#[tokio::test(flavor = "multi_thread")]
async fn deep_l1_reorg_keeps_going() {
    let devnet = Devnet::start("deep-reorg", &[]).await;
    let l2 = devnet.l2.clone();
    let rpc = |method: &'static str, params: Value| ok_call(&devnet.l1, method, params);
    // L2 has built on a few L1 blocks first
    wait_for("the L2 origin moves", 60, || {
        let l2 = l2.clone();
        async move {
            let n = hex_u64(&call(&l2, "eth_blockNumber", json!([])).await["result"]);
            (n >= 4).then_some(())
        }
    })
    .await;
    // a replica that lives through the reorg
    let replica = spawn_replica(&devnet);
    // L1 mined by hand from here, so the reorg lands exactly where it should
    rpc("anvil_setIntervalMining", json!([0])).await;
    let resume_mining = IntervalMining(devnet.l1.clone());
    let moved = Address::repeat_byte(0x61);
    let l1 = ProviderBuilder::new()
        .wallet(DEV_KEY_3.parse::<PrivateKeySigner>().expect("key"))
        .connect_http(devnet.l1.parse().expect("url"));
    let portal = Portal::new(devnet.contract("portal"), &l1);
    let pending = tokio::time::timeout(
        Duration::from_secs(30),
        portal
            .depositTransaction(moved, U256::from(7u64), 100_000, false, Default::default())
            .value(U256::from(7u64))
            .send(),
    )
    .await
    .expect("send in time")
    .expect("deposit");
    let deposit_tx = *pending.tx_hash();
    rpc("evm_mine", json!([])).await;
    let deposit_block = hex_u64(&rpc("eth_blockNumber", json!([])).await);
    let orphaned = rpc(
        "eth_getBlockByNumber",
        json!([format!("{deposit_block:#x}"), false]),
    )
    .await["hash"]
        .clone();
    // two more blocks: the deposit's block is confirmed and becomes an origin
    rpc("evm_mine", json!([])).await;
    rpc("evm_mine", json!([])).await;
    wait_for("the deposit is minted on L2", 60, || {
        let l2 = l2.clone();
        async move {
            let b = call(&l2, "eth_getBalance", json!([moved, "latest"])).await;
            (hex_u256(&b["result"]) == U256::from(7u64)).then_some(())
        }
    })
    .await;
    // the running replica has derived from the soon orphaned L1 block
    let metrics = replica.metrics.clone().expect("replica metrics");
    wait_for("the replica reads the deposit's L1 block", 90, || {
        let metrics = metrics.clone();
        async move { (metric(&metrics, "blink_l1_block").await >= deposit_block).then_some(()) }
    })
    .await;
    // transfers pre-confirmed in blocks built on the soon orphaned origin
    let to = Address::repeat_byte(0x62);
    let mut sent = Vec::new();
    for i in 0..5u64 {
        let hash =
            tokio::time::timeout(Duration::from_secs(60), common::transfer(&l2, to, 100 + i))
                .await
                .expect("transfer pre-confirmed and sealed before the reorg");
        sent.push(hash);
    }
    let before = hex_u64(&call(&l2, "eth_blockNumber", json!([])).await["result"]);
    // replace the last 4 L1 blocks (twice the confirmation depth), deposit included
    rpc("anvil_reorg", json!([4, []])).await;
    let now = rpc(
        "eth_getBlockByNumber",
        json!([format!("{deposit_block:#x}"), false]),
    )
    .await;
    assert_ne!(
        now["hash"], orphaned,
        "L1 block {deposit_block} was replaced"
    );
    assert!(
        l1.get_transaction_receipt(deposit_tx)
            .await
            .expect("rpc")
            .is_none(),
        "the deposit is gone from L1"
    );
    drop(resume_mining);
    // the sequencer notices once L1 grows past its origin, rolls back and rebuilds
    let log = devnet.dir.join("sequencer.log");
    wait_for("the sequencer rolls L2 back", 90, || {
        let log = log.clone();
        async move {
            std::fs::read_to_string(&log)
                .ok()
                .filter(|s| s.contains("L2 rolled back"))
                .map(|_| ())
        }
    })
    .await;
    let text = std::fs::read_to_string(&log).expect("sequencer log");
    let line = text
        .lines()
        .find(|l| l.contains("L2 rolled back"))
        .expect("rollback line");
    // plain or JSON logs, with or without colours
    let plain: String = line
        .split('\x1b')
        .map(|part| match part.strip_prefix('[') {
            Some(rest) => rest.split_once('m').map_or(rest, |(_, tail)| tail),
            None => part,
        })
        .collect();
    assert!(
        plain.contains("broken_preconfirmations=5")
            || plain.contains("\"broken_preconfirmations\":5"),
        "the five dropped transfers' pre-confirmations are reported: {plain}"
    );
    // the deposit went with its L1 block; the transfers are sequenced again
    wait_for("the orphaned deposit is undone on L2", 60, || {
        let l2 = l2.clone();
        async move {
            let b = call(&l2, "eth_getBalance", json!([moved, "latest"])).await;
            (hex_u256(&b["result"]) == U256::ZERO).then_some(())
        }
    })
    .await;
    for hash in &sent {
        let l2 = l2.clone();
        let receipt = wait_for("a rolled-back transfer is included again", 60, || {
            let l2 = l2.clone();
            async move {
                let r =
                    call(&l2, "eth_getTransactionReceipt", json!([hash])).await["result"].clone();
                (!r["blockHash"].is_null()).then_some(r)
            }
        })
        .await;
        assert_eq!(receipt["status"], "0x1", "{hash} succeeds again");
    }
    // the sequencer keeps pre-confirming
    tokio::time::timeout(Duration::from_secs(60), common::transfer(&l2, to, 999))
        .await
        .expect("pre-confirmed after the rollback");
    // blocks after the fork point were dropped; the chain grows back past where it was
    let after = wait_for("L2 grows past its height before the reorg", 60, || {
        let l2 = l2.clone();
        async move {
            let n = hex_u64(&call(&l2, "eth_blockNumber", json!([])).await["result"]);
            (n > before).then_some(n)
        }
    })
    .await;
    // the rebuilt chain reaches L1 and derives the same
    wait_for("the rebuilt blocks are posted", 120, || {
        let l2 = l2.clone();
        async move {
            let safe = call(&l2, "eth_getBlockByNumber", json!(["safe", false])).await;
            (hex_u64(&safe["result"]["number"]) >= after).then_some(())
        }
    })
    .await;
    // the replica that saw the old L1 derives again and agrees; so does a new one
    same_chain(&devnet, &replica, after).await;
    assert_eq!(
        metric(&metrics, "blink_deep_l1_reorgs_total").await,
        1,
        "the running replica went through the reorg"
    );
    let _fresh = replica_matches(&devnet, after).await;
    let b = call(&l2, "eth_getBalance", json!([moved, "latest"])).await;
    assert_eq!(hex_u256(&b["result"]), U256::ZERO, "never minted again");
}

/// A counter or gauge from a Prometheus text page.
async fn metric(url: &str, name: &str) -> u64 {
    let text = reqwest::get(url)
        .await
        .expect("scrape")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

/// A replica started from a sequencer's snapshot instead of genesis: the snapshot is
/// checked against the finalized output for its block on L1 (a damaged one, or one
/// whose output is not final yet, is refused with the reason), and the replica derives
/// the blocks after it from L1 to the sequencer's hashes.
#[tokio::test(flavor = "multi_thread")]
async fn replica_starts_from_a_snapshot_checked_against_l1() {
    // a snapshot at every output block (the devnet proposes every 10 blocks)
    let devnet = Devnet::start("snapshot-replica", &["--snapshot-every", "10"]).await;
    let snaps = devnet.dir.join("l2").join("snapshots");
    let keep = tempfile_dir("snapshot-copies");
    // snapshots are pruned as new ones come: keep a copy of the first one
    let (n, copy) = wait_for("the sequencer writes a snapshot", 90, || {
        let snaps = snaps.clone();
        let keep = keep.clone();
        async move {
            // snapshot-<block, 12 digits>.bin
            let (n, path) = std::fs::read_dir(&snaps)
                .ok()?
                .filter_map(|e| {
                    let e = e.ok()?;
                    let name = e.file_name().to_string_lossy().into_owned();
                    let n = name
                        .strip_prefix("snapshot-")?
                        .strip_suffix(".bin")?
                        .parse::<u64>()
                        .ok()?;
                    Some((n, e.path()))
                })
                .max()?;
            let copy = keep.join(path.file_name()?);
            std::fs::copy(&path, &copy).ok()?;
            Some((n, copy))
        }
    })
    .await;
    assert!(n >= 10 && n % 10 == 0, "snapshot at an output block: {n}");
    let manifest = devnet.dir.join("devnet.json");
    let refused = |path: std::path::PathBuf| {
        let manifest = manifest.clone();
        async move {
            let out = tokio::process::Command::new(common::binary("blink-sequencer"))
                .args(["--replica", "--http-port", "0", "--manifest"])
                .arg(&manifest)
                .arg("--snapshot")
                .arg(&path)
                .output();
            let out = tokio::time::timeout(Duration::from_secs(60), out)
                .await
                .expect("the replica exits")
                .expect("run");
            assert!(!out.status.success(), "started from {}", path.display());
            String::from_utf8_lossy(&out.stderr).into_owned()
        }
    };
    // its output is not final yet (12 s challenge window): refused, and why
    let finalized_now = hex_u64(
        &ok_call(
            &devnet.l2,
            "eth_getBlockByNumber",
            json!(["finalized", false]),
        )
        .await["number"],
    );
    if finalized_now < n {
        let err = refused(copy.clone()).await;
        assert!(err.contains("not finalized"), "{err}");
    }
    // a damaged snapshot: refused
    let damaged = keep.join("damaged.bin");
    let mut bytes = std::fs::read(&copy).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&damaged, &bytes).expect("write");
    let err = refused(damaged).await;
    assert!(err.contains("unreadable"), "{err}");
    // once the output for block n is final, the replica starts from the snapshot
    let l2 = devnet.l2.clone();
    wait_for("the output of the snapshot's block finalizes", 120, || {
        let l2 = l2.clone();
        async move {
            let f = call(&l2, "eth_getBlockByNumber", json!(["finalized", false])).await;
            (hex_u64(&f["result"]["number"]) >= n).then_some(())
        }
    })
    .await;
    let replica = Sequencer::spawn(&[
        "--replica",
        "--manifest",
        manifest.to_str().expect("utf-8"),
        "--snapshot",
        copy.to_str().expect("utf-8"),
        "--metrics-port",
        "0",
    ]);
    // blocks before the snapshot are not served; the snapshot's block and the ones after
    // it are the sequencer's
    let before = call(
        &replica.http,
        "eth_getBlockByNumber",
        json!([format!("{:#x}", n - 1), false]),
    )
    .await;
    assert!(before["result"].is_null(), "{before}");
    let target = n + 12;
    let rep = replica.http.clone();
    wait_for("the replica derives past the snapshot", 120, || {
        let rep = rep.clone();
        async move {
            let h = hex_u64(&call(&rep, "eth_blockNumber", json!([])).await["result"]);
            (h >= target).then_some(())
        }
    })
    .await;
    for b in n..=target {
        let tag = format!("{b:#x}");
        let x = ok_call(&devnet.l2, "eth_getBlockByNumber", json!([tag, false])).await;
        let y = ok_call(&replica.http, "eth_getBlockByNumber", json!([tag, false])).await;
        assert_eq!(x["hash"], y["hash"], "hash of block {b}");
        assert_eq!(x["stateRoot"], y["stateRoot"], "state root of block {b}");
    }
    let metrics = replica.metrics.clone().expect("replica metrics");
    assert_eq!(
        metric(&metrics, "blink_batch_parent_mismatches_total").await,
        0
    );
    let _ = std::fs::remove_dir_all(&keep);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("blink-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir
}

/// The honest trace of output `index` of the devnet (judged from L1 by the challenger
/// library, every output before it agreed with), and the game's shape.
async fn honest_trace(
    devnet: &Devnet,
    index: u64,
    output: &challenger::outputs::Output,
) -> protocol::fault::game::ChainTrace {
    use challenger::outputs::Verdict;
    let mut v = HonestView::new(devnet);
    let mut anchor = 0;
    for i in 0..=index {
        let o = if i == index {
            output.clone()
        } else {
            v.outputs.get(i).await.expect("output")
        };
        v.read_to(o.l1_block).await;
        let (verdict, trace) = v.honest.check(&o, anchor, v.shape).expect("check");
        if i == index {
            assert_eq!(verdict, Verdict::Disagree, "the faulty output is wrong");
            return trace.expect("trace");
        }
        assert_eq!(verdict, Verdict::Agree, "output {i}");
        anchor = o.l2_block;
    }
    unreachable!("the loop returns at the index")
}

/// The `Step` events of a game.
async fn step_logs(
    l1: &str,
    game: Address,
) -> Vec<(bridge_contracts::FaultDisputeGame::Step, B256)> {
    use alloy::sol_types::SolEvent;
    use bridge_contracts::FaultDisputeGame::Step;
    let p = ProviderBuilder::new().connect_http(l1.parse().expect("url"));
    let logs = p
        .get_logs(
            &alloy::rpc::types::Filter::new()
                .address(game)
                .event_signature(Step::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .expect("logs");
    logs.iter()
        .map(|l| {
            let step = Step::decode_log(&l.inner).expect("Step").data;
            (step, l.transaction_hash.expect("mined"))
        })
        .collect()
}

/// Sends L2 transfers (one at a time, each waited for) until L2 block `until` is made:
/// the blocks of the faulty range hold transactions. Bounded: 200 transfers.
async fn traffic_until(l2: String, until: u64) {
    for _ in 0..200 {
        common::transfer(&l2, Address::repeat_byte(0x33), 1).await;
        let head = hex_u64(&call(&l2, "eth_blockNumber", json!([])).await["result"]);
        if head >= until {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The accounts of the devnet's challenger and of the faulty operator's defender.
fn players(devnet: &Devnet) -> (Address, Address) {
    let a = |k: &str| -> Address {
        devnet.manifest[k]["address"]
            .as_str()
            .unwrap_or_else(|| panic!("the devnet runs a {k}"))
            .parse()
            .expect("address")
    };
    (a("challenger"), a("defender"))
}

/// What one fault's game came to, for the summary the test prints.
struct Played {
    kind: protocol::fault::inject::FaultKind,
    claims: u64,
    max_depth: u8,
    step_leaf: u128,
    seconds: u64,
    gas_me: u64,
    gas_defender: u64,
    step_gas: u64,
}

/// One devnet whose sequencer proposes the output over blocks 43–45 wrong with `kind` in
/// block 44, and whose operator defends it with the same lie move by move; the devnet's
/// challenger opens a game, bisects down to the one step the fault first breaks, proves
/// it on L1 with `OneStepProver`, and wins: the output and its successors are deleted,
/// the bonds go to the challenger, and block 45 is proposed again, right. The test sends
/// transfers until block 47, so the range holds transactions.
async fn wrong_output_removed(kind: protocol::fault::inject::FaultKind) -> Played {
    use bridge_contracts::{DisputeGameFactory, FaultDisputeGame};
    use challenger::position::Position;
    let devnet = Devnet::start(
        &format!("fault-{kind}"),
        &[
            "--submission-interval",
            "3",
            "--finalization-period",
            "200",
            "--game-max-clock",
            "90",
            "--game-clock-extension",
            "20",
            "--fault",
            kind.name(),
            "--fault-block",
            "44",
        ],
    )
    .await;
    let (me, defender) = players(&devnet);
    let head = hex_u64(&call(&devnet.l2, "eth_blockNumber", json!([])).await["result"]);
    assert!(
        head < 43,
        "{kind}: the devnet took until block {head} to start"
    );
    let traffic = tokio::spawn(traffic_until(devnet.l2.clone(), 47));
    let l1p = ProviderBuilder::new().connect_http(devnet.l1.parse().expect("url"));
    let before = l1p.get_balance(me).await.expect("balance");
    let factory = DisputeGameFactory::new(devnet.contract("disputeGameFactory"), &l1p);
    let oracle = OutputOracle::new(devnet.contract("outputOracle"), &l1p);
    let game = wait_for(
        &format!("{kind}: a game against the wrong output"),
        300,
        || {
            let factory = factory.clone();
            async move {
                let n = factory.gameCount().call().await.ok()?;
                (n >= U256::from(1)).then_some(())?;
                factory.gameList(U256::ZERO).call().await.ok()
            }
        },
    )
    .await;
    let started = Instant::now();
    traffic.await.expect("traffic");
    let record = factory.games(game).call().await.expect("record");
    assert_eq!(
        record.outputIndex, 14,
        "{kind}: blocks 43–45 are the fifteenth output"
    );
    let output = challenger::outputs::Outputs::new(
        devnet.contract("outputOracle"),
        ProviderBuilder::new()
            .connect_http(devnet.l1.parse().expect("url"))
            .erased(),
    )
    .get(14)
    .await
    .expect("the faulty output");
    assert_eq!(output.l2_block, 45);
    // where the fault first shows: the leaf the game must end at
    let trace = honest_trace(&devnet, 14, &output).await;
    let lie = protocol::fault::inject::Lie::new(trace, kind, 1)
        .expect("lie")
        .expect("block 44 is in the range");
    assert_eq!(
        lie.root_claim(),
        output.claim(),
        "{kind}: the proposal is the lie's"
    );
    // the step the fault first breaks is of the kind's own step kind (the range has
    // transactions, so no fallback on BLOCK_CLOSE)
    let at = lie.at;
    let step_kind = lie
        .honest
        .block(at.block)
        .expect("block")
        .step_kind(at.unit as usize, at.step)
        .expect("step kind");
    assert!(
        protocol::fault::inject::breaks_at(kind, step_kind),
        "{kind}: the fault breaks a {step_kind:?} step at {at:?}"
    );
    let g = FaultDisputeGame::new(game, &l1p);
    let max_depth = g.MAX_DEPTH().call().await.expect("depth").to::<u8>();
    wait_for(&format!("{kind}: the game resolved"), 480, || {
        let g = g.clone();
        async move { (g.status().call().await.ok()? != 0).then_some(()) }
    })
    .await;
    let seconds = started.elapsed().as_secs();
    assert_eq!(
        g.status().call().await.expect("status"),
        1,
        "{kind}: CHALLENGER_WINS"
    );
    // the bisection reached the leaf the fault breaks, and the challenger proved it there
    let logs = step_logs(&devnet.l1, game).await;
    assert_eq!(logs.len(), 1, "{kind}: one step proven");
    let (step, step_tx) = logs[0].clone();
    assert_eq!(step.stepper, me, "{kind}: the challenger proved the step");
    let stepped = g.claimData(step.claimIndex).call().await.expect("claim");
    assert_eq!(
        stepped.claimant, defender,
        "{kind}: on the defender's claim"
    );
    let position = Position::from_raw(stepped.position).expect("position");
    assert_eq!(position.depth(), max_depth);
    let leaf = position.trace_index(max_depth).expect("leaf");
    assert!(
        leaf == lie.from || leaf + 1 == lie.from,
        "{kind}: the step at leaf {leaf} is not next to the fault's first leaf {} ({:?})",
        lie.from,
        lie.at
    );
    let claims = g.claimDataLen().call().await.expect("claims").to::<u64>();
    // the credit is claimed, and it is more than the gas
    wait_for(&format!("{kind}: the credit claimed"), 90, || {
        let g = g.clone();
        async move { g.credit(me).call().await.ok()?.is_zero().then_some(()) }
    })
    .await;
    let after = l1p.get_balance(me).await.expect("balance");
    assert!(after > before, "{kind}: {before} → {after}");
    // block 45 proposed again, right this time
    let right = wait_for(&format!("{kind}: block 45 proposed again"), 120, || {
        let oracle = oracle.clone();
        async move {
            let n = oracle.nextOutputIndex().call().await.ok()?;
            (n >= U256::from(15)).then_some(())?;
            let o = oracle.getOutput(U256::from(14)).call().await.ok()?;
            (o.outputRoot != output.root).then_some(o)
        }
    })
    .await;
    assert_eq!(right.l2BlockNumber, 45);
    let l2p = ProviderBuilder::new().connect_http(devnet.l2.parse().expect("url"));
    let block = l2p
        .get_block_by_number(45u64.into())
        .await
        .expect("rpc")
        .expect("block 45");
    assert_eq!(
        right.outputRoot,
        output_root(block.header.state_root, B256::ZERO, block.header.hash)
    );
    assert_eq!(
        factory.gameCount().call().await.expect("count"),
        U256::from(1),
        "{kind}: no game against a right output"
    );
    // L1 gas of the whole game, by side: the factory's create, moves, code registrations,
    // the step, resolutions and the credit claim
    let code_oracle = devnet.contract("codeOracle");
    let (mut gas_me, mut gas_defender, mut step_gas) = (0u64, 0u64, 0u64);
    let head = l1p.get_block_number().await.expect("head");
    let from = record.timestamp;
    for n in (0..=head).rev() {
        let b = l1p
            .get_block_by_number(n.into())
            .full()
            .await
            .expect("block")
            .expect("block");
        if b.header.timestamp < from {
            break;
        }
        for tx in b.transactions.txns() {
            use alloy::consensus::Transaction as _;
            let to = tx.to();
            if to != Some(game) && to != Some(*factory.address()) && to != Some(code_oracle) {
                continue;
            }
            let who = tx.inner.signer();
            if who != me && who != defender {
                continue;
            }
            let r = l1p
                .get_transaction_receipt(*tx.inner.tx_hash())
                .await
                .expect("receipt")
                .expect("receipt");
            if who == me {
                gas_me += r.gas_used;
            } else {
                gas_defender += r.gas_used;
            }
            if r.transaction_hash == step_tx {
                step_gas = r.gas_used;
            }
        }
    }
    Played {
        kind,
        claims,
        max_depth,
        step_leaf: leaf,
        seconds,
        gas_me,
        gas_defender,
        step_gas,
    }
}

/// For each fault kind, a wrong output defended move by move is bisected down to the one
/// step the fault breaks, proven wrong there on L1, and removed (`wrong_output_removed`).
/// The kinds run side by side, one devnet each.
#[tokio::test(flavor = "multi_thread")]
async fn dispute_wrong_output_is_removed() {
    let runs: Vec<_> = protocol::fault::inject::FaultKind::ALL
        .into_iter()
        .map(|k| tokio::spawn(wrong_output_removed(k)))
        .collect();
    for r in runs {
        let p = r.await.expect("a fault kind's game");
        eprintln!(
            "fault {}: {} claims (max depth {}), step at leaf {:#x} ({} gas), {} s from the \
             game's opening to its resolution; L1 gas: challenger {} (create, moves, codes, \
             step, resolution, claim), defender {}",
            p.kind,
            p.claims,
            p.max_depth,
            p.step_leaf,
            p.step_gas,
            p.seconds,
            p.gas_me,
            p.gas_defender
        );
    }
}

/// The faulty operator's defender answers twice (its bond budget holds two moves) and then
/// stops; the challenger wins on time, without a step: the side that stops answering
/// loses, the output is deleted and its bonds go to the challenger.
#[tokio::test(flavor = "multi_thread")]
async fn dispute_timeout() {
    use bridge_contracts::{DisputeGameFactory, FaultDisputeGame};
    let devnet = Devnet::start(
        "timeout",
        &[
            "--submission-interval",
            "3",
            "--finalization-period",
            "50",
            "--fault",
            "state-root",
            "--fault-block",
            "5",
            "--defender-bond-budget",
            "0.16",
        ],
    )
    .await;
    let clock = devnet.manifest["game"]["maxClockDuration"]
        .as_u64()
        .expect("clock");
    assert_eq!(clock, 24, "half the window, less a second");
    let (me, defender) = players(&devnet);
    let l1p = ProviderBuilder::new().connect_http(devnet.l1.parse().expect("url"));
    let factory = DisputeGameFactory::new(devnet.contract("disputeGameFactory"), &l1p);
    let oracle = OutputOracle::new(devnet.contract("outputOracle"), &l1p);
    let game = wait_for("a game against the wrong output", 180, || {
        let factory = factory.clone();
        async move {
            let n = factory.gameCount().call().await.ok()?;
            (n >= U256::from(1)).then_some(())?;
            factory.gameList(U256::ZERO).call().await.ok()
        }
    })
    .await;
    let record = factory.games(game).call().await.expect("record");
    assert_eq!(record.outputIndex, 1, "blocks 4–6 are the second output");
    let g = FaultDisputeGame::new(game, &l1p);
    wait_for("the game resolved", 240, || {
        let g = g.clone();
        async move { (g.status().call().await.ok()? != 0).then_some(()) }
    })
    .await;
    assert_eq!(
        g.status().call().await.expect("status"),
        1,
        "CHALLENGER_WINS"
    );
    let n = g.claimDataLen().call().await.expect("claims").to::<u64>();
    let mut by_defender = 0;
    for i in 0..n {
        let c = g.claimData(U256::from(i)).call().await.expect("claim");
        if c.claimant == defender {
            by_defender += 1;
        }
    }
    assert_eq!(by_defender, 2, "the defender stopped after two moves");
    // the challenger's metrics say so
    let metrics = devnet.manifest["challenger"]["metrics"]
        .as_str()
        .expect("challenger.metrics")
        .to_owned();
    wait_for("the won game in the challenger's metrics", 30, || {
        let metrics = metrics.clone();
        async move {
            (metric(&metrics, "blink_challenger_games_won").await >= 1
                && metric(&metrics, "blink_challenger_moves_sent_total").await >= 2)
                .then_some(())
        }
    })
    .await;
    assert_eq!(g.credit(defender).call().await.expect("credit"), U256::ZERO);
    wait_for("the credit claimed", 60, || {
        let g = g.clone();
        async move { g.credit(me).call().await.ok()?.is_zero().then_some(()) }
    })
    .await;
    // the wrong output is gone (block 6 proposed again, right)
    let wrong = record.outputRoot;
    wait_for("block 6 proposed again", 120, || {
        let oracle = oracle.clone();
        async move {
            let n = oracle.nextOutputIndex().call().await.ok()?;
            (n >= U256::from(2)).then_some(())?;
            let o = oracle.getOutput(U256::from(1)).call().await.ok()?;
            (o.outputRoot != wrong).then_some(())
        }
    })
    .await;
}

/// The challenger (the real binary, run by the test, the devnet's own turned off) is
/// killed with SIGKILL and started again at each phase of a game against a wrong output
/// its faulty operator defends: right after the game opens, in the block, unit and step
/// levels of the bisection, after its step and after the resolution. It rebuilds
/// everything from L1 each time, posts no claim twice, proves the step and wins.
#[tokio::test(flavor = "multi_thread")]
async fn challenger_restart_mid_game() {
    use bridge_contracts::{DisputeGameFactory, FaultDisputeGame};
    let devnet = Devnet::start(
        "restart",
        &[
            "--submission-interval",
            "3",
            "--finalization-period",
            "200",
            "--game-max-clock",
            "90",
            "--game-clock-extension",
            "20",
            "--no-challenger",
            "--fault",
            "state-root",
            "--fault-block",
            "44",
        ],
    )
    .await;
    let key = devnet.manifest["accounts"][9]["privateKey"]
        .as_str()
        .expect("key")
        .to_owned();
    let me: Address = devnet.manifest["accounts"][9]["address"]
        .as_str()
        .expect("address")
        .parse()
        .expect("address");
    let defender: Address = devnet.manifest["defender"]["address"]
        .as_str()
        .expect("the defender")
        .parse()
        .expect("address");
    let manifest = devnet.dir.join("devnet.json");
    let log_path = devnet.dir.join("test-challenger.log");
    let spawn = || {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("log");
        KillOnDrop(
            std::process::Command::new(common::binary("blink-challenger"))
                .arg("--manifest")
                .arg(&manifest)
                .arg("--key")
                .arg(&key)
                .arg("--poll-ms")
                .arg("500")
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("blink-challenger"),
        )
    };
    let traffic = tokio::spawn(traffic_until(devnet.l2.clone(), 47));
    let mut challenger = spawn();
    let l1p = ProviderBuilder::new().connect_http(devnet.l1.parse().expect("url"));
    let factory = DisputeGameFactory::new(devnet.contract("disputeGameFactory"), &l1p);
    let game = wait_for("a game against the wrong output", 240, || {
        let factory = factory.clone();
        async move {
            let n = factory.gameCount().call().await.ok()?;
            (n >= U256::from(1)).then_some(())?;
            factory.gameList(U256::ZERO).call().await.ok()
        }
    })
    .await;
    traffic.await.expect("traffic");
    let g = FaultDisputeGame::new(game, &l1p);
    let block_depth = devnet.manifest["game"]["blockDepth"]
        .as_u64()
        .expect("depth");
    let unit_depth = devnet.manifest["game"]["unitDepth"]
        .as_u64()
        .expect("depth");
    // (phase, claims the game must hold first)
    let phases = [
        ("opened", 2),
        ("block level", block_depth + 1),
        ("unit level", block_depth + unit_depth / 2 + 1),
        ("step level", block_depth + unit_depth + 6),
    ];
    let mut restarts = 0;
    for (phase, claims) in phases {
        wait_for(&format!("the game in its {phase}"), 300, || {
            let g = g.clone();
            async move {
                let n = g.claimDataLen().call().await.ok()?.to::<u64>();
                (n >= claims).then_some(())
            }
        })
        .await;
        drop(challenger);
        restarts += 1;
        challenger = spawn();
    }
    wait_for("the challenger's step", 300, || {
        let l1 = devnet.l1.clone();
        async move { (!step_logs(&l1, game).await.is_empty()).then_some(()) }
    })
    .await;
    drop(challenger);
    restarts += 1;
    challenger = spawn();
    wait_for("the game resolved", 300, || {
        let g = g.clone();
        async move { (g.status().call().await.ok()? != 0).then_some(()) }
    })
    .await;
    drop(challenger);
    restarts += 1;
    let _challenger = spawn();
    assert_eq!(
        g.status().call().await.expect("status"),
        1,
        "CHALLENGER_WINS"
    );
    assert_eq!(
        step_logs(&devnet.l1, game).await.len(),
        1,
        "one step, proven once"
    );
    // no claim twice: the two sides alternate down one path
    let n = g.claimDataLen().call().await.expect("claims").to::<u64>();
    let (mut mine, mut theirs) = (0u64, 0u64);
    for i in 1..n {
        let c = g.claimData(U256::from(i)).call().await.expect("claim");
        if c.claimant == me {
            mine += 1;
        } else if c.claimant == defender {
            theirs += 1;
        }
    }
    assert!(
        mine.abs_diff(theirs) <= 1,
        "{mine} claims of the challenger, {theirs} of the defender"
    );
    wait_for("the credit claimed", 120, || {
        let g = g.clone();
        async move { g.credit(me).call().await.ok()?.is_zero().then_some(()) }
    })
    .await;
    eprintln!("challenger_restart_mid_game: {restarts} kills, {n} claims, won");
}

/// A dishonest party (the test) opens a game against a right output with a false first
/// claim; the real `blink-challenger` that `blink devnet` runs defends the output (it counters the false claim),
/// the dishonest party stops, and the game resolves for the defender on time: the
/// output is not deleted, the false claim's bond goes to the challenger, and the output
/// finalizes once the dispute is lifted.
#[tokio::test(flavor = "multi_thread")]
async fn dispute_false_challenge_loses_bond() {
    use bridge_contracts::{DisputeGameFactory, FaultDisputeGame};
    let devnet = Devnet::start(
        "false-challenge",
        &["--submission-interval", "3", "--finalization-period", "80"],
    )
    .await;
    let account = |i: usize| {
        let key = devnet.manifest["accounts"][i]["privateKey"]
            .as_str()
            .expect("key")
            .to_owned();
        let address: Address = devnet.manifest["accounts"][i]["address"]
            .as_str()
            .expect("address")
            .parse()
            .expect("address");
        (key, address)
    };
    let me: Address = devnet.manifest["challenger"]["address"]
        .as_str()
        .expect("the devnet runs a challenger")
        .parse()
        .expect("address");
    let (liar_key, liar) = account(7);
    let l1p = ProviderBuilder::new().connect_http(devnet.l1.parse().expect("url"));
    let oracle = OutputOracle::new(devnet.contract("outputOracle"), &l1p);
    // a right output in its window
    let index = wait_for("an output", 90, || {
        let oracle = oracle.clone();
        async move {
            let n = oracle.nextOutputIndex().call().await.ok()?;
            n.checked_sub(U256::from(1))
        }
    })
    .await;
    let liar_p = ProviderBuilder::new()
        .wallet(liar_key.parse::<PrivateKeySigner>().expect("key"))
        .connect_http(devnet.l1.parse().expect("url"));
    let factory = DisputeGameFactory::new(devnet.contract("disputeGameFactory"), &liar_p);
    let bond = factory.bondAtFirstMove().call().await.expect("bond");
    let created = factory
        .create(index, B256::repeat_byte(0x1e))
        .value(bond)
        .send()
        .await
        .expect("create")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(created.status(), "the liar's game opens");
    let game = factory.gameList(U256::ZERO).call().await.expect("game");
    let g = FaultDisputeGame::new(game, &l1p);
    // the challenger counters the false claim (claim 2, on claim 1)
    wait_for("the challenger's counter", 90, || {
        let g = g.clone();
        async move {
            let n = g.claimDataLen().call().await.ok()?;
            (n >= U256::from(3)).then_some(())?;
            let c = g.claimData(U256::from(2)).call().await.ok()?;
            (c.claimant == me && c.parentIndex == 1).then_some(())
        }
    })
    .await;
    wait_for("the game resolved", 120, || {
        let g = g.clone();
        async move { (g.status().call().await.ok()? != 0).then_some(()) }
    })
    .await;
    assert_eq!(g.status().call().await.expect("status"), 2, "DEFENDER_WINS");
    assert_eq!(
        g.claimData(U256::from(1))
            .call()
            .await
            .expect("claim")
            .counteredBy,
        me,
        "the false claim's bond went to the challenger"
    );
    assert_eq!(g.credit(liar).call().await.expect("credit"), U256::ZERO);
    // `list-games` shows it
    let listed = std::process::Command::new(common::binary("blink-challenger"))
        .arg("list-games")
        .arg("--manifest")
        .arg(devnet.dir.join("devnet.json"))
        .arg("--account")
        .arg(me.to_string())
        .output()
        .expect("blink-challenger list-games");
    assert!(listed.status.success(), "{listed:?}");
    let table = String::from_utf8_lossy(&listed.stdout);
    let row = table
        .lines()
        .find(|l| l.contains(&game.to_string()))
        .unwrap_or_else(|| panic!("the game is listed:\n{table}"));
    assert!(row.contains("DEFENDER_WINS"), "{table}");
    assert!(row.contains(&format!(" {index} ")), "{table}");
    // the output stands and finalizes
    wait_for("the defended output final", 90, || {
        let oracle = oracle.clone();
        async move { oracle.isFinalized(index).call().await.ok()?.then_some(()) }
    })
    .await;
    assert_eq!(
        factory.gameCount().call().await.expect("count"),
        U256::from(1),
        "the challenger opened no game of its own"
    );
}
