//! A dApp developer's path through the node with alloy: deploy a Solidity ERC-20,
//! transfer, read receipts and logs, and verify the signed pre-confirmations.

mod common;

use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope},
    eips::eip2718::Encodable2718,
    network::TxSignerSync,
    primitives::{Address, B256, TxKind, U256, keccak256},
    providers::{Provider, ProviderBuilder, WsConnect},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolEvent},
};
use bridge_contracts::TestToken;
use common::{DEV_KEY_0, Sequencer, call};
use futures::StreamExt;
use protocol::{
    Preconfirmation,
    smt::{self, SmtProof},
};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn erc20_deploy_transfer_logs_and_preconfirmations() -> eyre::Result<()> {
    let node = Sequencer::start(None, &["--block-time-ms", "200", "--metrics-port", "0"]);
    let signer: PrivateKeySigner = DEV_KEY_0.parse()?;
    let me = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(signer.clone())
        .connect_http(node.http.parse()?);
    let chain_id = provider.get_chain_id().await?;

    // a pre-confirmation stream, opened before any transaction
    let ws = ProviderBuilder::new()
        .connect_ws(WsConnect::new(node.ws.clone()))
        .await?;
    let mut preconf_stream = ws
        .subscribe::<_, Preconfirmation>(("preconfirmations",))
        .await?
        .into_stream();
    let mut heads = ws.subscribe_blocks().await?.into_stream();

    // deploy
    let supply = U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18));
    let token = TestToken::deploy(&provider, "Blink Test".into(), "BLT".into(), supply).await?;
    let code = provider.get_code_at(*token.address()).await?;
    assert!(!code.is_empty(), "token code is deployed");
    assert_eq!(token.balanceOf(me).call().await?, supply);

    // real-time logs: a `logs` subscription from the pending block streams each log as
    // its transaction is pre-confirmed, before the block is sealed
    let mut live_logs = ws
        .subscribe::<_, serde_json::Value>((
            "logs",
            json!({"address": token.address(), "fromBlock": "pending"}),
        ))
        .await?
        .into_stream();

    // transfer through alloy's normal path
    let to = Address::repeat_byte(0x42);
    let receipt = token
        .transfer(to, U256::from(1_000))
        .send()
        .await?
        .with_timeout(Some(std::time::Duration::from_secs(60)))
        .get_receipt()
        .await?;
    assert!(receipt.status());
    assert_eq!(receipt.from, me);
    let logs = receipt.inner.logs();
    assert_eq!(logs.len(), 1);
    let ev = TestToken::Transfer::decode_log(&logs[0].inner)?;
    assert_eq!((ev.from, ev.to, ev.value), (me, to, U256::from(1_000)));
    assert_eq!(token.balanceOf(to).call().await?, U256::from(1_000));
    let live = tokio::time::timeout(Duration::from_secs(10), live_logs.next())
        .await?
        .ok_or_else(|| eyre::eyre!("logs ended"))?;
    assert_eq!(live["transactionHash"], json!(receipt.transaction_hash));
    assert_eq!(
        live["topics"][0],
        json!(TestToken::Transfer::SIGNATURE_HASH)
    );

    // eth_sendRawTransactionSync: receipt and pre-confirmation in one answer
    let nonce = provider.get_transaction_count(me).await?;
    let mut tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 100_000,
        max_fee_per_gas: 1_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to: TxKind::Call(*token.address()),
        input: TestToken::transferCall {
            to,
            value: U256::from(5),
        }
        .abi_encode()
        .into(),
        ..Default::default()
    };
    let sig = signer.sign_transaction_sync(&mut tx)?;
    let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
    let resp = call(
        &node.http,
        "eth_sendRawTransactionSync",
        json!([alloy::hex::encode_prefixed(&raw), 2000]),
    )
    .await;
    let result = &resp["result"];
    assert_eq!(result["status"], "0x1", "{resp}");
    let tx_hash: B256 = serde_json::from_value(result["transactionHash"].clone())?;
    assert_eq!(tx_hash, keccak256(&raw));
    let preconf: Preconfirmation = serde_json::from_value(result["preconfirmation"].clone())?;
    let sequencer: Address = serde_json::from_value(
        call(&node.http, "blink_sequencer", json!([])).await["result"].clone(),
    )?;
    preconf.verify(
        protocol::preconf::PreconfDomain {
            chain_id,
            verifying_contract: Default::default(),
        },
        sequencer,
    )?;
    assert_eq!(preconf.tx_hash, tx_hash);
    assert!(preconf.success);
    assert_eq!(
        format!("{:#x}", preconf.gas_used),
        result["gasUsed"].as_str().unwrap_or_default()
    );
    assert_eq!(
        format!("{:#x}", preconf.block_number),
        result["blockNumber"].as_str().unwrap_or_default()
    );
    assert_eq!(
        format!("{:#x}", preconf.index),
        result["transactionIndex"].as_str().unwrap_or_default()
    );
    // the same promise later, by hash
    let again: Preconfirmation = serde_json::from_value(
        call(&node.http, "blink_getPreconfirmation", json!([tx_hash])).await["result"].clone(),
    )?;
    assert_eq!(again, preconf);
    // a forged one does not verify
    let mut forged = preconf.clone();
    forged.index += 1;
    assert!(
        forged
            .verify(
                protocol::preconf::PreconfDomain {
                    chain_id,
                    verifying_contract: Default::default()
                },
                sequencer
            )
            .is_err()
    );

    // the stream delivered every pre-confirmation, each verifiable on its own
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let p = tokio::time::timeout(Duration::from_secs(10), preconf_stream.next())
            .await?
            .ok_or_else(|| eyre::eyre!("stream ended"))?;
        p.verify(
            protocol::preconf::PreconfDomain {
                chain_id,
                verifying_contract: Default::default(),
            },
            sequencer,
        )?;
        seen.push(p.tx_hash);
    }
    assert!(seen.contains(&tx_hash));

    // logs by filter once the block is committed
    let block_number = preconf.block_number;
    loop {
        let head = tokio::time::timeout(Duration::from_secs(10), heads.next())
            .await?
            .ok_or_else(|| eyre::eyre!("heads ended"))?;
        if head.number >= block_number {
            break;
        }
    }
    let filter = Filter::new()
        .address(*token.address())
        .event_signature(TestToken::Transfer::SIGNATURE_HASH)
        .from_block(0u64);
    let logs = provider.get_logs(&filter).await?;
    assert_eq!(logs.len(), 3, "mint, transfer, transfer");
    assert!(logs.iter().all(|l| l.block_hash.is_some()));
    let by_to = provider
        .get_logs(&filter.clone().topic2(to.into_word()))
        .await?;
    assert_eq!(by_to.len(), 2);
    let receipts = provider
        .get_block_receipts(block_number.into())
        .await?
        .unwrap_or_default();
    assert!(receipts.iter().any(|r| r.transaction_hash == tx_hash));

    // Prometheus metrics count what happened
    let metrics_url = node
        .metrics
        .clone()
        .ok_or_else(|| eyre::eyre!("no metrics endpoint"))?;
    let text = reqwest::get(&metrics_url).await?.text().await?;
    let count = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(-1.0)
    };
    assert!(count("blink_txs_preconfirmed_total") >= 3.0, "{text}");
    assert!(count("blink_mini_blocks_total") >= 3.0, "{text}");
    assert!(
        count("blink_committed_block") >= block_number as f64,
        "{text}"
    );

    // eth_getProof answers in the state commitment and verifies against the block's root
    let latest = provider.get_block_number().await?;
    let block = provider
        .get_block_by_number(latest.into())
        .await?
        .ok_or_else(|| eyre::eyre!("no block"))?;
    let slot = keccak256([to.into_word().0, B256::ZERO.0].concat());
    let proof = provider
        .get_proof(*token.address(), vec![slot])
        .block_id(latest.into())
        .await?;
    let account = SmtProof::decode(&proof.account_proof)?;
    account.verify(
        block.header.state_root,
        smt::account_key(*token.address()),
        smt::account_value(proof.nonce, proof.balance, proof.code_hash),
    )?;
    let sp = &proof.storage_proof[0];
    assert_eq!(sp.value, U256::from(1_005));
    SmtProof::decode(&sp.proof)?.verify(
        block.header.state_root,
        smt::storage_key(*token.address(), U256::from_be_bytes(slot.0)),
        smt::storage_value(sp.value),
    )?;
    Ok(())
}
