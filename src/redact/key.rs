//! The per-store hash key for `hash` mode: 32 random bytes kept beside the store
//! (`<db>.key`, `0600`), so equal secrets get equal markers within a store while
//! no one without the key can test guesses against a marker.

use anyhow::{Context, Result};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

/// A 32-byte HMAC-SHA256 key. Its `Debug` output never shows the bytes.
/// The HMAC state after the key's inner and outer pads ([`Hmac`] keeps both)
/// is made once, with the key: a tag costs the message's compressions only,
/// not the two of the key schedule again.
#[derive(Clone)]
pub struct HashKey {
    bytes: [u8; 32],
    mac: Hmac<Sha256>,
}

impl PartialEq for HashKey {
    fn eq(&self, other: &HashKey) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for HashKey {}

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
        HashKey::from_bytes(k)
    }

    /// A key from known bytes (tests, and the key file's).
    pub fn from_bytes(bytes: [u8; 32]) -> HashKey {
        let mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&bytes).expect("HMAC takes keys of any length");
        HashKey { bytes, mac }
    }

    /// The key's bytes (for detection's keyed hashes of canary tokens).
    pub fn bytes(&self) -> [u8; 32] {
        self.bytes
    }

    /// Reads the key at `path`, or creates it (32 random bytes, `0600`) when
    /// absent. Creation is race-free: the key is written to a temp file of its
    /// own and linked into place only if nothing is there yet, then read back,
    /// so writers started together all end up with the one key on disk.
    /// A key that is a link, not yours, open to others (see
    /// [`crate::store::trust`]) or of the wrong size is an error, never replaced.
    pub fn load_or_create(path: &Path) -> Result<HashKey> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::ensure_private_dir(dir)?;
        }
        crate::store::trust::check_folder(path.parent().unwrap_or(Path::new(".")))
            .map_err(anyhow::Error::msg)?;
        for _ in 0..3 {
            if let Some(k) = HashKey::read(path)? {
                return Ok(k);
            }
            let k = HashKey::random();
            if crate::paths::create_once(path, &k.bytes)? {
                return Ok(k);
            }
            // Another writer linked its key first: use that one.
        }
        anyhow::bail!(
            "{}: the redaction key keeps appearing and vanishing; is another program touching it?",
            path.display()
        )
    }

    /// Reads the key at `path` if it exists: 32 raw bytes or 64 hex characters,
    /// from a regular file you own that no one else can read or write.
    pub fn read(path: &Path) -> Result<Option<HashKey>> {
        use crate::store::trust;
        use std::io::Read;
        let mut file = match crate::paths::open_nofollow(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                // A link (refused by O_NOFOLLOW) or something else: say which.
                trust::check_owned(path, trust::Kind::File).map_err(anyhow::Error::msg)?;
                return Err(e)
                    .with_context(|| format!("{}: cannot read redaction key", path.display()));
            }
        };
        // Checked on the open file, so nothing can be swapped in between.
        let meta = file
            .metadata()
            .with_context(|| format!("{}: cannot read redaction key", path.display()))?;
        let facts = trust::facts_of_meta(&meta);
        if let Some(why) = trust::refusal(&facts, trust::Kind::File, trust::my_uid()) {
            anyhow::bail!("{}: {why}", path.display());
        }
        trust::check_key_mode(path, &facts).map_err(anyhow::Error::msg)?;
        let mut bytes = Vec::with_capacity(64);
        file.by_ref()
            .take(129)
            .read_to_end(&mut bytes)
            .with_context(|| format!("{}: cannot read redaction key", path.display()))?;
        let mut k = [0u8; 32];
        if bytes.len() == 32 {
            k.copy_from_slice(&bytes);
            return Ok(Some(HashKey::from_bytes(k)));
        }
        let text = String::from_utf8_lossy(&bytes);
        if text.trim().len() == 64 && hex::decode_to_slice(text.trim(), &mut k).is_ok() {
            return Ok(Some(HashKey::from_bytes(k)));
        }
        anyhow::bail!(
            "{}: redaction key must be 32 bytes, found {}",
            path.display(),
            bytes.len()
        )
    }

    /// First 4 bytes of HMAC-SHA256(key, value), as 8 lower-case hex digits.
    pub fn tag(&self, value: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(value);
        hex::encode(&mac.finalize().into_bytes()[..4])
    }

    /// First 8 bytes of HMAC-SHA256(key, "skilltrace id" 0 value), as 16
    /// lower-case hex digits: the tail of an id's stand-in (see `ids`), apart
    /// from the markers' tags and long enough that two ids of a store do not
    /// share one.
    pub fn id_tag(&self, value: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(b"skilltrace id\0");
        mac.update(value);
        hex::encode(&mac.finalize().into_bytes()[..8])
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
        std::fs::write(&p, hex::encode([9u8; 32])).expect("write");
        assert_eq!(HashKey::load_or_create(&p).expect("hex").bytes(), [9u8; 32]);
        std::fs::write(&p, b"short").expect("write");
        let e = HashKey::load_or_create(&p).expect_err("bad size");
        assert!(e.to_string().contains("32 bytes"), "{e}");
    }

    #[test]
    fn writers_started_together_share_one_key() {
        let t = tempfile::tempdir().expect("tempdir");
        let p = t.path().join("new/store.db.key");
        let keys: Vec<HashKey> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(|| HashKey::load_or_create(&p).expect("every writer starts")))
                .collect();
            hs.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        let on_disk = HashKey::read(&p).expect("read").expect("there");
        assert!(
            keys.iter().all(|k| *k == on_disk),
            "a writer kept a key that lost the race"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_that_is_a_link_or_open_to_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().expect("tempdir");
        let real = t.path().join("elsewhere");
        std::fs::write(&real, [3u8; 32]).expect("write");
        let p = t.path().join("store.db.key");
        std::os::unix::fs::symlink(&real, &p).expect("symlink");
        let e = HashKey::load_or_create(&p).expect_err("link");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        std::fs::remove_file(&p).expect("rm");
        std::fs::write(&p, [3u8; 32]).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = HashKey::load_or_create(&p).expect_err("planted");
        assert!(e.to_string().contains("open to others"), "{e}");
        assert_eq!(
            std::fs::read(&p).expect("kept"),
            [3u8; 32],
            "never replaced"
        );
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

    #[test]
    fn tags_from_the_kept_state_are_the_hmac_of_the_key() {
        // HMAC-SHA256 as Python's `hmac` computes it: stored markers and
        // stand-ins keep their bytes whatever state the key keeps.
        let k = HashKey::from_bytes([1; 32]);
        assert_eq!(k.tag(b"hunter2"), "f26b5407");
        assert_eq!(k.id_tag(b"call_x"), "161bf42d72ba44fc");
        for v in [&b""[..], b"x", &[0xa5; 200]] {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&[1; 32]).expect("key");
            m.update(v);
            let want = hex::encode(&m.finalize().into_bytes()[..4]);
            assert_eq!(k.tag(v), want);
            assert_eq!(k.clone().tag(v), want, "a clone keeps the state");
        }
        assert_eq!(HashKey::from_bytes([1; 32]), k);
        assert_ne!(HashKey::from_bytes([2; 32]), k);
    }
}
