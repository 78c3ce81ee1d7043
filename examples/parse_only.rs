//! Parses files with `FileParser` alone (no redaction, detection or store), for counting the
//! parse's instructions per format under callgrind:
//! `cargo build --release --example parse_only`, then
//! `valgrind --tool=callgrind target/release/examples/parse_only FILE...` (or `scripts/parse_cost.sh`).
//! Each file is read whole and split on `\n` as the import does; prints, per file, bytes, lines,
//! records and lines refused; with `--digest` first, also a digest of the records (their Debug
//! text) so two builds can be checked to yield the same records (leave it off when counting).

use skilltrace::ingest::formats::{FileParser, Record};
use std::hash::{DefaultHasher, Hash, Hasher};

// The allocator the binary uses (src/main.rs), so counts match the import's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    let with_digest = files.first().is_some_and(|f| f == "--digest");
    if with_digest {
        files.remove(0);
    }
    if files.is_empty() {
        eprintln!("error: usage: parse_only FILE...");
        std::process::exit(2);
    }
    for path in files {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {path}: {e}");
                std::process::exit(2);
            }
        };
        let mut parser = FileParser::new(path.clone(), None);
        let mut out: Vec<Record> = Vec::with_capacity(1024);
        let (mut lines, mut refused, mut records) = (0u64, 0u64, 0u64);
        let mut digest = DefaultHasher::new();
        let mut drain = |out: &mut Vec<Record>, records: &mut u64| {
            for r in out.drain(..) {
                if with_digest {
                    format!("{r:?}").hash(&mut digest);
                }
                *records += 1;
            }
        };
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            lines += 1;
            if parser.line(line, i as u64 + 1, &mut out).is_err() {
                refused += 1;
            }
            if out.len() >= 1024 {
                drain(&mut out, &mut records);
            }
        }
        parser.finish(&mut out);
        drain(&mut out, &mut records);
        println!(
            "{path}\t{} bytes\t{lines} lines\t{records} records\t{refused} refused\t{:016x}",
            bytes.len(),
            digest.finish()
        );
    }
}
