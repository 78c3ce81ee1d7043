//! The end-to-end tests: one test binary (linked once) holding one module per
//! area, each a former `tests/<area>.rs` file, that runs the real binary as a
//! user would. Run one area with `cargo test --test e2e <area>::` (e.g.
//! `cargo test --test e2e tail_documents::`). A new area is a new file here
//! plus its `mod` line below; tests that assert wall-clock latency or drive
//! tmux go to `tests/timing/` instead.
//!
//! The helpers the areas share are the `*_support` modules, `common` and
//! `tui_fixture`.
#![allow(clippy::unwrap_used)]

mod attack_support;
mod common;
mod export_support;
mod limits_support;
mod parse_support;
mod proxy_support;
mod redaction_support;
mod tui_fixture;
mod writers_support;

mod adversarial_corpus;
mod attack_content;
mod attack_export;
mod attack_files;
mod attack_guard;
mod attack_ids;
mod attack_listeners;
mod attack_paths;
mod attack_proxy;
mod attack_secrets;
mod attack_split;
mod attack_store;
mod attack_terminal;
mod cline_late_ui;
mod codex_forks;
mod cost;
mod damaged_sessions;
mod detection;
mod detection_cli;
mod detection_e2e;
mod detection_text;
mod discover;
mod docs;
mod export_json;
mod export_otlp;
mod export_sarif;
mod guard_agents;
mod guard_agents_setup;
mod guard_budget;
mod guard_every_agent;
mod guard_install;
mod guard_serve;
mod guard_warm;
mod import_agents;
mod import_cli;
mod import_jobs;
mod limits_import;
mod limits_otlp;
mod limits_proxy;
mod opencode_db;
mod otlp_receiver;
mod parsers;
mod parsers_agents;
mod proxy;
mod proxy_burst;
mod proxy_encodings;
mod proxy_phases;
mod proxy_poll;
mod proxy_priority;
mod proxy_spill;
mod proxy_store;
mod proxy_tls;
mod real_headless;
mod real_sessions;
mod redaction;
mod redaction_cuts;
mod redaction_e2e;
mod redaction_fragments;
mod redaction_values;
mod redteam_probe;
mod replay;
mod scan;
mod store_trust;
mod store_upgrade;
mod tail_documents;
mod tui_keys_doc;
mod tui_snapshots;
