//! Memory and time limits on what arrives over the network (the proxy and the
//! OTLP receiver): the `[limits]` config section with its defaults, the
//! in-flight body [`Budget`] all connections of one server share, bounded
//! content decoding, and a cheap count of JSON values taken before parsing.
//!
//! Every limit has a default that fits a laptop and can be changed in the
//! config; none of them ever changes a byte the proxy forwards.

pub mod body;
pub mod budget;
pub mod decode;
pub mod json;

pub use budget::{Budget, Held};

use std::time::Duration;

const MIB: usize = 1 << 20;

/// The `[limits]` config section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Body bytes one server (the proxy, the OTLP receiver) holds at once across
    /// all its connections: request bodies being read or parsed, response copies
    /// being recorded. A request that would pass it is answered 503 with `Retry-After`.
    pub inflight_bytes: usize,
    /// A request body must arrive whole within this many seconds (receiver; the proxy's read-ahead).
    pub body_timeout_secs: u64,
    /// OTLP: largest request body, as received and after gzip decoding (413 past it).
    pub otlp_body_bytes: usize,
    /// OTLP: most spans in one request (413 past it).
    pub otlp_spans: usize,
    /// Most JSON values (numbers, strings, arrays, objects, members) in one OTLP
    /// request or one recorded proxy body; a request past it is refused, a proxy
    /// body past it is forwarded but not parsed.
    pub json_values: usize,
    /// Proxy: body bytes recorded per exchange, for the request and, after
    /// decoding, for the response. The rest is counted and flagged, never forwarded differently.
    pub record_body_bytes: usize,
    /// Proxy: response text and tool-call arguments (names, ids) kept per exchange.
    pub record_text_bytes: usize,
    /// Proxy: tool calls kept per exchange.
    pub record_tool_calls: usize,
    /// Proxy: bytes of finished exchanges that may wait in memory for the store.
    /// Past a quarter of it the recorder spills recordings (redacted) to the
    /// spool beside the store; past all of it (the spool full too) a recording is dropped.
    pub proxy_queue_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            inflight_bytes: 128 * MIB,
            body_timeout_secs: 30,
            otlp_body_bytes: 32 * MIB,
            otlp_spans: 10_000,
            json_values: 2_000_000,
            record_body_bytes: 16 * MIB,
            record_text_bytes: 16 * MIB,
            record_tool_calls: 1_024,
            proxy_queue_bytes: 256 * MIB,
        }
    }
}

/// Why a `[limits]` section cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitsError {
    #[error("[limits] {0} must be greater than 0")]
    Zero(&'static str),
    #[error("[limits] inflight_bytes ({budget}) must be at least {name} ({size}): such a body could never be held")]
    BudgetTooSmall {
        budget: usize,
        name: &'static str,
        size: usize,
    },
}

impl Limits {
    /// The `[limits]` section of `config` (defaults where absent), checked.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Limits> {
        let limits: Limits = config.section("limits")?;
        limits
            .check()
            .map_err(|e| anyhow::anyhow!("{}: {e}", config.display_name()))?;
        Ok(limits)
    }

    /// Rejects settings under which nothing could be received.
    pub fn check(&self) -> Result<(), LimitsError> {
        let sizes = [
            ("inflight_bytes", self.inflight_bytes),
            ("body_timeout_secs", self.body_timeout_secs as usize),
            ("otlp_body_bytes", self.otlp_body_bytes),
            ("otlp_spans", self.otlp_spans),
            ("json_values", self.json_values),
            ("record_body_bytes", self.record_body_bytes),
            ("record_text_bytes", self.record_text_bytes),
            ("record_tool_calls", self.record_tool_calls),
            ("proxy_queue_bytes", self.proxy_queue_bytes),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(LimitsError::Zero(name));
        }
        for (name, size) in [
            ("otlp_body_bytes", self.otlp_body_bytes),
            ("record_body_bytes", self.record_body_bytes),
        ] {
            if size > self.inflight_bytes {
                return Err(LimitsError::BudgetTooSmall {
                    budget: self.inflight_bytes,
                    name,
                    size,
                });
            }
        }
        Ok(())
    }

    /// [`Limits::body_timeout_secs`] as a duration.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }
}

/// `n` bytes in MiB for messages ("16 MiB", "1.5 MiB").
pub fn mib(n: usize) -> String {
    let m = n as f64 / MIB as f64;
    if m.fract() == 0.0 {
        format!("{m:.0} MiB")
    } else {
        format!("{m:.1} MiB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn defaults_are_sane_and_the_section_overrides_them() {
        let d = Limits::default();
        assert!(d.check().is_ok());
        assert_eq!(d.body_timeout(), Duration::from_secs(30));
        let c = Config::from_text(
            None,
            "[limits]\nbody_timeout_secs = 5\notlp_spans = 7\n".into(),
        )
        .unwrap();
        let l = Limits::from_config(&c).unwrap();
        assert_eq!((l.body_timeout_secs, l.otlp_spans), (5, 7));
        assert_eq!(
            l.inflight_bytes, d.inflight_bytes,
            "unset keys keep defaults"
        );
        let absent = Limits::from_config(&Config::default()).unwrap();
        assert_eq!(absent, d);
    }

    #[test]
    fn unusable_settings_are_one_line_errors() {
        for (text, want) in [
            (
                "[limits]\notlp_spans = 0\n",
                "otlp_spans must be greater than 0",
            ),
            (
                "[limits]\ninflight_bytes = 1024\n",
                "inflight_bytes (1024) must be at least otlp_body_bytes",
            ),
            ("[limits]\nno_such_limit = 1\n", "unknown field"),
            ("[limits]\notlp_spans = -1\n", "[limits]"),
        ] {
            let c = Config::from_text(None, text.into()).unwrap();
            let e = Limits::from_config(&c).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn mib_reads_well() {
        assert_eq!(mib(16 << 20), "16 MiB");
        assert_eq!(mib(3 << 19), "1.5 MiB");
    }
}
