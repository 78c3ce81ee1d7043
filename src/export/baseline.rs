//! `--baseline OLD.sarif`: marks each result new, unchanged or updated against an
//! earlier SARIF log, and carries the old results no longer found over as absent.
//!
//! Results are matched by skilltrace's own fingerprint (`fingerprints["skilltrace/v1"]`),
//! else by `partialFingerprints.primaryLocationLineHash`, so a log from another
//! version of skilltrace (or a trimmed one) still lines up.

use super::ExportError;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The key skilltrace puts its finding fingerprint under in `result.fingerprints`.
pub const FINGERPRINT_KEY: &str = "skilltrace/v1";

/// The results of an earlier SARIF log, by match key, in file order.
#[derive(Debug, Default, Clone)]
pub struct Baseline {
    order: Vec<String>,
    results: HashMap<String, Value>,
}

impl Baseline {
    /// Reads and parses a baseline file; any failure is one line naming the file.
    pub fn load(path: &Path) -> Result<Baseline, ExportError> {
        let err = |why: String| ExportError::Baseline {
            path: path.display().to_string(),
            why,
        };
        let bytes = crate::paths::read_regular(path, 1 << 30)
            .map_err(|e| err(crate::ingest::import::io_why(&e)))?;
        Baseline::parse(&bytes).map_err(err)
    }

    /// Parses SARIF bytes. Results without a usable key are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Baseline, String> {
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
        let runs = v
            .get("runs")
            .and_then(Value::as_array)
            .ok_or_else(|| "not a SARIF log (no \"runs\" array)".to_string())?;
        let mut b = Baseline::default();
        for run in runs {
            let Some(results) = run.get("results").and_then(Value::as_array) else {
                continue;
            };
            for r in results {
                // results already absent in the baseline are gone for good
                if r.get("baselineState").and_then(Value::as_str) == Some("absent") {
                    continue;
                }
                if let Some(k) = key(r) {
                    if !b.results.contains_key(&k) {
                        b.order.push(k.clone());
                        b.results.insert(k, r.clone());
                    }
                }
            }
        }
        Ok(b)
    }

    /// How many results the baseline holds.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Sets `baselineState` on every current result and returns the baseline's
    /// results that are no longer present (see [`Baseline::absent`]).
    pub fn apply(&self, current: &mut [Value]) -> Vec<Value> {
        let mut seen = HashSet::new();
        for r in current.iter_mut() {
            self.mark(r, &mut seen);
        }
        self.absent(&seen)
    }

    /// Sets one current result's `baselineState` (new, unchanged or updated),
    /// remembering its key in `seen`.
    pub fn mark(&self, r: &mut Value, seen: &mut HashSet<String>) {
        let state = match key(r).and_then(|k| self.results.get_key_value(&k)) {
            Some((k, old)) => {
                seen.insert(k.clone());
                if comparable(old) == comparable(r) {
                    "unchanged"
                } else {
                    "updated"
                }
            }
            None => "new",
        };
        r["baselineState"] = Value::from(state);
    }

    /// The baseline's results whose keys are not in `seen`, marked `absent` (without
    /// `ruleIndex`, which the caller sets against its own rule table).
    pub fn absent(&self, seen: &HashSet<String>) -> Vec<Value> {
        let mut absent = Vec::new();
        for k in &self.order {
            if seen.contains(k) {
                continue;
            }
            if let Some(mut old) = self.results.get(k).cloned() {
                if let Some(o) = old.as_object_mut() {
                    o.remove("ruleIndex");
                    o.insert("baselineState".into(), Value::from("absent"));
                    absent.push(old);
                }
            }
        }
        absent
    }
}

/// The match key of a result.
pub fn key(r: &Value) -> Option<String> {
    if let Some(fp) = r
        .get("fingerprints")
        .and_then(|f| f.get(FINGERPRINT_KEY))
        .and_then(Value::as_str)
    {
        return Some(format!("fp:{fp}"));
    }
    r.get("partialFingerprints")
        .and_then(|f| f.get("primaryLocationLineHash"))
        .and_then(Value::as_str)
        .map(|h| format!("lh:{h}"))
}

/// What counts as a significant change: rule, level, message, primary location, triage.
fn comparable(r: &Value) -> (Value, Value, Value, Value, Value, Value) {
    let phys = r.pointer("/locations/0/physicalLocation");
    let sup: Vec<Value> = r
        .get("suppressions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| {
                    Value::from(vec![
                        s.get("kind").cloned().unwrap_or_default(),
                        s.get("status").cloned().unwrap_or_default(),
                    ])
                })
                .collect()
        })
        .unwrap_or_default();
    (
        r.get("ruleId").cloned().unwrap_or_default(),
        r.get("level").cloned().unwrap_or(Value::from("warning")),
        r.pointer("/message/text").cloned().unwrap_or_default(),
        phys.and_then(|p| p.pointer("/artifactLocation/uri"))
            .cloned()
            .unwrap_or_default(),
        phys.and_then(|p| p.pointer("/region/startLine"))
            .cloned()
            .unwrap_or_default(),
        Value::from(sup),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(fp: &str, level: &str) -> Value {
        json!({"ruleId": "R", "level": level, "message": {"text": "m"},
               "fingerprints": {FINGERPRINT_KEY: fp}, "ruleIndex": 0})
    }

    #[test]
    fn states_and_absent() {
        let old = json!({"version": "2.1.0", "runs": [{"results": [
            res("a", "error"), res("b", "warning"), res("c", "note"),
            {"message": {"text": "no key"}}
        ]}]});
        let b = Baseline::parse(old.to_string().as_bytes()).expect("parse");
        assert_eq!(b.len(), 3);
        let mut cur = vec![res("a", "error"), res("b", "error"), res("d", "note")];
        let absent = b.apply(&mut cur);
        let states: Vec<_> = cur.iter().map(|r| r["baselineState"].clone()).collect();
        assert_eq!(states, vec!["unchanged", "updated", "new"]);
        assert_eq!(absent.len(), 1);
        assert_eq!(absent[0]["fingerprints"][FINGERPRINT_KEY], "c");
        assert_eq!(absent[0]["baselineState"], "absent");
        assert!(absent[0].get("ruleIndex").is_none());
    }

    #[test]
    fn bad_baselines_are_one_line_errors() {
        let e = Baseline::parse(b"{nope").expect_err("bad json");
        assert!(e.starts_with("not valid JSON"), "{e}");
        let e = Baseline::parse(b"{\"version\":\"2.1.0\"}").expect_err("no runs");
        assert!(e.contains("no \"runs\""), "{e}");
        assert!(!e.contains('\n'));
    }
}
