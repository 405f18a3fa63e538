//! The integration tests of `blink-bridge-contracts`: the committed artifacts on an
//! in-memory revm against their Rust twins, in one test binary (one link instead of one
//! per file; reth's layout). Each module is one contract or group of contracts and says
//! what it checks; run one with e.g.
//! `cargo test -p blink-bridge-contracts --test it one_step_prover -- --nocapture`.
//!
//! Shared pieces: [`chain`] (a Prague revm over an in-memory database: deploy, send,
//! call, decode reverts) and [`rng`] (the splitmix64 generator of the random cases).
//!
//! The forge fixtures (`test/fixtures/*.json`) are written by the `forge_fixtures_are_fresh`
//! test of `batch_data_oracle`, `one_step_prover`, `smt` and `tx_end`:
//! `BLINK_WRITE_FIXTURES=1 cargo test -p blink-bridge-contracts --test it forge_fixtures_are_fresh`
//! rewrites all four (name one, e.g. `smt::forge_fixtures_are_fresh`, for just that one).

mod chain;
mod rng;

mod batch_data_oracle;
mod block_opening;
mod bridge;
mod deposits;
mod derive_l1;
mod gas_price_oracle;
mod l1_records;
mod one_step_prover;
mod output_oracle;
mod padding;
mod portal;
mod smt;
mod test_token;
mod trace_api;
mod tx_end;
mod tx_start;
