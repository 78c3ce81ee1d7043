//! Keyed tags of text windows already computed by
//! [`RunSecrets::find_memo`](super::RunSecrets::find_memo): a window of an
//! outbound argument that passes the prefilter is nearly always a true piece
//! of a remembered secret, and agents send the same secret again and again
//! (the same header in every `curl`, in every session), so each piece would
//! otherwise pay for an HMAC at every sighting. The tag depends only on the
//! window's bytes, whether it is matched case-blind and the store key, so a
//! remembered tag is the one computing it again gives.
//!
//! Unlike [`TagMemo`](super::TagMemo) and the runs' memory, this holds the
//! windows themselves (pieces of secrets, as the call memo holds whole tool
//! inputs): per detector, in memory only, never serialised, stored or logged.
//! Bounded: windows wider than [`WIDTH`] are not kept, and the memory starts
//! again past [`CAP`] windows.

use super::Keys;
use crate::hash::HashMap;

/// Widest window kept (a 12-byte piece fully `%XX`-encoded).
const WIDTH: usize = 36;
/// Windows kept (about 60 bytes each with the table's overhead).
const CAP: usize = 8 * 1024;

/// A window's bytes and how it is matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Window {
    blind: bool,
    len: u8,
    bytes: [u8; WIDTH],
}

/// Tags of windows already computed.
#[derive(Debug, Default)]
pub struct WindowTags {
    seen: HashMap<Window, u64>,
}

impl WindowTags {
    /// `keys.tag(w, blind)`, from memory when this window was tagged before.
    pub(super) fn tag(&mut self, keys: &Keys, w: &[u8], blind: bool) -> u64 {
        if w.len() > WIDTH {
            return keys.tag(w, blind);
        }
        let mut bytes = [0u8; WIDTH];
        bytes[..w.len()].copy_from_slice(w);
        let win = Window {
            blind,
            len: w.len() as u8,
            bytes,
        };
        if let Some(t) = self.seen.get(&win) {
            return *t;
        }
        let t = keys.tag(w, blind);
        if self.seen.len() >= CAP {
            self.seen.clear();
        }
        self.seen.insert(win, t);
        t
    }

    /// Windows held now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_tag_is_the_tag_computed_again() {
        let keys = Keys::new(&[9u8; 32]);
        let mut memo = WindowTags::default();
        let wins: [&[u8]; 5] = [
            b"wJalrXUtnFEM",
            b"WJALRXUTNFEM",
            b"77614a616c72585574",
            &[b'%'; WIDTH],
            &[b'x'; WIDTH + 4],
        ];
        for round in 0..2 {
            for w in wins {
                for blind in [false, true] {
                    assert_eq!(
                        memo.tag(&keys, w, blind),
                        keys.tag(w, blind),
                        "round {round}, {w:?}, blind {blind}"
                    );
                }
            }
        }
        // a window and its upper-case spelling are kept apart, blind or not;
        // the one wider than WIDTH is not kept
        assert_eq!(memo.len(), 8);
        // a shorter window is not its zero-padded longer form
        assert_ne!(
            memo.tag(&keys, b"ab", false),
            memo.tag(&keys, b"ab\0", false)
        );
    }

    #[test]
    fn the_memory_is_bounded() {
        let keys = Keys::new(&[9u8; 32]);
        let mut memo = WindowTags::default();
        for i in 0..CAP + 10 {
            let w = format!("{i:012}");
            assert_eq!(
                memo.tag(&keys, w.as_bytes(), false),
                keys.tag(w.as_bytes(), false)
            );
            assert!(memo.len() <= CAP);
        }
    }
}
