//! Redacting a span: [`Redactor::plan_span`] works out what changes in each field
//! and attribute of the raw span (positions index the raw text, for detection), and
//! [`Redactor::apply`] applies that plan, moving unchanged text rather than copying it.

use super::{Field, Redacted, Redactor, Report};
use crate::model::Span;

/// What redaction will change in one span: built by [`Redactor::plan_span`]
/// from the raw span, applied to that same span by [`Redactor::apply`].
#[derive(Debug, Default)]
pub struct SpanPlan {
    /// New text of name, text, tool_input, tool_output, model, tool_name, origin path.
    fields: [Option<String>; 7],
    attributes: Option<serde_json::Map<String, serde_json::Value>>,
    report: Report,
}

impl SpanPlan {
    /// What was found where (no secret values).
    pub fn report(&self) -> &Report {
        &self.report
    }
}

impl Redactor {
    /// What redaction would change in `span`, without touching it: the new
    /// text of each changed field and what was found where.
    fn plan_once(&mut self, span: &Span) -> SpanPlan {
        let mut plan = SpanPlan::default();
        let run = span.run_id.as_str();
        let r = &mut plan.report;
        fn opt(s: &Option<String>) -> &str {
            s.as_deref().unwrap_or("")
        }
        let fields: [(&str, Field); 7] = [
            (span.name.as_str(), Field::Name),
            (opt(&span.text), Field::Text),
            (opt(&span.tool_input), Field::ToolInput),
            (opt(&span.tool_output), Field::ToolOutput),
            (opt(&span.model), Field::Other("model".into())),
            (opt(&span.tool_name), Field::Other("tool_name".into())),
            (&*span.origin.path, Field::Other("origin".into())),
        ];
        for (i, (text, field)) in fields.into_iter().enumerate() {
            // name, model, tool name and path repeat from span to span
            plan.fields[i] = if matches!(i, 0 | 4 | 5 | 6) {
                self.redact_short_cow(run, text, field, r)
            } else {
                self.redact_cow(run, text, field, r)
            };
        }
        if !span.attributes.is_empty() {
            let mut found = Vec::new();
            let mut value = serde_json::Value::Object(span.attributes.clone());
            let changed = self.ctx(run).walk_settled(&mut value, &mut found);
            if let (true, serde_json::Value::Object(m)) = (changed || !found.is_empty(), value) {
                plan.attributes = Some(m);
            }
            for f in &found {
                let m = self.to_match(f, Field::Attribute(f.path.clone()));
                plan.report.matches.push(m);
            }
        }
        plan
    }

    /// Plans the redaction of a span (see [`Redactor::apply`]), after learning the
    /// pieces of a secret cut across two of its strings (see [`super::seam`]). When a secret
    /// first found in this span also occurs in a field processed before it, the
    /// plan is redone so that occurrence is caught too. The report's positions
    /// index the span's raw fields, for detection to read.
    pub fn plan_span(&mut self, span: &Span) -> SpanPlan {
        if !self.enabled {
            return SpanPlan::default();
        }
        if !self.seams_ahead {
            self.learn_seams(span);
        }
        let before = self.memory.len();
        let plan = self.plan_once(span);
        if self.memory.len() == before {
            return plan;
        }
        self.plan_once(span)
    }

    /// The span with its plan applied: changed fields replaced, the rest moved
    /// (no copy of unchanged text).
    pub fn apply(&self, mut span: Span, plan: SpanPlan) -> Redacted<Span> {
        let [name, text, input, output, model, tool, origin] = plan.fields;
        let set = |dst: &mut Option<String>, new: Option<String>| {
            if let (Some(d), Some(n)) = (dst.as_mut(), new) {
                *d = n;
            }
        };
        if let Some(n) = name {
            span.name = n;
        }
        set(&mut span.text, text);
        set(&mut span.tool_input, input);
        set(&mut span.tool_output, output);
        set(&mut span.model, model);
        set(&mut span.tool_name, tool);
        if let Some(o) = origin {
            span.origin.path = o.into();
        }
        if let Some(a) = plan.attributes {
            span.attributes = a;
        }
        Redacted::new(span)
    }

    /// Redacts every string of a span (recursively, including JSON inside strings):
    /// [`Redactor::plan_span`] then [`Redactor::apply`].
    pub fn redact_span(&mut self, span: Span) -> (Redacted<Span>, Report) {
        let mut plan = self.plan_span(&span);
        let report = std::mem::take(&mut plan.report);
        (self.apply(span, plan), report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, SpanKind};
    use crate::redact::Mode;

    #[test]
    fn plan_reads_the_raw_span_and_apply_moves_unchanged_text() {
        let mut r = Redactor::new(Mode::Mask);
        let mut span = Span::new("s", "r", SpanKind::Tool, "Bash", Origin::new("f.jsonl", 1));
        let key = format!("sk-proj-{}", "A1b2C3d4E5f6G7h8".repeat(3));
        span.tool_input = Some(format!("{{\"command\":\"echo {key}\"}}"));
        span.text = Some("nothing secret in here, just prose".into());
        let plan = r.plan_span(&span);
        let m = &plan.report().matches[0];
        assert_eq!(m.field, Field::ToolInput);
        let raw = span.tool_input.as_deref().unwrap();
        assert_eq!(&raw[m.start..m.end], key, "positions index the raw field");
        let text_ptr = span.text.as_ref().unwrap().as_ptr();
        let red = r.apply(span, plan);
        let red = red.get();
        assert!(!red.tool_input.as_deref().unwrap().contains(&key));
        assert!(red.tool_input.as_deref().unwrap().contains("[REDACTED:"));
        assert_eq!(
            red.text.as_ref().unwrap().as_ptr(),
            text_ptr,
            "an unchanged field is moved, not copied"
        );
    }

    #[test]
    fn a_path_found_clean_is_judged_again_once_the_memory_changes() {
        let mut r = Redactor::new(Mode::Mask);
        let token = "plainwordtoken";
        let path = format!("/home/u/{token}/t.jsonl");
        let span = |id: &str, run: &str| {
            Span::new(
                id,
                run,
                SpanKind::Tool,
                "Bash",
                Origin::new(path.as_str(), 1),
            )
        };
        for id in ["a", "b"] {
            let plan = r.plan_span(&span(id, "r1"));
            assert_eq!(
                plan.fields[6], None,
                "clean, then clean again from the memo"
            );
            assert!(plan.report().matches.is_empty());
        }
        r.remember_canary("r1", token);
        let plan = r.plan_span(&span("c", "r1"));
        let kept = plan.fields[6].as_deref().expect("redacted once remembered");
        assert!(!kept.contains(token), "{kept}");
        assert_eq!(plan.report().matches.len(), 1);
        // Another run never saw the token: its spans keep the path.
        assert_eq!(r.plan_span(&span("d", "r2")).fields[6], None);
        assert_eq!(r.plan_span(&span("e", "r2")).fields[6], None);
        // And the first run still redacts it after the other run's clean memo.
        assert!(r.plan_span(&span("f", "r1")).fields[6].is_some());
        // A finding's origin and a run's source take the same path.
        let f = crate::model::Finding {
            rule_id: "SEC-TRACE-001".into(),
            severity: crate::model::Severity::High,
            confidence: 1.0,
            run_id: "r1".into(),
            span_ids: vec!["f".into()],
            title: "t".into(),
            message: "m".into(),
            evidence: "e".into(),
            fingerprint: "fp".into(),
            origin: Some(Origin::new(path.as_str(), 1)),
            skill_id: None,
            ts_ms: None,
            related: Vec::new(),
        };
        let f = r.redact_finding(f).into_inner();
        assert!(!f.origin.unwrap().path.contains(token));
        assert_eq!(f.run_id, "r1", "the run id is put back");
    }
}
