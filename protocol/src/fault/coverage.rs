//! What `blink osp-coverage` and the two differential tests share: the programs they
//! run, how a step is classified, and the coverage table and line.
//!
//! What it is:
//! * [`Program`] (code, calldata, frame gas, and the [`Environment`] of block, transaction
//!   and chain it runs in) and its generators: one [`Family`] per kind
//!   of program the differentials use (every opcode over boundary operands, all
//!   single-byte programs, jumps real, fake and into push data across chunks, stack
//!   limits (the environment reads at 1,024 items too), memory accesses, large copies,
//!   long `KECCAK256`, out of gas at every gas value (a program of environment reads
//!   among them), random programs, `LOG0`..`LOG4` over data lengths up to the sponge and
//!   out of gas at each of their checks, other accounts, nested calls — a caller
//!   calling a [`Callee`] by each call opcode, [`call_program`] — and creates, with code
//!   deposits and creation transactions ([`create_program`], [`InitCode`])), plus
//!   [`Generator::targeted`] programs that reach one
//!   opcode with one outcome (a stack overflow for each environment read that pushes),
//!   all driven by a small deterministic [`Rng`] so a run is reproducible from its seed;
//! * the opcode sets the line counts against: [`osaka_defined`] (150 opcodes with
//!   `INVALID`), [`prover_covers`] (what `OneStepProver.sol` runs today);
//! * [`classify`]: a machine step's opcode and [`StepOutcome`] (a nested frame's return is
//!   classified by how the frame ended); [`nested_step`]: whether a step ends a nested
//!   frame or writes its output back (counted on a line of their own);
//! * [`Coverage`]: steps, disagreements and L1 gas per opcode × outcome, the table and
//!   the final line `coverage: A/150 opcodes, C/18 precompiles, E disagreements over S
//!   steps, max gas G`.
//!
//! What it is not: it runs nothing but the Rust machine (to aim a targeted out-of-gas
//! program); revm runs in [`super::differential`], the Solidity prover in
//! `blink_bridge_contracts::one_step_prover`, and the loop that ties them together in
//! `blink osp-coverage`. Precompile calls are counted apart ([`Coverage::precompiles`], C of
//! the line: the precompiles with a step `OneStepProver` proved).

use std::{collections::BTreeMap, fmt::Write as _};

use alloy_primitives::{Address, B256, U256, address};
use revm::bytecode::opcode::OpCode;

use super::{
    differential::{CALLER, TARGET},
    machine::{self, Cursor, Halt, MachineState, Outcome, implemented, is_call, reads_global},
};

/// Opcodes Osaka defines, `INVALID` (`0xFE`) included: B of the coverage line.
pub const OSAKA_OPCODES: usize = 150;
/// Osaka's precompiles, `0x01`–`0x11` and `0x100` (P-256): D of the coverage line.
pub const OSAKA_PRECOMPILES: usize = 18;

/// Whether Osaka defines `op` (`INVALID` included; Amsterdam's `0x4b`,
/// `DUPN`/`SWAPN`/`EXCHANGE` not).
pub fn osaka_defined(op: u8) -> bool {
    matches!(op,
        0x00..=0x0b | 0x10..=0x1e | 0x20 | 0x30..=0x4a | 0x50..=0x9f | 0xa0..=0xa4
        | 0xf0..=0xf5 | 0xfa | 0xfd..=0xff)
}

/// The opcode's mnemonic, or its byte when Osaka leaves it undefined.
pub fn opcode_name(op: u8) -> String {
    match OpCode::new(op) {
        Some(o) if osaka_defined(op) => o.as_str().to_string(),
        _ => format!("0x{op:02x}"),
    }
}

/// Whether `OneStepProver.sol` runs the opcode step of `op` (undefined bytes included:
/// it halts them as the machine does), and its micro-steps: the copies
/// (`CALLDATACOPY`, `CODECOPY`, `RETURNDATACOPY`, `MCOPY`), the `KECCAK256` sponge and the
/// logs (the sponge of data above 2 KiB included) are covered whole. It reverts
/// `UnsupportedStep` on the rest; kept in step with
/// `_classify` by `bridge-contracts/tests/it/one_step_prover.rs`, which checks both
/// sides of this set on every step it runs.
pub fn prover_covers(op: u8) -> bool {
    op != 0xff
}

/// The environment reads that push one item and pop none (`ADDRESS`, `ORIGIN`, `CALLER`,
/// `CALLVALUE`, `GASPRICE`, `COINBASE`, `TIMESTAMP`, `NUMBER`, `PREVRANDAO`, `GASLIMIT`,
/// `CHAINID`, `BASEFEE`, `BLOBBASEFEE`): each can overflow the stack. `BLOBHASH` (0x49)
/// pops its index and pushes 0.
pub const ENV_PUSH_OPS: [u8; 13] = [
    0x30, 0x32, 0x33, 0x34, 0x3a, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x48, 0x4a,
];

/// A small deterministic generator (64-bit LCG, high bits out): reproducible runs
/// without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 31 bits.
    pub fn next31(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// Uniform-enough in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((self.next31() << 31) | self.next31()) % n
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        (self.next31() >> 23) as u8
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }

    /// A random 256-bit word.
    pub fn word(&mut self) -> U256 {
        (U256::from(self.below(u64::MAX)) << 128usize) | U256::from(self.below(u64::MAX))
    }
}

/// The block, transaction and chain a program runs in, the same in revm and in the
/// machine's records (`super::differential`). The default values are distinct and
/// non-trivial, so that an environment read of the wrong field shows as a disagreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// `CHAINID`.
    pub chain_id: u64,
    /// `NUMBER`.
    pub number: u64,
    /// `TIMESTAMP`.
    pub timestamp: u64,
    /// `BASEFEE`.
    pub base_fee: u64,
    /// `GASLIMIT` (at least the transaction's gas limit).
    pub block_gas_limit: u64,
    /// The EIP-1559 transaction's max fee per gas (≥ the base fee).
    pub max_fee: u128,
    /// Its max priority fee per gas (≤ the max fee).
    pub max_priority_fee: u128,
    /// `CALLVALUE` (the caller's balance is `U256::MAX`, so any value below
    /// `U256::MAX − 2^100` is affordable).
    pub value: U256,
    /// The sender: `CALLER` and `ORIGIN`.
    pub caller: Address,
    /// The called account holding the code: `ADDRESS`.
    pub target: Address,
}

impl Default for Environment {
    fn default() -> Self {
        Self {
            chain_id: crate::chain::DEV_CHAIN_ID,
            number: 0x0123_4567_89ab,
            timestamp: 0x6a3b_1c2d,
            base_fee: 1_000_000_007,
            block_gas_limit: 2_000_000_011,
            max_fee: 5_000_000_017,
            max_priority_fee: 300_000_013,
            value: U256::from(0x1234_5678_9abc_def0u64),
            caller: address!("0x1000000000000000000000000000000000000001"),
            target: address!("0x2000000000000000000000000000000000000002"),
        }
    }
}

impl Environment {
    /// Environments at the edges (the differentials run each; the prover test deploys one
    /// prover per chain id): zeros where revm allows them, 64-bit maxima, a 256-bit
    /// call value, an effective gas price capped by the max fee and one below it, extreme
    /// addresses, and block numbers where `BLOCKHASH`'s window is cut (0, 1, 2, 257).
    pub fn boundaries() -> Vec<Environment> {
        let d = Environment::default();
        vec![
            d.clone(),
            Environment {
                chain_id: 1,
                number: 0,
                timestamp: 0,
                base_fee: 0,
                max_fee: 0,
                max_priority_fee: 0,
                value: U256::ZERO,
                caller: Address::repeat_byte(0x01),
                target: Address::repeat_byte(0x02),
                ..d.clone()
            },
            Environment {
                chain_id: u64::MAX,
                number: u64::MAX,
                timestamp: u64::MAX,
                base_fee: u64::MAX,
                block_gas_limit: u64::MAX,
                // Capped: base fee + priority fee above the max fee.
                max_fee: u64::MAX as u128 + 5,
                max_priority_fee: 9,
                value: U256::MAX - (U256::from(1) << 128),
                caller: Address::repeat_byte(0xff),
                target: Address::repeat_byte(0xfe),
            },
            Environment {
                // Uncapped: base fee + priority fee below the max fee.
                number: 1,
                timestamp: 1,
                base_fee: 7,
                block_gas_limit: 1 << 24,
                max_fee: u128::from(u64::MAX) << 20,
                max_priority_fee: 1,
                value: U256::from(1) << 255,
                ..d.clone()
            },
            Environment {
                base_fee: 1_000,
                max_fee: 1_000,
                max_priority_fee: 1_000,
                ..d.clone()
            },
            // BLOCKHASH's window at its low edges: block 2 (n − 2 = 0, n < 256) and block
            // 257 (n − 256 = 1: block 0 is out of the window).
            Environment {
                number: 2,
                ..d.clone()
            },
            Environment { number: 257, ..d },
        ]
    }

    /// `GASPRICE`: revm's effective gas price, `min(maxFee, baseFee + maxPriorityFee)`.
    pub fn gas_price(&self) -> u128 {
        self.max_fee
            .min((self.base_fee as u128).saturating_add(self.max_priority_fee))
    }
}

/// An account in a program's pre-state besides the caller and the called account (in
/// revm's database and in the machine's world and code store alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreAccount {
    /// Its address.
    pub address: Address,
    /// Nonce.
    pub nonce: u64,
    /// Balance.
    pub balance: U256,
    /// Code (an EIP-7702 delegation designator `0xef0100 ‖ address` is code too).
    pub code: Vec<u8>,
    /// Storage (slot, value).
    pub storage: Vec<(U256, U256)>,
}

/// A contract with code in [`neighbours`]: 1,500 bytes, so a whole copy of it is 47
/// destination words (two copy steps).
pub const OTHER: Address = address!("0x3000000000000000000000000000000000000003");
/// An EIP-7702 delegated account in [`neighbours`] (code `0xef0100 ‖ OTHER`).
pub const DELEGATED: Address = address!("0x4000000000000000000000000000000000000004");
/// An account with a balance and a nonce, no code, in [`neighbours`].
pub const EOA: Address = address!("0x5000000000000000000000000000000000000005");
/// An account with code, nonce 0 and balance 0 (not empty: it has code), in
/// [`neighbours`].
pub const CODE_ONLY: Address = address!("0x6000000000000000000000000000000000000006");
/// An address no pre-state holds.
pub const ABSENT: Address = address!("0x7000000000000000000000000000000000000007");

/// `OTHER`'s code: 1,500 bytes of instructions and push data (its chunks carry push
/// data across chunk boundaries).
pub fn other_code() -> Vec<u8> {
    (0..1500u32)
        .map(|i| match i % 7 {
            0 => 0x7f,
            3 => 0x5b,
            _ => (i * 29 + 3) as u8,
        })
        .collect()
}

/// The hash the ring holds for block `k` in the differentials (any non-zero word
/// distinct per block).
pub fn ring_hash_of(k: u64) -> U256 {
    U256::from_be_bytes(alloy_primitives::keccak256(k.to_be_bytes()).0)
}

/// Blocks around `BLOCKHASH`'s window in block `number`: `number + 1`, `number`, and
/// `number − d` for the window's edges and just past them (`d` in 1, 2, 3, 128, 255,
/// 256, 257, 8191), those that exist.
pub fn blockhash_probes(number: u64) -> Vec<u64> {
    let mut out: Vec<u64> = [1u64, 2, 3, 128, 255, 256, 257, 8191]
        .iter()
        .filter_map(|d| number.checked_sub(*d))
        .collect();
    out.extend([number, number.saturating_add(1)]);
    out.sort_unstable();
    out.dedup();
    out
}

/// The accounts other than the caller and the called account that the programs reading
/// other accounts run against, in block `number`: [`OTHER`], [`DELEGATED`], [`EOA`],
/// [`CODE_ONLY`], and `L2BlockHashes` with a small code and its ring slots set for
/// every block of [`blockhash_probes`] (inside the window and outside it, so that a
/// read of the wrong block shows).
pub fn neighbours(number: u64) -> Vec<PreAccount> {
    let mut delegation = vec![0xef, 0x01, 0x00];
    delegation.extend_from_slice(OTHER.as_slice());
    let ring = crate::block_hashes::L2_BLOCK_HASHES;
    let mut ring_slots: Vec<(U256, U256)> = blockhash_probes(number)
        .into_iter()
        .map(|k| (crate::block_hashes::ring_slot(k), ring_hash_of(k)))
        .collect();
    ring_slots.sort();
    ring_slots.dedup_by_key(|(slot, _)| *slot);
    vec![
        PreAccount {
            address: OTHER,
            nonce: 1,
            balance: U256::ZERO,
            code: other_code(),
            storage: vec![(U256::from(1), U256::from(11))],
        },
        PreAccount {
            address: DELEGATED,
            nonce: 3,
            balance: U256::from(5),
            code: delegation,
            storage: Vec::new(),
        },
        PreAccount {
            address: EOA,
            nonce: 7,
            balance: U256::from(10).pow(U256::from(18)),
            code: Vec::new(),
            storage: Vec::new(),
        },
        PreAccount {
            address: CODE_ONLY,
            nonce: 0,
            balance: U256::ZERO,
            code: vec![0x60, 0x01, 0x5f, 0x55, 0x00],
            storage: Vec::new(),
        },
        PreAccount {
            address: ring,
            nonce: 1,
            balance: U256::ZERO,
            code: vec![0x5f, 0x35, 0x5f, 0x54, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3],
            storage: ring_slots,
        },
    ]
}

/// Addresses the account-reading programs ask about: the called account itself, the
/// caller, [`neighbours`] (a contract, a 7702 delegation, an EOA, code without balance,
/// `L2BlockHashes`), an absent account, three precompiles and the coinbase.
pub fn probe_addresses(target: Address, caller: Address) -> Vec<Address> {
    vec![
        target,
        caller,
        OTHER,
        DELEGATED,
        EOA,
        CODE_ONLY,
        crate::block_hashes::L2_BLOCK_HASHES,
        ABSENT,
        Address::with_last_byte(1),
        Address::with_last_byte(0x11),
        Address::left_padding_from(&[0x01, 0x00]),
        crate::chain::FEE_VAULT,
    ]
}

/// One program for the differentials: the code of the called account, its calldata,
/// the gas its frame starts with, and the environment it runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The code.
    pub code: Vec<u8>,
    /// The calldata (the frame's input).
    pub calldata: Vec<u8>,
    /// Gas the frame starts with.
    pub frame_gas: u64,
    /// The called account's storage before the call (slot, value).
    pub storage: Vec<(U256, U256)>,
    /// Other accounts in the pre-state.
    pub accounts: Vec<PreAccount>,
    /// Block, transaction and chain.
    pub env: Environment,
    /// A creation transaction (`to` empty): `code` is the init code, sent as the
    /// transaction's data, and runs for the address the caller's nonce 0 gives
    /// ([`Program::created`]); the environment's target, calldata and storage are unused.
    pub create: bool,
}

impl Program {
    /// `code` with no calldata, 100,000 gas and the default [`Environment`].
    pub fn new(code: Vec<u8>) -> Self {
        Self {
            code,
            calldata: Vec::new(),
            frame_gas: 100_000,
            storage: Vec::new(),
            accounts: Vec::new(),
            env: Environment::default(),
            create: false,
        }
    }

    /// The same as a creation transaction of `code` ([`Program::create`]).
    pub fn create_tx(mut self) -> Self {
        self.create = true;
        self.calldata = Vec::new();
        self
    }

    /// The account the frame runs for: the created address (the caller's nonce is 0
    /// before the transaction) of a creation, else the environment's target.
    pub fn created(&self) -> Address {
        if self.create {
            self.env.caller.create(0)
        } else {
            self.env.target
        }
    }

    /// The same with these other accounts in the pre-state.
    pub fn accounts(mut self, accounts: Vec<PreAccount>) -> Self {
        self.accounts = accounts;
        self
    }

    /// The same with [`neighbours`] of its environment's block in the pre-state.
    pub fn with_neighbours(self) -> Self {
        let n = neighbours(self.env.number);
        self.accounts(n)
    }

    /// The same with this storage before the call.
    pub fn storage(mut self, storage: Vec<(U256, U256)>) -> Self {
        self.storage = storage;
        self
    }

    /// The same in this environment.
    pub fn env(mut self, env: Environment) -> Self {
        self.env = env;
        self
    }

    /// The same with `gas` frame gas.
    pub fn gas(mut self, gas: u64) -> Self {
        self.frame_gas = gas;
        self
    }

    /// The same with this code.
    pub fn code_is(mut self, code: Vec<u8>) -> Self {
        self.code = code;
        self
    }

    /// The same with this calldata.
    pub fn calldata(mut self, calldata: Vec<u8>) -> Self {
        self.calldata = calldata;
        self
    }
}

/// Append `PUSH32 v`.
pub fn push32(code: &mut Vec<u8>, v: U256) {
    code.push(0x7f);
    code.extend_from_slice(&v.to_be_bytes::<32>());
}

/// Boundary operands: small numbers, word and byte edges, 64-bit edges, the sign bit.
pub fn interesting() -> Vec<U256> {
    let min = U256::from(1) << 255;
    vec![
        U256::ZERO,
        U256::from(1),
        U256::from(2),
        U256::from(7),
        U256::from(31),
        U256::from(32),
        U256::from(33),
        U256::from(255),
        U256::from(256),
        U256::from(1000),
        U256::from(u64::MAX),
        U256::from(u64::MAX) + U256::from(1),
        min,
        min - U256::from(1),
        U256::MAX,
        U256::MAX - U256::from(1),
    ]
}

/// How many items an implemented opcode takes from the stack (`DUPn` reads `n`,
/// `SWAPn` `n + 1`).
pub fn arity(op: u8) -> usize {
    match op {
        0xf1 | 0xf2 => 7,
        0xf4 | 0xfa => 6,
        0xf5 => 4,
        0xf0 => 3,
        0x3c => 4,
        0x08 | 0x09 | 0x37 | 0x39 | 0x3e | 0x5e => 3,
        0x01..=0x07 | 0x0a | 0x0b | 0x10..=0x14 | 0x16..=0x18 | 0x1a..=0x1d => 2,
        0x20 | 0x52 | 0x53 | 0x57 | 0xf3 | 0xfd => 2,
        0x55 | 0x5d => 2,
        0x15 | 0x19 | 0x1e | 0x31 | 0x35 | 0x3b | 0x3f | 0x40 | 0x49 | 0x50 | 0x51 | 0x54
        | 0x56 | 0x5c => 1,
        0xa0..=0xa4 => 2 + (op - 0xa0) as usize,
        0x80..=0x8f => (op - 0x7f) as usize,
        0x90..=0x9f => (op - 0x8f) as usize + 1,
        _ => 0,
    }
}

/// Osaka opcodes the machine implements, `PUSH1..32` excluded (they need data), and the
/// calls (they need a callee: over arbitrary operands they would call precompiles, which
/// the machine does not run; [`Family::Calls`] has them) and creates ([`Family::Creates`]
/// has them).
pub fn plain_ops() -> Vec<u8> {
    (0u8..=255)
        .filter(|op| {
            implemented(*op)
                && osaka_defined(*op)
                && !(0x60..=0x7f).contains(op)
                && !is_call(*op)
                && !machine::is_create(*op)
        })
        .collect()
}

/// Osaka opcodes the machine implements (133 of 150 today).
pub fn machine_ops() -> Vec<u8> {
    (0u8..=255)
        .filter(|op| implemented(*op) && osaka_defined(*op))
        .collect()
}

/// A piece of a random program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// One opcode byte.
    Op(u8),
    /// `PUSHn` with these bytes (1..=32 of them).
    Push(Vec<u8>),
    /// `PUSH1` of a small value (memory offsets, lengths, shift amounts).
    Small(u8),
    /// A `JUMPDEST`.
    Dest,
    /// `PUSH2 <k-th JUMPDEST, modulo their count>` then `JUMPI` (true) or `JUMP`.
    JumpTo(usize, bool),
    /// `PUSH2 <any position, modulo the code length>` then `JUMP` (mostly invalid).
    JumpAnywhere(u16),
}

/// The code of `items` (every item has a fixed size, so jump targets are known).
pub fn assemble(items: &[Item]) -> Vec<u8> {
    let mut dests = Vec::new();
    let mut pos = 0usize;
    for it in items {
        match it {
            Item::Op(_) => pos += 1,
            Item::Dest => {
                dests.push(pos);
                pos += 1;
            }
            Item::Push(b) => pos += 1 + b.len(),
            Item::Small(_) => pos += 2,
            Item::JumpTo(..) | Item::JumpAnywhere(_) => pos += 4,
        }
    }
    let mut code = Vec::with_capacity(pos);
    for it in items {
        match it {
            Item::Op(op) => code.push(*op),
            Item::Dest => code.push(0x5b),
            Item::Push(b) => {
                code.push(0x5f + b.len() as u8);
                code.extend(b);
            }
            Item::Small(v) => code.extend([0x60, *v]),
            Item::JumpTo(k, cond) => {
                let t = if dests.is_empty() {
                    0
                } else {
                    dests[k % dests.len()]
                };
                code.push(0x61);
                code.extend((t as u16).to_be_bytes());
                code.push(if *cond { 0x57 } else { 0x56 });
            }
            Item::JumpAnywhere(t) => {
                code.push(0x61);
                code.extend((t % (pos as u16).max(1)).to_be_bytes());
                code.push(0x56);
            }
        }
    }
    code
}

/// A family of programs, each a differential the tests also run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// Every implemented opcode over boundary operands, and on too short a stack.
    BoundaryOperands,
    /// Every byte alone, and after three `PUSH0`s.
    SingleBytes,
    /// Jumps to real and fake `JUMPDEST`s, into push data, across code chunks.
    Jumps,
    /// Stack at 1,023 / 1,024 items (the environment reads at 1,024 too).
    StackLimits,
    /// Memory reads, writes, copies and exits over small and depth-changing offsets.
    Memory,
    /// Copies of up to 3,000 bytes: the copy micro-steps.
    Copies,
    /// `KECCAK256` on both sides of 2 KiB and block boundaries: the sponge.
    Keccak,
    /// Three programs (memory, keccak, copies and `EXP`; every environment read) at every
    /// frame gas from 0.
    OutOfGas,
    /// Random programs: pushes, memory traffic, jumps to real and fake `JUMPDEST`s,
    /// calldata, tight gas.
    Random,
    /// `LOG0`..`LOG4` with data of 0, a few, about 2 KiB and more bytes (the sponge
    /// micro-steps), a second log, then a stop, return, revert or halt; each with ample
    /// gas and out of gas at every check of the `LOG` (static, topics and data, memory),
    /// at a random point of it, and after it.
    Logs,
    /// Other accounts and block hashes: `EXTCODESIZE`, `EXTCODEHASH`, `EXTCODECOPY` of
    /// every [`probe_addresses`] entry, once (cold) and twice (then warm), copies of up to
    /// 3,000 bytes (micro-steps) and past the code's end; `BLOCKHASH` of every
    /// [`blockhash_probes`] block and beyond 64 bits in each boundary environment; a
    /// program of all four at frame gas across its whole cost (out of gas at each point).
    Accounts,
    /// Nested frames: a caller calling a callee ([`call_program`]) with every call
    /// opcode, the callee returning, reverting, stopping, running out of gas, halting,
    /// logging or calling on (a `STATICCALL` makes its writes static violations),
    /// recursing; value, no value and value above the balance; an EIP-7702 delegation, an
    /// EOA, an absent account, the caller itself; output ranges shorter and longer than
    /// the return data (the write-back's micro-steps), and out of gas across the whole.
    Calls,
    /// Creates ([`create_program`]): `CREATE` and `CREATE2` with and without value (and
    /// above the balance), init code that deploys 0, a few, more than 2 KiB (the deposit's
    /// sponge), 24,576 and 24,577 bytes or code starting with `0xEF`, that reverts, stops,
    /// halts, runs out of gas, creates in turn or recurses; init code above 2 KiB (the
    /// init-code sponge) and empty; a second `CREATE2` of the same code and salt (a
    /// collision) and addresses taken by a nonce, by code or only by a balance; a create
    /// in a static frame and by a creator whose nonce is at or near `u64::MAX`; then the
    /// created code's size, hash and a call to it; out of gas at each charge of the create,
    /// at a random point and in the deposit; and creation transactions of the same init
    /// codes ([`Program::create`]).
    Creates,
    /// Calls to every precompile ([`precompile_program`]) by every call opcode, with the
    /// canonical input (all zeros, valid points, a valid KZG opening of the zero
    /// polynomial), random bytes of that length, random lengths, the empty input, and
    /// inputs above Blink's 131,072-byte bound; with a value, output ranges shorter and
    /// longer than the output, and gas from plenty down to one below the cost (out of
    /// gas); then the return data copied and stored.
    Precompiles,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 14] = [
        Family::BoundaryOperands,
        Family::SingleBytes,
        Family::Jumps,
        Family::StackLimits,
        Family::Memory,
        Family::Copies,
        Family::Keccak,
        Family::OutOfGas,
        Family::Random,
        Family::Logs,
        Family::Accounts,
        // Before the calls, whose recursing programs are long: a short run still meets a
        // create.
        Family::Creates,
        Family::Precompiles,
        Family::Calls,
    ];

    /// How many distinct programs the family enumerates before it repeats (`None` for
    /// the families that draw from the [`Rng`] every time).
    pub fn cases(self) -> Option<u64> {
        match self {
            Family::Jumps => Some(JUMP_CASES),
            Family::StackLimits => Some((STACK_LIMIT_CASES.len() + ENV_PUSH_OPS.len()) as u64),
            Family::Copies => Some(COPY_CASES.len() as u64),
            Family::Keccak => Some(KECCAK_CASES.len() as u64),
            Family::OutOfGas => Some(OUT_OF_GAS_PROGRAMS * OUT_OF_GAS_MAX),
            Family::Logs => Some(LOG_PROGRAMS),
            Family::Accounts => Some(account_cases()),
            _ => None,
        }
    }

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Family::BoundaryOperands => "boundary operands",
            Family::SingleBytes => "single bytes",
            Family::Jumps => "jumps",
            Family::StackLimits => "stack limits",
            Family::Memory => "memory",
            Family::Copies => "copies",
            Family::Keccak => "keccak",
            Family::OutOfGas => "out of gas",
            Family::Random => "random",
            Family::Logs => "logs",
            Family::Accounts => "accounts",
            Family::Calls => "calls",
            Family::Creates => "creates",
            Family::Precompiles => "precompiles",
        }
    }
}

/// An outcome a targeted program aims at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// The opcode runs (a `REVERT` reverts, `INVALID` halts as it always does).
    Ok,
    /// Out of gas at the opcode.
    OutOfGas,
    /// Too few stack items.
    Underflow,
    /// `JUMP`/`JUMPI` to a byte that is not a `JUMPDEST`.
    InvalidJump,
    /// A push onto 1,024 items (the environment reads; each program is 1,025 steps).
    Overflow,
}

impl Target {
    /// The step outcome this target produces for `op`.
    pub fn outcome(self, op: u8) -> StepOutcome {
        match self {
            Target::Ok if op == 0xfd => StepOutcome::Revert,
            Target::Ok if op == 0xfe => StepOutcome::InvalidFe,
            Target::Ok => StepOutcome::Ok,
            Target::OutOfGas => StepOutcome::OutOfGas,
            Target::Underflow => StepOutcome::StackUnderflow,
            Target::InvalidJump => StepOutcome::InvalidJump,
            Target::Overflow => StepOutcome::StackOverflow,
        }
    }
}

/// Every (opcode, target) a coverage run tops up to its minimum: each opcode the
/// machine implements running, out of gas (where it costs gas), with too short a stack
/// (where it reads one), jumps to a bad destination, and the environment reads that push
/// onto a full stack.
pub fn targets() -> Vec<(u8, Target)> {
    let mut out = Vec::new();
    for op in machine_ops() {
        out.push((op, Target::Ok));
        if op != 0xfe {
            out.push((op, Target::OutOfGas));
        }
        if arity(op) > 0 {
            out.push((op, Target::Underflow));
        }
        if op == 0x56 || op == 0x57 {
            out.push((op, Target::InvalidJump));
        }
        if ENV_PUSH_OPS.contains(&op) {
            out.push((op, Target::Overflow));
        }
    }
    out
}

/// Draws programs of each [`Family`] (enumerations first, then random variants) and
/// [`targeted`](Self::targeted) programs.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: Rng,
    drawn: [u64; Family::ALL.len()],
    plain: Vec<u8>,
    machine: Vec<u8>,
    pool: Vec<U256>,
}

/// 70 bytes of calldata: `CALLDATALOAD` reads across its end at offsets 38..70.
fn calldata70() -> Vec<u8> {
    (0u8..70).map(|i| i.wrapping_mul(37) | 1).collect()
}

impl Generator {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            drawn: [0; Family::ALL.len()],
            plain: plain_ops(),
            machine: machine_ops(),
            pool: interesting(),
        }
    }

    /// The next program of `family`.
    pub fn program(&mut self, family: Family) -> Program {
        let k = self.drawn[family as usize];
        self.drawn[family as usize] += 1;
        match family {
            Family::BoundaryOperands => self.boundary(k),
            Family::SingleBytes => {
                let i = (k % (2 * self.machine.len() as u64)) as usize;
                let (variant, op) = (i / self.machine.len(), self.machine[i % self.machine.len()]);
                // Undefined bytes too: every fourth program is one, each a halt.
                let op = if k % 4 == 3 {
                    (0u8..=255)
                        .filter(|b| !osaka_defined(*b))
                        .nth((k / 4) as usize % 106)
                        .unwrap_or(0x0c)
                } else {
                    op
                };
                let mut code = vec![0x5f; 3 * variant];
                code.push(op);
                Program::new(code).gas(1000)
            }
            Family::Jumps => jumps(k),
            Family::StackLimits => stack_limits(k),
            Family::Memory => self.memory(k),
            Family::Copies => copies(k),
            Family::Keccak => keccak(k),
            Family::OutOfGas => out_of_gas(k),
            Family::Random => self.random(),
            Family::Logs => self.logs(k),
            Family::Accounts => accounts(k),
            Family::Calls => self.calls(k),
            Family::Creates => self.creates(k),
            Family::Precompiles => self.precompiles(k),
        }
    }

    /// The `k`-th program of [`Family::Precompiles`]: the precompile and the call opcode
    /// cycle with `k`, the input kind cycles slower, the rest is drawn.
    fn precompiles(&mut self, k: u64) -> Program {
        const OPS: [u8; 4] = [0xfa, 0xf1, 0xf4, 0xf2];
        let all = osaka_precompile_addresses();
        let n = all.len() as u64;
        let to = all[(k % n) as usize];
        let op = OPS[((k / n) % 4) as usize];
        let canonical = canonical_precompile_input(to);
        let input = match (k / (4 * n)) % 5 {
            0 | 1 => canonical,
            2 => (0..canonical.len().max(1))
                .map(|_| self.rng.below(256) as u8)
                .collect(),
            3 => {
                let len = self.rng.below(300) as usize;
                (0..len).map(|_| self.rng.below(256) as u8).collect()
            }
            _ if self.rng.below(4) == 0 => vec![0; crate::execution::MAX_PRECOMPILE_INPUT + 1],
            _ => Vec::new(),
        };
        let value = if matches!(op, 0xf1 | 0xf2) && self.rng.below(3) == 0 {
            U256::from(1 + self.rng.below(1000))
        } else {
            U256::ZERO
        };
        let gas = match self.rng.below(4) {
            0 => CallGas::Fixed(self.rng.below(4_000)),
            1 => CallGas::Fixed(self.rng.below(200_000)),
            _ => CallGas::All,
        };
        precompile_program(&PrecompileCase {
            op,
            to,
            input,
            value,
            gas,
            out_offset: self.rng.below(80),
            out_len: [0, 20, 32, 64, 1_500][self.rng.below(5) as usize],
            frame_gas: 3_000_000,
        })
    }

    /// The `k`-th program of [`Family::Creates`]: the init code's behaviour and the opcode
    /// cycle with `k`, the rest is drawn; every fifth program runs short of gas at one of
    /// the create's charges, at a random point or in the child, and every eighth is a
    /// creation transaction instead.
    fn creates(&mut self, k: u64) -> Program {
        let inits = InitCode::all();
        let init = inits[(k % inits.len() as u64) as usize];
        let op = if (k / inits.len() as u64).is_multiple_of(2) {
            0xf0
        } else {
            0xf5
        };
        let mut c = self.create_case(op, init);
        if k % 8 == 7 {
            // The transaction's own creation of the same init code.
            return Program::new(init.code(c.init_pad))
                .gas(c.frame_gas)
                .create_tx()
                .env(Environment {
                    value: U256::from(self.rng.below(1000)),
                    ..Environment::default()
                });
        }
        let (p, at) = create_program(&c);
        if k % 5 != 4 {
            return p;
        }
        let Some((before, charges, words)) = create_cost_at(&p, at) else {
            return p;
        };
        let x = match self.rng.below(5) {
            0 => self.rng.below(charges.max(1)),
            1 => charges.saturating_sub(1),
            // Short of EIP-3860's word cost.
            2 => (2 * words).saturating_sub(1),
            // Short of the 32,000 (after the word cost and the memory).
            3 => charges.saturating_sub(1 + self.rng.below(32_000)),
            _ => charges + self.rng.below(600_000),
        };
        c.frame_gas = before + x;
        create_program(&c).0
    }

    /// A create by `op` of init code `init`, the rest drawn.
    fn create_case(&mut self, op: u8, init: InitCode) -> CreateCase {
        let value = match self.rng.below(5) {
            0 | 1 => U256::ZERO,
            2 | 3 => U256::from(1 + self.rng.below(1000)),
            // Above the creator's balance: the create fails without entering.
            _ => U256::MAX - U256::from(self.rng.below(3)),
        };
        let via = match self.rng.below(8) {
            0 => Via::Static,
            1 => Via::Call(u64::MAX),
            2 => Via::Call(u64::MAX - 1),
            3 => Via::Call(5),
            _ => Via::Direct,
        };
        let occupied = match self.rng.below(8) {
            0 => Occupied::Nonce,
            1 => Occupied::Code,
            2 => Occupied::Balance,
            _ => Occupied::Free,
        };
        let init_pad = match self.rng.below(4) {
            0 => 2_100 + self.rng.below(1_000) as usize,
            _ => self.rng.below(40) as usize,
        };
        let big = matches!(init, InitCode::Deploy(n) if n > 20_000);
        CreateCase {
            op,
            value,
            salt: if self.rng.below(3) == 0 {
                U256::MAX
            } else {
                U256::from(self.rng.below(1 << 20))
            },
            init,
            init_pad,
            twice: self.rng.below(3) == 0,
            via,
            occupied,
            end: [0x00, 0xf3, 0xfd][self.rng.below(3) as usize],
            frame_gas: if big { 6_000_000 } else { 1_500_000 },
        }
    }

    /// The `k`-th program of [`Family::Calls`]: the call opcode and the callee's
    /// behaviour cycle with `k`, the rest is drawn.
    fn calls(&mut self, k: u64) -> Program {
        const OPS: [u8; 4] = [0xf1, 0xf2, 0xf4, 0xfa];
        let op = OPS[(k % 4) as usize];
        let callees = Callee::all();
        let callee = callees[((k / 4) % callees.len() as u64) as usize];
        let mut c = self.call_case(op, callee);
        if k % 7 == 6 {
            // Out of gas anywhere: before, at or inside the call, or after it.
            c.frame_gas = self.rng.below(60_000);
        }
        call_program(&c).0
    }

    /// A call by `op` to a callee doing `callee`, the rest drawn.
    fn call_case(&mut self, op: u8, callee: Callee) -> CallCase {
        let to = match self.rng.below(10) {
            0 => DELEGATES_TO_CALLEE,
            1 => EOA,
            2 => ABSENT,
            3 => TARGET,
            _ => CALLEE,
        };
        let value = if matches!(op, 0xf1 | 0xf2) {
            match self.rng.below(4) {
                0 | 1 => U256::ZERO,
                2 => U256::from(1 + self.rng.below(1000)),
                // Above the caller's balance: the call fails without entering.
                _ => U256::MAX - U256::from(self.rng.below(3)),
            }
        } else {
            U256::ZERO
        };
        let gas = match self.rng.below(5) {
            0 => CallGas::Fixed(1_000 + self.rng.below(20_000)),
            1 => CallGas::Fixed(u64::MAX),
            // Above 64 bits: read as u64::MAX.
            2 => CallGas::Huge,
            _ => CallGas::All,
        };
        // The caller calling itself recurses: bounded by the gas it forwards.
        let gas = if to == TARGET {
            CallGas::Fixed(20_000 + self.rng.below(20_000))
        } else {
            gas
        };
        CallCase {
            op,
            to,
            value,
            gas,
            in_len: [0, 36, 100][self.rng.below(3) as usize],
            out_offset: self.rng.below(80),
            out_len: [0, 3, 32, 64, 1_500][self.rng.below(5) as usize],
            callee,
            end: [0x00, 0xf3, 0xfd][self.rng.below(3) as usize],
            frame_gas: 120_000,
        }
    }

    fn pick(&mut self) -> U256 {
        self.pool[self.rng.below(self.pool.len() as u64) as usize]
    }

    fn boundary(&mut self, k: u64) -> Program {
        let len = self.plain.len() as u64;
        let op = self.plain[(k % len) as usize];
        let c = k / len;
        let n = arity(op);
        if n > 0 && c % 12 == 11 {
            // Underflow: fewer items than the opcode takes.
            let mut code = vec![0x5f; (c / 12) as usize % n];
            code.push(op);
            return Program::new(code).gas(1000);
        }
        let mut code = Vec::new();
        for i in 0..n {
            // The first operand walks the pool in order; the rest are drawn.
            let v = if i == 0 {
                self.pool[(c % self.pool.len() as u64) as usize]
            } else {
                self.pick()
            };
            push32(&mut code, v);
        }
        code.push(op);
        Program::new(code).calldata(calldata70())
    }

    fn memory(&mut self, k: u64) -> Program {
        const OPS: [u8; 10] = [0x20, 0x37, 0x39, 0x3e, 0x51, 0x52, 0x53, 0x5e, 0xf3, 0xfd];
        let op = OPS[(k % OPS.len() as u64) as usize];
        // Mostly small offsets; every third, offsets that change the tree's depth.
        let range = if (k / OPS.len() as u64) % 3 == 2 {
            40_000
        } else {
            300
        };
        let mut code = Vec::new();
        // Some memory first so reads and copies see data.
        let v = self.rng.word();
        push32(&mut code, v);
        let at = self.rng.below(100);
        push32(&mut code, U256::from(at));
        code.push(0x52);
        for _ in 0..arity(op) {
            let v = self.rng.below(range);
            push32(&mut code, U256::from(v));
        }
        code.push(op);
        code.extend([0x59, 0x5a, 0x00]); // MSIZE GAS STOP
        Program::new(code)
            .calldata((1u8..=45).collect())
            .gas(1_000_000)
    }

    /// The `k`-th program of [`Family::Logs`]: case `k % LOG_BASES`, gas variant
    /// `k / LOG_BASES` (modulo [`LOG_GAS_VARIANTS`]).
    fn logs(&mut self, k: u64) -> Program {
        let k = k % LOG_PROGRAMS;
        let (base, variant) = (k % LOG_BASES, k / LOG_BASES);
        let (n, offset, len) = LOG_CASES[(base % LOG_CASES.len() as u64) as usize];
        let end = LOG_ENDS[(base / LOG_CASES.len() as u64) as usize];
        let (p, at) = log_program(n, offset, len, end, base);
        if variant == 0 {
            return p;
        }
        // Gas used before the LOG, and what it costs, from the machine itself.
        let Some((before, cost)) = cost_at(&p, at) else {
            return p;
        };
        let dynamic = 375 + 375 * u64::from(n) + 8 * len;
        let extra = match variant {
            1 => 0,
            2 => 374,
            3 => dynamic.saturating_sub(1),
            4 => cost.saturating_sub(1),
            5 => self.rng.below(cost.max(1)),
            // After the LOG: the second log or the end.
            _ => cost + self.rng.below(400),
        };
        p.gas(before + extra)
    }

    fn random(&mut self) -> Program {
        let n = 1 + self.rng.below(59) as usize;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            let it = match self.rng.below(16) {
                0..=5 => Item::Op(self.plain[self.rng.below(self.plain.len() as u64) as usize]),
                6 if self.rng.below(2) == 0 => {
                    // An address the account reads find something at.
                    let probes = probe_addresses(Environment::default().target, CALLER);
                    let a = probes[self.rng.below(probes.len() as u64) as usize];
                    Item::Push(a.to_vec())
                }
                6..=8 => {
                    let len = 1 + self.rng.below(32) as usize;
                    Item::Push((0..len).map(|_| self.rng.byte()).collect())
                }
                9..=12 => Item::Small(self.rng.byte()),
                13 => Item::Dest,
                14 => Item::JumpTo(self.rng.below(1 << 16) as usize, self.rng.below(2) == 1),
                _ => Item::JumpAnywhere(self.rng.below(1 << 16) as u16),
            };
            items.push(it);
        }
        let len = self.rng.below(80) as usize;
        let calldata = (0..len).map(|_| self.rng.byte()).collect();
        let gas = if self.rng.below(4) == 0 {
            self.rng.below(400)
        } else {
            self.rng.below(30_000)
        };
        Program::new(assemble(&items))
            .calldata(calldata)
            .gas(gas)
            .with_neighbours()
    }

    /// A program whose step at the returned pc runs `op` with operands that let it
    /// succeed (`INVALID` alone, which never does).
    fn runs(&mut self, op: u8) -> (Program, usize) {
        let jd = 0x5b;
        let mut code = Vec::new();
        match op {
            0xfe => return (Program::new(vec![0xfe]), 0),
            0x56 => return (Program::new(vec![0x60, 4, 0x56, 0xfe, jd, 0x00]), 2),
            0x57 => {
                let cond = self.rng.below(2) as u8;
                return (
                    Program::new(vec![0x60, cond, 0x60, 6, 0x57, 0xfe, jd, 0x00]),
                    4,
                );
            }
            0x60..=0x7f => {
                code.push(op);
                code.extend((0x60..=op).map(|_| self.rng.byte()));
                return (Program::new(code), 0);
            }
            // RETURNDATACOPY(dst, 0, 0): the return data is empty.
            0x3e => {
                push32(&mut code, U256::ZERO);
                push32(&mut code, U256::ZERO);
                let dst = self.rng.below(200);
                push32(&mut code, U256::from(dst));
            }
            // BALANCE of the caller, the called account, a precompile, the coinbase or
            // a stranger (cold).
            0x31 => {
                let who = match self.rng.below(5) {
                    0 => CALLER,
                    1 => TARGET,
                    2 => Address::with_last_byte(1),
                    3 => Address::ZERO,
                    _ => Address::from_word(B256::from(self.rng.word().to_be_bytes::<32>())),
                };
                push32(&mut code, U256::from_be_slice(who.as_slice()));
            }
            // EXTCODESIZE, EXTCODEHASH, EXTCODECOPY of a probe address, after an earlier
            // access to it (warm) or not (cold); copies of every size class.
            0x3b | 0x3c | 0x3f => {
                let probes = probe_addresses(TARGET, CALLER);
                let who = probes[self.rng.below(probes.len() as u64) as usize];
                let twice = self.rng.below(2) == 1;
                let copy =
                    EXTCODECOPY_CASES[self.rng.below(EXTCODECOPY_CASES.len() as u64) as usize];
                let (code, at) = account_read(op, who, twice, copy);
                return (Program::new(code).with_neighbours(), at);
            }
            // A create of a small contract with short init code, in the transaction's
            // account.
            0xf0 | 0xf5 => {
                let mut c = self.create_case(op, InitCode::Deploy(11));
                c.via = Via::Direct;
                c.occupied = Occupied::Free;
                c.value = U256::from(self.rng.below(1000));
                // At most 2 KiB of init code: the create runs in its opcode step.
                c.init_pad = self.rng.below(40) as usize;
                return create_program(&c);
            }
            // A call to a callee that stores, echoes its input and returns 32 bytes.
            0xf1 | 0xf2 | 0xf4 | 0xfa => {
                let mut c = self.call_case(op, Callee::Return(32, true));
                c.to = CALLEE;
                return call_program(&c);
            }
            // BLOCKHASH of a block around the window.
            0x40 => {
                let p = Program::new(Vec::new());
                let probes = blockhash_probes(p.env.number);
                let k = probes[self.rng.below(probes.len() as u64) as usize];
                push32(&mut code, U256::from(k));
                let at = code.len();
                code.push(op);
                return (p.with_neighbours().code_is(code), at);
            }
            // Storage: up to three earlier writes to a few slots, so the last access
            // meets every (original, present, new) combination and warm or cold.
            0x54 | 0x55 | 0x5c | 0x5d => {
                let small = |r: &mut Rng| U256::from(r.below(3));
                let storage: Vec<(U256, U256)> = (0..3u64)
                    .filter_map(|i| {
                        let v = small(&mut self.rng);
                        (!v.is_zero()).then_some((U256::from(i), v))
                    })
                    .collect();
                let store = if op == 0x5c || op == 0x5d { 0x5d } else { 0x55 };
                for _ in 0..self.rng.below(4) {
                    push32(&mut code, small(&mut self.rng));
                    push32(&mut code, U256::from(self.rng.below(3)));
                    code.push(store);
                }
                if arity(op) == 2 {
                    push32(&mut code, small(&mut self.rng));
                }
                push32(&mut code, U256::from(self.rng.below(3)));
                let at = code.len();
                code.push(op);
                return (Program::new(code).storage(storage), at);
            }
            // LOGn: topics, then data of 0, a few or up to 2 KiB bytes at a small offset
            // (one step: `Family::Logs` has the sponge's).
            0xa0..=0xa4 => {
                for _ in 0..op - 0xa0 {
                    let t = self.rng.word();
                    push32(&mut code, t);
                }
                let len = match self.rng.below(3) {
                    0 => 0,
                    1 => 1 + self.rng.below(64),
                    _ => 2000 + self.rng.below(49),
                };
                push32(&mut code, U256::from(len));
                let offset = self.rng.below(200);
                push32(&mut code, U256::from(offset));
            }
            0x20 | 0x37 | 0x39 | 0x51..=0x53 | 0x5e | 0xf3 | 0xfd => {
                for _ in 0..arity(op) {
                    let v = self.rng.below(200);
                    push32(&mut code, U256::from(v));
                }
            }
            _ => {
                for _ in 0..arity(op) {
                    let v = self.pick();
                    push32(&mut code, v);
                }
            }
        }
        let at = code.len();
        code.push(op);
        (Program::new(code).calldata(calldata70()), at)
    }

    /// A program that reaches `op` with the outcome `target` aims at (`None` when it
    /// cannot: an opcode that costs no gas or always halts cannot run out of gas, only
    /// jumps jump, an opcode that reads no stack cannot underflow).
    /// The outcome is what the run shows, not what this promises.
    pub fn targeted(&mut self, op: u8, target: Target) -> Option<Program> {
        match target {
            Target::Ok => Some(self.runs(op).0),
            Target::Underflow => {
                let n = arity(op);
                if n == 0 {
                    return None;
                }
                let mut code = vec![0x5f; self.rng.below(n as u64) as usize];
                code.push(op);
                // A LOG pays its topics before it pops them.
                let gas = if is_log(op) { 10_000 } else { 1000 };
                Some(Program::new(code).gas(gas))
            }
            Target::Overflow => {
                if !ENV_PUSH_OPS.contains(&op) {
                    return None;
                }
                let mut code = vec![0x5f; STACK_LIMIT];
                code.push(op);
                Some(Program::new(code))
            }
            Target::InvalidJump => {
                // Every byte but the opcodes is push data or past the end: no JUMPDEST.
                let t = self.rng.below(12) as u8;
                match op {
                    0x56 => Some(Program::new(vec![0x60, t, 0x56, 0x60, 0x5b, 0x00])),
                    0x57 => Some(Program::new(vec![0x60, 1, 0x60, t, 0x57, 0x60, 0x5b, 0x00])),
                    _ => None,
                }
            }
            Target::OutOfGas => {
                // An `SSTORE` before the target may hit EIP-2200's stipend sentry first
                // with the lowered gas: draw again (a draw without one always works).
                for _ in 0..32 {
                    let (p, at) = self.runs(op);
                    // What the opcode costs there, from the machine itself.
                    let mut m = super::differential::machine_start(&p, p.frame_gas).ok()?;
                    while m.pc != at && m.finished.is_none() {
                        machine::step_in_place(&mut m).ok()?;
                    }
                    let before = m.gas;
                    let depth = m.callers_depth();
                    machine::step_in_place(&mut m).ok()?;
                    // A call that entered its callee: what the caller paid but the gas
                    // it forwarded (which cannot run out).
                    let after = match &m.callers {
                        Some(c) if m.callers_depth() > depth => c.frame.gas + m.gas,
                        _ => m.gas,
                    };
                    let cost = before.saturating_sub(after);
                    if m.finished
                        .as_ref()
                        .is_some_and(|f| matches!(f.outcome, Outcome::Halt(_)))
                        || cost == 0
                    {
                        return None;
                    }
                    let gas = p.frame_gas - before + self.rng.below(cost);
                    // No calldata: with it, EIP-7623's floor would raise the gas limit and
                    // with it the frame's gas, past the point this aims at.
                    let p = p.gas(gas).calldata(Vec::new());
                    if !reads_global(op) || halts_at(&p, at) {
                        return Some(p);
                    }
                }
                None
            }
        }
    }
}

/// Whether `p` runs out of gas exactly at the instruction at `at`.
fn halts_at(p: &Program, at: usize) -> bool {
    let Ok(mut m) = super::differential::machine_start(p, p.frame_gas) else {
        return false;
    };
    while m.finished.is_none() {
        let pc = m.pc;
        if machine::step_in_place(&mut m).is_err() {
            return false;
        }
        if let Some(f) = &m.finished {
            return pc == at && f.outcome == Outcome::Halt(Halt::OutOfGas);
        }
    }
    false
}

/// `EXTCODECOPY` (memory offset, code offset, length): a word, the whole of [`OTHER`]
/// (47 destination words: two steps), 3,000 bytes from offset 1 (past every code's end:
/// zeros; three steps), across the end, past a 7702 designator's 23 bytes, from a huge
/// offset (zeros), and length 0 (the account is still accessed).
pub const EXTCODECOPY_CASES: [(u64, u64, u64); 7] = [
    (0, 0, 32),
    (5, 0, 1500),
    (31, 1, 3000),
    (0, 1499, 40),
    (3, 20, 10),
    (0, u64::MAX, 64),
    (64, 0, 0),
];

/// Code that reads account `who` with `op` (`EXTCODESIZE`, `EXTCODEHASH` or
/// `EXTCODECOPY` with `copy` = (memory offset, code offset, length)), twice if `twice`
/// (the second access warm), then `MSIZE GAS STOP`; and the pc of the last read.
pub fn account_read(op: u8, who: Address, twice: bool, copy: (u64, u64, u64)) -> (Vec<u8>, usize) {
    let mut code = Vec::new();
    let mut at = 0;
    for _ in 0..1 + usize::from(twice) {
        if op == 0x3c {
            let (dst, off, len) = copy;
            push32(&mut code, U256::from(len));
            push32(&mut code, U256::from(off));
            push32(&mut code, U256::from(dst));
        }
        push32(&mut code, U256::from_be_slice(who.as_slice()));
        at = code.len();
        code.push(op);
    }
    code.extend([0x59, 0x5a, 0x00]);
    (code, at)
}

/// `BLOCKHASH` of every [`blockhash_probes`] block of `number`, of `2^64 + number − 2`
/// (beyond 64 bits) and of `U256::MAX`, each result kept on the stack; then `STOP`.
pub fn blockhash_program(number: u64) -> Vec<u8> {
    let mut code = Vec::new();
    let mut ks: Vec<U256> = blockhash_probes(number)
        .into_iter()
        .map(U256::from)
        .collect();
    ks.push((U256::from(1) << 64) + U256::from(number.saturating_sub(2)));
    ks.push(U256::MAX);
    for k in ks {
        push32(&mut code, k);
        code.push(0x40);
    }
    code.push(0x00);
    code
}

/// Every account read and a `BLOCKHASH` in one program: `EXTCODESIZE(OTHER)` cold,
/// `EXTCODEHASH(OTHER)` warm, `EXTCODECOPY(DELEGATED)` cold with memory expansion,
/// `BLOCKHASH(n − 2)`, `EXTCODEHASH(ABSENT)` cold, `EXTCODESIZE` of a precompile,
/// `EXTCODECOPY(OTHER)` of 1,100 bytes (two steps), `RETURN` of 64 bytes. It costs 8,400
/// gas, so [`accounts`] runs it out of gas at every point of that range.
pub fn account_reads_program(number: u64) -> Vec<u8> {
    let mut code = Vec::new();
    let a = |x: Address| U256::from_be_slice(x.as_slice());
    push32(&mut code, a(OTHER));
    code.extend([0x3b, 0x50]);
    push32(&mut code, a(OTHER));
    code.extend([0x3f, 0x50]);
    code.extend([0x60, 23, 0x5f, 0x60, 40]);
    push32(&mut code, a(DELEGATED));
    code.push(0x3c);
    push32(&mut code, U256::from(number.saturating_sub(2)));
    code.extend([0x40, 0x50]);
    push32(&mut code, a(ABSENT));
    code.extend([0x3f, 0x50]);
    code.extend([0x60, 0x05, 0x3b, 0x50]);
    code.extend([0x61, 0x04, 0x4c, 0x60, 0x07, 0x60, 0x80]);
    push32(&mut code, a(OTHER));
    code.push(0x3c);
    code.extend([0x60, 0x40, 0x5f, 0xf3]);
    code
}

/// Frame gas the account-reading out-of-gas sweep goes up to (exclusive).
pub const ACCOUNT_READS_GAS: u64 = 9_000;
/// Gas values of the sweep in the [`Family::Accounts`] enumeration (spread over
/// [`ACCOUNT_READS_GAS`]; the test sweeps every value).
const ACCOUNT_OOG_POINTS: u64 = 90;

/// The four kinds of [`Family::Accounts`] program and how many of each there are.
fn account_kinds() -> [u64; 4] {
    let probes = probe_addresses(TARGET, CALLER).len() as u64;
    [
        6 * probes,
        2 * EXTCODECOPY_CASES.len() as u64,
        Environment::boundaries().len() as u64,
        ACCOUNT_OOG_POINTS,
    ]
}

fn account_cases() -> u64 {
    4 * account_kinds().iter().max().copied().unwrap_or(1)
}

/// The [`Family::Accounts`] programs, the four kinds in turn (so a short run sees each):
/// the three account reads of each probe address once and twice; each copy case of
/// `OTHER` and of `DELEGATED`; the `BLOCKHASH` program in each boundary environment; the
/// all-in-one program at frame gas spread over its whole cost.
fn accounts(k: u64) -> Program {
    let probes = probe_addresses(TARGET, CALLER);
    let n = probes.len() as u64;
    let kinds = account_kinds();
    let kind = (k % 4) as usize;
    let i = (k / 4) % kinds[kind];
    match kind {
        0 => {
            let op = [0x3b, 0x3f, 0x3c][(i / (2 * n)) as usize];
            let who = probes[((i / 2) % n) as usize];
            let copy = EXTCODECOPY_CASES[(i % EXTCODECOPY_CASES.len() as u64) as usize];
            let (code, _) = account_read(op, who, i % 2 == 1, copy);
            Program::new(code).gas(1_000_000).with_neighbours()
        }
        1 => {
            let copies = EXTCODECOPY_CASES.len() as u64;
            let who = if i < copies { OTHER } else { DELEGATED };
            let copy = EXTCODECOPY_CASES[(i % copies) as usize];
            let (code, _) = account_read(0x3c, who, false, copy);
            Program::new(code).gas(1_000_000).with_neighbours()
        }
        2 => {
            let env = Environment::boundaries()
                .into_iter()
                .nth(i as usize)
                .unwrap_or_default();
            Program::new(blockhash_program(env.number))
                .env(env)
                .gas(100_000)
                .with_neighbours()
        }
        _ => {
            let gas = i * ACCOUNT_READS_GAS / ACCOUNT_OOG_POINTS + i % 7;
            let number = Environment::default().number;
            Program::new(account_reads_program(number))
                .gas(gas)
                .with_neighbours()
        }
    }
}

/// The account [`Family::Calls`] programs call.
pub const CALLEE: Address = address!("0x8000000000000000000000000000000000000008");
/// An EIP-7702 account delegating to [`CALLEE`] (its code is `0xef0100 ‖ CALLEE`).
pub const DELEGATES_TO_CALLEE: Address = address!("0x9000000000000000000000000000000000000009");

/// What a callee of [`Family::Calls`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callee {
    /// Writes slot 1 if the flag is set, copies its input to memory 0, writes `ADDRESS`,
    /// `CALLER`, `CALLVALUE` at 0x40, 0x60, 0x80, and returns `n` bytes from 0.
    Return(u16, bool),
    /// Writes slot 1, the same memory, and reverts with `n` bytes from 0.
    Revert(u16),
    /// Writes slot 1 and stops.
    Stop,
    /// Writes slot 1 and loops until out of gas.
    OutOfGas,
    /// Writes slot 1 and halts on `INVALID`.
    Invalid,
    /// `LOG1` of 8 bytes, then stops (a static violation under `STATICCALL`).
    Log,
    /// Calls itself with value 1 and all its gas (a static violation under
    /// `STATICCALL`; otherwise it recurses until its gas runs out).
    CallsWithValue,
    /// Calls itself with its gas less 5,000 until the gas runs out, then stops: about 20
    /// frames deep with the programs' 120,000 gas.
    Recurse,
}

impl Callee {
    /// Every behaviour, the returns and reverts at several output lengths.
    pub fn all() -> Vec<Callee> {
        vec![
            Callee::Return(32, true),
            Callee::Return(0, false),
            Callee::Revert(7),
            Callee::Return(2_000, true),
            Callee::Stop,
            Callee::OutOfGas,
            Callee::Return(5, false),
            Callee::Invalid,
            Callee::Revert(64),
            Callee::Log,
            Callee::CallsWithValue,
            Callee::Recurse,
            Callee::Revert(0),
            Callee::Return(100, true),
        ]
    }

    /// The callee's code.
    pub fn code(self) -> Vec<u8> {
        let store = [0x60, 0x2a, 0x60, 0x01, 0x55]; // SSTORE(1, 42)
        let echo = [
            0x36, 0x5f, 0x5f, 0x37, // CALLDATACOPY(0, 0, CALLDATASIZE)
            0x30, 0x60, 0x40, 0x52, // MSTORE(0x40, ADDRESS)
            0x33, 0x60, 0x60, 0x52, // MSTORE(0x60, CALLER)
            0x34, 0x60, 0x80, 0x52, // MSTORE(0x80, CALLVALUE)
        ];
        let mut code = Vec::new();
        match self {
            Callee::Return(n, st) => {
                if st {
                    code.extend(store);
                }
                code.extend(echo);
                code.push(0x61);
                code.extend(n.to_be_bytes());
                code.extend([0x5f, 0xf3]);
            }
            Callee::Revert(n) => {
                code.extend(store);
                code.extend(echo);
                code.push(0x61);
                code.extend(n.to_be_bytes());
                code.extend([0x5f, 0xfd]);
            }
            Callee::Stop => {
                code.extend(store);
                code.push(0x00);
            }
            Callee::OutOfGas => {
                code.extend(store);
                code.extend([0x5b, 0x60, 0x05, 0x56]); // JUMPDEST at 5, JUMP 5
            }
            Callee::Invalid => {
                code.extend(store);
                code.push(0xfe);
            }
            Callee::Log => {
                // LOG1(0, 8, topic 7)
                code.extend([0x60, 0x07, 0x60, 0x08, 0x5f, 0xa1, 0x00]);
            }
            Callee::CallsWithValue => {
                // CALL(GAS, ADDRESS, 1, 0, 0, 0, 0)
                code.extend([0x5f, 0x5f, 0x5f, 0x5f, 0x60, 0x01, 0x30, 0x5a, 0xf1, 0x00]);
            }
            Callee::Recurse => {
                // CALL(GAS − 5000, ADDRESS, 0, 0, 0, 0, 0), then its result is dropped.
                code.extend([
                    0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x30, 0x61, 0x13, 0x88, 0x5a, 0x03,
                ]);
                code.extend([0xf1, 0x50, 0x00]);
            }
        }
        code
    }
}

/// The gas a call asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallGas {
    /// `GAS`: all the caller has (63/64 of it goes).
    All,
    /// A fixed amount.
    Fixed(u64),
    /// A word above 64 bits (revm reads it as `u64::MAX`).
    Huge,
}

/// One call of [`Family::Calls`]: the caller (the transaction's account) writes two words
/// of input at memory 0, calls `to` by `op`, stores the success flag in slot 9, copies the
/// return data to 0x400 and stores its size in slot 10, and ends with `end` (`STOP`,
/// `RETURN` or `REVERT` of memory 0..0x480).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallCase {
    /// `CALL`, `CALLCODE`, `DELEGATECALL` or `STATICCALL`.
    pub op: u8,
    /// The address called.
    pub to: Address,
    /// The value (`CALL`, `CALLCODE` only).
    pub value: U256,
    /// The gas asked for.
    pub gas: CallGas,
    /// Input bytes, from memory offset 5.
    pub in_len: u64,
    /// Where the output goes.
    pub out_offset: u64,
    /// How much of it.
    pub out_len: u64,
    /// What [`CALLEE`] does.
    pub callee: Callee,
    /// The caller's last opcode.
    pub end: u8,
    /// The caller's frame gas.
    pub frame_gas: u64,
}

/// The pre-state of the call programs: [`CALLEE`] with `callee`'s code and a balance,
/// [`DELEGATES_TO_CALLEE`], an EOA with a balance ([`EOA`]).
pub fn call_accounts(callee: Callee) -> Vec<PreAccount> {
    let mut delegation = vec![0xef, 0x01, 0x00];
    delegation.extend_from_slice(CALLEE.as_slice());
    vec![
        PreAccount {
            address: CALLEE,
            nonce: 1,
            balance: U256::from(1_000),
            code: callee.code(),
            storage: vec![(U256::from(1), U256::from(5))],
        },
        PreAccount {
            address: DELEGATES_TO_CALLEE,
            nonce: 2,
            balance: U256::from(3),
            code: delegation,
            storage: Vec::new(),
        },
        PreAccount {
            address: EOA,
            nonce: 7,
            balance: U256::from(10).pow(U256::from(18)),
            code: Vec::new(),
            storage: Vec::new(),
        },
    ]
}

/// Osaka's precompiles: `0x01`..`0x11` and `0x100`.
pub fn osaka_precompile_addresses() -> Vec<Address> {
    (1u16..=0x11)
        .chain([0x100])
        .map(|n| Address::left_padding_from(&n.to_be_bytes()))
        .collect()
}

/// An input each precompile accepts: all zeros of its length (points at infinity, zero
/// field elements and scalars), the bn254 generator for `0x06`/`0x07`, a KZG opening of the
/// zero polynomial for `0x0a`, a small modexp, and 213 zero bytes with 12 rounds for
/// `blake2f`.
pub fn canonical_precompile_input(to: Address) -> Vec<u8> {
    let n = u16::from_be_bytes([to.as_slice()[18], to.as_slice()[19]]);
    let word = |v: u64| U256::from(v).to_be_bytes::<32>().to_vec();
    match n {
        0x01 | 0x100 => vec![0; if n == 1 { 128 } else { 160 }],
        0x02..=0x04 => (0..100u8).collect(),
        0x05 => {
            // 3^5 mod 7.
            let mut v = [word(1), word(1), word(1)].concat();
            v.extend([3, 5, 7]);
            v
        }
        // (1, 2) + (1, 2), and 5 · (1, 2).
        0x06 => [word(1), word(2), word(1), word(2)].concat(),
        0x07 => [word(1), word(2), word(5)].concat(),
        // One pair of points at infinity: the pairing holds.
        0x08 => vec![0; 192],
        0x09 => {
            let mut v = vec![0; 213];
            v[3] = 12;
            v[212] = 1;
            v
        }
        0x0a => {
            // The zero polynomial: commitment and proof at infinity, y = 0 at z = 0.
            let mut commitment = [0u8; 48];
            commitment[0] = 0xc0;
            let mut hash = sha2_256(&commitment);
            hash[0] = 0x01;
            let mut v = hash.to_vec();
            v.extend([0u8; 64]);
            v.extend(commitment);
            v.extend(commitment);
            v
        }
        0x0b => vec![0; 256],
        0x0c => vec![0; 160],
        0x0d => vec![0; 512],
        0x0e => vec![0; 288],
        0x0f => vec![0; 384],
        0x10 => vec![0; 64],
        0x11 => vec![0; 128],
        _ => Vec::new(),
    }
}

/// SHA-256 by the chain's own precompile.
fn sha2_256(data: &[u8]) -> [u8; 32] {
    let sha = Address::left_padding_from(&[2]);
    crate::execution::run_bounded(
        crate::execution::osaka_precompiles(),
        &sha,
        data,
        1_000_000,
        0,
    )
    .ok()
    .flatten()
    .and_then(|c| <[u8; 32]>::try_from(&c.result.output[..]).ok())
    .unwrap_or_default()
}

/// A call to a precompile ([`Family::Precompiles`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecompileCase {
    /// `CALL`, `CALLCODE`, `DELEGATECALL` or `STATICCALL`.
    pub op: u8,
    /// The precompile.
    pub to: Address,
    /// Its input (the calldata, copied to memory at 0).
    pub input: Vec<u8>,
    /// The value (`CALL`, `CALLCODE`).
    pub value: U256,
    /// Gas the call asks for.
    pub gas: CallGas,
    /// Where the output goes, and how much of it.
    pub out_offset: u64,
    /// See `out_offset`.
    pub out_len: u64,
    /// The frame's gas.
    pub frame_gas: u64,
}

/// The program of `c`: `CALLDATACOPY` the input to memory, the call, then the success
/// flag and the return data size stored, the return data copied, and the memory around
/// the output returned.
pub fn precompile_program(c: &PrecompileCase) -> Program {
    let mut code = Vec::new();
    code.extend([0x36, 0x5f, 0x5f, 0x37]); // CALLDATACOPY(0, 0, CALLDATASIZE)
    push32(&mut code, U256::from(c.out_len));
    push32(&mut code, U256::from(c.out_offset));
    code.extend([0x36, 0x5f]); // in: (0, CALLDATASIZE)
    if matches!(c.op, 0xf1 | 0xf2) {
        push32(&mut code, c.value);
    }
    push32(&mut code, U256::from_be_slice(c.to.as_slice()));
    match c.gas {
        CallGas::All => code.push(0x5a),
        CallGas::Fixed(g) => push32(&mut code, U256::from(g)),
        CallGas::Huge => push32(&mut code, U256::MAX),
    }
    code.push(c.op);
    code.extend([0x60, 0x09, 0x55]); // SSTORE(9, success)
    code.extend([0x3d, 0x60, 0x0a, 0x55]); // SSTORE(10, RETURNDATASIZE)
    code.extend([0x3d, 0x5f, 0x61, 0x04, 0x00, 0x3e]); // RETURNDATACOPY(0x400, 0, size)
    code.extend([0x61, 0x08, 0x00, 0x5f, 0xf3]); // RETURN(0, 0x800)
    let mut p = Program::new(code).gas(c.frame_gas);
    p.calldata = c.input.clone();
    p
}

/// The program of `c` (the caller's code is also the called account's when `to` is the
/// caller) and the pc of its call.
pub fn call_program(c: &CallCase) -> (Program, usize) {
    let mut code = Vec::new();
    push32(&mut code, U256::from_be_bytes([0xa5; 32]));
    code.extend([0x5f, 0x52]); // MSTORE(0, 0xa5…)
    push32(&mut code, U256::from(0x0102_0304_0506_0708u64));
    code.extend([0x60, 0x20, 0x52]); // MSTORE(32, …)
    push32(&mut code, U256::from(c.out_len));
    push32(&mut code, U256::from(c.out_offset));
    push32(&mut code, U256::from(c.in_len));
    push32(&mut code, U256::from(5));
    if matches!(c.op, 0xf1 | 0xf2) {
        push32(&mut code, c.value);
    }
    push32(&mut code, U256::from_be_slice(c.to.as_slice()));
    match c.gas {
        CallGas::All => code.push(0x5a),
        CallGas::Fixed(g) => push32(&mut code, U256::from(g)),
        CallGas::Huge => push32(&mut code, U256::MAX),
    }
    let at = code.len();
    code.push(c.op);
    code.extend([0x60, 0x09, 0x55]); // SSTORE(9, success)
    code.extend([0x3d, 0x5f, 0x61, 0x04, 0x00, 0x3e]); // RETURNDATACOPY(0x400, 0, size)
    code.extend([0x3d, 0x60, 0x0a, 0x55]); // SSTORE(10, RETURNDATASIZE)
    match c.end {
        0xf3 | 0xfd => code.extend([0x61, 0x04, 0x80, 0x5f, c.end]),
        _ => code.push(0x00),
    }
    let p = Program::new(code)
        .gas(c.frame_gas)
        .accounts(call_accounts(c.callee));
    (p, at)
}

/// The account that creates in [`Family::Creates`] programs when the transaction's
/// account calls it ([`Via::Static`], [`Via::Call`]).
pub const CREATOR: Address = address!("0xc000000000000000000000000000000000000c0c");

/// The code a [`InitCode::Deploy`] init code deploys (zero-padded): `MSTORE(0, 42)`,
/// `RETURN(0, 32)`.
pub const RUNTIME: [u8; 8] = [0x60, 0x2a, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3];

/// What the init code of a [`Family::Creates`] program does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitCode {
    /// Returns `n` bytes: [`RUNTIME`] zero-padded (cut short below 8 bytes).
    Deploy(u16),
    /// Returns 3 bytes starting with `0xEF` (EIP-3541 refuses them).
    DeployEf,
    /// Writes slot 1 and reverts with `n` bytes of its memory.
    Revert(u16),
    /// Writes slot 1 and stops (empty code is deposited).
    Stop,
    /// Writes slot 1 and halts on `INVALID`.
    Invalid,
    /// Loops until out of gas.
    OutOfGas,
    /// Creates a [`InitCode::Deploy`]`(11)` itself, stores the address in slot 1 and
    /// returns 11 bytes.
    Nested,
    /// Creates a copy of itself with all its gas until the gas runs out (about 30 frames
    /// deep with 1,500,000 gas), storing each address.
    Recurse,
    /// Writes `ADDRESS`, `CALLER`, `CALLVALUE`, `CALLDATASIZE`, `CODESIZE`,
    /// `SELFBALANCE` to memory, `ADDRESS` to slot 0, and returns them (192 bytes of code).
    Reads,
    /// No init code at all.
    Empty,
}

impl InitCode {
    /// Every behaviour, the deposits at several sizes.
    pub fn all() -> Vec<InitCode> {
        // The deposit's sponge first, so that even a short coverage run meets it.
        vec![
            InitCode::Deploy(3_000),
            InitCode::Deploy(11),
            InitCode::Revert(40),
            InitCode::Deploy(2_100),
            InitCode::Stop,
            InitCode::Nested,
            InitCode::DeployEf,
            InitCode::Deploy(24_576),
            InitCode::Invalid,
            InitCode::Reads,
            InitCode::Deploy(24_577),
            InitCode::OutOfGas,
            InitCode::Empty,
            InitCode::Recurse,
            InitCode::Revert(0),
            InitCode::Deploy(0),
        ]
    }

    /// The init code, then `pad` bytes of data it never runs.
    pub fn code(self, pad: usize) -> Vec<u8> {
        let store = [0x60, 0x07, 0x60, 0x01, 0x55]; // SSTORE(1, 7)
        let mut code = Vec::new();
        match self {
            InitCode::Deploy(n) => {
                let [hi, lo] = n.to_be_bytes();
                // CODECOPY(0, 13, n), RETURN(0, n); the runtime at 13.
                code.extend([0x61, hi, lo, 0x61, 0x00, 0x0d, 0x5f, 0x39]);
                code.extend([0x61, hi, lo, 0x5f, 0xf3]);
                let mut runtime = RUNTIME.to_vec();
                runtime.resize(n as usize, 0);
                code.extend(runtime);
            }
            InitCode::DeployEf => {
                // MSTORE8(0, 0xEF), RETURN(0, 3).
                code.extend([0x60, 0xef, 0x5f, 0x53, 0x60, 0x03, 0x5f, 0xf3]);
            }
            InitCode::Revert(n) => {
                code.extend(store);
                code.extend([0x30, 0x5f, 0x52]); // MSTORE(0, ADDRESS)
                let [hi, lo] = n.to_be_bytes();
                code.extend([0x61, hi, lo, 0x5f, 0xfd]);
            }
            InitCode::Stop => {
                code.extend(store);
                code.push(0x00);
            }
            InitCode::Invalid => {
                code.extend(store);
                code.push(0xfe);
            }
            InitCode::OutOfGas => code.extend([0x5b, 0x5f, 0x56]), // JUMPDEST, JUMP 0
            InitCode::Nested => {
                let inner = InitCode::Deploy(11).code(0);
                let [hi, lo] = (inner.len() as u16).to_be_bytes();
                // CODECOPY(0, 20, len), CREATE(0, 0, len), SSTORE(1, address),
                // RETURN(0, 11); the inner init code at 20.
                code.extend([0x61, hi, lo, 0x60, 20, 0x5f, 0x39]);
                code.extend([0x61, hi, lo, 0x5f, 0x5f, 0xf0]);
                code.extend([0x60, 0x01, 0x55, 0x60, 0x0b, 0x5f, 0xf3]);
                code.extend(inner);
            }
            InitCode::Recurse => {
                // CODECOPY(0, 0, CODESIZE), CREATE(0, 0, CODESIZE), SSTORE(1, address).
                code.extend([0x38, 0x5f, 0x5f, 0x39, 0x38, 0x5f, 0x5f, 0xf0]);
                code.extend([0x60, 0x01, 0x55, 0x00]);
            }
            InitCode::Reads => {
                for (i, op) in [0x30u8, 0x33, 0x34, 0x36, 0x38].iter().enumerate() {
                    code.extend([*op, 0x60, 32 * i as u8, 0x52]);
                }
                code.extend([0x47, 0x60, 0xa0, 0x52]); // MSTORE(160, SELFBALANCE)
                code.extend([0x30, 0x5f, 0x55]); // SSTORE(0, ADDRESS)
                code.extend([0x60, 0xc0, 0x5f, 0xf3]); // RETURN(0, 192)
            }
            InitCode::Empty => return Vec::new(),
        }
        code.extend(std::iter::repeat_n(0xab, pad));
        code
    }
}

/// Where a [`Family::Creates`] program's create runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// In the transaction's account.
    Direct,
    /// In [`CREATOR`], called by `STATICCALL`: the create is a static violation.
    Static,
    /// In [`CREATOR`] with this nonce (`u64::MAX`: the create fails without entering),
    /// called by `CALL`.
    Call(u64),
}

/// What is at the address the first create makes before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occupied {
    /// Nothing.
    Free,
    /// An account with nonce 1: a collision.
    Nonce,
    /// An account with code: a collision.
    Code,
    /// An account with only a balance: no collision, the balance stays.
    Balance,
}

/// One program of [`Family::Creates`]: the creator copies the init code (the data after
/// its code) to memory 0, creates by `op` with `value` (and `salt`), stores the address in
/// slot 9 and the return data's size in slot 10, creates again if `twice` (slots 11, 12),
/// stores the last created account's code size and hash (slots 13, 14), calls it and
/// stores the flag and the first word of its output (slots 15, 16), and ends with `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCase {
    /// `CREATE` or `CREATE2`.
    pub op: u8,
    /// The endowment.
    pub value: U256,
    /// `CREATE2`'s salt.
    pub salt: U256,
    /// What the init code does.
    pub init: InitCode,
    /// Bytes after the init code (above 2 KiB in all: the init-code sponge).
    pub init_pad: usize,
    /// Create a second time with the same arguments.
    pub twice: bool,
    /// Where the create runs.
    pub via: Via,
    /// What is at the first address.
    pub occupied: Occupied,
    /// The creator's last opcode (`STOP`, `RETURN`, `REVERT`).
    pub end: u8,
    /// The transaction's frame gas.
    pub frame_gas: u64,
}

/// The creator's code of `c` and the pc of its first create.
fn creator_code(c: &CreateCase) -> (Vec<u8>, usize) {
    let init = c.init.code(c.init_pad);
    let [hi, lo] = (init.len() as u16).to_be_bytes();
    let mut code = Vec::new();
    let mut at = 0;
    // CODECOPY(0, data, len): the data offset is patched once the code is known.
    code.extend([0x61, hi, lo, 0x61, 0x00, 0x00, 0x5f, 0x39]);
    for i in 0..1 + u8::from(c.twice) {
        if c.op == 0xf5 {
            push32(&mut code, c.salt);
        }
        code.extend([0x61, hi, lo, 0x5f]);
        push32(&mut code, c.value);
        if i == 0 {
            at = code.len();
        }
        code.push(c.op);
        code.extend([0x80, 0x60, 9 + 2 * i, 0x55]); // SSTORE(9 + 2i, address), kept
        code.extend([0x3d, 0x60, 10 + 2 * i, 0x55]); // SSTORE(10 + 2i, RETURNDATASIZE)
        if i == 0 && c.twice {
            code.push(0x50);
        }
    }
    code.extend([0x80, 0x3b, 0x60, 0x0d, 0x55]); // SSTORE(13, EXTCODESIZE(address))
    code.extend([0x80, 0x3f, 0x60, 0x0e, 0x55]); // SSTORE(14, EXTCODEHASH(address))
    // CALL(GAS, address, 0, 0, 0, 0x200, 32), SSTORE(15, success), SSTORE(16, MLOAD(0x200)).
    code.extend([
        0x60, 0x20, 0x61, 0x02, 0x00, 0x5f, 0x5f, 0x5f, 0x85, 0x5a, 0xf1,
    ]);
    code.extend([0x60, 0x0f, 0x55, 0x61, 0x02, 0x00, 0x51, 0x60, 0x10, 0x55]);
    match c.end {
        0xf3 | 0xfd => code.extend([0x60, 0x40, 0x61, 0x02, 0x00, c.end]),
        _ => code.push(0x00),
    }
    let [dh, dl] = (code.len() as u16).to_be_bytes();
    code[4] = dh;
    code[5] = dl;
    code.extend(init);
    (code, at)
}

/// The program of `c` and the pc of its first create (in [`CREATOR`]'s code when the
/// create does not run in the transaction's account).
pub fn create_program(c: &CreateCase) -> (Program, usize) {
    let (creator, at) = creator_code(c);
    let env = Environment::default();
    let mut accounts = Vec::new();
    let (code, who, nonce) = match c.via {
        Via::Direct => (creator, env.target, 0),
        Via::Static | Via::Call(_) => {
            let nonce = match c.via {
                Via::Call(n) => n,
                _ => 1,
            };
            accounts.push(PreAccount {
                address: CREATOR,
                nonce,
                balance: U256::from(10).pow(U256::from(18)),
                code: creator,
                storage: Vec::new(),
            });
            // CALL/STATICCALL(GAS, CREATOR, [0,] 0, 0, 0, 0), SSTORE(9, success), STOP.
            let mut code = vec![0x5f, 0x5f, 0x5f, 0x5f];
            if c.via != Via::Static {
                code.push(0x5f);
            }
            code.push(0x73);
            code.extend_from_slice(CREATOR.as_slice());
            code.push(0x5a);
            code.push(if c.via == Via::Static { 0xfa } else { 0xf1 });
            code.extend([0x60, 0x09, 0x55, 0x00]);
            (code, CREATOR, nonce)
        }
    };
    let first = if c.op == 0xf5 {
        who.create2(
            B256::from(c.salt.to_be_bytes::<32>()),
            alloy_primitives::keccak256(c.init.code(c.init_pad)),
        )
    } else {
        who.create(nonce)
    };
    let taken = match c.occupied {
        Occupied::Free => None,
        Occupied::Nonce => Some((1, Vec::new())),
        Occupied::Code => Some((0, vec![0x60, 0x01, 0x00])),
        Occupied::Balance => Some((0, Vec::new())),
    };
    if let Some((nonce, code)) = taken {
        accounts.push(PreAccount {
            address: first,
            nonce,
            balance: U256::from(777),
            code,
            storage: Vec::new(),
        });
    }
    (Program::new(code).gas(c.frame_gas).accounts(accounts), at)
}

/// For the create at `at` of `p`: the frame gas used before it, what the create step
/// charges before the child's gas (the word costs, memory, 32,000) and its init code's
/// words, from the machine itself (`None` if the machine does not reach it).
fn create_cost_at(p: &Program, at: usize) -> Option<(u64, u64, u64)> {
    let mut m = super::differential::machine_start(p, p.frame_gas).ok()?;
    let mut n = 0;
    let at_create = |m: &MachineState| {
        m.pc == at
            && m.cursor.is_none()
            && m.code
                .bytes()
                .get(at)
                .is_some_and(|op| machine::is_create(*op))
    };
    while !at_create(&m) {
        if m.finished.is_some() || n > 100_000 {
            return None;
        }
        machine::step_in_place(&mut m).ok()?;
        n += 1;
    }
    let len = m.stack.get(m.stack.len().checked_sub(3)?).copied()?;
    let words = u64::try_from(len).ok()?.div_ceil(32);
    let (before, depth) = (m.gas, m.callers_depth());
    machine::step_in_place(&mut m).ok()?;
    for _ in 0..1_000 {
        if m.cursor.is_none() {
            break;
        }
        machine::step_in_place(&mut m).ok()?;
    }
    // After entering, the creator keeps ⌊g/64⌋ and the child has the rest of g, the gas
    // left after the charges.
    let after = match &m.callers {
        Some(c) if m.callers_depth() > depth => c.frame.gas + m.gas,
        _ => m.gas,
    };
    let used_before = p.frame_gas - before;
    Some((used_before, before.checked_sub(after)?, words))
}

/// Jump programs: 8 hand-written, one huge target, 40 × 7 around a `PUSH32`.
const JUMP_CASES: u64 = 8 + 1 + 40 * JUMP_OFFSETS.len() as u64;
const JUMP_OFFSETS: [usize; 7] = [0, 1, 5, 31, 32, 33, 34];

fn jumps(k: u64) -> Program {
    let jd = 0x5b;
    let fixed: [&[u8]; 8] = [
        // JUMP to a JUMPDEST.
        &[0x60, 4, 0x56, 0xfe, jd, 0x60, 1, 0x00],
        // JUMP to a non-JUMPDEST.
        &[0x60, 3, 0x56, 0x01, jd],
        // JUMP into push data that holds 0x5b.
        &[0x60, 4, 0x56, 0x60, jd, 0x00],
        // JUMP past the end.
        &[0x60, 9, 0x56, jd],
        // JUMPI taken, not taken, to a bad target not taken.
        &[0x60, 1, 0x60, 6, 0x57, 0xfe, jd, 0x00],
        &[0x5f, 0x60, 6, 0x57, 0x00, 0xfe, jd],
        &[0x5f, 0x60, 1, 0x57, 0x00],
        // PC, GAS, MSIZE around a loop that counts down from 3.
        &[
            0x60, 3, jd, 0x58, 0x50, 0x60, 1, 0x90, 0x03, 0x80, 0x60, 2, 0x57, 0x5a, 0x59, 0x00,
        ],
    ];
    const OFFSETS: [usize; 7] = JUMP_OFFSETS;
    let i = (k % JUMP_CASES) as usize;
    if i < fixed.len() {
        return Program::new(fixed[i].to_vec()).gas(1000);
    }
    if i == fixed.len() {
        // A huge target.
        let mut code = Vec::new();
        push32(&mut code, U256::MAX);
        code.push(0x56);
        return Program::new(code).gas(1000);
    }
    // JUMPDESTs inside and after a PUSH32 whose data crosses chunk boundaries.
    let j = i - fixed.len() - 1;
    let (start, target_off) = (j / OFFSETS.len(), OFFSETS[j % OFFSETS.len()]);
    let mut body = vec![jd; start];
    let push_at = body.len();
    body.push(0x7f);
    body.extend([jd; 32]);
    body.extend([jd, 0x00]);
    // The prefix shifts all positions by 4 (PUSH2 hi lo JUMP).
    let t = (push_at + target_off + 4) as u16;
    let mut code = vec![0x61];
    code.extend(t.to_be_bytes());
    code.push(0x56);
    code.extend(body);
    Program::new(code).gas(1000)
}

/// (pushes, tail): the stack at 1,023 / 1,024 items, and `DUP16`/`SWAP16` at their edge.
const STACK_LIMIT_CASES: [(usize, &[u8]); 12] = [
    // BLOBHASH at 1,024 (pops one, pushes one), then TIMESTAMP overflows; CALLVALUE
    // fills the stack to 1,024, then GASLIMIT overflows.
    (1024, &[0x49, 0x42]),
    (1023, &[0x34, 0x45]),
    (1023, &[0x80]),
    (1024, &[0x80]),
    (1024, &[0x5f]),
    (1024, &[0x60, 1]),
    (1024, &[0x58]),
    (1024, &[0x50, 0x5f]),
    (1024, &[0x9f]),
    (16, &[0x8f, 0x9f]),
    (15, &[0x8f]),
    (16, &[0x9f]),
];

/// The stack limit (1,024 items).
const STACK_LIMIT: usize = 1024;

fn stack_limits(k: u64) -> Program {
    let cases = (STACK_LIMIT_CASES.len() + ENV_PUSH_OPS.len()) as u64;
    let i = (k % cases) as usize;
    let Some((pushes, tail)) = STACK_LIMIT_CASES.get(i) else {
        // Each environment read onto a full stack.
        let mut code = vec![0x5f; STACK_LIMIT];
        code.push(ENV_PUSH_OPS[i - STACK_LIMIT_CASES.len()]);
        return Program::new(code);
    };
    let mut code = vec![0x5f; *pushes];
    code.extend(*tail);
    Program::new(code)
}

/// (opcode, dst, src, len) over 3,000 bytes of calldata, the code, and memory.
const COPY_CASES: [(u8, u64, u64, u64); 9] = [
    (0x37, 0, 0, 3000),
    (0x37, 5, 100, 2047),
    (0x37, 31, 2990, 1030), // runs past the calldata: zeros
    (0x39, 17, 0, 1500),    // past the code too
    (0x5e, 64, 0, 2000),    // overlapping, forward
    (0x5e, 0, 64, 2000),    // overlapping, backward
    (0x5e, 1, 0, 1025),
    (0x37, 0, 0, 1024), // exactly 32 words: one step
    (0x37, 1, 0, 1024), // 33 words: two steps
];

fn copies(k: u64) -> Program {
    let (op, dst, src, len) = COPY_CASES[(k % COPY_CASES.len() as u64) as usize];
    // Fill memory first so MCOPY has data: CALLDATACOPY(0, 0, 3000).
    let mut code = vec![0x61, 0x0b, 0xb8, 0x5f, 0x5f, 0x37];
    for v in [len, src, dst] {
        push32(&mut code, U256::from(v));
    }
    code.push(op);
    code.extend([0x59, 0x00]);
    Program::new(code)
        .calldata((0..3000u32).map(|i| (i * 7 + 1) as u8).collect())
        .gas(1_000_000)
}

/// (offset, length): one step up to 2 KiB, then the sponge; block-boundary lengths.
const KECCAK_CASES: [(u64, u64); 8] = [
    (0, 2048),
    (31, 2048),
    (0, 2049),
    (3, 2176), // 16 blocks of 136: the padding is a block of its own
    (1, 2175),
    (7, 5000),
    (0, 5984),
    (5, 100),
];

fn keccak(k: u64) -> Program {
    let (offset, len) = KECCAK_CASES[(k % KECCAK_CASES.len() as u64) as usize];
    // CALLDATACOPY(0, 0, 6000), then KECCAK256(offset, len), MSIZE, STOP.
    let mut code = vec![0x61, 0x17, 0x70, 0x5f, 0x5f, 0x37];
    push32(&mut code, U256::from(len));
    push32(&mut code, U256::from(offset));
    code.extend([0x20, 0x59, 0x00]);
    Program::new(code)
        .calldata((0..6000u32).map(|i| (i * 13 + 5) as u8).collect())
        .gas(1_000_000)
}

/// Whether `op` is `LOG0`..`LOG4`.
pub fn is_log(op: u8) -> bool {
    (0xa0..=0xa4).contains(&op)
}

/// (topics, offset, length) of [`Family::Logs`]: no data, a few bytes, across words,
/// up to and just above 2 KiB, block boundaries (2,176 = 16 · 136: the padding is a
/// block of its own), several micro-steps.
const LOG_CASES: [(u8, u64, u64); 10] = [
    (0, 0, 0),
    (1, 5, 1),
    (2, 31, 33),
    (3, 0, 100),
    (4, 7, 2048),
    (1, 0, 2049),
    (2, 3, 2176),
    (4, 1, 2175),
    (0, 0, 5000),
    (3, 64, 3000),
];
/// How [`Family::Logs`] programs end: `STOP`, `RETURN(0, 32)`, `REVERT(0, 32)`, `INVALID`.
const LOG_ENDS: [&[u8]; 4] = [
    &[0x00],
    &[0x60, 0x20, 0x5f, 0xf3],
    &[0x60, 0x20, 0x5f, 0xfd],
    &[0xfe],
];
const LOG_BASES: u64 = (LOG_CASES.len() * LOG_ENDS.len()) as u64;
/// Gas variants of each [`Family::Logs`] program: ample, out of gas at the static 375,
/// one short of it, one short of the topic and data gas, one short of the memory
/// expansion, at a random point of the `LOG`, after it.
pub const LOG_GAS_VARIANTS: u64 = 7;
const LOG_PROGRAMS: u64 = LOG_BASES * LOG_GAS_VARIANTS;

/// A program that copies its own code to memory, writes a word near the end of the data,
/// emits `LOGn(offset, len)` with topics from `seed`, then `LOG0(0, 32)` and `end`; and
/// the pc of the first `LOG`. No calldata, so the frame gas is what the program says.
fn log_program(n: u8, offset: u64, len: u64, end: &[u8], seed: u64) -> (Program, usize) {
    let mut code = Vec::new();
    // CODECOPY(0, 0, 255): the code's bytes (zeros past its end) as data.
    code.extend([0x60, 0xff, 0x5f, 0x5f, 0x39]);
    // MSTORE(offset + len − 40, a word) when there is room: data in the last blocks.
    if len >= 64 {
        push32(
            &mut code,
            U256::from(seed).wrapping_mul(U256::MAX / U256::from(255)),
        );
        push32(&mut code, U256::from(offset + len - 40));
        code.push(0x52);
    }
    for i in 0..n {
        let t = U256::from(seed) << (8 * usize::from(i) + 3);
        push32(&mut code, t ^ U256::from(0x1000 + u64::from(i)));
    }
    push32(&mut code, U256::from(len));
    push32(&mut code, U256::from(offset));
    let at = code.len();
    code.push(0xa0 + n);
    code.extend([0x60, 0x20, 0x5f, 0xa0]);
    code.extend(end);
    (Program::new(code).gas(1_000_000), at)
}

/// (gas used before the step at pc `at`, that step's cost), in the machine.
fn cost_at(p: &Program, at: usize) -> Option<(u64, u64)> {
    let mut m = super::differential::machine_start(p, p.frame_gas).ok()?;
    while (m.pc != at || m.cursor.is_some()) && m.finished.is_none() {
        machine::step_in_place(&mut m).ok()?;
    }
    let before = m.gas;
    machine::step_in_place(&mut m).ok()?;
    Some((p.frame_gas - before, before - m.gas))
}

/// Frame gas the out-of-gas family goes up to (exclusive): past what its programs need
/// (about 300).
const OUT_OF_GAS_MAX: u64 = 420;
/// Programs of the out-of-gas family.
const OUT_OF_GAS_PROGRAMS: u64 = 3;

/// Every environment read, combined by `XOR` and returned, so the output holds them all.
pub fn env_reads_program() -> Vec<u8> {
    let mut code = ENV_PUSH_OPS.to_vec();
    code.extend([0x60, 0x07, 0x49]); // BLOBHASH(7)
    code.extend([0x18; ENV_PUSH_OPS.len()]); // XOR them all
    code.extend([0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]); // MSTORE at 0, RETURN(0, 32)
    code
}

/// Three programs with memory expansion, keccak, copies and `EXP`, and every
/// environment read, at every frame gas from 0 to [`OUT_OF_GAS_MAX`].
fn out_of_gas(k: u64) -> Program {
    let mut code = Vec::new();
    let gas = (k / OUT_OF_GAS_PROGRAMS) % OUT_OF_GAS_MAX;
    if k % OUT_OF_GAS_PROGRAMS == 2 {
        return Program::new(env_reads_program()).gas(gas);
    }
    if k.is_multiple_of(OUT_OF_GAS_PROGRAMS) {
        code.extend([0x60, 0xaa, 0x60, 0x40, 0x52]); // MSTORE at 64
        code.extend([0x60, 0x77, 0x60, 0x85, 0x53]); // MSTORE8 at 133
        code.extend([0x61, 0x01, 0x00, 0x60, 0x02, 0x0a]); // EXP(2, 256)
        code.extend([0x60, 0x21, 0x51, 0x50]); // MLOAD 33, POP
        code.extend([0x60, 0x30, 0x60, 0x07, 0x20, 0x50]); // KECCAK256(7, 48), POP
        code.extend([0x61, 0x01, 0x00, 0x60, 0x00, 0xf3]); // RETURN(0, 256)
    } else {
        code.extend([0x60, 0xaa, 0x60, 0x40, 0x52]); // MSTORE at 64
        code.extend([0x60, 0x20, 0x60, 0x10, 0x20]); // KECCAK256(16, 32)
        code.extend([0x61, 0x01, 0x00, 0x60, 0x02, 0x0a]); // EXP(2, 256)
        code.extend([0x60, 0x30, 0x60, 0x00, 0x60, 0x80, 0x39]); // CODECOPY(128, 0, 48)
        code.extend([0x60, 0x40, 0x60, 0x00, 0xf3]); // RETURN(0, 64)
    }
    Program::new(code).gas(gas)
}

/// What one machine step did, for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepOutcome {
    /// Ran (and went on, stopped or returned).
    Ok,
    /// `REVERT`.
    Revert,
    /// A `KECCAK256` above 2 KiB: the step that starts the sponge.
    SpongeStart,
    /// A copy micro-step.
    CopyMicroStep,
    /// A sponge micro-step.
    SpongeMicroStep,
    /// A `LOG` with data above 2 KiB: the step that starts its sponge.
    LogStart,
    /// A `LOG`'s sponge micro-step (the last one appends the log).
    LogMicroStep,
    /// A `CREATE`/`CREATE2` with init code above 2 KiB: the step that starts its sponge.
    CreateStart,
    /// A create's init-code sponge micro-step (the last one goes on with the create).
    CreateMicroStep,
    /// A create frame's `RETURN` of code above 2 KiB: the step that starts the deposit's
    /// sponge.
    DepositStart,
    /// A code deposit's sponge micro-step (the last one deposits and resumes the creator).
    DepositMicroStep,
    /// Halt: init code above 49,152 bytes (EIP-3860).
    InitCodeSizeLimit,
    /// A create frame's code refused: above 24,576 bytes (EIP-170) or starting with
    /// `0xEF` (EIP-3541); a halt of the frame.
    DepositRefused,
    /// Halt: out of gas.
    OutOfGas,
    /// Halt: stack underflow.
    StackUnderflow,
    /// Halt: stack overflow.
    StackOverflow,
    /// Halt: jump to a non-`JUMPDEST`.
    InvalidJump,
    /// Halt: a byte Osaka leaves undefined.
    Undefined,
    /// Halt: `INVALID`.
    InvalidFe,
    /// Halt: an offset or length above 64 bits where memory is touched.
    InvalidOperand,
    /// Halt: `RETURNDATACOPY` past the return data.
    ReturnDataOutOfBounds,
    /// Halt: a state change in a static call.
    StaticViolation,
    /// A call to a precompile that refused its input (malformed, or above Blink's bound).
    PrecompileError,
}

impl StepOutcome {
    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            StepOutcome::Ok => "ok",
            StepOutcome::Revert => "revert",
            StepOutcome::SpongeStart => "sponge start",
            StepOutcome::CopyMicroStep => "copy micro-step",
            StepOutcome::SpongeMicroStep => "sponge micro-step",
            StepOutcome::LogStart => "log sponge start",
            StepOutcome::LogMicroStep => "log micro-step",
            StepOutcome::CreateStart => "init-code sponge start",
            StepOutcome::CreateMicroStep => "init-code micro-step",
            StepOutcome::DepositStart => "deposit sponge start",
            StepOutcome::DepositMicroStep => "deposit micro-step",
            StepOutcome::InitCodeSizeLimit => "init code too large",
            StepOutcome::DepositRefused => "code refused",
            StepOutcome::OutOfGas => "out of gas",
            StepOutcome::StackUnderflow => "stack underflow",
            StepOutcome::StackOverflow => "stack overflow",
            StepOutcome::InvalidJump => "invalid jump",
            StepOutcome::Undefined => "undefined",
            StepOutcome::InvalidFe => "invalid",
            StepOutcome::InvalidOperand => "invalid operand",
            StepOutcome::ReturnDataOutOfBounds => "return data out of bounds",
            StepOutcome::StaticViolation => "static violation",
            StepOutcome::PrecompileError => "precompile error",
        }
    }

    /// Whether the step is a micro-step (no opcode of its own).
    pub fn is_micro(self) -> bool {
        matches!(
            self,
            StepOutcome::CopyMicroStep
                | StepOutcome::SpongeMicroStep
                | StepOutcome::LogMicroStep
                | StepOutcome::CreateMicroStep
                | StepOutcome::DepositMicroStep
        )
    }
}

/// The opcode of the step from `pre` to `post` (a micro-step's is its cursor's) and what
/// it did.
pub fn classify(pre: &MachineState, post: &MachineState) -> (u8, StepOutcome) {
    if let Some(c) = &pre.cursor {
        let outcome = match c {
            Cursor::Copy(_) => StepOutcome::CopyMicroStep,
            Cursor::Sponge(_) => StepOutcome::SpongeMicroStep,
            Cursor::Log(_) => StepOutcome::LogMicroStep,
            Cursor::Create(_) => StepOutcome::CreateMicroStep,
            Cursor::Deposit(_) => StepOutcome::DepositMicroStep,
        };
        return (c.opcode(), outcome);
    }
    // Past the end of the code the machine runs STOP.
    let op = pre.code.bytes().get(pre.pc).copied().unwrap_or(0);
    if pre.returns_into(post) {
        // A nested frame ended and its caller resumed: the outcome is the frame's own,
        // as the same step shows when the frame stands alone.
        let mut alone = pre.clone();
        alone.callers = None;
        if let Ok(end) = machine::step(&alone) {
            return classify(&alone, &end);
        }
    }
    let outcome = match &post.finished {
        Some(f) => match f.outcome {
            Outcome::Stop | Outcome::Return => StepOutcome::Ok,
            Outcome::Revert => StepOutcome::Revert,
            Outcome::Halt(h) => match h {
                Halt::OutOfGas => StepOutcome::OutOfGas,
                Halt::StackUnderflow => StepOutcome::StackUnderflow,
                Halt::StackOverflow => StepOutcome::StackOverflow,
                Halt::InvalidJump => StepOutcome::InvalidJump,
                Halt::UndefinedOpcode(_) => StepOutcome::Undefined,
                Halt::InvalidFe => StepOutcome::InvalidFe,
                Halt::InvalidOperand => StepOutcome::InvalidOperand,
                Halt::ReturnDataOutOfBounds => StepOutcome::ReturnDataOutOfBounds,
                Halt::StateChangeInStaticCall => StepOutcome::StaticViolation,
                Halt::InitCodeSizeLimit => StepOutcome::InitCodeSizeLimit,
                Halt::CodeSizeLimit | Halt::CodeStartsWithEf => StepOutcome::DepositRefused,
                Halt::PrecompileOutOfGas => StepOutcome::OutOfGas,
                Halt::PrecompileError => StepOutcome::PrecompileError,
            },
        },
        None if op == 0x20 && matches!(post.cursor, Some(Cursor::Sponge(_))) => {
            StepOutcome::SpongeStart
        }
        None if is_log(op) && matches!(post.cursor, Some(Cursor::Log(_))) => StepOutcome::LogStart,
        None if machine::is_create(op) && matches!(post.cursor, Some(Cursor::Create(_))) => {
            StepOutcome::CreateStart
        }
        None if matches!(post.cursor, Some(Cursor::Deposit(_))) => StepOutcome::DepositStart,
        None => StepOutcome::Ok,
    };
    (op, outcome)
}

/// Whether `OneStepProver` runs this step (rather than reverting `UnsupportedStep` or
/// `UnsupportedMicroStep`): every step of an opcode it covers, micro-steps (keyed by
/// their cursor's opcode) and the sponge's start included.
pub fn prover_runs(op: u8, _outcome: StepOutcome) -> bool {
    prover_covers(op)
}

/// Whether the prover's answer for the step from `pre` (whose opcode, or cursor's opcode,
/// is `op` and whose outcome is `outcome`) is a post-state: [`prover_runs`]. Otherwise it
/// must revert `UnsupportedStep` (`UnsupportedMicroStep` for a micro-step). Since
/// `ProverCreate` no step of a covered opcode is refused: the create steps (the opcode, the
/// init-code and deposit sponges, a create frame's every end) are proven like the rest.
pub fn prover_proves(pre: &MachineState, op: u8, outcome: StepOutcome) -> bool {
    prover_runs(op, outcome) && !precompile_input_above_inline(pre)
}

/// Whether the step from `pre` calls a precompile with an input above
/// [`super::witness::PRECOMPILE_INLINE_INPUT`]: `ProverCall` refuses it (the precompile
/// oracle is not built).
pub fn precompile_input_above_inline(pre: &MachineState) -> bool {
    let Some(_) = precompile_call(pre) else {
        return false;
    };
    let op = pre.code.bytes().get(pre.pc).copied().unwrap_or(0);
    let k = if matches!(op, 0xf1 | 0xf2) { 7 } else { 6 };
    let len = pre.stack[pre.stack.len() - 1 - (k - 3)];
    len > U256::from(super::witness::PRECOMPILE_INLINE_INPUT)
}

/// A precompile's name.
pub fn precompile_name(n: u16) -> &'static str {
    match n {
        0x01 => "ecrecover",
        0x02 => "sha256",
        0x03 => "ripemd160",
        0x04 => "identity",
        0x05 => "modexp",
        0x06 => "bn254 add",
        0x07 => "bn254 mul",
        0x08 => "bn254 pairing",
        0x09 => "blake2f",
        0x0a => "point evaluation",
        0x0b => "bls12 g1 add",
        0x0c => "bls12 g1 msm",
        0x0d => "bls12 g2 add",
        0x0e => "bls12 g2 msm",
        0x0f => "bls12 pairing",
        0x10 => "bls12 map fp to g1",
        0x11 => "bls12 map fp2 to g2",
        0x100 => "p256verify",
        _ => "?",
    }
}

/// A precompile call that ran in the step from `pre` to `post`: its address, and whether
/// it succeeded (1 pushed). `None` for any other step, and for a call that halted its
/// caller before entering.
pub fn precompile_run(pre: &MachineState, post: &MachineState) -> Option<(Address, bool)> {
    let a = precompile_call(pre)?;
    if post.finished.is_some() || post.pc == pre.pc {
        return None;
    }
    Some((a, post.stack.last().is_some_and(|v| *v == U256::from(1))))
}

/// The precompile a step from `pre` calls: a call opcode (not a micro-step) with all its
/// arguments on the stack and a precompile as its address.
pub fn precompile_call(pre: &MachineState) -> Option<Address> {
    if pre.cursor.is_some() || pre.finished.is_some() {
        return None;
    }
    let op = *pre.code.bytes().get(pre.pc)?;
    if !is_call(op) {
        return None;
    }
    pre.call_target(op)
        .filter(|a| super::world::is_precompile(*a))
}

/// Whether the step from `pre` to `post` is a create step: `CREATE`/`CREATE2`, a micro-step
/// of the init-code or deposit sponge (cursor tags 4, 5), or the end of a create frame.
pub fn create_step(pre: &MachineState, post: &MachineState) -> bool {
    match &pre.cursor {
        Some(c) => matches!(c, Cursor::Create(_) | Cursor::Deposit(_)),
        None => {
            pre.code
                .bytes()
                .get(pre.pc)
                .is_some_and(|op| machine::is_create(*op))
                || (machine::creates(pre.env.kind) && pre.ends_frame(post))
        }
    }
}

/// The two kinds of step nested frames add besides the call itself: `Some(false)` for a
/// step that ends a nested frame (it resumes the caller, `ProverCall` or, for a halt,
/// `ProverBase._halt`), `Some(true)` for a copy micro-step of the output's write-back into
/// the caller's memory (its cursor carries the call's opcode); `None` for any other step.
/// `blink osp-coverage` asks the prover about them like any other and counts them apart.
pub fn nested_step(pre: &MachineState, post: &MachineState) -> Option<bool> {
    if matches!(&pre.cursor, Some(Cursor::Copy(c)) if is_call(c.opcode)) {
        return Some(true);
    }
    pre.returns_into(post).then_some(false)
}

/// One opcode × outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// Steps checked against revm.
    pub steps: u64,
    /// Disagreements (revm or the prover) attributed to this row.
    pub disagreements: u64,
    /// Steps `OneStepProver` was asked about (all, or the sample).
    pub prover_steps: u64,
    /// L1 gas of each step the prover ran (execution gas of its frame).
    pub gas: Vec<u64>,
}

impl Row {
    /// The median L1 gas.
    pub fn typical_gas(&self) -> Option<u64> {
        let mut g = self.gas.clone();
        g.sort_unstable();
        g.get(g.len() / 2).copied()
    }

    /// The largest L1 gas.
    pub fn max_gas(&self) -> Option<u64> {
        self.gas.iter().max().copied()
    }
}

/// The most disagreement details a [`Coverage`] keeps.
pub const MAX_NOTES: usize = 20;

/// Steps, disagreements and L1 gas per opcode × outcome over a coverage run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// The rows.
    pub rows: BTreeMap<(u8, StepOutcome), Row>,
    /// Steps checked (S).
    pub steps: u64,
    /// Programs run.
    pub programs: u64,
    /// Disagreements (E).
    pub disagreements: u64,
    /// The first [`MAX_NOTES`] disagreements, described.
    pub notes: Vec<String>,
    /// Programs and steps per family (targeted programs under "targeted").
    pub families: BTreeMap<&'static str, (u64, u64)>,
    /// Steps nested frames add ([`nested_step`]): (frame ends resuming a caller,
    /// write-back micro-steps).
    pub nested: (u64, u64),
    /// Create steps ([`create_step`]: the opcode, the init-code and deposit sponges, the
    /// ends of create frames), all proven by `ProverCreate` or, for a `REVERT` or halt, as a
    /// call's end.
    pub creates: u64,
    /// Calls to precompiles that ran ([`precompile_run`]): per precompile (its address's
    /// last two bytes) and result (success or not).
    pub precompiles: BTreeMap<(u16, bool), Row>,
}

impl Coverage {
    /// A step checked against revm.
    pub fn step(&mut self, op: u8, outcome: StepOutcome) {
        self.steps += 1;
        self.rows.entry((op, outcome)).or_default().steps += 1;
    }

    /// A create step ([`create_step`]).
    pub fn create(&mut self) {
        self.creates += 1;
    }

    /// A call to precompile `address` that ran, and whether it succeeded.
    pub fn precompile(&mut self, address: Address, success: bool) {
        let n = u16::from_be_bytes([address.as_slice()[18], address.as_slice()[19]]);
        self.precompiles.entry((n, success)).or_default().steps += 1;
    }

    /// The L1 gas of a proven step that ran precompile `address`.
    pub fn precompile_gas(&mut self, address: Address, success: bool, gas: u64) {
        let n = u16::from_be_bytes([address.as_slice()[18], address.as_slice()[19]]);
        let row = self.precompiles.entry((n, success)).or_default();
        row.prover_steps += 1;
        row.gas.push(gas);
    }

    /// Precompiles whose calls `OneStepProver` proved in this run (C).
    pub fn covered_precompiles(&self) -> usize {
        let mut covered: Vec<u16> = self
            .precompiles
            .iter()
            .filter(|(_, r)| !r.gas.is_empty())
            .map(|((n, _), _)| *n)
            .collect();
        covered.dedup();
        covered.len()
    }

    /// The precompile × result table (markdown): calls run by the machine and revm.
    pub fn precompile_table(&self) -> String {
        let mut out = String::from(
            "| precompile | result | calls | L1 gas typical | L1 gas max |\n| --- | --- | ---: | ---: | ---: |\n",
        );
        for ((n, ok), r) in &self.precompiles {
            let gas = |g: Option<u64>| g.map_or_else(|| "-".to_string(), |g| g.to_string());
            let _ = writeln!(
                out,
                "| 0x{n:02x} {} | {} | {} | {} | {} |",
                precompile_name(*n),
                if *ok { "success" } else { "failure" },
                r.steps,
                gas(r.typical_gas()),
                gas(r.max_gas()),
            );
        }
        out
    }

    /// A step of a nested frame's end (`micro` false) or of a write-back micro-step.
    pub fn nested(&mut self, micro: bool) {
        if micro {
            self.nested.1 += 1;
        } else {
            self.nested.0 += 1;
        }
    }

    /// A step the prover was asked about, with its L1 gas when it ran it.
    pub fn prover(&mut self, op: u8, outcome: StepOutcome, gas: Option<u64>) {
        let row = self.rows.entry((op, outcome)).or_default();
        row.prover_steps += 1;
        if let Some(g) = gas {
            row.gas.push(g);
        }
    }

    /// A disagreement, on the row of the step that produced it when known.
    pub fn disagree(&mut self, row: Option<(u8, StepOutcome)>, detail: String) {
        self.disagreements += 1;
        if let Some(key) = row {
            self.rows.entry(key).or_default().disagreements += 1;
        }
        if self.notes.len() < MAX_NOTES {
            self.notes.push(detail);
        }
    }

    /// A program of `family` that took `steps` steps.
    pub fn program(&mut self, family: &'static str, steps: u64) {
        self.programs += 1;
        let f = self.families.entry(family).or_default();
        f.0 += 1;
        f.1 += steps;
    }

    /// Steps of a row (0 if never seen).
    pub fn steps_of(&self, op: u8, outcome: StepOutcome) -> u64 {
        self.rows.get(&(op, outcome)).map_or(0, |r| r.steps)
    }

    /// Osaka opcodes that both the machine and the prover implement and that the prover
    /// was checked on (A).
    pub fn covered_opcodes(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self
            .rows
            .iter()
            .filter(|((op, outcome), row)| {
                osaka_defined(*op)
                    && implemented(*op)
                    && prover_covers(*op)
                    && prover_runs(*op, *outcome)
                    && !row.gas.is_empty()
            })
            .map(|((op, _), _)| *op)
            .collect();
        out.dedup();
        out
    }

    /// The largest L1 gas of any step (G).
    pub fn max_gas(&self) -> u64 {
        self.rows
            .values()
            .filter_map(Row::max_gas)
            .max()
            .unwrap_or(0)
    }

    /// `coverage: A/150 opcodes, C/18 precompiles, E disagreements over S steps, max gas G`.
    pub fn line(&self) -> String {
        format!(
            "coverage: {}/{OSAKA_OPCODES} opcodes, {}/{OSAKA_PRECOMPILES} precompiles, {} disagreements over {} steps, max gas {}",
            self.covered_opcodes().len(),
            self.covered_precompiles(),
            self.disagreements,
            self.steps,
            self.max_gas()
        )
    }

    /// The opcode × outcome table (markdown); undefined bytes share one row per outcome.
    pub fn table(&self) -> String {
        let mut rows: BTreeMap<(u16, StepOutcome), Row> = BTreeMap::new();
        for ((op, outcome), r) in &self.rows {
            // Undefined bytes sort last, under one key.
            let key = if osaka_defined(*op) {
                *op as u16
            } else {
                0x100
            };
            let e = rows.entry((key, *outcome)).or_default();
            e.steps += r.steps;
            e.disagreements += r.disagreements;
            e.prover_steps += r.prover_steps;
            e.gas.extend(&r.gas);
        }
        let mut out = String::new();
        out.push_str(
            "| opcode | outcome | steps | disagreements | prover steps | L1 gas typical | L1 gas max |\n",
        );
        out.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
        for ((key, outcome), r) in &rows {
            let name = if *key == 0x100 {
                "undefined bytes".to_string()
            } else {
                format!("{} (0x{key:02x})", opcode_name(*key as u8))
            };
            let gas = |g: Option<u64>| {
                g.map_or_else(
                    || {
                        if r.prover_steps > 0 {
                            "UnsupportedStep".to_string()
                        } else {
                            "-".to_string()
                        }
                    },
                    |g| g.to_string(),
                )
            };
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} | {} |",
                outcome.label(),
                r.steps,
                r.disagreements,
                r.prover_steps,
                gas(r.typical_gas()),
                gas(r.max_gas()),
            );
        }
        out
    }

    /// What the line does not count yet, by reason.
    pub fn missing(&self) -> String {
        let covered = self.covered_opcodes();
        let names = |ops: Vec<u8>| {
            if ops.is_empty() {
                return "none".to_string();
            }
            ops.into_iter()
                .map(opcode_name)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let not_machine: Vec<u8> = (0u8..=255)
            .filter(|op| osaka_defined(*op) && !implemented(*op))
            .collect();
        let not_prover: Vec<u8> = (0u8..=255)
            .filter(|op| osaka_defined(*op) && implemented(*op) && !prover_covers(*op))
            .collect();
        let unchecked: Vec<u8> = (0u8..=255)
            .filter(|op| {
                osaka_defined(*op)
                    && implemented(*op)
                    && prover_covers(*op)
                    && !covered.contains(op)
            })
            .collect();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "not in the Rust machine yet ({}): {}",
            not_machine.len(),
            names(not_machine)
        );
        let _ = writeln!(
            out,
            "in the Rust machine, not in OneStepProver yet ({}; checked against revm only): {}",
            not_prover.len(),
            names(not_prover)
        );
        if !unchecked.is_empty() {
            let _ = writeln!(
                out,
                "in both, but no prover step checked in this run ({}): {}",
                unchecked.len(),
                names(unchecked)
            );
        }
        let micro: u64 = self
            .rows
            .iter()
            .filter(|((_, o), _)| o.is_micro() || *o == StepOutcome::SpongeStart)
            .map(|(_, r)| r.gas.len() as u64)
            .sum();
        let _ = writeln!(
            out,
            "micro-steps: copy and sponge micro-steps and sponge starts run by OneStepProver \
             ({micro} prover steps in this run; rows \"copy micro-step\", \"sponge start\", \
             \"sponge micro-step\")"
        );
        let extcopy_micro = self
            .rows
            .get(&(0x3c, StepOutcome::CopyMicroStep))
            .map_or(0, |r| r.gas.len());
        let _ = writeln!(
            out,
            "EXTCODECOPY: its opcode step (ProverCall) and its copy micro-steps run by \
             OneStepProver ({extcopy_micro} micro-steps in this run: a CODE31 view, as \
             CODECOPY's)"
        );
        let _ = writeln!(
            out,
            "nested frames: {} ends resuming a caller and {} write-back micro-steps, asked of \
             OneStepProver like every other step (ProverCall, a halt in ProverBase); {} create \
             steps (CREATE/CREATE2, init-code and deposit sponges, ends of create frames) asked \
             of it as well (ProverCreate; a REVERT or halt as a call's end)",
            self.nested.0, self.nested.1, self.creates
        );
        let calls: u64 = self.precompiles.values().map(|r| r.steps).sum();
        let _ = writeln!(
            out,
            "precompiles: {calls} calls to {} of {OSAKA_PRECOMPILES} precompiles run by the \
             machine and checked against revm; {} of them proven by ProverCall (L1's own \
             precompile by staticcall; inputs above 2 KiB refused with UnsupportedStep)",
            self.precompiles
                .keys()
                .map(|(n, _)| *n)
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            self.covered_precompiles(),
        );
        out.push_str(
            "not part of the machine yet: SELFDESTRUCT; deposits and the block's opening; every program here, \
             the workloads' transactions included, runs from the transaction's frame on a \
             pre-state (the transaction boundaries are compared with revm by the tx_start and \
             trace_api tests, not in this table)\n",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osaka_set_is_revms_without_amsterdam() {
        let ours: Vec<u8> = (0u8..=255).filter(|op| osaka_defined(*op)).collect();
        let revm: Vec<u8> = (0u8..=255)
            // revm 43 also knows Amsterdam's 0x4b and DUPN/SWAPN/EXCHANGE.
            .filter(|op| OpCode::new(*op).is_some() && *op != 0x4b && !(0xe6..=0xe8).contains(op))
            .collect();
        assert_eq!(ours, revm);
        assert_eq!(ours.len(), OSAKA_OPCODES);
    }

    #[test]
    fn undefined_bytes_are_106() {
        // `SingleBytes` indexes them modulo 106.
        assert_eq!((0u8..=255).filter(|op| !osaka_defined(*op)).count(), 106);
    }

    #[test]
    fn targeted_programs_reach_their_outcome() {
        // Each targeted program, run in the machine, has a step of its opcode with the
        // outcome it aims at.
        let mut g = Generator::new(1);
        let mut reached = 0;
        let all = targets();
        for (op, t) in &all {
            let Some(p) = g.targeted(*op, *t) else {
                continue;
            };
            let mut m =
                crate::fault::differential::machine_start(&p, p.frame_gas).expect("valid program");
            let mut hit = false;
            while m.finished.is_none() {
                let post = machine::step(&m).expect("implemented");
                hit |= classify(&m, &post) == (*op, t.outcome(*op));
                m = post;
            }
            assert!(hit, "0x{op:02x} {t:?}: {:02x?} gas {}", p.code, p.frame_gas);
            reached += 1;
        }
        // Only STOP (free) and a RETURN or REVERT of length 0 (free too) may lack an
        // out-of-gas program; every other target has one.
        assert!(reached + 3 >= all.len(), "{reached} of {}", all.len());
    }

    #[test]
    fn line_format() {
        let mut c = Coverage::default();
        c.step(0x01, StepOutcome::Ok);
        c.prover(0x01, StepOutcome::Ok, Some(5000));
        c.step(0x31, StepOutcome::Ok);
        c.prover(0x31, StepOutcome::Ok, None);
        c.step(0x0c, StepOutcome::Undefined);
        c.prover(0x0c, StepOutcome::Undefined, Some(4000));
        assert_eq!(
            c.line(),
            "coverage: 1/150 opcodes, 0/18 precompiles, 0 disagreements over 3 steps, max gas 5000"
        );
        c.disagree(Some((0x01, StepOutcome::Ok)), "x".into());
        assert!(c.line().contains(" 1 disagreements over 3 steps"));
        assert!(
            c.table()
                .contains("| ADD (0x01) | ok | 1 | 1 | 1 | 5000 | 5000 |")
        );
        assert!(
            c.table()
                .contains("| BALANCE (0x31) | ok | 1 | 0 | 1 | UnsupportedStep")
        );
    }
}
