//! `OneStepProver` (the committed artifact) on an in-memory revm: the Solidity half of
//! the machine-vs-prover differential.
//!
//! What it is: [`Prover`] holds a revm (Prague, the L1's fork) where [`DEPLOYER`] has
//! deployed the sub-provers `ProverState` and `ProverMemory`, a `CodeOracle` and the
//! sub-prover `ProverCall` reading it, a real `Portal` and the `ProverDeposit` reading its
//! `depositHashes` ([`Prover::deposit`] makes deposits into it), the L1 contracts `DERIVE`
//! reads (`L1History`, `BatchInbox` posted to by [`SEQUENCER`], `BatchDataOracle`) and
//! `ProverDerive` over them, then the router by `CREATE`
//! from the committed artifacts' creation code with the chain constants and the
//! sub-provers' addresses as constructor arguments (`protocol::fault::machine::ChainConsts`: the
//! environment opcodes' immutables); [`Prover::register_code`] registers code in the oracle
//! (what a call step reads: `protocol::fault::witness::code_oracle_inputs`),
//! [`Prover::set_l1_hashes`], [`Prover::post_calldata`], [`Prover::register_calldata`] and
//! [`Prover::checkpoint_due`] give that L1 its blocks, records and stream roots, and
//! [`Prover::step`] calls `step(preState, witness)`
//! and returns what it answered (a post-state or one of its custom errors) with the
//! execution gas of the prover's frame (the 21,000 base and calldata excluded; a
//! sub-prover's `staticcall` included). Used by
//! `tests/it/one_step_prover.rs` and `blink osp-coverage`.
//!
//! What it is not: no witness building and no expectation of what the answer should be
//! (the Rust machine, `protocol::fault`, decides that); no network: nothing is deployed
//! anywhere but this in-memory database.

use alloy::{
    primitives::{Address, B256, Bytes, U256, address},
    sol_types::{SolCall, SolConstructor, SolInterface},
};
use protocol::fault::{machine::ChainConsts, prologue::DeriveRules};
use revm::{
    Context, ExecuteCommitEvm, InspectEvm, Inspector, MainBuilder, MainContext,
    context::{
        CfgEnv, TxEnv,
        result::{ExecutionResult, Output},
    },
    database::{CacheDB, EmptyDB},
    interpreter::{CallInputs, CallOutcome, interpreter::EthInterpreter},
    primitives::{TxKind, hardfork::SpecId},
};

use crate::{
    BatchDataOracle, BatchInbox, CodeOracle, L1History,
    OneStepProver::{self, OneStepProverErrors},
    Portal, ProverBlockEnd, ProverCall, ProverCreate, ProverDeposit, ProverDerive, ProverMemory,
    ProverState, ProverTxEnd, ProverTxStart,
};

/// Who deploys the prover (its first `CREATE`).
pub const DEPLOYER: Address = address!("0x0000000000000000000000000000000000d3e901");
/// The only poster of the prover's `BatchInbox`.
pub const SEQUENCER: Address = address!("0x00000000000000000000000000000000005e9e01");
/// Who calls it.
pub const CALLER: Address = address!("0x1000000000000000000000000000000000000001");
/// Gas limit of each call: L1's per-transaction cap (EIP-7825, 2^24), far above any step the
/// prover covers today but a precompile call's (which needs `g · 64/63` and a reserve for
/// the precompile, `g ≤ 12,000,000`); a step that needs more halts, which [`Prover::step`]
/// reports as an error.
pub const CALL_GAS: u64 = 1 << 24;
/// Gas limit of a deposit into the `Portal` (its burn of up to 2^24 gas included; the
/// prover's revm lifts EIP-7825's cap for it).
const DEPOSIT_CALL_GAS: u64 = 30_000_000;

/// What `step` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The post-state commitment.
    Post(B256),
    /// A revert with one of the prover's custom errors.
    Error(OneStepProverErrors),
}

/// Why a call gave no [`Answer`]: each one is a prover (or harness) fault, never a
/// legitimate outcome of a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProverError {
    /// revm could not run the call.
    #[error("revm: {0}")]
    Revm(String),
    /// The call halted (out of gas, invalid opcode, ...).
    #[error("prover halted: {0}")]
    Halt(String),
    /// It returned something that is not one `bytes32`.
    #[error("prover returned {0}, not a bytes32")]
    BadReturn(Bytes),
    /// It reverted with data that is none of its custom errors.
    #[error("prover reverted with {0}, not a custom error")]
    BadRevert(Bytes),
    /// The deployment did not create the contract.
    #[error("deployment: {0}")]
    Deploy(String),
}

/// Gas the prover's own call frame spent (calldata and the 21,000 base excluded).
#[derive(Debug, Default)]
pub struct FrameGas(u64);

impl<CTX> Inspector<CTX, EthInterpreter> for FrameGas {
    fn call_end(&mut self, _context: &mut CTX, _inputs: &CallInputs, outcome: &mut CallOutcome) {
        self.0 = outcome.result.gas.total_gas_spent();
    }
}

type Evm = revm::MainnetEvm<revm::handler::MainnetContext<CacheDB<EmptyDB>>, FrameGas>;

/// The prover on revm.
pub struct Prover {
    evm: Evm,
    address: Address,
    chain: ChainConsts,
    code_oracle: Address,
    portal: Address,
    /// The L1 contracts `ProverDerive` reads.
    l1: L1Contracts,
    /// Code hashes registered in the oracle (and [`DEPLOYER`]'s and [`SEQUENCER`]'s next
    /// nonces).
    registered: std::collections::BTreeSet<B256>,
    nonce: u64,
    sequencer_nonce: u64,
}

/// Where the L1 contracts `ProverDerive` reads sit in the prover's revm.
#[derive(Debug, Clone, Copy)]
pub struct L1Contracts {
    /// `L1History`.
    pub history: Address,
    /// `BatchInbox` (its sequencer [`SEQUENCER`]).
    pub inbox: Address,
    /// `BatchDataOracle`.
    pub oracle: Address,
    /// `ProverDerive`.
    pub derive: Address,
}

impl std::fmt::Debug for Prover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prover").finish_non_exhaustive()
    }
}

impl Prover {
    /// [`Prover::with_config`] with the default chain configuration's limits.
    pub fn new(chain: &ChainConsts) -> Result<Self, ProverError> {
        Self::with_config(chain, &protocol::ChainConfig::default())
    }

    /// [`Prover::with_rules`] with `config` and the default derivation parameters (a
    /// sequencing window of 3,600 L1 blocks, the default drift, zero scalars).
    pub fn with_config(
        chain: &ChainConsts,
        config: &protocol::ChainConfig,
    ) -> Result<Self, ProverError> {
        Self::with_rules(
            chain,
            &DeriveRules {
                window: 3_600,
                max_drift: protocol::chain::DEFAULT_MAX_SEQUENCER_DRIFT,
                chain: config.clone(),
                scalars: Default::default(),
            },
        )
    }

    /// A fresh revm where [`DEPLOYER`] created the committed artifacts: `ProverState`
    /// (its nonce 0), `ProverMemory` (1), `ProverTxEnd` (2), `ProverBlockEnd` (3), `CodeOracle`
    /// (4), `ProverCall` (5, with the oracle), `ProverCreate` (6, with the same oracle),
    /// `ProverTxStart` (7, with `chain`'s id, `config`'s gas and size limits and the oracle),
    /// `Portal` (8), `ProverDeposit` (9, with the `Portal`, the default rollup's
    /// `max_deposit_gas` and the oracle), `L1History` (10), `BatchInbox` (11, posted to by
    /// [`SEQUENCER`]), `BatchDataOracle` (12), `ProverDerive` (13, over those three with
    /// `rules`' constants), then the router `OneStepProver` (14) with `chain`'s constants and
    /// the others (`constructor(chainId, coinbase, prevrandao, blobBaseFee, SubProvers(state,
    /// memory, txEnd, blockEnd, call, create, txStart, deposit, derive))`). Registrations use the nonces from 15. The L1 is at
    /// block 0.
    pub fn with_rules(chain: &ChainConsts, rules: &DeriveRules) -> Result<Self, ProverError> {
        let config = &rules.chain;
        let mut evm = Context::mainnet()
            .with_db(CacheDB::new(EmptyDB::default()))
            // Osaka, the L2's hardfork: the precompiles a step runs by `staticcall` must be
            // priced and computed as on the L2 (modexp's EIP-7883, P-256's EIP-7951).
            .with_cfg({
                let mut cfg = CfgEnv::new_with_spec(SpecId::OSAKA);
                // Steps are sent with `CALL_GAS` = 2^24; only a test's deposit burns more.
                cfg.tx_gas_limit_cap = Some(u64::MAX);
                cfg
            })
            .build_mainnet_with_inspector(FrameGas::default());
        let prover_state = create(&mut evm, 0, ProverState::BYTECODE.to_vec())?;
        let prover_memory = create(&mut evm, 1, ProverMemory::BYTECODE.to_vec())?;
        let prover_tx_end = create(&mut evm, 2, ProverTxEnd::BYTECODE.to_vec())?;
        let prover_block_end = create(&mut evm, 3, ProverBlockEnd::BYTECODE.to_vec())?;
        let code_oracle = create(&mut evm, 4, CodeOracle::BYTECODE.to_vec())?;
        let mut init = ProverCall::BYTECODE.to_vec();
        init.extend_from_slice(
            &ProverCall::constructorCall {
                codeOracle_: code_oracle,
            }
            .abi_encode(),
        );
        let prover_call = create(&mut evm, 5, init)?;
        let mut init = ProverCreate::BYTECODE.to_vec();
        init.extend_from_slice(
            &ProverCreate::constructorCall {
                codeOracle_: code_oracle,
            }
            .abi_encode(),
        );
        let prover_create = create(&mut evm, 6, init)?;
        let mut init = ProverTxStart::BYTECODE.to_vec();
        init.extend_from_slice(
            &ProverTxStart::constructorCall {
                chainId_: U256::from(chain.chain_id),
                blockGasLimit_: U256::from(config.block_gas_limit),
                maxTxGas_: U256::from(config.max_tx_gas()),
                maxTxBytes_: U256::from(config.max_tx_bytes),
                codeOracle_: code_oracle,
            }
            .abi_encode(),
        );
        let prover_tx_start = create(&mut evm, 7, init)?;
        let portal = create(&mut evm, 8, Portal::BYTECODE.to_vec())?;
        let mut init = ProverDeposit::BYTECODE.to_vec();
        init.extend_from_slice(
            &ProverDeposit::constructorCall {
                portal_: portal,
                maxDepositGas_: U256::from(protocol::l1::DEFAULT_MAX_DEPOSIT_GAS_PER_BLOCK),
                codeOracle_: code_oracle,
            }
            .abi_encode(),
        );
        let prover_deposit = create(&mut evm, 9, init)?;
        let history = create(&mut evm, 10, L1History::BYTECODE.to_vec())?;
        let mut init = BatchInbox::BYTECODE.to_vec();
        init.extend_from_slice(
            &BatchInbox::constructorCall {
                _sequencer: SEQUENCER,
                _history: history,
            }
            .abi_encode(),
        );
        let inbox = create(&mut evm, 11, init)?;
        let oracle = create(&mut evm, 12, BatchDataOracle::BYTECODE.to_vec())?;
        let mut init = ProverDerive::BYTECODE.to_vec();
        init.extend_from_slice(
            &ProverDerive::constructorCall {
                batchInbox_: inbox,
                l1History_: history,
                batchDataOracle_: oracle,
                sequencingWindow_: U256::from(rules.window),
                maxSequencerDrift_: U256::from(rules.max_drift),
                maxBlockData_: U256::from(config.max_block_data),
                blockGasLimit_: U256::from(config.block_gas_limit),
                minBaseFee_: U256::from(config.min_base_fee),
                elasticityMultiplier_: U256::from(config.elasticity_multiplier),
                baseFeeMaxChangeDenominator_: U256::from(config.base_fee_max_change_denominator),
                baseFeeScalar_: U256::from(rules.scalars.base_fee_scalar),
                blobBaseFeeScalar_: U256::from(rules.scalars.blob_base_fee_scalar),
            }
            .abi_encode(),
        );
        let derive = create(&mut evm, 13, init)?;
        let args = OneStepProver::constructorCall {
            chainId_: U256::from(chain.chain_id),
            coinbase_: chain.coinbase,
            prevrandao_: chain.prevrandao,
            blobBaseFee_: U256::from(chain.blob_base_fee),
            provers_: OneStepProver::SubProvers {
                state: prover_state,
                mem: prover_memory,
                txEnd: prover_tx_end,
                blockEnd: prover_block_end,
                call: prover_call,
                create: prover_create,
                txStart: prover_tx_start,
                deposit: prover_deposit,
                derive,
            },
        }
        .abi_encode();
        let mut init = OneStepProver::BYTECODE.to_vec();
        init.extend_from_slice(&args);
        let address = create(&mut evm, 14, init)?;
        Ok(Self {
            evm,
            address,
            chain: *chain,
            code_oracle,
            portal,
            l1: L1Contracts {
                history,
                inbox,
                oracle,
                derive,
            },
            registered: Default::default(),
            nonce: 15,
            sequencer_nonce: 0,
        })
    }

    /// The L1 contracts `DERIVE` reads.
    pub fn l1(&self) -> L1Contracts {
        self.l1
    }

    /// Gives L1 blocks their hashes (what `BLOCKHASH`, so `L1History`, reads).
    pub fn set_l1_hashes(&mut self, hashes: impl IntoIterator<Item = (u64, B256)>) {
        let cache = &mut self.evm.ctx.journaled_state.database.cache.block_hashes;
        for (n, h) in hashes {
            cache.insert(U256::from(n), h);
        }
    }

    /// Moves the L1 to block `number` (later posts and checkpoints happen there).
    pub fn roll_l1(&mut self, number: u64) {
        self.evm.ctx.block.number = U256::from(number);
    }

    /// [`SEQUENCER`] posts `batch` as calldata at the current L1 block
    /// (`BatchInbox.submit`); returns its sequence number.
    pub fn post_calldata(
        &mut self,
        batch: &[u8],
        first_block: u64,
        block_count: u32,
        parent_hash: B256,
        last_origin_hash: B256,
    ) -> Result<u64, ProverError> {
        let data = BatchInbox::submitCall {
            _batch: Bytes::copy_from_slice(batch),
            _firstBlock: first_block,
            _blockCount: block_count,
            _parentHash: parent_hash,
            _lastOriginHash: last_origin_hash,
        }
        .abi_encode();
        let nonce = self.sequencer_nonce;
        let out = self.commit(SEQUENCER, nonce, self.l1.inbox, data)?;
        self.sequencer_nonce += 1;
        let seq = BatchInbox::submitCall::abi_decode_returns(&out)
            .map_err(|_| ProverError::BadReturn(out.clone()))?;
        Ok(seq.to())
    }

    /// Registers a calldata stream in `BatchDataOracle` (what a challenger does before a
    /// `DERIVE` that reads it); returns its root.
    pub fn register_calldata(&mut self, batch: &[u8]) -> Result<B256, ProverError> {
        let data = BatchDataOracle::registerCalldataCall {
            _batch: Bytes::copy_from_slice(batch),
        }
        .abi_encode();
        let out = self.commit(DEPLOYER, self.nonce, self.l1.oracle, data)?;
        self.nonce += 1;
        BatchDataOracle::registerCalldataCall::abi_decode_returns(&out)
            .map_err(|_| ProverError::BadReturn(out.clone()))
    }

    /// `L1History.checkpointDue()` at the current L1 block.
    pub fn checkpoint_due(&mut self) -> Result<(), ProverError> {
        let data = L1History::checkpointDueCall {}.abi_encode();
        self.commit(DEPLOYER, self.nonce, self.l1.history, data)?;
        self.nonce += 1;
        Ok(())
    }

    /// Runs a call from `caller` (nonce `nonce`) and commits it; its output.
    fn commit(
        &mut self,
        caller: Address,
        nonce: u64,
        to: Address,
        data: Vec<u8>,
    ) -> Result<Bytes, ProverError> {
        let tx = TxEnv::builder()
            .caller(caller)
            .nonce(nonce)
            .kind(TxKind::Call(to))
            .data(data.into())
            .gas_limit(CALL_GAS)
            .build()
            .map_err(|e| ProverError::Revm(format!("tx env: {e:?}")))?;
        match self
            .evm
            .transact_commit(tx)
            .map_err(|e| ProverError::Revm(format!("{e:?}")))?
        {
            ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            other => Err(ProverError::Revm(format!("{other:?}"))),
        }
    }

    /// Registers `code` in the prover's `CodeOracle` (once per code hash; empty code
    /// needs no entry), as a challenger does in its own L1 transaction before a call step.
    pub fn register_code(&mut self, code: &[u8]) -> Result<(), ProverError> {
        let hash = alloy::primitives::keccak256(code);
        if code.is_empty() || self.registered.contains(&hash) {
            return Ok(());
        }
        let data = CodeOracle::registerCall {
            code: Bytes::copy_from_slice(code),
        }
        .abi_encode();
        let tx = TxEnv::builder()
            .caller(DEPLOYER)
            .nonce(self.nonce)
            .kind(TxKind::Call(self.code_oracle))
            .data(data.into())
            .gas_limit(CALL_GAS)
            .build()
            .map_err(|e| ProverError::Revm(format!("tx env: {e:?}")))?;
        match self
            .evm
            .transact_commit(tx)
            .map_err(|e| ProverError::Revm(format!("{e:?}")))?
        {
            ExecutionResult::Success { .. } => {}
            other => return Err(ProverError::Revm(format!("register: {other:?}"))),
        }
        self.nonce += 1;
        self.registered.insert(hash);
        Ok(())
    }

    /// The `Portal` `ProverDeposit` reads.
    pub fn portal(&self) -> Address {
        self.portal
    }

    /// `Portal.depositTransaction(to, value, gasLimit, isCreation, data)` called by `from`
    /// (an EOA, so the L2 sender is `from` itself) with `mint` wei in L1 block `l1_block`
    /// (the block number stays there), as a user deposits: the `Portal` numbers it and
    /// stores its hash. `from` is given the `mint` first; the `Portal`'s gas burn is paid
    /// from the transaction's gas at a zero L1 base fee. A refusal by the `Portal` is
    /// [`ProverError::Revm`].
    #[allow(clippy::too_many_arguments)]
    pub fn deposit(
        &mut self,
        from: Address,
        l1_block: u64,
        to: TxKind,
        mint: U256,
        value: U256,
        gas_limit: u64,
        data: Bytes,
    ) -> Result<(), ProverError> {
        let (target, is_creation) = match to {
            TxKind::Call(a) => (a, false),
            TxKind::Create => (Address::ZERO, true),
        };
        let db = &mut self.evm.ctx.journaled_state.database;
        let mut info = db
            .cache
            .accounts
            .get(&from)
            .map(|a| a.info.clone())
            .unwrap_or_default();
        info.balance = info.balance.saturating_add(mint);
        let nonce = info.nonce;
        db.insert_account_info(from, info);
        self.evm.ctx.block.number = U256::from(l1_block);
        let call = Portal::depositTransactionCall {
            _to: target,
            _value: value,
            _gasLimit: gas_limit,
            _isCreation: is_creation,
            _data: data,
        }
        .abi_encode();
        let tx = TxEnv::builder()
            .caller(from)
            .nonce(nonce)
            .kind(TxKind::Call(self.portal))
            .value(mint)
            .data(call.into())
            .gas_limit(DEPOSIT_CALL_GAS)
            .build()
            .map_err(|e| ProverError::Revm(format!("tx env: {e:?}")))?;
        match self
            .evm
            .transact_commit(tx)
            .map_err(|e| ProverError::Revm(format!("{e:?}")))?
        {
            ExecutionResult::Success { .. } => Ok(()),
            other => Err(ProverError::Revm(format!("deposit: {other:?}"))),
        }
    }

    /// Writes `hash` into `Portal.depositHashes(index)` directly, for a deposit the
    /// `Portal`'s own checks would refuse (a gas limit below its minimum): how the prover
    /// judges a record whatever made it. Not a user's path: [`Prover::deposit`] is.
    pub fn write_deposit_hash(&mut self, index: u64, hash: B256) -> Result<(), ProverError> {
        // `depositHashes` is the `Portal`'s second slot (after `depositCount`).
        let mut key = [0u8; 64];
        key[24..32].copy_from_slice(&index.to_be_bytes());
        key[63] = 1;
        let slot = U256::from_be_bytes(alloy::primitives::keccak256(key).0);
        self.evm
            .ctx
            .journaled_state
            .database
            .insert_account_storage(self.portal, slot, U256::from_be_bytes(hash.0))
            .map_err(|e| ProverError::Revm(format!("{e:?}")))
    }

    /// Where the prover sits.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The chain constants it was deployed with.
    pub fn chain(&self) -> &ChainConsts {
        &self.chain
    }

    /// `step(pre, witness)`: the answer and the gas of the prover's frame.
    pub fn step(&mut self, pre: B256, witness: &[u8]) -> Result<(Answer, u64), ProverError> {
        let data = OneStepProver::stepCall {
            preState: pre,
            witness: Bytes::copy_from_slice(witness),
        }
        .abi_encode();
        let tx = TxEnv::builder()
            .caller(CALLER)
            .kind(TxKind::Call(self.address))
            .data(data.into())
            .gas_limit(CALL_GAS)
            .build()
            .map_err(|e| ProverError::Revm(format!("tx env: {e:?}")))?;
        let result = self
            .evm
            .inspect_tx(tx)
            .map_err(|e| ProverError::Revm(format!("{e:?}")))?
            .result;
        let gas = self.evm.inspector.0;
        let answer = match result {
            ExecutionResult::Success { output, .. } => Answer::Post(
                OneStepProver::stepCall::abi_decode_returns(output.data())
                    .map_err(|_| ProverError::BadReturn(output.data().clone()))?,
            ),
            ExecutionResult::Revert { output, .. } => Answer::Error(
                OneStepProverErrors::abi_decode(&output)
                    .map_err(|_| ProverError::BadRevert(output.clone()))?,
            ),
            ExecutionResult::Halt { reason, .. } => {
                return Err(ProverError::Halt(format!("{reason:?}")));
            }
        };
        Ok((answer, gas))
    }
}

/// [`DEPLOYER`]'s creation number `nonce` of a contract from `init` (creation code and
/// constructor arguments).
fn create(evm: &mut Evm, nonce: u64, init: Vec<u8>) -> Result<Address, ProverError> {
    let tx = TxEnv::builder()
        .caller(DEPLOYER)
        .nonce(nonce)
        .kind(TxKind::Create)
        .data(init.into())
        .gas_limit(CALL_GAS)
        .build()
        .map_err(|e| ProverError::Deploy(format!("tx env: {e:?}")))?;
    match evm
        .transact_commit(tx)
        .map_err(|e| ProverError::Deploy(format!("{e:?}")))?
    {
        ExecutionResult::Success {
            output: Output::Create(_, Some(address)),
            ..
        } => Ok(address),
        other => Err(ProverError::Deploy(format!("{other:?}"))),
    }
}
