//! Triage: a person's decisions on findings (a status, the reason for setting a
//! finding aside, who decided and when), their notes (each with author and
//! time), and putting decisions back exactly as they were (undo).
//!
//! Every write here is one transaction, so a decision on a group of findings
//! lands whole or not at all.

use super::rows::Note;
use super::{Store, StoreError};
use crate::model::TriageStatus;
use rusqlite::{params, OptionalExtension};

/// A finding's triage as stored: what a decision replaced, so undo can put it back.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageState {
    pub id: i64,
    pub status: TriageStatus,
    pub reason: Option<String>,
    pub by: Option<String>,
    pub at_ms: Option<i64>,
}

impl Store {
    /// Sets `status` on every finding in `ids` (one transaction), with `reason`
    /// (kept only for a set-aside status: false positive or suppressed), `by`
    /// (who decided) and `at_ms` (when). Returns each finding's state before,
    /// in `ids` order; ids that name no finding are left out.
    pub fn decide(
        &self,
        ids: &[i64],
        status: TriageStatus,
        reason: Option<&str>,
        by: Option<&str>,
        at_ms: i64,
    ) -> Result<Vec<TriageState>, StoreError> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).filter(|_| {
            matches!(
                status,
                TriageStatus::FalsePositive | TriageStatus::Suppressed
            )
        });
        // A person's decision: waited for while other writers hold the store.
        super::busy::retry(super::busy::DEFAULT_WAIT, || {
            self.decide_once(ids, status, reason, by, at_ms)
        })
    }

    fn decide_once(
        &self,
        ids: &[i64],
        status: TriageStatus,
        reason: Option<&str>,
        by: Option<&str>,
        at_ms: i64,
    ) -> Result<Vec<TriageState>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let mut before = Vec::with_capacity(ids.len());
        {
            let mut get = tx.prepare_cached(
                "SELECT status, reason, triaged_by, triaged_ms FROM findings WHERE id = ?1",
            )?;
            let mut set = tx.prepare_cached(
                "UPDATE findings SET status = ?2, reason = ?3, triaged_by = ?4, triaged_ms = ?5 WHERE id = ?1",
            )?;
            for &id in ids {
                let old = get
                    .query_row([id], |r| {
                        Ok(TriageState {
                            id,
                            status: r.get::<_, String>(0)?.parse().unwrap_or_default(),
                            reason: r.get(1)?,
                            by: r.get(2)?,
                            at_ms: r.get(3)?,
                        })
                    })
                    .optional()?;
                if let Some(old) = old {
                    set.execute(params![id, status.as_str(), reason, by, at_ms])?;
                    before.push(old);
                }
            }
        }
        tx.commit()?;
        Ok(before)
    }

    /// Puts findings' triage back as `states` say (undo), one transaction.
    pub fn restore_triage(&self, states: &[TriageState]) -> Result<(), StoreError> {
        super::busy::retry(super::busy::DEFAULT_WAIT, || self.restore_once(states))
    }

    fn restore_once(&self, states: &[TriageState]) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut set = tx.prepare_cached(
                "UPDATE findings SET status = ?2, reason = ?3, triaged_by = ?4, triaged_ms = ?5 WHERE id = ?1",
            )?;
            for s in states {
                set.execute(params![s.id, s.status.as_str(), s.reason, s.by, s.at_ms])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Adds `text` as a note by `author` at `at_ms` to every finding in `ids`
    /// (one transaction); returns the new notes' ids (for undo). Blank text adds nothing.
    pub fn add_note(
        &self,
        ids: &[i64],
        author: &str,
        at_ms: i64,
        text: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let text = text.trim_end();
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        super::busy::retry(super::busy::DEFAULT_WAIT, || {
            self.add_note_once(ids, author, at_ms, text)
        })
    }

    fn add_note_once(
        &self,
        ids: &[i64],
        author: &str,
        at_ms: i64,
        text: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let mut out = Vec::with_capacity(ids.len());
        {
            let mut add = tx.prepare_cached(
                "INSERT INTO finding_notes(finding_id, author, ts_ms, text) \
                 SELECT id, ?2, ?3, ?4 FROM findings WHERE id = ?1",
            )?;
            for &id in ids {
                if add.execute(params![id, author, at_ms, text])? == 1 {
                    out.push(tx.last_insert_rowid());
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Removes notes by id (undo of [`Store::add_note`]).
    pub fn remove_notes(&self, note_ids: &[i64]) -> Result<(), StoreError> {
        super::busy::retry(super::busy::DEFAULT_WAIT, || {
            self.remove_notes_once(note_ids)
        })
    }

    fn remove_notes_once(&self, note_ids: &[i64]) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut del = tx.prepare_cached("DELETE FROM finding_notes WHERE id = ?1")?;
            for id in note_ids {
                del.execute([id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A finding's notes, oldest first.
    pub fn notes(&self, finding_id: i64) -> Result<Vec<Note>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT author, ts_ms, text FROM finding_notes WHERE finding_id = ?1 ORDER BY ts_ms, id",
        )?;
        let rows = st
            .query_map([finding_id], |r| {
                Ok(Note {
                    author: self.reread.text("", &r.get::<_, String>(0)?),
                    ts_ms: r.get(1)?,
                    text: self.reread.text("", &r.get::<_, String>(2)?),
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FindingFilter;

    /// A store holding three findings (ids 1, 2, 3).
    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tmp");
        let s = Store::open(&dir.path().join("t.db")).expect("open");
        for i in 1..=3 {
            s.conn
                .execute(
                    "INSERT INTO findings(id, fingerprint, rule_id, severity, confidence, run_id, title, message, evidence, created_ms) \
                     VALUES(?1, ?2, 'EXF-TRACE-001', 3, 0.9, 'r', 't', 'm', 'e', 0)",
                    params![i, format!("fp{i}")],
                )
                .expect("insert");
        }
        // Inserted here, not by the write path: tallied as it would (schema 10).
        s.conn
            .execute("INSERT INTO finding_tally VALUES(3, 'open', 3)", [])
            .expect("tally");
        (dir, s)
    }

    fn row(s: &Store, id: i64) -> crate::store::FindingRow {
        s.finding(id).expect("q").expect("row")
    }

    #[test]
    fn a_decision_lands_on_every_finding_and_undo_puts_each_back() {
        let (_d, s) = store();
        s.decide(
            &[2],
            TriageStatus::Suppressed,
            Some("vendored"),
            Some("ann"),
            5,
        )
        .expect("first");
        let before = s
            .decide(
                &[1, 2, 99],
                TriageStatus::FalsePositive,
                Some(" test data "),
                Some("bo"),
                7,
            )
            .expect("decide");
        assert_eq!(before.len(), 2, "the unknown id is left out");
        assert_eq!(before[0].status, TriageStatus::Open);
        assert_eq!(before[1].status, TriageStatus::Suppressed);
        assert_eq!(before[1].reason.as_deref(), Some("vendored"));
        let r = row(&s, 1);
        assert_eq!(r.status, TriageStatus::FalsePositive);
        assert_eq!(r.reason.as_deref(), Some("test data"));
        assert_eq!(r.triaged_by.as_deref(), Some("bo"));
        assert_eq!(r.triaged_ms, Some(7));
        s.restore_triage(&before).expect("undo");
        let (a, b) = (row(&s, 1), row(&s, 2));
        assert_eq!(
            (a.status, a.reason, a.triaged_by),
            (TriageStatus::Open, None, None)
        );
        assert_eq!(b.status, TriageStatus::Suppressed);
        assert_eq!(b.reason.as_deref(), Some("vendored"));
        assert_eq!(b.triaged_by.as_deref(), Some("ann"));
    }

    #[test]
    fn only_a_set_aside_status_keeps_a_reason() {
        let (_d, s) = store();
        s.decide(&[3], TriageStatus::Confirmed, Some("ignored"), None, 1)
            .expect("confirm");
        assert_eq!(row(&s, 3).reason, None);
        s.decide(&[3], TriageStatus::Suppressed, Some("  "), None, 1)
            .expect("blank");
        assert_eq!(row(&s, 3).reason, None, "a blank reason is no reason");
        let open = FindingFilter {
            status: Some(TriageStatus::Open),
            ..Default::default()
        };
        assert_eq!(s.finding_count(&open).expect("count"), 2);
    }

    #[test]
    fn notes_keep_author_and_time_apart_from_the_reason_and_undo_removes_them() {
        let (_d, s) = store();
        s.decide(
            &[1],
            TriageStatus::Suppressed,
            Some("known"),
            Some("ann"),
            1,
        )
        .expect("suppress");
        let ids = s
            .add_note(&[1, 2], "bo", 42, "ticket SEC-12\nsecond line\n")
            .expect("note");
        assert_eq!(ids.len(), 2);
        assert!(s.add_note(&[1], "bo", 43, " \n").expect("blank").is_empty());
        let r = row(&s, 1);
        assert_eq!(r.reason.as_deref(), Some("known"));
        assert_eq!(r.notes.len(), 1);
        assert_eq!(r.notes[0].author, "bo");
        assert_eq!(r.notes[0].text, "ticket SEC-12\nsecond line");
        assert_eq!(r.notes[0].ts_ms, 42);
        s.add_note(&[1], "cy", 44, "later").expect("second");
        let texts: Vec<String> = s
            .notes(1)
            .expect("notes")
            .into_iter()
            .map(|n| n.text)
            .collect();
        assert_eq!(texts, ["ticket SEC-12\nsecond line", "later"]);
        s.remove_notes(&ids).expect("undo");
        assert_eq!(row(&s, 2).notes, vec![]);
        assert_eq!(row(&s, 1).notes.len(), 1);
    }
}
