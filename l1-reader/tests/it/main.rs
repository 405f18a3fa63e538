//! The integration tests of `blink-l1-reader`, in one test binary. Run one with e.g.
//! `cargo test -p blink-l1-reader --test it store -- --nocapture`.
//!
//! * [`memory`]: the in-memory L1 behind the traits (a chain of real headers, posts,
//!   reorgs);
//! * [`store`]: `L1Store` filled from the traits answers `protocol`'s `L1Source` as
//!   `protocol`'s own `MemoryL1` does, with headers and `L1History` paths, notices
//!   reorgs by parent hashes (`advance` finds the fork and reads the new one), and
//!   error kinds;
//! * [`trace`]: `BlockTrace::open` runs on an `L1Store`, `DERIVE`'s witness included.

mod memory;
mod store;
mod trace;
