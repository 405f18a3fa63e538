//! Integration tests of `blink-challenger` (one binary, as every crate here).

mod play;
mod position;
