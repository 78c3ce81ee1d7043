//! Detection cost: `Detector::scan_span` over real spans (the format fixtures and
//! the samples, parsed once, repeated under fresh run ids to ~4 MB of span
//! text), against `serde_json::to_vec` of the same spans (a floor: one pass
//! over every byte). Also the cost of one shell tool call.
//! Run with `cargo bench --bench detect`; report the ratio of the medians.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use skilltrace::detect::Detector;
use skilltrace::ingest::formats::{FileParser, Record};
use skilltrace::model::{Origin, Span, SpanKind};
use skilltrace::redact::Report;
use std::hint::black_box;
use std::path::Path;

fn files() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["tests/fixtures/formats", "samples"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().map(|x| x == "jsonl").unwrap_or(false) {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

fn base_spans() -> Vec<Span> {
    let mut spans = Vec::new();
    for f in files() {
        let text = std::fs::read_to_string(&f).expect("read");
        let mut p = FileParser::new(f.display().to_string(), None);
        let mut out: Vec<Record> = Vec::new();
        for (i, l) in text.lines().enumerate() {
            let _ = p.line(l.as_bytes(), i as u64 + 1, &mut out);
        }
        p.finish(&mut out);
        spans.extend(out.into_iter().filter_map(|r| match r {
            Record::Span(s) => Some(s),
            _ => None,
        }));
    }
    spans
}

fn text_len(s: &Span) -> usize {
    s.text.as_deref().map_or(0, str::len)
        + s.tool_input.as_deref().map_or(0, str::len)
        + s.tool_output.as_deref().map_or(0, str::len)
        + s.name.len()
}

fn corpus(target: usize) -> (Vec<Span>, usize) {
    let base = base_spans();
    let mut spans = Vec::new();
    let mut total = 0;
    let mut copy = 0;
    while total < target {
        copy += 1;
        for s in &base {
            let mut s = s.clone();
            s.run_id = format!("{}-{copy}", s.run_id);
            total += text_len(&s);
            spans.push(s);
        }
    }
    (spans, total)
}

fn bench(c: &mut Criterion) {
    let (spans, bytes) = corpus(4 << 20);
    let report = Report::default();
    let mut g = c.benchmark_group("detect_corpus");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("baseline_serde_to_vec", |b| {
        b.iter(|| {
            let mut n = 0;
            for s in &spans {
                n += serde_json::to_vec(s).map(|v| v.len()).unwrap_or(0);
            }
            black_box(n)
        })
    });
    g.bench_function("scan_span", |b| {
        b.iter_batched(
            Detector::new,
            |mut d| {
                let mut n = 0;
                for s in &spans {
                    n += d.scan_span(s, &report).findings.len();
                }
                black_box(n)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut call = Span::new("t", "r", SpanKind::Tool, "Bash", Origin::new("x", 1));
    call.tool_name = Some("Bash".into());
    call.tool_input = Some(
        serde_json::json!({"command": "cd /w && cargo build --release 2>&1 | tail -n 20 && ls -la target/release"})
            .to_string(),
    );
    call.tool_output =
        Some("   Compiling skilltrace v0.1.0\n    Finished `release` profile\n".repeat(20));
    let mut g = c.benchmark_group("detect_tool_call");
    g.throughput(Throughput::Elements(1));
    g.bench_function("baseline_serde_to_vec", |b| {
        b.iter(|| black_box(serde_json::to_vec(&call).map(|v| v.len())))
    });
    let mut d = Detector::new();
    let mut i = 0u64;
    g.bench_function("scan_span", |b| {
        b.iter(|| {
            i += 1;
            call.id = format!("t{i}");
            black_box(d.scan_span(&call, &report).findings.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
