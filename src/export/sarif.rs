//! SARIF 2.1.0 export: one run, the full rule table, one result per finding.
//!
//! Results carry a physical location (trace file + line, see [`super::location`]),
//! run/span logical locations, a fingerprint that survives re-imports (derived from
//! the finding's own fingerprint, never from row ids or times), chains as code
//! flows, triage as suppressions and, against a baseline, a `baselineState`.
//! Output is deterministic: the same store gives the same bytes.

use super::baseline::{Baseline, FINGERPRINT_KEY};
use super::location::{logical, FileRef, Locator};
use super::rules::{level, RuleDescriptor, RuleTable};
use super::ExportError;
use crate::model::{Severity, Span, TriageStatus};
use crate::store::{FindingFilter, FindingRow, Store};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// GitHub code scanning limits (results per run, thread-flow locations per result).
pub const MAX_RESULTS: usize = 25_000;
pub const MAX_FLOW_STEPS: usize = 10_000;
/// Evidence longer than this is cut in snippets.
const SNIPPET_CHARS: usize = 240;

/// What to export and how.
#[derive(Debug, Clone)]
pub struct SarifOptions {
    /// Only this run (a full id; resolve prefixes first).
    pub run_id: Option<String>,
    /// `automationDetails.id` prefix, e.g. `skilltrace/all` (a `/` is appended).
    pub category: String,
    /// The folder `%SRCROOT%` stands for.
    pub root: Option<PathBuf>,
    /// The rule catalogue (see [`super::rules::catalogue`]).
    pub rules: Vec<RuleDescriptor>,
    /// An earlier log to compare against.
    pub baseline: Option<Baseline>,
    /// Leave out false positives and suppressed findings (GitHub ignores `suppressions`).
    pub omit_suppressed: bool,
    /// At most this many results (GitHub: 25,000 per run).
    pub max_results: usize,
}

impl Default for SarifOptions {
    fn default() -> SarifOptions {
        SarifOptions {
            run_id: None,
            category: "skilltrace/all".into(),
            root: std::env::current_dir().ok(),
            rules: super::rules::catalogue(),
            baseline: None,
            omit_suppressed: false,
            max_results: MAX_RESULTS,
        }
    }
}

/// A built SARIF log and what the caller should warn about.
///
/// Results are serialised one by one as they are built (one compact line each
/// inside the pretty log), so a 25,000-result log never exists as a JSON tree.
#[derive(Debug, Clone)]
pub struct SarifLog {
    bytes: Vec<u8>,
    pub results: usize,
    /// One line each, for standard error.
    pub warnings: Vec<String>,
}

impl SarifLog {
    /// The log as JSON with a trailing newline.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The log as JSON with a trailing newline, owned.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The log parsed back into a JSON value (for tests and callers that inspect it).
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_default()
    }
}

/// The top of the log, in the key order SARIF examples use.
#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [LogRun<'a>; 1],
}

#[derive(Serialize)]
struct LogRun<'a> {
    tool: Value,
    #[serde(rename = "automationDetails")]
    automation_details: Value,
    #[serde(rename = "originalUriBaseIds")]
    original_uri_base_ids: Value,
    #[serde(rename = "columnKind")]
    column_kind: &'static str,
    results: &'a [Box<RawValue>],
}

fn raw(v: &Value) -> Result<Box<RawValue>, ExportError> {
    serde_json::value::to_raw_value(v).map_err(|e| ExportError::Io {
        path: "sarif".into(),
        why: e.to_string(),
    })
}

/// `partialFingerprints.primaryLocationLineHash` for a finding fingerprint:
/// 16 hex digits of SHA-256 over it, then GitHub's `:occurrence` suffix.
pub fn line_hash(fingerprint: &str) -> String {
    let d = Sha256::digest(format!("skilltrace-primary\0{fingerprint}").as_bytes());
    format!("{}:1", &hex::encode(d)[..16])
}

/// Builds the SARIF log for the findings in `store` that `opts` selects.
pub fn build(store: &Store, opts: &SarifOptions) -> Result<SarifLog, ExportError> {
    let filter = FindingFilter {
        run_id: opts.run_id.clone(),
        ..Default::default()
    };
    let mut warnings = Vec::new();
    let omit = opts.omit_suppressed;
    let (rows, more) = super::load_findings(store, &filter, opts.max_results, |r| {
        !(omit && dismissed(r.status))
    })?;
    if more {
        let total = store.finding_count(&filter)?;
        warnings.push(format!(
            "{total} findings: the SARIF file holds the worst {} (GitHub code scanning accepts at most {MAX_RESULTS} results per run)",
            opts.max_results
        ));
    }
    let mut rules = RuleTable::new(opts.rules.clone());
    rules.add_fallbacks(rows.iter().map(|r| {
        (
            r.finding.rule_id.as_str(),
            r.finding.title.as_str(),
            r.finding.severity,
        )
    }));
    let locator = Locator::new(opts.root.clone());
    let mut spans = SpanCache::new(store);
    let mut results: Vec<Box<RawValue>> = Vec::with_capacity(rows.len());
    let mut seen = HashSet::new();
    let mut cut_flows = 0usize;
    for row in rows {
        let (mut r, cut) = result(&row, &rules, &locator, &mut spans)?;
        cut_flows += cut as usize;
        if let Some(b) = &opts.baseline {
            b.mark(&mut r, &mut seen);
        }
        results.push(raw(&r)?);
    }
    if cut_flows > 0 {
        warnings.push(format!(
            "{cut_flows} chain finding(s) have more than {MAX_FLOW_STEPS} steps: their code flows were cut (GitHub's limit)"
        ));
    }
    if let Some(b) = &opts.baseline {
        let mut absent = b.absent(&seen);
        let room = opts.max_results.saturating_sub(results.len());
        if absent.len() > room {
            warnings.push(format!(
                "{} absent baseline results left out (GitHub code scanning accepts at most {MAX_RESULTS} results per run)",
                absent.len() - room
            ));
            absent.truncate(room);
        }
        let olds: Vec<(String, Severity)> = absent
            .iter()
            .map(|r| {
                let id = r
                    .get("ruleId")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string();
                let sev = match r.get("level").and_then(Value::as_str) {
                    Some("error") => Severity::High,
                    Some("warning") => Severity::Medium,
                    _ => Severity::Low,
                };
                (id, sev)
            })
            .collect();
        rules.add_fallbacks(olds.iter().map(|(i, s)| (i.as_str(), i.as_str(), *s)));
        for mut r in absent {
            let id = r
                .get("ruleId")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string();
            r["ruleId"] = Value::from(id.as_str());
            if let Some(i) = rules.index_of(&id) {
                r["ruleIndex"] = Value::from(i);
            }
            results.push(raw(&r)?);
        }
    }
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [LogRun {
            tool: json!({"driver": {
                "name": "skilltrace",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_HOMEPAGE"),
                "rules": rules.to_json(),
            }}),
            automation_details: json!({"id": format!("{}/", opts.category.trim_end_matches('/'))}),
            original_uri_base_ids: locator.original_uri_base_ids(),
            column_kind: "unicodeCodePoints",
            results: &results,
        }],
    };
    let text = serde_json::to_string_pretty(&log).map_err(|e| ExportError::Io {
        path: "sarif".into(),
        why: e.to_string(),
    })?;
    let mut bytes = crate::sanitize::json(&text).into_owned().into_bytes();
    bytes.push(b'\n');
    Ok(SarifLog {
        bytes,
        results: results.len(),
        warnings,
    })
}

/// False positives and suppressed findings: set aside by a person.
pub fn dismissed(s: TriageStatus) -> bool {
    matches!(s, TriageStatus::FalsePositive | TriageStatus::Suppressed)
}

/// Reads spans once each (chains and origins look them up).
struct SpanCache<'a> {
    store: &'a Store,
    spans: HashMap<(String, String), Option<Span>>,
}

impl<'a> SpanCache<'a> {
    fn new(store: &'a Store) -> SpanCache<'a> {
        SpanCache {
            store,
            spans: HashMap::new(),
        }
    }

    fn get(&mut self, run: &str, span: &str) -> Result<Option<&Span>, ExportError> {
        let k = (run.to_string(), span.to_string());
        if !self.spans.contains_key(&k) {
            if self.spans.len() > 50_000 {
                self.spans.clear();
            }
            let s = self.store.span(run, span)?;
            self.spans.insert(k.clone(), s);
        }
        Ok(self.spans.get(&k).and_then(Option::as_ref))
    }
}

/// Stored text on one sanitised line, cut to `n` characters, never inside a
/// redaction marker ([`crate::redact::cut::cut`]).
fn clip(s: &str, n: usize) -> String {
    let s = crate::sanitize::line(s.trim());
    crate::redact::cut::cut(&s, n).into_owned()
}

/// One SARIF result; the flag says its code flow was cut.
fn result(
    row: &FindingRow,
    rules: &RuleTable,
    locator: &Locator,
    spans: &mut SpanCache<'_>,
) -> Result<(Value, bool), ExportError> {
    let f = &row.finding;
    let primary_span = f.span_ids.first().map(String::as_str);
    // where: the finding's own origin, else its span's, else the run's source
    let mut file: Option<FileRef> = f
        .origin
        .as_ref()
        .and_then(|o| locator.file_ref(&o.path, o.line));
    if file.is_none() {
        if let Some(s) = primary_span {
            file = spans
                .get(&f.run_id, s)?
                .and_then(|sp| locator.file_ref(&sp.origin.path, sp.origin.line));
        }
    }
    if file.is_none() {
        file = spans
            .store
            .run(&f.run_id)?
            .and_then(|r| locator.file_ref(&r.run.source, 1));
    }
    let snippet = clip(&f.evidence, SNIPPET_CHARS);
    let mut location = json!({"logicalLocations": logical(&f.run_id, primary_span)});
    if let Some(file) = &file {
        location["physicalLocation"] = file.physical(Some(&snippet));
    }
    let text = [f.message.as_str(), f.title.as_str(), f.rule_id.as_str()]
        .into_iter()
        .map(str::trim)
        .find(|t| !t.is_empty())
        .unwrap_or("finding");
    let mut r = json!({
        "ruleId": f.rule_id,
        "level": level(f.severity),
        "message": {"text": clip(text, 1000)},
        "locations": [location],
        "partialFingerprints": {"primaryLocationLineHash": line_hash(&f.fingerprint)},
        "fingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "suppressions": suppressions(row),
        "properties": {
            "severity": f.severity.as_str(),
            "confidence": (f.confidence.clamp(0.0, 1.0) as f64 * 100.0).round() / 100.0,
            "status": row.status.as_str(),
            "runId": f.run_id,
        },
    });
    if let Some(i) = rules.index_of(&f.rule_id) {
        r["ruleIndex"] = json!(i);
    }
    if let Some(s) = &f.skill_id {
        r["properties"]["skill"] = json!(s);
    }
    if let Some(n) = notes(row) {
        r["properties"]["notes"] = n;
    }
    if !f.related.is_empty() {
        r["properties"]["related"] = json!(f.related);
    }
    if let Some(g) = row.guard {
        // What the guard answered the call that raised it (denied, asked, allowed).
        r["properties"]["guardDecision"] = json!(g.as_str());
    }
    let mut cut = false;
    if f.span_ids.len() > 1 {
        let steps = f.span_ids.len();
        cut = steps > MAX_FLOW_STEPS;
        let mut locs = Vec::with_capacity(steps.min(MAX_FLOW_STEPS));
        for (i, sid) in f.span_ids.iter().take(MAX_FLOW_STEPS).enumerate() {
            let span = spans.get(&f.run_id, sid)?;
            let what = match span {
                Some(s) => {
                    let tool = s.tool_name.as_deref().filter(|t| *t != s.name);
                    match tool {
                        Some(t) => format!("{} {} ({})", s.kind.as_str(), s.name, t),
                        None => format!("{} {}", s.kind.as_str(), s.name),
                    }
                }
                None => "span not in store".to_string(),
            };
            let mut loc = json!({
                "logicalLocations": logical(&f.run_id, Some(sid)),
                "message": {"text": clip(&format!("step {} of {steps}: {what}", i + 1), 500)},
            });
            if let Some(fr) = span.and_then(|s| locator.file_ref(&s.origin.path, s.origin.line)) {
                loc["physicalLocation"] = fr.physical(None);
            }
            locs.push(json!({
                "location": loc,
                "executionOrder": i + 1,
                "importance": if i == 0 || i + 1 == steps { "essential" } else { "important" },
            }));
        }
        r["codeFlows"] = json!([{
            "message": {"text": clip(&format!("{}: {steps} steps in run {}", f.title, f.run_id), 500)},
            "threadFlows": [{"locations": locs}],
        }]);
    }
    Ok((r, cut))
}

/// A time as SARIF writes it (ISO 8601, UTC, milliseconds).
fn iso_time(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Triage as SARIF suppressions: none for open and confirmed findings (an empty
/// array: "not suppressed"), one `external`/`accepted` suppression otherwise,
/// whose justification is the person's reason, with who decided and when in
/// its properties.
fn suppressions(row: &FindingRow) -> Value {
    let reason = row
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| clip(n, 1000));
    let justification = match row.status {
        TriageStatus::Open | TriageStatus::Confirmed => return json!([]),
        TriageStatus::FalsePositive => match reason {
            Some(n) => format!("false positive: {n}"),
            None => "marked a false positive in skilltrace".to_string(),
        },
        TriageStatus::Suppressed => match reason {
            Some(n) => format!("suppressed: {n}"),
            None => "suppressed in skilltrace".to_string(),
        },
    };
    let mut s = json!({"kind": "external", "status": "accepted", "justification": justification});
    let mut props = serde_json::Map::new();
    if let Some(by) = row.triaged_by.as_deref().filter(|b| !b.is_empty()) {
        props.insert("triagedBy".into(), json!(clip(by, 200)));
    }
    if let Some(at) = row.triaged_ms.and_then(iso_time) {
        props.insert("triagedAt".into(), json!(at));
    }
    if !props.is_empty() {
        s["properties"] = Value::Object(props);
    }
    json!([s])
}

/// A finding's notes as result properties: `[{author, time, text}]`, oldest first.
fn notes(row: &FindingRow) -> Option<Value> {
    let notes: Vec<Value> = row
        .notes
        .iter()
        .map(|n| {
            let mut v = json!({"text": clip_block(&n.text, 4000)});
            if !n.author.is_empty() {
                v["author"] = json!(clip(&n.author, 200));
            }
            if let Some(t) = iso_time(n.ts_ms) {
                v["time"] = json!(t);
            }
            v
        })
        .collect();
    (!notes.is_empty()).then_some(Value::Array(notes))
}

/// Stored multi-line text, each line sanitised (line breaks kept), at most about `n` characters.
fn clip_block(s: &str, n: usize) -> String {
    let mut out = String::new();
    for l in s.trim().lines() {
        if out.chars().count() >= n {
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&clip(l, n));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_hash_is_stable_and_shaped() {
        let a = line_hash("abc");
        assert_eq!(a, line_hash("abc"));
        assert_ne!(a, line_hash("abd"));
        assert_eq!(a.len(), 18);
        assert!(a.ends_with(":1"));
        assert!(a[..16].chars().all(|c| c.is_ascii_hexdigit()));
    }
}
