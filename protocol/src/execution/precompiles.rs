//! Blink's precompile provider: Osaka's precompiles with two consensus bounds, and the
//! one revm EVM type every Blink execution path builds ([`BlinkEvm`]).
//!
//! A call to any precompile except identity (0x04) whose input is above
//! [`MAX_PRECOMPILE_INPUT`] bytes, or whose cost is above [`MAX_PRECOMPILE_GAS`], fails as
//! an exceptional halt of that call: all the gas the call was given is consumed and it
//! returns success 0 and no data. The fault-proof machine runs such a call once, on L1,
//! as L1's own precompile inside one transaction; the bounds keep that transaction below
//! L1's per-transaction gas cap (`docs/fault-proofs.md` 4.4). Identity is a copy, run by
//! the machine as copy micro-steps, and is not bounded.
//!
//! What it is not: it changes no precompile's result or price below the bounds (those are
//! revm's, `EthPrecompiles`), and it adds no precompile.

use alloy_primitives::{Address, Bytes, address};
use revm::{
    context::{Cfg, ContextTr, Evm, JournalTr, LocalContextTr},
    handler::{
        EthFrame, EthPrecompiles, MainnetContext, PrecompileProvider,
        instructions::EthInstructions, precompile_output_to_interpreter_result,
    },
    interpreter::{
        CallInputs, Gas, InstructionResult, InterpreterResult, interpreter::EthInterpreter,
    },
    primitives::AddressSet,
};

/// Largest input, in bytes, of a call to a precompile other than identity: 131,072 (one
/// blob's worth). The L1 transaction that runs the largest call once pays 16 gas per
/// input byte (2.1M gas at this size) beside the call's cost.
pub const MAX_PRECOMPILE_INPUT: usize = 131_072;

/// Highest cost, in gas, of a call to a precompile other than identity: 12,000,000.
/// With [`MAX_PRECOMPILE_INPUT`] it keeps the L1 transaction that runs the call once
/// (`21,000 + 16 · input + cost · 64/63 + ~100,000`) at ≤ 14.5M gas, under L1's 2^24
/// cap with ~2M to spare for L1 repricing. A call costing more fails even when it was
/// given enough gas.
pub const MAX_PRECOMPILE_GAS: u64 = 12_000_000;

/// The identity precompile, exempt from both bounds.
pub const IDENTITY: Address = address!("0x0000000000000000000000000000000000000004");

/// Osaka's precompiles with Blink's input and cost bounds.
#[derive(Debug, Clone)]
pub struct BlinkPrecompiles {
    eth: EthPrecompiles,
}

impl BlinkPrecompiles {
    /// The precompiles of `spec`, bounded.
    pub fn new(spec: revm::primitives::hardfork::SpecId) -> Self {
        Self {
            eth: EthPrecompiles::new(spec),
        }
    }
}

/// Why a bounded precompile call halted, kept as the error of a top-level call (what an
/// `eth_call` to the precompile reports), as revm keeps a precompile's own error.
const INPUT_TOO_LARGE: &str = "precompile input above 131072 bytes";

/// One bounded precompile call: its result as the calling frame receives it, and, for a
/// halt other than out of gas, the reason a top-level call reports.
#[derive(Debug, Clone)]
pub struct PrecompileCall {
    /// Status, output and gas, as revm hands them to the caller (a halt spends all of the
    /// call's gas and returns no data).
    pub result: InterpreterResult,
    /// Why it halted, when not for gas (an input above the bound included).
    pub error: Option<String>,
}

/// Runs the precompile at `address` of `precompiles` on `input` with `gas_limit`, with
/// Blink's bounds: [`BlinkPrecompiles`] and the fault-proof machine both call this, so the
/// chain and its proof cannot disagree on a precompile's result. `Ok(None)`: `address` is
/// not a precompile. `Err`: the precompile failed fatally (revm's fatal external error).
/// `reservoir` is revm's EIP-8037 state-gas reservoir (0 before Amsterdam).
pub fn run_bounded(
    precompiles: &revm::precompile::Precompiles,
    address: &Address,
    input: &[u8],
    gas_limit: u64,
    reservoir: u64,
) -> Result<Option<PrecompileCall>, String> {
    let Some(precompile) = precompiles.get(address) else {
        return Ok(None);
    };
    if *address != IDENTITY && input.len() > MAX_PRECOMPILE_INPUT {
        let mut gas = Gas::new(gas_limit);
        gas.spend_all();
        return Ok(Some(PrecompileCall {
            result: InterpreterResult::new(InstructionResult::PrecompileError, Bytes::new(), gas),
            error: Some(INPUT_TOO_LARGE.into()),
        }));
    }
    // Run with at most the cost bound: a precompile whose cost is above the gas it gets
    // reports out of gas without running, and the conversion below charges the halt
    // against the gas the call was really given (all of it). Identity is not bounded.
    let bound = if *address == IDENTITY {
        gas_limit
    } else {
        gas_limit.min(MAX_PRECOMPILE_GAS)
    };
    let output = precompile
        .execute(input, bound, reservoir)
        .map_err(|e| e.to_string())?;
    let error = output
        .halt_reason()
        .filter(|r| !r.is_oog())
        .map(|r| r.to_string());
    Ok(Some(PrecompileCall {
        result: precompile_output_to_interpreter_result(output, gas_limit),
        error,
    }))
}

/// Osaka's precompiles (the chain's hardfork, [`crate::execution::SPEC`]).
pub fn osaka_precompiles() -> &'static revm::precompile::Precompiles {
    revm::precompile::Precompiles::new(revm::precompile::PrecompileSpecId::from_spec_id(
        super::SPEC,
    ))
}

impl<CTX: ContextTr> PrecompileProvider<CTX> for BlinkPrecompiles {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: <CTX::Cfg as Cfg>::Spec) -> bool {
        <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec)
    }

    fn run(
        &mut self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        let Some(call) = run_bounded(
            self.eth.precompiles,
            &inputs.bytecode_address,
            &inputs.input.as_bytes(context),
            inputs.gas_limit,
            inputs.reservoir,
        )?
        else {
            return Ok(None);
        };
        if context.journal().depth() == 1
            && let Some(reason) = call.error
        {
            context.local_mut().set_precompile_error_context(reason);
        }
        Ok(Some(call.result))
    }

    fn warm_addresses(&self) -> &AddressSet {
        self.eth.warm_addresses()
    }

    fn contains(&self, address: &Address) -> bool {
        self.eth.contains(address)
    }
}

/// The EVM every Blink execution path runs: mainnet revm's context, instructions and
/// frames, with [`BlinkPrecompiles`].
pub type BlinkEvm<DB, INSP = ()> = Evm<
    MainnetContext<DB>,
    INSP,
    EthInstructions<EthInterpreter, MainnetContext<DB>>,
    BlinkPrecompiles,
    EthFrame<EthInterpreter>,
>;

/// A [`BlinkEvm`] over `ctx`, without an inspector.
pub fn build_evm<DB: revm::Database>(ctx: MainnetContext<DB>) -> BlinkEvm<DB> {
    build_evm_with_inspector(ctx, ())
}

/// A [`BlinkEvm`] over `ctx` with `inspector` (tracers, access lists).
pub fn build_evm_with_inspector<DB: revm::Database, INSP>(
    ctx: MainnetContext<DB>,
    inspector: INSP,
) -> BlinkEvm<DB, INSP> {
    let spec = ctx.cfg.spec;
    Evm::new_with_inspector(
        ctx,
        inspector,
        EthInstructions::new_mainnet_with_spec(spec),
        BlinkPrecompiles::new(spec),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChainConfig, execution::cfg_env};
    use alloy_primitives::{TxKind, U256};
    use revm::{
        ExecuteEvm, MainBuilder, MainContext,
        context::{Context, TxEnv, result::ExecutionResult},
        database::{CacheDB, EmptyDB},
        state::{AccountInfo, Bytecode},
    };

    const SHA256: Address = address!("0x0000000000000000000000000000000000000002");
    const BN254_PAIRING: Address = address!("0x0000000000000000000000000000000000000008");
    const CALLER: Address = address!("0x00000000000000000000000000000000000ca11e");
    const PROBE: Address = address!("0x0000000000000000000000000000000000000be1");
    /// Gas the probe forwards to the precompile: above the cost bound, and below what
    /// a 2^24 transaction has left at the call, so the call gets exactly this much.
    const FORWARDED: u64 = 15_000_000;

    /// A contract that copies its calldata to memory, `STATICCALL`s `target` with it and
    /// [`FORWARDED`] gas, and returns `success ‖ gas the call took ‖ first output word`.
    fn probe(target: Address) -> Bytes {
        let mut code = vec![
            0x36, 0x5f, 0x5f, 0x37, 0x5a, 0x60, 0x20, 0x60, 0x40, 0x36, 0x5f,
        ];
        code.push(0x73); // PUSH20 target
        code.extend_from_slice(target.as_slice());
        code.push(0x63); // PUSH4 FORWARDED
        code.extend_from_slice(&(FORWARDED as u32).to_be_bytes());
        code.extend_from_slice(&[
            0xfa, 0x5a, 0x90, 0x5f, 0x52, 0x90, 0x03, 0x60, 0x20, 0x52, 0x60, 0x60, 0x5f, 0xf3,
        ]);
        code.into()
    }

    fn db(target: Address) -> CacheDB<EmptyDB> {
        let mut db = CacheDB::new(EmptyDB::default());
        db.insert_account_info(
            CALLER,
            AccountInfo {
                balance: U256::from(10u128.pow(20)),
                ..Default::default()
            },
        );
        let code = Bytecode::new_raw(probe(target));
        db.insert_account_info(
            PROBE,
            AccountInfo {
                code_hash: code.hash_slow(),
                code: Some(code),
                ..Default::default()
            },
        );
        db
    }

    fn tx(to: Address, input: Vec<u8>) -> TxEnv {
        TxEnv::builder()
            .caller(CALLER)
            .kind(TxKind::Call(to))
            .data(input.into())
            .gas_limit(1 << 24)
            .chain_id(Some(ChainConfig::default().chain_id))
            .build()
            .expect("tx")
    }

    /// The same transaction on Blink's EVM and on plain mainnet revm.
    fn both(target: Address, to: Address, input: Vec<u8>) -> (ExecutionResult, ExecutionResult) {
        let cfg = cfg_env(&ChainConfig::default());
        let mut blink = build_evm(Context::mainnet().with_db(db(target)).with_cfg(cfg.clone()));
        let mut plain = Context::mainnet()
            .with_db(db(target))
            .with_cfg(cfg)
            .build_mainnet();
        let b = blink.transact(tx(to, input.clone())).expect("valid").result;
        let p = plain.transact(tx(to, input)).expect("valid").result;
        (b, p)
    }

    /// The probe's answer: (success, gas the call took, first output word).
    fn probed(result: &ExecutionResult) -> (bool, u64, [u8; 32]) {
        let ExecutionResult::Success { output, .. } = result else {
            panic!("the probe itself succeeds: {result:?}")
        };
        let out = output.data();
        assert_eq!(out.len(), 96);
        let ok = U256::from_be_slice(&out[..32]);
        let used = U256::from_be_slice(&out[32..64]);
        (
            ok == U256::from(1),
            used.to::<u64>(),
            out[64..].try_into().unwrap(),
        )
    }

    fn sha256_cost(len: usize) -> u64 {
        60 + 12 * len.div_ceil(32) as u64
    }

    #[test]
    fn sha256_input_bound() {
        // zero bytes: cheap calldata, so the call gets all of FORWARDED
        // at the bound: as plain revm, to the gas
        let (b, p) = both(SHA256, PROBE, vec![0; MAX_PRECOMPILE_INPUT]);
        assert_eq!(b, p);
        let (ok, _, digest) = probed(&b);
        assert!(ok);
        assert_ne!(digest, [0; 32]);
        // one byte above: plain revm runs it, Blink halts the call and takes all its gas
        let (b, p) = both(SHA256, PROBE, vec![0; MAX_PRECOMPILE_INPUT + 1]);
        let (b_ok, b_used, b_out) = probed(&b);
        let (p_ok, p_used, _) = probed(&p);
        assert!(p_ok);
        assert!(!b_ok);
        assert_eq!(b_out, [0; 32], "no output written");
        assert_eq!(
            b_used - p_used,
            FORWARDED - sha256_cost(MAX_PRECOMPILE_INPUT + 1),
            "the halted call consumed all {FORWARDED} gas it was given"
        );
    }

    #[test]
    fn a_direct_transaction_to_a_precompile_is_bounded_too() {
        let (b, p) = both(SHA256, SHA256, vec![0xab; MAX_PRECOMPILE_INPUT + 1]);
        assert!(p.is_success());
        assert!(
            matches!(b, ExecutionResult::Halt { .. }),
            "a top-level call above the input bound halts: {b:?}"
        );
        assert_eq!(b.tx_gas_used(), 1 << 24, "all the transaction's gas");
        let (b, p) = both(SHA256, SHA256, vec![0xab; MAX_PRECOMPILE_INPUT]);
        assert!(b.is_success());
        assert_eq!(b, p);
    }

    #[test]
    fn a_pairing_above_the_cost_bound_fails_with_enough_gas() {
        // 352 pairs of points at infinity (all zero bytes) are valid input: 45,000 +
        // 34,000 · 352 = 12,013,000 gas, just above the bound, input 67,584 bytes
        let pairs = 352;
        let cost = 45_000 + 34_000 * pairs as u64;
        assert!(cost > MAX_PRECOMPILE_GAS && cost < FORWARDED);
        let (b, p) = both(BN254_PAIRING, PROBE, vec![0; 192 * pairs]);
        let (p_ok, p_used, p_out) = probed(&p);
        assert!(p_ok, "plain revm runs it");
        assert_eq!(p_out[31], 1, "the pairing holds");
        let (b_ok, b_used, _) = probed(&b);
        assert!(!b_ok);
        assert_eq!(b_used - p_used, FORWARDED - cost);
        // one pair fewer is under the bound: the same as plain revm
        let (b, p) = both(BN254_PAIRING, PROBE, vec![0; 192 * (pairs - 1)]);
        assert_eq!(b, p);
        assert!(probed(&b).0);
    }

    #[test]
    fn identity_is_not_bounded() {
        let (b, p) = both(IDENTITY, PROBE, vec![0xcd; 2 * MAX_PRECOMPILE_INPUT]);
        assert_eq!(b, p);
        let (ok, _, out) = probed(&b);
        assert!(ok);
        assert_eq!(out, [0xcd; 32]);
    }

    #[test]
    fn under_the_bounds_every_precompile_matches_plain_revm() {
        // every Osaka precompile, with small inputs of several shapes (valid or not:
        // both EVMs must agree on failures too), through a contract and directly
        let precompiles = revm::precompile::Precompiles::new(
            revm::precompile::PrecompileSpecId::from_spec_id(crate::execution::SPEC),
        );
        let mut checked = 0;
        for address in precompiles.addresses() {
            for input in [vec![], vec![1u8; 32], vec![0u8; 192], vec![7u8; 4096]] {
                let (b, p) = both(*address, PROBE, input.clone());
                assert_eq!(b, p, "{address} via a call, {} bytes", input.len());
                let (b, p) = both(*address, *address, input.clone());
                assert_eq!(b, p, "{address} directly, {} bytes", input.len());
                checked += 1;
            }
        }
        assert!(checked >= 4 * 18, "all of Osaka's precompiles: {checked}");
    }
}
