//! Stored text redacted again on its way out: every row the read side hands a
//! view, an export or a listing passes the redactor once more.
//!
//! Text is redacted before it is stored, so this changes nothing in the
//! common case (redacting twice changes nothing). It is there for rows that
//! did not come through this version's redactor: a row edited by hand (another
//! tool with write access to the db) or written by an older version whose rules
//! missed a secret. The redactor is the built-in one (mask mode) until a command
//! gives the store the one its config asks for ([`Store::redact_reads_with`]),
//! built only when the first row is read.

use super::read::{FindingRow, RunRow, SpanRow};
use super::Store;
use crate::model::{ParseError, Span};
use crate::redact::{Field, Redactor, Report};
use std::sync::Mutex;

/// The read side's redactor (see the module docs).
#[derive(Debug, Default)]
pub(super) struct Reread(Mutex<Option<Redactor>>);

impl Reread {
    fn with<R>(&self, f: impl FnOnce(&mut Redactor) -> R) -> R {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(g.get_or_insert_with(Redactor::default))
    }

    fn set(&self, r: Redactor) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
    }

    /// Every string of a span, as a stored span is redacted.
    pub(super) fn span(&self, span: Span) -> Span {
        self.with(|r| r.redact_span(span).0.into_inner())
    }

    pub(super) fn span_row(&self, mut row: SpanRow) -> SpanRow {
        row.span = self.span(row.span);
        row
    }

    /// Title, source, cwd and models.
    pub(super) fn run_row(&self, mut row: RunRow) -> RunRow {
        self.with(move |r| {
            row.run = r.redact_run(row.run).into_inner();
            for m in row.models.iter_mut() {
                *m = text_in(r, &row.run.id, m);
            }
            row
        })
    }

    /// Title, message, evidence, origin, skill, triage reason, author and notes.
    pub(super) fn finding_row(&self, mut row: FindingRow) -> FindingRow {
        self.with(move |r| {
            row.finding = r.redact_finding(row.finding).into_inner();
            let run = row.finding.run_id.as_str();
            for s in [
                &mut row.reason,
                &mut row.triaged_by,
                &mut row.finding.skill_id,
            ]
            .into_iter()
            .flatten()
            {
                *s = text_in(r, run, s);
            }
            for n in row.notes.iter_mut() {
                n.author = text_in(r, run, &n.author);
                n.text = text_in(r, run, &n.text);
            }
            row
        })
    }

    pub(super) fn parse_error(&self, err: ParseError) -> ParseError {
        self.with(|r| r.redact_parse_error(err).into_inner())
    }

    /// Free text of run `run` (a path, a name, a snippet's whole body).
    pub(super) fn text(&self, run: &str, text: &str) -> String {
        self.with(|r| text_in(r, run, text))
    }
}

fn text_in(r: &mut Redactor, run: &str, text: &str) -> String {
    let mut report = Report::default();
    r.redact_str(run, text, Field::Other("stored".into()), &mut report)
}

impl Store {
    /// Redacts every row read from now on with `redactor` (the one the user's
    /// config asks for, keyed with the store's key) instead of the built-in one.
    pub fn redact_reads_with(&self, redactor: Redactor) {
        self.reread.set(redactor);
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Origin, Span, SpanKind};
    use crate::redact::Redactor;
    use crate::store::test_spans::stored;

    const GH: &str = "ghp_R8x2Kq9ZtW4mN7vB3cY6pL1dF5hJ0sGaE2uQ";

    #[test]
    fn a_token_written_into_the_db_by_hand_is_redacted_on_every_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut span = Span::new("s1", "r1", SpanKind::Tool, "Bash", Origin::new("f", 1));
        span.text = Some("nothing here".into());
        let store = stored(&dir.path().join("s.db"), vec![span]);
        store
            .conn()
            .execute_batch(&format!(
                "UPDATE spans SET text = 'token {GH}', attributes = '{{\"k\":\"{GH}\"}}'; \
                 UPDATE runs SET title = 'use {GH}';"
            ))
            .expect("plant");
        let shown = format!(
            "{:?} {:?} {:?}",
            store.spans("r1", 0, 10).expect("spans"),
            store.run("r1").expect("run"),
            store.span("r1", "s1").expect("span"),
        );
        assert!(!shown.contains(&GH[4..]), "{shown}");
        assert!(shown.contains("[REDACTED:"), "{shown}");
        // The control: what the db holds is the token itself.
        let held: String = store
            .conn()
            .query_row("SELECT text FROM spans", [], |r| r.get(0))
            .expect("held");
        assert!(held.contains(GH));
    }

    #[test]
    fn the_config_s_redactor_replaces_the_built_in_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut span = Span::new("s1", "r1", SpanKind::Tool, "Bash", Origin::new("f", 1));
        span.text = Some("nothing here".into());
        let store = stored(&dir.path().join("s.db"), vec![span]);
        store
            .conn()
            .execute_batch(&format!("UPDATE spans SET text = 'token {GH}'"))
            .expect("plant");
        store.redact_reads_with(Redactor::new(crate::redact::Mode::Hash));
        let text = store.spans("r1", 0, 1).expect("spans")[0]
            .span
            .text
            .clone()
            .unwrap_or_default();
        assert!(
            text.contains("[HASH:") && !text.contains(&GH[4..]),
            "{text}"
        );
    }
}
