//! The warm judge: a background process that keeps one compiled judge and
//! answers the command hooks of one user, store and config over a private
//! Unix socket (see `warm` for the hook's side), so a hook costs a process
//! start and a round trip instead of building the detector each time.
//!
//! Each request is judged exactly as in the hook's own process
//! ([`super::hook::run_with`] with the compiled judge forked): the same
//! session files under the same lock, the same records through the same
//! spool (written by a niced drainer thread of this process), the budget
//! counted from the hook's start. The answer goes back as soon as it is
//! final; the session's save and the record follow while the session stays
//! locked, so the session's next event waits for them, not the agent. It accepts only peers of its own uid, exits after
//! `[guard] warm_idle_secs` without a request, when its executable is
//! replaced, when the store's folder is gone, or when a hook shows another
//! build or config (answering "mismatch").

#[cfg(target_os = "linux")]
pub use imp::serve;

/// Without peer credentials the hook never uses a judge: none is started.
#[cfg(not(target_os = "linux"))]
pub fn serve(_db: &std::path::Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(target_os = "linux")]
mod imp {
    use super::super::agents::Agent;
    use super::super::hook::{self, HookOptions};
    use super::super::judge::Judge;
    use super::super::policy::Policy;
    use super::super::record;
    use super::super::warm::{self, Reply, Request};
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::{Duration, Instant};

    /// How long a new judge waits for an old one (same store and config) to
    /// let its lock go.
    const LOCK_WAIT: Duration = Duration::from_secs(3);
    /// How often the judge looks at its idle time, binary and store folder.
    const WATCH: Duration = Duration::from_millis(500);
    /// How long a request may take to arrive whole.
    const READ_WAIT: Duration = Duration::from_secs(2);

    struct State {
        judge: Arc<Judge>,
        db: PathBuf,
        build: String,
        config: String,
        idle: Duration,
        started: Instant,
        /// Milliseconds since `started` of the last request.
        last: AtomicU64,
        busy: AtomicUsize,
        judged: AtomicU64,
        /// A hook showed another build or config: exit when idle.
        stop: AtomicBool,
        drainer: mpsc::Sender<()>,
        draining: Arc<AtomicBool>,
    }

    /// Runs the judge for the store `db` until it has a reason to exit.
    pub fn serve(db: &Path) -> anyhow::Result<()> {
        let (config, _) = crate::guard::policy::guard_config()?;
        let policy = Policy::from_config(&config)?;
        if policy.warm_idle_secs == 0 {
            return Ok(());
        }
        let Some(dir) = warm::folder() else {
            return Ok(());
        };
        make_private_dir(&dir)?;
        let lock_path = warm::socket_path(&dir, db, "lock");
        let Some(_lock) = take_lock(&lock_path)? else {
            // Another judge serves this store and config.
            return Ok(());
        };
        let build = warm::build_id();
        let fingerprint = warm::config_fingerprint(db);
        let idle = Duration::from_secs(policy.warm_idle_secs);
        // Compiled below the hooks' priority: the hooks judging in their own
        // processes meanwhile (the first events of a session) keep the cores.
        let build_db = db.to_path_buf();
        let judge = std::thread::Builder::new()
            .name("skilltrace-judge-build".into())
            .spawn(move || {
                crate::priority::background();
                let j = hook::build_judge(&config, policy, &build_db)?;
                j.warm();
                anyhow::Ok(j)
            })?
            .join()
            .map_err(|_| anyhow::anyhow!("guard: the warm judge's build crashed"))??;
        let sock = warm::socket_path(&dir, db, "sock");
        // We hold the lock: whatever sits at the socket's path is stale, or
        // planted; hooks refuse what this binary does not serve anyway.
        let _ = std::fs::remove_file(&sock);
        let listener = UnixListener::bind(&sock)?;
        crate::paths::set_mode(&sock, 0o600)?;
        let ino = std::fs::symlink_metadata(&sock)?.ino();
        let (tx, rx) = mpsc::channel::<()>();
        let draining = Arc::new(AtomicBool::new(false));
        let state = Arc::new(State {
            judge: Arc::new(judge),
            db: db.to_path_buf(),
            build,
            config: fingerprint,
            idle,
            started: Instant::now(),
            last: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            judged: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            drainer: tx,
            draining: draining.clone(),
        });
        let drain_db = db.to_path_buf();
        std::thread::Builder::new()
            .name("skilltrace-judge-drain".into())
            .spawn(move || drain_loop(&drain_db, &rx, &draining))?;
        let watched = state.clone();
        let exe = std::env::current_exe().ok();
        std::thread::Builder::new()
            .name("skilltrace-judge-watch".into())
            .spawn(move || watch(&watched, &sock, ino, exe.as_deref()))?;
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            if !same_user(&conn) {
                continue;
            }
            let st = state.clone();
            st.busy.fetch_add(1, Ordering::SeqCst);
            let spawned = std::thread::Builder::new()
                .name("skilltrace-judge".into())
                .spawn(move || {
                    handle(&st, conn);
                    st.busy.fetch_sub(1, Ordering::SeqCst);
                });
            if spawned.is_err() {
                state.busy.fetch_sub(1, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    /// Creates the socket folder `0700` (and checks an existing one is a
    /// private folder of this user).
    fn make_private_dir(dir: &Path) -> anyhow::Result<()> {
        crate::paths::ensure_private_dir(dir)?;
        let m = std::fs::symlink_metadata(dir)?;
        let me = rustix::process::getuid().as_raw();
        if !m.is_dir() || m.uid() != me || m.mode() & 0o777 != 0o700 {
            anyhow::bail!("{}: not a private folder of this user", dir.display());
        }
        Ok(())
    }

    /// Takes the judge's lock (`flock` on a `0600` file, held for life),
    /// waiting a moment for an old judge to exit; `None` when another keeps it.
    fn take_lock(path: &Path) -> anyhow::Result<Option<std::fs::File>> {
        let f = crate::paths::open_private_append(path)?;
        let until = Instant::now() + LOCK_WAIT;
        loop {
            match rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(Some(f)),
                Err(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => return Ok(None),
            }
        }
    }

    /// The peer runs as this process's user.
    fn same_user(s: &UnixStream) -> bool {
        rustix::net::sockopt::socket_peercred(s).is_ok_and(|c| c.uid == rustix::process::getuid())
    }

    /// Writes the spool into the store each time a request woke it (holding
    /// the store open a moment for the next, as a lingering drainer does).
    fn drain_loop(db: &Path, wake: &mpsc::Receiver<()>, draining: &AtomicBool) {
        // Below the threads that answer hooks: a commit never delays an answer.
        crate::priority::background();
        while wake.recv().is_ok() {
            while wake.try_recv().is_ok() {}
            draining.store(true, Ordering::SeqCst);
            let _ = record::drain_all(db, Duration::from_secs(30), record::LINGER);
            draining.store(false, Ordering::SeqCst);
        }
    }

    /// Exits when idle too long, told to stop, the executable replaced or
    /// the store's folder gone; never in the middle of a request or a drain.
    fn watch(st: &State, sock: &Path, ino: u64, exe: Option<&Path>) {
        let exe_id = exe.and_then(|p| std::fs::metadata(p).ok()).map(|m| m.ino());
        let folder = st.db.parent().map(Path::to_path_buf);
        loop {
            std::thread::sleep(WATCH);
            let now = st.started.elapsed().as_millis() as u64;
            let idle = now.saturating_sub(st.last.load(Ordering::SeqCst));
            let replaced =
                exe.is_some_and(|p| std::fs::metadata(p).ok().map(|m| m.ino()) != exe_id);
            let gone = folder
                .as_deref()
                .is_some_and(|f| !f.as_os_str().is_empty() && !f.exists());
            let done = st.stop.load(Ordering::SeqCst)
                || replaced
                || gone
                || idle > st.idle.as_millis() as u64;
            if !done {
                continue;
            }
            // No new request reaches us once the socket is gone.
            if std::fs::symlink_metadata(sock).is_ok_and(|m| m.ino() == ino) {
                let _ = std::fs::remove_file(sock);
            }
            if st.busy.load(Ordering::SeqCst) == 0 && !st.draining.load(Ordering::SeqCst) {
                // Woken drainer work left in the spool: the next hook's
                // drainer takes it.
                std::process::exit(0);
            }
        }
    }

    /// One connection: a ping, or a request judged and answered.
    fn handle(st: &State, mut s: UnixStream) {
        let _ = s.set_read_timeout(Some(READ_WAIT));
        let _ = s.set_write_timeout(Some(READ_WAIT));
        let Ok(head) = warm::read_frame(&mut s, 64 * 1024) else {
            return;
        };
        let Ok(req) = serde_json::from_slice::<Request>(&head) else {
            return;
        };
        let (build, config, agent, fail_closed, dry_run, elapsed_us) = match req {
            Request::Ping => {
                let now = st.started.elapsed().as_millis() as u64;
                let _ = warm::write_json(
                    &mut s,
                    &Reply::Pong {
                        pid: std::process::id(),
                        uptime_ms: now,
                        idle_secs: st.idle.as_secs(),
                        idle_for_ms: now.saturating_sub(st.last.load(Ordering::SeqCst)),
                        judged: st.judged.load(Ordering::SeqCst),
                    },
                );
                return;
            }
            Request::Judge {
                build,
                config,
                agent,
                fail_closed,
                dry_run,
                elapsed_us,
            } => (build, config, agent, fail_closed, dry_run, elapsed_us),
        };
        let received = Instant::now();
        let Ok(input) = warm::read_frame(&mut s, (hook::MAX_EVENT as u32).saturating_add(1)) else {
            return;
        };
        let why = if build != st.build {
            Some("built from another skilltrace binary".to_string())
        } else if config != st.config {
            Some("started with another config, key or canary file".to_string())
        } else if st.stop.load(Ordering::SeqCst) {
            Some("exiting".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            st.stop.store(true, Ordering::SeqCst);
            let _ = warm::write_json(&mut s, &Reply::Mismatch { why });
            return;
        }
        let Some(agent) = Agent::ALL.into_iter().find(|a| a.name() == agent) else {
            return;
        };
        st.last
            .store(st.started.elapsed().as_millis() as u64, Ordering::SeqCst);
        let budget_ms = st.judge.policy().budget_ms;
        if warm::write_json(&mut s, &Reply::Taken { budget_ms }).is_err() {
            return;
        }
        let started = received
            .checked_sub(Duration::from_micros(elapsed_us))
            .unwrap_or(received);
        let mut opts = HookOptions::new(agent, st.db.clone());
        opts.fail_closed = fail_closed;
        opts.dry_run = dry_run;
        opts.drainer = Some(st.drainer.clone());
        // The answer goes back as soon as it is final; the session's save
        // and the record follow (the session stays locked until saved).
        hook::run_with(&opts, input, Some(st.judge.clone()), started, |a| {
            let _ = warm::write_json(
                &mut s,
                &Reply::Answer {
                    stdout: a.stdout.clone(),
                    stderr: a.stderr.clone(),
                    exit: a.exit,
                },
            );
            let _ = s.shutdown(std::net::Shutdown::Both);
        });
        st.judged.fetch_add(1, Ordering::SeqCst);
        st.last
            .store(st.started.elapsed().as_millis() as u64, Ordering::SeqCst);
    }
}
