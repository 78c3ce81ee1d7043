//! Where a forwarded request's time goes inside the proxy, for finding the
//! source of added latency: per-phase histograms and a count of upstream
//! connections opened. Off unless the proxy starts with the environment
//! variable [`ENV`] set (to anything but `0` or empty); when off nothing is
//! measured and `/health` carries no `phases` member.
//!
//! Phases of one exchange, from the moment its handler starts (hyper has read
//! the request head): `read` until the request body is read ahead, `upstream`
//! until the upstream's response head arrived (connection checkout or connect,
//! the write, the upstream's work, the wake-up that reads the answer), `body`
//! until the last response frame passed through, and `total` for all of it.
//! What lies outside (the wake-up that reads the request, the write of the
//! last bytes to the client) is the client-side latency minus `total`.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The environment variable that turns the measurement on.
pub const ENV: &str = "SKILLTRACE_PROXY_PHASES";

/// Width of a histogram bucket.
const BUCKET_US: u64 = 10;
/// Buckets; the last one holds everything at or past `(BUCKETS - 1) * BUCKET_US`.
const BUCKETS: usize = 1001;

/// One phase of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Read,
    Upstream,
    Body,
    Total,
}

const PHASES: [Phase; 4] = [Phase::Read, Phase::Upstream, Phase::Body, Phase::Total];

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Read => "read",
            Phase::Upstream => "upstream",
            Phase::Body => "body",
            Phase::Total => "total",
        }
    }
}

/// A histogram of durations in [`BUCKET_US`] steps, lock-free to add to.
struct Histogram {
    buckets: Vec<AtomicU64>,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn add(&self, d: Duration) {
        let i = usize::try_from(d.as_micros() / u128::from(BUCKET_US))
            .unwrap_or(usize::MAX)
            .min(BUCKETS - 1);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The upper edge, in µs, of the bucket holding quantile `q`; `None` when empty.
    fn quantile_us(&self, q: f64) -> Option<u64> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let n: u64 = counts.iter().sum();
        if n == 0 {
            return None;
        }
        // The rank of the quantile, 1-based: the smallest value with at least q·n at or below it.
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some((i as u64 + 1) * BUCKET_US);
            }
        }
        None
    }

    /// `[upper edge µs, count]` of every bucket not empty.
    fn counts(&self) -> Vec<[u64; 2]> {
        self.buckets
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let n = b.load(Ordering::Relaxed);
                (n > 0).then_some([(i as u64 + 1) * BUCKET_US, n])
            })
            .collect()
    }

    fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }
}

/// The measurement: one histogram per phase and the upstream connections seen.
pub struct Phases {
    hist: [Histogram; 4],
    /// Local addresses of upstream connections answers came on: one per connection opened.
    conns: Mutex<HashSet<SocketAddr>>,
}

impl std::fmt::Debug for Phases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phases")
            .field("exchanges", &self.hist[3].count())
            .finish()
    }
}

impl Default for Phases {
    fn default() -> Self {
        Phases::new()
    }
}

impl Phases {
    pub fn new() -> Phases {
        Phases {
            hist: [
                Histogram::new(),
                Histogram::new(),
                Histogram::new(),
                Histogram::new(),
            ],
            conns: Mutex::new(HashSet::new()),
        }
    }

    /// A measurement when [`ENV`] asks for one.
    pub fn from_env() -> Option<Phases> {
        std::env::var_os(ENV)
            .filter(|v| !v.is_empty() && v != "0")
            .map(|_| Phases::new())
    }

    /// One exchange spent `d` in `phase`.
    pub fn add(&self, phase: Phase, d: Duration) {
        self.hist[phase as usize].add(d);
    }

    /// An answer came on the upstream connection bound locally to `local`.
    pub fn upstream_conn(&self, local: SocketAddr) {
        if let Ok(mut seen) = self.conns.lock() {
            seen.insert(local);
        }
    }

    /// `{"read": {"n", "p50_us", "p99_us", "p999_us", "max_us", "counts"}, ...,
    /// "upstream_conns": N}`: a quantile is the upper edge of its 10 µs bucket;
    /// `counts` lists `[upper edge µs, count]` of every bucket not empty, so a
    /// reader can subtract two readings and take the quantiles of what lies between.
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for p in PHASES {
            let h = &self.hist[p as usize];
            out.insert(
                p.name().into(),
                serde_json::json!({
                    "n": h.count(),
                    "p50_us": h.quantile_us(0.5),
                    "p99_us": h.quantile_us(0.99),
                    "p999_us": h.quantile_us(0.999),
                    "max_us": h.quantile_us(1.0),
                    "counts": h.counts(),
                }),
            );
        }
        let conns = self.conns.lock().map_or(0, |s| s.len());
        out.insert("upstream_conns".into(), conns.into());
        serde_json::Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_bucket_upper_edges() {
        let p = Phases::new();
        for us in 1..=100u64 {
            p.add(Phase::Total, Duration::from_micros(us * 10 - 5));
        }
        let j = p.to_json();
        assert_eq!(j["total"]["n"], 100);
        assert_eq!(j["total"]["p50_us"], 500);
        assert_eq!(j["total"]["p99_us"], 990);
        assert_eq!(j["total"]["max_us"], 1000);
        assert_eq!(j["read"]["p50_us"], serde_json::Value::Null, "empty phase");
        assert_eq!(j["read"]["counts"], serde_json::json!([]));
        assert_eq!(j["total"]["counts"][0], serde_json::json!([10, 1]));
        assert_eq!(j["total"]["counts"].as_array().map(Vec::len), Some(100));
    }

    #[test]
    fn long_durations_land_in_the_last_bucket() {
        let p = Phases::new();
        p.add(Phase::Body, Duration::from_secs(3));
        assert_eq!(
            p.to_json()["body"]["max_us"],
            BUCKETS as u64 * BUCKET_US,
            "past 10 ms: the overflow bucket"
        );
    }

    #[test]
    fn connections_are_counted_once_each() {
        let p = Phases::new();
        let a: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        for _ in 0..3 {
            p.upstream_conn(a);
        }
        p.upstream_conn(b);
        assert_eq!(p.to_json()["upstream_conns"], 2);
    }
}
