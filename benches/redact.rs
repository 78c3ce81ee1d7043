//! Redaction throughput (MB/s) on clean text and on text dense with secrets, against
//! a baseline in the same run: one `memchr::memmem` search for a byte string that
//! never occurs ("one memory scan").
//!
//! Run: `cargo bench --bench redact` (criterion; `-- --quick` for a short run). For
//! instruction counts, see [`profile`] (`REDACT_PROFILE=<case>`).
//! The corpus (≥ 1 MiB) mixes prose, code and Claude-Code-like JSON lines with
//! UUIDs, ISO and epoch-ms timestamps, token counts, paths and words like
//! "password" and "token" with no value. The dense corpus plants one generated
//! secret every ~300 bytes. Secrets are generated, never literal.

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use skilltrace::redact::{Field, Mode, Redactor, Report};
use std::hint::black_box;

fn rnd(n: usize, seed: &mut u64) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..n)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            A[((*seed >> 33) % A.len() as u64) as usize] as char
        })
        .collect()
}

const PROSE: &str = "The agent read the configuration file, explained that the token refresh \
logic lives in the auth module, and suggested keeping the password field out of the logs. \
It then listed the tests that failed after the migration and proposed a smaller change set \
for the task-management-system service, with a note on retry budgets and back-off.\n";

const CODE: &str = "fn refresh(client: &Client, store: &mut Store) -> Result<Session> {\n    \
let token = client.get_token()?;\n    let password_field = form.field(\"password\");\n    \
for (i, item) in store.items().enumerate() {\n        if item.expired(now_ms()) { store.evict(i); }\n    }\n    \
Ok(Session::new(token, Duration::from_secs(3600)))\n}\n";

fn json_line(i: u64, seed: &mut u64) -> String {
    format!(
        "{{\"parentUuid\":\"{a}-{b}-4a2b-9c3d-{c}\",\"sessionId\":\"4d5611e5-241a-462a-8d15-5122611a9569\",\
\"timestamp\":\"2026-02-12T16:{m:02}:{s:02}.{ms:03}Z\",\"ts\":{ts},\"type\":\"assistant\",\"cwd\":\"/home/USER/projects/spotter\",\
\"message\":{{\"id\":\"msg_{id}\",\"model\":\"claude-opus-4-6\",\"usage\":{{\"input_tokens\":{it},\"output_tokens\":{ot}}},\
\"content\":[{{\"type\":\"tool_use\",\"name\":\"Bash\",\"input\":{{\"command\":\"git log --oneline -n 5 && cargo test --lib\"}}}}]}}}}\n",
        a = &format!("{:08x}", i.wrapping_mul(2654435761))[..8],
        b = &format!("{:04x}", i % 65536),
        c = &format!("{:012x}", i.wrapping_mul(11400714819323198485) >> 16)[..12],
        m = i % 60,
        s = (i * 7) % 60,
        ms = (i * 13) % 1000,
        ts = 1_739_376_145_227u64 + i * 1000,
        id = rnd(24, seed),
        it = 1000 + i % 5000,
        ot = 10 + i % 900,
    )
}

fn clean_corpus() -> Vec<String> {
    let mut seed = 42u64;
    let mut out = Vec::new();
    let mut total = 0;
    let mut i = 0u64;
    while total < (1 << 20) {
        let piece = match i % 3 {
            0 => PROSE.to_string(),
            1 => CODE.to_string(),
            _ => json_line(i, &mut seed),
        };
        total += piece.len();
        out.push(piece);
        i += 1;
    }
    out
}

fn secret(i: usize, seed: &mut u64) -> String {
    match i % 8 {
        0 => format!("ghp_{}", rnd(36, seed)),
        1 => format!("AWS_SECRET_ACCESS_KEY={}", rnd(40, seed)),
        2 => format!("sk-proj-{}", rnd(100, seed)),
        3 => format!("user{}@corp-mail.example", i),
        4 => format!("Authorization: Bearer {}", rnd(40, seed)),
        5 => format!("AKIA{}", rnd(16, seed).to_uppercase()),
        6 => format!("postgres://app:{}@db:5432/x", rnd(14, seed)),
        _ => ["4111", "1111", "1111", "1111"].join(" "),
    }
}

fn dense_corpus() -> Vec<String> {
    let mut seed = 7u64;
    clean_corpus()
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let cut = p.len() / 2;
            let cut = (cut..p.len())
                .find(|&c| p.is_char_boundary(c))
                .unwrap_or(p.len());
            format!("{} {} {}", &p[..cut], secret(i, &mut seed), &p[cut..])
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let clean = clean_corpus();
    let dense = dense_corpus();
    let clean_all = clean.concat();
    let dense_all = dense.concat();
    let mut g = c.benchmark_group("redact");
    g.sample_size(20);

    g.throughput(Throughput::Bytes(clean_all.len() as u64));
    g.bench_function("baseline_memmem_clean_1MiB", |b| {
        let f = memchr::memmem::Finder::new(b"\x00never-there\x01");
        b.iter(|| black_box(f.find(black_box(clean_all.as_bytes()))))
    });
    // Where clean-text time goes: prose only (keywords without values, no digits) and
    // Claude-Code-like JSON lines only (digit runs, UUIDs, `input_tokens`).
    let prose: String = PROSE.repeat((1 << 20) / PROSE.len() + 1);
    let mut seed = 3u64;
    let json: String = (0..(1u64 << 20) / 400 + 1)
        .map(|i| json_line(i, &mut seed))
        .collect();
    for (name, text) in [
        ("clean", &clean_all),
        ("dense", &dense_all),
        ("prose_only", &prose),
        ("json_only", &json),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("one_string_1MiB", name), text, |b, t| {
            let mut r = Redactor::builtin(Mode::Mask);
            b.iter(|| {
                let mut rep = Report::default();
                black_box(r.redact_borrowed("run", black_box(t), Field::Text, &mut rep))
            })
        });
    }
    for (name, pieces, all) in [("clean", &clean, &clean_all), ("dense", &dense, &dense_all)] {
        g.throughput(Throughput::Bytes(all.len() as u64));
        g.bench_with_input(BenchmarkId::new("per_field", name), pieces, |b, ps| {
            let mut r = Redactor::builtin(Mode::Mask);
            b.iter(|| {
                let mut rep = Report::default();
                for p in ps.iter() {
                    black_box(r.redact_borrowed("run", black_box(p), Field::Text, &mut rep));
                }
            })
        });
    }
    g.finish();
}

/// One redaction of `case` (what each benchmark above times once), out of line so a
/// profiler can count it alone.
#[inline(never)]
fn profiled_once(r: &mut Redactor, case: &str, one: &str, pieces: &[String]) {
    let mut rep = Report::default();
    if case.starts_with("per_field") {
        for p in pieces {
            black_box(r.redact_borrowed("run", black_box(p), Field::Text, &mut rep));
        }
    } else {
        black_box(r.redact_borrowed("run", black_box(one), Field::Text, &mut rep));
    }
}

/// `REDACT_PROFILE=<case> [REDACT_ROUNDS=n]`: runs one case (`clean`, `dense`,
/// `prose_only`, `json_only`, `per_field_clean`, `per_field_dense`) once to warm up
/// (first-use regex compiles) and then `n` times (default 10) through
/// [`profiled_once`], printing the input size, for an instruction count per MiB:
/// `valgrind --tool=callgrind --toggle-collect='*profiled_once*' <bench binary>`.
fn profile(case: &str) {
    let rounds: usize = std::env::var("REDACT_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let (clean, dense) = (clean_corpus(), dense_corpus());
    let prose: String = PROSE.repeat((1 << 20) / PROSE.len() + 1);
    let mut seed = 3u64;
    let json: String = (0..(1u64 << 20) / 400 + 1)
        .map(|i| json_line(i, &mut seed))
        .collect();
    let (one, pieces): (String, &[String]) = match case {
        "clean" | "per_field_clean" => (clean.concat(), &clean),
        "dense" | "per_field_dense" => (dense.concat(), &dense),
        "prose_only" => (prose, &[]),
        "json_only" => (json, &[]),
        other => {
            eprintln!("error: REDACT_PROFILE: no case '{other}'");
            std::process::exit(2);
        }
    };
    let mut r = Redactor::builtin(Mode::Mask);
    let mut warm = Redactor::builtin(Mode::Mask);
    profiled_once(&mut warm, case, &one, pieces);
    for _ in 0..rounds {
        profiled_once(&mut r, case, &one, pieces);
    }
    println!("{case}: {} bytes, {rounds} rounds", one.len());
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(case) = std::env::var("REDACT_PROFILE") {
        profile(&case);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
