//! Validators: cheap checks that run after a rule's regex matched, to throw out
//! look-alikes (a 13-digit timestamp is not a card, a UUID is not a phone).
//!
//! Each validator sees the whole text, the regex match range and the range of
//! the part to redact, so it can look one byte beyond the match (what the
//! regex crate's lack of look-around cannot). All are pure and allocation-free
//! except where noted; none can panic on any input.

use std::ops::Range;

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
    /// Assignment value: not a placeholder, not code (`get_token()`, `os.environ[..]`, `self.x`).
    Assignment,
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
            _ => return None,
        })
    }

    /// Every validator name, for error messages and docs.
    pub const NAMES: &'static str =
        "luhn, card, iban, ssn, phone, email, mixed, random, placeholder, assignment";

    /// True when the candidate `secret` (inside match `m`) of `text` passes.
    pub fn check(self, text: &str, m: Range<usize>, secret: Range<usize>) -> bool {
        let s = text.get(secret.clone()).unwrap_or("");
        match self {
            Validator::Luhn => luhn_digits(s),
            Validator::Card => card(s),
            Validator::Iban => iban(s),
            Validator::Ssn => ssn(s) && standalone_number(text, secret),
            Validator::Phone => phone(text, secret),
            Validator::Email => email(s),
            Validator::Mixed => mixed(s),
            Validator::Random => random(s),
            Validator::Placeholder => !placeholder(s),
            Validator::Assignment => assignment(text, m, secret),
        }
    }
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

fn phone(text: &str, r: Range<usize>) -> bool {
    let s = text.get(r.clone()).unwrap_or("");
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if !(9..=15).contains(&digits) {
        return false;
    }
    if !s.starts_with('+') {
        // National form: area code cannot start with 0 or 1.
        let first = s.bytes().find(u8::is_ascii_digit).unwrap_or(b'0');
        if first < b'2' {
            return false;
        }
    } else if r.start > 0 {
        // "+" glued to a word ("x+12...") is arithmetic, not a phone.
        let prev = text.as_bytes().get(r.start - 1).copied().unwrap_or(b' ');
        if prev.is_ascii_alphanumeric() || prev == b'+' {
            return false;
        }
    }
    standalone_number(text, r)
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

const PLACEHOLDERS: &[&str] = &[
    "null",
    "none",
    "nil",
    "true",
    "false",
    "undefined",
    "empty",
    "string",
    "str",
    "int",
    "bool",
    "bytes",
    "required",
    "optional",
    "redacted",
    "hidden",
    "masked",
    "secret",
    "password",
    "passwd",
    "token",
    "apikey",
    "api_key",
    "changeme_placeholder",
    "placeholder",
    "example",
    "value",
    "default",
    "env",
    "self",
    "this",
    "todo",
    "tbd",
    "dummy",
    "foo",
    "bar",
];

/// True for values that stand for a secret without being one.
pub fn placeholder(s: &str) -> bool {
    let t = s.trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
    if t.is_empty() {
        return true;
    }
    let lower = t.to_ascii_lowercase();
    if PLACEHOLDERS.contains(&lower.as_str()) {
        return true;
    }
    let first = t.as_bytes()[0];
    // ${VAR}, $VAR, %VAR%, {{ var }}, <your-token>, [REDACTED...], *****
    if matches!(first, b'$' | b'%' | b'{' | b'<' | b'[' | b'*' | b'&' | b'@') {
        return true;
    }
    if t.bytes().all(|b| b == t.as_bytes()[0]) {
        return true; // xxxxxxxx, ........
    }
    lower.starts_with("your_")
        || lower.starts_with("your-")
        || lower.starts_with("<")
        || lower.contains("...")
        || lower.starts_with("process.env")
}

/// A dotted identifier such as `os.environ` or `config.db.password`: code, not a value.
fn dotted_identifier(s: &str) -> bool {
    let mut parts = 0;
    for p in s.split('.') {
        let mut bytes = p.bytes();
        let ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

fn assignment(text: &str, m: Range<usize>, secret: Range<usize>) -> bool {
    let s = text.get(secret.clone()).unwrap_or("");
    if placeholder(s) {
        return false;
    }
    let b = text.as_bytes();
    let quoted = secret.start > 0 && matches!(b.get(secret.start - 1), Some(b'"' | b'\''));
    if !quoted {
        // `token = get_token()`, `password = os.environ["X"]`, `api_key: Option<String>`
        if matches!(b.get(secret.end), Some(b'(' | b'[' | b'<' | b'{')) {
            return false;
        }
        if dotted_identifier(s) {
            return false;
        }
    }
    // Key names that contain a keyword but hold no secret.
    let key = text
        .get(m.start..secret.start)
        .unwrap_or("")
        .to_ascii_lowercase();
    let key = key.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    !(key.starts_with("pwd") || key.starts_with("oldpwd"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: Validator, s: &str) -> bool {
        v.check(s, 0..s.len(), 0..s.len())
    }

    #[test]
    fn luhn_and_cards() {
        assert!(luhn_digits("4111111111111111"));
        assert!(!luhn_digits("4111111111111112"));
        assert!(check(Validator::Card, "4111 1111 1111 1111"));
        assert!(check(Validator::Card, "5500-0000-0000-0004"));
        assert!(check(Validator::Card, "378282246310005"));
        assert!(
            !check(Validator::Card, "4111 1111-1111 1111"),
            "mixed separators"
        );
        // Epoch milliseconds: Luhn may pass, issuer prefix never does.
        for ts in ["1700000000007", "1739376145227", "1700000000000000000"] {
            assert!(!check(Validator::Card, ts), "{ts}");
        }
    }

    #[test]
    fn iban_checksum() {
        assert!(check(Validator::Iban, "DE89370400440532013000"));
        assert!(check(Validator::Iban, "GB82 WEST 1234 5698 7654 32"));
        assert!(!check(Validator::Iban, "DE89370400440532013001"));
        assert!(!check(Validator::Iban, "ZZ89370400440532013000"));
    }

    #[test]
    fn ssn_rules() {
        assert!(check(Validator::Ssn, "123-45-6789"));
        assert!(!check(Validator::Ssn, "000-12-3456"));
        assert!(!check(Validator::Ssn, "666-12-3456"));
        assert!(!check(Validator::Ssn, "912-12-3456"));
        assert!(!check(Validator::Ssn, "123-00-3456"));
        assert!(!check(Validator::Ssn, "123-45-0000"));
        let t = "v1.123-45-6789";
        assert!(!Validator::Ssn.check(t, 3..t.len(), 3..t.len()));
    }

    #[test]
    fn phones() {
        assert!(check(Validator::Phone, "+1-555-123-4567"));
        assert!(check(Validator::Phone, "(555) 123-4567"));
        assert!(!check(Validator::Phone, "123-456-7890"), "area code 1");
        let t = "x+15551234567";
        assert!(!Validator::Phone.check(t, 1..t.len(), 1..t.len()));
    }

    #[test]
    fn emails_and_randomness() {
        assert!(check(Validator::Email, "alice@corp.example"));
        assert!(!check(Validator::Email, "icon@2x.png"));
        assert!(!check(Validator::Email, "git@github.com"));
        assert!(check(Validator::Mixed, "abcDEF"));
        assert!(!check(Validator::Mixed, "authentication-header"));
        assert!(check(Validator::Random, "proj-abcdEFGH1234ijkl"));
        assert!(!check(Validator::Random, "management-system-2024"));
    }

    #[test]
    fn assignments() {
        let ok = |t: &str, v: &str| {
            let s = t.find(v).expect("value in text");
            Validator::Assignment.check(t, 0..s + v.len(), s..s + v.len())
        };
        assert!(ok("password=hunter22", "hunter22"));
        assert!(!ok("token = get_token()", "get_token"));
        assert!(!ok("password = os.environ", "os.environ"));
        assert!(!ok("api_key: Option<String>", "Option"));
        assert!(!ok("TOKEN=${GITHUB_TOKEN}", "${GITHUB_TOKEN}"));
        assert!(!ok("password: <your-password>", "<your-password>"));
        assert!(!ok("PWD=/home/user", "/home/user"));
        assert!(ok("secret: \"s3cr3t-value\"", "s3cr3t-value"));
    }
}
