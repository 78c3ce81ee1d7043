//! The command hook: one event on stdin, one answer on stdout, in the agent's
//! own format; a new process per event.
//!
//! The decision runs on a worker thread against a budget. Answered in time:
//! the judge's verdict. Malformed event, internal error, or slower than the
//! budget: the agent's neutral answer (allow), or deny when failing closed,
//! and the failure is recorded. After the answer the worker saves the
//! session's state and appends the record to the spool, which a background
//! drainer writes into the store: the agent never waits for the store.

use super::agents::{Agent, Answer, Malformed, Verdict};
use super::event::{EventKind, GuardEvent};
use super::judge::{Judge, Judgement};
use super::policy::{Action, Policy};
use super::record::{self, Record};
use super::session::{self, Session, SessionFile};
use crate::config::Config;
use crate::model::GuardDecision;
use crate::redact::Redactor;
use serde_json::Map;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The most the hook reads from stdin (a tool result can be large).
pub const MAX_EVENT: u64 = 64 * 1024 * 1024;
/// How long the process waits after answering for the record to be written.
const RECORD_WAIT: Duration = Duration::from_secs(5);

/// `SKILLTRACE_GUARD_TIMING` set (not `0`): the hook (and the warm judge
/// judging for it) prints the milliseconds since the hook process started at
/// each phase: on stderr (the agent ignores it on success), or appended to
/// the file when the value is an absolute path (the warm judge's stderr goes
/// nowhere). For profiling only.
pub fn mark(phase: &str) {
    static SINK: std::sync::OnceLock<Option<std::ffi::OsString>> = std::sync::OnceLock::new();
    let Some(sink) = SINK.get_or_init(|| {
        std::env::var_os(super::server::TIMING_ENV).filter(|v| !v.is_empty() && v != "0")
    }) else {
        return;
    };
    let Some(t0) = T0.with(std::cell::Cell::get) else {
        return;
    };
    let line = format!(
        "guard hook timing: {} {phase} {:.3} ms\n",
        std::process::id(),
        t0.elapsed().as_secs_f64() * 1000.0
    );
    if Path::new(sink).is_absolute() {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(sink)
        {
            let _ = f.write_all(line.as_bytes());
        }
    } else {
        eprint!("{line}");
    }
}

thread_local! {
    /// When the hook process this thread works for started ([`mark`]).
    static T0: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// When this process started, as early as `main` could tell (set there):
/// the command hook's budget and timings count from it.
pub static PROCESS_START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Counts this thread's [`mark`]s from `started` (the hook process's start).
pub fn mark_from(started: Instant) {
    T0.with(|t| t.set(Some(started)));
}

/// How to run the hook.
#[derive(Debug, Clone)]
pub struct HookOptions {
    pub agent: Agent,
    pub db: PathBuf,
    /// `--fail-closed`: deny when the guard fails (also `[guard] fail_closed`).
    pub fail_closed: bool,
    /// Judge only: record nothing, save no state (`guard status` probes).
    pub dry_run: bool,
    /// Inside the warm judge: a drainer thread of this process to wake
    /// instead of starting a drainer process.
    pub drainer: Option<mpsc::Sender<()>>,
    /// Why the warm judge was not used, when it was not (noted on the span).
    pub local_because: Option<String>,
    /// Why the user's config was not used (see [`super::policy::guard_config`]),
    /// noted on the span.
    pub config_note: Option<String>,
    /// After judging here: start a warm judge for the next event (unless
    /// `[guard] warm_idle_secs` is 0).
    pub start_judge: bool,
}

impl HookOptions {
    /// Options for `agent` and the store `db`, nothing else set.
    pub fn new(agent: Agent, db: PathBuf) -> HookOptions {
        HookOptions {
            agent,
            db,
            fail_closed: false,
            dry_run: false,
            drainer: None,
            local_because: None,
            config_note: None,
            start_judge: false,
        }
    }
}

/// Why the worker could not judge.
#[derive(Debug)]
enum Failure {
    Malformed(Malformed),
    Internal(String),
}

/// What the worker sends back before recording.
struct Judged {
    verdict: Verdict,
    event: String,
}

/// What the main thread answered, for the worker to record.
#[derive(Debug, Clone)]
struct Answered {
    decision: GuardDecision,
    /// Set when the answer was not the judge's (over budget, failure).
    error: Option<String>,
}

/// Runs the hook on `input`; returns the answer to print and its exit code.
/// Never fails: every failure becomes the neutral (or, failing closed, the
/// denying) answer, and is recorded.
pub fn run(opts: &HookOptions, input: Vec<u8>) -> Answer {
    run_with(opts, input, None, Instant::now(), |_| {})
}

/// What the hook judges with: the config to build a judge from (in this
/// process), or the warm judge's compiled one to fork.
pub(super) enum Base {
    Config(Box<Config>),
    Warm(Arc<Judge>),
}

/// [`run`], judging with `warm`'s compiled judge when given (the warm judge
/// process), the budget counted from `started` (the hook's own start).
/// `reply` gets the answer as soon as it is final, before the session is
/// saved and the record spooled (the warm judge sends it to the hook then);
/// the session stays locked until it is saved, so the session's next event
/// still sees this one.
pub fn run_with(
    opts: &HookOptions,
    input: Vec<u8>,
    warm: Option<Arc<Judge>>,
    started: Instant,
    reply: impl FnOnce(&Answer),
) -> Answer {
    mark_from(started);
    mark("start");
    let now = crate::store::now_ms();
    let mut opts = opts.clone();
    let loaded = match warm {
        Some(j) => Ok((Base::Warm(j.clone()), j.policy().clone())),
        None => super::policy::guard_config()
            .map_err(|e| format!("{e:#}"))
            .and_then(|(c, note)| {
                if let Some(n) = note {
                    crate::notice::warn("guard-config", &n);
                    opts.config_note = Some(n);
                }
                Policy::from_config(&c)
                    .map(|p| (Base::Config(Box::new(c)), p))
                    .map_err(|e| format!("{e:#}"))
            }),
    };
    let opts = &opts;
    let (config, policy) = match loaded {
        Ok(cp) => cp,
        Err(e) => {
            // The config is broken: no policy to go by but the flag.
            let why = format!("internal error: {e}");
            let event = opts.agent.parse(&input).ok().map(|e| e.name);
            let a = fail_answer(opts.agent, event.as_deref(), opts.fail_closed, &why);
            reply(&a);
            if !opts.dry_run {
                record_failure(opts, now, &why, decision_of_fail(opts.fail_closed));
            }
            return a;
        }
    };
    mark("config");
    let fail_closed = opts.fail_closed || policy.fail_closed;
    let budget = Duration::from_millis(policy.budget_ms);
    let deadline = started + budget;
    let (tx, rx) = mpsc::channel::<Result<Judged, Failure>>();
    let (answered_tx, answered_rx) = mpsc::channel::<Answered>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let worker_opts = opts.clone();
    let spawned = std::thread::Builder::new()
        .name("skilltrace-guard".into())
        .spawn(move || {
            mark_from(started);
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                work(
                    &worker_opts,
                    config,
                    policy,
                    &input,
                    (now, deadline),
                    &tx,
                    &answered_rx,
                )
            }));
            if out.is_err() {
                let _ = tx.send(Err(Failure::Internal("the guard crashed".into())));
            }
            let _ = done_tx.send(());
        });
    if spawned.is_err() {
        let a = fail_answer(opts.agent, None, fail_closed, "cannot start a thread");
        reply(&a);
        return a;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    let (answer, answered) = match rx.recv_timeout(left) {
        Ok(Ok(j)) => (
            opts.agent.answer(Some(&j.event), &j.verdict),
            Answered {
                decision: decision_of(j.verdict.action),
                error: None,
            },
        ),
        Ok(Err(f)) => {
            let (event, why) = match f {
                Failure::Malformed(m) => (m.event, format!("malformed event: {}", m.why)),
                Failure::Internal(e) => (None, format!("internal error: {e}")),
            };
            (
                fail_answer(opts.agent, event.as_deref(), fail_closed, &why),
                Answered {
                    decision: decision_of_fail(fail_closed),
                    error: Some(why),
                },
            )
        }
        Err(_) => {
            let why = format!("no decision within the {} ms budget", budget.as_millis());
            (
                fail_answer(opts.agent, None, fail_closed, &why),
                Answered {
                    decision: decision_of_fail(fail_closed),
                    error: Some(why),
                },
            )
        }
    };
    mark("answered");
    reply(&answer);
    mark("replied");
    let _ = answered_tx.send(answered);
    // The answer is final; the worker records it. Wait for that (bounded):
    // exiting would cut the write short.
    let _ = done_rx.recv_timeout(RECORD_WAIT);
    mark("recorded");
    answer
}

/// The answer `guard serve` gave to a forwarded event, printed as it is.
pub fn forwarded(body: Vec<u8>) -> Answer {
    Answer {
        stdout: String::from_utf8_lossy(&body).into_owned(),
        ..Answer::default()
    }
}

fn decision_of(a: Action) -> GuardDecision {
    match a {
        Action::Deny => GuardDecision::Denied,
        Action::Ask => GuardDecision::Asked,
        Action::Allow => GuardDecision::Allowed,
    }
}

fn decision_of_fail(fail_closed: bool) -> GuardDecision {
    if fail_closed {
        GuardDecision::Denied
    } else {
        GuardDecision::Allowed
    }
}

/// The answer when the guard failed: neutral with one `warning:` line on
/// stderr, or deny when failing closed.
fn fail_answer(agent: Agent, event: Option<&str>, fail_closed: bool, why: &str) -> Answer {
    if fail_closed {
        let v = Verdict {
            action: Action::Deny,
            reason: crate::sanitize::line(&format!(
                "skilltrace guard failed closed ({why}): the call is refused until the guard works"
            ))
            .into_owned(),
        };
        agent.answer(event, &v)
    } else {
        // One line saying so, where the agent logs a hook's stderr.
        let mut a = agent.answer(event, &Verdict::allow());
        a.stderr = crate::sanitize::line(&format!(
            "warning: skilltrace guard: {why}; the call goes ahead (fail-open)"
        ))
        .into_owned();
        a
    }
}

/// Records a failure to judge as a parse error of `guard://<agent>`.
fn record_failure(opts: &HookOptions, now: i64, why: &str, answered: GuardDecision) {
    let mut red = Redactor::default();
    let msg = format!(
        "guard: {why}; answered {answered} ({})",
        if answered == GuardDecision::Denied {
            "fail-closed"
        } else {
            "fail-open"
        }
    );
    let r = record::failure(&mut red, opts.agent.name(), now.max(0) as u64, &msg);
    let _ = later(opts, &r);
}

/// Spools `r` for the store: woken drainer thread (in the warm judge) or a
/// drainer process.
fn later(opts: &HookOptions, r: &Record) -> anyhow::Result<()> {
    match &opts.drainer {
        Some(wake) => {
            record::spool(&opts.db, r)?;
            let _ = wake.send(());
            Ok(())
        }
        None => record::record_later(&opts.db, r, &exe()),
    }
}

/// The worker: judge, hand the verdict over, learn what was answered, save
/// the session, record.
fn work(
    opts: &HookOptions,
    config: Base,
    policy: Policy,
    input: &[u8],
    (now, deadline): (i64, Instant),
    tx: &mpsc::Sender<Result<Judged, Failure>>,
    answered: &mpsc::Receiver<Answered>,
) {
    let warm_idle = policy.warm_idle_secs;
    let prepared = match opts.agent.parse(input) {
        Err(m) => Err(Failure::Malformed(m)),
        Ok(ev) => prepare(&config, policy, &opts.db, ev, (now, deadline), opts.dry_run)
            .map_err(|e| Failure::Internal(format!("{e:#}"))),
    };
    let (mut judge, mut j, file, mut sess, ev) = match prepared {
        Ok(p) => p,
        Err(f) => {
            let why = match &f {
                Failure::Malformed(m) => format!(
                    "malformed {} event{}: {}",
                    opts.agent.name(),
                    m.event
                        .as_deref()
                        .map(|e| format!(" {e}"))
                        .unwrap_or_default(),
                    m.why
                ),
                Failure::Internal(e) => format!("internal error: {e}"),
            };
            let _ = tx.send(Err(f));
            let got = answered.recv().ok();
            if !opts.dry_run {
                let d = got.map(|a| a.decision).unwrap_or(GuardDecision::Allowed);
                record_failure(opts, now, &why, d);
            }
            return;
        }
    };
    let _ = tx.send(Ok(Judged {
        verdict: j.verdict.clone(),
        event: j.event.clone(),
    }));
    let got = answered.recv().unwrap_or(Answered {
        decision: j.decision,
        error: None,
    });
    if opts.dry_run {
        return;
    }
    let mut attrs = Map::new();
    attrs.insert(
        "guard.latency_ms".into(),
        (crate::store::now_ms() - now).into(),
    );
    if let Some(e) = &got.error {
        attrs.insert("guard.decision".into(), got.decision.as_str().into());
        attrs.insert(
            "guard.error".into(),
            format!(
                "{e}: answered {} ({}); the judge said {}",
                got.decision,
                if got.decision == GuardDecision::Denied {
                    "fail-closed"
                } else {
                    "fail-open"
                },
                j.decision
            )
            .into(),
        );
        j.decision = got.decision;
    }
    if let Some(why) = &opts.local_because {
        attrs.insert("guard.judged_in".into(), format!("hook: {why}").into());
    }
    if let Some(note) = &opts.config_note {
        attrs.insert("guard.config".into(), note.clone().into());
    }
    judge.annotate(&mut j, attrs);
    judge.save_state(&ev, &mut sess);
    mark("annotated");
    if let Some(f) = &file {
        if ev.kind == EventKind::SessionEnd {
            f.remove();
        } else {
            let _ = f.save(&sess);
        }
    }
    mark("session saved");
    // Spooled while the session is still locked: a session's records reach
    // the spool in the order its events were judged.
    let r = Record::from(j);
    let _ = later(opts, &r);
    drop(file);
    mark("spooled");
    if opts.start_judge && warm_idle > 0 {
        super::warm::start(&opts.db);
        mark("warm judge started");
    }
}

/// This binary, for the drainer it starts.
fn exe() -> PathBuf {
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("skilltrace"))
}

type Prepared = (Judge, Judgement, Option<SessionFile>, Session, GuardEvent);

/// Builds the judge the hook (or the warm judge, once) judges with.
pub fn build_judge(config: &Config, policy: Policy, db: &Path) -> anyhow::Result<Judge> {
    let (redactor, mut detector) = crate::ingest::scan::build(config, db, None)?;
    mark("redactor and detector built");
    detector.tamper_mut().add_globs(&policy.protect_paths)?;
    // The warm judge's socket folder is skilltrace's own too.
    if let Some(dir) = super::warm::folder() {
        detector
            .tamper_mut()
            .protect(&[format!("{}/", dir.display())]);
    }
    let key = crate::detect::tokens::load_or_create_key(db)?;
    let budget = super::budget::Budget::from_config(config, db)?;
    mark("key and budget");
    Ok(Judge::new(redactor, detector, policy, key).with_budget(budget))
}

/// Loads the session, builds (or forks) the judge and judges.
fn prepare(
    base: &Base,
    policy: Policy,
    db: &Path,
    ev: GuardEvent,
    (now, deadline): (i64, Instant),
    dry_run: bool,
) -> anyhow::Result<Prepared> {
    mark("parsed");
    let mut judge = match base {
        Base::Config(config) => build_judge(config, policy, db)?,
        Base::Warm(j) => j.fork(),
    };
    let key = *judge.key();
    let dir = session::state_dir(db);
    let (file, mut sess) = if dry_run {
        (None, Session::default())
    } else {
        if ev.kind == EventKind::SessionStart {
            session::sweep(&dir);
        }
        let (f, s) = SessionFile::open(&dir, &key, ev.agent.name(), &ev.session, deadline)?;
        (Some(f), s)
    };
    mark("session loaded");
    judge.load_state(&ev, &mut sess);
    let j = judge.judge(&ev, &mut sess, now);
    mark("judged");
    Ok((judge, j, file, sess, ev))
}
