//! Findings about one action, grouped: one row per span and behaviour.
//!
//! One curl to a paste site raises `EXF-TRACE-001` and `NET-TRACE-002`; a
//! person judges it once. Findings whose primary span is the same and whose
//! rules share a behaviour (`assets/tui/behaviours.toml`, extendable from the
//! config; a rule in no group is its own behaviour) form one [`FindingGroup`],
//! listed where its worst member would be, and triaged together. A finding on
//! no span is a group of its own.

use crate::model::TriageStatus;
use crate::store::{FindingKey, FindingRow};
use serde::Deserialize;
use std::collections::HashMap;

const BUILTIN: &str = include_str!("../../assets/tui/behaviours.toml");

/// One behaviour: a name and the rules that describe it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    pub name: String,
    pub rules: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    behaviour: Vec<Behaviour>,
}

/// Which behaviour each rule describes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Behaviours {
    by_rule: HashMap<String, String>,
}

impl Behaviours {
    /// The built-in groups.
    pub fn builtin() -> Behaviours {
        // The embedded file is tested; a broken build falls back to one rule per group.
        Behaviours::parse(BUILTIN).unwrap_or_default()
    }

    /// Parses a behaviours document (`[[behaviour]] name, rules`).
    pub fn parse(text: &str) -> Result<Behaviours, String> {
        let f: File = toml::from_str(text).map_err(|e| e.message().to_string())?;
        Ok(Behaviours::default().with(f.behaviour))
    }

    /// These groups added; a rule named again moves to its new group.
    pub fn with(mut self, groups: Vec<Behaviour>) -> Behaviours {
        for g in groups {
            for r in g.rules {
                self.by_rule.insert(r, g.name.clone());
            }
        }
        self
    }

    /// The behaviour `rule` describes (the rule itself when in no group).
    pub fn of<'a>(&'a self, rule: &'a str) -> &'a str {
        self.by_rule.get(rule).map(String::as_str).unwrap_or(rule)
    }
}

/// Groups items already in list order; each group keeps its members in that
/// order and sits where its first member was. `key` gives (run, span, rule);
/// an item without a span is alone. The keys are borrowed from the items
/// while each item's group is found, then the items move (owned copies of
/// the three strings per finding were most of the 45.9 MB this took for the
/// 352,000 findings of a 1.22M-span store, of a 92 MB heap peak).
fn group_by<T>(
    items: Vec<T>,
    b: &Behaviours,
    key: impl Fn(&T) -> (&str, Option<&str>, &str),
) -> Vec<Vec<T>> {
    let mut groups = 0;
    let slots: Vec<usize> = {
        let mut at: crate::hash::HashMap<(&str, &str, &str), usize> =
            crate::hash::HashMap::default();
        let mut fresh = || {
            groups += 1;
            groups - 1
        };
        items
            .iter()
            .map(|it| {
                let (run, span, rule) = key(it);
                match span {
                    None => fresh(),
                    Some(span) => *at.entry((run, span, b.of(rule))).or_insert_with(&mut fresh),
                }
            })
            .collect()
    };
    let mut out: Vec<Vec<T>> = (0..groups).map(|_| Vec::new()).collect();
    for (it, slot) in items.into_iter().zip(slots) {
        out[slot].push(it);
    }
    out
}

/// The Findings view's rows as groups of finding ids (from keys in list order).
pub fn group_keys(keys: &[FindingKey], b: &Behaviours) -> Vec<Vec<i64>> {
    group_by(keys.iter().collect(), b, |k| {
        (k.run_id.as_str(), k.span_id.as_deref(), k.rule_id.as_str())
    })
    .into_iter()
    .map(|g| g.into_iter().map(|k| k.id).collect())
    .collect()
}

/// Findings of one action and behaviour, worst first: one row, one decision.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingGroup {
    /// Never empty; the first is the worst (the row shows it).
    pub rows: Vec<FindingRow>,
}

impl FindingGroup {
    /// The finding the row shows.
    pub fn lead(&self) -> &FindingRow {
        &self.rows[0]
    }

    /// Every member's id.
    pub fn ids(&self) -> Vec<i64> {
        self.rows.iter().map(|r| r.id).collect()
    }

    /// The members' rules, each once, worst first.
    pub fn rules(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r.finding.rule_id.as_str()) {
                out.push(&r.finding.rule_id);
            }
        }
        out
    }

    /// The members' status when they share one.
    pub fn status(&self) -> Option<TriageStatus> {
        let s = self.lead().status;
        self.rows.iter().all(|r| r.status == s).then_some(s)
    }

    /// True when some member is still open.
    pub fn any_open(&self) -> bool {
        self.rows.iter().any(|r| r.status == TriageStatus::Open)
    }
}

/// Rows into groups, worst first then oldest (the Span view's and replay's order).
pub fn group_rows(mut rows: Vec<FindingRow>, b: &Behaviours) -> Vec<FindingGroup> {
    rows.sort_by(|a, c| {
        c.finding
            .severity
            .cmp(&a.finding.severity)
            .then(a.finding.ts_ms.cmp(&c.finding.ts_ms))
            .then(a.id.cmp(&c.id))
    });
    group_by(rows, b, |r| {
        (
            r.finding.run_id.as_str(),
            r.finding.span_ids.first().map(String::as_str),
            r.finding.rule_id.as_str(),
        )
    })
    .into_iter()
    .map(|rows| FindingGroup { rows })
    .collect()
}

/// Assembles groups from `ids` groups and the rows they name (rows gone from
/// the store are left out, and so are groups left empty).
pub fn assemble(groups: &[Vec<i64>], rows: Vec<FindingRow>) -> Vec<FindingGroup> {
    let mut by_id: HashMap<i64, FindingRow> = rows.into_iter().map(|r| (r.id, r)).collect();
    groups
        .iter()
        .filter_map(|g| {
            let rows: Vec<FindingRow> = g.iter().filter_map(|i| by_id.remove(i)).collect();
            (!rows.is_empty()).then_some(FindingGroup { rows })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn key(id: i64, span: Option<&str>, rule: &str) -> FindingKey {
        FindingKey {
            id,
            run_id: "r".into(),
            span_id: span.map(String::from),
            rule_id: rule.into(),
            severity: Severity::High,
            status: TriageStatus::Open,
        }
    }

    #[test]
    fn one_curl_is_one_row_and_other_behaviours_stay_apart() {
        let b = Behaviours::builtin();
        assert_eq!(b.of("NET-TRACE-002"), "egress");
        assert_eq!(b.of("CMD-TRACE-001"), "CMD-TRACE-001");
        let keys = [
            key(1, Some("curl"), "EXF-TRACE-001"),
            key(2, Some("curl"), "EXF-TRACE-003"),
            key(3, Some("other"), "EXF-TRACE-001"),
            key(4, Some("curl"), "NET-TRACE-002"),
            key(5, None, "SEC-TRACE-001"),
            key(6, None, "SEC-TRACE-001"),
            key(7, Some("out"), "SEC-TRACE-001"),
            key(8, Some("out"), "SEC-TRACE-001"),
        ];
        assert_eq!(
            group_keys(&keys, &b),
            vec![vec![1, 4], vec![2], vec![3], vec![5], vec![6], vec![7, 8]]
        );
        // The same span in another run is another action.
        let mut other = key(9, Some("curl"), "NET-TRACE-002");
        other.run_id = "r2".into();
        assert_eq!(group_keys(&[keys[0].clone(), other], &b).len(), 2);
    }

    #[test]
    fn the_config_adds_and_moves_rules() {
        let b = Behaviours::builtin().with(vec![Behaviour {
            name: "exec".into(),
            rules: vec!["CMD-TRACE-001".into(), "EXF-TRACE-001".into()],
        }]);
        assert_eq!(b.of("CMD-TRACE-001"), "exec");
        assert_eq!(b.of("EXF-TRACE-001"), "exec");
        assert_eq!(b.of("NET-TRACE-002"), "egress");
        assert!(Behaviours::parse("[[behaviour]]\nname = 1\n").is_err());
        assert!(Behaviours::parse("[[behaviour]]\nname='x'\nrules=[]\nextra=1\n").is_err());
    }

    #[test]
    fn a_group_shows_its_worst_member_and_its_rules_once() {
        let row = |id: i64, rule: &str, sev: Severity, status: TriageStatus| FindingRow {
            id,
            finding: crate::model::Finding {
                rule_id: rule.into(),
                severity: sev,
                confidence: 0.9,
                run_id: "r".into(),
                span_ids: vec!["s".into()],
                title: String::new(),
                message: String::new(),
                evidence: String::new(),
                fingerprint: format!("fp{id}"),
                origin: None,
                skill_id: None,
                ts_ms: Some(id),
                related: vec![],
            },
            status,
            reason: None,
            triaged_by: None,
            guard: None,
            triaged_ms: None,
            notes: vec![],
        };
        let b = Behaviours::builtin();
        let g = group_rows(
            vec![
                row(1, "NET-TRACE-001", Severity::Low, TriageStatus::Open),
                row(2, "EXF-TRACE-001", Severity::High, TriageStatus::Open),
                row(3, "NET-TRACE-001", Severity::Low, TriageStatus::Confirmed),
            ],
            &b,
        );
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].lead().id, 2);
        assert_eq!(g[0].rules(), ["EXF-TRACE-001", "NET-TRACE-001"]);
        assert_eq!(g[0].status(), None, "mixed");
        assert!(g[0].any_open());
        let rows = g[0].rows.clone();
        let again = assemble(&[vec![3, 99], vec![2, 1], vec![98]], rows);
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].ids(), [3]);
        assert_eq!(again[1].ids(), [2, 1]);
        assert_eq!(again[0].status(), Some(TriageStatus::Confirmed));
    }
}
