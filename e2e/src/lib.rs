//! Whole-system tests live in `tests/`.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]
