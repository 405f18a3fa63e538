//! `OutputOracle`'s proposers on a real anvil, deployed by [`blink_bridge_contracts::deploy`]:
//! with `permissionless_proposing` a stranger (not `PROPOSER`) proposes the next output
//! with the bond and it is accepted, recorded as the stranger's; the operator's proposer
//! racing it for the same block reverts with `UnexpectedBlockNumber`, which
//! [`blink_bridge_contracts::proposal_block_taken`] decodes. Permissioned, the stranger's
//! proposal reverts with `NotProposer`. Needs anvil (`scripts/setup.sh` installs it);
//! what the dispute game does with a stranger's output is the forge tests' business
//! (`test/dispute/PermissionlessProposing.t.sol`).

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use blink_bridge_contracts::{DeployConfig, OutputOracle, deploy, proposal_block_taken};
use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// Anvil's dev keys 0 (deployer) and 1 (`PROPOSER`), default mnemonic, and a stranger the test funds.
const KEYS: [&str; 3] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3ed4e39e2b5f6fd6",
];

/// Kills anvil when the test ends, however it ends.
struct Anvil(Child);

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn anvil() -> (Anvil, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    let child = Anvil(
        Command::new(bin)
            .args(["--port", &port.to_string(), "--silent"])
            .stdout(Stdio::null())
            .spawn()
            .expect("anvil (scripts/setup.sh installs it)"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let (p, _) = wallet(&url, KEYS[0]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while p.get_block_number().await.is_err() {
        assert!(Instant::now() < deadline, "anvil did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, url)
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

fn config(proposer: Address, permissionless: bool) -> DeployConfig {
    DeployConfig {
        sequencer: Address::repeat_byte(0x5e),
        proposer,
        challenger: Address::repeat_byte(0xc4),
        dispute_game: false,
        submission_interval: 4,
        finalization_period_seconds: 3600,
        output_bond: U256::from(10u64).pow(U256::from(16)),
        starting_block_number: 0,
        permissionless_proposing: permissionless,
    }
}

#[tokio::test]
async fn a_stranger_proposes_only_on_a_permissionless_oracle() {
    let (_anvil, url) = anvil().await;
    let (deployer, _) = wallet(&url, KEYS[0]);
    let (proposer_p, proposer) = wallet(&url, KEYS[1]);
    let (stranger_p, stranger) = wallet(&url, KEYS[2]);
    // the stranger is not one of anvil's funded accounts
    let funded = deployer
        .send_transaction(
            TransactionRequest::default()
                .with_to(stranger)
                .with_value(U256::from(10u64).pow(U256::from(19))),
        )
        .await
        .expect("fund")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(funded.status());

    // permissionless: the stranger's output is accepted and recorded as theirs
    let open = deploy(&deployer, &config(proposer, true))
        .await
        .expect("deploy")
        .output_oracle;
    let as_stranger = OutputOracle::new(open, &stranger_p);
    assert!(as_stranger.PERMISSIONLESS().call().await.expect("flag"));
    let bond = as_stranger.BOND().call().await.expect("bond");
    let next = as_stranger.nextBlockNumber().call().await.expect("next");
    let receipt = as_stranger
        .proposeOutputWithCursor(B256::repeat_byte(0x0a), B256::repeat_byte(0x0c), next)
        .value(bond)
        .send()
        .await
        .expect("stranger's proposal")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status());
    assert_eq!(
        as_stranger.nextOutputIndex().call().await.expect("n"),
        U256::from(1)
    );
    assert_eq!(
        as_stranger
            .proposerOf(U256::ZERO)
            .call()
            .await
            .expect("proposerOf"),
        stranger
    );

    // the operator's proposer racing for the same block: `UnexpectedBlockNumber`, decoded
    let as_proposer = OutputOracle::new(open, &proposer_p);
    let err = as_proposer
        .proposeOutputWithCursor(B256::repeat_byte(0x0b), B256::repeat_byte(0x0c), next)
        .value(bond)
        .from(proposer)
        .call()
        .await
        .expect_err("the block is taken");
    assert_eq!(proposal_block_taken(&err), Some(next + U256::from(4)));
    // and it goes on with the next block
    let receipt = as_proposer
        .proposeOutputWithCursor(
            B256::repeat_byte(0x0b),
            B256::repeat_byte(0x0c),
            next + U256::from(4),
        )
        .value(bond)
        .send()
        .await
        .expect("proposer's proposal")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status());
    assert_eq!(
        as_proposer
            .proposerOf(U256::from(1))
            .call()
            .await
            .expect("proposerOf"),
        proposer
    );
    // a wrong bond is refused whoever sends it
    let err = as_stranger
        .proposeOutput(B256::repeat_byte(0x0d), next + U256::from(8))
        .value(bond - U256::from(1))
        .from(stranger)
        .call()
        .await
        .expect_err("wrong bond");
    assert!(
        err.as_decoded_error::<OutputOracle::WrongBond>().is_some(),
        "{err}"
    );

    // permissioned: the stranger's proposal reverts with `NotProposer`
    let closed = deploy(&deployer, &config(proposer, false))
        .await
        .expect("deploy")
        .output_oracle;
    let as_stranger = OutputOracle::new(closed, &stranger_p);
    assert!(!as_stranger.PERMISSIONLESS().call().await.expect("flag"));
    let err = as_stranger
        .proposeOutputWithCursor(B256::repeat_byte(0x0a), B256::repeat_byte(0x0c), next)
        .value(bond)
        .from(stranger)
        .call()
        .await
        .expect_err("not the proposer");
    assert!(
        err.as_decoded_error::<OutputOracle::NotProposer>()
            .is_some(),
        "{err}"
    );
    assert_eq!(proposal_block_taken(&err), None);
    assert_eq!(
        as_stranger.nextOutputIndex().call().await.expect("n"),
        U256::ZERO
    );
}
