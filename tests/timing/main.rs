//! The end-to-end tests whose assertions are wall-clock bounds (tail latency,
//! the guard hook's 1 s answer budget, the time a held store takes to spool)
//! or that drive tmux: a test binary of their own, so they run beside each
//! other and not beside the heavy imports of `tests/e2e/`. Run one area with `cargo test --test timing <area>::`.
//! They share the helpers of `tests/e2e/` by path.
#![allow(clippy::unwrap_used)]

#[path = "../e2e/common/mod.rs"]
mod common;
#[path = "../e2e/writers_support/mod.rs"]
mod writers_support;

mod cost_budget;
mod guard_hook;
mod guard_serve;
mod many_writers;
mod tail;
mod tui_tmux;
