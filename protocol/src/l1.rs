//! What L2 takes from L1: the L1 origin of each L2 block ([`L1BlockInfo`], written into
//! the `L1Block` predeploy at the start of every block) and deposits (`Portal`'s
//! `TransactionDeposited` logs, turned into OP Stack deposited transactions, type 0x7E).

use alloy_primitives::{Address, B256, Bytes, Log, TxKind, U256, address, b256};
use op_alloy_consensus::{TxDeposit, UserDepositSource};
use serde::{Deserialize, Serialize};

/// The `L1Block` predeploy: a read-only view of the current L2 block's L1 origin.
pub const L1_BLOCK: Address = address!("0x4200000000000000000000000000000000000015");

/// `L1Block` storage slot of the origin's number.
pub const L1_BLOCK_NUMBER_SLOT: U256 = U256::ZERO;
/// `L1Block` storage slot of the origin's timestamp.
pub const L1_BLOCK_TIMESTAMP_SLOT: U256 = U256::from_limbs([1, 0, 0, 0]);
/// `L1Block` storage slot of the origin's base fee.
pub const L1_BLOCK_BASEFEE_SLOT: U256 = U256::from_limbs([2, 0, 0, 0]);
/// `L1Block` storage slot of the origin's hash.
pub const L1_BLOCK_HASH_SLOT: U256 = U256::from_limbs([3, 0, 0, 0]);
/// `L1Block` storage slot of the origin's blob base fee.
pub const L1_BLOCK_BLOB_BASE_FEE_SLOT: U256 = U256::from_limbs([4, 0, 0, 0]);
/// `L1Block` storage slot of the chain's L1 base fee scalar (rollup config).
pub const L1_BLOCK_BASE_FEE_SCALAR_SLOT: U256 = U256::from_limbs([5, 0, 0, 0]);
/// `L1Block` storage slot of the chain's L1 blob base fee scalar (rollup config).
pub const L1_BLOCK_BLOB_BASE_FEE_SCALAR_SLOT: U256 = U256::from_limbs([6, 0, 0, 0]);

/// `keccak256("TransactionDeposited(address,address,uint256,bytes)")`, as OptimismPortal.
pub const TRANSACTION_DEPOSITED: B256 =
    b256!("0xb3813568d9991fc951961fcb4c784893574240a28925604d09fc577c55bb7c32");

/// Offset of an L1 contract's L2 alias (`AddressAliasHelper`).
pub const ALIAS_OFFSET: Address = address!("0x1111000000000000000000000000000000001111");

/// Most gas a deposit runs with: Osaka's per-transaction cap (EIP-7825). A deposit asking
/// for more runs with this much (the `Portal` refuses more on L1).
pub const MAX_DEPOSIT_GAS: u64 = 1 << 24;

/// Default deposit gas one L2 block takes (`RollupConfig::max_deposit_gas`): as much as
/// the `Portal` sells per L1 block, and never less than one deposit's cap.
pub const DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK: u64 = 20_000_000;

/// Most deposits one L2 block takes, whatever their gas: 1,024. With the 10,000
/// sequenced transactions of [`crate::chain::MAX_BLOCK_TXS`] it bounds a block's units
/// (prologue, deposits, transactions, epilogue) to 11,027 < 2^14, the depth of the
/// fault proof's per-block trees (`docs/fault-proofs.md` 4.4). Light deposits (a
/// 21,000-gas mint) would otherwise fit ~950 to the default 20M budget, and ~800,000 to
/// a chain configured with a budget of 2^34.
pub const MAX_DEPOSITS_PER_BLOCK: usize = 1_024;

/// The carry-over rule: takes deposits from the front of `queue` (deposits of L1 blocks
/// up to the L2 block's origin, in L1 order, not yet included) while their gas (each
/// capped at [`MAX_DEPOSIT_GAS`]) adds up to at most `budget` and they number at most
/// [`MAX_DEPOSITS_PER_BLOCK`]; the first one is always taken, so the queue always drains.
/// The rest waits for the next L2 block, whatever its origin. Cheap to re-execute: one
/// addition and two comparisons per deposit.
pub fn take_deposits(queue: &mut std::collections::VecDeque<Deposit>, budget: u64) -> Vec<Deposit> {
    let mut used = 0u64;
    let mut n = 0;
    for d in queue.iter() {
        let gas = d.tx.gas_limit.min(MAX_DEPOSIT_GAS);
        if n == MAX_DEPOSITS_PER_BLOCK || (n > 0 && used + gas > budget) {
            break;
        }
        used += gas;
        n += 1;
    }
    queue.drain(..n).collect()
}

/// A `Portal` deposit as the chain includes it: the deposited transaction with its place
/// in `Portal`'s numbering (`index`, 0-based over every deposit the `Portal` took) and
/// the L1 block that took it. The two numbers are what `Portal.depositHashes(index)`
/// commits to besides the transaction ([`portal_deposit_hash`]), and they make the
/// deposit's leaf in `transactionsRoot` ([`Deposit::leaf`]), which a fault proof opens
/// from L1 storage alone (`docs/fault-proofs.md` 4.5).
///
/// Indices are counted by whoever queues deposits (`protocol::derive`, the sequencer):
/// the first deposit of the first L1 block after the genesis origin is
/// [`RollupConfig::first_deposit_index`](crate::chain::RollupConfig::first_deposit_index),
/// and each next deposit, in L1 log order, is one more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deposit {
    /// Place in `Portal`'s numbering.
    pub index: u64,
    /// The L1 block whose `Portal` call made it.
    pub l1_block: u64,
    /// The deposited transaction (OP Stack type 0x7E).
    pub tx: TxDeposit,
}

impl Deposit {
    /// What `Portal.depositHashes(index)` holds for this deposit.
    pub fn portal_hash(&self) -> B256 {
        portal_deposit_hash(self.index, self.l1_block, &self.tx)
    }

    /// Its leaf in `transactionsRoot`: `keccak(0x7E ‖ portalDepositHash)`, 33 bytes
    /// hashed. Not the OP deposit hash (which the transaction keeps as its hash for RPC
    /// and tooling): that one hangs on the L1 block hash and log index, which L1 storage
    /// does not keep.
    pub fn leaf(&self) -> B256 {
        deposit_leaf(self.portal_hash())
    }
}

/// A deposit's leaf in `transactionsRoot` from its `Portal` hash: `keccak(0x7E ‖ hash)`.
pub fn deposit_leaf(portal_hash: B256) -> B256 {
    let mut buf = [0u8; 33];
    buf[0] = 0x7e;
    buf[1..].copy_from_slice(portal_hash.as_slice());
    alloy_primitives::keccak256(buf)
}

/// Numbers the deposits of consecutive L1 blocks, `blocks` in L1 order as `(L1 block
/// number, its deposits in log order)`, from `next` (the index the first one gets);
/// returns them and leaves `next` at the index the following deposit will get.
pub fn number_deposits<'a>(
    next: &mut u64,
    blocks: impl IntoIterator<Item = (u64, &'a [TxDeposit])>,
) -> Vec<Deposit> {
    let mut out = Vec::new();
    for (l1_block, txs) in blocks {
        for tx in txs {
            out.push(Deposit {
                index: *next,
                l1_block,
                tx: tx.clone(),
            });
            *next += 1;
        }
    }
    out
}

/// The L1 block an L2 block builds on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L1BlockInfo {
    /// L1 block number.
    pub number: u64,
    /// L1 block hash.
    pub hash: B256,
    /// L1 block timestamp (seconds).
    pub timestamp: u64,
    /// L1 base fee (wei).
    pub base_fee: u64,
    /// L1 blob base fee (wei per blob gas), computed from the header's
    /// `excess_blob_gas`; 1 (the EIP-4844 minimum) for a header without one, and for
    /// genesis files written before the field existed.
    #[serde(default = "min_blob_base_fee")]
    pub blob_base_fee: u128,
}

fn min_blob_base_fee() -> u128 {
    alloy_eips::eip4844::BLOB_TX_MIN_BLOB_GASPRICE
}

impl L1BlockInfo {
    /// The storage writes that publish this origin in the `L1Block` predeploy.
    pub fn slots(&self) -> [(U256, U256); 5] {
        [
            (L1_BLOCK_NUMBER_SLOT, U256::from(self.number)),
            (L1_BLOCK_TIMESTAMP_SLOT, U256::from(self.timestamp)),
            (L1_BLOCK_BASEFEE_SLOT, U256::from(self.base_fee)),
            (L1_BLOCK_HASH_SLOT, U256::from_be_bytes(self.hash.0)),
            (L1_BLOCK_BLOB_BASE_FEE_SLOT, U256::from(self.blob_base_fee)),
        ]
    }
}

/// The blob base fee of an L1 block with `excess_blob_gas` (`None`: a header from before
/// Cancun, or a node that does not report it, which counts as the minimum, 1 wei).
///
/// Uses Osaka's blob parameters (alloy's `BlobParams::osaka()`; Prague's give the same
/// fee, both use the update fraction 5,007,716), which is what anvil 1.7.1 and Ethereum
/// mainnet at Osaka run. The blob-parameter-only forks that follow (BPO1, BPO2) change
/// the update fraction: an L1 on those needs this function to follow them.
pub fn blob_base_fee(excess_blob_gas: Option<u64>) -> u128 {
    match excess_blob_gas {
        Some(excess) => alloy_eips::eip7840::BlobParams::osaka().calc_blob_fee(excess),
        None => min_blob_base_fee(),
    }
}

/// Why a `TransactionDeposited` log is not a deposit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepositError {
    /// Not the event, or not three indexed topics.
    #[error("not a TransactionDeposited log")]
    NotDeposit,
    /// An opaque-data version this code does not know.
    #[error("unknown deposit version {0}")]
    UnknownVersion(U256),
    /// The ABI `bytes` wrapper or the packed fields are malformed.
    #[error("malformed deposit data: {0}")]
    Malformed(&'static str),
}

/// The L2 alias of an L1 address (`AddressAliasHelper.applyL1ToL2Alias`).
pub fn apply_alias(l1: Address) -> Address {
    let sum = U256::from_be_slice(l1.as_slice()) + U256::from_be_slice(ALIAS_OFFSET.as_slice());
    let bytes = sum.to_be_bytes::<32>();
    Address::from_slice(&bytes[12..])
}

/// What `Portal.depositHashes(index)` holds for the deposit `tx` made in L1 block
/// `l1_block` as the Portal's `index`-th deposit (0-based): the twin of the Solidity
/// `keccak256(abi.encode(uint64 index, uint64 l1Block, address from, address to,
/// uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes32 keccak256(data),
/// uint32 data.length))`, ten 32-byte words. `from` is the (aliased or not) sender as the
/// `TransactionDeposited` event has it; a creation has `to = 0` and `isCreation`, a call
/// its target and `!isCreation` (the Portal refuses a creation with another target).
/// The source hash is not part of it: deposits are numbered by index, not by L1 log
/// position (`docs/fault-proofs.md` 4.5). The data length is taken modulo 2^32, as
/// Solidity's `uint32(...)` would; the Portal caps it at 120,000 bytes.
pub fn portal_deposit_hash(index: u64, l1_block: u64, tx: &TxDeposit) -> B256 {
    alloy_primitives::keccak256(portal_deposit_record(index, l1_block, tx))
}

/// The 320-byte preimage of [`portal_deposit_hash`] (what a fault proof's `DEPOSIT_NEXT`
/// witness carries).
pub fn portal_deposit_record(index: u64, l1_block: u64, tx: &TxDeposit) -> Vec<u8> {
    let (to, is_creation) = match tx.to {
        TxKind::Create => (Address::ZERO, true),
        TxKind::Call(to) => (to, false),
    };
    let word_u64 = |v: u64| U256::from(v).to_be_bytes::<32>();
    let mut buf = Vec::with_capacity(10 * 32);
    buf.extend_from_slice(&word_u64(index));
    buf.extend_from_slice(&word_u64(l1_block));
    buf.extend_from_slice(tx.from.into_word().as_slice());
    buf.extend_from_slice(to.into_word().as_slice());
    buf.extend_from_slice(&U256::from(tx.mint).to_be_bytes::<32>());
    buf.extend_from_slice(&tx.value.to_be_bytes::<32>());
    buf.extend_from_slice(&word_u64(tx.gas_limit));
    buf.extend_from_slice(&word_u64(u64::from(is_creation)));
    buf.extend_from_slice(alloy_primitives::keccak256(&tx.input).as_slice());
    buf.extend_from_slice(&word_u64(u64::from(tx.input.len() as u32)));
    buf
}

/// Turns a `TransactionDeposited` log (emitted in the L1 block `l1_block_hash` at
/// block-wide `log_index`) into a deposited transaction, exactly as OP Stack derivation
/// does (`UserDepositSource` source hash, opaque data version 0).
pub fn deposit_from_log(
    log: &Log,
    l1_block_hash: B256,
    log_index: u64,
) -> Result<TxDeposit, DepositError> {
    let topics = log.topics();
    if topics.len() != 4 || topics[0] != TRANSACTION_DEPOSITED {
        return Err(DepositError::NotDeposit);
    }
    let from = Address::from_word(topics[1]);
    let to = Address::from_word(topics[2]);
    let version = U256::from_be_bytes(topics[3].0);
    if version != U256::ZERO {
        return Err(DepositError::UnknownVersion(version));
    }
    // ABI `bytes`: offset (32) ‖ length (32) ‖ data
    let data = &log.data.data[..];
    if data.len() < 64 {
        return Err(DepositError::Malformed("short abi bytes"));
    }
    let offset = U256::from_be_slice(&data[..32]);
    if offset != U256::from(32) {
        return Err(DepositError::Malformed("bad abi offset"));
    }
    let len = usize::try_from(U256::from_be_slice(&data[32..64]))
        .map_err(|_| DepositError::Malformed("bad abi length"))?;
    let opaque = data
        .get(64..64usize.saturating_add(len))
        .ok_or(DepositError::Malformed("abi length past data"))?;
    // mint (32) ‖ value (32) ‖ gasLimit (8) ‖ isCreation (1) ‖ data
    if opaque.len() < 73 {
        return Err(DepositError::Malformed("short opaque data"));
    }
    let mint = U256::from_be_slice(&opaque[..32]);
    let mint = u128::try_from(mint).map_err(|_| DepositError::Malformed("mint above u128"))?;
    let value = U256::from_be_slice(&opaque[32..64]);
    let gas_limit = u64::from_be_bytes(opaque[64..72].try_into().unwrap_or_default());
    let is_creation = opaque[72] != 0;
    let input = Bytes::copy_from_slice(&opaque[73..]);
    Ok(TxDeposit {
        source_hash: UserDepositSource::new(l1_block_hash, log_index).source_hash(),
        from,
        to: if is_creation {
            TxKind::Create
        } else {
            TxKind::Call(to)
        },
        mint,
        value,
        gas_limit,
        is_system_transaction: false,
        input,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{LogData, keccak256};

    fn opaque_log(mint: u128, value: u64, gas: u64, create: bool, data: &[u8]) -> Log {
        let mut opaque = Vec::new();
        opaque.extend_from_slice(&U256::from(mint).to_be_bytes::<32>());
        opaque.extend_from_slice(&U256::from(value).to_be_bytes::<32>());
        opaque.extend_from_slice(&gas.to_be_bytes());
        opaque.push(create as u8);
        opaque.extend_from_slice(data);
        let mut abi = U256::from(32).to_be_bytes::<32>().to_vec();
        abi.extend_from_slice(&U256::from(opaque.len()).to_be_bytes::<32>());
        abi.extend_from_slice(&opaque);
        abi.resize(64 + opaque.len().div_ceil(32) * 32, 0);
        Log {
            address: Address::repeat_byte(9),
            data: LogData::new_unchecked(
                vec![
                    TRANSACTION_DEPOSITED,
                    Address::repeat_byte(1).into_word(),
                    Address::repeat_byte(2).into_word(),
                    B256::ZERO,
                ],
                abi.into(),
            ),
        }
    }

    #[test]
    fn event_signature_matches() {
        assert_eq!(
            TRANSACTION_DEPOSITED,
            keccak256("TransactionDeposited(address,address,uint256,bytes)")
        );
    }

    #[test]
    fn decodes_opaque_data() {
        let log = opaque_log(5, 3, 100_000, false, b"hello");
        let d = deposit_from_log(&log, B256::repeat_byte(7), 4).unwrap();
        assert_eq!(d.from, Address::repeat_byte(1));
        assert_eq!(d.to, TxKind::Call(Address::repeat_byte(2)));
        assert_eq!(d.mint, 5);
        assert_eq!(d.value, U256::from(3));
        assert_eq!(d.gas_limit, 100_000);
        assert_eq!(&d.input[..], b"hello");
        assert_eq!(
            d.source_hash,
            UserDepositSource::new(B256::repeat_byte(7), 4).source_hash()
        );
        let c = deposit_from_log(&opaque_log(0, 0, 1, true, b""), B256::ZERO, 0).unwrap();
        assert_eq!(c.to, TxKind::Create);
    }

    #[test]
    fn deposit_leaf_commits_to_the_portal_numbering() {
        let tx = deposit_from_log(&opaque_log(5, 3, 100_000, false, b"hi"), B256::ZERO, 0).unwrap();
        let d = Deposit {
            index: 7,
            l1_block: 99,
            tx: tx.clone(),
        };
        let mut pre = vec![0x7e];
        pre.extend_from_slice(portal_deposit_hash(7, 99, &tx).as_slice());
        assert_eq!(d.leaf(), keccak256(&pre));
        // not the OP deposit hash, and a different index or L1 block is another leaf
        let op_hash = op_alloy_consensus::OpTxEnvelope::from(tx.clone()).tx_hash();
        assert_ne!(d.leaf(), op_hash);
        assert_ne!(
            Deposit {
                index: 8,
                ..d.clone()
            }
            .leaf(),
            d.leaf()
        );
        assert_ne!(
            Deposit {
                l1_block: 98,
                ..d.clone()
            }
            .leaf(),
            d.leaf()
        );
    }

    #[test]
    fn deposits_are_numbered_in_l1_order_across_blocks() {
        let tx = |i: u8| TxDeposit {
            source_hash: B256::repeat_byte(i),
            ..Default::default()
        };
        let a = [tx(1), tx(2)];
        let b: [TxDeposit; 0] = [];
        let c = [tx(3)];
        let mut next = 40;
        let out = number_deposits(&mut next, [(5, &a[..]), (6, &b[..]), (9, &c[..])]);
        let got: Vec<_> = out
            .iter()
            .map(|d| (d.index, d.l1_block, d.tx.source_hash))
            .collect();
        assert_eq!(
            got,
            vec![
                (40, 5, B256::repeat_byte(1)),
                (41, 5, B256::repeat_byte(2)),
                (42, 9, B256::repeat_byte(3)),
            ]
        );
        assert_eq!(next, 43);
    }

    #[test]
    fn portal_deposit_hash_is_the_abi_encoding() {
        use alloy_sol_types::SolValue;
        let tx =
            deposit_from_log(&opaque_log(5, 3, 100_000, false, b"hello"), B256::ZERO, 0).unwrap();
        let want = keccak256(
            (
                7u64,
                99u64,
                Address::repeat_byte(1),
                Address::repeat_byte(2),
                U256::from(5),
                U256::from(3),
                100_000u64,
                false,
                keccak256(b"hello"),
                5u32,
            )
                .abi_encode(),
        );
        assert_eq!(portal_deposit_hash(7, 99, &tx), want);
        // a creation: target zero, flag set
        let c = deposit_from_log(&opaque_log(0, 0, 1, true, b""), B256::ZERO, 0).unwrap();
        let want = keccak256(
            (
                0u64,
                1u64,
                Address::repeat_byte(1),
                Address::ZERO,
                U256::ZERO,
                U256::ZERO,
                1u64,
                true,
                keccak256(b""),
                0u32,
            )
                .abi_encode(),
        );
        assert_eq!(portal_deposit_hash(0, 1, &c), want);
    }

    #[test]
    fn blob_base_fee_from_excess() {
        assert_eq!(blob_base_fee(None), 1);
        assert_eq!(blob_base_fee(Some(0)), 1);
        // e^(excess / 5007716): at 10x the fraction, fake_exponential(1, 50077160, 5007716)
        assert_eq!(
            blob_base_fee(Some(50_077_160)),
            alloy_eips::eip4844::fake_exponential(1, 50_077_160, 5_007_716)
        );
        assert!(blob_base_fee(Some(50_077_160)) > 20_000);
    }

    #[test]
    fn old_genesis_origin_loads_with_minimum_blob_fee() {
        let json = r#"{"number":1,"hash":"0x0000000000000000000000000000000000000000000000000000000000000000","timestamp":2,"baseFee":3}"#;
        let info: L1BlockInfo = serde_json::from_str(json).unwrap();
        assert_eq!(info.blob_base_fee, 1);
        assert_eq!(info.base_fee, 3);
    }

    #[test]
    fn alias_wraps() {
        assert_eq!(
            apply_alias(Address::ZERO),
            address!("0x1111000000000000000000000000000000001111")
        );
        assert_eq!(
            apply_alias(address!("0xffffffffffffffffffffffffffffffffffffffff")),
            address!("0x1111000000000000000000000000000000001110")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300), v in 0u8..2) {
            let log = Log {
                address: Address::ZERO,
                data: LogData::new_unchecked(
                    vec![TRANSACTION_DEPOSITED, B256::ZERO, B256::ZERO, B256::with_last_byte(v)],
                    data.into(),
                ),
            };
            let _ = deposit_from_log(&log, B256::ZERO, 0);
        }
    }
}
