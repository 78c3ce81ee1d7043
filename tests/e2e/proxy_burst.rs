//! The proxy's recorder never drops an accepted exchange (issues 13 and 20):
//! every exchange of a burst is recorded while the store is held busy on
//! purpose (and the responses never wait for it), 2,000 concurrent requests are
//! all recorded, and a full disk is said on stderr at once and costs no
//! recording once there is room again.
#![allow(clippy::unwrap_used)]

use crate::proxy_support;
use crate::writers_support;

use bytes::Bytes;
use proxy_support::*;
use skilltrace::ingest::pipeline::spawn_background_writer;
use skilltrace::store::commit::CommitConfig;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use writers_support::CHAT_REPLY;

/// Exchanges (llm spans) the store holds.
fn recorded(db: &Path) -> u64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT count(*) FROM spans WHERE kind='llm'", [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as u64
}

/// Lets this process open enough sockets for thousands of connections.
fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut l = getrlimit(Resource::Nofile);
    if let Some(max) = l.maximum {
        l.current = Some(max.min(65_536));
        let _ = setrlimit(Resource::Nofile, l);
    }
}

/// Sends `n` exchanges, at most `concurrency` at a time; every answer must be 200.
async fn burst(addr: std::net::SocketAddr, n: usize, concurrency: usize) {
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let permit = sem.clone().acquire_owned().await.unwrap();
        tasks.push(tokio::spawn(async move {
            let body = Bytes::from(writers_support::chat_body(i));
            let h = [
                ("authorization", "Bearer sk-test-burst-0123456789abcdef"),
                ("content-type", "application/json"),
            ];
            let got = send(addr, "POST", "/v1/chat/completions", &h, body).await;
            drop(permit);
            got.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
}

/// A proxy recording into a store through the real pipeline and writer.
struct Running {
    addr: std::net::SocketAddr,
    stats: std::sync::Arc<skilltrace::proxy::ProxyStats>,
    health: std::sync::Arc<skilltrace::store::commit::Health>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), skilltrace::proxy::ProxyError>>,
    writer: skilltrace::ingest::pipeline::Writer,
}

/// Starts a proxy (and a local upstream) recording into the store at `db`.
async fn proxy_into(db: &Path, cfg: CommitConfig) -> Running {
    proxy_answering(db, cfg, |_| {
        Reply::json(Bytes::from_static(CHAT_REPLY.as_bytes()))
    })
    .await
}

/// [`proxy_into`] with an upstream answering as `reply` says.
async fn proxy_answering(
    db: &Path,
    cfg: CommitConfig,
    reply: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> Running {
    let up = start_upstream(reply).await;
    let pipeline = skilltrace::commands::open_pipeline(db)
        .unwrap()
        .with_commit_config(cfg);
    let (sink, writer) = spawn_background_writer(pipeline);
    let bound = skilltrace::proxy::bind(config(&up.url())).await.unwrap();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = Running {
        addr: bound.local_addr(),
        stats: bound.stats(),
        health: writer.health(),
        stop,
        task: tokio::spawn(bound.serve(sink, async {
            let _ = stop_rx.await;
        })),
        writer,
    };
    // Keep the upstream alive as long as the test runs.
    std::mem::forget(up);
    running
}

impl Running {
    /// Stops the proxy, lets the writer store everything; exchanges the store holds.
    async fn finish(self, db: &Path) -> u64 {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
        let writer = self.writer;
        tokio::task::spawn_blocking(move || writer.join().unwrap())
            .await
            .unwrap();
        recorded(db)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_exchange_of_a_burst_is_recorded_while_the_store_is_held_busy() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("st.db");
    let cfg = CommitConfig {
        busy_wait: Duration::from_millis(300),
        ..CommitConfig::default()
    };
    let p = proxy_into(&db, cfg).await;
    let (addr, stats, health) = (p.addr, p.stats.clone(), p.health.clone());
    // Another program holds the store's write lock for the whole burst.
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    const N: usize = 300;
    let started = Instant::now();
    // Answers never wait for the store: the burst finishes while it is still held.
    tokio::time::timeout(Duration::from_secs(120), burst(addr, N, 32))
        .await
        .expect("responses waited for the held store");
    let burst_took = started.elapsed();
    // Hold on until the writer has given up waiting and spooled (it runs at a
    // low priority, so on a busy machine that may come after the burst).
    let deadline = Instant::now() + Duration::from_secs(60);
    while health.kept.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        health.kept.load(Ordering::Relaxed) > 0,
        "the writer never spooled"
    );
    assert_eq!(recorded(&db), 0, "written through a held lock?");
    holder.execute_batch("COMMIT").unwrap();
    drop(holder);
    let got = p.finish(&db).await;
    eprintln!(
        "burst with the store held: {N} sent, {got} recorded, {} dropped, {} batches spooled and replayed; burst took {burst_took:?}",
        stats.dropped.load(Ordering::Relaxed),
        health.replayed.load(Ordering::Relaxed)
    );
    assert_eq!(stats.dropped.load(Ordering::Relaxed), 0);
    assert_eq!(got, N as u64, "exchanges lost while the store was slow");
    assert!(
        health.replayed.load(Ordering::Relaxed) > 0,
        "the spool was never used"
    );
    assert_eq!(health.kept.load(Ordering::Relaxed), 0);
    assert_eq!(health.lost.load(Ordering::Relaxed), 0);
}

/// Slows the store down on purpose: another connection holds its write lock
/// for `held` out of every `held + gap`, until dropped.
struct SlowStore {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl SlowStore {
    fn start(db: &Path, held: Duration, gap: Duration) -> SlowStore {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let c = rusqlite::Connection::open(db).unwrap();
        c.busy_timeout(Duration::from_secs(60)).unwrap();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut holds = 0;
            while !flag.load(Ordering::Relaxed) {
                c.execute_batch("BEGIN IMMEDIATE").unwrap();
                std::thread::sleep(held);
                c.execute_batch("COMMIT").unwrap();
                holds += 1;
                std::thread::sleep(gap);
            }
            holds
        });
        SlowStore {
            stop,
            thread: Some(thread),
        }
    }

    /// Lets the store go; how many times it was held.
    fn end(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().map_or(0, |t| t.join().unwrap())
    }
}

impl Drop for SlowStore {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Issue 20: a store slowed down on purpose (another writer holds its lock
/// 9/10 of the time) while a burst of JSON and SSE exchanges arrives, and the
/// proxy is stopped before the store has caught up: every exchange is
/// recorded, SSE answers folded whole, none dropped, no answer waited.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_exchange_of_a_burst_is_recorded_while_the_store_is_slowed_down() {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("slow.db");
    let cfg = CommitConfig {
        busy_wait: Duration::from_millis(500),
        ..CommitConfig::default()
    };
    let n_seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stream = fixture("wire-openai-chat/06_stream_tool_calls.sse");
    let p = proxy_answering(&db, cfg, move |_| {
        if n_seen.fetch_add(1, Ordering::Relaxed) % 2 == 0 {
            Reply::sse(stream.clone(), 5)
        } else {
            Reply::json(Bytes::from_static(CHAT_REPLY.as_bytes()))
        }
    })
    .await;
    let (stats, health) = (p.stats.clone(), p.health.clone());
    let slow = SlowStore::start(&db, Duration::from_millis(180), Duration::from_millis(20));
    const N: usize = 600;
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(120), burst(p.addr, N, 64))
        .await
        .expect("responses waited for the slowed store");
    let burst_took = started.elapsed();
    // Stopped while the store is still slowed: what waits is handed over, not dropped.
    p.stop.send(()).unwrap();
    p.task.await.unwrap().unwrap();
    let holds = slow.end();
    let writer = p.writer;
    tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();
    let got = recorded(&db);
    let c = rusqlite::Connection::open(&db).unwrap();
    let streams: u64 = c
        .query_row(
            "SELECT count(*) FROM spans WHERE kind='llm' AND json_extract(attributes, '$.\"sse.events\"') > 0",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64;
    eprintln!(
        "burst into a slowed store: {N} sent, {got} recorded ({streams} streams), {} dropped, lock held {holds} times, {} batches spooled; burst took {burst_took:?}",
        stats.dropped.load(Ordering::Relaxed),
        health.replayed.load(Ordering::Relaxed)
    );
    assert!(holds > 1, "the store was never slowed");
    assert_eq!(stats.dropped.load(Ordering::Relaxed), 0);
    assert_eq!(got, N as u64, "exchanges lost while the store was slow");
    assert_eq!(streams, N as u64 / 2, "SSE answers not folded whole");
    assert_eq!(health.lost.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_thousand_concurrent_requests_are_all_recorded() {
    raise_fd_limit();
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("st.db");
    let p = proxy_into(&db, CommitConfig::default()).await;
    let stats = p.stats.clone();
    const N: usize = 2_000;
    burst(p.addr, N, N).await;
    let got = p.finish(&db).await;
    eprintln!(
        "2,000 concurrent: {} requests, {got} recorded, {} dropped",
        stats.requests.load(Ordering::Relaxed),
        stats.dropped.load(Ordering::Relaxed)
    );
    assert_eq!(stats.dropped.load(Ordering::Relaxed), 0);
    assert_eq!(got, N as u64);
}

/// A small tmpfs mounted for the test (root only), unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_disk_is_said_at_once_and_every_exchange_is_recorded_once_there_is_room() {
    let t = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&t.path().join("disk"), "64m") else {
        eprintln!(
            "cannot mount a tmpfs here (needs root): the full-disk case is covered in-process by \
             store::commit::tests::a_full_store_spools_then_stores_when_there_is_room"
        );
        return;
    };
    let db = disk.0.join("st.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt.block_on(start_upstream(|_| {
        Reply::json(Bytes::from_static(CHAT_REPLY.as_bytes()))
    }));
    let mut cmd = writers_support::bin_with(None);
    cmd.args(["proxy", "--listen", "127.0.0.1:0", "--openai-upstream"])
        .arg(up.url())
        .arg("--db")
        .arg(&db);
    let proxy = writers_support::start(cmd);
    // Fill the disk to the last byte.
    let ballast = disk.0.join("ballast");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&ballast).unwrap();
        let chunk = vec![0u8; 64 << 10];
        while f.write_all(&chunk).is_ok() {}
        while f.write_all(&[0u8; 512]).is_ok() {}
        let _ = f.sync_all();
    }
    const N: usize = 40;
    let filled_at = Instant::now();
    let big = "lorem ipsum ".repeat(2_000);
    for i in 0..N {
        let body = format!(
            "{{\"model\":\"gpt-4o-mini\",\"messages\":[{{\"role\":\"user\",\"content\":\"{i} {big}\"}}]}}"
        );
        let (code, resp) = writers_support::http(
            &proxy.addr,
            "/v1/chat/completions",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        assert_eq!(code, 200, "forwarding suffered from the full disk: {resp}");
    }
    let said = writers_support::wait_until(Duration::from_secs(5), 1, || {
        proxy
            .stderr_now()
            .iter()
            .filter(|(_, l)| l.contains("cannot store now"))
            .count() as u64
    });
    let lines = proxy.stderr_now();
    assert_eq!(said, 1, "the full disk was not said: {lines:?}");
    let first = lines
        .iter()
        .find(|(_, l)| l.contains("cannot store now"))
        .unwrap();
    assert!(
        first.0.duration_since(filled_at) < Duration::from_secs(10),
        "said late: {lines:?}"
    );
    // Room again: everything kept is stored.
    std::fs::remove_file(&ballast).unwrap();
    let got = writers_support::wait_until(Duration::from_secs(60), N as u64, || recorded(&db));
    let (code, err) = proxy.stop();
    eprintln!("full disk: {N} exchanges sent, {got} recorded; stderr: {err:?}");
    assert_eq!(code, Some(0), "{err:?}");
    assert_eq!(got, N as u64, "exchanges lost to the full disk: {err:?}");
    assert!(
        err.iter()
            .any(|l| l.contains(&format!("{N} exchanges recorded, 0 dropped"))),
        "{err:?}"
    );
    drop(rt);
}
