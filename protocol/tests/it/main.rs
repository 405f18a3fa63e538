//! The integration tests of `blink-protocol`, in one test binary (one link instead of one
//! per file; reth's layout). Each module says what it checks; run one with e.g.
//! `cargo test -p blink-protocol --test it fault_machine`.

mod common;

mod block_end;
mod block_time_batch_bytes;
mod deposits;
mod fault_machine;
mod game;
mod l1_fee;
mod prologue;
mod stf;
mod trace_api;
mod tx_end;
mod tx_start;
