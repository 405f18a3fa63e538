//! Integration tests of `blink-challenger` (one binary, as every crate here).

mod l1_game;
mod metrics;
mod outputs;
mod play;
mod position;
