//! Validators: cheap checks that run after a rule's regex matched, to throw out
//! look-alikes (a 13-digit timestamp is not a card, a UUID is not a phone, a call
//! is not a password).
//!
//! Each validator sees the whole text, the regex match range and the range of
//! the part to redact, so it can look beyond the match (what the regex crate's
//! lack of look-around cannot), and the rule's data ([`Checks`]). All are pure and
//! allocation-free except where noted; none can panic on any input.

use super::rules::{PhoneCodes, Rule};
use super::value::{self, Words};
use std::ops::Range;

/// What a validator may consult besides the text: the rule that matched, the word
/// lists values are judged by and the phone country codes.
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    pub rule: &'a Rule,
    pub words: &'a Words,
    pub phone: &'a PhoneCodes,
    /// The value is a known test or example value (a test card number needs no context).
    pub example: bool,
}

/// A named check a rule may require (`validator = "luhn"` in `rules.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// Luhn checksum over the digits.
    Luhn,
    /// Payment card: 13–19 digits, a known issuer prefix and length, Luhn, one separator style.
    Card,
    /// IBAN: known country, its length, mod-97 checksum.
    Iban,
    /// US SSN: area not 000/666/9xx, group not 00, serial not 0000, not part of a longer number.
    Ssn,
    /// Phone: 9–15 digits, not glued to letters, dots or dashes of a longer token.
    Phone,
    /// Email: not an image/file name (`icon@2x.png`) nor `git@host`.
    Email,
    /// At least two of lower case, upper case and digits (random-looking).
    Mixed,
    /// Letters and digits, with one unbroken run of 10+ alphanumerics (not a hyphenated word).
    Random,
    /// Not a placeholder (`${X}`, `<token>`, `xxx`, `your_key_here`, ...).
    Placeholder,
    /// A `key = value` value judged as a value ([`super::value::is_secret`]): not
    /// code, not a placeholder, a literal or random enough by `[rule.value]`.
    Assignment,
    /// `-u user:password` of a `curl` command (not `socat -u`, `git push -u`),
    /// the password judged as a shell word.
    Curl,
    /// A cookie header holding at least one value random enough by `[rule.value]`.
    Cookie,
    /// A PEM block with key material: an END line, or 16+ base64 characters.
    Pem,
}

impl Validator {
    /// Parses a validator name from rule data.
    pub fn from_name(name: &str) -> Option<Validator> {
        Some(match name {
            "luhn" => Validator::Luhn,
            "card" => Validator::Card,
            "iban" => Validator::Iban,
            "ssn" => Validator::Ssn,
            "phone" => Validator::Phone,
            "email" => Validator::Email,
            "mixed" => Validator::Mixed,
            "random" => Validator::Random,
            "placeholder" => Validator::Placeholder,
            "assignment" => Validator::Assignment,
            "curl" => Validator::Curl,
            "cookie" => Validator::Cookie,
            "pem" => Validator::Pem,
            _ => return None,
        })
    }

    /// Every validator name, for error messages and docs.
    pub const NAMES: &'static str =
        "luhn, card, iban, ssn, phone, email, mixed, random, placeholder, assignment, curl, cookie, pem";

    /// True when the candidate `secret` (inside match `m`) of `text` passes.
    pub fn check(self, text: &str, m: Range<usize>, secret: Range<usize>, c: Checks<'_>) -> bool {
        let s = text.get(secret.clone()).unwrap_or("");
        match self {
            Validator::Luhn => luhn_digits(s),
            Validator::Card => card(s) && (c.example || card_context(text, secret, c.rule)),
            Validator::Iban => iban(s),
            Validator::Ssn => ssn(s) && standalone_number(text, secret),
            Validator::Phone => phone(text, secret, c.phone),
            Validator::Email => email(s) && !url_password(text, secret.start),
            Validator::Mixed => mixed(s),
            Validator::Random => random(s),
            Validator::Placeholder => !value::placeholder(s, c.words),
            Validator::Assignment => value::is_secret(text, m, secret, &c.rule.value, c.words),
            Validator::Curl => {
                curl_command(text, m.start)
                    && value::is_secret(text, m, secret, &c.rule.value, c.words)
            }
            Validator::Cookie => cookie(s, c),
            Validator::Pem => pem_body(text.get(m).unwrap_or("")),
        }
    }
}

/// True when the flag at `at` belongs to a `curl` command: a word of its command
/// segment (after the last line break, `;`, `|`, `&`, `(`, backtick or brace) before
/// the flag names curl (any path; a word glued to text before it, `xcurl`, counts,
/// and so does a command quoted inside another, `echo "curl …"`). `socat -u`,
/// `git push -u`, `sort -u` are not curl's.
fn curl_command(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    let mut at = at.min(b.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    let start = b[..at]
        .iter()
        .rposition(|c| matches!(c, b'\n' | b';' | b'|' | b'&' | b'(' | b'`' | b'{'))
        .map_or(0, |i| i + 1);
    text[start..at]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .any(|w| {
            let name = w.rsplit(['/', '\\']).next().unwrap_or(w);
            let name = name.strip_suffix(".exe").unwrap_or(name);
            name.ends_with("curl")
        })
}

/// A cookie header value that is not code (`cookie: crate::lgrp_cookie_t`,
/// `if cookie: cookies.append(cookie)`, `dcookie: c_long = X + 1`) and holds a value that looks generated: of
/// cookie-value characters, with a letter and a digit, random enough by
/// `[rule.value]`, not a host name (`PART_NUMBER=3,4; domain=foo.bar.acme.com`).
fn cookie(s: &str, c: Checks<'_>) -> bool {
    // Code: paths, calls, arrows, and assignments with spaces around `=` (never in a
    // cookie string): `SYS_lookup_dcookie: c_long = __X32_SYSCALL_BIT + 212;`.
    if s.contains("::") || s.contains('(') || s.contains("->") || s.contains(" = ") {
        return false;
    }
    s.split([';', '=', ',', ' ', '"', '\''])
        .map(|v| v.trim_start_matches('.'))
        .any(|v| {
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%+/".contains(&b))
                && v.bytes().any(|b| b.is_ascii_digit())
                && v.bytes().any(|b| b.is_ascii_alphabetic())
                && !dotted_name(v)
                && value::random_like(v, &c.rule.value)
        })
}

/// `foo.bar.acme.com`: dot-separated words without digits (a host or a path).
fn dotted_name(v: &str) -> bool {
    v.contains('.')
        && v.split('.')
            .all(|p| p.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'))
}

/// A PEM match with key material: its END line, or at least 16 base64 characters
/// after the header (a header alone, as in docs, is not a key).
fn pem_body(m: &str) -> bool {
    let body = m.split_once("-----").map_or("", |(_, rest)| rest);
    let body = body.split_once("-----").map_or("", |(_, rest)| rest);
    body.contains("-----END")
        || body
            .bytes()
            .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
            .count()
            >= 16
}

/// A card number written without separators is a card only near a word of the
/// rule's `context` (64 bytes before it) — constants in code and digits after a
/// decimal point are not; grouped numbers (`4111 1111 1111 1111`) need no context.
fn card_context(text: &str, r: Range<usize>, rule: &Rule) -> bool {
    let b = text.as_bytes();
    let before = r.start.checked_sub(1).and_then(|i| b.get(i)).copied();
    let after = b.get(r.end).copied();
    let after2 = b.get(r.end + 1).copied();
    let decimal = |sep: Option<u8>, next: Option<u8>| {
        sep == Some(b'.') && next.is_some_and(|c| c.is_ascii_digit())
    };
    let before2 = r.start.checked_sub(2).and_then(|i| b.get(i)).copied();
    if decimal(before, before2) || decimal(after, after2) {
        return false;
    }
    let grouped = text
        .get(r.clone())
        .is_some_and(|s| s.bytes().any(|c| !c.is_ascii_digit()));
    if grouped || rule.context.is_empty() {
        return true;
    }
    let from = r.start.saturating_sub(64);
    let mut from = from;
    while from > 0 && !text.is_char_boundary(from) {
        from -= 1;
    }
    let window = text[from..r.start].to_ascii_lowercase();
    rule.context.iter().any(|w| window.contains(w.as_str()))
}

/// Luhn checksum over the ASCII digits of `s` (other bytes ignored); false with < 2 digits.
pub fn luhn_digits(s: &str) -> bool {
    let mut sum = 0u32;
    let mut n = 0usize;
    for b in s.bytes().rev().filter(u8::is_ascii_digit) {
        let mut d = u32::from(b - b'0');
        if n % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        n += 1;
    }
    n >= 2 && sum % 10 == 0
}

fn card(s: &str) -> bool {
    let mut digits = [0u8; 19];
    let mut n = 0usize;
    let mut sep: Option<u8> = None;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            if n == 19 {
                return false;
            }
            digits[n] = b - b'0';
            n += 1;
        } else {
            // One separator style only: "4111 1111-1111 1111" is not a card.
            match sep {
                None => sep = Some(b),
                Some(x) if x == b => {}
                Some(_) => return false,
            }
        }
    }
    if !(13..=19).contains(&n) {
        return false;
    }
    let d = &digits[..n];
    let p2 = u32::from(d[0]) * 10 + u32::from(d[1]);
    let p4 = p2 * 100 + u32::from(d[2]) * 10 + u32::from(d[3]);
    let p3 = p4 / 10;
    let issuer_ok = match d[0] {
        4 => matches!(n, 13 | 16 | 19),              // Visa
        5 => (51..=55).contains(&p2) && n == 16,     // Mastercard
        2 => (2221..=2720).contains(&p4) && n == 16, // Mastercard 2-series
        3 => {
            ((p2 == 34 || p2 == 37) && n == 15)                     // Amex
                || ((3528..=3589).contains(&p4) && n >= 16)         // JCB
                || (((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && n >= 14)
            // Diners
        }
        6 => {
            (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || p2 == 62) && n >= 16
            // Discover, UnionPay
        }
        _ => false,
    };
    issuer_ok && luhn_digits(s)
}

/// ISO 13616 IBAN lengths per country.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

fn iban(s: &str) -> bool {
    let compact: Vec<u8> = s.bytes().filter(|b| *b != b' ').collect();
    if compact.len() < 15 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let country = std::str::from_utf8(&compact[..2]).unwrap_or("");
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
        return false;
    };
    if compact.len() != len {
        return false;
    }
    // Move the first four characters to the end; letters become 10..35; mod 97 must be 1.
    let mut rem: u32 = 0;
    for &b in compact[4..].iter().chain(&compact[..4]) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn ssn(s: &str) -> bool {
    let d: Vec<u32> = s
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .collect();
    if d.len() != 9 {
        return false;
    }
    let area = d[0] * 100 + d[1] * 10 + d[2];
    let group = d[3] * 10 + d[4];
    let serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// The bytes around `r` do not continue a longer number, version, word or path.
fn standalone_number(text: &str, r: Range<usize>) -> bool {
    let b = text.as_bytes();
    let before = r.start.checked_sub(1).and_then(|i| b.get(i)).copied();
    let before2 = r.start.checked_sub(2).and_then(|i| b.get(i)).copied();
    let after = b.get(r.end).copied();
    let after2 = b.get(r.end + 1).copied();
    let glued = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
    let joins = |sep: Option<u8>, next: Option<u8>| {
        matches!(sep, Some(b'.' | b'-' | b'/' | b':')) && next.is_some_and(|c| c.is_ascii_digit())
    };
    !glued(before) && !glued(after) && !joins(before, before2) && !joins(after, after2)
}

fn phone(text: &str, r: Range<usize>, codes: &PhoneCodes) -> bool {
    let s = text.get(r.clone()).unwrap_or("");
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|d| d - b'0')
        .collect();
    if !(9..=15).contains(&digits.len()) {
        return false;
    }
    if !s.starts_with('+') {
        // National form: the area code cannot start with 0 or 1.
        if digits[0] < 2 {
            return false;
        }
    } else {
        // "+" glued to a word ("x+12...") is arithmetic, not a phone.
        let prev = r.start.checked_sub(1).and_then(|i| text.as_bytes().get(i));
        if prev.is_some_and(|p| p.is_ascii_alphanumeric() || *p == b'+') {
            return false;
        }
        if !e164(&digits, codes) {
            return false;
        }
        // A separated first group is the country code: `+2.001…` is a decimal.
        let group = s[1..]
            .find(|ch: char| !ch.is_ascii_digit())
            .map(|i| &s[1..1 + i]);
        if let Some(g) = group.filter(|g| g.len() < digits.len()) {
            let known = g.parse::<u16>().is_ok_and(|cc| codes.0.contains_key(&cc));
            if !known && !codes.0.is_empty() && g.len() <= 3 {
                return false;
            }
        }
    }
    standalone_number(text, r)
}

/// `+<digits>`: an assigned country code followed by a national number of that
/// country's length (`+2147483649`, `+4294967296`, `+10000…` are numbers, not
/// phones). NANP (+1) area codes start with 2–9.
fn e164(d: &[u8], codes: &PhoneCodes) -> bool {
    if codes.0.is_empty() {
        return true;
    }
    (1..=3).any(|n| {
        if d.len() <= n {
            return false;
        }
        let cc = d[..n].iter().fold(0u16, |a, &x| a * 10 + u16::from(x));
        let Some(&(lo, hi)) = codes.0.get(&cc) else {
            return false;
        };
        let national = &d[n..];
        let len_ok = (usize::from(lo)..=usize::from(hi)).contains(&national.len());
        let nanp_ok = cc != 1 || national[0] >= 2;
        len_ok && nanp_ok
    })
}

const FILE_TLDS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "js", "mjs", "ts", "tsx", "jsx",
    "css", "json", "map", "html", "md", "txt", "py", "rs", "go", "rb", "lock", "toml", "yaml",
    "yml", "xml", "pdf", "zip", "gz", "tar", "wasm", "so", "dll", "exe", "sh",
];

fn email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let tld = domain.rsplit('.').next().unwrap_or("");
    let tld_lower = tld.to_ascii_lowercase();
    if FILE_TLDS.contains(&tld_lower.as_str()) {
        return false;
    }
    // git@github.com:org/repo is an SSH login, not a person.
    !(local == "git" || local.is_empty())
}

/// The match at `at` is the password of a URL's userinfo (`https://user:TOKEN@host`):
/// `TOKEN@host` is no address; `url_credentials` redacts the password.
fn url_password(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    let at = at.min(b.len());
    if at == 0 || b[at - 1] != b':' {
        return false;
    }
    let from = b[..at]
        .iter()
        .rposition(|c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'`' | b'<' | b'('))
        .map_or(0, |i| i + 1);
    let word = &b[from..at - 1];
    word.windows(3).position(|w| w == b"://").is_some_and(|i| {
        !word[i + 3..]
            .iter()
            .any(|c| matches!(c, b'/' | b'?' | b'#' | b'@'))
    })
}

fn mixed(s: &str) -> bool {
    let lower = s.bytes().any(|b| b.is_ascii_lowercase());
    let upper = s.bytes().any(|b| b.is_ascii_uppercase());
    let digit = s.bytes().any(|b| b.is_ascii_digit());
    u8::from(lower) + u8::from(upper) + u8::from(digit) >= 2
}

fn random(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let letters = s.bytes().filter(u8::is_ascii_alphabetic).count();
    // One unbroken alphanumeric run of 10+ that is itself mixed: "management" is a word.
    let long_mixed = s
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|seg| seg.len() >= 10 && mixed(seg));
    digits >= 1 && letters >= 1 && long_mixed
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
