//! The triggers and views a store may hold: only those skilltrace's own
//! migrations make, to the letter of their SQL. A store crafted or edited by
//! another tool with one planted in it (a trigger that deletes each finding
//! as it is written, or copies rows elsewhere) is refused before anything runs
//! against it. Cost: one query of `sqlite_schema` per open; the migrations'
//! statements are read out of their text once per process.

use rusqlite::Connection;
use std::collections::HashSet;
use std::sync::OnceLock;

/// The SQL text of every `CREATE TRIGGER` and `CREATE VIEW` in the
/// migrations, as SQLite keeps it in `sqlite_schema` (without the final `;`).
fn ours() -> &'static HashSet<&'static str> {
    static OURS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    OURS.get_or_init(|| {
        let mut set = HashSet::new();
        for migration in super::schema::MIGRATIONS {
            let mut rest: &'static str = migration;
            while let Some(at) = ["CREATE TRIGGER ", "CREATE VIEW "]
                .iter()
                .filter_map(|k| rest.find(k))
                .min()
            {
                let stmt = &rest[at..];
                let end = if stmt.starts_with("CREATE TRIGGER ") {
                    stmt.find("\nEND;").map(|e| e + 4)
                } else {
                    stmt.find(';')
                };
                let Some(end) = end else { break };
                set.insert(&stmt[..end]);
                rest = &stmt[end..];
            }
        }
        set
    })
}

/// The first trigger or view in `conn` that skilltrace's migrations never
/// made, as "trigger `name`", or `None` when there is none.
pub fn foreign_object(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let ours = ours();
    let mut st = conn.prepare_cached(
        "SELECT type, name, coalesce(sql, '') FROM sqlite_schema WHERE type IN ('trigger', 'view')",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let sql: String = r.get(2)?;
        if !ours.contains(sql.as_str()) {
            let (kind, name): (String, String) = (r.get(0)?, r.get(1)?);
            return Ok(Some(format!("{kind} `{name}`")));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Connection {
        let mut c = Connection::open_in_memory().expect("db");
        super::super::schema::migrate(&mut c).expect("migrate");
        c
    }

    #[test]
    fn a_store_as_skilltrace_makes_it_has_none() {
        assert!(!ours().is_empty(), "the migrations make triggers");
        assert_eq!(foreign_object(&store()).expect("q"), None);
    }

    #[test]
    fn a_planted_trigger_or_view_or_an_edited_one_is_found() {
        let c = store();
        c.execute_batch(
            "CREATE TRIGGER hide AFTER INSERT ON findings BEGIN DELETE FROM findings WHERE rowid = new.rowid; END;",
        )
        .expect("plant");
        assert_eq!(
            foreign_object(&c).expect("q"),
            Some("trigger `hide`".into())
        );
        let c = store();
        c.execute_batch("CREATE VIEW v AS SELECT 1;")
            .expect("plant");
        assert_eq!(foreign_object(&c).expect("q"), Some("view `v`".into()));
        // One of skilltrace's own names with another body.
        let c = store();
        let (name,): (String,) = c
            .query_row(
                "SELECT name FROM sqlite_schema WHERE type = 'trigger' LIMIT 1",
                [],
                |r| Ok((r.get(0)?,)),
            )
            .expect("a trigger");
        c.execute_batch(&format!(
            "DROP TRIGGER {name}; CREATE TRIGGER {name} AFTER INSERT ON runs BEGIN DELETE FROM findings; END;"
        ))
        .expect("edit");
        assert_eq!(
            foreign_object(&c).expect("q"),
            Some(format!("trigger `{name}`"))
        );
    }
}
