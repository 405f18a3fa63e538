//! Reading L1 blocks: the confirmed head, blocks with their `Portal` deposits and parent
//! hashes ([`L1Entry`]), and the finalized outputs of `OutputOracle`.
//!
//! Only standard `eth_*` methods are used. Callers read a confirmation depth below the L1
//! head, so shallower reorgs are never seen; a deeper one shows as a parent hash that does
//! not match, which the caller acts on.
//!
//! What it is not: the batches (`crate::inbox`), or what a node does with the blocks (the
//! sequencer's origin view and derivation driver stay in the sequencer).

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
};
use protocol::{
    TxDeposit,
    l1::{L1BlockInfo, TRANSACTION_DEPOSITED, deposit_from_log},
};
use std::collections::BTreeMap;

use crate::{L1ReadError, source::L1Chain};

fn rpc<E: std::fmt::Display>(e: E) -> L1ReadError {
    L1ReadError::rpc(e)
}

/// One confirmed L1 block and its `Portal` deposits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Entry {
    /// The block.
    pub info: L1BlockInfo,
    /// Its parent's hash.
    pub parent_hash: B256,
    /// Deposits, in log order.
    pub deposits: Vec<TxDeposit>,
}

/// Reads L1 blocks and deposits.
#[derive(Clone, Debug)]
pub struct L1Reader {
    provider: DynProvider,
    portal: Address,
}

/// A read-only HTTP provider of `l1_rpc` (no fillers: nothing is sent through it).
pub fn read_provider(l1_rpc: &str) -> Result<DynProvider, L1ReadError> {
    let url = l1_rpc
        .parse()
        .map_err(|e| L1ReadError::Config(format!("l1 rpc url {l1_rpc}: {e}")))?;
    Ok(ProviderBuilder::new()
        .disable_recommended_fillers()
        .connect_http(url)
        .erased())
}

impl L1Reader {
    /// A reader of `l1_rpc` for the deposits of `portal`.
    pub fn new(l1_rpc: &str, portal: Address) -> Result<Self, L1ReadError> {
        Ok(Self {
            provider: read_provider(l1_rpc)?,
            portal,
        })
    }

    /// The provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The output root L1's `OutputOracle` at `oracle` holds for L2 block `number`, if
    /// that output exists and its challenge window has passed. A snapshot of block
    /// `number` whose state root and block hash give this root is the chain L1 settled.
    pub async fn finalized_output(
        &self,
        oracle: Address,
        number: u64,
    ) -> Result<B256, L1ReadError> {
        let oracle = bridge_contracts::OutputOracle::new(oracle, &self.provider);
        let start = oracle.STARTING_BLOCK_NUMBER().call().await.map_err(rpc)?;
        let interval = oracle.SUBMISSION_INTERVAL().call().await.map_err(rpc)?;
        let n = alloy::primitives::U256::from(number);
        if interval.is_zero() || n <= start || !((n - start) % interval).is_zero() {
            return Err(L1ReadError::Config(format!(
                "L2 block {number} is not an output block (outputs are every {interval} blocks after {start})"
            )));
        }
        let index = (n - start) / interval - alloy::primitives::U256::from(1);
        if !oracle.isFinalized(index).call().await.map_err(rpc)? {
            return Err(L1ReadError::NotFinalized(number));
        }
        let output = oracle.getOutput(index).call().await.map_err(rpc)?;
        if output.l2BlockNumber != number {
            return Err(L1ReadError::Rpc(format!(
                "output {index} is for block {}, not {number}",
                output.l2BlockNumber
            )));
        }
        Ok(output.outputRoot)
    }
}

impl L1Chain for L1Reader {
    async fn head(&self) -> Result<u64, L1ReadError> {
        self.provider.get_block_number().await.map_err(rpc)
    }

    async fn header(&self, number: u64) -> Result<Option<alloy::consensus::Header>, L1ReadError> {
        let Some(block) = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(rpc)?
        else {
            return Ok(None);
        };
        let header = block.header.inner;
        // what a fault proof opens on L1 is the header's RLP: it must hash to the hash
        if header.hash_slow() != block.header.hash {
            return Err(L1ReadError::HeaderHash(number));
        }
        Ok(Some(header))
    }

    async fn blocks(&self, from: u64, to: u64) -> Result<Vec<L1Entry>, L1ReadError> {
        if to < from {
            return Ok(Vec::new());
        }
        let filter = Filter::new()
            .address(self.portal)
            .event_signature(TRANSACTION_DEPOSITED)
            .from_block(from)
            .to_block(to);
        let logs = self.provider.get_logs(&filter).await.map_err(rpc)?;
        let mut by_block: BTreeMap<u64, Vec<_>> = BTreeMap::new();
        for log in logs {
            let (Some(n), Some(hash), Some(index)) =
                (log.block_number, log.block_hash, log.log_index)
            else {
                return Err(L1ReadError::Rpc("log without block or index".into()));
            };
            match deposit_from_log(&log.inner, hash, index) {
                Ok(d) => by_block.entry(n).or_default().push((hash, d)),
                // only Portal emits these; a log it did not mean as a deposit is skipped
                Err(e) => tracing::warn!(block = n, error = %e, "deposit log skipped"),
            }
        }
        let mut out = Vec::with_capacity((to - from + 1) as usize);
        for n in from..=to {
            let block = self
                .provider
                .get_block_by_number(BlockNumberOrTag::Number(n))
                .await
                .map_err(rpc)?
                .ok_or(L1ReadError::MissingBlock(n))?;
            let h = &block.header;
            let info = L1BlockInfo {
                number: n,
                hash: h.hash,
                timestamp: h.timestamp,
                base_fee: h.base_fee_per_gas.unwrap_or_default(),
                // from the header, so a replica reading the same block gets the same fee
                blob_base_fee: protocol::l1::blob_base_fee(h.excess_blob_gas),
            };
            let deposits = by_block.remove(&n).unwrap_or_default();
            // logs and header must come from the same fork
            if deposits.iter().any(|(hash, _)| *hash != info.hash) {
                return Err(L1ReadError::Changed(n));
            }
            out.push(L1Entry {
                info,
                parent_hash: h.parent_hash,
                deposits: deposits.into_iter().map(|(_, d)| d).collect(),
            });
        }
        Ok(out)
    }
}
