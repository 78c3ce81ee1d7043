//! Store write throughput: `Store::write` of scanned batches (runs, spans with
//! both indexes, upsert, per-run counters, one transaction per 4,096 spans)
//! against the floor: the same span rows bound to a plain `INSERT` into a table
//! with the same columns and no index, in the same WAL database settings.
//! Run with `cargo bench --bench store`; MB/s is counted in trace-file bytes
//! (the lines the spans were parsed from), so it compares with import rates.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use skilltrace::detect::Detector;
use skilltrace::ingest::formats::{FileParser, Record};
use skilltrace::ingest::pipeline::{Batch, Pipeline};
use skilltrace::redact::{Mode, Redactor};
use skilltrace::store::{Store, StoreBatch};
use std::path::{Path, PathBuf};

/// Every fixture trace file, recursively.
fn fixture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            fixture_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "jsonl") {
            out.push(p);
        }
    }
}

/// Parses the fixtures `copies` times (each copy its own runs), scans them
/// through a pipeline, and returns the store batches and the trace bytes read.
fn batches(copies: usize) -> (Vec<StoreBatch>, u64) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    fixture_files(&root.join("tests/fixtures/formats"), &mut files);
    files.sort();
    let mut records = Vec::new();
    let mut bytes = 0u64;
    for f in &files {
        let text = std::fs::read(f).unwrap_or_default();
        let mut p = FileParser::new(f.display().to_string(), None);
        for (i, l) in text.split(|b| *b == b'\n').enumerate() {
            let _ = p.line(l, i as u64 + 1, &mut records);
        }
        p.finish(&mut records);
        bytes += text.len() as u64;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store = Store::open(&dir.path().join("scan.db")).unwrap_or_else(|e| panic!("{e}"));
    let mut pipeline = Pipeline::new(Redactor::new(Mode::Mask), Detector::new(), store);
    let mut out = Vec::new();
    let mut pending = Vec::new();
    for k in 0..copies {
        for r in &records {
            let mut r = r.clone();
            match &mut r {
                Record::Span(s) => s.run_id = format!("{}-{k}", s.run_id),
                Record::Run(run) => run.id = format!("{}-{k}", run.id),
                _ => continue,
            }
            pending.push(r);
            if pending.len() == 4096 {
                out.push(pipeline.scan(Batch {
                    records: std::mem::take(&mut pending),
                    ..Batch::default()
                }));
            }
        }
    }
    out.push(pipeline.scan(Batch {
        records: pending,
        ..Batch::default()
    }));
    (out, bytes * copies as u64)
}

const PLAIN: &str =
    "CREATE TABLE plain(run_id TEXT, id TEXT, parent_id TEXT, kind TEXT, name TEXT, \
  start_ms INTEGER, end_ms INTEGER, status TEXT, model TEXT, tool_name TEXT, tool_call_id TEXT, \
  tool_input TEXT, tool_output TEXT, text TEXT, attributes TEXT, input_tokens INTEGER, \
  output_tokens INTEGER, origin_path TEXT, origin_line INTEGER)";

fn plain_insert(store: &Store, batches: &[StoreBatch]) {
    let conn = store.conn();
    let run = || -> rusqlite::Result<()> {
        for b in batches {
            conn.execute_batch("BEGIN")?;
            {
                let mut st = conn.prepare_cached("INSERT INTO plain VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)")?;
                for s in &b.spans {
                    let s = s.get();
                    let attrs = (!s.attributes.is_empty())
                        .then(|| serde_json::to_string(&s.attributes).unwrap_or_default());
                    st.execute(rusqlite::params![
                        s.run_id,
                        s.id,
                        s.parent_id,
                        s.kind.as_str(),
                        s.name,
                        s.start_ms,
                        s.end_ms,
                        s.status.as_str(),
                        s.model,
                        s.tool_name,
                        s.tool_call_id,
                        s.tool_input,
                        s.tool_output,
                        s.text,
                        attrs,
                        s.input_tokens.map(|t| t as i64),
                        s.output_tokens.map(|t| t as i64),
                        s.origin.path,
                        s.origin.line as i64
                    ])?;
                }
            }
            conn.execute_batch("COMMIT")?;
        }
        Ok(())
    };
    run().unwrap_or_else(|e| panic!("plain insert: {e}"));
}

fn bench(c: &mut Criterion) {
    let (batches, bytes) = batches(60);
    let spans: usize = batches.iter().map(|b| b.spans.len()).sum();
    eprintln!(
        "store bench: {spans} spans from {:.1} MB of trace lines",
        bytes as f64 / 1e6
    );
    let mut g = c.benchmark_group("store_write");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    let fresh = || {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let store = Store::open(&dir.path().join("b.db")).unwrap_or_else(|e| panic!("{e}"));
        (dir, store)
    };
    g.bench_function("plain_insert_no_index", |b| {
        b.iter_batched(
            || {
                let (dir, store) = fresh();
                store
                    .conn()
                    .execute_batch(PLAIN)
                    .unwrap_or_else(|e| panic!("{e}"));
                (dir, store)
            },
            // Returned so that closing the store (a WAL checkpoint) is not timed.
            |(dir, store)| {
                plain_insert(&store, &batches);
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("store_write", |b| {
        b.iter_batched(
            fresh,
            |(dir, mut store)| {
                for batch in &batches {
                    store.write(batch).unwrap_or_else(|e| panic!("{e}"));
                }
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
