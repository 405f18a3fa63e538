//! The witness of `TX_DECODE` (`docs/fault-proofs.md` 3.7): the bytes
//! `ProverTxStart.step` (`bridge-contracts/src/fault/`) reads to take the step
//! [`TxStart::step`] takes from `BETWEEN_UNITS`.
//!
//! What it is: [`decode_witness`] lays out, for the state `t` between units with a table
//! entry left (layout version 1, [`WITNESS_VERSION`]):
//!
//! ```text
//! u8 1 ‖ M (161) ‖ BlockCtx (223) ‖ BlockEnv (187)
//! ‖ table   opening: the FE31 leaves holding byteEnd(k−1) and byteEnd(k)
//! ‖ [entry non-empty]          bytes opening: the FE31 leaves holding the entry's bytes
//! ‖ [stateless rules pass]     the sender's world opening ‖ [its 96-byte leaf preimage]
//! ‖ [valid]                    one transaction-tree opening per warmed address
//! ```
//!
//! An opening of stream leaves is `u8 n ‖ n × b32 leaves ‖ u8 m ‖ m × b32 siblings`, the
//! range proof of [`TxStart::entry_opening`] against `BlockEnv.streamRoot` (depth 15).
//! The sender's opening is `smt_witness`'s, with the deepest sibling's preimage when the
//! charge empties the account (a creation's sender left with nothing). The warmed
//! addresses are the sender, the recipient of a call and `FEE_VAULT`, precompiles left
//! out, each opened against the transaction tree the previous insert left (an address met
//! twice is opened as present). [`decode_codes`] lists what `CodeOracle` must hold first:
//! the sender's code, when it has some (EIP-3607 reads whether it is a designator).
//!
//! [`enter_witness`] lays out `TX_ENTER` of a call (to an account that is not a
//! precompile) and [`enter_codes`] lists the codes it reads (the recipient's, its
//! delegate's).
//!
//! What it is not: no witness for `ACCESS_LIST`, `AUTH`, `TX_ENTER` of a creation, for a
//! type-4 transaction or for an entry above 4 KiB (the L1 side is not built:
//! [`TxStartError::Unsupported`]). Pure code.

use alloy_primitives::{B256, Bytes, KECCAK256_EMPTY, TxKind, U256};

use super::{
    commit::SetupStep,
    machine::delegation,
    smt_witness,
    tree::RangeProof,
    tx_start::{ONE_STEP_TX_BYTES, Refusal, TxStart, TxStartError},
    witness::account_opening,
    world::{TxTree, World, is_precompile, warm_account_key},
};
use crate::{
    chain::FEE_VAULT,
    smt,
    tx::{TxDecodeError, check_raw_transaction},
};

/// The layout version `ProverTxStart` reads.
pub const WITNESS_VERSION: u8 = 1;

/// Whether the Solidity prover takes this entry's `TX_DECODE` (types 0, 1, 2 and every
/// entry the chain leaves out before reading a type-4 body; entries ≤ 4 KiB).
fn supported(raw: &[u8]) -> Result<(), TxStartError> {
    if raw.len() > ONE_STEP_TX_BYTES {
        return Err(TxStartError::Unsupported(
            "TX_DECODE of an entry above 4 KiB on L1",
        ));
    }
    if raw.first() == Some(&4) {
        return Err(TxStartError::Unsupported(
            "TX_DECODE of a type-4 transaction on L1",
        ));
    }
    Ok(())
}

fn push_opening(
    out: &mut Vec<u8>,
    leaves: &[B256],
    proof: &RangeProof,
) -> Result<(), TxStartError> {
    let n = u8::try_from(leaves.len()).map_err(|_| TxStartError::Inconsistent("leaf count"))?;
    let m = u8::try_from(proof.siblings.len())
        .map_err(|_| TxStartError::Inconsistent("sibling count"))?;
    out.push(n);
    for l in leaves {
        out.extend_from_slice(l.as_slice());
    }
    out.push(m);
    for s in &proof.siblings {
        out.extend_from_slice(s.as_slice());
    }
    Ok(())
}

/// Whether a refusal comes before the sender's account is read (the stateless rules).
fn stateless(refusal: &Refusal) -> bool {
    !matches!(
        refusal,
        Refusal::SenderCode | Refusal::Nonce { .. } | Refusal::Funds
    )
}

/// The witness of `TX_DECODE` from `t` (module docs).
pub fn decode_witness(t: &TxStart) -> Result<Vec<u8>, TxStartError> {
    if t.setup.is_some() {
        return Err(TxStartError::Unsupported(
            "witness of a setup step after TX_DECODE",
        ));
    }
    let raw = t.entry()?.to_vec();
    supported(&raw)?;
    let mut out = vec![WITNESS_VERSION];
    out.extend_from_slice(&t.top().encode());
    out.extend_from_slice(&t.block.ctx.encode());
    out.extend_from_slice(&t.data.env.encode());
    let opening = t.entry_opening()?;
    push_opening(&mut out, &opening.table.0, &opening.table.1)?;
    if let Some((leaves, proof)) = &opening.bytes {
        push_opening(&mut out, leaves, proof)?;
    }
    let verdict = t.validate(&raw)?;
    if let Err(refusal) = &verdict
        && stateless(refusal)
    {
        return Ok(out);
    }
    let sender = check_raw_transaction(&raw, &t.data.config)
        .map_err(|e: TxDecodeError| TxStartError::Inconsistent(intake_lost(&e)))?
        .tx
        .signer();
    let world = &t.world;
    let before = world.account(sender);
    let key = smt::account_key(sender);
    let full = world.prove_account(sender);
    let (proof, valid) = match &verdict {
        Ok((decoded, tx_ctx)) => {
            let mut after = before;
            let charge =
                U256::from(tx_ctx.gas_limit) * U256::from(tx_ctx.gas_price) + tx_ctx.l1_fee;
            after.balance = after.balance.saturating_sub(charge);
            if decoded.kind.is_call() {
                after.nonce += 1;
            }
            let empties =
                smt::account_preimage(after.nonce, after.balance, after.code_hash).is_none();
            let proof = if empties {
                full
            } else {
                smt_witness::for_read(&full)
            };
            (proof, Some(decoded.kind))
        }
        Err(_) => (smt_witness::for_read(&full), None),
    };
    smt_witness::encode_into(&mut out, &proof, &key)
        .map_err(|_| TxStartError::Inconsistent("sender opening"))?;
    if let Some(pre) = smt::account_preimage(before.nonce, before.balance, before.code_hash) {
        out.extend_from_slice(&pre);
    }
    let Some(kind) = valid else {
        return Ok(out);
    };
    let mut warmed = vec![sender];
    if let TxKind::Call(to) = kind {
        warmed.push(to);
    }
    warmed.push(FEE_VAULT);
    let mut tree = TxTree::new();
    for a in warmed {
        if is_precompile(a) {
            continue;
        }
        let key = warm_account_key(a);
        let proof = smt_witness::for_read(&tree.prove(&key));
        smt_witness::encode_into(&mut out, &proof, &key)
            .map_err(|_| TxStartError::Inconsistent("transaction-tree opening"))?;
        tree.warm_account(a);
    }
    Ok(out)
}

fn intake_lost(_: &TxDecodeError) -> &'static str {
    "a transaction past intake no longer decodes"
}

/// The codes `CodeOracle` must hold before `TX_DECODE` from `t`: the sender's, when the
/// entry decodes and the sender has code.
pub fn decode_codes(t: &TxStart) -> Result<Vec<Bytes>, TxStartError> {
    let raw = t.entry()?;
    let Ok(checked) = check_raw_transaction(raw, &t.data.config) else {
        return Ok(Vec::new());
    };
    let account = t.world.account(checked.tx.signer());
    if account.code_hash == KECCAK256_EMPTY || account.code_hash.is_zero() {
        return Ok(Vec::new());
    }
    let code = t
        .world
        .code_by_hash(account.code_hash)
        .ok_or(TxStartError::MissingCode(account.code_hash))?;
    Ok(vec![code.bytes().clone()])
}

/// The call `TX_ENTER` from `t` enters, when `ProverTxStart` takes the step: `(to, origin)`.
fn entered_call(
    t: &TxStart,
) -> Result<(alloy_primitives::Address, alloy_primitives::Address), TxStartError> {
    let s = t
        .setup
        .as_ref()
        .ok_or(TxStartError::Unsupported("TX_ENTER before TX_DECODE"))?;
    if s.cursor.next != SetupStep::Enter {
        return Err(TxStartError::Unsupported("ACCESS_LIST and AUTH on L1"));
    }
    if s.tx_ctx.is_deposit {
        return Err(TxStartError::Unsupported("a deposit's TX_ENTER on L1"));
    }
    match s.tx.kind {
        TxKind::Call(to) if !is_precompile(to) => Ok((to, s.tx_ctx.origin)),
        TxKind::Call(_) => Err(TxStartError::Unsupported(
            "TX_ENTER of a call to a precompile",
        )),
        TxKind::Create => Err(TxStartError::Unsupported("TX_ENTER of a creation on L1")),
    }
}

fn opening(
    world: &World,
    who: alloy_primitives::Address,
    out: &mut Vec<u8>,
) -> Result<(), TxStartError> {
    account_opening(world, who, out).map_err(|_| TxStartError::Inconsistent("account opening"))
}

/// The witness of `TX_ENTER` of a call from `t` (layout version 1, `ProverTxStart`):
/// `u8 1 ‖ M ‖ BlockCtx ‖ TxCtx ‖ Global ‖ SetupCursor`, the recipient's world opening
/// (and leaf preimage); for a recipient holding a 7702 designator the delegate's opening
/// and, unless it is a precompile, its warm entry's transaction-tree opening; when a value
/// moves to another account, the sender's opening, then the recipient's against the root
/// the debit left.
pub fn enter_witness(t: &TxStart) -> Result<Vec<u8>, TxStartError> {
    let (to, origin) = entered_call(t)?;
    let s = t
        .setup
        .as_ref()
        .ok_or(TxStartError::Unsupported("TX_ENTER before TX_DECODE"))?;
    let mut out = vec![WITNESS_VERSION];
    out.extend_from_slice(&t.top().encode());
    out.extend_from_slice(&t.block.ctx.encode());
    out.extend_from_slice(&s.tx_ctx.encode());
    out.extend_from_slice(&s.global.record().encode());
    out.extend_from_slice(&s.cursor.encode());
    let world = &s.global.world;
    opening(world, to, &mut out)?;
    let account = world.account(to);
    if let Some(code) = world.code_by_hash(account.code_hash)
        && let Some(delegate) = delegation(code.bytes())
    {
        opening(world, delegate, &mut out)?;
        if !is_precompile(delegate) {
            let key = warm_account_key(delegate);
            let proof = smt_witness::for_read(&s.global.tx_tree.clone().prove(&key));
            smt_witness::encode_into(&mut out, &proof, &key)
                .map_err(|_| TxStartError::Inconsistent("transaction-tree opening"))?;
        }
    }
    let value = s.cursor.value;
    if !value.is_zero() && to != origin {
        opening(world, origin, &mut out)?;
        let mut after = world.clone();
        let mut from = after.account(origin);
        from.balance = from.balance.saturating_sub(value);
        after.set_account(origin, from);
        opening(&after, to, &mut out)?;
    }
    Ok(out)
}

/// The codes `CodeOracle` must hold before `TX_ENTER` from `t`: the recipient's and, for a
/// designator, its delegate's.
pub fn enter_codes(t: &TxStart) -> Result<Vec<Bytes>, TxStartError> {
    let (to, _) = entered_call(t)?;
    let s = t
        .setup
        .as_ref()
        .ok_or(TxStartError::Unsupported("TX_ENTER before TX_DECODE"))?;
    let world = &s.global.world;
    let mut codes = Vec::new();
    let mut who = to;
    for _ in 0..2 {
        let hash = world.account(who).code_hash;
        if hash == KECCAK256_EMPTY || hash.is_zero() {
            break;
        }
        let code = world
            .code_by_hash(hash)
            .ok_or(TxStartError::MissingCode(hash))?;
        codes.push(code.bytes().clone());
        match delegation(code.bytes()) {
            Some(d) if who == to => who = d,
            _ => break,
        }
    }
    Ok(codes)
}
