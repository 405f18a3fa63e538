//! The crate's one error type, [`L1ReadError`], and its [`ErrorKind`]: what a caller
//! does about an error (retry, start over from an older block, or give up) is read from
//! the kind, never from the message (kona's temporary / reset / critical split).
//!
//! What it is not: a policy. The kind says what the error means; how often and how long
//! to retry is the caller's.

use alloy_primitives::B256;

/// What a caller does about an [`L1ReadError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// L1, the beacon API or the network failed, or L1 changed while it was read, or
    /// data is not there yet: the same read later may succeed.
    Temporary,
    /// L1 reorganized below what the caller holds: drop what was read from the fork on
    /// and read again from there.
    Reset,
    /// The configuration is wrong or the request can never succeed: retrying the same
    /// read does not help.
    Critical,
}

/// Why L1 could not be read.
#[derive(Debug, thiserror::Error)]
pub enum L1ReadError {
    /// The L1 JSON-RPC endpoint failed or answered oddly.
    #[error("l1: {0}")]
    Rpc(String),
    /// L1 has no block at this number (yet).
    #[error("L1 block {0} not found")]
    MissingBlock(u64),
    /// What was read of one L1 block came from two forks (the logs and the header
    /// disagree): L1 changed while it was read.
    #[error("L1 block {0} changed while reading")]
    Changed(u64),
    /// The beacon API failed or answered nonsense.
    #[error("beacon api: {0}")]
    Beacon(String),
    /// The beacon API does not serve blobs the inbox names (not yet, or pruned).
    #[error(
        "blobs of batch {seq} (L1 block {l1_block}) unavailable: {missing} of {wanted} missing"
    )]
    BlobsUnavailable {
        /// L1 block of the batch.
        l1_block: u64,
        /// Sequence number of the batch.
        seq: u64,
        /// Blobs the event names.
        wanted: usize,
        /// Blobs not served.
        missing: usize,
    },
    /// L1 block `number` does not extend the block before it that the reader holds:
    /// L1 reorganized below what was read.
    #[error(
        "L1 reorganized: block {number} has parent {found}, the block held before it is {held}"
    )]
    Reorg {
        /// The block that does not fit.
        number: u64,
        /// Its parent hash.
        found: B256,
        /// The hash held at `number - 1`.
        held: B256,
    },
    /// The output asked for exists but its challenge window has not passed (or it is not
    /// proposed yet).
    #[error("the output for L2 block {0} is not proposed or not finalized yet")]
    NotFinalized(u64),
    /// L1 block `number`'s header does not hash to the hash the node gives for it: the
    /// node's headers are not Ethereum's, and a fault proof could not open them on L1.
    #[error("the header of L1 block {0} does not hash to the block's hash")]
    HeaderHash(u64),
    /// A blob batch was found but no beacon API is configured.
    #[error("blob batch in L1 block {0} but no beacon API configured")]
    NoBeacon(u64),
    /// Bad configuration (a URL), or a request that can never be answered (an L2 block
    /// that is not an output block).
    #[error("config: {0}")]
    Config(String),
}

impl L1ReadError {
    /// What a caller does about it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Rpc(_)
            | Self::MissingBlock(_)
            | Self::Changed(_)
            | Self::Beacon(_)
            | Self::BlobsUnavailable { .. }
            | Self::NotFinalized(_) => ErrorKind::Temporary,
            Self::Reorg { .. } => ErrorKind::Reset,
            Self::HeaderHash(_) | Self::NoBeacon(_) | Self::Config(_) => ErrorKind::Critical,
        }
    }

    /// Whether the same read may succeed later ([`ErrorKind::Temporary`]).
    pub fn is_retryable(&self) -> bool {
        self.kind() == ErrorKind::Temporary
    }

    pub(crate) fn rpc<E: std::fmt::Display>(e: E) -> Self {
        Self::Rpc(e.to_string())
    }

    pub(crate) fn beacon<E: std::fmt::Display>(e: E) -> Self {
        Self::Beacon(e.to_string())
    }
}
