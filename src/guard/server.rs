//! `skilltrace guard serve`: the HTTP hook endpoint. One long-lived process on
//! loopback (unless `--allow-remote` with `--token`, as the proxy) that keeps
//! every session's state in memory, so a decision costs no process start and
//! no store open.
//!
//! `POST /guard/<agent>` takes the agent's hook event as the body and answers
//! in that agent's format (Claude Code's HTTP hooks post here directly; the
//! other agents' command hooks forward with `skilltrace guard --http URL`).
//! `GET /health` says the server is up. The compiled judge (rules, regexes,
//! registries, policy) is built and warmed once and shared by every worker;
//! each session has its own run state (a [`Judge::fork`]) behind its own lock,
//! so events of one session are judged in order while any worker judges any
//! other session: two sessions never wait on each other. A decision is judged
//! on the runtime thread that read it while one is free (all but one of them
//! may judge, so one always answers and times out), else on a pool of up to
//! eight workers per core. Records go to a niced writer thread through a
//! bounded queue (a full queue drops and counts, never stalls an answer); the
//! writer holds them while decisions keep arriving and commits them in the
//! first gap, within bounds ([`super::defer`]).

use super::agents::{Agent, Answer, Verdict};
use super::defer::{Activity, Defer, Go};
use super::judge::Judge;
use super::policy::{Action, Policy};
use super::record::{self, Record};
use crate::model::GuardDecision;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Map};
use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8788";
/// Path prefix of the hook endpoints: `/guard/<agent>`.
pub const HOOK_PREFIX: &str = "/guard/";
/// How long a request's body may take to arrive.
const BODY_DEADLINE: Duration = Duration::from_secs(30);
const RECORD_QUEUE: usize = 4096;
/// Threads of the runtime that serves HTTP and judges most decisions.
pub const IO_THREADS: usize = 2;
/// Set (not `0`): every decision prints its phase timings to stderr.
pub const TIMING_ENV: &str = "SKILLTRACE_GUARD_TIMING";

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: String,
    pub allow_remote: bool,
    pub token: Option<String>,
    pub db: PathBuf,
    pub fail_closed: bool,
    /// Decisions judged at once (workers); 0 picks eight per core (at least 16).
    pub workers: usize,
    /// Threads of the runtime that serves HTTP (see [`IO_THREADS`]); all but
    /// one also judge, the rest of the decisions go to the workers.
    pub io_threads: usize,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("guard serve: {0}; pass --allow-remote (with --token) to listen on it")]
    NotLoopback(String),
    #[error(
        "guard serve: --allow-remote requires --token (clients send it as x-skilltrace-token)"
    )]
    TokenRequired,
    #[error("guard serve: {0}")]
    Listen(String),
}

/// Live counters.
#[derive(Debug, Default)]
pub struct GuardStats {
    pub requests: AtomicU64,
    pub decisions: AtomicU64,
    pub denied: AtomicU64,
    pub asked: AtomicU64,
    /// Malformed events, internal errors and decisions over budget.
    pub failures: AtomicU64,
    /// Records dropped because the writer's queue was full.
    pub dropped: AtomicU64,
    pub unauthorized: AtomicU64,
}

struct Shared {
    /// The compiled, warmed judge every session's judge is forked from.
    base: Judge,
    sessions: Mutex<Sessions>,
    /// One permit per worker: decisions judged at once on blocking threads.
    workers: Arc<tokio::sync::Semaphore>,
    /// Decisions judged on the runtime's own threads at once: one fewer than
    /// it has, so one is always free to answer (and to time out) the others.
    inline: Arc<tokio::sync::Semaphore>,
    /// `SKILLTRACE_GUARD_TIMING` set: one line of phase timings per decision on stderr.
    timing: bool,
    token: Option<String>,
    fail_closed: bool,
    budget: Duration,
    recorder: std::sync::mpsc::SyncSender<Record>,
    /// Decisions in flight, for the writer to wait for a gap.
    activity: Arc<Activity>,
    stats: Arc<GuardStats>,
    /// Request bodies held at once, across all connections.
    inflight: Arc<crate::limits::budget::Budget>,
}

/// A server whose socket is bound.
pub struct BoundGuard {
    listener: tokio::net::TcpListener,
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    writer: std::thread::JoinHandle<()>,
}

/// Loads the config, builds the judges, starts the writer and binds.
pub async fn bind(opts: &ServeOptions) -> anyhow::Result<BoundGuard> {
    if opts.allow_remote && opts.token.as_deref().is_none_or(str::is_empty) {
        return Err(ServeError::TokenRequired.into());
    }
    let (listener, addr) = crate::serve::bind(&opts.listen, opts.allow_remote)
        .await
        .map_err(|e| match e {
            crate::serve::ListenError::NotLoopback(a) => {
                ServeError::NotLoopback(format!("{a} is not a loopback address"))
            }
            e => ServeError::Listen(format!("{e}")),
        })?;
    let (config, note) = super::policy::guard_config()?;
    if let Some(n) = note {
        crate::notice::warn("guard-config", n);
    }
    let policy = Policy::from_config(&config)?;
    let inflight = crate::limits::Limits::from_config(&config)?.inflight_bytes;
    // Eight workers per core (at least 16). One per core was measured worse
    // (busy 2-core machine, 32 sessions: added p50 6.6 ms against 2.7 ms with
    // two judges): a worker holds its permit from the blocking thread's start
    // to the record queued, and a preempted holder stalls half the pool.
    let n = if opts.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get() * 8)
            .unwrap_or(16)
            .clamp(16, 512)
    } else {
        opts.workers
    };
    let key = crate::detect::tokens::load_or_create_key(&opts.db)?;
    let budget = super::budget::Budget::from_config(&config, &opts.db)?;
    let (redactor, mut detector) = crate::ingest::scan::build(&config, &opts.db, None)?;
    detector.tamper_mut().add_globs(&policy.protect_paths)?;
    let base = Judge::new(redactor, detector, policy.clone(), key).with_budget(budget);
    // Everything compiled or built on first use, before the first request.
    base.warm();
    // Open the store once now: a store that cannot be opened fails here, not
    // silently in the writer.
    drop(record::open_store(&opts.db)?);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Record>(RECORD_QUEUE);
    let db = opts.db.clone();
    let activity = Arc::new(Activity::default());
    let seen = activity.clone();
    let writer = std::thread::Builder::new()
        .name("guard-writer".into())
        .spawn(move || write_loop(&db, rx, &seen, Defer::default()))?;
    Ok(BoundGuard {
        listener,
        addr,
        shared: Arc::new(Shared {
            base,
            sessions: Mutex::new(Sessions::default()),
            workers: Arc::new(tokio::sync::Semaphore::new(n)),
            inline: Arc::new(tokio::sync::Semaphore::new(
                opts.io_threads.saturating_sub(1),
            )),
            timing: std::env::var_os(TIMING_ENV).is_some_and(|v| !v.is_empty() && v != "0"),
            token: opts.token.clone().filter(|t| !t.is_empty()),
            fail_closed: opts.fail_closed || policy.fail_closed,
            budget: Duration::from_millis(policy.budget_ms),
            recorder: tx,
            activity,
            stats: Arc::new(GuardStats::default()),
            inflight: crate::limits::budget::Budget::new(inflight),
        }),
        writer,
    })
}

impl BoundGuard {
    /// The address bound (port 0 resolved).
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Counters, live while the server runs.
    pub fn stats(&self) -> Arc<GuardStats> {
        self.shared.stats.clone()
    }

    /// Answers until `shutdown` resolves; then lets open requests finish and
    /// the writer commit what it was handed.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let shared = self.shared;
        let handler_shared = shared.clone();
        crate::serve::http1(
            self.listener,
            move |req| handle(handler_shared.clone(), req),
            Duration::from_secs(10),
            Duration::from_secs(5),
            shutdown,
        )
        .await;
        drop(shared);
        let _ = tokio::task::spawn_blocking(move || self.writer.join()).await;
    }
}

/// The writer thread: one store connection, at a lower CPU priority than the
/// threads that answer, every record written in order. Once a record arrives
/// it holds it, and what follows, while decisions are arriving ([`Defer`]:
/// until a gap, a batch of 4,096 or 2 s), then commits them together (under
/// load a commit per record cost the judges a core; a commit every 20 ms still
/// took ~15% of the server's CPU in the middle of a burst). Records the store
/// refused go to the spool; the next write that succeeds drains it.
fn write_loop(
    db: &std::path::Path,
    rx: std::sync::mpsc::Receiver<Record>,
    activity: &Activity,
    defer: Defer,
) {
    crate::priority::background();
    let mut redactor = crate::redact::Redactor::default();
    let mut store = record::open_store(db).ok();
    if let Some(s) = store.as_mut() {
        record::drain(db, s, &mut redactor);
    }
    let mut spooled = false;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let go = defer.hold(activity, Instant::now(), &mut batch, |b| loop {
            match rx.try_recv() {
                Ok(r) => b.push(r),
                Err(std::sync::mpsc::TryRecvError::Empty) => return Some(()),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return None,
            }
        });
        let closed = go == Go::Closed;
        if store.is_none() {
            store = record::open_store(db).ok();
        }
        let mut failed = Vec::new();
        let mut rest = batch.into_iter().peekable();
        while rest.peek().is_some() {
            let chunk: Vec<Record> = rest.by_ref().take(record::WRITE_CHUNK).collect();
            failed.extend(match store.as_mut() {
                Some(s) => record::write_all(s, chunk),
                None => chunk,
            });
        }
        for r in &failed {
            spooled |= record::spool(db, r).is_ok();
        }
        if spooled && failed.is_empty() {
            if let Some(s) = store.as_mut() {
                record::drain(db, s, &mut redactor);
                spooled = record::spool_path(db).exists();
            }
        }
        if closed {
            break;
        }
    }
}

type Body = Full<Bytes>;

fn reply(status: StatusCode, body: String) -> Response<Body> {
    crate::serve::reply(status, "application/json", body)
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    shared.stats.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(t) = &shared.token {
        if !crate::serve::token_ok(req.headers(), super::client::TOKEN_HEADER, t) {
            shared.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
            let msg = json!({"error": "missing or wrong x-skilltrace-token header"});
            return Ok(reply(StatusCode::UNAUTHORIZED, msg.to_string()));
        }
    }
    let path = req.uri().path().to_string();
    if req.method() == Method::GET && path == "/health" {
        let s = &shared.stats;
        let body = json!({
            "service": "skilltrace-guard",
            "version": env!("CARGO_PKG_VERSION"),
            "requests": s.requests.load(Ordering::Relaxed),
            "decisions": s.decisions.load(Ordering::Relaxed),
            "denied": s.denied.load(Ordering::Relaxed),
            "asked": s.asked.load(Ordering::Relaxed),
            "failures": s.failures.load(Ordering::Relaxed),
            "dropped": s.dropped.load(Ordering::Relaxed),
        });
        return Ok(reply(StatusCode::OK, body.to_string()));
    }
    let Some(agent) = path.strip_prefix(HOOK_PREFIX).and_then(Agent::from_name) else {
        let msg = json!({"error": "unknown path: POST /guard/<claude-code|cursor|gemini|codex>, GET /health"});
        return Ok(reply(StatusCode::NOT_FOUND, msg.to_string()));
    };
    if req.method() != Method::POST {
        let msg = json!({"error": "use POST"});
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, msg.to_string()));
    }
    let (body, held) = match intake::read(req.into_body(), &shared.inflight, BODY_DEADLINE).await {
        intake::Intake::Body(b, held) => (b, Some(held)),
        intake::Intake::Unread => (Bytes::new(), None),
        intake::Intake::Busy => {
            shared.stats.failures.fetch_add(1, Ordering::Relaxed);
            let why = format!(
                "guard busy: bodies in flight past [limits] inflight_bytes ({})",
                crate::limits::mib(shared.inflight.cap())
            );
            crate::notice::warn("guard-busy", format!("{why}; answered without judging"));
            let a = fail_answer(agent, shared.fail_closed, &why);
            return Ok(reply(StatusCode::OK, http_body(a)));
        }
    };
    let answer = decide(&shared, agent, body).await;
    drop(held);
    Ok(reply(StatusCode::OK, http_body(answer)))
}

/// An answer as an HTTP hook response body: what a command hook prints, or,
/// where a command hook would exit 2, a JSON block.
fn http_body(a: Answer) -> String {
    if a.exit == 2 {
        json!({"decision": "block", "reason": a.stderr}).to_string()
    } else {
        a.stdout
    }
}

/// What the handler answered, once: in time (the judge's verdict), or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    InTime,
    Late,
}

async fn decide(shared: &Arc<Shared>, agent: Agent, body: Bytes) -> Answer {
    let _busy = shared.activity.start();
    let outcome: Arc<Mutex<Option<Outcome>>> = Arc::new(Mutex::new(None));
    let started = Instant::now();
    let mut task = {
        let shared = shared.clone();
        let outcome = outcome.clone();
        match shared.inline.clone().try_acquire_owned() {
            // Judged on this runtime thread, right after this handler yields:
            // no hand-over to another thread and back. At least one runtime
            // thread is never judging, so the budget's timeout below still
            // answers a decision that runs late.
            Ok(permit) => tokio::spawn(async move {
                let a = judge_one(&shared, agent, &body, &outcome, started, started);
                drop(permit);
                Ok(a)
            }),
            Err(_) => tokio::spawn(async move {
                // Closed never: a failed acquire judges without a permit.
                let permit = shared.workers.clone().acquire_owned().await.ok();
                let queued = Instant::now();
                let a = tokio::task::spawn_blocking(move || {
                    judge_one(&shared, agent, &body, &outcome, started, queued)
                })
                .await;
                drop(permit);
                a
            }),
        }
    };
    let fail = |why: &str| {
        shared.stats.failures.fetch_add(1, Ordering::Relaxed);
        fail_answer(agent, shared.fail_closed, why)
    };
    match tokio::time::timeout(shared.budget, &mut task).await {
        Ok(Ok(Ok(a))) => a,
        Ok(_) => fail("the guard crashed"),
        Err(_) => {
            let late = outcome
                .lock()
                .map(|mut o| *o.get_or_insert(Outcome::Late) == Outcome::Late)
                .unwrap_or(true);
            if late {
                fail(&format!(
                    "no decision within the {} ms budget",
                    shared.budget.as_millis()
                ))
            } else {
                // Decided in time, still finishing: its answer stands.
                match task.await {
                    Ok(Ok(a)) => a,
                    _ => fail("the guard crashed"),
                }
            }
        }
    }
}

fn fail_answer(agent: Agent, fail_closed: bool, why: &str) -> Answer {
    let v = if fail_closed {
        Verdict {
            action: Action::Deny,
            reason: format!(
                "skilltrace guard failed closed ({why}): the call is refused until the guard works"
            ),
        }
    } else {
        Verdict::allow()
    };
    agent.answer(None, &v)
}

fn decision_fail(fail_closed: bool) -> GuardDecision {
    if fail_closed {
        GuardDecision::Denied
    } else {
        GuardDecision::Allowed
    }
}

fn send(shared: &Shared, r: Record) {
    if shared.recorder.try_send(r).is_err() {
        shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// Judges one event on a blocking thread, records it, and returns the answer.
fn judge_one(
    shared: &Shared,
    agent: Agent,
    body: &[u8],
    outcome: &Mutex<Option<Outcome>>,
    started: Instant,
    queued: Instant,
) -> Answer {
    let t_thread = Instant::now();
    let now = crate::store::now_ms();
    let ev = match agent.parse(body) {
        Ok(ev) => ev,
        Err(m) => {
            shared.stats.failures.fetch_add(1, Ordering::Relaxed);
            let d = decision_fail(shared.fail_closed);
            let why = format!(
                "malformed {} event{}: {}",
                agent.name(),
                m.event
                    .as_deref()
                    .map(|e| format!(" {e}"))
                    .unwrap_or_default(),
                m.why
            );
            let mut red = crate::redact::Redactor::default();
            let msg = format!(
                "guard: {why}; answered {d} (fail-{})",
                if shared.fail_closed { "closed" } else { "open" }
            );
            send(
                shared,
                record::failure(&mut red, agent.name(), now.max(0) as u64, &msg),
            );
            let v = if shared.fail_closed {
                Verdict {
                    action: Action::Deny,
                    reason: format!("skilltrace guard failed closed ({why})"),
                }
            } else {
                Verdict::allow()
            };
            return agent.answer(m.event.as_deref(), &v);
        }
    };
    let key = format!("{}\u{0}{}", agent.name(), ev.session);
    let t_parsed = Instant::now();
    let Ok(live) = shared
        .sessions
        .lock()
        .map(|mut m| m.get(&key, &shared.base))
    else {
        return fail_answer(agent, shared.fail_closed, "a judge crashed earlier");
    };
    let Ok(mut guard) = live.lock() else {
        return fail_answer(agent, shared.fail_closed, "a judge crashed earlier");
    };
    let t_locked = Instant::now();
    let Live { judge, session } = &mut *guard;
    let mut j = judge.judge(&ev, session, now);
    let t_judged = Instant::now();
    if ev.kind == super::event::EventKind::SessionEnd {
        if let Ok(mut m) = shared.sessions.lock() {
            m.forget(&key);
        }
    }
    let late = outcome
        .lock()
        .map(|mut o| *o.get_or_insert(Outcome::InTime) == Outcome::Late)
        .unwrap_or(false);
    let mut attrs = Map::new();
    attrs.insert(
        "guard.latency_ms".into(),
        (started.elapsed().as_millis() as u64).into(),
    );
    if late {
        let d = decision_fail(shared.fail_closed);
        attrs.insert("guard.decision".into(), d.as_str().into());
        attrs.insert(
            "guard.error".into(),
            format!(
                "no decision within the {} ms budget: answered {d}; the judge said {}",
                shared.budget.as_millis(),
                j.decision
            )
            .into(),
        );
        j.decision = d;
    }
    judge.annotate(&mut j, attrs);
    // The session's state is updated: its next event need not wait for this
    // answer to be written or this record to be queued.
    drop(guard);
    let answer = agent.answer(Some(&j.event), &j.verdict);
    let s = &shared.stats;
    s.decisions.fetch_add(1, Ordering::Relaxed);
    match j.decision {
        GuardDecision::Denied => s.denied.fetch_add(1, Ordering::Relaxed),
        GuardDecision::Asked => s.asked.fetch_add(1, Ordering::Relaxed),
        GuardDecision::Allowed => 0,
    };
    let t_answered = Instant::now();
    send(shared, Record::from(j));
    if shared.timing {
        let ms = |a: Instant, b: Instant| b.saturating_duration_since(a).as_secs_f64() * 1000.0;
        let done = Instant::now();
        eprintln!(
            "guard timing: queue {:.3} thread-wait {:.3} parse {:.3} lock-wait {:.3} judge {:.3} answer {:.3} record {:.3} total {:.3} ms",
            ms(started, queued),
            ms(queued, t_thread),
            ms(t_thread, t_parsed),
            ms(t_parsed, t_locked),
            ms(t_locked, t_judged),
            ms(t_judged, t_answered),
            ms(t_answered, done),
            ms(started, done),
        );
    }
    answer
}

mod intake;
mod sessions;
use sessions::{Live, Sessions};

#[cfg(test)]
mod tests;
