//! A small JSON-RPC client over keep-alive HTTP connections, and the parsing of
//! responses. Bodies of the measured phase are built by hand (see
//! [`raw_tx_body`]) so that sending costs no serialisation.

use std::time::Duration;

use bytes::Bytes;
use eyre::{WrapErr, eyre};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// JSON-RPC "method not found".
pub const METHOD_NOT_FOUND: i64 = -32601;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RpcError {
    /// Error code.
    pub code: i64,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// Why a JSON-RPC response did not carry a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The endpoint answered with a JSON-RPC error object.
    Rpc(RpcError),
    /// The body was not a JSON-RPC response.
    Malformed(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Rpc(e) => write!(f, "{e}"),
            Failure::Malformed(m) => write!(f, "malformed response: {m}"),
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<RpcError>,
}

/// Parse a JSON-RPC response body into its `result` (which may be `null`).
pub fn parse_response(body: &[u8]) -> Result<Value, Failure> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| {
        let snippet = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        Failure::Malformed(format!("{e}: {snippet}"))
    })?;
    match (env.error, env.result) {
        (Some(err), _) => Err(Failure::Rpc(err)),
        (None, Some(v)) => Ok(v),
        (None, None) => Ok(Value::Null),
    }
}

/// Outcome of one measured send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted (async method) or executed successfully (sync method).
    Ok,
    /// Failed; the string is the error kind used to group errors.
    Err(String),
}

/// Classify the response to `eth_sendRawTransaction` (a tx hash) or
/// `eth_sendRawTransactionSync` (a receipt whose `status` must be `0x1`).
pub fn classify_send(body: &[u8], sync: bool) -> SendOutcome {
    match parse_response(body) {
        Err(Failure::Rpc(e)) => SendOutcome::Err(normalize_message(&e.to_string())),
        Err(m @ Failure::Malformed(_)) => SendOutcome::Err(normalize_message(&m.to_string())),
        Ok(v) if sync => match v.get("status").and_then(Value::as_str) {
            Some("0x1") => SendOutcome::Ok,
            Some(s) => SendOutcome::Err(format!("receipt status {s} (reverted)")),
            None => SendOutcome::Err("receipt without status".to_string()),
        },
        Ok(Value::String(_)) => SendOutcome::Ok,
        Ok(_) => SendOutcome::Err("unexpected result (not a tx hash)".to_string()),
    }
}

/// Make error messages groupable: hex strings become `0x…` and decimal numbers `N`,
/// so "nonce too low: next nonce 5, tx nonce 3" and "... 6, ... 4" count as one kind.
pub fn normalize_message(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let b = msg.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'0' && i + 1 < b.len() && (b[i + 1] == b'x' || b[i + 1] == b'X') {
            let mut j = i + 2;
            while j < b.len() && b[j].is_ascii_hexdigit() {
                j += 1;
            }
            if j > i + 2 {
                out.push_str("0x…");
                i = j;
                continue;
            }
        }
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            // Keep negative error codes and numbers glued to words (e.g. "eip1559").
            if j == b.len() || !b[j].is_ascii_alphabetic() {
                if i > 0 && b[i - 1] == b'-' {
                    out.push_str(&msg[i..j]);
                } else {
                    out.push('N');
                }
                i = j;
                continue;
            }
        }
        let ch_len = msg[i..].chars().next().map(char::len_utf8).unwrap_or(1);
        out.push_str(&msg[i..i + ch_len]);
        i += ch_len;
    }
    out
}

/// Build the request body for sending one raw transaction.
pub fn raw_tx_body(id: u64, method: &str, raw_tx: &[u8], sync_timeout_ms: Option<u64>) -> Bytes {
    let mut s = String::with_capacity(64 + method.len() + raw_tx.len() * 2);
    s.push_str("{\"jsonrpc\":\"2.0\",\"id\":");
    s.push_str(&id.to_string());
    s.push_str(",\"method\":\"");
    s.push_str(method);
    s.push_str("\",\"params\":[\"0x");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &byte in raw_tx {
        s.push(HEX[(byte >> 4) as usize] as char);
        s.push(HEX[(byte & 0xf) as usize] as char);
    }
    s.push('"');
    if let Some(t) = sync_timeout_ms {
        s.push(',');
        s.push_str(&t.to_string());
    }
    s.push_str("]}");
    Bytes::from(s)
}

/// A JSON-RPC client over a pool of keep-alive HTTP/1.1 connections.
#[derive(Debug, Clone)]
pub struct Rpc {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl Rpc {
    /// Create a client for `url` keeping up to `pool` idle connections.
    pub fn new(url: &str, pool: usize, timeout: Duration) -> eyre::Result<Self> {
        let url = reqwest::Url::parse(url).wrap_err_with(|| format!("invalid RPC URL {url}"))?;
        let client = reqwest::Client::builder()
            .http1_only()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(pool)
            .pool_idle_timeout(Duration::from_secs(90))
            .timeout(timeout)
            .no_proxy()
            .build()
            .wrap_err("building HTTP client")?;
        Ok(Self { client, url })
    }

    /// The endpoint URL.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// POST a pre-built JSON-RPC body and return the response body.
    pub async fn post(&self, body: Bytes) -> Result<Bytes, reqwest::Error> {
        self.client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await
    }

    /// Call `method` and return its raw result, or the failure.
    pub async fn call_raw(
        &self,
        method: &str,
        params: Value,
    ) -> eyre::Result<Result<Value, Failure>> {
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let body = serde_json::to_vec(&body).wrap_err("encoding request")?;
        let resp = self
            .post(Bytes::from(body))
            .await
            .wrap_err_with(|| format!("{method} to {}", self.url))?;
        Ok(parse_response(&resp))
    }

    /// Call `method` and decode its result as `T`.
    pub async fn call<T: DeserializeOwned>(&self, method: &str, params: Value) -> eyre::Result<T> {
        let v = self
            .call_raw(method, params)
            .await?
            .map_err(|f| eyre!("{method} failed: {f}"))?;
        serde_json::from_value(v).wrap_err_with(|| format!("decoding the result of {method}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_result_and_error() {
        assert_eq!(
            parse_response(br#"{"jsonrpc":"2.0","id":1,"result":"0x1"}"#),
            Ok(Value::String("0x1".into()))
        );
        assert_eq!(
            parse_response(br#"{"jsonrpc":"2.0","id":1,"result":null}"#),
            Ok(Value::Null)
        );
        assert_eq!(
            parse_response(
                br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"#
            ),
            Err(Failure::Rpc(RpcError {
                code: METHOD_NOT_FOUND,
                message: "Method not found".into()
            }))
        );
        assert!(matches!(
            parse_response(b"<html>"),
            Err(Failure::Malformed(_))
        ));
        assert!(matches!(
            parse_response(b"[1,2]"),
            Err(Failure::Malformed(_))
        ));
    }

    #[test]
    fn classifies_sends() {
        let hash = br#"{"jsonrpc":"2.0","id":1,"result":"0xabc"}"#;
        assert_eq!(classify_send(hash, false), SendOutcome::Ok);
        let ok = br#"{"jsonrpc":"2.0","id":1,"result":{"status":"0x1","transactionHash":"0xab"}}"#;
        assert_eq!(classify_send(ok, true), SendOutcome::Ok);
        let reverted = br#"{"jsonrpc":"2.0","id":1,"result":{"status":"0x0"}}"#;
        assert_eq!(
            classify_send(reverted, true),
            SendOutcome::Err("receipt status 0x0 (reverted)".into())
        );
        let err = br#"{"jsonrpc":"2.0","id":9,"error":{"code":-32003,"message":"nonce too low: next nonce 12, tx nonce 3"}}"#;
        assert_eq!(
            classify_send(err, true),
            SendOutcome::Err("nonce too low: next nonce N, tx nonce N (-32003)".into())
        );
        // a hash where a receipt was expected is not success
        assert!(matches!(classify_send(hash, true), SendOutcome::Err(_)));
    }

    #[test]
    fn normalizes_messages() {
        assert_eq!(
            normalize_message("tx 0xdeadBEEF already known"),
            "tx 0x… already known"
        );
        assert_eq!(
            normalize_message("eip1559 fee 100 too low"),
            "eip1559 fee N too low"
        );
        assert_eq!(normalize_message("ünïcode 42"), "ünïcode N");
    }

    #[test]
    fn builds_raw_bodies() {
        let b = raw_tx_body(7, "eth_sendRawTransactionSync", &[0x02, 0xff], None);
        assert_eq!(&b[..], br#"{"jsonrpc":"2.0","id":7,"method":"eth_sendRawTransactionSync","params":["0x02ff"]}"#);
        let v: Value =
            serde_json::from_slice(&raw_tx_body(1, "m", &[1], Some(500))).expect("valid json");
        assert_eq!(v["params"][1], 500);
    }
}
