//! The calls that matter in folded interpreter code, read with their
//! literal arguments: files read and written, commands run (a command line or
//! an argv list), code evaluated (and whether it was decoded or downloaded),
//! URLs, sockets and their peers, and whether a shell is wired to them.

use super::data::InterpData;
use super::lex::unlit;
use super::{Facts, Lang};
use regex::Regex;
use std::sync::OnceLock;

/// At most this many reads, writes, URLs and sockets are kept per program.
const MAX_ITEMS: usize = 32;

/// A literal found in the code: its value and byte range.
#[derive(Debug, Clone)]
struct Lit {
    value: String,
    start: usize,
    end: usize,
}

fn literals(code: &str, data: &InterpData) -> Vec<Lit> {
    data.lit
        .find_iter(code)
        .map(|m| Lit {
            value: unlit(&m.as_str()[1..m.as_str().len() - 1]),
            start: m.start(),
            end: m.end(),
        })
        .collect()
}

/// The bytes of `b` from `from` on that lie outside string literals (canonical
/// `"…"` with backslash escapes), with their offsets.
fn outside_literals(b: &[u8], from: usize) -> impl Iterator<Item = (usize, u8)> + '_ {
    let mut i = from;
    let mut in_lit = false;
    std::iter::from_fn(move || {
        while i < b.len() {
            let c = b[i];
            i += 1;
            if in_lit {
                if c == b'\\' {
                    i += 1;
                } else if c == b'"' {
                    in_lit = false;
                }
                continue;
            }
            if c == b'"' {
                in_lit = true;
                continue;
            }
            return Some((i - 1, c));
        }
        None
    })
}

/// The argument text of a call whose name ends at `at`: up to the matching
/// `)` when a `(` follows, else to the end of the statement.
fn window(code: &str, at: usize) -> (usize, usize) {
    let rest = &code[at..];
    let trimmed = rest.trim_start();
    let start = at + (rest.len() - trimmed.len());
    let b = code.as_bytes();
    if trimmed.starts_with('(') {
        let mut depth = 0i32;
        for (i, c) in outside_literals(b, start) {
            if c == b'(' || c == b'[' || c == b'{' {
                depth += 1;
            } else if c == b')' || c == b']' || c == b'}' {
                depth -= 1;
                if depth == 0 {
                    return (start + 1, i);
                }
            }
        }
        return (start + 1, b.len());
    }
    let end = outside_literals(b, start)
        .find(|&(i, c)| {
            c == b';' || c == b'\n' || c == b'}' || c == b'|' && !code[i..].starts_with("||")
        })
        .map_or(b.len(), |(i, _)| i);
    (start, end)
}

/// Commas at the top level of an argument text (outside literals and brackets).
fn top_level_commas(text: &str) -> usize {
    let mut depth = 0i32;
    let mut n = 0;
    for (_, c) in outside_literals(text.as_bytes(), 0) {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => n += 1,
            _ => {}
        }
    }
    n
}

fn in_window(lits: &[Lit], w: (usize, usize)) -> Vec<&Lit> {
    lits.iter()
        .filter(|l| l.start >= w.0 && l.end <= w.1)
        .collect()
}

/// A literal that names a file: rooted, home-relative, dotted-relative, or a
/// well-known credential name.
pub fn path_like(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() || s.len() > 4096 || s.contains("://") || s.contains('\n') {
        return false;
    }
    if ["~", "~/", "/", ".", "./", "..", "../"].contains(&s) {
        return false;
    }
    if s.starts_with('/') || s.starts_with("~") || s.starts_with("./") || s.starts_with("../") {
        return !s.contains(' ') || s.matches(' ').count() < 3;
    }
    let base = s.rsplit('/').next().unwrap_or(s);
    (s.contains('/') && !s.contains(' ') && s.contains('.'))
        || base.starts_with(".env")
        || base.starts_with("id_")
        || base.ends_with(".pem")
        || base == "credentials"
        || base == "credentials.json"
}

/// A literal that names a network peer: an IP address or a dotted host name.
fn host_like(s: &str) -> Option<(String, Option<String>)> {
    let s = s.trim();
    if s.is_empty() || s.len() > 253 || s.contains(['/', ' ', '@']) {
        return None;
    }
    let (h, port) = match s.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => {
            (h, Some(p.to_string()))
        }
        _ => (s, None),
    };
    let ok = h.contains('.')
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !h.ends_with(".py")
        && !h.ends_with(".js")
        && !h.ends_with(".sh")
        && h.chars().any(|c| c.is_ascii_alphanumeric());
    let ok = ok || h == "localhost" || h.parse::<std::net::IpAddr>().is_ok();
    ok.then(|| (h.to_string(), port))
}

fn port_in(text: &str) -> Option<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE
        .get_or_init(|| {
            crate::lazyre::note_compile();
            Regex::new(r"(?:^|[^\w.])(\d{2,5})(?:[^\w.]|$)").ok()
        })
        .as_ref()?;
    re.captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().to_string())
        .find(|p| {
            p.parse::<u32>()
                .map(|n| n > 0 && n < 65536)
                .unwrap_or(false)
        })
}

/// Reads the facts of folded code.
pub fn extract(lang: Lang, code: &str, decoded: &[String], data: &InterpData) -> Facts {
    let lits = literals(code, data);
    let mut f = Facts::default();
    let mut used: Vec<usize> = Vec::new(); // literal starts consumed as commands or code
    let is_decoded = |v: &str| decoded.iter().any(|d| d == v);

    // commands run
    for m in data.exec.captures_iter(code) {
        let Some(name) = m.name("name") else { continue };
        let callee = name.as_str().to_ascii_lowercase();
        if lang == Lang::Python && (callee == "exec" || callee == "compile") {
            continue; // Python's exec() evaluates Python
        }
        let w = window(code, name.end());
        let args = in_window(&lits, w);
        let text = code[w.0..w.1].trim_start();
        if args.is_empty() {
            if !callee.contains("getline") && !callee.starts_with("print") {
                f.spawns_shell |= data.shell.is_match(&code[w.0..w.1]);
            }
            continue;
        }
        // an encoded literal handed to a command through a decoding idiom the
        // folding does not know (`("6375…"):gsub(..)`): decode it speculatively
        for l in &args {
            if let Some(d) = speculative_decode(&l.value) {
                f.evals_decoded = true;
                if f.shell.len() < MAX_ITEMS {
                    f.shell.push(d);
                }
            }
        }
        let top_commas = top_level_commas(&code[w.0..w.1]);
        let list = text.starts_with('[')
            || (top_commas > 0
                && args.len() >= 2
                && !args[0].value.contains(' ')
                && !args[0].value.is_empty());
        if !list && args.len() >= 2 && top_commas == 0 {
            // one command line built from pieces and variables: `"curl -d \"" d "\" url"`
            let line: Vec<&str> = args.iter().map(|l| l.value.as_str()).collect();
            if f.shell.len() < MAX_ITEMS {
                f.shell.push(line.join("$x"));
            }
            used.extend(args.iter().map(|l| l.start));
            continue;
        }
        if list {
            let mut argv: Vec<String> = args.iter().map(|l| l.value.clone()).collect();
            if callee.starts_with("os.exec")
                || callee.starts_with("os.spawn")
                || callee == "pcntl_exec"
            {
                if callee.starts_with("os.spawn") && !argv.is_empty() {
                    argv.remove(0);
                }
                if argv.len() >= 2 {
                    argv.remove(0);
                }
            }
            if f.argv.len() < MAX_ITEMS {
                f.argv.push(argv);
            }
        } else if f.shell.len() < MAX_ITEMS {
            f.shell.push(args[0].value.clone());
        }
        // running a command line that decoding revealed is obfuscated execution
        if args.iter().any(|l| is_decoded(&l.value))
            || data
                .decoders
                .iter()
                .any(|(_, r)| r.is_match(&code[w.0..w.1]))
        {
            f.evals_decoded = true;
        }
        used.extend(args.iter().map(|l| l.start));
    }
    if lang == Lang::Awk {
        awk_pipes(code, &lits, &mut f, &mut used);
    }

    // code evaluated
    for m in data.eval.captures_iter(code) {
        let Some(name) = m.name("name") else { continue };
        let w = window(code, name.end());
        let inner = &code[w.0..w.1];
        let args = in_window(&lits, w);
        let decoder_call = data.decoders.iter().any(|(_, r)| r.is_match(inner))
            || [
                "b64decode",
                "atob(",
                "base64",
                "fromhex",
                "unhexlify",
                "decode(",
                "fromcharcode",
                "frombase64",
                "pack(",
                "unpack",
                "gzinflate",
                "decompress",
                "str_rot13",
                "[::-1]",
            ]
            .iter()
            .any(|k| inner.to_ascii_lowercase().contains(k));
        if decoder_call || args.iter().any(|l| is_decoded(&l.value)) {
            f.evals_decoded = true;
        }
        if data.download.is_match(inner) {
            f.evals_download = true;
        }
        for a in args {
            if let Some(d) = speculative_decode(&a.value) {
                f.evals_decoded = true;
                if f.code.len() < MAX_ITEMS {
                    f.code.push(d);
                }
            }
            if a.value.len() >= 3 && f.code.len() < MAX_ITEMS {
                f.code.push(a.value.clone());
                used.push(a.start);
            }
        }
    }

    // files written, then read
    for m in data.write.captures_iter(code) {
        let Some(name) = m.name("name") else { continue };
        let w = window(code, name.end());
        let args = in_window(&lits, w);
        if let Some(p) = args.iter().find(|l| path_like(&l.value)) {
            let content: Vec<String> = args
                .iter()
                .filter(|l| l.start != p.start)
                .map(|l| l.value.clone())
                .collect();
            push_write(&mut f, &p.value, content.join(""));
            used.push(p.start);
        }
    }
    for m in data.read.captures_iter(code) {
        let Some(name) = m.name("name") else { continue };
        let w = window(code, name.end());
        let args = in_window(&lits, w);
        let write_mode = args
            .iter()
            .any(|l| data.write_modes.is_match(&super::lex::lit(&l.value)))
            || (lang == Lang::Perl && args.iter().any(|l| l.value.starts_with('>')));
        for l in &args {
            let v = l.value.trim();
            let (mode_write, path) = if lang == Lang::Perl || lang == Lang::Ruby {
                let p = v.trim_start_matches(['<', '>', '+', '|', ' ']);
                (v.starts_with('>'), p)
            } else {
                (false, v)
            };
            if !path_like(path) || used.contains(&l.start) {
                continue;
            }
            if write_mode || mode_write {
                let after = &code[w.1.min(code.len())..];
                let content = after
                    .trim_start_matches(')')
                    .trim_start()
                    .strip_prefix(".write")
                    .map(|_| {
                        let ww = window(
                            code,
                            w.1 + 1 + after.find(".write").unwrap_or(0) + ".write".len(),
                        );
                        in_window(&lits, ww)
                            .iter()
                            .map(|l| l.value.clone())
                            .collect::<Vec<_>>()
                            .join("")
                    })
                    .unwrap_or_default();
                push_write(&mut f, path, content);
            } else if f.reads.len() < MAX_ITEMS && !f.reads.iter().any(|r| r == path) {
                f.reads.push(path.to_string());
            }
            used.push(l.start);
            break;
        }
    }
    // any other path literal counts as read when the code reads files at all
    if data.read.is_match(code) {
        for l in &lits {
            if !used.contains(&l.start)
                && path_like(&l.value)
                && f.reads.len() < MAX_ITEMS
                && !f.reads.contains(&l.value)
                && !f.writes.iter().any(|(p, _)| p == &l.value)
            {
                f.reads.push(l.value.clone());
            }
        }
    }

    // sockets and their peers
    for l in &lits {
        for pre in ["/inet/tcp/", "/inet/udp/", "/dev/tcp/", "/dev/udp/"] {
            if let Some(rest) = l.value.split(pre).nth(1) {
                let parts: Vec<&str> = rest.split('/').collect();
                let (host, port) = if pre.starts_with("/inet") {
                    (parts.get(1).copied(), parts.get(2).copied())
                } else {
                    (parts.first().copied(), parts.get(1).copied())
                };
                if let Some(h) = host.filter(|h| !h.is_empty() && *h != "0") {
                    push_socket(&mut f, h, port.map(str::to_string));
                }
            }
        }
    }
    let mut socket_call = false;
    for m in data.socket.captures_iter(code) {
        let Some(name) = m.name("name") else { continue };
        socket_call = true;
        let w = window(code, name.end());
        let inner = &code[w.0..w.1];
        for l in in_window(&lits, w) {
            // a name followed by a port is a peer even when it looks like a file
            // (`("transfer.sh", 31337)`)
            let ported = code[l.end.min(code.len())..]
                .trim_start()
                .strip_prefix(',')
                .map(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or(false);
            let peer = host_like(&l.value).or_else(|| {
                ported
                    .then(|| host_like(&format!("{}.x", l.value)))
                    .flatten()
                    .map(|(h, p)| (h.trim_end_matches(".x").to_string(), p))
            });
            if let Some((h, p)) = peer {
                push_socket(&mut f, &h, p.or_else(|| port_in(inner)));
            }
        }
    }
    if socket_call && f.sockets.is_empty() {
        // the peer was named elsewhere (a variable the folding could not follow)
        if let Some((h, p)) = lits
            .iter()
            .filter(|l| !l.value.contains("://"))
            .find_map(|l| host_like(&l.value))
        {
            push_socket(&mut f, &h, p.or_else(|| port_in(code)));
        }
    }

    // `{host: "h", method: "POST"}` (Node's http.request and friends): a URL too
    static HOSTKEY: OnceLock<Option<Regex>> = OnceLock::new();
    if let Some(r) = HOSTKEY
        .get_or_init(|| {
            Regex::new(&format!(
                r"(?i)\b(?:host|hostname)\s*[:=]>?\s*({})",
                super::fold::LIT
            ))
            .ok()
        })
        .as_ref()
    {
        for c in r.captures_iter(code) {
            if let Some(m) = c.get(1) {
                let h = unlit(&m.as_str()[1..m.as_str().len() - 1]);
                if host_like(&h).is_some() && f.urls.len() < MAX_ITEMS {
                    f.urls.push(format!("https://{h}/"));
                }
            }
        }
    }
    // URLs
    for l in &lits {
        if used.contains(&l.start) {
            continue;
        }
        for u in crate::detect::network::urls_in(&l.value) {
            if f.urls.len() < MAX_ITEMS && !f.urls.contains(&u) {
                f.urls.push(u);
            }
        }
    }
    f.sends = data.send.is_match(code);
    f.socket_sends = data.socket_send.is_match(code);
    f.spawns_shell |= data.shell.is_match(code);
    f
}

/// A literal that is nothing but hex or base64 and decodes to printable text:
/// the text (so a decoder the folding does not know still reveals it).
fn speculative_decode(v: &str) -> Option<String> {
    let v = v.trim();
    if v.len() < 16 || v.contains(' ') {
        return None;
    }
    let bytes = if v.len() % 2 == 0 && v.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(v).ok()?
    } else if v.chars().all(|c| {
        c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=' || c == '-' || c == '_'
    }) && v
        .chars()
        .any(|c| c.is_ascii_digit() || c == '+' || c == '/' || c == '=')
    {
        crate::detect::shell::eval::decode_base64(v.as_bytes())?
    } else {
        return None;
    };
    let text = String::from_utf8(bytes).ok()?;
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    (text.len() >= 8 && printable == text.chars().count() && text.contains(' ')).then_some(text)
}

fn push_write(f: &mut Facts, path: &str, content: String) {
    if f.writes.len() < MAX_ITEMS && !f.writes.iter().any(|(p, _)| p == path) {
        f.writes.push((path.to_string(), content));
    }
}

fn push_socket(f: &mut Facts, host: &str, port: Option<String>) {
    if f.sockets.len() < MAX_ITEMS && !f.sockets.iter().any(|(h, _)| h == host) {
        f.sockets.push((host.to_string(), port));
    }
}

/// awk's `"cmd" | getline` runs cmd; `print x | "cmd"` runs cmd with x on its stdin
/// (so `print "id" | "sh"` runs `id`).
fn awk_pipes(code: &str, lits: &[Lit], f: &mut Facts, used: &mut Vec<usize>) {
    static GETLINE: OnceLock<Option<Regex>> = OnceLock::new();
    static PRINT: OnceLock<Option<Regex>> = OnceLock::new();
    let lit = super::fold::LIT;
    if let Some(r) = GETLINE
        .get_or_init(|| Regex::new(&format!(r"({lit})\s*\|\s*getline\s*(\w*)")).ok())
        .as_ref()
    {
        for c in r.captures_iter(code) {
            if let Some(m) = c.get(1) {
                let cmd = unlit(&m.as_str()[1..m.as_str().len() - 1]);
                // `"CMD" | getline c; system(c)` runs what CMD prints
                let var = c.get(2).map(|v| v.as_str()).unwrap_or("");
                let rerun = !var.is_empty()
                    && Regex::new(&format!(r"system\s*\(\s*{}\s*\)", regex::escape(var)))
                        .map(|r| r.is_match(code))
                        .unwrap_or(false);
                if rerun {
                    f.shell.push(format!("sh -c \"$({cmd})\""));
                } else {
                    f.shell.push(cmd);
                }
                used.push(m.start());
            }
        }
    }
    if let Some(r) = PRINT
        .get_or_init(|| {
            Regex::new(&format!(r"print(?:f)?\s*\(?\s*({lit})?[^|;]*\|\s*({lit})")).ok()
        })
        .as_ref()
    {
        for c in r.captures_iter(code) {
            let Some(cmd) = c.get(2) else { continue };
            let runner = unlit(&cmd.as_str()[1..cmd.as_str().len() - 1]);
            let shellish =
                ["sh", "bash", "/bin/sh", "/bin/bash", "zsh", "dash"].contains(&runner.trim());
            match (shellish, c.get(1)) {
                (true, Some(p)) => f.shell.push(unlit(&p.as_str()[1..p.as_str().len() - 1])),
                _ => f.shell.push(runner),
            }
            used.push(cmd.start());
        }
    }
    let _ = lits;
}
