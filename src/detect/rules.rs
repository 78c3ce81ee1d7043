//! The findings catalogue: every rule's id, title, descriptions, help and default severity.
//!
//! The text lives in `assets/detect/catalogue.toml` (embedded); detection takes
//! titles and default severities from here, SARIF export takes the full rule
//! descriptors, and `docs/findings.md` is generated from the same table.

use crate::model::Severity;
use serde::Deserialize;
use std::sync::OnceLock;

/// Rule ids, as constants, so code never misspells one.
pub mod id {
    pub const EXF_SHELL_EGRESS: &str = "EXF-TRACE-001";
    pub const EXF_FETCH: &str = "EXF-TRACE-002";
    pub const EXF_CRED_READ: &str = "EXF-TRACE-003";
    pub const EXF_SECRET_OUT: &str = "EXF-TRACE-004";
    pub const CMD_OBFUSCATED: &str = "CMD-TRACE-001";
    pub const CMD_PERSISTENCE: &str = "CMD-TRACE-002";
    pub const CMD_REVERSE_SHELL: &str = "CMD-TRACE-003";
    pub const CMD_DESTRUCTIVE: &str = "CMD-TRACE-004";
    pub const CMD_PRIVESC: &str = "CMD-TRACE-005";
    pub const ENV_SECRET: &str = "ENV-TRACE-001";
    pub const PRB_RECON: &str = "PRB-TRACE-001";
    pub const NET_UNLISTED: &str = "NET-TRACE-001";
    pub const NET_BAD_HOST: &str = "NET-TRACE-002";
    pub const PINJ_OUTPUT: &str = "PINJ-TRACE-001";
    pub const PINJ_BEHAVIOUR: &str = "PINJ-TRACE-002";
    pub const SEC_REDACTED: &str = "SEC-TRACE-001";
    pub const SKL_DETECTED: &str = "SKL-TRACE-001";
    pub const SKL_CHANGED: &str = "SKL-TRACE-002";
    pub const SKL_UNKNOWN: &str = "SKL-TRACE-003";
    pub const GUARD_TAMPER: &str = "GRD-TRACE-001";
    pub const COST_RUN: &str = "COST-TRACE-001";
    pub const COST_DAY: &str = "COST-TRACE-002";
    pub const COST_AGENT_DAY: &str = "COST-TRACE-003";
}

/// One catalogue rule, as SARIF's `reportingDescriptor` needs it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RuleInfo {
    /// Stable id, e.g. `EXF-TRACE-003`.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Short description (one sentence).
    pub short: String,
    /// Full description.
    pub full: String,
    /// What to do about it (remediation).
    pub help: String,
    /// Default severity.
    pub severity: Severity,
    /// When a finding's severity can differ from the default, the rule that sets it
    /// (one line, shown in `docs/findings.md`).
    #[serde(default)]
    pub severity_rule: Option<String>,
    /// SARIF `properties.tags`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// One finding for the whole store, not one per run: the fingerprint
    /// leaves the run out (the daily budgets), so the store dedups it across
    /// runs (`store::write_findings`).
    #[serde(default)]
    pub store_wide: bool,
}

impl RuleInfo {
    /// SARIF `properties.security-severity` ("0.1"–"10.0") for this rule's default severity.
    pub fn security_severity(&self) -> &'static str {
        security_severity(self.severity)
    }
}

/// SARIF `security-severity` for a severity: critical 9.5, high 8.0, medium 5.5, low 3.0, info 1.0.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

#[derive(Deserialize)]
struct CatalogueFile {
    rule: Vec<RuleInfo>,
}

/// Every rule of the catalogue, in catalogue order.
pub fn catalogue() -> &'static [RuleInfo] {
    static CAT: OnceLock<Vec<RuleInfo>> = OnceLock::new();
    CAT.get_or_init(
        || match crate::assets::parse::<CatalogueFile>("detect/catalogue.toml") {
            Ok(c) => c.rule,
            // The embedded file is checked by a unit test; an empty catalogue can only
            // come from a broken build, and detection then falls back to rule ids.
            Err(_) => Vec::new(),
        },
    )
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    catalogue().iter().find(|r| r.id == id)
}

/// A rule's title, or its id when unknown.
pub fn title(id: &str) -> String {
    rule(id)
        .map(|r| r.title.clone())
        .unwrap_or_else(|| id.to_string())
}

/// A rule's default severity (info when unknown).
pub fn default_severity(id: &str) -> Severity {
    rule(id).map(|r| r.severity).unwrap_or(Severity::Info)
}

/// Whether findings of rule `id` are one for the whole store (see
/// [`RuleInfo::store_wide`]); unknown rules are one per run.
pub fn store_wide(id: &str) -> bool {
    rule(id).is_some_and(|r| r.store_wide)
}

/// The catalogue as a Markdown table (for `docs/findings.md` and the README).
pub fn markdown_table() -> String {
    let mut s = String::from("| id | severity | title | what to do |\n|---|---|---|---|\n");
    for r in catalogue() {
        let severity = match &r.severity_rule {
            Some(rule) => format!("{} ({rule})", r.severity),
            None => r.severity.to_string(),
        };
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            r.id,
            severity,
            r.title,
            r.help.replace('|', "\\|")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_every_rule_of_design_section_5() {
        let ids: Vec<&str> = catalogue().iter().map(|r| r.id.as_str()).collect();
        let want = [
            id::EXF_SHELL_EGRESS,
            id::EXF_FETCH,
            id::EXF_CRED_READ,
            id::EXF_SECRET_OUT,
            id::CMD_OBFUSCATED,
            id::CMD_PERSISTENCE,
            id::CMD_REVERSE_SHELL,
            id::CMD_DESTRUCTIVE,
            id::CMD_PRIVESC,
            id::ENV_SECRET,
            id::PRB_RECON,
            id::NET_UNLISTED,
            id::NET_BAD_HOST,
            id::PINJ_OUTPUT,
            id::PINJ_BEHAVIOUR,
            id::SEC_REDACTED,
            id::SKL_DETECTED,
            id::SKL_CHANGED,
            id::SKL_UNKNOWN,
            id::GUARD_TAMPER,
            id::COST_RUN,
            id::COST_DAY,
            id::COST_AGENT_DAY,
        ];
        assert_eq!(ids, want);
        assert_eq!(default_severity(id::GUARD_TAMPER), Severity::Critical);
        assert_eq!(default_severity(id::EXF_SECRET_OUT), Severity::Critical);
        assert_eq!(default_severity(id::PRB_RECON), Severity::Low);
        assert_eq!(default_severity(id::CMD_DESTRUCTIVE), Severity::Medium);
        for r in catalogue() {
            assert!(!r.help.is_empty() && r.short.len() <= 1024 && r.full.len() <= 1024);
        }
    }

    #[test]
    fn docs_table_matches_catalogue() {
        let table = markdown_table();
        let doc = include_str!("../../docs/findings.md");
        assert!(
            doc.contains(&table),
            "docs/findings.md is stale: regenerate it from rules::markdown_table()"
        );
    }
}
