//! Runs SQL on a database with the SQLite the store is built with (bundled, FTS5
//! with `contentless_delete`), for the floors `scripts/bench_import.py` times
//! the import against: `cargo run --release --example sqlite_floor -- DB SQL`.
//! Prints the seconds the SQL took (wall time).

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(sql)) = (args.next(), args.next()) else {
        eprintln!("error: usage: sqlite_floor DB SQL");
        std::process::exit(2);
    };
    let conn = match rusqlite::Connection::open(&db) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {db}: {e}");
            std::process::exit(2);
        }
    };
    let t = Instant::now();
    if let Err(e) = conn.execute_batch(&sql) {
        eprintln!("error: {db}: {e}");
        std::process::exit(2);
    }
    println!("{:.3}", t.elapsed().as_secs_f64());
}
