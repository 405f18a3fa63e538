//! The L1 blocks the sequencer may build on: confirmed L1 blocks (a configured depth
//! below the L1 head) with their deposits, filled by the L1 reader and consumed by the
//! executor when it opens a block ([`L1Entry`] is `l1_reader`'s).

use l1_reader::L1Entry;
use parking_lot::Mutex;
use protocol::{TxDeposit, l1::L1BlockInfo};
use std::collections::BTreeMap;

/// Deposits of consecutive L1 blocks: `(L1 block number, its deposits in log order)`,
/// blocks without deposits left out. The executor numbers them
/// (`protocol::l1::number_deposits`).
pub type BlockDeposits = Vec<(u64, Vec<TxDeposit>)>;

/// Confirmed L1 blocks not yet used as an origin, contiguous by number.
#[derive(Debug, Default)]
pub struct L1View {
    blocks: Mutex<BTreeMap<u64, L1Entry>>,
}

impl L1View {
    /// Adds the next confirmed block. Returns false (and adds nothing) if it does not
    /// extend the last one: a reorg deeper than the confirmation depth, after which the
    /// reader drops the tail with [`L1View::truncate_from`] and reads again.
    pub fn push(&self, entry: L1Entry) -> bool {
        let mut blocks = self.blocks.lock();
        if let Some((&n, last)) = blocks.last_key_value()
            && (entry.info.number != n + 1 || entry.parent_hash != last.info.hash)
        {
            return false;
        }
        blocks.insert(entry.info.number, entry);
        true
    }

    /// Drops blocks from `number` on.
    pub fn truncate_from(&self, number: u64) {
        self.blocks.lock().split_off(&number);
    }

    /// Number of the newest block held.
    pub fn last(&self) -> Option<L1BlockInfo> {
        self.blocks.lock().last_key_value().map(|(_, e)| e.info)
    }

    /// The origin for a block at `timestamp` whose parent built on `parent`: the newest
    /// held block no later than `timestamp` (or `parent` when there is none), and the
    /// deposits of every block after `parent` up to it, by block. Blocks up to the
    /// chosen origin are released.
    pub fn next_origin(
        &self,
        parent: &L1BlockInfo,
        timestamp: u64,
    ) -> (L1BlockInfo, BlockDeposits) {
        self.take_origin(parent, timestamp, true)
    }

    /// The origin [`L1View::next_origin`] would choose, without releasing anything.
    pub fn peek_origin(&self, parent: &L1BlockInfo, timestamp: u64) -> L1BlockInfo {
        self.take_origin(parent, timestamp, false).0
    }

    fn take_origin(
        &self,
        parent: &L1BlockInfo,
        timestamp: u64,
        take: bool,
    ) -> (L1BlockInfo, BlockDeposits) {
        let mut blocks = self.blocks.lock();
        // the reader starts right after the parent's origin; anything older is stale
        *blocks = blocks.split_off(&(parent.number + 1));
        match blocks.first_key_value() {
            Some((&first, e)) if first == parent.number + 1 && e.parent_hash == parent.hash => {}
            _ => return (*parent, Vec::new()),
        }
        let chosen = blocks
            .values()
            .take_while(|e| e.info.timestamp <= timestamp)
            .last()
            .map(|e| e.info);
        let Some(origin) = chosen else {
            return (*parent, Vec::new());
        };
        if !take {
            return (origin, Vec::new());
        }
        let rest = blocks.split_off(&(origin.number + 1));
        let taken = std::mem::replace(&mut *blocks, rest);
        let deposits = taken
            .into_values()
            .filter(|e| !e.deposits.is_empty())
            .map(|e| (e.info.number, e.deposits))
            .collect();
        (origin, deposits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{B256, U256};

    fn info(n: u64) -> L1BlockInfo {
        L1BlockInfo {
            number: n,
            hash: B256::from(U256::from(n + 100)),
            timestamp: 10 * n,
            base_fee: 1,
            blob_base_fee: 1,
        }
    }

    fn entry(n: u64, deposits: usize) -> L1Entry {
        L1Entry {
            info: info(n),
            parent_hash: info(n - 1).hash,
            deposits: (0..deposits)
                .map(|i| TxDeposit {
                    source_hash: B256::from(U256::from(n * 10 + i as u64)),
                    ..Default::default()
                })
                .collect(),
        }
    }

    #[test]
    fn picks_newest_block_not_after_the_timestamp_with_all_deposits_since() {
        let view = L1View::default();
        for n in 1..=4 {
            assert!(view.push(entry(n, n as usize)));
        }
        assert!(!view.push(entry(6, 0)), "gap refused");
        let (o, d) = view.next_origin(&info(0), 25);
        assert_eq!(o, info(2));
        let per_block: Vec<_> = d.iter().map(|(n, d)| (*n, d.len())).collect();
        assert_eq!(per_block, vec![(1, 1), (2, 2)]);
        let count = |d: &BlockDeposits| d.iter().map(|(_, d)| d.len()).sum::<usize>();
        let (o, d) = view.next_origin(&o, 25);
        assert_eq!((o, count(&d)), (info(2), 0), "nothing newer fits");
        let (o, d) = view.next_origin(&o, 1000);
        assert_eq!((o, count(&d)), (info(4), 3 + 4));
        view.truncate_from(3);
        assert_eq!(view.last(), None);
    }

    #[test]
    fn a_view_not_continuing_the_parent_gives_no_origin() {
        let view = L1View::default();
        view.push(entry(5, 1));
        let (o, d) = view.next_origin(&info(3), 1000);
        assert_eq!((o, d.len()), (info(3), 0));
    }
}
