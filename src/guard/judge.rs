//! The judge: one hook event in, a verdict and the redacted records out.
//!
//! The event becomes a span and goes through the same scan as every ingested
//! span ([`crate::ingest::scan::scan_span`]: redaction planned on the raw text,
//! detection inside the state of the session's run), so "credential read
//! earlier, now an upload" and "injected tool output, now a shell" are judged
//! as the chains they are. The policy turns the findings into allow, ask or
//! deny; the reason names the rules and their redacted evidence.

use super::agents::{Agent, Verdict};
use super::event::{EventKind, GuardEvent};
use super::policy::{completes_chain, Action, Policy};
use super::session::Session;
use crate::detect::tokens::keyed_hash_hex;
use crate::detect::Detector;
use crate::model::{Finding, GuardDecision, Millis, Span};
use crate::redact::Redactor;
use crate::store::StoreBatch;
use serde_json::{Map, Value};

/// The longest reason shown to an agent, in characters.
const MAX_REASON: usize = 1200;

/// Redactor, detector and policy, with the per-store key for the guard's own hashes.
///
/// The compiled part (rules, regexes, registries, policy) is shared by every
/// [`Judge::fork`]; the per-run memory (the detector's chains, the redactor's
/// secrets seen) is each judge's own.
#[derive(Debug)]
pub struct Judge {
    redactor: Redactor,
    detector: Detector,
    policy: std::sync::Arc<Policy>,
    key: [u8; 32],
    /// Cost budgets checked before a tool call (none unless `[budgets]` sets one).
    budget: Option<std::sync::Arc<super::budget::Budget>>,
}

/// Events of every kind (Claude Code's shape) that [`Judge::warm`] judges in a
/// throwaway session, so that what a decision builds on first use is built
/// before the first request.
const WARM_EVENTS: &str = include_str!("../../assets/guard/warm_events.jsonl");

/// What judging one event produced.
#[derive(Debug)]
pub struct Judgement {
    /// The agent's event name.
    pub event: String,
    pub agent: Agent,
    /// What to answer.
    pub verdict: Verdict,
    /// What to record beside the call's findings.
    pub decision: GuardDecision,
    /// The redacted run update, span, findings and skill hits.
    pub batch: StoreBatch,
    /// Fingerprints of the findings this call raised.
    pub fingerprints: Vec<String>,
}

impl Judge {
    /// A judge from its parts; `key` is the store's key (`<db>.key`).
    pub fn new(redactor: Redactor, detector: Detector, policy: Policy, key: [u8; 32]) -> Judge {
        Judge {
            redactor,
            detector,
            policy: std::sync::Arc::new(policy),
            key,
            budget: None,
        }
    }

    /// A judge sharing this one's compiled rules, policy and budgets, with no
    /// run state of its own yet: `guard serve` keeps one per session.
    pub fn fork(&self) -> Judge {
        Judge {
            redactor: self.redactor.fork(),
            detector: self.detector.fork(),
            policy: self.policy.clone(),
            key: self.key,
            budget: self.budget.clone(),
        }
    }

    /// The judge, also checking the run's cost budgets before each tool call.
    pub fn with_budget(mut self, budget: Option<super::budget::Budget>) -> Judge {
        self.budget = budget.map(std::sync::Arc::new);
        self
    }

    /// Compiles now every regex compiled on first use ([`Detector::warm`],
    /// [`Redactor::warm`], the policy's path globs), then judges events of
    /// every kind in a throwaway fork, for what only a decision reaches (the
    /// helpers' own regexes, first allocations). For a long-lived process
    /// (`guard serve`): its first decision then costs what the thousandth does.
    pub fn warm(&self) {
        self.redactor.warm();
        self.detector.warm();
        self.policy.warm();
        let mut j = self.fork();
        // Never the store: the budgets are checked in real decisions only.
        j.budget = None;
        let mut s = Session::default();
        for line in WARM_EVENTS.lines().filter(|l| !l.trim().is_empty()) {
            if let Ok(ev) = Agent::ClaudeCode.parse(line.as_bytes()) {
                let mut out = j.judge(&ev, &mut s, 0);
                let _ = Agent::ClaudeCode.answer(Some(&out.event), &out.verdict);
                j.annotate(&mut out, Map::new());
            }
        }
    }

    /// The policy in use.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The store key (for session file names and call pairing).
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The redactor (for error messages bound for the store).
    pub fn redactor_mut(&mut self) -> &mut Redactor {
        &mut self.redactor
    }

    /// `ev` with its session and call ids put through the redactor's id check
    /// (`redact/ids.rs`): an id that a redaction rule matches becomes its
    /// keyed stand-in (the store's key: the same in every hook process and in
    /// an import) before the run, the span, the detector's and the redactor's
    /// memory or the budget see it, so no id carries a secret into the store.
    fn ids_stood_in<'e>(&self, ev: &'e GuardEvent) -> std::borrow::Cow<'e, GuardEvent> {
        let session = self.redactor.stand_in_id(&ev.session);
        let call = ev
            .call_id
            .as_deref()
            .and_then(|c| self.redactor.stand_in_id(c));
        if session.is_none() && call.is_none() {
            return std::borrow::Cow::Borrowed(ev);
        }
        let mut e = ev.clone();
        if let Some(id) = session {
            e.session = id;
        }
        if call.is_some() {
            e.call_id = call;
        }
        std::borrow::Cow::Owned(e)
    }

    /// Restores the session's detector state saved by [`Judge::save_state`],
    /// and teaches the redactor the secrets earlier events showed that appear
    /// in this event's arguments or prompt (found by their keyed hashes).
    pub fn load_state(&mut self, ev: &GuardEvent, s: &mut Session) {
        let ev = &*self.ids_stood_in(ev);
        if let Some(v) = s.detector.take() {
            self.detector.restore_run(&ev.session, v);
        }
        if s.secrets.is_empty() {
            return;
        }
        let known: std::collections::HashMap<&str, &str> = s
            .secrets
            .iter()
            .map(|(h, r)| (h.as_str(), r.as_str()))
            .collect();
        for text in [ev.tool_input.as_deref(), ev.prompt.as_deref()]
            .into_iter()
            .flatten()
        {
            for tok in candidates(text) {
                let h = keyed_hash_hex(&self.key, tok);
                if let Some(rule) = known.get(h.as_str()) {
                    self.redactor.remember_secret(&ev.session, tok, rule);
                }
            }
        }
    }

    /// Saves the detector's state of the event's run into the session,
    /// redacting the findings it keeps.
    pub fn save_state(&mut self, ev: &GuardEvent, s: &mut Session) {
        let ev = &*self.ids_stood_in(ev);
        let r = &mut self.redactor;
        let mut redact = |f: &mut Finding| {
            *f = r.redact_finding(f.clone()).into_inner();
        };
        s.detector = Some(self.detector.run_snapshot(&ev.session, &mut redact));
    }

    /// Judges `ev` inside session `s` at time `now`.
    pub fn judge(&mut self, ev: &GuardEvent, s: &mut Session, now: Millis) -> Judgement {
        let ev = &*self.ids_stood_in(ev);
        let span_id = s.span_id(ev, &self.key);
        let mut batch = StoreBatch::default();
        batch.runs.push(self.redactor.redact_run(ev.run(now)));
        let span = ev.span(&span_id, s.seq, now);
        let key = self.key;
        let mut seen: Vec<(String, String)> = Vec::new();
        let (n, repeated) = crate::ingest::scan::scan_span_noting(
            &mut self.redactor,
            &mut self.detector,
            span,
            &mut batch,
            &mut |rule, value| seen.push((keyed_hash_hex(&key, value), rule.to_string())),
        );
        for (h, rule) in seen {
            s.note_secret(h, &rule);
        }
        let mut n = n;
        let mut budget_error = None;
        if let Some(b) = self.budget.as_ref().filter(|_| ev.kind.decides()) {
            match b.over(&ev.session) {
                Ok(over) => {
                    for mut f in over {
                        f.span_ids = vec![span_id.clone()];
                        batch.findings.push(self.redactor.redact_finding(f));
                        n += 1;
                    }
                }
                // Fail open on the budget alone; the failure is on the span.
                Err(e) => budget_error = Some(e),
            }
        }
        let repeated: Vec<_> = repeated
            .into_iter()
            .map(|f| self.redactor.redact_finding(f))
            .collect();
        let start = batch.findings.len() - n;
        let new: Vec<&Finding> = batch.findings[start..].iter().map(|f| f.get()).collect();
        let fingerprints = new.iter().map(|f| f.fingerprint.clone()).collect();
        // a call the run already raised a finding for (a denied call retried) is
        // judged by it again: it is only not stored twice
        let judged: Vec<&Finding> = new
            .iter()
            .copied()
            .chain(repeated.iter().map(|f| f.get()))
            .collect();
        let (verdict, rules) = self.decide(ev, &span_id, &judged);
        let decision = match verdict.action {
            Action::Deny => GuardDecision::Denied,
            Action::Ask => GuardDecision::Asked,
            Action::Allow => GuardDecision::Allowed,
        };
        let mut j = Judgement {
            event: ev.name.clone(),
            agent: ev.agent,
            verdict,
            decision,
            batch,
            fingerprints,
        };
        let mut attrs = Map::new();
        attrs.insert("guard.decision".into(), decision.as_str().into());
        if !rules.is_empty() {
            attrs.insert("guard.rules".into(), Value::from(rules));
        }
        if !j.verdict.reason.is_empty() {
            attrs.insert("guard.reason".into(), j.verdict.reason.clone().into());
        }
        if let Some(e) = budget_error {
            attrs.insert("guard.budget_error".into(), e.into());
        }
        self.annotate(&mut j, attrs);
        j
    }

    /// Adds attributes to the judged call's span (redacted like the rest).
    pub fn annotate(&mut self, j: &mut Judgement, attrs: Map<String, Value>) {
        let Some(first) = j.batch.spans.first() else {
            return;
        };
        let s = first.get();
        let mut note = Span::new(s.id.clone(), s.run_id.clone(), s.kind, "", s.origin.clone());
        note.attributes = attrs;
        let (note, _) = self.redactor.redact_span(note);
        if let Some(first) = j.batch.spans.first_mut() {
            first.absorb(note);
        }
    }

    /// The verdict for `ev` given the findings it raised, and the rules that decided it.
    fn decide(&self, ev: &GuardEvent, span_id: &str, new: &[&Finding]) -> (Verdict, Vec<String>) {
        if !ev.kind.decides() {
            return (Verdict::allow(), Vec::new());
        }
        let paths = ev.paths();
        let ruled: Vec<(&Finding, super::policy::Ruling)> = new
            .iter()
            .map(|f| (*f, self.policy.rule_for(f, span_id, &paths)))
            .collect();
        let Some(top) = ruled.iter().map(|(_, r)| r.action).max() else {
            return (Verdict::allow(), Vec::new());
        };
        if top == Action::Allow {
            return (Verdict::allow(), Vec::new());
        }
        let mut deciding: Vec<&(&Finding, super::policy::Ruling)> =
            ruled.iter().filter(|(_, r)| r.action == top).collect();
        deciding.sort_by_key(|d| std::cmp::Reverse(d.0.severity));
        let rules: Vec<String> = deciding.iter().map(|(f, _)| f.rule_id.clone()).collect();
        let mut action = top;
        let mut fallback = false;
        if action == Action::Ask && !ev.agent.can_ask(&ev.name) {
            // The user typed the prompt themselves: never refused for "ask".
            action = if ev.kind == EventKind::Prompt {
                Action::Allow
            } else {
                self.policy.ask_fallback
            };
            fallback = true;
        }
        if action == Action::Allow {
            return (Verdict::allow(), rules);
        }
        let reason = reason(action, fallback, span_id, &deciding);
        (Verdict { action, reason }, rules)
    }
}

/// The most of an event's text searched for secrets seen earlier.
const MAX_RECALL: usize = 64 * 1024;

/// Words of `text` that could be a secret redaction saw whole: runs of
/// token characters, 8 bytes or longer (with and without `.`, `/`, `+`, `=`,
/// which end some tokens and belong to others, and the value of a `key=value`
/// word), from its first 64 KiB.
fn candidates(text: &str) -> Vec<&str> {
    let mut end = text.len().min(MAX_RECALL);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    let wide = |c: char| c.is_ascii_alphanumeric() || "+/=_-.~".contains(c);
    let narrow = |c: char| c.is_ascii_alphanumeric() || "_-".contains(c);
    let mut out: Vec<&str> = text
        .split(|c: char| !wide(c))
        // `key=VALUE` written as one word: the value alone too
        .flat_map(|w| [Some(w), w.split_once('=').map(|(_, v)| v)])
        .flatten()
        .chain(text.split(|c: char| !narrow(c)))
        .filter(|t| t.len() >= 8)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The reason shown to the agent: what was decided, each deciding rule with
/// its severity, title and (redacted, sanitised) evidence, and which setting
/// decided it.
fn reason(
    action: Action,
    fallback: bool,
    span_id: &str,
    deciding: &[&(&Finding, super::policy::Ruling)],
) -> String {
    let head = match (action, fallback) {
        (Action::Deny, false) => "skilltrace guard denied this call",
        (Action::Deny, true) => {
            "skilltrace guard needs the user's confirmation for this call, which this agent cannot ask for: \
             ask the user to run it themselves or to allow it in the skilltrace config ([guard] ask_fallback)"
        }
        _ => "skilltrace guard asks you to confirm this call",
    };
    let mut out = format!("{head}.");
    for (f, r) in deciding.iter().take(4) {
        let chain = if completes_chain(f, span_id) {
            ", completing a chain"
        } else {
            ""
        };
        let ev = crate::detect::hit::clip(&f.evidence, 160);
        out.push_str(&format!(
            " {} ({}{chain}) {}: {} [{} = {}].",
            f.rule_id,
            f.severity,
            f.title,
            ev,
            r.why,
            r.action.as_str()
        ));
    }
    if deciding.len() > 4 {
        out.push_str(&format!(" And {} more.", deciding.len() - 4));
    }
    crate::detect::hit::clip(&crate::sanitize::line(&out), MAX_REASON)
}

#[cfg(test)]
mod tests;
