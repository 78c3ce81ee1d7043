//! skilltrace: a local-first terminal workbench that shows what AI agents really do
//! on a machine and flags what is dangerous.
//!
//! Data flows one way: sources (`ingest` tailer, `proxy`) → parse (`ingest::formats`)
//! → scan (`redact` + `detect`, one pass in `ingest::pipeline`) → `store` → views
//! (`tui`, `export`, `replay`). `main.rs` only parses arguments and calls `commands`.

pub mod assets;
pub mod cli;
pub mod commands;
pub mod config;
pub mod detect;
pub mod export;
pub mod guard;
pub mod hash;
pub mod ingest;
pub mod lazyre;
pub mod limits;
pub mod model;
pub mod notice;
pub mod paths;
pub mod pricing;
pub mod priority;
pub mod proxy;
pub mod redact;
pub mod replay;
pub mod sanitize;
pub mod serve;
pub mod store;
pub mod tui;
pub mod usage;
