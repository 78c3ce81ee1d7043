//! What the scan stage derives and a person triages: findings, their triage
//! state and guard decision, and the skills recognised in spans.

use super::{Millis, Origin, Severity};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Triage state of a finding, set by a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TriageStatus {
    #[default]
    Open,
    Confirmed,
    FalsePositive,
    Suppressed,
}

impl TriageStatus {
    pub const ALL: [TriageStatus; 4] = [
        TriageStatus::Open,
        TriageStatus::Confirmed,
        TriageStatus::FalsePositive,
        TriageStatus::Suppressed,
    ];

    /// The kebab-case name used on the command line, in JSON and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            TriageStatus::Open => "open",
            TriageStatus::Confirmed => "confirmed",
            TriageStatus::FalsePositive => "false-positive",
            TriageStatus::Suppressed => "suppressed",
        }
    }
}

impl fmt::Display for TriageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TriageStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(TriageStatus::Open),
            "confirmed" => Ok(TriageStatus::Confirmed),
            "false-positive" => Ok(TriageStatus::FalsePositive),
            "suppressed" => Ok(TriageStatus::Suppressed),
            other => Err(format!(
                "unknown status '{other}' (expected open, confirmed, false-positive or suppressed)"
            )),
        }
    }
}

/// Something dangerous (or worth knowing) that detection saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Catalogue id, e.g. `EXF-TRACE-003`.
    pub rule_id: String,
    pub severity: Severity,
    /// 0.0 to 1.0.
    pub confidence: f32,
    pub run_id: String,
    /// The spans involved; the first is the primary one. A chain lists every step in order.
    pub span_ids: Vec<String>,
    /// Rule title, one line.
    pub title: String,
    /// What happened, one line, redacted.
    pub message: String,
    /// Short excerpt of the offending text, redacted.
    pub evidence: String,
    /// Stable identity: same finding on re-import = same fingerprint.
    pub fingerprint: String,
    pub origin: Option<Origin>,
    /// The skill active when this happened, if any.
    pub skill_id: Option<String>,
    pub ts_ms: Option<Millis>,
    /// For chain findings: the fingerprints of the findings this one links.
    #[serde(default)]
    pub related: Vec<String>,
}

/// What the guard answered an agent that asked before a tool ran (or what it
/// recorded for an event it could not block). Stored beside the findings the
/// call raised, shown in the TUI, `findings --format json` and SARIF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuardDecision {
    /// The call was refused.
    Denied,
    /// The user was asked to confirm the call.
    Asked,
    /// The call went ahead (nothing reached the policy's threshold, or the
    /// guard failed open).
    Allowed,
}

impl GuardDecision {
    /// The lowercase name used in the store, JSON and SARIF.
    pub fn as_str(self) -> &'static str {
        match self {
            GuardDecision::Denied => "denied",
            GuardDecision::Asked => "asked",
            GuardDecision::Allowed => "allowed",
        }
    }

    /// Inverse of [`GuardDecision::as_str`]; `None` for anything else.
    pub fn parse(s: &str) -> Option<GuardDecision> {
        match s {
            "denied" => Some(GuardDecision::Denied),
            "asked" => Some(GuardDecision::Asked),
            "allowed" => Some(GuardDecision::Allowed),
            _ => None,
        }
    }
}

impl fmt::Display for GuardDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a skill was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HitMethod {
    ToolInvocation,
    Exact,
    Regex,
    Hash,
    Watermark,
}

impl HitMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HitMethod::ToolInvocation => "tool-invocation",
            HitMethod::Exact => "exact",
            HitMethod::Regex => "regex",
            HitMethod::Hash => "hash",
            HitMethod::Watermark => "watermark",
        }
    }

    pub fn parse(s: &str) -> HitMethod {
        match s {
            "tool-invocation" => HitMethod::ToolInvocation,
            "exact" => HitMethod::Exact,
            "regex" => HitMethod::Regex,
            "watermark" => HitMethod::Watermark,
            _ => HitMethod::Hash,
        }
    }
}

/// A skill recognised in a span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillHit {
    pub skill_id: String,
    pub version: Option<String>,
    pub name: String,
    pub method: HitMethod,
    pub confidence: f32,
    pub run_id: String,
    pub span_id: String,
    pub ts_ms: Option<Millis>,
}
