//! SARIF rule descriptors (`tool.driver.rules`) from the findings catalogue, with
//! fallback rules for any rule id the catalogue lacks.
//!
//! The catalogue arrives as plain data ([`RuleDescriptor`]) through [`catalogue`],
//! the one adapter to the detection module; rules built from findings alone
//! (id and title) keep the export useful whatever the catalogue holds.

use crate::model::Severity;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What SARIF needs to know about one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDescriptor {
    /// Stable id, e.g. `EXF-TRACE-003`.
    pub id: String,
    /// One-line title (SARIF `name` is derived from it).
    pub title: String,
    /// One sentence.
    pub short: String,
    /// Full description.
    pub full: String,
    /// What to do about it.
    pub help: String,
    /// Default severity.
    pub severity: Severity,
    /// Extra tags (`security` is always added).
    pub tags: Vec<String>,
}

/// The findings catalogue as plain data: the one adapter to detection's
/// catalogue (`crate::detect::catalogue()`).
pub fn catalogue() -> Vec<RuleDescriptor> {
    crate::detect::catalogue()
        .iter()
        .map(|r| RuleDescriptor {
            id: r.id.clone(),
            title: r.title.clone(),
            short: r.short.clone(),
            full: r.full.clone(),
            help: r.help.clone(),
            severity: r.severity,
            tags: r.tags.clone(),
        })
        .collect()
}

/// A rule known only from its findings: id, the title they carry, the lowest severity seen.
pub fn fallback(id: &str, title: &str, severity: Severity) -> RuleDescriptor {
    let title = if title.trim().is_empty() { id } else { title };
    RuleDescriptor {
        id: id.to_string(),
        title: title.to_string(),
        short: title.to_string(),
        full: format!("{title} (skilltrace rule {id})."),
        help: format!(
            "Open the finding in `skilltrace tui` (Findings view) or list it with \
             `skilltrace findings --format json`, inspect the span it points at, then \
             confirm it, mark it a false positive, or suppress it with a reason. \
             See docs/findings.md for rule {id}."
        ),
        severity,
        tags: Vec::new(),
    }
}

/// SARIF `level` for a severity: high and critical are errors, medium a warning, the rest notes.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` for a severity (its bands: >= 9.0 critical, 7.0-8.9 high,
/// 4.0-6.9 medium, 0.1-3.9 low). Info has none: GitHub then shows the rule as a note.
pub fn security_severity(s: Severity) -> Option<&'static str> {
    match s {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("3.0"),
        Severity::Info => None,
    }
}

/// GitHub accepts descriptions up to 1024 characters; names up to 255.
fn clip(s: &str, max: usize) -> String {
    crate::redact::cut::cut(s.trim(), max).into_owned()
}

/// A SARIF `name` from a title: lowercase words joined by dashes (`credential-file-read`).
fn rule_name(title: &str) -> String {
    let mut out = String::new();
    for word in title.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_lowercase());
    }
    clip(&out, 255)
}

/// One `reportingDescriptor`.
pub fn descriptor(r: &RuleDescriptor) -> Value {
    let short = clip(
        if r.short.is_empty() {
            &r.title
        } else {
            &r.short
        },
        1024,
    );
    let full = clip(if r.full.is_empty() { &short } else { &r.full }, 1024);
    let help = if r.help.trim().is_empty() {
        "Inspect the span this finding points at in `skilltrace tui`.".to_string()
    } else {
        r.help.trim().to_string()
    };
    let mut tags = vec!["security".to_string()];
    for t in &r.tags {
        if !t.is_empty() && !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    tags.truncate(20);
    let mut props = json!({
        "tags": tags,
        "precision": "high",
        "problem.severity": match level(r.severity) {
            "error" => "error",
            "warning" => "warning",
            _ => "recommendation",
        },
        "skilltrace/severity": r.severity.as_str(),
    });
    if let Some(s) = security_severity(r.severity) {
        props["security-severity"] = json!(s);
    }
    json!({
        "id": r.id,
        "name": rule_name(&r.title),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {
            "text": format!("{full}\n\nRemediation: {help}"),
            "markdown": format!("**{}**\n\n{}\n\n**Remediation:** {}", md_escape(&r.title), md_escape(&full), help),
        },
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": props,
    })
}

/// Escapes the characters that would turn plain text into Markdown markup or HTML.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '\\' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The rule table of one SARIF run: every catalogue rule (catalogue order), then
/// fallback rules for ids only findings know (sorted by id). Gives each id its index.
#[derive(Debug, Default)]
pub struct RuleTable {
    rules: Vec<RuleDescriptor>,
    index: BTreeMap<String, usize>,
}

impl RuleTable {
    /// Starts from the catalogue.
    pub fn new(catalogue: Vec<RuleDescriptor>) -> RuleTable {
        let mut t = RuleTable::default();
        for r in catalogue {
            if !t.index.contains_key(&r.id) {
                t.index.insert(r.id.clone(), t.rules.len());
                t.rules.push(r);
            }
        }
        t
    }

    /// Adds fallback rules for ids not in the table: `(id, title, severity)` per finding.
    pub fn add_fallbacks<'a>(
        &mut self,
        seen: impl IntoIterator<Item = (&'a str, &'a str, Severity)>,
    ) {
        let mut missing: BTreeMap<&str, (&str, Severity)> = BTreeMap::new();
        for (id, title, sev) in seen {
            if self.index.contains_key(id) {
                continue;
            }
            let e = missing.entry(id).or_insert((title, sev));
            if sev < e.1 {
                e.1 = sev;
            }
        }
        for (id, (title, sev)) in missing {
            self.index.insert(id.to_string(), self.rules.len());
            self.rules.push(fallback(id, title, sev));
        }
    }

    /// The index of a rule id in `tool.driver.rules`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// `tool.driver.rules`.
    pub fn to_json(&self) -> Vec<Value> {
        self.rules.iter().map(descriptor).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_github() {
        let band = |s| security_severity(s).map(|v| v.parse::<f64>().unwrap_or(-1.0));
        assert!(band(Severity::Critical).is_some_and(|v| v >= 9.0));
        assert!(band(Severity::High).is_some_and(|v| (7.0..9.0).contains(&v)));
        assert!(band(Severity::Medium).is_some_and(|v| (4.0..7.0).contains(&v)));
        assert!(band(Severity::Low).is_some_and(|v| (0.1..4.0).contains(&v)));
        assert_eq!(band(Severity::Info), None);
        assert_eq!(level(Severity::Info), "note");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Critical), "error");
    }

    #[test]
    fn catalogue_first_then_sorted_fallbacks() {
        let cat = vec![RuleDescriptor {
            id: "B-1".into(),
            title: "Bee".into(),
            short: "Short.".into(),
            full: "Full.".into(),
            help: "Fix it.".into(),
            severity: Severity::High,
            tags: vec!["exfiltration".into(), "security".into()],
        }];
        let mut t = RuleTable::new(cat);
        t.add_fallbacks([
            ("Z-9", "Zed", Severity::High),
            ("B-1", "ignored", Severity::Low),
            ("A-2", "Ay", Severity::Medium),
            ("Z-9", "Zed", Severity::Low),
        ]);
        assert_eq!(t.index_of("B-1"), Some(0));
        assert_eq!(t.index_of("A-2"), Some(1));
        assert_eq!(t.index_of("Z-9"), Some(2));
        let j = t.to_json();
        assert_eq!(
            j[0]["properties"]["tags"],
            json!(["security", "exfiltration"])
        );
        assert_eq!(j[0]["properties"]["security-severity"], "8.0");
        assert!(j[0]["help"]["markdown"]
            .as_str()
            .is_some_and(|m| m.contains("**Remediation:** Fix it.")));
        // the lowest severity seen is the fallback's default
        assert_eq!(j[2]["defaultConfiguration"]["level"], "note");
        assert_eq!(j[2]["name"], "zed");
        assert_eq!(j[2]["shortDescription"]["text"], "Zed");
    }

    #[test]
    fn long_text_is_clipped() {
        let long = "x".repeat(2000);
        let d = descriptor(&fallback("X", &long, Severity::Low));
        let short = d["shortDescription"]["text"].as_str().unwrap_or("");
        assert_eq!(short.chars().count(), 1024);
        assert!(d["name"].as_str().is_some_and(|n| n.chars().count() <= 255));
    }
}
