//! What detection loads beside a store before it starts: the store key (for
//! keyed hashes of canaries and secrets) and the canary tokens.

use super::tokens::CanaryRecord;
use super::{tokens, DetectError};

/// What the caller loads for detection: the store key and the canary hashes.
#[derive(Debug, Clone, Default)]
pub struct DetectContext {
    /// 32-byte store key (`<db>.key`); used for keyed hashes of canaries and secrets.
    pub key: Option<[u8; 32]>,
    /// Canary records from `<db>.canaries`.
    pub canaries: Vec<CanaryRecord>,
}

impl DetectContext {
    /// Reads (or creates) `<db>.key` and reads `<db>.canaries` beside the store.
    pub fn load_for_db(db: &std::path::Path) -> Result<DetectContext, DetectError> {
        let key = tokens::load_or_create_key(db)?;
        let file = tokens::read_canary_file(db)?;
        Ok(DetectContext {
            key: Some(key),
            canaries: file.tokens,
        })
    }

    /// The key and canaries of an existing store, read only: `None` when it has
    /// no canary file (nothing to look for), an error when the canaries are
    /// there but their key is not (they could never match).
    pub fn load_existing(db: &std::path::Path) -> Result<Option<DetectContext>, DetectError> {
        let file = tokens::read_canary_file(db)?;
        if file.tokens.is_empty() {
            return Ok(None);
        }
        let key_path = tokens::beside(db, "key");
        let key = tokens::read_key(&key_path)?.ok_or_else(|| {
            DetectError::Io(format!(
                "{}: missing; the canary tokens beside it cannot be checked",
                key_path.display()
            ))
        })?;
        Ok(Some(DetectContext {
            key: Some(key),
            canaries: file.tokens,
        }))
    }
}
