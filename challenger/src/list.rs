//! `blink-challenger list-games`: every game of a `DisputeGameFactory` as a table.
//!
//! One row a game: its index and address, the output it disputes, its status, claims,
//! the time left on the newest claim's counter clock (the next deadline of an in-progress
//! game), the bonds still locked in it and, given an account, that account's locked bonds
//! and unclaimed credit. Read-only. What it is not: a judgement (it does not say who is
//! right; the challenger's log does).

use alloy::{
    eips::BlockNumberOrTag,
    network::Ethereum,
    primitives::{Address, B256, U256},
    providers::Provider,
};
use bridge_contracts::DisputeGameFactory;

use crate::{
    game::{Game, GameError},
    solver::challenger_duration,
};

/// One game.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameRow {
    /// Its index in the factory.
    pub index: u64,
    /// The game.
    pub address: Address,
    /// The disputed output.
    pub output_index: u64,
    /// Its root.
    pub output_root: B256,
    /// `IN_PROGRESS`, `CHALLENGER_WINS` or `DEFENDER_WINS`.
    pub status: &'static str,
    /// Claims posted.
    pub claims: usize,
    /// Seconds left on the newest claim's counter clock (0 once run out or resolved).
    pub clock_left: u64,
    /// Bonds of unresolved claims, wei.
    pub locked: U256,
    /// Of those, the account's.
    pub mine: U256,
    /// The account's unclaimed credit, wei.
    pub credit: U256,
}

/// Reads every game of `factory`, with `account`'s share.
pub async fn list_games<P: Provider<Ethereum> + Clone>(
    provider: P,
    factory: Address,
    account: Option<Address>,
) -> Result<Vec<GameRow>, GameError> {
    let rpc = |e: alloy::contract::Error| GameError::Rpc(e.to_string());
    let f = DisputeGameFactory::new(factory, provider.clone());
    let now = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(|e| GameError::Rpc(e.to_string()))?
        .map_or(0, |b| b.header.timestamp);
    let n = f.gameCount().call().await.map_err(rpc)?;
    let n = u64::try_from(n).map_err(|e| GameError::Rpc(e.to_string()))?;
    let mut rows = Vec::new();
    for index in 0..n {
        let address = f.gameList(U256::from(index)).call().await.map_err(rpc)?;
        let record = f.games(address).call().await.map_err(rpc)?;
        let game = Game::new(address, provider.clone());
        let params = game.params().await?;
        let view = game.view(&params, None).await?;
        let status = if view.in_progress {
            "IN_PROGRESS"
        } else if view
            .claims
            .first()
            .is_some_and(|c| !c.countered_by.is_zero())
        {
            "CHALLENGER_WINS"
        } else {
            "DEFENDER_WINS"
        };
        let clock_left = match view.claims.len().checked_sub(1) {
            Some(last) if view.in_progress => {
                view.max_clock - challenger_duration(&view, last, now)
            }
            _ => 0,
        };
        let unresolved = view
            .claims
            .iter()
            .zip(&view.resolved)
            .filter(|(_, r)| !**r)
            .map(|(c, _)| c);
        let locked = unresolved.clone().map(|c| c.bond).sum();
        let mine = unresolved
            .filter(|c| Some(c.claimant) == account)
            .map(|c| c.bond)
            .sum();
        let credit = match account {
            Some(a) => game.credit(a).await?,
            None => U256::ZERO,
        };
        rows.push(GameRow {
            index,
            address,
            output_index: record.outputIndex,
            output_root: record.outputRoot,
            status,
            claims: view.claims.len(),
            clock_left,
            locked,
            mine,
            credit,
        });
    }
    Ok(rows)
}

/// Wei as ETH with four decimals.
pub(crate) fn eth(wei: U256) -> String {
    let unit = U256::from(10u64).pow(U256::from(14));
    let tenths = wei / unit;
    let whole = tenths / U256::from(10_000u64);
    let frac = tenths % U256::from(10_000u64);
    format!("{whole}.{frac:0>4}")
}

/// The rows as an aligned text table.
pub fn table(rows: &[GameRow]) -> String {
    let mut out = format!(
        "{:>3}  {:<42}  {:>6}  {:<15}  {:>6}  {:>8}  {:>10}  {:>10}  {:>10}\n",
        "#",
        "game",
        "output",
        "status",
        "claims",
        "clock s",
        "locked ETH",
        "mine ETH",
        "credit ETH"
    );
    for r in rows {
        out.push_str(&format!(
            "{:>3}  {:<42}  {:>6}  {:<15}  {:>6}  {:>8}  {:>10}  {:>10}  {:>10}\n",
            r.index,
            r.address.to_string(),
            r.output_index,
            r.status,
            r.claims,
            r.clock_left,
            eth(r.locked),
            eth(r.mine),
            eth(r.credit)
        ));
    }
    if rows.is_empty() {
        out.push_str("(no games)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_every_field() {
        let row = GameRow {
            index: 0,
            address: Address::repeat_byte(0xab),
            output_index: 3,
            output_root: B256::ZERO,
            status: "DEFENDER_WINS",
            claims: 3,
            clock_left: 0,
            locked: U256::from(75_000_000_000_000_000u64),
            mine: U256::ZERO,
            credit: U256::from(150_000_000_000_000_000u64),
        };
        let t = table(&[row]);
        assert!(t.contains("DEFENDER_WINS"), "{t}");
        assert!(t.contains("0.0750") && t.contains("0.1500"), "{t}");
        assert!(t.contains(&Address::repeat_byte(0xab).to_string()), "{t}");
        assert!(table(&[]).contains("(no games)"));
    }
}
