//! The loopback LLM proxy: forwards every byte between an agent and its LLM
//! provider unchanged, and records each exchange as runs and spans.
//!
//! ```text
//! agent ──HTTP/1.1──► server.rs ──(HTTP/1.1 | h2, TLS)──► upstream
//!                        │ copies (bounded) of each frame
//!                        ▼
//!                   capture/ (bodies copied as they pass) ──never waits──► recorder thread
//!                                                    recording.rs (rounds) + record.rs + group.rs
//!                                                                        │ one Batch a round (waits for room)
//!                                                                        ▼
//!                                                                  IngestSender (pipeline)
//! ```
//!
//! Use [`bind`] then [`BoundProxy::serve`] inside a tokio runtime (tests bind
//! port 0 and read [`BoundProxy::local_addr`]), [`serve`] for both at once, or
//! [`spawn`] to run it on its own runtime thread (for `skilltrace tui --proxy`).
//! Nothing a request does waits on recording: the hand-off to the recorder
//! never waits, its queue is bounded in bytes (not in count, so a burst of
//! 2,000 exchanges is all recorded), and only past that bound is a copy dropped,
//! counted in [`ProxyStats::dropped`] and named on stderr at once. The recorder
//! thread waits for room in the writer's inbox, and the writer spools what a
//! slow or full store cannot take: a slow store costs memory up to the bound,
//! never a recording.

pub mod anthropic;
pub mod capture;
pub mod chat_chunk;
pub mod exchange;
pub mod group;
pub mod health;
pub mod openai;
pub mod phases;
pub mod poll;
pub mod record;
pub mod recording;
pub mod room;
pub mod route;
pub mod server;
pub mod spill;
pub mod sse;

pub use capture::RecordLimits;

use crate::ingest::pipeline::IngestSender;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// Default upstream for everything that is not Anthropic.
pub const DEFAULT_OPENAI_UPSTREAM: &str = "https://api.openai.com";
/// Default upstream for `/v1/messages*` and requests carrying `anthropic-version`.
pub const DEFAULT_ANTHROPIC_UPSTREAM: &str = "https://api.anthropic.com";

/// Time limits. Forwarding is never cut for size, only for silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP (+ TLS) connect to the upstream.
    pub connect: Duration,
    /// From sending the request to the upstream's response head (long: reasoning models think first).
    pub response_headers: Duration,
    /// Longest silence inside a response body (SSE streams included).
    pub idle: Duration,
    /// A request body an understood API reads ahead must arrive within this.
    pub request_body: Duration,
    /// A client must finish sending its request head within this.
    pub client_headers: Duration,
    /// On shutdown, how long open exchanges may run on.
    pub drain: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            response_headers: Duration::from_secs(600),
            idle: Duration::from_secs(300),
            request_body: crate::limits::Limits::default().body_timeout(),
            client_headers: Duration::from_secs(30),
            drain: Duration::from_secs(5),
        }
    }
}

/// How to run the proxy.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// `host:port`; loopback unless `allow_remote`.
    pub listen: String,
    pub openai_upstream: String,
    pub anthropic_upstream: String,
    pub allow_remote: bool,
    /// When set, every request must carry it in `x-skilltrace-token` (required with `allow_remote`).
    pub token: Option<String>,
    pub limits: RecordLimits,
    pub timeouts: Timeouts,
    /// Extra CA certificates (PEM) trusted for upstream TLS, besides the webpki
    /// (Mozilla) roots: for self-hosted upstreams behind a private CA. Empty: none.
    pub upstream_ca_pem: Vec<u8>,
    /// The forwarding thread's longest poll window before it parks (`[proxy] poll_us`; zero: off).
    pub poll: Duration,
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("listen", &self.listen)
            .field("openai_upstream", &self.openai_upstream)
            .field("anthropic_upstream", &self.anthropic_upstream)
            .field("allow_remote", &self.allow_remote)
            .field("token", &self.token.as_ref().map(|_| "[set]"))
            .field("limits", &self.limits)
            .field("timeouts", &self.timeouts)
            .field("upstream_ca_pem", &self.upstream_ca_pem.len())
            .field("poll", &self.poll)
            .finish()
    }
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig::new(DEFAULT_LISTEN)
    }
}

impl ProxyConfig {
    /// Defaults (real provider upstreams, loopback only, no token) on `listen`.
    pub fn new(listen: impl Into<String>) -> ProxyConfig {
        ProxyConfig {
            listen: listen.into(),
            openai_upstream: DEFAULT_OPENAI_UPSTREAM.into(),
            anthropic_upstream: DEFAULT_ANTHROPIC_UPSTREAM.into(),
            allow_remote: false,
            token: None,
            limits: RecordLimits::default(),
            timeouts: Timeouts::default(),
            upstream_ca_pem: Vec::new(),
            poll: poll::DEFAULT_MAX,
        }
    }

    /// Applies the `[proxy]` section of the config: `poll_us`, the forwarding
    /// thread's longest poll window in microseconds (0 turns polling off).
    pub fn with_config(mut self, c: &crate::config::Config) -> anyhow::Result<ProxyConfig> {
        let s: ProxySection = c.section("proxy")?;
        if let Some(us) = s.poll_us {
            if us > poll::MAX_POLL_US {
                anyhow::bail!(
                    "{}: [proxy] poll_us: {us} is more than {} (10 ms); 0 turns polling off",
                    c.display_name(),
                    poll::MAX_POLL_US
                );
            }
            self.poll = Duration::from_micros(us);
        }
        Ok(self)
    }

    /// Applies the `[limits]` section: recording caps, the in-flight budget, the body timeout.
    pub fn with_limits(mut self, l: &crate::limits::Limits) -> ProxyConfig {
        self.limits = RecordLimits::from_limits(l);
        self.timeouts.request_body = l.body_timeout();
        self
    }

    /// From `skilltrace proxy` arguments.
    pub fn from_args(a: &crate::cli::ProxyArgs) -> ProxyConfig {
        ProxyConfig {
            listen: a.listen.clone(),
            openai_upstream: a.openai_upstream.clone(),
            anthropic_upstream: a.anthropic_upstream.clone(),
            allow_remote: a.allow_remote,
            token: a.token.clone().filter(|t| !t.is_empty()),
            ..ProxyConfig::new(a.listen.clone())
        }
    }
}

/// The config file's `[proxy]` section.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ProxySection {
    poll_us: Option<u64>,
}

/// Why the proxy could not start or run. Messages never contain the token.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("proxy: cannot resolve listen address {0}")]
    BadListen(String),
    #[error("proxy: cannot listen on {addr}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error(
        "proxy: {0} is not a loopback address; pass --allow-remote (with --token) to listen on it"
    )]
    NotLoopback(String),
    #[error("proxy: --allow-remote requires --token (clients send it as x-skilltrace-token)")]
    TokenRequired,
    #[error("proxy: bad {which} upstream {url}")]
    Upstream {
        which: &'static str,
        url: String,
        source: route::UpstreamError,
    },
    #[error("proxy: TLS setup failed: {0}")]
    Tls(String),
    #[error("proxy: cannot start its runtime: {0}")]
    Runtime(std::io::Error),
}

/// Live counters, shared with whoever shows proxy status.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Requests received.
    pub requests: AtomicU64,
    /// Exchanges handed to the pipeline.
    pub recorded: AtomicU64,
    /// Exchanges whose recording was dropped (past the recorder's byte bound, or the writer gone).
    pub dropped: AtomicU64,
    /// Upstream unreachable or silent (502 / 504 given).
    pub upstream_errors: AtomicU64,
    /// Requests refused for a missing or wrong token.
    pub unauthorized: AtomicU64,
    /// Requests refused (503) because the in-flight memory budget was full.
    pub busy: AtomicU64,
    /// Body bytes of finished exchanges waiting for the recorder.
    pub queued_bytes: AtomicU64,
    /// Finished exchanges waiting for the recorder.
    pub queued: AtomicU64,
    /// Exchanges recorded to the spool (redacted) because the store was slow;
    /// counted in `recorded` too. The store's writer stores them later.
    pub spilled: AtomicU64,
    /// Times the recorder began spilling.
    pub spills: AtomicU64,
    /// True while the recorder spills.
    pub spilling: AtomicBool,
    /// Bytes in the spool file being spilled to.
    pub spill_bytes: AtomicU64,
    /// Per-phase timing of exchanges, when asked for ([`phases::ENV`]).
    pub phases: Option<phases::Phases>,
}

impl ProxyStats {
    /// The counters as JSON (the proxy's `GET /health`).
    pub fn to_json(&self) -> serde_json::Value {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut v = serde_json::json!({
            "status": "ok",
            "requests": n(&self.requests),
            "recorded": n(&self.recorded),
            "dropped": n(&self.dropped),
            "spilled": n(&self.spilled),
            "spills": n(&self.spills),
            "spilling": self.spilling.load(Ordering::Relaxed),
            "spill_bytes": n(&self.spill_bytes),
            "queued": n(&self.queued),
            "queued_bytes": n(&self.queued_bytes),
            "upstream_errors": n(&self.upstream_errors),
            "unauthorized": n(&self.unauthorized),
            "busy": n(&self.busy),
        });
        if let Some(p) = &self.phases {
            v["phases"] = p.to_json();
        }
        v
    }

    /// The exit line's recording part: `N exchanges recorded (M spilled to the spool), D dropped`.
    pub fn recorded_line(&self) -> String {
        let spilled = self.spilled.load(Ordering::Relaxed);
        let spill = if spilled > 0 {
            format!(
                " ({spilled} spilled to the spool while the store was slow, {} time(s))",
                self.spills.load(Ordering::Relaxed)
            )
        } else {
            String::new()
        };
        format!(
            "{} exchanges recorded{spill}, {} dropped",
            self.recorded.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed)
        )
    }
}

/// A proxy whose listening socket is open; [`BoundProxy::serve`] runs it.
#[derive(Debug)]
pub struct BoundProxy {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    cfg: ProxyConfig,
    openai: route::Upstream,
    anthropic: route::Upstream,
    stats: Arc<ProxyStats>,
    spill: Option<spill::Spill>,
}

/// Validates the configuration and opens the listening socket.
pub async fn bind(cfg: ProxyConfig) -> Result<BoundProxy, ProxyError> {
    let openai =
        route::Upstream::parse(&cfg.openai_upstream).map_err(|source| ProxyError::Upstream {
            which: "openai",
            url: cfg.openai_upstream.clone(),
            source,
        })?;
    let anthropic =
        route::Upstream::parse(&cfg.anthropic_upstream).map_err(|source| ProxyError::Upstream {
            which: "anthropic",
            url: cfg.anthropic_upstream.clone(),
            source,
        })?;
    server::check_tls(&cfg.upstream_ca_pem).map_err(ProxyError::Tls)?;
    if cfg.allow_remote && cfg.token.as_deref().is_none_or(str::is_empty) {
        return Err(ProxyError::TokenRequired);
    }
    let (listener, addr) = crate::serve::bind(&cfg.listen, cfg.allow_remote)
        .await
        .map_err(|e| match e {
            crate::serve::ListenError::BadListen(l) => ProxyError::BadListen(l),
            crate::serve::ListenError::NotLoopback(a) => ProxyError::NotLoopback(a),
            crate::serve::ListenError::Listen { addr, source } => {
                ProxyError::Listen { addr, source }
            }
        })?;
    Ok(BoundProxy {
        listener,
        addr,
        cfg,
        openai,
        anthropic,
        stats: Arc::new(ProxyStats {
            phases: phases::Phases::from_env(),
            ..ProxyStats::default()
        }),
        spill: None,
    })
}

/// Binds and serves until `shutdown` resolves.
pub async fn serve(
    cfg: ProxyConfig,
    sink: IngestSender,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ProxyError> {
    bind(cfg).await?.serve(sink, shutdown).await
}

impl BoundProxy {
    /// The address actually bound (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `proxy://<addr>`: the source path of every record this proxy makes.
    pub fn source_path(&self) -> String {
        format!("proxy://{}", self.addr)
    }

    /// Counters, live while the proxy runs.
    pub fn stats(&self) -> Arc<ProxyStats> {
        self.stats.clone()
    }

    /// Spills recordings to the spool while the store is slow (see [`spill`]);
    /// without it the recorder only waits for the writer.
    pub fn with_spill(mut self, spill: spill::Spill) -> BoundProxy {
        self.spill = Some(spill);
        self
    }

    /// Forwards and records until `shutdown` resolves; then lets open exchanges
    /// finish (up to the drain timeout) and flushes the recorder.
    pub async fn serve(
        self,
        sink: IngestSender,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ProxyError> {
        let source = self.source_path();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let shared = server::Shared::new(
            self.openai,
            self.anthropic,
            self.cfg.token.clone(),
            self.cfg.limits,
            self.cfg.timeouts,
            &self.cfg.upstream_ca_pem,
            tx,
            self.stats.clone(),
        )
        .map_err(ProxyError::Tls)?;
        let stats = self.stats.clone();
        let limits = self.cfg.limits;
        let out = recording::Outlet::new(sink, self.spill, &limits);
        let recorder = std::thread::Builder::new()
            .name("skilltrace-rec".into())
            .spawn(move || recording::run(rx, source, out, stats, limits))
            .map_err(ProxyError::Runtime)?;
        server::run(self.listener, Arc::new(shared), shutdown).await;
        // The recorder ends once every exchange has been handed to the writer:
        // waited for whole (stopping never drops a recording), said when slow.
        let mut done = tokio::task::spawn_blocking(move || recorder.join());
        if tokio::time::timeout(self.cfg.timeouts.drain, &mut done)
            .await
            .is_err()
        {
            crate::notice::warn(
                "proxy-stopping",
                format!(
                    "proxy: stopping: {} KB of exchanges still being handed to the store writer; waiting for them (none is dropped)",
                    self.stats.queued_bytes.load(Ordering::Relaxed) >> 10
                ),
            );
            let _ = done.await;
        }
        Ok(())
    }
}

/// The runtime that forwards: one thread (tokio's current-thread runtime), on
/// which every connection's reads and writes, both directions, run.
///
/// One thread rather than a pool because a forwarded request is a chain of
/// wake-ups (the client's request, the upstream's answer) and a pool adds
/// more: a worker that finds work wakes a parked one to share it, and a task
/// taken by the other worker waits for that worker's core to wake. On a small
/// VM whose idle vCPUs halt at once, each such wake-up of an idle core is a
/// trip through the host. A pool of two took 300–750 wake-ups of the
/// forwarding threads per 1,000 requests at 500–2,000 req/s, one thread
/// 90–280, for the same CPU (BENCHMARKS.md, branch proxy10). Forwarding needs
/// little CPU (60–100 ms per 1,000 requests); the recording work is on other
/// threads.
///
/// `poll` is the longest [`poll`] window: after traffic the thread polls for
/// I/O up to that long before it parks (zero: it parks at once). The calling
/// thread must be the one that drives the runtime (`block_on`).
pub fn forwarding_runtime(poll: Duration) -> std::io::Result<tokio::runtime::Runtime> {
    let window = poll::PollWindow::new(poll);
    let mut b = tokio::runtime::Builder::new_current_thread();
    b.thread_name("skilltrace-proxy-io").enable_all();
    if !poll.is_zero() {
        let (parking, unparked) = (window.clone(), window.clone());
        b.on_thread_park(move || parking.parking())
            .on_thread_unpark(move || unparked.unparked());
    }
    let rt = b.build()?;
    if !poll.is_zero() {
        poll::install(&window);
        rt.spawn(poll::run(window));
    }
    Ok(rt)
}

/// A proxy running on its own runtime thread.
#[derive(Debug)]
pub struct ProxyHandle {
    addr: SocketAddr,
    stats: Arc<ProxyStats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ProxyError>>>,
}

/// Starts the proxy on a dedicated thread with its own tokio runtime (the
/// [`forwarding_runtime`], run on that thread); returns
/// once it listens (or failed to). For callers without a runtime (the TUI).
pub fn spawn(cfg: ProxyConfig, sink: IngestSender) -> Result<ProxyHandle, ProxyError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("skilltrace-proxy".into())
        .spawn(move || -> Result<(), ProxyError> {
            let rt = forwarding_runtime(cfg.poll).map_err(ProxyError::Runtime)?;
            rt.block_on(async move {
                let bound = match bind(cfg).await {
                    Ok(b) => b,
                    Err(e) => {
                        let msg = e.to_string();
                        let _ = ready_tx.send(Err(e));
                        return Err(ProxyError::BadListen(msg));
                    }
                };
                let _ = ready_tx.send(Ok((bound.local_addr(), bound.stats())));
                bound
                    .serve(sink, async {
                        let _ = stop_rx.await;
                    })
                    .await
            })
        })
        .map_err(ProxyError::Runtime)?;
    match ready_rx.recv() {
        Ok(Ok((addr, stats))) => Ok(ProxyHandle {
            addr,
            stats,
            stop: Some(stop_tx),
            thread: Some(thread),
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => match thread.join() {
            Ok(Err(e)) => Err(e),
            _ => Err(ProxyError::Runtime(std::io::Error::other(
                "proxy thread ended before listening",
            ))),
        },
    }
}

impl ProxyHandle {
    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Live counters.
    pub fn stats(&self) -> Arc<ProxyStats> {
        self.stats.clone()
    }

    /// Stops accepting, drains open exchanges, flushes the recorder, joins the thread.
    pub fn shutdown(mut self) -> Result<(), ProxyError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), ProxyError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(ProxyError::Runtime(std::io::Error::other(
                "proxy thread panicked",
            ))),
            None => Ok(()),
        }
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}
