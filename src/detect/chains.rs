//! Per-run correlation, in arrival order: credential read → egress (EXF-TRACE-003
//! raised to high and linked), injected tool output → risky action
//! (PINJ-TRACE-002, critical, listing every step), and the run's memory of
//! secrets seen (keyed hashes only) for EXF-TRACE-004.

use super::fingerprint::fingerprint;
use super::rules::{self, id};
use crate::model::{Finding, Severity};
use std::collections::{HashMap, HashSet, VecDeque};

/// How many runs keep state at once (oldest dropped first).
const MAX_RUNS: usize = 512;
/// Per run, at most this many secrets are remembered.
const MAX_SECRETS: usize = 4096;

/// A credential read waiting for an egress.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct PendingRead {
    finding: Finding,
    raised: bool,
}

/// An injected output and the risky steps that followed it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Injection {
    finding: Finding,
    steps: Vec<(String, String)>,
}

/// What the detector remembers about one run.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RunState {
    /// fingerprint → (severity, number of span ids) last emitted.
    emitted: HashMap<String, (Severity, usize)>,
    reads: Vec<PendingRead>,
    injections: Vec<Injection>,
    /// Keyed hashes of secrets redaction saw, with the span they were first seen in.
    #[serde(with = "hex_keys")]
    pub secrets: HashMap<[u8; 32], String>,
    /// The skill active now (skill id), and where it was recognised.
    pub active_skill: Option<String>,
    /// Skill hits already reported: (span id, skill id, method).
    pub skill_hits: HashSet<(String, String, String)>,
}

impl RunState {
    /// True when this finding (or a stronger copy of it) was already emitted.
    pub fn already(&self, f: &Finding) -> bool {
        match self.emitted.get(&f.fingerprint) {
            Some((sev, n)) => *sev >= f.severity && *n >= f.span_ids.len(),
            None => false,
        }
    }

    pub fn mark(&mut self, f: &Finding) {
        self.emitted
            .insert(f.fingerprint.clone(), (f.severity, f.span_ids.len()));
    }

    pub fn remember_secret(&mut self, h: [u8; 32], span: &str) {
        if self.secrets.len() < MAX_SECRETS {
            self.secrets.entry(h).or_insert_with(|| span.to_string());
        }
    }

    /// The state as JSON, for a process that judges one event of a run and
    /// exits (the guard's command hook). Secrets appear as keyed hashes only;
    /// the findings waiting for a chain pass through `redact` first, so the
    /// snapshot can go to disk.
    pub fn snapshot(&self, redact: &mut dyn FnMut(&mut Finding)) -> serde_json::Value {
        let mut copy = RunState {
            emitted: self.emitted.clone(),
            reads: self.reads.clone(),
            injections: self.injections.clone(),
            secrets: self.secrets.clone(),
            active_skill: self.active_skill.clone(),
            skill_hits: self.skill_hits.clone(),
        };
        for r in &mut copy.reads {
            redact(&mut r.finding);
        }
        for i in &mut copy.injections {
            redact(&mut i.finding);
        }
        serde_json::to_value(&copy).unwrap_or_default()
    }

    /// A state read back from [`RunState::snapshot`]; `None` when it does not parse.
    pub fn from_snapshot(v: serde_json::Value) -> Option<RunState> {
        serde_json::from_value(v).ok()
    }
}

/// `[u8; 32]` map keys as hex strings (JSON keys must be strings).
mod hex_keys {
    use std::collections::HashMap;

    pub fn serialize<S: serde::Serializer>(
        m: &HashMap<[u8; 32], String>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(m.len()))?;
        for (k, v) in m {
            map.serialize_entry(&hex::encode(k), v)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<HashMap<[u8; 32], String>, D::Error> {
        let raw: HashMap<String, String> = serde::Deserialize::deserialize(d)?;
        let mut out = HashMap::with_capacity(raw.len());
        for (k, v) in raw {
            let mut key = [0u8; 32];
            if hex::decode_to_slice(&k, &mut key).is_ok() {
                out.insert(key, v);
            }
        }
        Ok(out)
    }
}

/// Runs' states with a bound on how many are kept.
#[derive(Debug, Default)]
pub struct Runs {
    map: HashMap<String, RunState>,
    order: VecDeque<String>,
    /// Never used: what `get` could hand out if the map lost an entry it was just given.
    spare: RunState,
}

impl Runs {
    /// Replaces a run's state (the guard's command hook restoring a snapshot).
    pub fn set(&mut self, run: &str, state: RunState) {
        *self.get(run) = state;
    }

    pub fn get(&mut self, run: &str) -> &mut RunState {
        if !self.map.contains_key(run) {
            if self.order.len() >= MAX_RUNS {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
            self.order.push_back(run.to_string());
            self.map.insert(run.to_string(), RunState::default());
        }
        // A run seen before (nearly every span) costs a lookup, not two allocations.
        match self.map.get_mut(run) {
            Some(st) => st,
            None => &mut self.spare,
        }
    }
}

/// Links a span's new findings into the run's chains; returns the extra
/// findings chains produce (raised reads, PINJ-TRACE-002).
pub fn correlate(
    st: &mut RunState,
    span_id: &str,
    new: &[Finding],
    egress: bool,
    risky: &[&Finding],
) -> Vec<Finding> {
    let mut out = Vec::new();
    // credential read → egress
    if egress {
        let egress_fp: Vec<String> = new
            .iter()
            .filter(|f| {
                matches!(
                    f.rule_id.as_str(),
                    id::EXF_SHELL_EGRESS
                        | id::EXF_FETCH
                        | id::NET_BAD_HOST
                        | id::NET_UNLISTED
                        | id::EXF_SECRET_OUT
                )
            })
            .map(|f| f.fingerprint.clone())
            .collect();
        for r in st.reads.iter_mut().filter(|r| !r.raised) {
            let mut f = r.finding.clone();
            f.severity = Severity::High;
            if !f.span_ids.iter().any(|s| s == span_id) {
                f.span_ids.push(span_id.to_string());
            }
            f.related.extend(egress_fp.iter().cloned());
            f.message = format!(
                "{}; data left the machine later in the run (span {span_id})",
                r.finding.message
            );
            r.raised = true;
            out.push(f);
        }
    }
    // the reads of this span wait for a later egress (unless this span egresses too)
    for f in new.iter().filter(|f| f.rule_id == id::EXF_CRED_READ) {
        if !st
            .reads
            .iter()
            .any(|r| r.finding.fingerprint == f.fingerprint)
        {
            let raised = egress;
            if raised {
                let mut g = f.clone();
                g.severity = Severity::High;
                g.message = format!("{}; data left the machine in the same step", f.message);
                out.push(g);
            }
            st.reads.push(PendingRead {
                finding: f.clone(),
                raised,
            });
        }
    }
    // injected output → risky action (a later span)
    for inj in st.injections.iter_mut() {
        if inj
            .finding
            .span_ids
            .first()
            .map(|s| s == span_id)
            .unwrap_or(false)
        {
            continue;
        }
        let mut grew = false;
        for r in risky {
            if !inj.steps.iter().any(|(_, fp)| fp == &r.fingerprint) {
                inj.steps.push((span_id.to_string(), r.fingerprint.clone()));
                grew = true;
            }
        }
        if grew {
            out.push(pinj_chain(&inj.finding, &inj.steps, risky));
        }
    }
    for f in new.iter().filter(|f| f.rule_id == id::PINJ_OUTPUT) {
        if !st
            .injections
            .iter()
            .any(|i| i.finding.span_ids.first() == f.span_ids.first())
        {
            // one chain per injected span (several signs on one page are one injection)
            st.injections.push(Injection {
                finding: f.clone(),
                steps: Vec::new(),
            });
        }
    }
    out
}

fn pinj_chain(inj: &Finding, steps: &[(String, String)], latest: &[&Finding]) -> Finding {
    let mut span_ids = vec![inj.span_ids.first().cloned().unwrap_or_default()];
    for (s, _) in steps {
        if !span_ids.contains(s) {
            span_ids.push(s.clone());
        }
    }
    let mut related = vec![inj.fingerprint.clone()];
    related.extend(steps.iter().map(|(_, fp)| fp.clone()));
    let what: Vec<String> = latest.iter().map(|f| f.rule_id.clone()).collect();
    Finding {
        rule_id: id::PINJ_BEHAVIOUR.into(),
        severity: rules::default_severity(id::PINJ_BEHAVIOUR),
        confidence: 0.85,
        run_id: inj.run_id.clone(),
        span_ids,
        title: rules::title(id::PINJ_BEHAVIOUR),
        message: format!(
            "after prompt injection in span {}, the agent took {} risky step(s), latest: {}",
            inj.span_ids.first().map(String::as_str).unwrap_or("?"),
            steps.len(),
            what.join(", ")
        ),
        evidence: inj.evidence.clone(),
        fingerprint: fingerprint(id::PINJ_BEHAVIOUR, &inj.run_id, &inj.fingerprint),
        origin: inj.origin.clone(),
        skill_id: inj.skill_id.clone(),
        ts_ms: latest.last().and_then(|f| f.ts_ms).or(inj.ts_ms),
        related,
    }
}
