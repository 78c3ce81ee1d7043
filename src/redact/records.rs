//! Redacting the records besides spans — runs, findings, skill hits, parse errors,
//! free text and lines cut after redaction — and remembering canary tokens and
//! secrets found elsewhere, so every later occurrence in a run is redacted.

use super::{cut, Field, Redacted, Redactor, Report};
use crate::model::{Finding, ParseError, Run, SkillHit};

impl Redactor {
    /// Remembers a canary token (as it appears in text) for `run_id`: every later
    /// occurrence in that run, and a span redone with [`Redactor::redact_span`],
    /// shows `[REDACTED:canary_token]`. A decoy's value must stay secret too: a
    /// stored or exported canary would teach an attacker what to avoid.
    pub fn remember_canary(&mut self, run_id: &str, token: &str) {
        if self.enabled {
            let label = self.engine.canary_label;
            self.memory.learn(run_id, token, label);
        }
    }

    /// Remembers a secret `value` for `run_id` as `rule` (a rule name) found it:
    /// every later occurrence in that run is redacted under that name. For a
    /// process that judges one event of a run (the guard's command hook) and
    /// recognises, by its keyed hash, a value an earlier process redacted.
    pub fn remember_secret(&mut self, run_id: &str, value: &str, rule: &str) {
        if self.enabled {
            let label = self
                .engine
                .labels
                .iter()
                .position(|l| l.name == rule)
                .unwrap_or(self.engine.field_label);
            self.memory.learn(run_id, value, label);
        }
    }

    /// Redacts a run's title, source and cwd; the title (the whole first line of
    /// the prompt, as parsers give it) is cut to [`cut::TITLE_CHARS`] only after it
    /// is redacted.
    pub fn redact_run(&mut self, mut run: Run) -> Redacted<Run> {
        let mut r = Report::default();
        // The run's id is read while its other fields change: taken out, not copied.
        let id = std::mem::take(&mut run.id);
        self.opt_in_place(&id, &mut run.title, Field::Other("title".into()), &mut r);
        if let Some(t) = &mut run.title {
            *t = cut::one_line(t, cut::TITLE_CHARS);
        }
        if let Some(s) =
            self.redact_short_cow(&id, &run.source, Field::Other("source".into()), &mut r)
        {
            run.source = s;
        }
        self.opt_in_place(&id, &mut run.cwd, Field::Other("cwd".into()), &mut r);
        run.id = id;
        Redacted::new(run)
    }

    /// Redacts a finding's title, message and evidence, each whole, then cuts the
    /// message and the evidence to one line of [`cut::MESSAGE_CHARS`] and
    /// [`cut::EVIDENCE_CHARS`] characters (detection hands them over uncut).
    pub fn redact_finding(&mut self, mut finding: Finding) -> Redacted<Finding> {
        let mut r = Report::default();
        let id = std::mem::take(&mut finding.run_id);
        self.field_in_place(
            &id,
            &mut finding.title,
            Field::Other("title".into()),
            &mut r,
        );
        self.field_in_place(
            &id,
            &mut finding.message,
            Field::Other("message".into()),
            &mut r,
        );
        self.field_in_place(
            &id,
            &mut finding.evidence,
            Field::Other("evidence".into()),
            &mut r,
        );
        finding.message = cut::one_line(&finding.message, cut::MESSAGE_CHARS);
        finding.evidence = cut::one_line(&finding.evidence, cut::EVIDENCE_CHARS);
        if let Some(o) = &mut finding.origin {
            if let Some(p) =
                self.redact_short_cow(&id, &o.path, Field::Other("origin".into()), &mut r)
            {
                o.path = p.into();
            }
        }
        finding.run_id = id;
        if let Some(k) = &mut finding.skill_id {
            // "unregistered/<name>": the name comes from the trace
            self.stand_in_in_place(k);
        }
        Redacted::new(finding)
    }

    /// Redacts a skill hit (names come from registries, but are checked anyway;
    /// an unregistered skill's id holds the name a trace gave it).
    pub fn redact_skill_hit(&mut self, mut hit: SkillHit) -> Redacted<SkillHit> {
        let mut r = Report::default();
        let id = hit.run_id.clone();
        self.field_in_place(&id, &mut hit.name, Field::Name, &mut r);
        self.stand_in_in_place(&mut hit.skill_id);
        Redacted::new(hit)
    }

    /// Redacts a parse error's message and path.
    pub fn redact_parse_error(&mut self, mut err: ParseError) -> Redacted<ParseError> {
        let mut r = Report::default();
        self.field_in_place("", &mut err.message, Field::Other("message".into()), &mut r);
        self.field_in_place("", &mut err.path, Field::Other("path".into()), &mut r);
        Redacted::new(err)
    }

    /// Redacts free text bound for a log line, an error message or the screen.
    pub fn redact_text(&mut self, text: &str) -> Redacted<String> {
        let mut r = Report::default();
        Redacted::new(self.redact_str("", text, Field::Other("text".into()), &mut r))
    }

    /// Redacts the whole of `text` (as part of run `run_id`), then cuts it to one
    /// line of at most `max` characters ([`cut::one_line`]): how trace text bound
    /// for a title, an excerpt or a preview is shortened, so that no cut leaves the
    /// start of a secret for the rules to miss.
    pub fn redact_line(&mut self, run_id: &str, text: &str, max: usize) -> Redacted<String> {
        let mut r = Report::default();
        let red = self.redact_str(run_id, text, Field::Other("text".into()), &mut r);
        Redacted::new(cut::one_line(&red, max))
    }
}
