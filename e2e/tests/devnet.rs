//! `blink devnet` brings the stack up (anvil, L1 contracts, sequencer), writes a manifest
//! that tools can use, and shuts everything down on Ctrl-C.

mod common;

use common::{binary, call, repo_root};
use serde_json::{Value, json};
use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn devnet_comes_up_deploys_and_writes_its_manifest() {
    let status = Command::new("bash")
        .arg(repo_root().join("scripts/setup.sh"))
        .status()
        .expect("setup.sh");
    assert!(status.success(), "scripts/setup.sh");
    let dir = std::env::temp_dir().join(format!("blink-e2e-devnet-{}", std::process::id()));
    let (l1_port, l2_port) = (free_port(), free_port());
    let mut child = Command::new(binary("blink"))
        .current_dir(repo_root())
        .args([
            "devnet",
            "--fresh",
            "--l1-port",
            &l1_port.to_string(),
            "--l2-port",
            &l2_port.to_string(),
            "--datadir",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("run blink devnet");
    let manifest_path = dir.join("devnet.json");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !manifest_path.exists() {
        assert!(Instant::now() < deadline, "no manifest after 120 s");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "blink devnet exited early"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest")).expect("json");
    let l1 = format!("http://127.0.0.1:{l1_port}");
    let l2 = format!("http://127.0.0.1:{l2_port}");
    assert_eq!(manifest["l1"]["rpc"], l1);
    assert_eq!(manifest["l1"]["beacon"], l1);
    assert_eq!(manifest["l2"]["rpc"], l2);
    assert_eq!(manifest["l2"]["ws"], format!("ws://127.0.0.1:{l2_port}"));
    assert_eq!(manifest["l2"]["chainId"], "0xa5b8");
    assert_eq!(manifest["accounts"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        manifest["accounts"][0]["address"],
        "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    );
    for name in ["portal", "batchInbox", "outputOracle"] {
        let addr = &manifest["contracts"][name];
        let code = call(&l1, "eth_getCode", json!([addr, "latest"])).await;
        assert!(
            code["result"].as_str().is_some_and(|c| c.len() > 2),
            "{name} has code on L1: {code}"
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
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "devnet did not stop on SIGINT");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        reqwest::Client::new()
            .post(&l1)
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}))
            .send()
            .await
            .is_err(),
        "anvil stopped"
    );
    assert!(
        reqwest::Client::new()
            .post(&l2)
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}))
            .send()
            .await
            .is_err(),
        "sequencer stopped"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
