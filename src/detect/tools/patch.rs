//! Codex's `apply_patch` input read as the file writes it makes: the patch text
//! found in whatever wrapping it came in, then one write per added or updated file.

use super::Action;
use serde_json::Value;

/// The patch in an `apply_patch` input, also when it comes as the argv Codex's
/// shell tool uses (`["apply_patch", "*** Begin Patch…"]`) or after a preamble.
pub(super) fn patch_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.trim_start().starts_with("*** Begin Patch") {
        return text.into();
    }
    if let Ok(Value::Array(a)) = serde_json::from_str::<Value>(text) {
        if let Some(p) = a
            .iter()
            .filter_map(Value::as_str)
            .find(|s| s.contains("*** Begin Patch"))
        {
            return patch_text(p).into_owned().into();
        }
    }
    match text.find("*** Begin Patch") {
        Some(i) => text[i..].into(),
        None => text.into(),
    }
}

/// Codex `apply_patch` text: every added or updated file is a write.
pub(super) fn patch_actions(text: &str) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let header = line
            .strip_prefix("*** Add File: ")
            .or_else(|| line.strip_prefix("*** Update File: "))
            .or_else(|| line.strip_prefix("*** Move to: "));
        if let Some(p) = header {
            if let Some((path, content)) = current.take() {
                out.push(Action::Write { path, content });
            }
            current = Some((p.trim().to_string(), String::new()));
        } else if let Some(added) = line.strip_prefix('+') {
            if let Some((_, c)) = current.as_mut() {
                c.push_str(added);
                c.push('\n');
            }
        }
    }
    if let Some((path, content)) = current {
        out.push(Action::Write { path, content });
    }
    out
}
