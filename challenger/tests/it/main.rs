//! Integration tests of `blink-challenger` (one binary, as every crate here).

mod outputs;
mod play;
mod position;
