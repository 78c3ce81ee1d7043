//! Replay of a stored run: its spans as terminal lines in their original timing,
//! and re-detection of the run with the current registries and rules.
//!
//! The pure parts live here ([`span_line`], [`delays`], [`diff`]); the command
//! (`commands/replay.rs`) does the waiting and printing. Re-detection feeds the
//! stored (redacted) spans through a fresh pipeline's scan stage, compares the
//! findings with the stored ones by fingerprint, and stores only the new ones.

use crate::ingest::formats::Record;
use crate::ingest::pipeline::{Batch, Pipeline};
use crate::model::{Finding, Span};
use crate::redact::Redacted;
use crate::store::{FindingFilter, Store, StoreBatch, StoreError};
use std::collections::HashSet;
use std::time::Duration;

/// Longest pause between two lines, after scaling by the speed.
pub const MAX_GAP: Duration = Duration::from_secs(2);
/// Spans read per store query.
const PAGE: usize = 1_000;

/// Every span of a run, in time order.
pub fn load_spans(store: &Store, run_id: &str) -> Result<Vec<Span>, StoreError> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = store.spans(run_id, offset, PAGE)?;
        let n = page.len();
        out.extend(page.into_iter().map(|r| r.span));
        if n < PAGE {
            return Ok(out);
        }
        offset += n;
    }
}

/// How long to wait before each span's line: the gap since the previous timed
/// span divided by `speed`, capped at [`MAX_GAP`]; zero for `speed` 0, the first
/// span, untimed spans and clocks that go backwards.
pub fn delays(spans: &[Span], speed: f64) -> Vec<Duration> {
    let mut prev: Option<i64> = None;
    spans
        .iter()
        .map(|s| {
            let d = match (prev, s.start_ms) {
                (Some(p), Some(t)) if t > p && speed > 0.0 && speed.is_finite() => {
                    Duration::from_secs_f64(
                        ((t - p) as f64 / 1000.0 / speed).min(MAX_GAP.as_secs_f64()),
                    )
                }
                _ => Duration::ZERO,
            };
            if s.start_ms.is_some() {
                prev = s.start_ms.max(prev);
            }
            d
        })
        .collect()
}

/// `+MM:SS.mmm` from the run's start (or `+HH:MM:SS` past an hour), `?` when untimed.
pub fn offset_label(start: Option<i64>, at: Option<i64>) -> String {
    match (start, at) {
        (Some(s), Some(t)) => {
            let ms = (t - s).max(0);
            if ms >= 3_600_000 {
                format!(
                    "+{}:{:02}:{:02}",
                    ms / 3_600_000,
                    (ms / 60_000) % 60,
                    (ms / 1000) % 60
                )
            } else {
                format!(
                    "+{:02}:{:02}.{:03}",
                    ms / 60_000,
                    (ms / 1000) % 60,
                    ms % 1000
                )
            }
        }
        _ => "?".to_string(),
    }
}

/// What a span did, briefly: the tool's command, path or URL, the model, or the text.
pub fn summary(s: &Span) -> String {
    if let Some(input) = &s.tool_input {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(input) {
            for k in [
                "command",
                "cmd",
                "file_path",
                "path",
                "url",
                "pattern",
                "query",
            ] {
                match m.get(k) {
                    Some(serde_json::Value::String(v)) => return v.clone(),
                    Some(serde_json::Value::Array(a)) if k == "command" || k == "cmd" => {
                        return a
                            .iter()
                            .map(|x| {
                                x.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| x.to_string())
                            })
                            .collect::<Vec<_>>()
                            .join(" ")
                    }
                    _ => {}
                }
            }
        }
        return input.clone();
    }
    if let Some(t) = &s.text {
        return t.clone();
    }
    if let Some(m) = &s.model {
        return m.clone();
    }
    String::new()
}

/// One terminal line for a span: offset, kind, name, what it did, status.
/// Sanitised: no control character or escape sequence from the trace survives.
pub fn span_line(run_start: Option<i64>, s: &Span, width: usize) -> String {
    let what = summary(s);
    let what = crate::sanitize::line(&what);
    let name = crate::sanitize::line(&s.name);
    let status = match s.status {
        crate::model::SpanStatus::Unset => "",
        st => st.as_str(),
    };
    let head = format!(
        "{:>12}  {:<7} {:<16} ",
        offset_label(run_start, s.start_ms),
        s.kind.as_str(),
        cut(&name, 16)
    );
    let room = width
        .saturating_sub(head.chars().count() + status.len() + 2)
        .max(10);
    let line = format!("{head}{}", cut(&what, room));
    if status.is_empty() {
        line
    } else {
        format!("{line}  {status}")
    }
}

/// Stored text cut to `n` characters, never inside a marker ([`crate::redact::cut::cut`]).
fn cut(s: &str, n: usize) -> String {
    crate::redact::cut::cut(s, n).into_owned()
}

/// Rules whose findings come from raw secret values seen by the redactor; the
/// stored spans hold only redaction markers, so re-detection cannot re-derive them.
pub const NEEDS_RAW_TEXT: [&str; 2] = ["SEC-TRACE-001", "EXF-TRACE-004"];

/// What re-detection found, by fingerprint.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RedetectReport {
    pub spans: u64,
    /// Found now, not stored before (now stored).
    pub new: Vec<Finding>,
    /// Stored before, not found now (left in the store).
    pub gone: Vec<Finding>,
    /// Found both times.
    pub unchanged: Vec<Finding>,
    /// Stored before, not found now, from rules that need the raw secret values
    /// (redaction findings, secrets in outbound calls): the store never keeps those
    /// values, so re-detection cannot confirm or refute them. Left in the store.
    pub unverifiable: Vec<Finding>,
    /// Skill hits written (new ones only count once the store dedupes them).
    pub skill_hits: u64,
}

/// Splits detected findings against stored ones: (new, gone, unchanged), by
/// fingerprint, then by rule and spans (see the comment inside).
pub fn diff(
    stored: &[Finding],
    detected: Vec<Redacted<Finding>>,
) -> (Vec<Redacted<Finding>>, Vec<Finding>, Vec<Finding>) {
    let old: HashSet<&str> = stored.iter().map(|f| f.fingerprint.as_str()).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut new = Vec::new();
    let mut unchanged_fp = HashSet::new();
    for f in detected {
        let fp = f.get().fingerprint.clone();
        if !seen.insert(fp.clone()) {
            continue;
        }
        if old.contains(fp.as_str()) {
            unchanged_fp.insert(fp);
        } else {
            new.push(f);
        }
    }
    let mut gone = Vec::new();
    let mut unchanged = Vec::new();
    for f in stored {
        if unchanged_fp.contains(&f.fingerprint) {
            unchanged.push(f.clone());
        } else {
            gone.push(f.clone());
        }
    }
    // A fingerprint first computed over raw text (a command carrying a secret)
    // differs from one over the stored, redacted text. Same rule on the same
    // spans is the same finding: pair those instead of storing a duplicate.
    let mut still_gone = Vec::new();
    for g in gone {
        match new
            .iter()
            .position(|n| n.get().rule_id == g.rule_id && n.get().span_ids == g.span_ids)
        {
            Some(i) => {
                new.remove(i);
                unchanged.push(g);
            }
            None => still_gone.push(g),
        }
    }
    (new, still_gone, unchanged)
}

/// Re-runs detection over a stored run through `pipeline` (built with the current
/// registries and rules, and writing the same store), stores the new findings and
/// skill hits, and reports new, gone and unchanged findings.
pub fn redetect(pipeline: &mut Pipeline, run_id: &str) -> Result<RedetectReport, StoreError> {
    let spans = load_spans(pipeline.store(), run_id)?;
    let mut stored = Vec::new();
    let filter = FindingFilter {
        run_id: Some(run_id.to_string()),
        ..Default::default()
    };
    let mut offset = 0;
    loop {
        let page = pipeline.store().findings(&filter, offset, PAGE)?;
        let n = page.len();
        stored.extend(page.into_iter().map(|r| r.finding));
        if n < PAGE {
            break;
        }
        offset += n;
    }
    let mut report = RedetectReport {
        spans: spans.len() as u64,
        ..Default::default()
    };
    let mut detected = Vec::new();
    let mut hits = Vec::new();
    for chunk in spans.chunks(PAGE) {
        let batch = Batch {
            records: chunk.iter().cloned().map(Record::Span).collect(),
            ..Default::default()
        };
        let sb = pipeline.scan(batch);
        detected.extend(sb.findings);
        hits.extend(sb.skill_hits);
    }
    let (new, gone, unchanged) = diff(&stored, detected);
    report.new = new.iter().map(|f| f.get().clone()).collect();
    let (unverifiable, gone) = gone
        .into_iter()
        .partition(|f| NEEDS_RAW_TEXT.contains(&f.rule_id.as_str()));
    report.gone = gone;
    report.unverifiable = unverifiable;
    report.unchanged = unchanged;
    let batch = StoreBatch {
        findings: new,
        skill_hits: hits,
        ..Default::default()
    };
    // Waits out other writers (bounded); a store busy for longer is an error, said.
    let store = pipeline.store_mut();
    report.skill_hits =
        crate::store::busy::retry(crate::store::busy::DEFAULT_WAIT, || store.write(&batch))?
            .new_skill_hits;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Severity, SpanKind, SpanStatus};

    fn span(id: &str, t: Option<i64>) -> Span {
        let mut s = Span::new(id, "r", SpanKind::Tool, "Bash", Origin::new("f", 1));
        s.start_ms = t;
        s
    }

    #[test]
    fn delays_scale_and_cap() {
        let s = vec![
            span("a", Some(0)),
            span("b", Some(1000)),
            span("c", None),
            span("d", Some(61_000)),
            span("e", Some(500)),
        ];
        let d = delays(&s, 2.0);
        assert_eq!(d[0], Duration::ZERO);
        assert_eq!(d[1], Duration::from_millis(500));
        assert_eq!(d[2], Duration::ZERO);
        assert_eq!(d[3], MAX_GAP);
        assert_eq!(d[4], Duration::ZERO);
        assert!(delays(&s, 0.0).iter().all(|d| d.is_zero()));
        assert!(delays(&s, f64::NAN).iter().all(|d| d.is_zero()));
    }

    #[test]
    fn lines_are_sanitised_and_summarised() {
        let mut s = span("a", Some(1_500));
        s.tool_input = Some(
            r#"{"command":"cat ~/.aws/credentials\u001b]52;c;x\u0007","description":"x"}"#.into(),
        );
        s.status = SpanStatus::Ok;
        let l = span_line(Some(0), &s, 120);
        assert!(l.starts_with("  +00:01.500  tool    Bash"), "{l}");
        assert!(l.contains("cat ~/.aws/credentials\\x1b]52;c;x\\x07"), "{l}");
        assert!(l.ends_with("  ok"), "{l}");
        assert!(!l.contains('\u{1b}'));
        assert_eq!(offset_label(Some(0), Some(3_723_000)), "+1:02:03");
        assert_eq!(offset_label(None, Some(3)), "?");
        let mut m = Span::new("m", "r", SpanKind::Message, "user", Origin::new("f", 1));
        m.text = Some("line1\nline2".into());
        assert!(span_line(None, &m, 80).contains("line1⏎line2"));
    }

    fn finding(fp: &str) -> Finding {
        Finding {
            rule_id: "X".into(),
            severity: Severity::Low,
            confidence: 1.0,
            run_id: "r".into(),
            span_ids: vec![format!("span-{fp}")],
            title: "t".into(),
            message: "m".into(),
            evidence: "e".into(),
            fingerprint: fp.into(),
            origin: None,
            skill_id: None,
            ts_ms: None,
            related: vec![],
        }
    }

    #[test]
    fn diff_by_fingerprint() {
        let mut red = crate::redact::Redactor::new(crate::redact::Mode::Mask);
        // "d" was fingerprinted over raw text; re-detection over the redacted
        // span gives "d2" for the same rule on the same span: the same finding
        let mut d2 = finding("d2");
        d2.span_ids = vec!["span-d".into()];
        let stored = vec![finding("a"), finding("b"), finding("d")];
        let detected = vec![
            red.redact_finding(finding("a")),
            red.redact_finding(finding("c")),
            red.redact_finding(finding("c")),
            red.redact_finding(d2),
        ];
        let (new, gone, same) = diff(&stored, detected);
        assert_eq!(
            new.iter()
                .map(|f| f.get().fingerprint.as_str())
                .collect::<Vec<_>>(),
            ["c"]
        );
        assert_eq!(
            gone.iter()
                .map(|f| f.fingerprint.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        assert_eq!(
            same.iter()
                .map(|f| f.fingerprint.as_str())
                .collect::<Vec<_>>(),
            ["a", "d"]
        );
    }
}
