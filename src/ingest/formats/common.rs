//! Small helpers the format parsers share: field access by reference, time
//! parsing without allocation, titles, and the text of content blocks.

use crate::ingest::formats::json::Value;
use crate::model::{Millis, Origin, Run};

/// `v[key]` as a string slice, when it is one.
#[inline]
pub fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `v[key]` as a non-empty string slice.
#[inline]
pub fn nonempty<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    str_of(v, key).filter(|s| !s.is_empty())
}

/// A JSON value as an unsigned integer: numbers, or decimal strings (proto3 JSON).
pub fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON value as a signed integer: numbers, or decimal strings.
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Text of a value: strings as they are, anything else as compact JSON.
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Compact JSON text of a value (strings are quoted).
pub fn json_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Parses an RFC 3339 / ISO-8601 timestamp (`2026-02-12T16:02:23.545Z`,
/// `2025-03-11T16:02:12.254000+00:00`, `2025-06-14T10:00:00Z`) to Unix ms.
/// A timestamp without zone is taken as UTC. `None` when it is not one.
pub fn iso_ms(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut n = 0i64;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                ms = ms * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..3 {
            ms *= 10;
        }
    }
    let offset_min = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &s[i + 1..];
            let (oh, om) = match rest.len() {
                5 if rest.as_bytes()[2] == b':' => (num(i + 1..i + 3)?, num(i + 4..i + 6)?),
                4 => (num(i + 1..i + 3)?, num(i + 3..i + 5)?),
                2 => (num(i + 1..i + 3)?, 0),
                _ => return None,
            };
            let m = oh * 60 + om;
            if sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs * 1000 + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A timestamp field: ISO string, or a number of seconds / ms / µs / ns since the epoch.
pub fn time_ms(v: &Value) -> Option<Millis> {
    match v {
        Value::String(s) => iso_ms(s).or_else(|| s.trim().parse::<f64>().ok().map(epoch_ms)),
        Value::Number(n) => n.as_f64().map(epoch_ms),
        _ => None,
    }
}

/// Guesses the unit of an epoch number by its size.
fn epoch_ms(x: f64) -> Millis {
    let ax = x.abs();
    if ax >= 1e17 {
        (x / 1e6) as Millis // ns
    } else if ax >= 1e14 {
        (x / 1e3) as Millis // µs
    } else if ax >= 1e11 {
        x as Millis // ms
    } else {
        (x * 1e3) as Millis // s
    }
}

/// A run title from prompt text: the whole first non-blank line, whitespace and
/// control characters collapsed to single spaces. `None` for blank text. Not cut
/// here: a cut before redaction would leave the start of a secret that no rule
/// matches any more; the redactor cuts titles to
/// [`crate::redact::cut::TITLE_CHARS`] after redacting them.
pub fn title_of(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut out = String::with_capacity(line.len());
    let mut space = false;
    for c in line.chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    Some(out)
}

/// Joins the text of a content value: a string, or an array of blocks whose
/// `text` (or `content`, for nested tool results) is taken; images and other
/// binary blocks become a `[type]` placeholder. `None` when there is no text.
pub fn content_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string()),
        Value::Array(items) => {
            let mut out = String::new();
            for item in items {
                let piece = match item {
                    Value::String(s) => Some(s.as_ref()),
                    Value::Object(_) => str_of(item, "text")
                        .or_else(|| str_of(item, "content"))
                        .or_else(|| str_of(item, "thinking")),
                    _ => None,
                };
                match piece {
                    Some(p) => {
                        if !out.is_empty() {
                            out.push('\n');
                        }
                        out.push_str(p);
                    }
                    None => {
                        if let Some(t) = str_of(item, "type") {
                            if !out.is_empty() {
                                out.push('\n');
                            }
                            out.push('[');
                            out.push_str(t);
                            out.push(']');
                        }
                    }
                }
            }
            Some(out)
        }
        Value::Null => None,
        other => Some(json_text(other)),
    }
}

/// A fresh run update with only identity and source set.
pub fn run_update(id: &str, agent: crate::model::AgentKind, origin: &Origin) -> Run {
    Run {
        id: id.to_owned(),
        agent: Some(agent),
        source: origin.path.to_string(),
        ..Run::default()
    }
}

/// Run updates for parsers that see a run's spans one at a time (OTLP, Agents
/// SDK): a run is announced when first seen, and again only when a span moves
/// its end later, brings its first start, or gives it its title (once).
#[derive(Debug, Default)]
pub struct RunTracker(crate::hash::HashMap<String, (Option<Millis>, bool)>);

impl RunTracker {
    /// Notes a span of `run` spanning `start..end`; `prompt` may title the run.
    /// Pushes a run update onto `out` when it tells something new.
    #[allow(clippy::too_many_arguments)]
    pub fn touch(
        &mut self,
        run: &str,
        agent: crate::model::AgentKind,
        start: Option<Millis>,
        end: Option<Millis>,
        prompt: Option<&str>,
        origin: &Origin,
        out: &mut Vec<crate::ingest::formats::Record>,
    ) {
        let fresh = !self.0.contains_key(run);
        if fresh {
            self.0.insert(run.to_owned(), (None, false));
        }
        let Some((last_end, titled)) = self.0.get_mut(run) else {
            return;
        };
        let title = if *titled {
            None
        } else {
            prompt.and_then(title_of)
        };
        let later = end.is_some() && end > *last_end;
        if fresh || later || title.is_some() || start.is_some() && last_end.is_none() {
            let mut r = run_update(run, agent, origin);
            r.started_ms = start;
            r.ended_ms = end;
            if title.is_some() {
                *titled = true;
                r.title = title;
            }
            if later {
                *last_end = end;
            }
            out.push(crate::ingest::formats::Record::Run(r));
        }
    }
}

/// The last path component without extension (`a/b/rollout-x.jsonl` → `rollout-x`).
pub fn file_stem(path: &str) -> &str {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match name.find('.') {
        Some(0) | None => name,
        Some(i) => &name[..i],
    }
}

/// The name of the folder a file sits in (`a/tasks/17/ui.json` → `17`); `None` at the root.
pub fn parent_name(path: &str) -> Option<&str> {
    let mut parts = path.rsplit(['/', '\\']);
    parts.next()?;
    parts.next().filter(|p| !p.is_empty())
}

/// The last path component (`a/b/events.jsonl` → `events.jsonl`).
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Problems met inside one document (a bad message among good ones): the good
/// records are kept, and the document reports ONE error naming how many items
/// could not be read and why the first one failed.
#[derive(Debug, Default)]
pub struct Problems {
    count: usize,
    first: Option<String>,
}

impl Problems {
    /// Notes one unreadable item (`what`: which item and why, never its content).
    pub fn note(&mut self, what: impl Into<String>) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(what.into());
        }
    }

    /// `Ok` when nothing was noted, else one shape error for `format`'s `items`.
    pub fn result(self, format: &str, items: &str, total: usize) -> Result<(), super::FormatError> {
        match self.first {
            None => Ok(()),
            Some(first) => Err(super::FormatError::Shape(format!(
                "{format}: {} of {total} {items} unreadable (first: {first})",
                self.count
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_parse_to_ms() {
        assert_eq!(iso_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_ms("2026-02-12T16:02:23.545Z"), Some(1_770_912_143_545));
        assert_eq!(
            iso_ms("2026-02-12T17:02:23.545123+01:00"),
            Some(1_770_912_143_545)
        );
        assert_eq!(iso_ms("2025-06-14T10:00:00Z"), Some(1_749_895_200_000));
        assert_eq!(iso_ms("2025-06-14T10:00:00.5"), Some(1_749_895_200_500));
        assert_eq!(iso_ms("2025-06-14"), None);
        assert_eq!(iso_ms("2025-13-14T10:00:00Z"), None);
        assert_eq!(iso_ms("2025-06-14T10:00:00Zjunk"), None);
        assert_eq!(iso_ms("ßßßßßßßßßßßßßßßßßßßßß"), None);
    }

    #[test]
    fn epoch_units_are_guessed() {
        assert_eq!(
            time_ms(&Value::from(serde_json::json!(1_700_000_000u64))),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            time_ms(&Value::from(serde_json::json!(1_700_000_000_123u64))),
            Some(1_700_000_000_123)
        );
        assert_eq!(
            time_ms(&Value::from(serde_json::json!("1700000000123456789"))),
            Some(1_700_000_000_123)
        );
    }

    #[test]
    fn titles_are_one_short_line() {
        assert_eq!(
            title_of("\n  fix   the\tbug \nmore").as_deref(),
            Some("fix the bug")
        );
        // Whole: the redactor cuts it, after redacting.
        let long = "é".repeat(500);
        assert_eq!(title_of(&long).as_deref(), Some(long.as_str()));
        assert_eq!(title_of("  \n "), None);
    }

    #[test]
    fn content_text_joins_blocks() {
        let v = Value::from(
            serde_json::json!([{"type":"text","text":"a"},{"type":"image","source":{}},"b"]),
        );
        assert_eq!(content_text(&v).as_deref(), Some("a\n[image]\nb"));
        assert_eq!(file_stem("x/y/rollout-1.jsonl"), "rollout-1");
        assert_eq!(parent_name("a/tasks/17/ui.json"), Some("17"));
        assert_eq!(parent_name("ui.json"), None);
        assert_eq!(file_name("a\\b\\events.jsonl"), "events.jsonl");
    }

    #[test]
    fn run_tracker_announces_only_what_is_new() {
        use crate::ingest::formats::Record;
        use crate::model::AgentKind::Otel;
        let mut t = RunTracker::default();
        let o = Origin::new("f", 1);
        let mut out = Vec::new();
        t.touch("r", Otel, None, None, None, &o, &mut out);
        t.touch("r", Otel, None, None, None, &o, &mut out);
        assert_eq!(out.len(), 1, "first sight only");
        t.touch("r", Otel, Some(5), None, None, &o, &mut out);
        assert_eq!(out.len(), 2, "first start while no end is known");
        t.touch("r", Otel, Some(5), Some(9), Some("do it"), &o, &mut out);
        t.touch("r", Otel, Some(6), Some(8), Some("other"), &o, &mut out);
        assert_eq!(
            out.len(),
            3,
            "an earlier end and a second title tell nothing new"
        );
        let Some(Record::Run(r)) = out.last() else {
            panic!("run update")
        };
        assert_eq!((r.ended_ms, r.title.as_deref()), (Some(9), Some("do it")));
    }
}
