//! Editing a JSON settings file as text, so that everything the guard did not
//! add keeps its exact bytes: a parser that records where every value, member
//! and element starts and ends (JSON with comments and trailing commas, as
//! Gemini CLI's settings allow), and edits that insert or remove one member or
//! element with the file's own indentation. Inserting then removing the same
//! element restores the file byte for byte.

use serde_json::Value;

/// The deepest nesting parsed (settings files are shallow).
const MAX_DEPTH: usize = 128;

/// A value and where it sits in the text (`start..end`, bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// What a value is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Object(Vec<Member>),
    Array(Vec<Node>),
    Scalar,
}

/// An object member: its key, where the key starts, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub start: usize,
    pub value: Node,
}

impl Node {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Member> {
        match &self.kind {
            Kind::Object(m) => m.iter().find(|m| m.key == key),
            _ => None,
        }
    }

    /// The elements of an array, or `None`.
    pub fn items(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The value at `path` (object keys), if every step exists.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        let mut n = self;
        for k in path {
            n = &n.get(k)?.value;
        }
        Some(n)
    }

    /// The text of this value parsed as JSON (comments and trailing commas removed).
    pub fn value(&self, text: &str) -> Option<Value> {
        let raw = text.get(self.start..self.end)?;
        serde_json::from_str(raw)
            .ok()
            .or_else(|| serde_json::from_str(&strip_jsonc(raw)).ok())
    }
}

/// Parses `text` (one JSON value, with optional comments and trailing commas).
pub fn parse(text: &str) -> Result<Node, String> {
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
    };
    p.ws()?;
    let v = p.value(0)?;
    p.ws()?;
    if p.i != p.b.len() {
        return Err(p.err("text after the document"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        let line = self.b[..self.i.min(self.b.len())]
            .iter()
            .filter(|&&c| c == b'\n')
            .count()
            + 1;
        format!("line {line}: {what}")
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips whitespace and `//` / `/* */` comments.
    fn ws(&mut self) -> Result<(), String> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                Some(b'/') if self.b.get(self.i + 1) == Some(&b'/') => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.i += 1;
                    }
                }
                Some(b'/') if self.b.get(self.i + 1) == Some(&b'*') => {
                    let end = self.b[self.i + 2..]
                        .windows(2)
                        .position(|w| w == b"*/")
                        .ok_or_else(|| self.err("unclosed comment"))?;
                    self.i += end + 4;
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deep"));
        }
        let start = self.i;
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                loop {
                    self.ws()?;
                    match self.peek() {
                        Some(b'}') => {
                            self.i += 1;
                            break;
                        }
                        Some(b'"') => {}
                        _ => return Err(self.err("expected a key or '}'")),
                    }
                    let kstart = self.i;
                    self.string()?;
                    let key: String = serde_json::from_slice(&self.b[kstart..self.i])
                        .map_err(|_| self.err("bad key"))?;
                    self.ws()?;
                    if self.peek() != Some(b':') {
                        return Err(self.err("expected ':'"));
                    }
                    self.i += 1;
                    self.ws()?;
                    let value = self.value(depth + 1)?;
                    members.push(Member {
                        key,
                        start: kstart,
                        value,
                    });
                    self.ws()?;
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {}
                        _ => return Err(self.err("expected ',' or '}'")),
                    }
                }
                Ok(Node {
                    start,
                    end: self.i,
                    kind: Kind::Object(members),
                })
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws()?;
                    if self.peek() == Some(b']') {
                        self.i += 1;
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    self.ws()?;
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {}
                        _ => return Err(self.err("expected ',' or ']'")),
                    }
                }
                Ok(Node {
                    start,
                    end: self.i,
                    kind: Kind::Array(items),
                })
            }
            Some(b'"') => {
                self.string()?;
                Ok(Node {
                    start,
                    end: self.i,
                    kind: Kind::Scalar,
                })
            }
            Some(_) => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
                {
                    self.i += 1;
                }
                if self.i == start {
                    return Err(self.err("expected a value"));
                }
                let word = &self.b[start..self.i];
                let ok = matches!(word, b"true" | b"false" | b"null")
                    || serde_json::from_slice::<serde_json::Number>(word).is_ok();
                if !ok {
                    return Err(self.err("expected a value"));
                }
                Ok(Node {
                    start,
                    end: self.i,
                    kind: Kind::Scalar,
                })
            }
            None => Err(self.err("cut short")),
        }
    }

    fn string(&mut self) -> Result<(), String> {
        self.i += 1;
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => self.i += 2,
                Some(_) => self.i += 1,
                None => return Err(self.err("unclosed string")),
            }
        }
    }
}

/// `raw` with comments and trailing commas removed (strings untouched).
fn strip_jsonc(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let s = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                out.extend_from_slice(&b[s..i]);
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b',' => {
                let next = b[i + 1..]
                    .iter()
                    .find(|c| !c.is_ascii_whitespace())
                    .copied();
                if !matches!(next, Some(b'}' | b']')) {
                    out.push(b',');
                }
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The whitespace that starts the line `pos` is on, when `pos` is the first
/// thing on that line; `None` when something precedes it (a compact file).
fn line_indent(text: &str, pos: usize) -> Option<&str> {
    let line_start = text[..pos].rfind('\n').map(|i| i + 1)?;
    let lead = &text[line_start..pos];
    lead.chars().all(|c| c == ' ' || c == '\t').then_some(lead)
}

/// The file's indentation step: the lead of the first indented line, else two spaces.
pub fn indent_unit(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .find(|lead| !lead.is_empty())
        .unwrap_or("  ")
        .to_string()
}

/// Keys written first, in this order (how the agents' documentation lays
/// hook entries out); other keys follow alphabetically.
const KEY_ORDER: &[&str] = &[
    "version",
    "matcher",
    "name",
    "type",
    "command",
    "url",
    "headers",
    "allowedEnvVars",
    "timeout",
    "statusMessage",
    "hooks",
];

/// `v` rendered with `unit` as the indent step, its lines after the first
/// shifted by `indent`; `None` indent renders it compact.
fn render(v: &Value, unit: &str, indent: Option<&str>) -> String {
    let mut out = String::new();
    write_value(v, unit, indent, &mut out);
    out
}

fn write_value(v: &Value, unit: &str, indent: Option<&str>, out: &mut String) {
    let rank = |k: &str| {
        KEY_ORDER
            .iter()
            .position(|x| *x == k)
            .unwrap_or(KEY_ORDER.len())
    };
    let (open, close, items): (char, char, Vec<(Option<&String>, &Value)>) = match v {
        Value::Object(o) => {
            let mut keys: Vec<(&String, &Value)> = o.iter().collect();
            keys.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then(a.0.cmp(b.0)));
            (
                '{',
                '}',
                keys.into_iter().map(|(k, v)| (Some(k), v)).collect(),
            )
        }
        Value::Array(a) => ('[', ']', a.iter().map(|v| (None, v)).collect()),
        scalar => {
            out.push_str(&scalar.to_string());
            return;
        }
    };
    out.push(open);
    if items.is_empty() {
        out.push(close);
        return;
    }
    let inner = indent.map(|i| format!("{i}{unit}"));
    for (n, (k, v)) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        if let Some(i) = &inner {
            out.push('\n');
            out.push_str(i);
        }
        if let Some(k) = k {
            out.push_str(&Value::String((*k).clone()).to_string());
            out.push_str(if inner.is_some() { ": " } else { ":" });
        }
        write_value(v, unit, inner.as_deref(), out);
    }
    if let Some(i) = indent {
        out.push('\n');
        out.push_str(i);
    }
    out.push(close);
}

/// `v` as a new pretty file, indented by `unit`.
pub fn render_pretty(v: &Value, unit: &str) -> String {
    render(v, unit, Some(""))
}

/// Where a new child of `c` goes and how it is laid out: the insertion point,
/// whether a comma precedes it, and its indent (`None`: compact).
fn slot(text: &str, c: &Node, unit: &str) -> (usize, bool, Option<String>) {
    let last_end_start = match &c.kind {
        Kind::Object(m) => m.last().map(|m| (m.value.end, m.start)),
        Kind::Array(a) => a.last().map(|n| (n.end, n.start)),
        Kind::Scalar => None,
    };
    match last_end_start {
        Some((end, start)) => (end, true, line_indent(text, start).map(str::to_string)),
        None => {
            let pretty = text.contains('\n');
            let indent = pretty.then(|| {
                let outer = line_indent(text, c.start)
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        // `"key": {` — the indent of the line the container opens on.
                        let ls = text[..c.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
                        let line = &text[ls..c.start];
                        line[..line.len() - line.trim_start().len()].to_string()
                    });
                format!("{outer}{unit}")
            });
            (c.start + 1, false, indent)
        }
    }
}

/// Inserts `"key": value` as the last member of object `obj`.
pub fn append_member(text: &str, obj: &Node, key: &str, value: &Value, unit: &str) -> String {
    let (at, comma, indent) = slot(text, obj, unit);
    let k = Value::String(key.to_string()).to_string();
    let body = match &indent {
        Some(i) => format!("\n{i}{k}: {}", render(value, unit, Some(i))),
        None => format!("{k}:{}", render(value, unit, None)),
    };
    splice(text, at, comma, &body)
}

/// Inserts `value` as the last element of array `arr`.
pub fn append_item(text: &str, arr: &Node, value: &Value, unit: &str) -> String {
    let (at, comma, indent) = slot(text, arr, unit);
    let body = match &indent {
        Some(i) => format!("\n{i}{}", render(value, unit, Some(i))),
        None => render(value, unit, None),
    };
    splice(text, at, comma, &body)
}

fn splice(text: &str, at: usize, comma: bool, body: &str) -> String {
    let mut out = String::with_capacity(text.len() + body.len() + 1);
    out.push_str(&text[..at]);
    if comma {
        out.push(',');
    }
    out.push_str(body);
    out.push_str(&text[at..]);
    out
}

/// Removes child `i` of `c` (a member or an element) with the separator and
/// space that came with it: the exact inverse of appending it.
pub fn remove_child(text: &str, c: &Node, i: usize) -> String {
    let spans: Vec<(usize, usize)> = match &c.kind {
        Kind::Object(m) => m.iter().map(|m| (m.start, m.value.end)).collect(),
        Kind::Array(a) => a.iter().map(|n| (n.start, n.end)).collect(),
        Kind::Scalar => return text.to_string(),
    };
    let Some(&(start, end)) = spans.get(i) else {
        return text.to_string();
    };
    let range = if i > 0 {
        spans[i - 1].1..end
    } else if let Some(next) = spans.get(1) {
        start..next.0
    } else {
        c.start + 1..end
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..range.start]);
    out.push_str(&text[range.end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PRETTY: &str = "{\n    \"model\": \"opus\",\n    \"hooks\": {\n        \"Stop\": [\n            {\"hooks\": [{\"type\": \"command\", \"command\": \"say done\"}]}\n        ]\n    }\n}\n";

    #[test]
    fn parses_positions_comments_and_trailing_commas() {
        let t = "// settings\n{\"a\": [1, 2,], /* c */ \"b\": {\"c\": \"x\\\"y\"},}\n";
        let root = parse(t).unwrap();
        let a = root.at(&["a"]).unwrap();
        assert_eq!(&t[a.start..a.end], "[1, 2,]");
        assert_eq!(a.items().unwrap().len(), 2);
        assert_eq!(root.at(&["b", "c"]).unwrap().value(t), Some(json!("x\"y")));
        assert_eq!(a.value(t), Some(json!([1, 2])));
        for bad in ["{", "{\"a\" 1}", "[1 2]", "{} x", "{\"a\": tru}"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn append_then_remove_restores_every_byte() {
        let entry = json!({"matcher": "*", "hooks": [{"type": "command", "command": "g"}]});
        let unit = indent_unit(PRETTY);
        assert_eq!(unit, "    ");
        let root = parse(PRETTY).unwrap();
        // a new element in an existing array
        let stop = root.at(&["hooks", "Stop"]).unwrap();
        let t1 = append_item(PRETTY, stop, &entry, &unit);
        let r1 = parse(&t1).unwrap();
        let stop1 = r1.at(&["hooks", "Stop"]).unwrap();
        assert_eq!(stop1.items().unwrap().len(), 2);
        assert!(
            t1.contains("\n            {\n                \"matcher\": \"*\","),
            "{t1}"
        );
        assert_eq!(remove_child(&t1, stop1, 1), PRETTY);
        // a new member in an existing object
        let hooks = root.at(&["hooks"]).unwrap();
        let t2 = append_member(PRETTY, hooks, "PreToolUse", &json!([entry]), &unit);
        let hooks2 = parse(&t2).unwrap().at(&["hooks"]).unwrap().clone();
        assert_eq!(remove_child(&t2, &hooks2, 1), PRETTY);
        // into empty containers, pretty and compact
        for t in ["{\n  \"hooks\": {}\n}\n", "{\"hooks\":{}}", "{\"a\":[]}"] {
            let root = parse(t).unwrap();
            let (c, added) = match root.at(&["hooks"]) {
                Some(h) => (h.clone(), append_member(t, h, "X", &json!([1]), "  ")),
                None => {
                    let a = root.at(&["a"]).unwrap().clone();
                    (a.clone(), append_item(t, &a, &json!({"k": 1}), "  "))
                }
            };
            let again = parse(&added).unwrap();
            assert!(again.value(&added).is_some(), "{added}");
            let c2 = if root.at(&["hooks"]).is_some() {
                again.at(&["hooks"]).unwrap().clone()
            } else {
                again.at(&["a"]).unwrap().clone()
            };
            let _ = c;
            assert_eq!(remove_child(&added, &c2, 0), t);
        }
    }

    #[test]
    fn compact_files_stay_compact() {
        let t = r#"{"hooks":{"Stop":[{"hooks":[]}]}}"#;
        let root = parse(t).unwrap();
        let stop = root.at(&["hooks", "Stop"]).unwrap();
        let out = append_item(t, stop, &json!({"a": 1}), "  ");
        assert_eq!(out, r#"{"hooks":{"Stop":[{"hooks":[]},{"a":1}]}}"#);
    }
}
