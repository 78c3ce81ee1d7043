//! The filter mini-language typed after `f`: `sev:high status:open rule:ID
//! agent:NAME skill:ID words…`. Severity means "at or above"; bare words match
//! run titles, ids and sources. Unknown keys and values are reported, not guessed.

use crate::model::{Severity, TriageStatus};
use crate::store::{FindingFilter, RunFilter};

/// A parsed filter for both list views, plus what could not be understood.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub runs: RunFilter,
    pub findings: FindingFilter,
    pub errors: Vec<String>,
}

/// Parses filter text. Never fails: problems are collected in `errors`.
pub fn parse(text: &str) -> Filter {
    let mut f = Filter::default();
    let mut words = Vec::new();
    for tok in text.split_whitespace() {
        let Some((k, v)) = tok.split_once(':').filter(|(_, v)| !v.is_empty()) else {
            words.push(tok);
            continue;
        };
        match k {
            "sev" | "severity" => match v.parse::<Severity>() {
                Ok(s) => {
                    f.runs.min_severity = Some(s);
                    f.findings.min_severity = Some(s);
                }
                Err(e) => f.errors.push(e),
            },
            "status" => match v.parse::<TriageStatus>() {
                Ok(s) => f.findings.status = Some(s),
                Err(e) => f.errors.push(e),
            },
            "rule" => f.findings.rule_id = Some(v.to_string()),
            "agent" => {
                f.runs.agent = Some(v.to_string());
                f.findings.agent = Some(v.to_string());
            }
            "skill" => f.findings.skill_id = Some(v.to_string()),
            "run" => f.findings.run_id = Some(v.to_string()),
            other => f.errors.push(format!(
                "unknown key '{}' (expected sev, status, rule, agent, skill, run)",
                crate::sanitize::line(other)
            )),
        }
    }
    if !words.is_empty() {
        f.runs.text = Some(words.join(" "));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key_and_reports_bad_ones() {
        let f = parse("sev:high status:false-positive rule:EXF-1 agent:codex skill:s1 curl evil");
        assert_eq!(f.findings.min_severity, Some(Severity::High));
        assert_eq!(f.runs.min_severity, Some(Severity::High));
        assert_eq!(f.findings.status, Some(TriageStatus::FalsePositive));
        assert_eq!(f.findings.rule_id.as_deref(), Some("EXF-1"));
        assert_eq!(f.runs.agent.as_deref(), Some("codex"));
        assert_eq!(f.findings.skill_id.as_deref(), Some("s1"));
        assert_eq!(f.runs.text.as_deref(), Some("curl evil"));
        assert!(f.errors.is_empty());
        let bad = parse("sev:urgent colour:red");
        assert_eq!(bad.errors.len(), 2);
        assert_eq!(parse(""), Filter::default());
    }
}
