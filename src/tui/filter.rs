//! The filter language typed after `f`, with one meaning in every list view.
//!
//! `sev:high status:open rule:ID skill:NAME agent:NAME run:PREFIX words "a phrase"`.
//!
//! - Conditions about findings (`sev`, `status`, `rule`, `skill`) hold on the
//!   same finding: Findings lists the findings that meet them all; Runs, Skills
//!   and Sources list the rows that have one finding meeting them all
//!   (`status:open sev:critical` in Runs: runs with an open critical finding).
//! - `sev` means "at or above". `skill` takes a skill's id or its last segment
//!   (`skill:invoice-filler` for `acme/invoice-filler`); `run` a run id's prefix.
//! - Free words (and quoted phrases) must each appear in the row's own text:
//!   a finding's rule, title, message, evidence, skill or run; a run's title,
//!   id, source or models; a skill's id or name; a source's path or format.
//! - Short forms: keys `s`/`sev`/`severity`, `st`/`is`/`status`, `r`/`rule`,
//!   `sk`/`skill`, `a`/`agent`, `run`; severities `c h m l i`, `crit`, `med`;
//!   statuses `o`, `c`/`conf`, `fp`/`false`, `sup`.
//!
//! Problems are collected with where they are in the text, so the prompt can
//! show them where the person types; nothing is guessed.

use crate::model::{Severity, TriageStatus};
use crate::store::{FindingFilter, RunFilter, SkillFilter};

/// A problem in the filter text: its byte range and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub at: (usize, usize),
    pub message: String,
}

/// A parsed filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Free words and phrases, each of which must appear.
    pub words: Vec<String>,
    pub min_severity: Option<Severity>,
    pub status: Option<TriageStatus>,
    pub rule: Option<String>,
    pub skill: Option<String>,
    pub agent: Option<String>,
    /// A run id prefix.
    pub run: Option<String>,
    pub errors: Vec<FilterError>,
}

/// What the keys are called in messages.
const KEYS: &str = "sev, status, rule, skill, agent, run";

/// Splits `text` into tokens with their byte ranges; `"…"` is one token (quotes dropped).
fn tokens(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut tok = String::new();
        let mut end = start;
        let mut quoted = false;
        while let Some(&(i, c)) = chars.peek() {
            if c == '"' {
                quoted = !quoted;
            } else if c.is_whitespace() && !quoted {
                break;
            } else {
                tok.push(c);
            }
            end = i + c.len_utf8();
            chars.next();
        }
        out.push((start, end, tok));
    }
    out
}

fn severity(v: &str) -> Option<Severity> {
    Some(match v.to_ascii_lowercase().as_str() {
        "critical" | "crit" | "c" => Severity::Critical,
        "high" | "h" => Severity::High,
        "medium" | "med" | "m" => Severity::Medium,
        "low" | "l" => Severity::Low,
        "info" | "i" => Severity::Info,
        _ => return None,
    })
}

fn status(v: &str) -> Option<TriageStatus> {
    Some(match v.to_ascii_lowercase().as_str() {
        "open" | "o" | "new" => TriageStatus::Open,
        "confirmed" | "confirm" | "conf" | "c" => TriageStatus::Confirmed,
        "false-positive" | "falsepositive" | "false" | "fp" | "x" => TriageStatus::FalsePositive,
        "suppressed" | "suppress" | "sup" | "s" => TriageStatus::Suppressed,
        _ => return None,
    })
}

/// Parses filter text. Never fails: problems are collected in `errors`.
pub fn parse(text: &str) -> Query {
    let mut q = Query::default();
    for (a, b, tok) in tokens(text) {
        let kv = tok
            .split_once(':')
            .filter(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphabetic()));
        let Some((k, v)) = kv else {
            if !tok.is_empty() {
                q.words.push(tok);
            }
            continue;
        };
        let mut err = |m: String| {
            q.errors.push(FilterError {
                at: (a, b),
                message: crate::sanitize::line(&m).into_owned(),
            })
        };
        let key = k.to_ascii_lowercase();
        if v.is_empty() {
            err(format!("{key}: needs a value ({key}:VALUE)"));
            continue;
        }
        match key.as_str() {
            "sev" | "severity" | "s" => match severity(v) {
                Some(s) => q.min_severity = Some(s),
                None => err(format!(
                    "sev:{v}: unknown severity (critical, high, medium, low, info)"
                )),
            },
            "status" | "st" | "is" => match status(v) {
                Some(s) => q.status = Some(s),
                None => err(format!(
                    "status:{v}: unknown status (open, confirmed, fp, suppressed)"
                )),
            },
            "rule" | "r" => q.rule = Some(v.to_ascii_uppercase()),
            "skill" | "sk" => q.skill = Some(v.to_string()),
            "agent" | "a" => q.agent = Some(v.to_ascii_lowercase()),
            "run" => q.run = Some(v.to_string()),
            // `https://…` is a word, not a key.
            _ if v.starts_with("//") => q.words.push(tok.clone()),
            _ => err(format!("unknown key '{k}' (expected {KEYS})")),
        }
    }
    q
}

impl Query {
    /// The conditions about one finding (severity, status, rule, skill), if any.
    pub fn finding_conditions(&self) -> Option<FindingFilter> {
        let f = FindingFilter {
            min_severity: self.min_severity,
            status: self.status,
            rule_id: self.rule.clone(),
            skill_id: self.skill.clone(),
            ..Default::default()
        };
        (f != FindingFilter::default()).then_some(f)
    }

    /// The Findings view's filter. `hide_triaged` keeps open findings only,
    /// unless the text names a status itself.
    pub fn findings(&self, hide_triaged: bool) -> FindingFilter {
        let mut f = self.finding_conditions().unwrap_or_default();
        if hide_triaged && f.status.is_none() {
            f.status = Some(TriageStatus::Open);
        }
        f.agent = self.agent.clone();
        f.run_prefix = self.run.clone();
        f.words = self.words.clone();
        f
    }

    /// The Runs view's filter: runs of the agent, whose id starts so, whose text
    /// holds every word, with one finding that meets every finding condition.
    pub fn runs(&self) -> RunFilter {
        RunFilter {
            agent: self.agent.clone(),
            text: (!self.words.is_empty()).then(|| self.words.join(" ")),
            min_severity: None,
            id_prefix: self.run.clone(),
            finding: self.finding_conditions().map(Box::new),
        }
    }

    /// The Skills view's filter: `skill:` and words select skills by id or name;
    /// the other finding conditions (with `agent:` and `run:`) select skills
    /// blamed for one finding that meets them all.
    pub fn skills(&self) -> SkillFilter {
        let mut words = self.words.clone();
        words.extend(self.skill.clone());
        let f = FindingFilter {
            min_severity: self.min_severity,
            status: self.status,
            rule_id: self.rule.clone(),
            agent: self.agent.clone(),
            run_prefix: self.run.clone(),
            ..Default::default()
        };
        SkillFilter {
            words,
            finding: (f != FindingFilter::default()).then_some(f),
        }
    }

    /// The Sources view's filter: words on the path and format; the rest selects
    /// sources whose runs meet [`Query::runs`].
    pub fn sources(&self) -> (Vec<String>, Option<RunFilter>) {
        let runs = RunFilter {
            text: None,
            ..self.runs()
        };
        let runs = (runs != RunFilter::default()).then_some(runs);
        (self.words.clone(), runs)
    }

    /// True when nothing filters.
    pub fn is_empty(&self) -> bool {
        Query {
            errors: Vec::new(),
            ..self.clone()
        } == Query::default()
    }

    /// What the filter means, in words, for the prompt's second line.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.min_severity {
            parts.push(if s == Severity::Critical {
                "critical".to_string()
            } else {
                format!("{s} or worse")
            });
        }
        if let Some(s) = self.status {
            parts.push(s.to_string());
        }
        if let Some(r) = &self.rule {
            parts.push(format!("rule {r}"));
        }
        if let Some(s) = &self.skill {
            parts.push(format!("skill {s}"));
        }
        let mut out = Vec::new();
        if !parts.is_empty() {
            out.push(format!("one finding: {}", parts.join(", ")));
        }
        if let Some(a) = &self.agent {
            out.push(format!("agent {a}"));
        }
        if let Some(r) = &self.run {
            out.push(format!("run {r}…"));
        }
        if !self.words.is_empty() {
            out.push(format!("text: {}", self.words.join(" + ")));
        }
        crate::sanitize::line(&out.join(" · ")).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key_short_forms_and_phrases() {
        let q = parse(
            r#"sev:high is:fp rule:exf-trace-001 a:Codex sk:invoice-filler run:3b14 curl "evil host""#,
        );
        assert_eq!(q.min_severity, Some(Severity::High));
        assert_eq!(q.status, Some(TriageStatus::FalsePositive));
        assert_eq!(q.rule.as_deref(), Some("EXF-TRACE-001"));
        assert_eq!(q.agent.as_deref(), Some("codex"));
        assert_eq!(q.skill.as_deref(), Some("invoice-filler"));
        assert_eq!(q.run.as_deref(), Some("3b14"));
        assert_eq!(q.words, ["curl", "evil host"]);
        assert!(q.errors.is_empty(), "{:?}", q.errors);
        assert_eq!(parse("s:c st:sup").min_severity, Some(Severity::Critical));
        assert_eq!(parse("status:conf").status, Some(TriageStatus::Confirmed));
        assert_eq!(
            parse("status:suppressed").status,
            Some(TriageStatus::Suppressed)
        );
        assert_eq!(parse(""), Query::default());
        assert!(parse("  ").is_empty());
        // A URL is a word, not a key.
        assert_eq!(parse("https://x.example").words, ["https://x.example"]);
    }

    #[test]
    fn problems_say_where_they_are() {
        let text = "curl sev:urgent colour:red status:";
        let q = parse(text);
        assert_eq!(q.errors.len(), 3, "{:?}", q.errors);
        let at = |i: usize| &text[q.errors[i].at.0..q.errors[i].at.1];
        assert_eq!(at(0), "sev:urgent");
        assert!(q.errors[0].message.contains("unknown severity"));
        assert_eq!(at(1), "colour:red");
        assert!(q.errors[1].message.starts_with("unknown key 'colour'"));
        assert_eq!(at(2), "status:");
        assert!(q.errors[2].message.contains("needs a value"));
        assert_eq!(q.words, ["curl"]);
    }

    #[test]
    fn one_meaning_in_every_view() {
        let q = parse("status:open sev:critical agent:codex run:ab webhook");
        let f = q.findings(false);
        assert_eq!(f.status, Some(TriageStatus::Open));
        assert_eq!(f.min_severity, Some(Severity::Critical));
        assert_eq!(f.run_prefix.as_deref(), Some("ab"));
        assert_eq!(f.words, ["webhook"]);
        let r = q.runs();
        let on_one = r.finding.as_deref().expect("conditions on one finding");
        assert_eq!(on_one.status, Some(TriageStatus::Open));
        assert_eq!(on_one.min_severity, Some(Severity::Critical));
        assert_eq!(r.text.as_deref(), Some("webhook"));
        assert_eq!(r.id_prefix.as_deref(), Some("ab"));
        assert_eq!(r.agent.as_deref(), Some("codex"));
        let s = q.skills();
        assert_eq!(s.words, ["webhook"]);
        assert_eq!(
            s.finding.as_ref().and_then(|f| f.run_prefix.as_deref()),
            Some("ab")
        );
        let (words, runs) = q.sources();
        assert_eq!(words, ["webhook"]);
        assert!(runs.is_some_and(|r| r.text.is_none() && r.finding.is_some()));
        assert!(
            q.describe().contains("one finding: critical, open"),
            "{}",
            q.describe()
        );
    }

    #[test]
    fn hiding_triaged_findings_yields_to_a_status_in_the_text() {
        assert_eq!(parse("").findings(true).status, Some(TriageStatus::Open));
        assert_eq!(parse("").findings(false).status, None);
        assert_eq!(
            parse("status:fp").findings(true).status,
            Some(TriageStatus::FalsePositive)
        );
        assert_eq!(parse("").runs(), RunFilter::default());
        assert_eq!(parse("sk:pdf").skills().words, ["pdf"]);
    }
}
