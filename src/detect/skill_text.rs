//! Skill detection in a span's text: a plain text is handed to the skill
//! registries as it is; a JSON document inside a string (a message array an
//! agent logged as text) is read leaf by leaf, bounded in depth and size.

use super::skills::Observation;
use super::Detector;

impl Detector {
    /// Skill detection in a text; JSON documents (message arrays inside a string) are read leaf by leaf.
    pub(super) fn scan_skills_in(&self, t: &str, depth: usize, out: &mut Vec<Observation>) {
        let trimmed = t.trim_start();
        if depth < 3
            && t.len() <= 256 * 1024
            && (trimmed.starts_with('[') || trimmed.starts_with('{'))
        {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed) {
                self.scan_skills_value(&v, depth + 1, out);
                return;
            }
        }
        out.extend(self.skills.scan(t));
    }

    pub(super) fn scan_skills_value(
        &self,
        v: &serde_json::Value,
        depth: usize,
        out: &mut Vec<Observation>,
    ) {
        if depth > 6 {
            return;
        }
        match v {
            serde_json::Value::String(s) if s.len() >= 32 => self.scan_skills_in(s, depth, out),
            serde_json::Value::Array(a) => a
                .iter()
                .for_each(|x| self.scan_skills_value(x, depth + 1, out)),
            serde_json::Value::Object(o) => o
                .values()
                .for_each(|x| self.scan_skills_value(x, depth + 1, out)),
            _ => {}
        }
    }
}
