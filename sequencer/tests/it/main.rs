//! The integration tests of `blink-sequencer`, in one test binary (one link instead of one
//! per file; reth's layout). Run one with e.g.
//! `cargo test -p blink-sequencer --test it history_memory -- --nocapture`.
//!
//! Both tests measure the heap of this process through the counting global allocator of
//! [`heap`], which they once each had in a binary of their own. They now share it and
//! run one at a time ([`heap::measuring`]): a test added here must take that lock too,
//! or its allocations would show in their figures while it runs beside them.

mod heap;

mod historical_proofs;
mod history_memory;
