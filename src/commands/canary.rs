//! `skilltrace canary init DIR`: writes decoy credentials and remembers their keyed hashes.
//!
//! The decoy files go into DIR (meant to be an agent's sandbox HOME); the store
//! keeps only HMAC-SHA256 hashes of their tokens in `<db>.canaries` (`0600`),
//! keyed by `<db>.key`. The tokens themselves are never stored by skilltrace.

use crate::cli::CanaryCommand;
use crate::detect::tokens::{self, CanaryRecord};
use anyhow::{Context, Result};

pub fn run(cmd: CanaryCommand) -> Result<i32> {
    match cmd {
        CanaryCommand::Init { dir, db } => {
            let db = super::db_path(&db)?;
            if let Some(parent) = db.parent() {
                crate::paths::ensure_private_dir(parent)?;
            }
            let key = tokens::load_or_create_key(&db)?;
            let mut store = tokens::read_canary_file(&db)?;
            let decoys = tokens::generate(&mut rand::thread_rng());
            crate::paths::ensure_private_dir(&dir)?;
            for d in &decoys {
                let path = dir.join(d.path);
                if path.exists() {
                    anyhow::bail!(
                        "{}: already exists; canary init never overwrites files (use an empty folder)",
                        path.display()
                    );
                }
            }
            for d in &decoys {
                let path = dir.join(d.path);
                if let Some(p) = path.parent() {
                    crate::paths::ensure_private_dir(p)?;
                }
                crate::paths::write_private(&path, d.content.as_bytes())?;
                for (label, tok) in &d.tokens {
                    store.tokens.push(CanaryRecord {
                        file: d.path.to_string(),
                        label: (*label).to_string(),
                        len: tok.len(),
                        hmac: tokens::keyed_hash_hex(&key, tok),
                    });
                }
            }
            let abs = dir.canonicalize().unwrap_or(dir.clone());
            store.folders.push(abs.display().to_string());
            let text = format!(
                "# skilltrace canary tokens: keyed hashes only (HMAC-SHA256 with {}.key)\n{}",
                // A comment TOML must read back: no control character, no token.
                crate::notice::safe_path(&db),
                toml::to_string(&store).context("cannot encode canary file")?
            );
            let path = tokens::beside(&db, "canaries");
            crate::paths::write_private(&path, text.as_bytes())?;
            println!(
                "wrote {} decoy files with {} canary tokens into {}",
                decoys.len(),
                decoys.iter().map(|d| d.tokens.len()).sum::<usize>(),
                crate::notice::safe_path(&abs)
            );
            println!(
                "their keyed hashes are in {}",
                crate::notice::safe_path(&path)
            );
            println!(
                "run an agent with HOME={} and any sight of a token is EXF-TRACE-004",
                crate::notice::safe_path(&abs)
            );
            Ok(0)
        }
    }
}
