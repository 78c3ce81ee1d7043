//! The per-store hash key for `hash` mode: 32 random bytes kept beside the store
//! (`<db>.key`, `0600`), so equal secrets get equal markers within a store while
//! no one without the key can test guesses against a marker.

use anyhow::{Context, Result};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

/// A 32-byte HMAC-SHA256 key. Its `Debug` output never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct HashKey([u8; 32]);

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(..)")
    }
}

impl HashKey {
    /// A fresh random key (for a process without a store).
    pub fn random() -> HashKey {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        HashKey(k)
    }

    /// A key from known bytes (tests).
    pub fn from_bytes(bytes: [u8; 32]) -> HashKey {
        HashKey(bytes)
    }

    /// Reads the key at `path`, or creates it (32 random bytes, `0600`) when absent.
    /// A key file of the wrong size is an error, never silently replaced.
    pub fn load_or_create(path: &Path) -> Result<HashKey> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let k: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    anyhow::anyhow!(
                        "{}: redaction key must be 32 bytes, found {}",
                        path.display(),
                        bytes.len()
                    )
                })?;
                crate::paths::set_mode(path, 0o600)?;
                Ok(HashKey(k))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let k = HashKey::random();
                if let Some(dir) = path.parent() {
                    crate::paths::ensure_private_dir(dir)?;
                }
                crate::paths::write_private(path, &k.0)?;
                Ok(k)
            }
            Err(e) => {
                Err(e).with_context(|| format!("{}: cannot read redaction key", path.display()))
            }
        }
    }

    /// First 4 bytes of HMAC-SHA256(key, value), as 8 lower-case hex digits.
    pub fn tag(&self, value: &[u8]) -> String {
        // new_from_slice only fails for invalid key lengths; HMAC accepts any length.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return "00000000".into();
        };
        mac.update(value);
        hex::encode(&mac.finalize().into_bytes()[..4])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_private_and_stable() {
        let t = tempfile::tempdir().expect("tempdir");
        let p = t.path().join("store.db.key");
        let a = HashKey::load_or_create(&p).expect("create");
        let b = HashKey::load_or_create(&p).expect("load");
        assert_eq!(a, b);
        assert_eq!(std::fs::read(&p).expect("read").len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(format!("{a:?}"), "HashKey(..)");
        std::fs::write(&p, b"short").expect("write");
        let e = HashKey::load_or_create(&p).expect_err("bad size");
        assert!(e.to_string().contains("32 bytes"), "{e}");
    }

    #[test]
    fn tags_are_keyed() {
        let a = HashKey::from_bytes([1; 32]);
        let b = HashKey::from_bytes([2; 32]);
        assert_eq!(a.tag(b"hunter2").len(), 8);
        assert_eq!(a.tag(b"hunter2"), a.tag(b"hunter2"));
        assert_ne!(a.tag(b"hunter2"), b.tag(b"hunter2"));
        assert_ne!(a.tag(b"hunter2"), a.tag(b"hunter3"));
    }
}
