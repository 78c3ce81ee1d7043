//! Ids at ingest: every id a raw record carries (a run's id and parent, a
//! span's id, run, parent and tool-call id, a carried finding's run and span
//! ids, a triage fingerprint) is put through [`Redactor::stand_in_id`] before
//! anything reads the record, so an id holding a secret is stored (and
//! scanned, remembered, linked) as its keyed stand-in and never as itself.
//!
//! Ids repeat: every span of a run names the run, and a span's parent is
//! usually the span before it. [`IdStandIns`] keeps the last verdict of each
//! kind (a compare), and the redactor keeps every verdict it gave
//! ([`Redactor::stand_in_id_remembered`]), so an id is judged once.

use crate::ingest::formats::Record;
use crate::redact::Redactor;

/// The last id judged and its verdict (`None`: kept as it is).
#[derive(Debug, Default)]
struct Last {
    id: String,
    stand_in: Option<String>,
}

impl Last {
    fn apply(&mut self, r: &mut Redactor, id: &mut String) {
        if *id != self.id {
            self.id.clone_from(id);
            self.stand_in = r.stand_in_id_remembered(id);
        }
        if let Some(s) = &self.stand_in {
            id.clone_from(s);
        }
    }
}

/// Replaces the ids of raw records by their stand-ins, remembering the last
/// run id and the last span id seen (one batch's worth).
#[derive(Debug, Default)]
pub struct IdStandIns {
    run: Last,
    span: Last,
}

impl IdStandIns {
    fn opt(&mut self, r: &mut Redactor, id: &mut Option<String>, run: bool) {
        if let Some(v) = id {
            if run {
                self.run.apply(r, v);
            } else {
                self.span.apply(r, v);
            }
        }
    }

    /// Puts every id of `rec` through the redactor's verdict, in place.
    pub fn apply(&mut self, r: &mut Redactor, rec: &mut Record) {
        if !r.is_enabled() {
            return;
        }
        match rec {
            Record::Run(run) => {
                self.run.apply(r, &mut run.id);
                self.opt(r, &mut run.parent_run_id, true);
            }
            Record::Span(s) => {
                self.run.apply(r, &mut s.run_id);
                // the parent first: usually the span judged just before
                self.opt(r, &mut s.parent_id, false);
                self.span.apply(r, &mut s.id);
                if let Some(t) = &mut s.tool_call_id {
                    r.stand_in_remembered_in_place(t);
                }
                if !s.attributes.is_empty() {
                    attribute_ids(r, &mut s.attributes);
                }
            }
            Record::Finding(f) => {
                self.run.apply(r, &mut f.run_id);
                for id in &mut f.span_ids {
                    self.span.apply(r, id);
                }
                for id in &mut f.related {
                    r.stand_in_remembered_in_place(id);
                }
                if let Some(k) = &mut f.skill_id {
                    r.stand_in_remembered_in_place(k);
                }
            }
            Record::Triage { fingerprint, .. } => r.stand_in_remembered_in_place(fingerprint),
        }
    }
}

/// Attributes whose value is an id (the proxy's record of an exchange).
const ID_ATTRIBUTES: &[&str] = &["response.id", "previous_response_id"];
/// Attributes holding messages whose `id` and `call_id` fields are tool-call
/// ids (the proxy's `request.messages`).
const MESSAGE_ATTRIBUTES: &[&str] = &["request.messages"];

/// The ids the proxy copies into a span's attributes, stood in for as the
/// span's own: text redaction masks a secret only where a rule sees its
/// start, and ids glue theirs on with a word character (`call_<secret>`).
fn attribute_ids(r: &mut Redactor, a: &mut serde_json::Map<String, serde_json::Value>) {
    use serde_json::Value;
    for k in ID_ATTRIBUTES {
        if let Some(Value::String(v)) = a.get_mut(*k) {
            r.stand_in_remembered_in_place(v);
        }
    }
    fn walk(r: &mut Redactor, v: &mut Value) {
        match v {
            Value::Array(items) => items.iter_mut().for_each(|x| walk(r, x)),
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    match x {
                        Value::String(s) if k == "id" || k == "call_id" => {
                            r.stand_in_remembered_in_place(s)
                        }
                        _ => walk(r, x),
                    }
                }
            }
            _ => {}
        }
    }
    for k in MESSAGE_ATTRIBUTES {
        if let Some(v) = a.get_mut(*k) {
            walk(r, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Run, Span, SpanKind};
    use crate::redact::{HashKey, Mode, STAND_IN_PREFIX};

    const TOKEN: &str = concat!("ghp_", "R8x2Kq9ZmP4vT7wYbN3cL6hJ1sD5fG0aQ2eU");

    fn span(id: &str, run: &str, parent: Option<&str>) -> Record {
        let mut s = Span::new(id, run, SpanKind::Tool, "Bash", Origin::new("t", 1));
        s.parent_id = parent.map(String::from);
        s.tool_call_id = Some(format!("call-{id}"));
        Record::Span(s)
    }

    #[test]
    fn secret_ids_become_the_same_stand_in_everywhere_and_others_stay() {
        let mut r = Redactor::new(Mode::Mask).with_key(HashKey::from_bytes([3; 32]));
        let run = format!("sess-{TOKEN}");
        let mut recs = vec![
            Record::Run(Run {
                id: run.clone(),
                ..Run::default()
            }),
            span(TOKEN, &run, None),
            span("plain-2", &run, Some(TOKEN)),
            span("plain-3", "other-run", Some("plain-2")),
        ];
        let mut ids = IdStandIns::default();
        for rec in &mut recs {
            ids.apply(&mut r, rec);
        }
        // a fresh memo (the next batch, another process) gives the same ids
        let mut again = [span(TOKEN, &run, None)];
        IdStandIns::default().apply(&mut r, &mut again[0]);
        let Record::Run(stored_run) = &recs[0] else {
            unreachable!()
        };
        let (Record::Span(a), Record::Span(b), Record::Span(c), Record::Span(a2)) =
            (&recs[1], &recs[2], &recs[3], &again[0])
        else {
            unreachable!()
        };
        assert!(stored_run.id.starts_with(STAND_IN_PREFIX));
        assert_eq!(a.run_id, stored_run.id);
        assert_eq!(b.run_id, stored_run.id);
        assert!(a.id.starts_with(STAND_IN_PREFIX));
        assert_eq!(b.parent_id.as_deref(), Some(a.id.as_str()), "link kept");
        assert!(a
            .tool_call_id
            .as_deref()
            .unwrap()
            .starts_with(STAND_IN_PREFIX));
        assert_eq!((a2.id.as_str(), a2.run_id.as_str()), (&*a.id, &*a.run_id));
        assert_eq!(b.id, "plain-2");
        assert_eq!(b.tool_call_id.as_deref(), Some("call-plain-2"));
        assert_eq!(
            (c.run_id.as_str(), c.parent_id.as_deref()),
            ("other-run", Some("plain-2"))
        );
        let mut proxied = span("px-1", "run", None);
        if let Record::Span(s) = &mut proxied {
            s.attributes
                .insert("response.id".into(), format!("resp_{TOKEN}").into());
            s.attributes.insert(
                "request.messages".into(),
                serde_json::json!([{"role": "tool", "tool_results": [{"call_id": format!("call_{TOKEN}"), "output": "ok"}]}]),
            );
        }
        ids.apply(&mut r, &mut proxied);
        recs.push(proxied);
        let all = format!("{recs:?}");
        assert!(!all.contains(&TOKEN[..10]), "{all}");
    }
}
