//! What one write transaction carries ([`StoreBatch`]), folded before it is
//! written (re-sent records of one span merged in memory), and its size.

use crate::hash::HashMap;
use crate::model::SourceState;
use crate::model::{Finding, ParseError, Run, SkillHit, Span, TriageStatus};
use crate::redact::Redacted;

/// Everything one transaction writes.
#[derive(Debug, Default)]
pub struct StoreBatch {
    pub runs: Vec<Redacted<Run>>,
    pub spans: Vec<Redacted<Span>>,
    pub findings: Vec<Redacted<Finding>>,
    pub skill_hits: Vec<Redacted<SkillHit>>,
    pub errors: Vec<Redacted<ParseError>>,
    /// Triage carried by imported native files: fingerprint, status, redacted note.
    pub triage: Vec<(String, TriageStatus, Option<Redacted<String>>)>,
    pub sources: Vec<SourceState>,
}

impl StoreBatch {
    /// Folds records of the same span (same run and id) into the first, in
    /// place: parsers send a span again when they learn more of it (a tool's
    /// result after its call), and one insert costs a fraction of the
    /// insert, lookup, merge and re-index a second record takes. What is
    /// stored is the same ([`Span::absorb`] follows the store's merge rules).
    pub fn fold_spans(&mut self) {
        let spans = &mut self.spans;
        if spans.len() < 2 {
            return;
        }
        let hasher = foldhash::fast::FixedState::default();
        let key = |s: &Span| {
            use std::hash::BuildHasher;
            hasher.hash_one((s.run_id.as_str(), s.id.as_str()))
        };
        // First position of each span key; a hash match is checked on the ids.
        let mut first: HashMap<u64, usize> = HashMap::default();
        first.reserve(spans.len());
        let mut target: Vec<Option<usize>> = Vec::with_capacity(spans.len());
        for (i, s) in spans.iter().enumerate() {
            let s = s.get();
            let t = match first.entry(key(s)) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(i);
                    None
                }
                std::collections::hash_map::Entry::Occupied(o) => {
                    let f = spans[*o.get()].get();
                    (f.run_id == s.run_id && f.id == s.id).then_some(*o.get())
                }
            };
            target.push(t);
        }
        if target.iter().all(Option::is_none) {
            return;
        }
        // Kept spans keep their order; a folded one lands at its first position.
        let mut kept: Vec<Redacted<Span>> = Vec::with_capacity(spans.len());
        let mut at: Vec<usize> = vec![usize::MAX; spans.len()];
        for (i, (s, t)) in spans.drain(..).zip(target).enumerate() {
            match t {
                Some(f) => kept[at[f]].absorb(s),
                None => {
                    at[i] = kept.len();
                    kept.push(s);
                }
            }
        }
        *spans = kept;
    }

    /// Roughly the bytes the batch holds (for memory bounds, not exact).
    pub fn approx_bytes(&self) -> usize {
        self.spans
            .iter()
            .map(|s| span_bytes(s.get()))
            .sum::<usize>()
            + self
                .findings
                .iter()
                .map(|f| {
                    let f = f.get();
                    256 + f.title.len() + f.message.len() + f.evidence.len()
                })
                .sum::<usize>()
            + 256 * (self.runs.len() + self.skill_hits.len() + self.sources.len())
            + self
                .errors
                .iter()
                .map(|e| 64 + e.get().message.len())
                .sum::<usize>()
            + 128 * self.triage.len()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
            && self.spans.is_empty()
            && self.findings.is_empty()
            && self.skill_hits.is_empty()
            && self.errors.is_empty()
            && self.triage.is_empty()
            && self.sources.is_empty()
    }
}

/// Roughly the bytes a span holds in memory (its strings and attributes).
pub fn span_bytes(s: &Span) -> usize {
    fn json(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::String(s) => 24 + s.len(),
            serde_json::Value::Array(a) => 24 + a.iter().map(json).sum::<usize>(),
            serde_json::Value::Object(o) => {
                24 + o.iter().map(|(k, v)| 24 + k.len() + json(v)).sum::<usize>()
            }
            _ => 24,
        }
    }
    let opt = |o: &Option<String>| o.as_ref().map_or(0, String::len);
    256 + s.id.len()
        + s.run_id.len()
        + s.name.len()
        + s.origin.path.len()
        + opt(&s.parent_id)
        + opt(&s.model)
        + opt(&s.tool_name)
        + opt(&s.tool_call_id)
        + opt(&s.tool_input)
        + opt(&s.tool_output)
        + opt(&s.text)
        + s.attributes
            .iter()
            .map(|(k, v)| 24 + k.len() + json(v))
            .sum::<usize>()
}
