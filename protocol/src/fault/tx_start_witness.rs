//! The witnesses of the setup steps (`docs/fault-proofs.md` 3.7): the bytes
//! `ProverTxStart.step` (`bridge-contracts/src/fault/`) reads to take the steps
//! [`TxStart::step`] takes from `BETWEEN_UNITS` to `TX_EXEC`.
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
//! the sender's code, when it has some (EIP-3607 reads whether it is a designator). Types
//! 0, 1, 2 and 4.
//!
//! From `TX_SETUP` (`u8 1 ‖ M ‖ BlockCtx ‖ TxCtx (191) ‖ Global (140) ‖ SetupCursor (115)`
//! first): [`access_list_witness`] (`ACCESS_LIST`: `BlockEnv`, the item's stream bytes,
//! the warm-entry, slot and warm-slot openings), [`auth_witness`] and [`auth_codes`]
//! (`AUTH`: `BlockEnv`, the authorization's stream bytes, the authority's warm-entry and
//! world openings once it recovers), [`enter_witness`] and [`enter_codes`] (`TX_ENTER` of
//! a call to an account that is not a precompile: the recipient's and its delegate's
//! openings and codes; of a creation: the entry's bytes, whose input is the init code, and
//! the openings of the nonce bump, the warm entry, the created account and its
//! created-set entry).
//!
//! What it is not: no witness for an entry above 4 KiB (`BatchDataOracle.registerTx` is
//! not built), `TX_ENTER` of a call to a precompile, a creation onto an address with code
//! or a nonce (the machine refuses it too), or a deposit's setup
//! ([`TxStartError::Unsupported`]). Pure code.

use alloy_eips::eip7702::SignedAuthorization;
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, TxKind, U256};

use super::{
    commit::SetupStep,
    machine::delegation,
    smt_witness,
    tree::RangeProof,
    tx_start::{
        ACCESS_KEYS_PER_STEP, ONE_STEP_TX_BYTES, Refusal, Setup, TxStart, TxStartError, rlp_item,
    },
    witness::account_opening,
    world::{TxTree, World, created_key, is_precompile, warm_account_key, warm_slot_key},
};
use crate::{
    chain::FEE_VAULT,
    smt,
    tx::{TxDecodeError, check_raw_transaction},
};

/// The layout version `ProverTxStart` reads.
pub const WITNESS_VERSION: u8 = 1;

/// Whether the Solidity prover takes this entry's `TX_DECODE` (entries ≤ 4 KiB).
fn supported(raw: &[u8]) -> Result<(), TxStartError> {
    if raw.len() > ONE_STEP_TX_BYTES {
        return Err(TxStartError::Unsupported(
            "TX_DECODE of an entry above 4 KiB on L1",
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

/// What `TX_ENTER` from `t` enters, when `ProverTxStart` takes the step.
enum Entered {
    /// A call: `(to, origin)`.
    Call(Address, Address),
    /// A creation (`TxCtx.created`, `TxCtx.origin`).
    Create,
}

fn entered(t: &TxStart) -> Result<(&Setup, Entered), TxStartError> {
    let s = t
        .setup
        .as_deref()
        .ok_or(TxStartError::Unsupported("TX_ENTER before TX_DECODE"))?;
    if s.cursor.next != SetupStep::Enter {
        return Err(TxStartError::Unsupported("ACCESS_LIST and AUTH on L1"));
    }
    if s.tx_ctx.is_deposit {
        return Err(TxStartError::Unsupported("a deposit's TX_ENTER on L1"));
    }
    match s.tx.kind {
        TxKind::Call(to) if !is_precompile(to) => Ok((s, Entered::Call(to, s.tx_ctx.origin))),
        TxKind::Call(_) => Err(TxStartError::Unsupported(
            "TX_ENTER of a call to a precompile",
        )),
        TxKind::Create => {
            let target = s.global.world.account(s.tx_ctx.created);
            if (target.code_hash != KECCAK256_EMPTY && !target.code_hash.is_zero())
                || target.nonce != 0
            {
                // The Rust machine refuses a collision too (`TxStart::enter_create`).
                return Err(TxStartError::Unsupported(
                    "TX_ENTER of a creation onto an address with code or a nonce",
                ));
            }
            Ok((s, Entered::Create))
        }
    }
}

fn opening(world: &World, who: Address, out: &mut Vec<u8>) -> Result<(), TxStartError> {
    account_opening(world, who, out).map_err(|_| TxStartError::Inconsistent("account opening"))
}

/// The witness of `TX_ENTER` from `t` (layout version 1, `ProverTxStart`):
/// `u8 1 ‖ M ‖ BlockCtx ‖ TxCtx ‖ Global ‖ SetupCursor`, then for a call the recipient's
/// world opening (and leaf preimage); for a recipient holding a 7702 designator the
/// delegate's opening and, unless it is a precompile, its warm entry's transaction-tree
/// opening; when a value moves to another account, the sender's opening, then the
/// recipient's against the root the debit left. For a creation ([`create_enter_witness`])
/// the entry's bytes and the openings of the nonce bump, the warm entry, the created
/// account and its created-set entry.
pub fn enter_witness(t: &TxStart) -> Result<Vec<u8>, TxStartError> {
    let (s, entered) = entered(t)?;
    let mut out = vec![WITNESS_VERSION];
    out.extend_from_slice(&t.top().encode());
    out.extend_from_slice(&t.block.ctx.encode());
    out.extend_from_slice(&s.tx_ctx.encode());
    out.extend_from_slice(&s.global.record().encode());
    out.extend_from_slice(&s.cursor.encode());
    let (to, origin) = match entered {
        Entered::Call(to, origin) => (to, origin),
        Entered::Create => {
            create_enter_witness(t, s, &mut out)?;
            return Ok(out);
        }
    };
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

/// The rest of a creation's `TX_ENTER` witness (3.7, `TX_ENTER` of a creation): `u32 n ‖
/// n` bytes of the entry (`keccak` = `TxCtx.leaf`: where the init code is), the sender's
/// world opening (its nonce bump and the value's debit both write through it), the
/// created address's warm entry's transaction-tree opening (none for a precompile), the
/// created account's world opening against the root the sender's write left, and its
/// created-set entry's transaction-tree opening against the tree after the warm entry.
fn create_enter_witness(t: &TxStart, s: &Setup, out: &mut Vec<u8>) -> Result<(), TxStartError> {
    let raw = setup_entry(t, s)?;
    out.extend_from_slice(&s.cursor.tx_length.to_be_bytes());
    out.extend_from_slice(raw);
    let origin = s.tx_ctx.origin;
    let created = s.tx_ctx.created;
    let world = &s.global.world;
    opening(world, origin, out)?;
    let mut tree = s.global.tx_tree.clone();
    let tree_opening = |tree: &mut TxTree, key: B256, out: &mut Vec<u8>| {
        let proof = smt_witness::for_read(&tree.prove(&key));
        smt_witness::encode_into(out, &proof, &key)
            .map_err(|_| TxStartError::Inconsistent("transaction-tree opening"))
    };
    if !is_precompile(created) {
        tree_opening(&mut tree, warm_account_key(created), out)?;
        tree.warm_account(created);
    }
    let mut after = world.clone();
    let mut from = after.account(origin);
    from.nonce += 1;
    from.balance = from.balance.saturating_sub(s.cursor.value);
    after.set_account(origin, from);
    opening(&after, created, out)?;
    tree_opening(&mut tree, created_key(created), out)
}

/// The codes `CodeOracle` must hold before `TX_ENTER` from `t`: the recipient's and, for a
/// designator, its delegate's.
pub fn enter_codes(t: &TxStart) -> Result<Vec<Bytes>, TxStartError> {
    let (s, entered) = entered(t)?;
    let to = match entered {
        Entered::Call(to, _) => to,
        // The init code, the transaction's input.
        Entered::Create if s.tx.input.is_empty() => return Ok(Vec::new()),
        Entered::Create => return Ok(vec![s.tx.input.clone()]),
    };
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

/// The entry's bytes of a transaction in setup (`SetupCursor.txOffset`, `txLength`).
fn setup_entry<'a>(t: &'a TxStart, s: &Setup) -> Result<&'a [u8], TxStartError> {
    let lo = usize::try_from(s.cursor.tx_offset)
        .map_err(|_| TxStartError::Inconsistent("entry offset"))?;
    t.data
        .stream
        .get(lo..lo + s.cursor.tx_length as usize)
        .ok_or(TxStartError::Inconsistent("entry outside the stream"))
}

/// The witness of `ACCESS_LIST` from `t` (layout version 1, `ProverTxStart`): `u8 1 ‖ M ‖
/// BlockCtx ‖ TxCtx ‖ Global ‖ SetupCursor ‖ BlockEnv`, `u32 n` and the stream opening of
/// the item's bytes `[txOffset + at, txOffset + at + n)` (`n` the item's length, plus 3 when
/// it is the last and authorizations follow: the step reads their list's header), the
/// address's warm-entry opening (not for a precompile), then per key warmed its world
/// opening and its warm-slot opening, each against the transaction tree the previous
/// insert left.
pub fn access_list_witness(t: &TxStart) -> Result<Vec<u8>, TxStartError> {
    let s = t
        .setup
        .as_deref()
        .ok_or(TxStartError::Unsupported("ACCESS_LIST before TX_DECODE"))?;
    if s.cursor.next != SetupStep::AccessList || s.tx_ctx.is_deposit {
        return Err(TxStartError::Unsupported("not an ACCESS_LIST step"));
    }
    let c = s.cursor;
    let (address, keys) =
        s.tx.access_list
            .get(c.item as usize)
            .ok_or(TxStartError::Inconsistent(
                "access-list cursor past the list",
            ))?;
    let raw = setup_entry(t, s)?;
    let at = c.at as usize;
    let (_, end) = rlp_item(raw, at).ok_or(TxStartError::Inconsistent("access-list item"))?;
    let extra = if c.item + 1 == c.items && c.auths > 0 {
        3
    } else {
        0
    };
    let n = end - at + extra;
    let mut out = vec![WITNESS_VERSION];
    out.extend_from_slice(&t.top().encode());
    out.extend_from_slice(&t.block.ctx.encode());
    out.extend_from_slice(&s.tx_ctx.encode());
    out.extend_from_slice(&s.global.record().encode());
    out.extend_from_slice(&c.encode());
    out.extend_from_slice(&t.data.env.encode());
    out.extend_from_slice(&(n as u32).to_be_bytes());
    let lo = c.tx_offset + at as u64;
    let (leaves, proof) = t.data.stream_opening(lo, lo + n as u64)?;
    push_opening(&mut out, &leaves, &proof)?;
    let mut tree = s.global.tx_tree.clone();
    let tree_opening = |tree: &mut TxTree, key: B256, out: &mut Vec<u8>| {
        let proof = smt_witness::for_read(&tree.prove(&key));
        smt_witness::encode_into(out, &proof, &key)
            .map_err(|_| TxStartError::Inconsistent("transaction-tree opening"))
    };
    if !is_precompile(*address) {
        tree_opening(&mut tree, warm_account_key(*address), &mut out)?;
        tree.warm_account(*address);
    }
    let world = &s.global.world;
    let from = (c.key as usize).min(keys.len());
    let to = (from + ACCESS_KEYS_PER_STEP).min(keys.len());
    for key in &keys[from..to] {
        let slot = U256::from_be_bytes(key.0);
        let proof = smt_witness::for_read(&world.prove_slot(*address, slot));
        smt_witness::encode_into(&mut out, &proof, &smt::storage_key(*address, slot))
            .map_err(|_| TxStartError::Inconsistent("slot opening"))?;
        tree_opening(&mut tree, warm_slot_key(*address, slot), &mut out)?;
        tree.warm_slot(*address, slot, world.slot(*address, slot));
    }
    Ok(out)
}

/// The authorization `AUTH` from `t` applies, and the setup it is in.
fn auth_step(t: &TxStart) -> Result<(&Setup, &SignedAuthorization), TxStartError> {
    let s = t
        .setup
        .as_deref()
        .ok_or(TxStartError::Unsupported("AUTH before TX_DECODE"))?;
    if s.cursor.next != SetupStep::Auth || s.tx_ctx.is_deposit {
        return Err(TxStartError::Unsupported("not an AUTH step"));
    }
    let auth =
        s.tx.authorizations
            .get(s.cursor.item as usize)
            .ok_or(TxStartError::Inconsistent(
                "authorization cursor past the list",
            ))?;
    Ok((s, auth))
}

/// The authority `AUTH` reads the state of: `None` when the authorization is skipped
/// before (another chain id, nonce `2^64 − 1`, no recovery), as `apply_authorization`.
fn authority(auth: &SignedAuthorization, chain_id: u64) -> Option<Address> {
    let a = auth.inner();
    if (!a.chain_id.is_zero() && a.chain_id != U256::from(chain_id)) || a.nonce == u64::MAX {
        return None;
    }
    auth.recover_authority().ok()
}

/// The witness of `AUTH` from `t` (layout version 1, `ProverTxStart`): `u8 1 ‖ M ‖ BlockCtx
/// ‖ TxCtx ‖ Global ‖ SetupCursor ‖ BlockEnv`, `u32 n` and the stream opening of the
/// authorization's `n` bytes at `txOffset + at`; once its authority recovers, the
/// authority's warm-entry opening (not for a precompile) and its world opening.
pub fn auth_witness(t: &TxStart) -> Result<Vec<u8>, TxStartError> {
    let (s, auth) = auth_step(t)?;
    let c = s.cursor;
    let raw = setup_entry(t, s)?;
    let at = c.at as usize;
    let (_, end) = rlp_item(raw, at).ok_or(TxStartError::Inconsistent("authorization"))?;
    let n = end - at;
    let mut out = vec![WITNESS_VERSION];
    out.extend_from_slice(&t.top().encode());
    out.extend_from_slice(&t.block.ctx.encode());
    out.extend_from_slice(&s.tx_ctx.encode());
    out.extend_from_slice(&s.global.record().encode());
    out.extend_from_slice(&c.encode());
    out.extend_from_slice(&t.data.env.encode());
    out.extend_from_slice(&(n as u32).to_be_bytes());
    let lo = c.tx_offset + at as u64;
    let (leaves, proof) = t.data.stream_opening(lo, lo + n as u64)?;
    push_opening(&mut out, &leaves, &proof)?;
    let Some(who) = authority(auth, t.data.config.chain_id) else {
        return Ok(out);
    };
    if !is_precompile(who) {
        let key = warm_account_key(who);
        let proof = smt_witness::for_read(&s.global.tx_tree.clone().prove(&key));
        smt_witness::encode_into(&mut out, &proof, &key)
            .map_err(|_| TxStartError::Inconsistent("transaction-tree opening"))?;
    }
    opening(&s.global.world, who, &mut out)?;
    Ok(out)
}

/// The codes `CodeOracle` must hold before `AUTH` from `t`: the authority's, when it
/// recovers and has code (the step asks whether it is a designator).
pub fn auth_codes(t: &TxStart) -> Result<Vec<Bytes>, TxStartError> {
    let (s, auth) = auth_step(t)?;
    let Some(who) = authority(auth, t.data.config.chain_id) else {
        return Ok(Vec::new());
    };
    let hash = s.global.world.account(who).code_hash;
    if hash == KECCAK256_EMPTY || hash.is_zero() {
        return Ok(Vec::new());
    }
    let code = s
        .global
        .world
        .code_by_hash(hash)
        .ok_or(TxStartError::MissingCode(hash))?;
    Ok(vec![code.bytes().clone()])
}
