//! `challenger::game` against the real `FaultDisputeGame` and `DisputeGameFactory` on a
//! real anvil: a wrong output proposed to a real `OutputOracle`, a game opened against it
//! with the solver's first claim, read back claim by claim (positions, bonds, clocks), an
//! adversary's lie answered by the solver's move, the adversary silent until its clock
//! runs out, every claim resolved in `resolution_order`, the game resolved for the
//! challenger (the output deleted), and the credit claimed. The machine is never
//! reached: the trace is the plain table of `play`, and the game's `VM` is never called.

use alloy::{
    dyn_abi::DynSolValue,
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256, address, hex},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
    sol,
};
use bridge_contracts::OutputOracle;
use challenger::{
    game::{Game, StepData, StepSource},
    position::Position,
    run::Round,
    solver::{Action, Trace, honest_wins, next_actions, resolution_order},
    status::{Status, Tracker},
};
use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::play::Table;

sol! {
    #[sol(rpc)]
    interface IFactory {
        function create(uint256 outputIndex, bytes32 firstClaim) external payable returns (address);
        function gameList(uint256 i) external view returns (address);
        function bondAtFirstMove() external view returns (uint256);
    }
}

/// Anvil's dev keys 0 and 1 (the default mnemonic), and an adversary the test funds.
const KEYS: [&str; 3] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3ed4e39e2b5f6fd6",
];
const MAX_CLOCK: u64 = 600;

struct Anvil(Child);

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wallet(url: &str, key: &str) -> (DynProvider, Address) {
    let signer: PrivateKeySigner = key.parse().expect("key");
    let address = signer.address();
    let p = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url.parse().expect("url"))
        .erased();
    (p, address)
}

/// No steps in this game.
struct NoSteps;

impl StepSource for NoSteps {
    type Error = String;
    fn step(&self, leaf: u128) -> Result<StepData, String> {
        Err(format!("no step expected (leaf {leaf})"))
    }
}

async fn deploy_factory(p: &DynProvider, oracle: Address) -> Address {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bridge-contracts/artifacts");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("DisputeGameFactory.json")).expect("artifact"),
    )
    .expect("json");
    let code = hex::decode(json["bytecode"].as_str().expect("bytecode")).expect("hex");
    let gas = U256::from(1_500_000u64);
    let config = DynSolValue::Tuple(vec![
        // the VM: never called here
        DynSolValue::Address(address!("0x000000000000000000000000000000000000dEaD")),
        DynSolValue::Uint(U256::from(2), 8),
        DynSolValue::Uint(U256::from(2), 8),
        DynSolValue::Uint(U256::from(2), 8),
        DynSolValue::Uint(U256::from(MAX_CLOCK), 64),
        DynSolValue::Uint(U256::from(30), 64),
        DynSolValue::Uint(U256::from(1_000_000_000u64), 256),
        DynSolValue::Uint(gas, 256),
        DynSolValue::Uint(gas, 256),
        DynSolValue::Uint(gas, 256),
        DynSolValue::Uint(gas, 256),
    ]);
    let args = DynSolValue::Tuple(vec![
        DynSolValue::Address(oracle),
        DynSolValue::FixedBytes(B256::repeat_byte(0xa0), 32),
        DynSolValue::FixedBytes(B256::repeat_byte(0xc0), 32),
        config,
    ])
    .abi_encode_params();
    let tx = TransactionRequest::default().with_deploy_code(Bytes::from([code, args].concat()));
    let receipt = p
        .send_transaction(tx)
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status(), "factory deployment reverted");
    receipt.contract_address.expect("an address")
}

/// What `run` does after a round that sent nothing: read the status, record it.
async fn status_after_round(
    tracker: &mut Tracker,
    provider: DynProvider,
    factory: Address,
    me: Address,
    params: challenger::game::GameParams,
) -> Status {
    let round = Round::default();
    let s = tracker
        .read(&provider, factory, me, &params, None, &round, |_, _, _| {
            false
        })
        .await
        .expect("status");
    tracker.record(&round, &s);
    s
}

#[tokio::test]
async fn the_game_client_plays_the_real_contract() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    let _anvil = Anvil(
        Command::new(bin)
            .args(["--port", &port.to_string(), "--silent"])
            .stdout(Stdio::null())
            .spawn()
            .expect("anvil (scripts/setup.sh installs it)"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let (deployer, proposer) = wallet(&url, KEYS[0]);
    while deployer.get_block_number().await.is_err() {
        assert!(Instant::now() < deadline, "anvil did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (honest_p, honest) = wallet(&url, KEYS[1]);
    let (adversary_p, adversary) = wallet(&url, KEYS[2]);
    let fund = TransactionRequest::default()
        .with_to(adversary)
        .with_value(U256::from(10u64).pow(U256::from(19)));
    let funded = deployer
        .send_transaction(fund)
        .await
        .expect("fund")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(funded.status());

    // OutputOracle's CHALLENGER is the factory deployed right after it
    let nonce = deployer
        .get_transaction_count(proposer)
        .await
        .expect("nonce");
    let factory_at = proposer.create(nonce + 1);
    let bond = U256::from(10u64).pow(U256::from(16));
    let oracle = *OutputOracle::deploy(
        &deployer,
        proposer,
        factory_at,
        U256::from(4),
        U256::from(3600),
        bond,
        U256::ZERO,
        false,
    )
    .await
    .expect("oracle")
    .address();
    assert_eq!(deploy_factory(&deployer, oracle).await, factory_at);

    // a wrong output: the table's trace says otherwise at the root
    let oracle_c = OutputOracle::new(oracle, &deployer);
    let receipt = oracle_c
        .proposeOutputWithCursor(
            B256::repeat_byte(0x0b),
            B256::repeat_byte(0x0c),
            U256::from(4),
        )
        .value(bond)
        .send()
        .await
        .expect("propose")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status());
    let outputs = challenger::outputs::Outputs::new(oracle, deployer.clone());
    let output = outputs.get(0).await.expect("output 0");
    assert_eq!(output.l2_block, 4);
    assert_eq!(output.l1_block, receipt.block_number.expect("mined"));

    let table = Table {
        max_depth: 6,
        seed: 42,
        pad: 64,
    };
    assert_ne!(table.claim(Position::ROOT).unwrap(), output.claim());
    let factory = IFactory::new(factory_at, &honest_p);
    let first = table.claim(Position::ROOT.attack().unwrap()).unwrap();
    let first_bond = factory.bondAtFirstMove().call().await.expect("bond");
    let created = factory
        .create(U256::ZERO, first)
        .value(first_bond)
        .send()
        .await
        .expect("create")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(created.status());
    let address = factory.gameList(U256::ZERO).call().await.expect("game");

    let game = Game::new(address, honest_p.clone());
    let params = game.params().await.expect("params");
    assert_eq!(params.depths, (2, 2, 2));
    assert_eq!(params.max_clock, MAX_CLOCK);
    let view = game.view(&params, None).await.expect("view");
    assert_eq!(view.claims.len(), 2);
    assert_eq!(view.claims[0].claim, output.claim());
    assert_eq!(view.claims[0].position, Position::ROOT);
    assert_eq!(view.claims[1].parent, Some(0));
    assert_eq!(view.claims[1].claimant, honest);
    assert_eq!(view.claims[1].bond, first_bond);
    assert_eq!(view.claims[1].position, Position::ROOT.attack().unwrap());
    let created_at = deployer
        .get_block_by_number(created.block_number.expect("mined").into())
        .await
        .expect("block")
        .expect("exists")
        .header
        .timestamp;
    assert_eq!(view.claims[1].clock_timestamp, created_at);
    assert_eq!(view.claims[1].clock_duration, 0);
    // nothing to answer yet
    let now = created_at;
    assert_eq!(next_actions(&view, &table, now).unwrap(), vec![]);
    // the challenger's status as `run` reads it after a round: one game in flight, its
    // first bond locked, no clock running against it
    let mut tracker = Tracker::default();
    let metrics = tracker.metrics().clone();
    macro_rules! status {
        () => {
            status_after_round(&mut tracker, honest_p.clone(), factory_at, honest, params).await
        };
    }
    let s = status!();
    assert_eq!(s.in_flight.len(), 1, "{s}");
    assert_eq!(s.in_flight[0].output_index, 0);
    assert_eq!(s.in_flight[0].clock_left, None, "{s}");
    assert_eq!(s.locked(), first_bond);
    assert_eq!((s.won, s.lost), (0, 0));
    let m = |name: &str| -> String {
        metrics
            .render()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_owned))
            .expect("a sample")
    };
    assert_eq!(m("blink_challenger_games_in_flight"), "1");
    assert_eq!(m("blink_challenger_clock_seconds_left"), "NaN");
    assert_eq!(
        m("blink_challenger_bonds_locked_wei"),
        first_bond.to_string()
    );

    // the adversary lies under the honest claim
    let lie = Action::Move {
        parent: 1,
        attack: true,
        claim: B256::repeat_byte(0xee),
        position: view.claims[1].position.attack().unwrap(),
    };
    Game::new(address, adversary_p.clone())
        .send(&lie, &NoSteps)
        .await
        .expect("the adversary's move");
    // now a clock runs against the challenger
    let s = status!();
    let left = s.clock_left().expect("a clock to answer");
    assert!(left <= MAX_CLOCK && left + 60 > MAX_CLOCK, "{s}");
    assert_eq!(m("blink_challenger_clock_seconds_left"), left.to_string());
    let view = game.view(&params, None).await.expect("view");
    assert_eq!(view.claims.len(), 3);
    let now = view.claims[2].clock_timestamp;
    let actions = next_actions(&view, &table, now).unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    for a in &actions {
        game.send(a, &NoSteps).await.expect("the honest move");
    }
    let view = game.view(&params, None).await.expect("view");
    assert_eq!(view.claims.len(), 4);
    let s = status!();
    assert_eq!(s.clock_left(), None, "answered: {s}");
    let mine: U256 = view
        .claims
        .iter()
        .filter(|c| c.claimant == honest)
        .map(|c| c.bond)
        .sum();
    assert!(mine > first_bond);
    assert_eq!(s.locked(), mine);
    assert_eq!(next_actions(&view, &table, now).unwrap(), vec![]);
    assert!(honest_wins(&view, &table).unwrap());
    // the lie's clock has been running since; none can resolve yet
    assert!(resolution_order(&view, now).unwrap().is_empty());

    // the adversary goes silent; the clocks run out
    let _: serde_json::Value = deployer
        .raw_request("evm_increaseTime".into(), (MAX_CLOCK + 1,))
        .await
        .expect("time");
    let _: serde_json::Value = deployer
        .raw_request("evm_mine".into(), ())
        .await
        .expect("mine");
    let now = deployer
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .expect("block")
        .expect("exists")
        .header
        .timestamp;
    let order = resolution_order(&view, now).unwrap();
    assert_eq!(order.len(), 4);
    for i in order {
        game.resolve_claim(i).await.expect("resolveClaim");
    }
    game.resolve().await.expect("resolve");
    let s = status!();
    assert!(s.in_flight.is_empty(), "{s}");
    assert_eq!((s.won, s.lost), (1, 0));
    assert_eq!(m("blink_challenger_games_won"), "1");
    assert_eq!(m("blink_challenger_bonds_locked_wei"), "0");
    assert_eq!(m("blink_challenger_rounds_total"), "4");
    // a resolved game is remembered, not read again, and still counted
    assert_eq!(status!().won, 1);
    let view = game.view(&params, None).await.expect("view");
    assert!(!view.in_progress);
    assert!(view.resolved.iter().all(|r| *r));
    // the wrong output is gone, and its bond came to the honest challenger
    assert_eq!(outputs.count().await.expect("count"), 0);
    let credit = game.credit(honest).await.expect("credit");
    // its two bonds, the adversary's, and the proposer's oracle bond
    let moves: U256 = view
        .claims
        .iter()
        .filter(|c| c.claimant != proposer)
        .map(|c| c.bond)
        .sum();
    assert_eq!(credit, moves + bond);
    let before = deployer.get_balance(honest).await.expect("balance");
    game.claim_credit(honest).await.expect("claimCredit");
    let after = deployer.get_balance(honest).await.expect("balance");
    assert!(after > before, "the credit was paid");
}
