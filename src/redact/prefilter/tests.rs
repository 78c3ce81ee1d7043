//! Unit tests of `prefilter`.

use super::*;

fn all(k: &Keywords, text: &str) -> Vec<(usize, usize, usize)> {
    let mut v = Vec::new();
    k.for_each(text.as_bytes(), |id, s, e| {
        v.push((id, s, e));
        true
    });
    v.sort_unstable();
    v
}

/// Every occurrence of every keyword in `text`, ASCII case ignored, found byte by byte.
fn naive(pats: &[String], text: &str) -> Vec<(usize, usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut v = Vec::new();
    for (id, p) in pats.iter().enumerate() {
        for s in 0..lower.len() {
            if lower.as_bytes()[s..].starts_with(p.as_bytes()) {
                v.push((id, s, s + p.len()));
            }
        }
    }
    v.sort_unstable();
    v
}

/// The bigram matcher finds exactly what a naive search finds.
#[test]
fn keywords_match_naive_search() {
    let pats: Vec<String> = [
        "token",
        "session_token",
        "@",
        "sk-",
        "://",
        "1//0",
        "-u ",
        "[redacted:",
        "aa",
        "eyj",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let k = Keywords::new(&pats);
    let text = "SESSION_TOKEN=x tokenToken a@b sk-SK- https://h 1//0x -u  [REDACTED:a] aaa EYJ @";
    let naive = naive(&pats, text);
    assert_eq!(all(&k, text), naive);
    assert!(naive
        .iter()
        .any(|&(id, s, _)| id == 2 && s == text.len() - 1));
    assert!(all(&k, "").is_empty());
    assert_eq!(all(&k, "@"), vec![(2, 0, 1)]);
    assert!(k.any(b"a Token b", |id| id == 0));
    assert!(!k.any(b"a Toke b", |_| true));
}

/// Texts made of pieces of real keywords (shared pairs, the bytes around them, any
/// case, any offset within the 8-byte words the scan folds at once): the pair gate
/// and the third-byte gate drop no occurrence.
#[test]
fn keywords_match_naive_search_on_keyword_pieces() {
    let pats: Vec<String> = [
        "token",
        "--token",
        "session_token",
        "x-auth-token",
        "_authtoken",
        "asia",
        "akia",
        "aida",
        "sk-",
        "sk-ant-",
        "eyj",
        "-u ",
        "://",
        "password",
        "@",
        "\\u00",
        "xox",
        "sig=",
        "1//0",
        "[redacted:",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let k = Keywords::new(&pats);
    let mut seed = 7u64;
    let mut next = |m: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % m
    };
    let mut seen = 0;
    for _ in 0..4000 {
        let mut t = Vec::new();
        for _ in 0..1 + next(6) {
            let p = pats[next(pats.len())].as_bytes();
            let (a, b) = (next(p.len()), next(p.len() + 1));
            let piece = if next(3) == 0 {
                &p[a.min(b)..a.max(b)]
            } else {
                p
            };
            t.extend(piece.iter().map(|&c| {
                if next(2) == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            }));
            t.extend_from_slice(&b" x=a-_/:"[..next(4)]);
        }
        let text = String::from_utf8(t).expect("ascii");
        let lower = text.to_ascii_lowercase();
        let mut naive = Vec::new();
        for (id, p) in pats.iter().enumerate() {
            for s in 0..lower.len() {
                if lower[s..].starts_with(p.as_str()) {
                    naive.push((id, s, s + p.len()));
                }
            }
        }
        naive.sort_unstable();
        seen += naive.len();
        assert_eq!(all(&k, &text), naive, "{text:?}");
    }
    assert!(seen > 4000, "the texts hold keywords ({seen})");
}

/// Odd and even positions, text ends, 1- and 2-byte and overlapping keywords: the
/// even-position scan reports every occurrence exactly once.
#[test]
fn keywords_match_naive_search_on_random_text() {
    let pats: Vec<String> = ["@", "ab", "aba", "BA", "abab", "b@a", "x", "bbbb", "a-b_"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let k = Keywords::new(&pats);
    let alphabet = b"aAbB@x-_ ";
    let mut seed = 99u64;
    for len in 0..40 {
        for _ in 0..50 {
            let t: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(seed >> 33) as usize % alphabet.len()]
                })
                .collect();
            let text = String::from_utf8(t).expect("ascii");
            let lower = text.to_ascii_lowercase();
            let mut naive = Vec::new();
            for (id, p) in pats.iter().enumerate() {
                let p = p.to_ascii_lowercase();
                for s in 0..lower.len() {
                    if lower[s..].starts_with(p.as_str()) {
                        naive.push((id, s, s + p.len()));
                    }
                }
            }
            naive.sort_unstable();
            assert_eq!(all(&k, &text), naive, "{text:?}");
        }
    }
}

#[test]
fn digit_runs_join_groups() {
    let t = b"call (555) 123-4567 or 4111 1111 1111 1111; v1.2.3; id 12345678";
    let runs = digit_runs(t, 9);
    let got: Vec<&str> = runs
        .iter()
        .map(|&(s, e)| std::str::from_utf8(&t[s..e]).expect("utf8"))
        .collect();
    assert_eq!(got, vec!["555) 123-4567", "4111 1111 1111 1111"]);
    let long = format!("{}{}", "x".repeat(100), "1700000000000");
    assert_eq!(digit_runs(long.as_bytes(), 9), vec![(100, 113)]);
}
#[test]
fn digit_run_gate_by_shape() {
    let may = |t: &str| {
        let runs = digit_runs(t.as_bytes(), 9);
        assert_eq!(runs.len(), 1, "{t}");
        digit_run_may_be_pii(t.as_bytes(), runs[0].0, runs[0].1)
    };
    // Timestamps, sizes and ids glued to punctuation or lower-case hex: no rule can match.
    for t in [
        "\"ts\":1739376145227,",
        "epoch=1700000000",
        "ns 1700000000000000000",
        "sha deadbeef12345678901",
        "size: 123456789",
        // Digit groups of UUIDs, dates and versions: no SSN, phone or card shape.
        "id 8d15-5122611a9569",
        "at 2026-02-12 16:02:25",
        "v 12.0.1-20260212",
    ] {
        assert!(!may(t), "{t}");
    }
    // Separators, a `+`, an IBAN country code or an issuer-prefixed card length: maybe.
    for t in [
        "call 415-555-2671",
        "tel +14155552671",
        "DE89370400440532013000",
        "GB82 WEST 12345698765432",
        "card 4111111111111111",
        "amex 378282246310005",
        "ssn 123-45-6789",
        "ssn 123 45 6789",
        "card 5500-0000-0000-0004",
        "amex 3782-822463-10005",
        "call 1 (415) 555-2671",
        "ids 12 34 5678 4111111111111",
    ] {
        assert!(may(t), "{t}");
    }
}

#[test]
fn digit_mask_finds_any_digit_at_every_position() {
    // Every byte value at every position of a chunk of each length, among letters.
    for len in [1usize, 7, 8, 9, 63, 64] {
        for pos in 0..len {
            for c in 0..=255u8 {
                let mut chunk = vec![b'a'; len];
                chunk[pos] = c;
                assert_eq!(
                    digit_mask(&chunk),
                    u64::from(c.is_ascii_digit()) << pos,
                    "{len} {pos} {c:#x}"
                );
            }
        }
    }
    // Bytes just below and above the digits next to each other (borrows across bytes).
    for w in [
        *b"/:/:/:/:",
        *b"\x00\xff/:\x80\xb0\xb9\x2f",
        *b"9\x00\x00\x00\x00\x00\x00\x00",
    ] {
        let want = w
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_digit())
            .fold(0u64, |m, (j, _)| m | 1 << j);
        assert_eq!(digit_mask(&w), want, "{w:?}");
    }
}
/// The byte-at-a-time definition the bitmask version must agree with.
fn digit_runs_ref(b: &[u8], min: usize) -> Vec<(usize, usize)> {
    let is_sep = |c: u8| matches!(c, b' ' | b'-' | b'.' | b'(' | b')' | b'/');
    let (mut out, n, mut i) = (Vec::new(), b.len(), 0);
    while i < n {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let (start, mut digits, mut end) = (i, 0, i);
        loop {
            while i < n && b[i].is_ascii_digit() {
                digits += 1;
                i += 1;
            }
            end = end.max(i);
            if i + 1 < n && is_sep(b[i]) && b[i + 1].is_ascii_digit() {
                i += 1;
                continue;
            }
            if i + 2 < n && is_sep(b[i]) && is_sep(b[i + 1]) && b[i + 2].is_ascii_digit() {
                i += 2;
                continue;
            }
            break;
        }
        if digits >= min {
            out.push((start, end));
        }
        i = end.max(i);
    }
    out
}

#[test]
fn digit_runs_agree_with_reference() {
    let alphabet = b"0123456789 -.()/ax:\"";
    let mut seed = 12345u64;
    for len in [0, 1, 9, 63, 64, 65, 127, 128, 129, 300] {
        for _ in 0..200 {
            let t: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let r = (seed >> 33) as usize;
                    // Mostly digits, so long runs cross the 64-byte chunk edges.
                    if r % 10 < 7 {
                        b'0' + (r % 10) as u8
                    } else {
                        alphabet[r % alphabet.len()]
                    }
                })
                .collect();
            for min in [1, 9] {
                assert_eq!(digit_runs(&t, min), digit_runs_ref(&t, min), "{t:?}");
            }
        }
    }
}
#[test]
fn digit_mask_is_exact_for_every_byte() {
    for c in 0..=255u8 {
        let mut chunk = [b'x'; 64];
        chunk[37] = c;
        let want = if c.is_ascii_digit() { 1u64 << 37 } else { 0 };
        assert_eq!(digit_mask(&chunk), want, "{c}");
        assert_eq!(digit_mask(&chunk[..38]), want, "{c}");
    }
    assert_eq!(digit_mask(b"0123456789"), 0x3ff);
}

/// `lower8` folds exactly what `to_ascii_lowercase` folds, every byte value at every
/// position of a word, beside neighbours that could carry or borrow into it.
#[test]
fn lower8_is_to_ascii_lowercase_for_every_byte() {
    for pos in 0..8 {
        for c in 0..=255u8 {
            for fill in [0u8, b'@', b'Z', b'[', 0x7f, 0x80, 0xc1, 0xda, 0xff] {
                let mut a = [fill; 8];
                a[pos] = c;
                let want = u64::from_le_bytes(a.map(|b| b.to_ascii_lowercase()));
                assert_eq!(lower8(u64::from_le_bytes(a)), want, "{a:?}");
            }
        }
    }
    assert_eq!(load8(b"abc", 0), u64::from_le_bytes(*b"abc\0\0\0\0\0"));
    assert_eq!(load8(b"abc", 3), 0);
    assert_eq!(load8(b"abc", 9), 0);
}

/// Keywords longer than eight bytes, at the ends of the text and sharing pairs and
/// offsets with shorter ones (one 8-byte load serves every keyword of an offset): the
/// verification finds exactly what a naive search finds.
#[test]
fn keywords_share_loads_without_losing_matches() {
    let pats: Vec<String> = [
        "token",
        "tokens",
        "tok",
        "x-auth-token",
        "x-access-token",
        "access_token",
        "refresh_token",
        "session_token",
        "_authtoken",
        "--auth-token",
        "authorization",
        "auth",
        "sharedaccesssignature",
        "sharedaccesskey",
        "@",
        "\\/",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let k = Keywords::new(&pats);
    let pieces = [
        "TOKEN",
        "tokens",
        "Tok",
        "x-AUTH-token",
        "X-Access-Token",
        "access_TOKEN",
        "refresh_",
        "session",
        "_authToken",
        "--auth-",
        "Authorization",
        "SharedAccess",
        "Signature",
        "Key",
        "@",
        "\\/",
        " ",
        "\u{e9}",
        "\u{c9}",
        "_",
        "-",
        "t",
        "o",
        "k",
        "e",
        "n",
    ];
    let mut seed = 99u64;
    for _ in 0..3000 {
        let mut text = String::new();
        for _ in 0..((seed >> 40) % 12 + 1) {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
        }
        assert_eq!(all(&k, &text), naive(&pats, &text), "{text:?}");
    }
}
