//! The guard's policy: what a tool call's findings earn it (allow, ask or deny),
//! by severity, by rule, by the paths the call touches, and for chains.
//!
//! Defaults are data (`assets/guard/policy.toml`); the config file's `[guard]`
//! section is merged over them key by key, and an unknown key, action, severity
//! or rule id is an error naming the config file.

use crate::config::Config;
use crate::detect::rules;
use crate::detect::taxonomy::PathSet;
use crate::model::{Finding, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What the guard answers, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allow,
    Ask,
    Deny,
}

impl Action {
    /// The word used in the config and in reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Ask => "ask",
            Action::Deny => "deny",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    chain: Action,
    ask_fallback: Action,
    budget_ms: u64,
    fail_closed: bool,
    warm_idle_secs: u64,
    #[serde(default)]
    protect_paths: Vec<String>,
    severity: BTreeMap<String, Action>,
    #[serde(default)]
    rules: BTreeMap<String, Action>,
    #[serde(default)]
    floor: BTreeMap<String, Action>,
    #[serde(default)]
    paths: Vec<PathFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathFile {
    glob: String,
    action: Action,
    #[serde(default)]
    rules: Vec<String>,
}

/// A path override: calls whose working folder or target path matches `glob`
/// get `action` for their findings (only for `rules`, when given).
#[derive(Debug, Clone)]
struct PathRule {
    glob: String,
    set: PathSet,
    action: Action,
    rules: Vec<String>,
}

/// The loaded policy.
#[derive(Debug, Clone)]
pub struct Policy {
    severity: [Action; 5],
    rules: BTreeMap<String, Action>,
    /// Per rule, the least a finding of it at medium or above earns.
    floor: BTreeMap<String, Action>,
    paths: Vec<PathRule>,
    /// Action for a call that completes a chain started earlier in the session.
    pub chain: Action,
    /// What "ask" becomes where the agent or event cannot ask.
    pub ask_fallback: Action,
    /// Longest a decision may take, in milliseconds.
    pub budget_ms: u64,
    /// Deny (instead of allow) when the guard itself fails.
    pub fail_closed: bool,
    /// How long the command hook's warm judge waits idle before it exits;
    /// `0`: no warm judge, each hook judges in its own process.
    pub warm_idle_secs: u64,
    /// More path globs GRD-TRACE-001 protects.
    pub protect_paths: Vec<String>,
}

/// One finding's part in a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruling {
    pub action: Action,
    /// Which setting decided it, e.g. `[guard.severity] critical`.
    pub why: String,
}

impl Default for Policy {
    fn default() -> Policy {
        // The embedded defaults are checked by a unit test.
        Policy::from_config(&Config::default()).unwrap_or_else(|_| Policy {
            severity: [
                Action::Allow,
                Action::Allow,
                Action::Allow,
                Action::Ask,
                Action::Deny,
            ],
            rules: BTreeMap::new(),
            floor: BTreeMap::new(),
            paths: Vec::new(),
            chain: Action::Deny,
            ask_fallback: Action::Deny,
            budget_ms: 1000,
            fail_closed: false,
            warm_idle_secs: 600,
            protect_paths: Vec::new(),
        })
    }
}

/// Why the config file at `path` may have been written by someone else: its
/// target (links are followed: a config linked from a dotfiles folder is
/// fine) owned by another user (root aside), or writable by every user or by
/// a group with members besides you. `None` when it is yours alone or absent.
pub fn config_not_trusted(path: &std::path::Path) -> Option<String> {
    use crate::store::trust;
    let m = std::fs::metadata(path).ok()?;
    let f = trust::facts_of_meta(&m);
    let me = trust::my_uid();
    let why = trust::folder_problems(&f, me, |g| trust::group_has_others(g, me)).join(", ");
    if why.is_empty() {
        return None;
    }
    Some(format!(
        "config {} {why}: not trusted, judged with the built-in policy",
        path.display()
    ))
}

/// The config the guard judges with: the user's, unless someone else could
/// have written it (see [`config_not_trusted`]); then the built-in defaults,
/// which a weakened policy cannot touch, and why.
pub fn guard_config() -> anyhow::Result<(Config, Option<String>)> {
    if let Some(p) = crate::paths::config_file() {
        if let Some(why) = config_not_trusted(&p) {
            // No warm judge either: nothing long-lived starts from a state
            // someone else may have set.
            let builtin = Config::from_text(None, "[guard]\nwarm_idle_secs = 0\n".into())?;
            return Ok((builtin, Some(crate::notice::safe_line(&why))));
        }
    }
    Ok((Config::load_default()?, None))
}

impl Policy {
    /// The defaults with the config's `[guard]` section merged over them.
    pub fn from_config(config: &Config) -> anyhow::Result<Policy> {
        let name = config.display_name();
        let bad = |why: String| anyhow::anyhow!("{name}: [guard]: {why}");
        let mut merged: toml::Table = crate::assets::parse("guard/policy.toml")
            .map_err(|e| anyhow::anyhow!("built-in guard policy: {e}"))?;
        if let Some(user) = config.table.get("guard") {
            let user = user
                .as_table()
                .ok_or_else(|| bad("must be a table".into()))?;
            merge(&mut merged, user);
        }
        let f: PolicyFile = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
        let mut severity = [Action::Allow; 5];
        for (k, a) in &f.severity {
            let s: Severity = k
                .parse()
                .map_err(|e: String| bad(format!("severity: {e}")))?;
            severity[s.rank() as usize] = *a;
        }
        for id in f
            .rules
            .keys()
            .chain(f.floor.keys())
            .chain(f.paths.iter().flat_map(|p| p.rules.iter()))
        {
            if rules::rule(id).is_none() {
                return Err(bad(format!(
                    "unknown rule id '{id}' (see `skilltrace` docs/findings.md)"
                )));
            }
        }
        if f.ask_fallback == Action::Ask {
            return Err(bad("ask_fallback must be \"deny\" or \"allow\"".into()));
        }
        let mut paths = Vec::new();
        for p in f.paths {
            let set = PathSet::new(std::slice::from_ref(&p.glob))
                .map_err(|e| bad(format!("paths: {}: {e}", p.glob)))?;
            paths.push(PathRule {
                glob: p.glob,
                set,
                action: p.action,
                rules: p.rules,
            });
        }
        Ok(Policy {
            severity,
            rules: f.rules,
            floor: f.floor,
            paths,
            chain: f.chain,
            ask_fallback: f.ask_fallback,
            budget_ms: f.budget_ms.max(1),
            fail_closed: f.fail_closed,
            warm_idle_secs: f.warm_idle_secs,
            protect_paths: f.protect_paths,
        })
    }

    /// Compiles the path overrides' globs now (`guard serve`, before its first request).
    pub fn warm(&self) {
        for p in &self.paths {
            p.set.warm();
        }
    }

    /// What `f` earns a call that is at `span_id` and touches `paths` (its
    /// working folder and target files): a path override, else a rule
    /// override, else the severity's action raised by the rule's floor (at
    /// medium or above) and by the chain setting when the call completes one.
    pub fn rule_for(&self, f: &Finding, span_id: &str, paths: &[String]) -> Ruling {
        for p in &self.paths {
            if (p.rules.is_empty() || p.rules.contains(&f.rule_id))
                && paths.iter().any(|x| p.set.matches(x).is_some())
            {
                return Ruling {
                    action: p.action,
                    why: format!("[[guard.paths]] {}", p.glob),
                };
            }
        }
        if let Some(a) = self.rules.get(&f.rule_id) {
            return Ruling {
                action: *a,
                why: format!("[guard.rules] {}", f.rule_id),
            };
        }
        let mut by_sev = Ruling {
            action: self.severity[f.severity.rank() as usize],
            why: format!("[guard.severity] {}", f.severity),
        };
        if let Some(&a) = self
            .floor
            .get(&f.rule_id)
            .filter(|&&a| f.severity >= Severity::Medium && a > by_sev.action)
        {
            by_sev = Ruling {
                action: a,
                why: format!("[guard.floor] {}", f.rule_id),
            };
        }
        if completes_chain(f, span_id) && self.chain > by_sev.action {
            return Ruling {
                action: self.chain,
                why: "[guard] chain".into(),
            };
        }
        by_sev
    }
}

/// True when `f` links earlier steps of the run and this span is a later one:
/// the call completes a chain (read → egress, injection → risky action).
pub fn completes_chain(f: &Finding, span_id: &str) -> bool {
    f.span_ids.len() > 1 && f.span_ids.iter().skip(1).any(|s| s == span_id)
}

/// Deep-merges `over` into `base`: tables key by key, anything else replaced.
fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;

    #[test]
    fn a_config_others_can_write_is_not_trusted_and_a_private_one_or_its_link_is() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        assert!(
            config_not_trusted(&p).is_none(),
            "absent: nothing to distrust"
        );
        std::fs::write(&p, "[guard]\n").unwrap();
        let mode = |m: u32| std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m));
        mode(0o600).unwrap();
        assert!(config_not_trusted(&p).is_none());
        let link = dir.path().join("linked.toml");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert!(
            config_not_trusted(&link).is_none(),
            "a link to a private file of mine"
        );
        mode(0o666).unwrap();
        let why = config_not_trusted(&link).unwrap();
        assert!(
            why.contains("writable by every user") && why.contains("built-in policy"),
            "{why}"
        );
    }

    fn finding(rule: &str, sev: Severity, spans: &[&str]) -> Finding {
        Finding {
            rule_id: rule.into(),
            severity: sev,
            confidence: 0.9,
            run_id: "r".into(),
            span_ids: spans.iter().map(|s| s.to_string()).collect(),
            title: rule.into(),
            message: String::new(),
            evidence: String::new(),
            fingerprint: "fp".into(),
            origin: Some(Origin::new("guard://claude-code", 1)),
            skill_id: None,
            ts_ms: None,
            related: Vec::new(),
        }
    }

    fn cfg(text: &str) -> Config {
        Config::from_text(None, text.into()).unwrap()
    }

    #[test]
    fn defaults_deny_critical_ask_high_allow_below() {
        let p = Policy::from_config(&Config::default()).unwrap();
        let a = |sev| {
            p.rule_for(&finding("EXF-TRACE-001", sev, &["s"]), "s", &[])
                .action
        };
        assert_eq!(a(Severity::Critical), Action::Deny);
        assert_eq!(a(Severity::High), Action::Ask);
        assert_eq!(a(Severity::Medium), Action::Allow);
        assert_eq!(a(Severity::Info), Action::Allow);
        assert_eq!(p.ask_fallback, Action::Deny);
        assert!(!p.fail_closed);
    }

    #[test]
    fn a_completed_chain_is_denied_but_its_first_step_is_not() {
        let p = Policy::default();
        let read = finding("EXF-TRACE-003", Severity::High, &["read", "upload"]);
        let r = p.rule_for(&read, "upload", &[]);
        assert_eq!((r.action, r.why.as_str()), (Action::Deny, "[guard] chain"));
        let alone = finding("EXF-TRACE-003", Severity::Medium, &["read"]);
        assert_eq!(p.rule_for(&alone, "read", &[]).action, Action::Allow);
    }

    #[test]
    fn rules_and_paths_override_severity_in_that_order() {
        let p = Policy::from_config(&cfg(
            "[guard.severity]\nhigh = \"deny\"\n[guard.rules]\n\"CMD-TRACE-001\" = \"allow\"\n\
             [[guard.paths]]\nglob = \"~/sandbox/**\"\naction = \"ask\"\nrules = [\"CMD-TRACE-003\"]\n",
        ))
        .unwrap();
        let high = finding("EXF-TRACE-001", Severity::High, &["s"]);
        assert_eq!(p.rule_for(&high, "s", &[]).action, Action::Deny);
        let obf = finding("CMD-TRACE-001", Severity::High, &["s"]);
        assert_eq!(p.rule_for(&obf, "s", &[]).action, Action::Allow);
        let rev = finding("CMD-TRACE-003", Severity::Critical, &["s"]);
        let inside = vec!["/home/u/sandbox/x".to_string()];
        let r = p.rule_for(&rev, "s", &inside);
        assert_eq!(r.action, Action::Ask);
        assert!(r.why.contains("sandbox"), "{}", r.why);
        assert_eq!(p.rule_for(&rev, "s", &[]).action, Action::Deny);
        // the merge kept the other defaults
        assert_eq!(p.ask_fallback, Action::Deny);
    }

    #[test]
    fn a_floor_raises_medium_findings_of_its_rules_and_lowers_nothing() {
        let p = Policy::default();
        let act = |rule: &str, sev| p.rule_for(&finding(rule, sev, &["s"]), "s", &[]);
        // the default floors: destruction, privilege and disguised command names ask from medium
        for rule in ["CMD-TRACE-001", "CMD-TRACE-004", "CMD-TRACE-005"] {
            let r = act(rule, Severity::Medium);
            assert_eq!(r.action, Action::Ask, "{rule}");
            assert_eq!(r.why, format!("[guard.floor] {rule}"));
            assert_eq!(act(rule, Severity::Low).action, Action::Allow, "{rule} low");
            assert_eq!(act(rule, Severity::Critical).action, Action::Deny, "{rule}");
        }
        // reads and looks stay allowed at medium (README: what the guard stops)
        for rule in [
            "EXF-TRACE-003",
            "ENV-TRACE-001",
            "EXF-TRACE-002",
            "EXF-TRACE-001",
            "PRB-TRACE-001",
            "PINJ-TRACE-001",
        ] {
            assert_eq!(act(rule, Severity::Medium).action, Action::Allow, "{rule}");
        }
        // a floor set by the user never weakens a completed chain, as a
        // [guard.rules] entry would
        let floor =
            Policy::from_config(&cfg("[guard.floor]\n\"EXF-TRACE-003\" = \"ask\"\n")).unwrap();
        let read = finding("EXF-TRACE-003", Severity::Medium, &["read"]);
        assert_eq!(floor.rule_for(&read, "read", &[]).action, Action::Ask);
        let chain = finding("EXF-TRACE-003", Severity::High, &["read", "up"]);
        let r = floor.rule_for(&chain, "up", &[]);
        assert_eq!((r.action, r.why.as_str()), (Action::Deny, "[guard] chain"));
        let rule =
            Policy::from_config(&cfg("[guard.rules]\n\"EXF-TRACE-003\" = \"ask\"\n")).unwrap();
        assert_eq!(rule.rule_for(&chain, "up", &[]).action, Action::Ask);
        // and [guard.rules] still overrides a floor
        let off =
            Policy::from_config(&cfg("[guard.rules]\n\"CMD-TRACE-005\" = \"allow\"\n")).unwrap();
        let sudo = finding("CMD-TRACE-005", Severity::Medium, &["s"]);
        assert_eq!(off.rule_for(&sudo, "s", &[]).action, Action::Allow);
        let e = Policy::from_config(&cfg("[guard.floor]\n\"XYZ-2\" = \"ask\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("XYZ-2"), "{e}");
    }

    #[test]
    fn config_mistakes_are_one_line_errors() {
        for (text, want) in [
            ("[guard]\nchian = \"deny\"\n", "chian"),
            ("[guard.severity]\nhigh = \"block\"\n", "block"),
            ("[guard.severity]\nurgent = \"deny\"\n", "urgent"),
            ("[guard.rules]\n\"XYZ-1\" = \"deny\"\n", "XYZ-1"),
            ("[guard]\nask_fallback = \"ask\"\n", "ask_fallback"),
        ] {
            let e = Policy::from_config(&cfg(text)).unwrap_err().to_string();
            assert!(e.contains("[guard]") && e.contains(want), "{text}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
