//! What an OpenCode database deleted, found by comparing the ids it holds now
//! with the spans the store read from it: the records that mark those spans
//! (and their sessions) deleted upstream, kept rather than removed
//! ([`super::formats::opencode_db::deleted`]). Used by `import` and `tail`.

use super::formats::opencode_db::{self, StoredRow, DELETED_UPSTREAM};
use super::formats::Record;
use crate::model::SpanKind;
use crate::store::Store;
use std::path::Path;

/// The marking records for the database at `path` (named `display` in the
/// store), read through `store`. Err: the database cannot be read (why).
pub fn opencode_deletions(
    store: &Store,
    path: &Path,
    display: &str,
) -> Result<Vec<Record>, String> {
    let stored = store
        .spans_of_source(display, DELETED_UPSTREAM)
        .map_err(|e| e.to_string())?;
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    let now = opencode_db::present(path)?;
    let stored: Vec<StoredRow> = stored
        .into_iter()
        .map(|(run_id, id, kind, marked)| StoredRow {
            run_id,
            id,
            kind: SpanKind::parse(&kind),
            marked,
        })
        .collect();
    Ok(opencode_db::deleted(&stored, &now, display))
}
