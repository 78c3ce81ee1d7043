//! The text tools the evaluator runs on literal text: `echo` and `printf`
//! with their escapes, `tr` and simple `sed s///`.

/// `echo [-n] [-e] [-E] args…`.
pub(super) fn echo(args: &[String]) -> Vec<u8> {
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
pub(super) fn printf(args: &[String]) -> Option<Vec<u8>> {
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
pub(super) fn format_once(
    fmt: &str,
    args: &[&String],
    next: &mut usize,
    out: &mut Vec<u8>,
) -> Option<bool> {
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
pub(super) fn int_arg(a: &str) -> Option<i64> {
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
pub(super) fn tr(args: &[String], input: &[u8]) -> Option<Vec<u8>> {
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

pub(super) fn expand_set(s: &str) -> Option<Vec<char>> {
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
pub(super) fn sed(args: &[String], input: &[u8]) -> Option<Vec<u8>> {
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
