//! Starts `blink devnet` on free ports in a fresh directory and stops it (SIGINT, then
//! SIGKILL) when dropped, passed or failed, so no test leaves anvil or a sequencer behind.

use std::{
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{binary, repo_root};

/// A running devnet and what its manifest says.
pub struct Devnet {
    pub child: Child,
    /// `--datadir` of this devnet (removed on drop).
    pub dir: PathBuf,
    /// L1 JSON-RPC (and beacon API) URL.
    pub l1: String,
    /// L2 JSON-RPC URL.
    pub l2: String,
    pub l1_port: u16,
    pub l2_port: u16,
    /// The parsed `devnet.json`.
    pub manifest: Value,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl Devnet {
    /// Runs `scripts/setup.sh` (anvil from npm), then `blink devnet --fresh` with
    /// `extra` arguments, and waits for its manifest.
    pub async fn start(name: &str, extra: &[&str]) -> Devnet {
        let status = Command::new("bash")
            .arg(repo_root().join("scripts/setup.sh"))
            .stdout(Stdio::null())
            .status()
            .expect("setup.sh");
        assert!(status.success(), "scripts/setup.sh");
        let dir = std::env::temp_dir().join(format!("blink-e2e-{name}-{}", std::process::id()));
        let (l1_port, l2_port) = (free_port(), free_port());
        let child = Command::new(binary("blink"))
            // its own process group, so a last-resort kill reaches anvil and the
            // sequencer too
            .process_group(0)
            .current_dir(repo_root())
            .args([
                "devnet",
                "--fresh",
                "--l1-port",
                &l1_port.to_string(),
                "--l2-port",
                &l2_port.to_string(),
            ])
            .args(extra)
            .arg("--datadir")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("run blink devnet");
        let mut devnet = Devnet {
            child,
            dir: dir.clone(),
            l1: format!("http://127.0.0.1:{l1_port}"),
            l2: format!("http://127.0.0.1:{l2_port}"),
            l1_port,
            l2_port,
            manifest: Value::Null,
        };
        let manifest_path = dir.join("devnet.json");
        let deadline = Instant::now() + Duration::from_secs(120);
        while !manifest_path.exists() {
            assert!(Instant::now() < deadline, "no manifest after 120 s");
            assert!(
                devnet.child.try_wait().expect("wait").is_none(),
                "blink devnet exited early; see {}",
                dir.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        devnet.manifest = serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest"))
            .expect("manifest json");
        devnet
    }

    /// An address from `contracts.<name>` of the manifest.
    pub fn contract(&self, name: &str) -> alloy::primitives::Address {
        serde_json::from_value(self.manifest["contracts"][name].clone())
            .unwrap_or_else(|e| panic!("contracts.{name} in the manifest: {e}"))
    }

    /// Sends SIGINT and waits up to `timeout` for the devnet to exit; true if it did.
    pub fn interrupt(&mut self, timeout: Duration) -> bool {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-INT", &self.child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        if !self.interrupt(Duration::from_secs(10)) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
