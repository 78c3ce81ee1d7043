//! Secrets joined through shell variables in one command line: `a=ghp_…;
//! b=…; echo $a$b`, `export A=…`, `"$a""$b"`, `${a}${b}`. A string where two
//! variable references stand side by side is read with the shell parser
//! detection uses (`detect::shell`, which expands variables the line sets as
//! the shell would); a keyword rule's match in an expanded word that the raw
//! text does not hold is a join, and the known-secret memory learns the value
//! and each raw piece it was made of (the longest raw substrings, left to
//! right), so every piece is redacted where it stands, in this span and later
//! in the run.
//!
//! Cost: a string without two references side by side costs one search for
//! `$`; only the rest is parsed.

use super::Redactor;
use crate::detect::shell::parse_script;
use crate::detect::taxonomy::Taxonomy;
use crate::model::Span;
use std::sync::OnceLock;

/// At most this many raw pieces make one joined value.
const MAX_PIECES: usize = 8;

/// The shell grammar alone ([`Taxonomy::shell_grammar`]): built-in, the same
/// whatever the user's `[detection]` section says (detection switched off
/// included), and without compiling detection's rules.
fn taxonomy() -> Option<&'static Taxonomy> {
    static TAX: OnceLock<Option<Taxonomy>> = OnceLock::new();
    TAX.get_or_init(|| Taxonomy::shell_grammar().ok()).as_ref()
}

fn name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The end of a variable reference starting at `b[i] == b'$'` (`$name`, `${name}`).
fn reference_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let braced = b.get(j) == Some(&b'{');
    if braced {
        j += 1;
    }
    if !b
        .get(j)
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return None;
    }
    while b.get(j).copied().is_some_and(name_byte) {
        j += 1;
    }
    if braced {
        (b.get(j) == Some(&b'}')).then_some(j + 1)
    } else {
        Some(j)
    }
}

/// True when `s` holds two variable references side by side, quotes (JSON
/// escaped ones too) allowed between them: `$a$b`, `"$a""$b"`, `${a}${b}`.
pub fn has_join(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'$', &b[i..]) {
        let at = i + off;
        i = at + 1;
        let Some(mut j) = reference_end(b, at) else {
            continue;
        };
        while b.get(j).is_some_and(|c| matches!(c, b'"' | b'\'' | b'\\')) {
            j += 1;
        }
        if b.get(j) == Some(&b'$') && reference_end(b, j).is_some() {
            return true;
        }
    }
    false
}

/// `value` as the longest substrings of `raw`, left to right; `None` when some
/// byte of it is not in `raw` (it came from elsewhere) or it takes too many.
fn pieces<'a>(value: &'a str, raw: &str) -> Option<Vec<&'a str>> {
    if !value.is_ascii() {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < value.len() {
        // The longest prefix of value[i..] found in raw: finding is monotone in length.
        let (mut lo, mut hi) = (i, value.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if raw.contains(&value[i..mid]) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if lo == i || out.len() == MAX_PIECES {
            return None;
        }
        out.push(&value[i..lo]);
        i = lo;
    }
    Some(out)
}

/// The strings of `s` a shell would read: each string of a JSON text, or `s`.
fn commands(s: &str) -> Vec<String> {
    let t = s.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
            let mut out = Vec::new();
            strings(&v, &mut out);
            return out;
        }
    }
    vec![s.to_owned()]
}

fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if has_join(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

impl Redactor {
    /// Learns, for `span`'s run, every secret its strings join through shell
    /// variables, and the raw pieces it was made of.
    pub(super) fn learn_shell_joins(&mut self, span: &Span) {
        let mut found: Vec<String> = Vec::new();
        let fields = [&span.text, &span.tool_input, &span.tool_output];
        for s in fields.into_iter().flatten() {
            if has_join(s) {
                found.extend(commands(s));
            }
        }
        for v in span.attributes.values() {
            if let Some(s) = v.as_str().filter(|s| has_join(s)) {
                found.push(s.to_owned());
            }
        }
        if found.is_empty() {
            return;
        }
        let Some(tax) = taxonomy() else {
            return;
        };
        for line in &found {
            let script = parse_script(line, tax);
            for cmd in &script.commands {
                let words = cmd
                    .argv
                    .iter()
                    .chain(cmd.assignments.iter().map(|(_, v)| v));
                for w in words {
                    self.learn_joined(&span.run_id, w, line);
                }
            }
        }
    }

    /// Remembers each keyword match of the expanded `word` that `raw` does not
    /// hold whole, with the raw pieces it was joined from.
    fn learn_joined(&mut self, run: &str, word: &str, raw: &str) {
        for c in self.keyword_matches(word) {
            let value = &word[c.start..c.end];
            if raw.contains(value) || !self.engine.rememberable(c.label, value) {
                continue;
            }
            let Some(parts) = pieces(value, raw) else {
                continue;
            };
            self.memory.learn(run, value, c.label);
            for p in parts {
                self.memory.learn(run, p, c.label);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{has_join, pieces};
    use crate::model::{Origin, Span, SpanKind};
    use crate::redact::{Mode, Redactor};

    const GH: &str = "ghp_Lk8Jh6Gf4Ds2Aq1Wz3Ex5Rc7Tv9Yb0Un2Im4";

    #[test]
    fn references_side_by_side_are_found_and_others_are_not() {
        for s in [
            "echo $a$b",
            "echo \"$a\"\"$b\"",
            "x=${a}${b}",
            "{\"command\":\"echo \\\"$a\\\"\\\"$b\\\"\"}",
            "echo '$A'$B_2",
        ] {
            assert!(has_join(s), "{s}");
        }
        for s in ["echo $a $b", "cost $5$6", "echo $", "a=$(b)$", "${a}x$b"] {
            assert!(!has_join(s), "{s}");
        }
    }

    #[test]
    fn a_value_is_cut_into_the_longest_raw_pieces() {
        let raw = "a=ghp_Lk8Jh6Gf; b=4Ds2Aq1Wz3; echo $a$b";
        assert_eq!(
            pieces("ghp_Lk8Jh6Gf4Ds2Aq1Wz3", raw),
            Some(vec!["ghp_Lk8Jh6Gf", "4Ds2Aq1Wz3"])
        );
        assert_eq!(pieces("ghp_Lk8Jh6Gf#", raw), None);
    }

    fn span(input: &str) -> Span {
        let mut s = Span::new("s", "r", SpanKind::Tool, "Bash", Origin::new("f", 1));
        s.tool_input = Some(serde_json::json!({ "command": input }).to_string());
        s
    }

    #[test]
    fn pieces_joined_through_variables_are_redacted_where_they_stand() {
        let (a, b) = GH.split_at(19);
        for line in [
            format!("a={a}; b={b}; echo $a$b | gh auth login --with-token"),
            format!(
                "export A='{a}'; export B=\"{b}\"; curl -H \"Authorization: token ${{A}}${{B}}\" x"
            ),
            format!("a={a}\nb={b}\nprintf %s \"$a\"\"$b\" > ~/.token"),
        ] {
            let mut r = Redactor::new(Mode::Mask);
            let (red, _) = r.redact_span(span(&line));
            let out = serde_json::to_string(red.get()).unwrap_or_default();
            assert!(!out.contains(&a[4..]) && !out.contains(b), "{line}: {out}");
            assert!(out.contains("[REDACTED:"), "{out}");
        }
        // Variables that join to nothing secret are left alone.
        let line = "dir=/tmp/build; name=out; echo $dir$name";
        let mut r = Redactor::new(Mode::Mask);
        let (red, _) = r.redact_span(span(line));
        let out = serde_json::to_string(red.get()).unwrap_or_default();
        assert!(
            out.contains("/tmp/build") && !out.contains("[REDACTED"),
            "{out}"
        );
    }

    #[test]
    fn the_user_s_config_is_honoured_and_switching_detection_off_changes_nothing() {
        use crate::detect::taxonomy::{DetectionConfig, Taxonomy};
        let cfg = crate::config::Config::from_text(
            None,
            "[detection]\nenabled = false\nuploaders = [\"mytool push\"]\n\n\
             [[redaction.rules]]\nname = \"acme_key\"\npattern = 'acme_[A-Za-z0-9]{24}'\n\
             keywords = [\"acme_\"]\n"
                .into(),
        )
        .expect("config");
        // The taxonomy this config gives detection knows no shell: a redactor
        // parsing with it would not look inside `bash -c`.
        let dc: DetectionConfig = cfg.section("detection").expect("section");
        let off = Taxonomy::load(&dc).expect("tax");
        assert!(off.shells.is_empty());
        let acme = "acme_Q7w2E9r4T6y1U3i5O8p0A2s4";
        let (ga, gb) = GH.split_at(19);
        let nested = format!("bash -c 'a={ga}; b={gb}; echo $a$b'");
        let joins = |tax: &Taxonomy| {
            crate::detect::shell::parse_script(&nested, tax)
                .commands
                .iter()
                .any(|c| c.argv.iter().any(|w| w.contains(GH)))
        };
        assert!(!joins(&off), "detection's own taxonomy would read the join");
        assert!(joins(&Taxonomy::shell_grammar().expect("grammar")));
        let (aa, ab) = acme.split_at(13);
        for line in [
            format!("bash -c 'a={ga}; b={gb}; echo $a$b | gh auth login --with-token'"),
            format!("sh -c \"x={aa}; y={ab}; curl -H \\\"K: ${{x}}${{y}}\\\" h\""),
        ] {
            let mut r =
                Redactor::from_config(&cfg, crate::redact::HashKey::random()).expect("redactor");
            let (red, _) = r.redact_span(span(&line));
            let out = serde_json::to_string(red.get()).unwrap_or_default();
            for piece in [&ga[4..], gb, &aa[5..], ab] {
                if line.contains(piece) {
                    assert!(!out.contains(piece), "{line}: {out}");
                }
            }
        }
        // The user's own rule names the join it found.
        let line = format!("a={aa}; b={ab}; echo $a$b");
        let mut r = Redactor::from_config(&cfg, crate::redact::HashKey::random()).expect("r");
        let out = serde_json::to_string(r.redact_span(span(&line)).0.get()).unwrap_or_default();
        assert!(out.contains("[REDACTED:acme_key]"), "{out}");
    }
}
