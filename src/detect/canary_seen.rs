//! Step 4 of [`super::Detector::scan_span`]: canary tokens anywhere in a span.
//! Every field is searched (each sighting goes back to the pipeline, which
//! redacts it); the first sighting names the finding (EXF-TRACE-004, confidence
//! 1); plain, URL-encoded and reversed tokens are kept so their pieces and
//! encodings are caught later in the run.

use super::hit::Hit;
use super::rules::id;
use super::tokens::CanarySet;
use crate::model::Span;

/// What the canary search found in one span.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// The finding, when a canary token was seen.
    pub hit: Option<Hit>,
    /// The tokens themselves, to remember for the rest of the run.
    pub tokens: Vec<String>,
}

/// Searches every field of `span` for `canaries`, adding each sighting (as it
/// appears in the span) to `secrets`.
pub(super) fn find(canaries: &CanarySet, span: &Span, secrets: &mut Vec<String>) -> Seen {
    let mut seen = Seen::default();
    if canaries.is_empty() {
        return seen;
    }
    let fields: [(&str, Option<&str>); 4] = [
        ("tool_input", span.tool_input.as_deref()),
        ("tool_output", span.tool_output.as_deref()),
        ("text", span.text.as_deref()),
        ("name", Some(span.name.as_str())),
    ];
    // Every field is searched (each canary seen must be redacted);
    // the first sighting names the finding.
    let mut found = None;
    let attrs = (!span.attributes.is_empty())
        .then(|| serde_json::Value::Object(span.attributes.clone()).to_string());
    for (field, t) in fields.into_iter().chain([("attributes", attrs.as_deref())]) {
        for m in t.map(|t| canaries.find_all(t)).unwrap_or_default() {
            secrets.push(m.found.clone());
            // the token itself, for its pieces and encodings later in the run
            match m.encoding {
                "plain" | "url" => seen.tokens.push(m.found.clone()),
                "reversed" => seen.tokens.push(m.found.chars().rev().collect()),
                _ => {}
            }
            found.get_or_insert((field, m));
        }
    }
    if let Some((field, m)) = found {
        let ev = format!(
            "canary {} from {} ({}) in {field}",
            m.label, m.file, m.encoding
        );
        seen.hit = Some(
            Hit::new(id::EXF_SECRET_OUT, format!("canary token {} of decoy {} appeared in {field}, {} encoded: proof of exfiltration", m.label, m.file, m.encoding), &ev)
                .confidence(1.0)
                .key(&format!("canary|{}|{}|{}", m.file, m.label, span.id)),
        );
    }
    seen
}
