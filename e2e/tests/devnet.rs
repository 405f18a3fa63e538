//! `blink devnet` brings the stack up and writes a manifest that tools can use.

mod common;

use common::{binary, call};
use serde_json::{Value, json};
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn devnet_comes_up_and_writes_its_manifest() {
    let dir = std::env::temp_dir().join(format!("blink-e2e-devnet-{}", std::process::id()));
    // a free port: bind, read, release
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let out = Command::new(binary("blink"))
        .args([
            "devnet",
            "--fresh",
            "--detach-check",
            "--l2-port",
            &port.to_string(),
            "--datadir",
        ])
        .arg(&dir)
        .output()
        .expect("run blink devnet");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("devnet.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["l2"]["rpc"], format!("http://127.0.0.1:{port}"));
    assert_eq!(manifest["l2"]["ws"], format!("ws://127.0.0.1:{port}"));
    assert_eq!(manifest["l2"]["chainId"], "0xa5b8");
    assert_eq!(manifest["accounts"].as_array().map(Vec::len), Some(10));
    assert_eq!(
        manifest["accounts"][0]["address"],
        "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    );
    // the stack was stopped on exit; a restart on the same directory keeps the chain
    let out = Command::new(binary("blink-sequencer"))
        .args(["--dev", "--http-port", &port.to_string(), "--datadir"])
        .arg(dir.join("l2"))
        .spawn();
    let mut child = out.expect("restart sequencer");
    let mut ok = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Ok(resp) = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}"))
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}))
            .send()
            .await
        {
            ok = resp.status().is_success();
            break;
        }
    }
    let v = call(
        &format!("http://127.0.0.1:{port}"),
        "eth_getBlockByNumber",
        json!(["0x0", false]),
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok);
    assert!(v["result"]["hash"].is_string());
    let _ = std::fs::remove_dir_all(&dir);
}
