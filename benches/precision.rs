//! Redaction precision on real source trees nobody here wrote: every text file of the
//! crate sources in the Cargo registry cache and of the Python standard library goes
//! through the redactor as one tool output (as when an agent reads the file), and
//! every redaction is classified as a secret (real-looking credential or personal
//! data), a test or example secret, or neither: a false redaction, printed with its
//! file and line so it can be fixed.
//!
//! Run: `cargo bench --bench precision` (all of both trees), or
//! `cargo bench --bench precision -- [--quiet] [--all] [--max-mb N] [PATH...]` for
//! other trees, at most N MB, without the list of false redactions, or with every
//! redaction and its class (to audit the classifier).
//!
//! The trees are found as on any machine of this project: `$CARGO_HOME/registry/src`
//! (default `~/.cargo/registry/src`), and the standard library that `python3` reports
//! (`sysconfig.get_paths()["stdlib"]`), else the newest `/usr/lib/python3.*`.
//! `site-packages`, `dist-packages`, `__pycache__`, `.git` and `target` are skipped,
//! as are files over 8 MiB, with a NUL byte or not UTF-8.
//!
//! The classifier is deliberately independent of the redactor's own validators: a
//! value counts as a secret only when its own shape says so (a known key format, a
//! PEM block, a JWT whose header decodes, or a literal with the length, alphabet and
//! entropy of a generated credential), as a test secret when it is a documented
//! example or fixture value (or a credential-shaped literal in a test tree), and as
//! personal data for the PII rules. Everything else is a false redaction.

use skilltrace::redact::{Field, Mode, Redactor, Report};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

const MAX_FILE: u64 = 8 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Secret,
    Test,
    Pii,
    False,
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; criterion-style filters are ignored.
    args.retain(|a| a != "--bench");
    let quiet = take_flag(&mut args, "--quiet");
    // Every redaction with its class, not only the false ones (to audit the classifier).
    let all = take_flag(&mut args, "--all");
    let max_mb: Option<u64> = take_value(&mut args, "--max-mb").and_then(|v| v.parse().ok());
    let roots: Vec<PathBuf> = if args.is_empty() {
        default_roots()
    } else {
        args.iter().map(PathBuf::from).collect()
    };
    if roots.is_empty() {
        eprintln!("error: precision bench: no source tree found (no Cargo registry sources, no python3 stdlib)");
        std::process::exit(2);
    }
    let limit = max_mb.map(|m| m * 1_000_000).unwrap_or(u64::MAX);

    let mut files: Vec<PathBuf> = Vec::new();
    for r in &roots {
        walk(r, &mut files);
    }
    files.sort();

    let mut redactor = Redactor::builtin(Mode::Mask);
    let mut per_rule: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    let mut falses: Vec<String> = Vec::new();
    let (mut bytes, mut scanned, mut skipped) = (0u64, 0u64, 0u64);
    let mut redact_time = std::time::Duration::ZERO;
    let t0 = Instant::now();
    for (i, f) in files.iter().enumerate() {
        if bytes >= limit {
            break;
        }
        let Some(text) = read_text(f) else {
            skipped += 1;
            continue;
        };
        scanned += 1;
        bytes += text.len() as u64;
        let mut rep = Report::default();
        let run = format!("file-{i}");
        let t = Instant::now();
        let _ = redactor.redact_str(&run, &text, Field::ToolOutput, &mut rep);
        redact_time += t.elapsed();
        let test_tree = in_test_tree(f);
        for m in &rep.matches {
            let value = text.get(m.start..m.end).unwrap_or("");
            let quoted = quoted_literal(&text, m.start, m.end);
            let line_start = text[..m.start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[m.start..]
                .find('\n')
                .map_or(text.len(), |i| m.start + i);
            let line = &text[line_start..line_end];
            let class = if m.rule == "phone"
                && !value.contains(|c: char| !c.is_ascii_digit() && c != '+')
            {
                // A bare `+digits` number is a phone only where the line says so.
                let l = line.to_ascii_lowercase();
                if ["tel:", "phone", "call", "mobile", "fax", "whatsapp", "sms"]
                    .iter()
                    .any(|w| l.contains(w))
                {
                    classify(&m.rule, value, test_tree, quoted)
                } else {
                    Class::False
                }
            } else {
                classify(&m.rule, value, test_tree, quoted)
            };
            per_rule.entry(m.rule.clone()).or_default()[class as usize] += 1;
            if class == Class::False || all {
                let line_no = text[..m.start.min(text.len())].matches('\n').count() + 1;
                let line = text.lines().nth(line_no - 1).unwrap_or("");
                falses.push(format!(
                    "{}{}:{line_no}: {}: {} | {}",
                    if all {
                        format!("{class:?}: ")
                    } else {
                        String::new()
                    },
                    f.display(),
                    m.rule,
                    shown(value, 60),
                    shown(line.trim(), 140)
                ));
            }
        }
    }
    let wall = t0.elapsed();

    let mb = bytes as f64 / 1e6;
    println!(
        "precision: {} file(s) under {} root(s), {:.1} MB scanned ({} skipped: binary, not UTF-8 or over 8 MiB); redaction {:.2} s ({:.0} MB/s), wall {:.2} s",
        scanned,
        roots.len(),
        mb,
        skipped,
        redact_time.as_secs_f64(),
        mb / redact_time.as_secs_f64().max(1e-9),
        wall.as_secs_f64()
    );
    for r in &roots {
        println!("  root: {}", r.display());
    }
    println!(
        "{:<28} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "rule", "total", "secret", "test", "pii", "false"
    );
    let mut tot = [0u64; 4];
    for (rule, c) in &per_rule {
        let n: u64 = c.iter().sum();
        println!(
            "{rule:<28} {n:>7} {:>7} {:>7} {:>7} {:>7}",
            c[0], c[1], c[2], c[3]
        );
        for k in 0..4 {
            tot[k] += c[k];
        }
    }
    println!(
        "{:<28} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "all",
        tot.iter().sum::<u64>(),
        tot[0],
        tot[1],
        tot[2],
        tot[3]
    );
    let per20 = if mb > 0.0 {
        tot[3] as f64 * 20.0 / mb
    } else {
        0.0
    };
    println!(
        "false redactions: {} in {:.1} MB = {:.2} per 20 MB (goal: at most 1 per 20 MB)",
        tot[3], mb, per20
    );
    if !quiet {
        for l in &falses {
            println!("  false: {l}");
        }
    }
}

fn take_flag(args: &mut Vec<String>, name: &str) -> bool {
    let before = args.len();
    args.retain(|a| a != name);
    args.len() != before
}

fn take_value(args: &mut Vec<String>, name: &str) -> Option<String> {
    let i = args.iter().position(|a| a == name)?;
    args.remove(i);
    (i < args.len()).then(|| args.remove(i))
}

/// The Cargo registry sources and the Python standard library of this machine.
fn default_roots() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(src) = cargo_home.map(|c| c.join("registry/src")) {
        if src.is_dir() {
            out.push(src);
        }
    }
    let py = std::process::Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|p| p.is_dir());
    let py = py.or_else(|| {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("python3.") && p.join("os.py").exists())
            })
            .collect();
        dirs.sort();
        dirs.pop()
    });
    out.extend(py);
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if matches!(
                name.as_ref(),
                "site-packages" | "dist-packages" | "__pycache__" | ".git" | "target"
            ) {
                continue;
            }
            walk(&p, out);
        } else if ft.is_file() {
            out.push(p);
        }
    }
}

fn read_text(p: &Path) -> Option<String> {
    let meta = std::fs::metadata(p).ok()?;
    if meta.len() > MAX_FILE || meta.len() == 0 {
        return None;
    }
    let bytes = std::fs::read(p).ok()?;
    if memchr::memchr(0, &bytes).is_some() {
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// Test, example, fixture and documentation trees, where credential-shaped literals
/// are fixtures.
fn in_test_tree(p: &Path) -> bool {
    p.components().any(|c| {
        let s = c.as_os_str().to_string_lossy().to_ascii_lowercase();
        matches!(
            s.as_str(),
            "test"
                | "tests"
                | "testing"
                | "testdata"
                | "test_data"
                | "fixtures"
                | "examples"
                | "example"
                | "benches"
                | "doc"
                | "docs"
                | "idlelib"
                | "unittest"
        ) || s.starts_with("test_")
            || s.ends_with("_test.py")
            || s.ends_with("_tests.rs")
            || s.ends_with("_test.rs")
            || s == "tests.rs"
    })
}

/// Words that mark a documented example or fixture value.
const TEST_WORDS: &[&str] = &[
    "example",
    "test",
    "dummy",
    "fake",
    "sample",
    "mock",
    "xxx",
    "foo",
    "bar",
    "baz",
    "secret",
    "passw",
    "changeme",
    "placeholder",
    "hunter",
    "s3cr3t",
    "12345",
    "abcdef",
    "abc123",
    "demo",
    "redacted",
    "invalid",
    "your",
    "my_",
    "mypass",
    "letmein",
    "qwerty",
    "spam",
    "eggs",
    "0000",
    "1111",
    "aaaa",
    "user",
    "admin",
    "pass",
    "pwd",
    "key",
    "token",
    "aladdin",
    "opensesame",
    "open sesame",
    "coyote",
    "wile",
    "python",
    "guest",
    "anonymous",
];

fn test_like(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    TEST_WORDS.iter().any(|w| l.contains(w))
}

/// Shannon entropy in bits per byte.
fn entropy(v: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in v.bytes() {
        counts[b as usize] += 1;
    }
    let n = v.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// A literal with the shape of a generated credential: 8+ characters of a token
/// alphabet that are not words joined by `_` (`_bindgen_ty_7`, `NSS_BUFLEN_PASSWD`),
/// with three character classes, or two and the entropy of a long random string, or
/// 32+ hex digits.
fn credential_shaped(v: &str) -> bool {
    let v = v.trim_matches(|c| c == '"' || c == '\'');
    if v.len() < 8
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-.~%!@#$^&*".contains(&b))
    {
        return false;
    }
    let words = v.split('_').all(|p| {
        let letters = p.trim_end_matches(|c: char| c.is_ascii_digit());
        letters.bytes().all(|b| b.is_ascii_lowercase())
            || letters.bytes().all(|b| b.is_ascii_uppercase())
    });
    if words {
        return false;
    }
    let lower = v.bytes().any(|b| b.is_ascii_lowercase());
    let upper = v.bytes().any(|b| b.is_ascii_uppercase());
    let digit = v.bytes().any(|b| b.is_ascii_digit());
    let classes = u8::from(lower) + u8::from(upper) + u8::from(digit);
    let e = entropy(v);
    let hex = v.len() >= 32 && v.bytes().all(|b| b.is_ascii_hexdigit());
    // Generated credentials of 16+ characters nearly always hold a digit (97% of 20
    // random alphanumerics do); CamelCase type names never do.
    let long_random = (digit && v.len() >= 16 && e >= 3.3) || (v.len() >= 24 && e >= 4.0);
    // A digit inside (not only at the end) of 10+ characters: generated, not a word.
    let interior_digit = v
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .bytes()
        .any(|b| b.is_ascii_digit());
    let short_random = v.len() >= 10 && classes >= 2 && e >= 3.0 && interior_digit;
    (classes == 3 && e >= 2.8) || (classes >= 2 && long_random) || short_random || (hex && e >= 3.0)
}

const TEST_CARDS: &[&str] = &[
    "4111111111111111",
    "4242424242424242",
    "4012888888881881",
    "4222222222222",
    "5555555555554444",
    "5105105105105100",
    "5500000000000004",
    "378282246310005",
    "371449635398431",
    "378734493671000",
    "6011111111111117",
    "6011000990139424",
    "30569309025904",
    "38520000023237",
    "3530111333300000",
    "3566002020360505",
    "4000056655665556",
    "5200828282828210",
];

/// True when `text[start..end]` is a whole quoted string literal (`"…"` or `'…'`).
fn quoted_literal(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let before = start.checked_sub(1).and_then(|i| b.get(i));
    matches!(before, Some(b'"' | b'\'')) && b.get(end) == before
}

/// `s` with `%XX` escapes decoded (values found in URL-encoded text).
fn pct_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn classify(rule: &str, value: &str, test_tree: bool, quoted: bool) -> Class {
    let decoded = pct_decoded(value);
    let value = decoded.as_str();
    // Rules whose value is a literal by construction (in a URL, after a flag).
    let literal_rule = matches!(
        rule,
        "url_credentials" | "curl_basic_auth" | "cli_secret_flag"
    );
    let quoted = quoted || literal_rule;
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let test_or = |c: Class| {
        if test_tree || test_like(value) {
            Class::Test
        } else {
            c
        }
    };
    match rule {
        "email" => {
            let l = value.to_ascii_lowercase();
            let domain = l.rsplit('@').next().unwrap_or("");
            if domain.contains("example")
                || domain.ends_with(".test")
                || domain.ends_with(".invalid")
            {
                Class::Test
            } else if domain.contains('.') {
                Class::Pii
            } else {
                Class::False
            }
        }
        "credit_card" => {
            if TEST_CARDS.contains(&digits.as_str()) {
                Class::Test
            } else {
                Class::False
            }
        }
        "us_ssn" => {
            if ["078051120", "123456789", "219099999"].contains(&digits.as_str()) {
                Class::Test
            } else {
                Class::False
            }
        }
        "iban" => {
            let c: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            if [
                "DE89370400440532013000",
                "GB82WEST12345698765432",
                "GB29NWBK60161331926819",
            ]
            .contains(&c.as_str())
                || test_tree
            {
                Class::Test
            } else {
                Class::False
            }
        }
        "phone" => {
            let sequential = ["1234567", "2345678", "3456789", "0000000"]
                .iter()
                .any(|q| digits.contains(q));
            let date = value.len() >= 10
                && value[value.len() - 6..].starts_with('-')
                && value[value.len() - 3..].starts_with('-');
            let epoch = !value.contains(|c: char| !c.is_ascii_digit() && c != '+')
                && digits.len() == 10
                && digits.starts_with('1');
            if date || epoch || value.contains('.') {
                Class::False
            } else if digits.contains("555") || sequential {
                Class::Test
            } else {
                Class::Pii
            }
        }
        "private_key" => {
            if value.starts_with("-----BEGIN") && value.len() > 64 {
                test_or(Class::Secret)
            } else {
                Class::False
            }
        }
        "jwt" => {
            use base64::Engine as _;
            let head = value.split('.').next().unwrap_or("");
            let ok = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(head.trim_end_matches('='))
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .is_some_and(|h| h.contains("\"alg\"") || h.contains("\"typ\""));
            if ok {
                test_or(Class::Secret)
            } else {
                Class::False
            }
        }
        "cookie_header" => {
            let any = value
                .split([';', '=', ',', ' ', '"', '\''])
                .any(credential_shaped);
            if any {
                test_or(Class::Secret)
            } else {
                Class::False
            }
        }
        _ => {
            if credential_shaped(value) {
                test_or(Class::Secret)
            } else if !code_like(value)
                && !label_like(value)
                && !value.contains(' ')
                && value.len() >= 4
                && (test_tree || test_like(value))
                && (quoted || !value.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_'))
            {
                // A literal fixture password such as "hunter2", "secret123", or
                // `user:pass@host` in a test or an example.
                Class::Test
            } else {
                Class::False
            }
        }
    }
}

/// Code rather than a value: a path (`a::b`, `a.b.c`), a call or subscript, a
/// leading separator (`::Paren`), a generic or an identifier made only of words.
fn code_like(v: &str) -> bool {
    let v = v.trim_matches(|c| c == '"' || c == '\'');
    v.starts_with(':')
        || v.contains("::")
        || v.contains('(')
        || v.contains('[')
        || v.contains('<')
        || (v.contains('.')
            && v.split('.').all(|p| {
                !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            }))
}

/// A constant or type name used as a label: `SCREAMING_SNAKE_CASE` with two or more
/// underscores, or `CamelCase` with two or more humps.
fn label_like(v: &str) -> bool {
    let v = v.trim_matches(|c| c == '"' || c == '\'');
    let screaming = v.matches('_').count() >= 2
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let humps = v.bytes().filter(u8::is_ascii_uppercase).count();
    let camel = v.bytes().all(|b| b.is_ascii_alphabetic())
        && v.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && humps >= 2;
    screaming || camel
}

/// A value or line as printed: control characters escaped, at most `n` characters.
fn shown(s: &str, n: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i >= n {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
