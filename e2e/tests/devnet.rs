//! `blink devnet` brings the stack up (anvil, L1 contracts, sequencer), writes a manifest
//! that tools can use, and shuts everything down on Ctrl-C. The rollup flows on it are
//! in `rollup.rs` and `batches_posted_as_blobs.rs`.

mod common;

use common::{call, devnet::Devnet};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn devnet_comes_up_deploys_and_writes_its_manifest() {
    let mut devnet = Devnet::start("devnet", &[]).await;
    let manifest = devnet.manifest.clone();
    let (l1, l2) = (devnet.l1.clone(), devnet.l2.clone());
    assert_eq!(manifest["l1"]["rpc"], l1);
    assert_eq!(manifest["l1"]["beacon"], l1);
    assert_eq!(manifest["l2"]["rpc"], l2);
    assert_eq!(
        manifest["l2"]["ws"],
        format!("ws://127.0.0.1:{}", devnet.l2_port)
    );
    assert_eq!(manifest["l2"]["chainId"], "0xa5b8");
    assert_eq!(manifest["accounts"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        manifest["accounts"][0]["address"],
        "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    );
    for name in [
        "portal",
        "batchInbox",
        "l1History",
        "outputOracle",
        "l1StandardBridge",
    ] {
        let addr = &manifest["contracts"][name];
        let code = call(&l1, "eth_getCode", json!([addr, "latest"])).await;
        assert!(
            code["result"].as_str().is_some_and(|c| c.len() > 2),
            "{name} has code on L1: {code}"
        );
    }
    // the genesis it names is a rollup genesis with the predeploys
    let genesis: protocol::Genesis = serde_json::from_slice(
        &std::fs::read(manifest["l2"]["genesis"].as_str().expect("l2.genesis")).expect("read"),
    )
    .expect("genesis json");
    let rollup = genesis.rollup.as_ref().expect("rollup config");
    assert_eq!(rollup.portal, devnet.contract("portal"));
    // the chain's L1 genesis is a block before the Portal existed, so no deposit made
    // while the contracts deploy can fall before it (derivation starts after it)
    let at_genesis = call(
        &l1,
        "eth_getCode",
        json!([
            devnet.contract("portal"),
            format!("{:#x}", rollup.l1_genesis.number)
        ]),
    )
    .await;
    assert_eq!(at_genesis["result"], "0x", "{at_genesis}");
    // pre-confirmations are signed in a domain that names the Portal
    let domain = call(&l2, "blink_preconfirmationDomain", json!([])).await;
    assert_eq!(
        domain["result"]["verifyingContract"]
            .as_str()
            .map(str::to_lowercase),
        Some(rollup.portal.to_string().to_lowercase()),
        "{domain}"
    );
    assert_eq!(rollup.batch_inbox, devnet.contract("batchInbox"));
    for predeploy in [
        bridge_contracts::predeploys::L1_BLOCK,
        bridge_contracts::predeploys::L2_STANDARD_BRIDGE,
    ] {
        let code = call(&l2, "eth_getCode", json!([predeploy, "latest"])).await;
        assert!(
            code["result"].as_str().is_some_and(|c| c.len() > 2),
            "predeploy {predeploy} has code on L2: {code}"
        );
    }
    // the sequencer answers and may post batches: BatchInbox names it
    let seq = call(&l2, "blink_sequencer", json!([])).await["result"].clone();
    assert_eq!(
        manifest["deployConfig"]["sequencer"]
            .as_str()
            .map(str::to_lowercase),
        seq.as_str().map(str::to_lowercase)
    );

    // Ctrl-C stops everything
    assert!(
        devnet.interrupt(Duration::from_secs(20)),
        "devnet did not stop on SIGINT"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    for url in [&l1, &l2] {
        assert!(
            reqwest::Client::new()
                .post(url.as_str())
                .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}))
                .send()
                .await
                .is_err(),
            "{url} stopped"
        );
    }
}
