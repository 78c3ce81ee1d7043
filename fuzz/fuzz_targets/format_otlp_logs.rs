//! The OTLP parser on OTLP/JSON logs (`resourceLogs`), seeded with Claude Code's
//! and Codex's telemetry events: never panics, and reads a request the same way
//! twice (a log record's span id is a digest of the record, so the same event from
//! a file and over HTTP is stored once).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    skilltrace_fuzz::otlp_logs(data);
});
