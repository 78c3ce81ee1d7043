//! Tests of the direct JSON reader: against serde_json (same tree or a
//! decline) on hand-picked cases, fixture lines and their mutations, and the
//! arena reader against the owned one.

use super::*;

/// The arena reader builds the owned reader's tree (or declines alike).
fn arena_same_as_owned(text: &str) {
    let arena = Bump::new();
    let owned = parse(text);
    let in_arena = parse_in(text, &arena, &mut Scratch::default());
    assert_eq!(in_arena, owned, "{text}");
    assert_eq!(format!("{in_arena:?}"), format!("{owned:?}"), "{text}");
}

/// The fast reader agrees with serde on `text`: same tree, or it declines.
fn same_as_serde(text: &str) -> bool {
    arena_same_as_owned(text);
    let slow: Result<Value, _> = serde_json::from_str(text);
    match parse(text) {
        Some(fast) => {
            let slow = slow.expect("fast accepted what serde rejects");
            assert_eq!(fast, slow, "{text}");
            // Borrowing matches too (escape-free strings borrow).
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{text}");
            true
        }
        None => false,
    }
}

#[test]
fn builds_the_same_tree_as_serde() {
    for t in [
        r#"{"a":"plain","b":"esc\"aped\n\t\\\/\b\f\r","n":[1,-2,0,123456789012345678],"o":{"x":null,"y":true,"z":false},"a":"last"}"#,
        r#"  [ ] "#,
        r#"{ }"#,
        r#"{"k" : [ 1 , { "x" : "y" } ] }"#,
        r#""\u00e9\u4e2d\ud83d\ude00\u0000""#,
        r#""日本語 é""#,
        "null",
        "7",
        "-7",
    ] {
        assert!(same_as_serde(t), "fast path should take {t}");
    }
}

#[test]
fn scratch_keeps_its_capacity_between_documents() {
    let mut scratch = Scratch::default();
    let text = String::from(r#"{"a":[1,2,3],"b":{"c":[4,5]},"d":6}"#);
    let v = parse_with(&text, &mut scratch).unwrap();
    assert_eq!(v["b"]["c"][1].as_u64(), Some(5));
    let (m, i) = (scratch.members.capacity(), scratch.items.capacity());
    assert!(m >= 3 && i >= 3, "{m} {i}");
    drop(v);
    drop(text);
    assert!(parse_with("[x", &mut scratch).is_none());
    assert_eq!(scratch.members.capacity(), m);
    assert_eq!(scratch.items.capacity(), i);
}

#[test]
fn arena_tree_borrows_everything_and_reuses_the_arena() {
    let mut arena = Bump::new();
    let mut scratch = Scratch::default();
    let text = r#"{"a":[1,{"b":"x\ny"}],"c\u0041":"plain"}"#;
    let v = parse_in(text, &arena, &mut scratch).unwrap();
    assert_eq!(v["a"][1]["b"].as_str(), Some("x\ny"));
    assert!(matches!(&v["a"][1]["b"], Value::String(Cow::Borrowed(_))));
    assert_eq!(v["cA"].as_str(), Some("plain"));
    assert_eq!(
        v.to_value(),
        serde_json::from_str::<serde_json::Value>(text).unwrap()
    );
    drop(v);
    let used = arena.allocated_bytes();
    for _ in 0..1000 {
        arena.reset();
        let v = parse_in(text, &arena, &mut scratch).unwrap();
        assert_eq!(v["a"][0].as_u64(), Some(1));
    }
    assert_eq!(arena.allocated_bytes(), used, "reset reuses the same chunk");
}

#[test]
fn numbers_match_serde_exactly() {
    assert!(same_as_serde(
        "[1.5,-0,0.1,1e3,1E-7,-2.5e+10,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809,1234567890123456789,0.30000000000000004]",
    ));
    for bad in [
        "[01]", "[1.]", "[-]", "[1e]", "[1-2]", "[+1]", "[.5]", "[1.5.5]", "[-a]",
    ] {
        assert!(!same_as_serde(bad), "{bad}");
        assert!(serde_json::from_str::<Value>(bad).is_err(), "{bad}");
    }
}

#[test]
fn declines_what_serde_rejects_or_treats_specially() {
    let deep = "[".repeat(200) + &"]".repeat(200);
    for t in [
        "",
        "{",
        "{\"a\":1,}",
        "[1,]",
        "{\"a\" 1}",
        "{a:1}",
        "[1 2]",
        "\"a\u{1}b\"",
        "\"tab\there\"",
        r#""\ud800""#,
        r#""\udc00""#,
        r#""\ud800\u0041""#,
        r#""\x""#,
        r#""\u12g4""#,
        "\"unterminated",
        "tru",
        "nul",
        "{} x",
        "\u{feff}{}",
        &deep,
    ] {
        assert!(!same_as_serde(t), "{t:?}");
    }
}

/// Every line of the format fixtures, whole, cut short and with bytes
/// flipped: the fast reader builds serde's tree or declines, never differs.
#[test]
fn agrees_with_serde_on_fixtures_and_their_mutations() {
    use rand::{Rng, SeedableRng};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
    let mut stack = vec![dir];
    let mut lines = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jsonl" || x == "json") {
                let text = std::fs::read(&p).unwrap();
                lines.extend(text.split(|&b| b == b'\n').map(<[u8]>::to_vec));
            }
        }
    }
    assert!(lines.len() > 100, "fixtures found: {}", lines.len());
    let mut taken = 0;
    let check = |bytes: &[u8]| -> bool {
        if let Ok(text) = std::str::from_utf8(bytes) {
            arena_same_as_owned(text);
        }
        let slow: Result<Value, _> = serde_json::from_slice(bytes);
        match std::str::from_utf8(bytes).ok().and_then(parse) {
            Some(fast) => {
                let slow = slow.expect("fast accepted what serde rejects");
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
                true
            }
            None => false,
        }
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let flips: &[u8] = b"\"\\{}[],:0-.eE u\x01\xff\xc3";
    for l in &lines {
        let valid = serde_json::from_slice::<Value>(l).is_ok();
        assert_eq!(
            check(l),
            valid,
            "every valid fixture line takes the fast path"
        );
        taken += usize::from(valid);
        if l.is_empty() {
            continue;
        }
        check(&l[..rng.gen_range(0..l.len())]);
        for _ in 0..20 {
            let mut m = l.clone();
            let at = rng.gen_range(0..m.len());
            m[at] = flips[rng.gen_range(0..flips.len())];
            check(&m);
        }
    }
    assert!(taken > 100, "valid lines: {taken}");
}

#[test]
fn a_huge_escaped_string_does_not_keep_its_buffer() {
    let arena = Bump::new();
    let mut scratch = Scratch::default();
    let small = r#"["x\ny"]"#;
    assert!(parse_in(small, &arena, &mut scratch).is_some());
    let kept = scratch.unescaped.capacity();
    assert!(kept > 0 && kept <= UNESCAPED_KEEP, "{kept}");
    let big = format!(r#"["{}"]"#, "a\\n".repeat(UNESCAPED_KEEP));
    let v = parse_in(&big, &arena, &mut scratch).unwrap();
    assert_eq!(v[0].as_str().map(str::len), Some(2 * UNESCAPED_KEEP));
    assert_eq!(scratch.unescaped.capacity(), 0);
}
