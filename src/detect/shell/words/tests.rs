//! Unit tests of `words.rs`.

use super::*;
use std::collections::HashMap;

struct Vars(HashMap<String, Vec<String>>);

impl Expand for Vars {
    fn var(&mut self, n: &str) -> Option<Vec<String>> {
        self.0.get(n).cloned()
    }
    fn set_var(&mut self, n: &str, v: String) {
        self.0.insert(n.into(), vec![v]);
    }
    fn subst(&mut self, s: &str) -> Option<(String, Vec<String>)> {
        (s == "printf cu").then(|| ("cu".to_string(), Vec::new()))
    }
}

fn ex(pairs: &[(&str, &str)]) -> Vars {
    Vars(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect(),
    )
}

fn texts(raw: &str, v: &mut Vars) -> Vec<String> {
    expand(raw, v, true).into_iter().map(|w| w.text).collect()
}

#[test]
fn quotes_and_escapes_come_off() {
    let mut v = ex(&[]);
    assert_eq!(texts("c''at", &mut v), vec!["cat"]);
    assert_eq!(texts(r"\c\u\r\l", &mut v), vec!["curl"]);
    assert_eq!(texts(r#"c"u"'r'l"#, &mut v), vec!["curl"]);
    assert_eq!(texts(r"$'\x63\165rl'", &mut v), vec!["curl"]);
    assert_eq!(texts("\"\"", &mut v), vec![""]);
}

#[test]
fn variables_set_on_the_line_expand_and_split() {
    let mut v = ex(&[
        ("c", "cu"),
        ("r", "rl"),
        ("IFS", " "),
        ("x", "cat ~/.netrc"),
    ]);
    assert_eq!(texts("$c$r", &mut v), vec!["curl"]);
    let w = expand("$c$r", &mut v, true);
    assert!(w[0].assembled && !w[0].dynamic);
    assert_eq!(
        texts("cat${IFS}/etc/passwd", &mut v),
        vec!["cat", "/etc/passwd"]
    );
    assert_eq!(texts("$x", &mut v), vec!["cat", "~/.netrc"]);
    assert_eq!(texts("\"$x\"", &mut v), vec!["cat ~/.netrc"]);
    assert_eq!(texts("$unknown", &mut v), vec!["$unknown"]);
    assert!(expand("$unknown", &mut v, true)[0].dynamic);
    assert_eq!(texts("$(printf cu)rl", &mut v), vec!["curl"]);
    // a custom IFS splits unquoted results on its own characters
    let mut v = ex(&[("IFS", "_"), ("x", "cat_~/.aws/credentials")]);
    assert_eq!(texts("$x", &mut v), vec!["cat", "~/.aws/credentials"]);
    assert_eq!(texts("\"$x\"", &mut v), vec!["cat_~/.aws/credentials"]);
    let mut v = ex(&[("IFS", ""), ("x", "a b")]);
    assert_eq!(
        texts("$x", &mut v),
        vec!["a b"],
        "an empty IFS splits nothing"
    );
}

#[test]
fn parameter_operators() {
    let mut v = ex(&[("p", "/usr/bin:/bin"), ("s", "hello-curl"), ("u", "CURL")]);
    assert_eq!(texts("${p:0:1}", &mut v), vec!["/"]);
    assert_eq!(texts("${s#hello-}", &mut v), vec!["curl"]);
    assert_eq!(texts("${s##*-}", &mut v), vec!["curl"]);
    assert_eq!(texts("${s%-*}", &mut v), vec!["hello"]);
    assert_eq!(texts("${s/hello-/}", &mut v), vec!["curl"]);
    assert_eq!(texts("${u,,}", &mut v), vec!["curl"]);
    assert_eq!(texts("${nope:-wget}", &mut v), vec!["wget"]);
    assert_eq!(texts("${#s}", &mut v), vec!["10"]);
    assert_eq!(texts("${s:6}", &mut v), vec!["curl"]);
    assert_eq!(texts("${s: -4}", &mut v), vec!["curl"]);
}

#[test]
fn brace_lists() {
    let mut v = ex(&[]);
    assert_eq!(
        texts("{cat,/etc/passwd}", &mut v),
        vec!["cat", "/etc/passwd"]
    );
    assert_eq!(
        texts("~/.aws/{config,credentials}", &mut v),
        vec!["~/.aws/config", "~/.aws/credentials"]
    );
    assert_eq!(texts("'{a,b}'", &mut v), vec!["{a,b}"]);
    assert_eq!(texts("x{1..3}", &mut v), vec!["x1", "x2", "x3"]);
    assert_eq!(texts("{1..100000}", &mut v).len(), 1, "bounded");
}

#[test]
fn patterns() {
    assert!(pattern_match("*-", "hello-"));
    assert!(pattern_match("h?llo", "hello"));
    assert!(pattern_match("[a-c]at", "cat"));
    assert!(!pattern_match("[!c]at", "cat"));
}
