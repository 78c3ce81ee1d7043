//! Per-run correlation, in arrival order: credential read → egress (EXF-TRACE-003
//! raised to high and linked), injected tool output → risky action
//! (PINJ-TRACE-002, critical, listing every step: after a strong injection any
//! risky step, after one that only talks about injection a step on a host or
//! file it names), and the run's memory of secrets seen (keyed hashes only,
//! see [`disguise`](super::disguise)) for EXF-TRACE-004.

use super::disguise::{RunSecrets, MAX_TOTAL};
use super::fingerprint::fingerprint;
use super::rules::{self, id};
use crate::hash::{HashMap, HashSet};
use crate::model::{Finding, Severity};
use std::collections::VecDeque;

/// How many runs keep state at once (oldest dropped first).
const MAX_RUNS: usize = 512;

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
    /// Any risky step follows it (medium or above); else only steps on `targets`.
    strong: bool,
    targets: Vec<String>,
}

/// What injection scanning said about a span's output, for the chain.
#[derive(Debug, Clone, Default)]
pub struct InjectionSeed {
    pub strong: bool,
    pub targets: Vec<String>,
}

/// What the detector remembers about one run.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RunState {
    /// fingerprint → (severity, number of span ids) last emitted.
    emitted: HashMap<String, (Severity, usize)>,
    reads: Vec<PendingRead>,
    injections: Vec<Injection>,
    /// Keyed hashes of the secrets redaction saw (whole and in pieces).
    pub secrets: RunSecrets,
    /// The skill active now (skill id), and where it was recognised.
    pub active_skill: Option<String>,
    /// Skill hits already reported: (span id, skill id, method).
    pub skill_hits: HashSet<(String, String, String)>,
    /// Files earlier calls downloaded: keyed hash of the name, from a trusted installer.
    pub downloads: Vec<(String, bool)>,
    /// A credential was copied into the project (see [`staged`](super::staged)).
    pub staged: bool,
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
            downloads: self.downloads.clone(),
            staged: self.staged,
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

    /// Forgets the secret pieces of the oldest runs (not `keep`) until all runs
    /// together hold at most [`MAX_TOTAL`] windows.
    pub fn trim_secrets(&mut self, keep: &str) {
        let mut total: usize = self.map.values().map(|s| s.secrets.windows()).sum();
        for r in &self.order {
            if total <= MAX_TOTAL {
                break;
            }
            if r == keep {
                continue;
            }
            if let Some(st) = self.map.get_mut(r) {
                total -= st.secrets.windows();
                st.secrets.forget_pieces();
            }
        }
    }
}

/// True when `input` names one of `targets` (hosts, file names).
fn names_target(input: Option<&str>, targets: &[String]) -> bool {
    let Some(input) = input else { return false };
    let lower = input.to_ascii_lowercase();
    targets.iter().any(|t| lower.contains(t.as_str()))
}

/// Links a span's new findings into the run's chains; returns the extra
/// findings chains produce (raised reads, PINJ-TRACE-002).
pub fn correlate(
    st: &mut RunState,
    span_id: &str,
    new: &[Finding],
    egress: bool,
    risky: &[&Finding],
    seed: &InjectionSeed,
    input: Option<&str>,
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
        // reads raised before are raised again (the run holds them already, so
        // they are not stored twice): a retried upload is judged as the first
        for r in st.reads.iter_mut() {
            let mut f = r.finding.clone();
            f.severity = Severity::High;
            if r.raised {
                // as first raised, no wider: the run's copy covers it
                f.message = format!("{}; data left the machine again", r.finding.message);
                out.push(f);
                continue;
            }
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
        if !inj.strong && !names_target(input, &inj.targets) {
            continue;
        }
        let mut grew = false;
        for r in risky {
            if !inj.steps.iter().any(|(_, fp)| fp == &r.fingerprint) {
                inj.steps.push((span_id.to_string(), r.fingerprint.clone()));
                grew = true;
            }
        }
        // the same risky step again after the injection: the chain again (held
        // already, so only judged, not stored twice)
        let again = risky
            .iter()
            .any(|r| inj.steps.iter().any(|(_, fp)| fp == &r.fingerprint));
        if grew || again {
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
                strong: seed.strong,
                targets: seed.targets.clone(),
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
