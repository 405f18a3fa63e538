//! The witnesses of `DEPOSIT_NEXT` and `DEPOSIT_CHECK` (`docs/fault-proofs.md` 3.7): the
//! bytes `ProverDeposit.step` (`bridge-contracts/src/fault/`) reads to take the step
//! [`DepositStart::step`] takes.
//!
//! What it is: [`witness`] lays out, for a block between units with its deposit queue
//! open (`DEPOSIT_NEXT`, layout version 1, [`WITNESS_VERSION`]):
//!
//! ```text
//! u8 1 ‖ M (161) ‖ BlockCtx (223) ‖ BlockEnv (187)
//! ‖ [depositCount < 1,024, Portal holds deposit depositNext]  its 320-byte record
//! ‖ [taken]   from's world opening in BlockCtx.worldRoot ‖ [its 96-byte leaf preimage]
//! ```
//!
//! and for a deposit taken and not yet checked (`DEPOSIT_CHECK`):
//!
//! ```text
//! u8 1 ‖ M ‖ BlockCtx ‖ TxCtx (191) ‖ Global (140) ‖ DepositCheck (69) ‖ BlockEnv (187)
//! ‖ from's world opening in Global.worldRoot ‖ [leaf preimage]
//! ‖ [gas ≤ BlockEnv.gasLimit, not a creation above 49,152 bytes]  the data (dataLength bytes)
//! ‖ [the check passes]  a transaction-tree opening per warmed address (from, a call's to,
//!                       FEE_VAULT; precompiles left out), each after the previous insert
//! ```
//!
//! The cursor sits at the same offset as a sequenced `TX_ENTER`'s `SetupCursor`, so the
//! router tells the two apart by its first byte (4 here, 1–3 there). The record is
//! [`crate::l1::portal_deposit_record`]; the prover reads `Portal.depositHashes(i)`
//! itself and checks the record against it, so the witness cannot make a deposit up. Every
//! opening is for reading (`smt_witness::for_read`): neither step deletes an account (a
//! mint adds, a nonce bump leaves a non-empty leaf). [`codes`] lists what `CodeOracle`
//! must hold first: the sender's code when it has some (EIP-3607).
//!
//! What it is not: no witness for a `DEPOSIT_CHECK` that reads data above 4 KiB (the
//! deposit-data oracle is not built: [`DepositStepError::Unsupported`]; a creation above
//! 49,152 bytes fails EIP-3860 before the data is read, so it is laid out). Pure code.

use alloy_primitives::{Address, Bytes, KECCAK256_EMPTY, TxKind};

use super::{
    deposits::{DepositStart, DepositStepError, MAX_INITCODE, Taken, next_decision},
    smt_witness,
    tx_start::ONE_STEP_TX_BYTES,
    witness::account_opening,
    world::{World, is_precompile, warm_account_key},
};
use crate::{chain::FEE_VAULT, l1::portal_deposit_record};

/// The layout version `ProverDeposit` reads.
pub const WITNESS_VERSION: u8 = 1;

fn opening(world: &World, who: Address, out: &mut Vec<u8>) -> Result<(), DepositStepError> {
    account_opening(world, who, out).map_err(|_| DepositStepError::Inconsistent("account opening"))
}

/// The witness of the step from `d` (`DEPOSIT_NEXT` or `DEPOSIT_CHECK`; module docs).
pub fn witness(d: &DepositStart) -> Result<Vec<u8>, DepositStepError> {
    match &d.taken {
        None => next_witness(d),
        Some(t) => check_witness(d, t),
    }
}

fn next_witness(d: &DepositStart) -> Result<Vec<u8>, DepositStepError> {
    let ctx = d.block.ctx;
    let mut out = vec![WITNESS_VERSION];
    out.extend_from_slice(&d.top().encode());
    out.extend_from_slice(&ctx.encode());
    out.extend_from_slice(&d.data.env.encode());
    if usize::from(ctx.deposit_count) >= crate::l1::MAX_DEPOSITS_PER_BLOCK {
        return Ok(out);
    }
    let Some(deposit) = d.deposits.get(ctx.deposit_next) else {
        return Ok(out);
    };
    out.extend_from_slice(&portal_deposit_record(
        deposit.index,
        deposit.l1_block,
        &deposit.tx,
    ));
    let taken = next_decision(
        &ctx,
        Some(deposit),
        d.data.env.l1_origin_number,
        d.deposits.max_deposit_gas,
    );
    if taken.is_ok() {
        opening(&d.world, deposit.tx.from, &mut out)?;
    }
    Ok(out)
}

fn check_witness(d: &DepositStart, t: &Taken) -> Result<Vec<u8>, DepositStepError> {
    let tx = &t.deposit.tx;
    let mut out = vec![WITNESS_VERSION];
    out.extend_from_slice(&d.top().encode());
    out.extend_from_slice(&d.block.ctx.encode());
    out.extend_from_slice(&t.tx_ctx.encode());
    out.extend_from_slice(&t.global.record().encode());
    out.extend_from_slice(&t.cursor.encode());
    out.extend_from_slice(&d.data.env.encode());
    opening(&t.global.world, tx.from, &mut out)?;
    let len = tx.input.len();
    let reads_data =
        t.tx_ctx.gas_limit <= d.data.env.gas_limit && !(tx.to.is_create() && len > MAX_INITCODE);
    if reads_data {
        if len > ONE_STEP_TX_BYTES {
            return Err(DepositStepError::Unsupported(
                "DEPOSIT_CHECK of a deposit with data above 4 KiB on L1",
            ));
        }
        out.extend_from_slice(&tx.input);
    }
    if d.validate(t)?.is_err() {
        return Ok(out);
    }
    let mut warmed = vec![tx.from];
    if let TxKind::Call(to) = tx.to {
        warmed.push(to);
    }
    warmed.push(FEE_VAULT);
    let mut tree = t.global.tx_tree.clone();
    for a in warmed {
        if is_precompile(a) {
            continue;
        }
        let key = warm_account_key(a);
        let proof = smt_witness::for_read(&tree.prove(&key));
        smt_witness::encode_into(&mut out, &proof, &key)
            .map_err(|_| DepositStepError::Inconsistent("transaction-tree opening"))?;
        tree.warm_account(a);
    }
    Ok(out)
}

/// The codes `CodeOracle` must hold before the step from `d`: for `DEPOSIT_CHECK`, the
/// sender's, when it has some (EIP-3607 reads whether it is a designator).
pub fn codes(d: &DepositStart) -> Result<Vec<Bytes>, DepositStepError> {
    let Some(t) = &d.taken else {
        return Ok(Vec::new());
    };
    let account = t.global.world.account(t.deposit.tx.from);
    if account.code_hash == KECCAK256_EMPTY || account.code_hash.is_zero() {
        return Ok(Vec::new());
    }
    let code = t
        .global
        .world
        .code_by_hash(account.code_hash)
        .ok_or(DepositStepError::MissingCode(account.code_hash))?;
    Ok(vec![code.bytes().clone()])
}
