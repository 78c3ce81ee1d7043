//! Parser throughput: `FileParser::line` over a generated mix of lines from
//! every format, against decoding alone on the same bytes: into
//! `serde_json::Value`, into the borrowed tree the parsers read
//! (`formats::json::Value`) through serde, and into the same tree with the
//! direct reader the parsers use (`Value::from_slice`, the floor: every line
//! must be decoded once). Run with
//! `cargo bench --bench parse`; the ratio of the two medians is the parsers'
//! own overhead.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::Value;
use skilltrace::ingest::formats::{native, FileParser, Record};
use std::hint::black_box;
use std::path::Path;

const FIXTURES: &[(&str, &str)] = &[
    ("claude", "claude-code/session_excerpt.jsonl"),
    ("claude", "claude-code/subagent_excerpt.jsonl"),
    (
        "codex",
        "codex/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl",
    ),
    ("codex", "codex/rollout_variety_excerpt.jsonl"),
    ("otlp", "otel-genai/otlp_genai_agent_run.jsonl"),
    ("otlp", "openinference/otlp_openinference_agent_run.jsonl"),
    ("agents", "openai-agents/agents_sdk_trace.jsonl"),
];

/// About `target` bytes of lines: each fixture repeated with its session /
/// trace ids varied per copy (so parsers see many runs, as in a real corpus),
/// plus native lines written by the encoder.
/// `only` keeps one format (`claude`, `codex`, `otlp`, `agents`, `native`).
fn corpus(target: usize, only: Option<&str>) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("fixture");
    let files: Vec<String> = FIXTURES
        .iter()
        .filter(|(k, _)| only.is_none_or(|o| o == *k))
        .map(|(_, f)| read(f))
        .collect();
    let seed = read(FIXTURES[0].1);
    let mut native_lines = Vec::new();
    {
        let mut p = FileParser::new("seed.jsonl", None);
        let mut out: Vec<Record> = Vec::new();
        for (i, l) in seed.lines().enumerate() {
            let _ = p.line(l.as_bytes(), i as u64 + 1, &mut out);
        }
        native_lines.extend(out.iter().map(native::encode));
    }
    let ids = [
        "4d5611e5-241a-462a-8d15-5122611a9569",
        "019c8bfe-ec25-79e0-97d7-bda6a9c575ff",
        "019c8a59-e9dd-71f0-9ae3-4079fe9726a9",
    ];
    let mut lines = Vec::new();
    let mut total = 0;
    let mut copy = 0u32;
    while total < target {
        copy += 1;
        let native = native_lines.join("\n");
        let extra = match only {
            None | Some("native") => Some(native.as_str()),
            _ => None,
        };
        for f in files.iter().map(String::as_str).chain(extra) {
            for l in f.lines() {
                let mut l = l.to_owned();
                for id in ids {
                    if l.contains(id) {
                        l = l.replace(id, &format!("{}{copy:08x}", &id[..28]));
                    }
                }
                total += l.len() + 1;
                lines.push(l.into_bytes());
            }
        }
    }
    lines
}

fn run_group(c: &mut Criterion, name: &str, lines: &[Vec<u8>]) {
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    g.bench_function("serde_json_value_only", |b| {
        b.iter(|| {
            for l in lines {
                let v: Result<Value, _> = serde_json::from_slice(l);
                black_box(v.is_ok());
            }
        })
    });
    g.bench_function("borrowed_tree_only", |b| {
        b.iter(|| {
            for l in lines {
                let v: Result<skilltrace::ingest::formats::json::Value<'_>, _> =
                    serde_json::from_slice(l);
                black_box(v.is_ok());
            }
        })
    });
    g.bench_function("direct_tree_only", |b| {
        b.iter(|| {
            for l in lines {
                let v = skilltrace::ingest::formats::json::Value::from_slice(l);
                black_box(v.is_ok());
            }
        })
    });
    g.bench_function("file_parser_line", |b| {
        b.iter_batched(
            || {
                (
                    FileParser::new("bench.jsonl", None),
                    Vec::with_capacity(1024),
                )
            },
            |(mut p, mut out): (FileParser, Vec<Record>)| {
                for (i, l) in lines.iter().enumerate() {
                    let _ = p.line(l, i as u64 + 1, &mut out);
                    if out.len() >= 1024 {
                        black_box(&out);
                        out.clear(); // the pipeline drains batches as they fill
                    }
                }
                p.finish(&mut out);
                black_box(out.len())
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    run_group(c, "parse_mix", &corpus(8 << 20, None));
    for f in ["claude", "codex", "otlp", "agents", "native"] {
        run_group(c, &format!("parse_{f}"), &corpus(2 << 20, Some(f)));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
