//! Output text of a Codex `*_output` item, and whether it reports a failure.

use super::super::common::{str_of, text_of};
use crate::ingest::formats::json::Value;

/// Output text of a `*_output` item, and whether it reports a failure.
/// Current builds write a string; older ones a JSON string or object
/// `{"output": ..., "metadata": {"exit_code": N}}`.
pub(super) fn output_text(v: Option<&Value>) -> (String, bool) {
    let Some(v) = v else {
        return (String::new(), false);
    };
    let exit_failed = |o: &Value| {
        o.get("metadata")
            .and_then(|m| m.get("exit_code"))
            .and_then(Value::as_i64)
            .is_some_and(|c| c != 0)
            || o.get("success").and_then(Value::as_bool) == Some(false)
    };
    match v {
        Value::String(s) => {
            if s.starts_with('{') {
                if let Ok(o) = Value::parse(s) {
                    if let Some(inner) = o.get("output").and_then(Value::as_str) {
                        return (inner.to_owned(), exit_failed(&o));
                    }
                }
            }
            let failed = s
                .lines()
                .take(6)
                .filter_map(|l| l.strip_prefix("Process exited with code "))
                .any(|c| c.trim() != "0");
            (s.to_string(), failed)
        }
        Value::Object(_) => {
            let text = str_of(v, "output")
                .or_else(|| str_of(v, "content"))
                .map(str::to_owned)
                .unwrap_or_else(|| text_of(v));
            (text, exit_failed(v))
        }
        other => (text_of(other), false),
    }
}
