//! HMAC-SHA256 of a short message (one that fits one SHA-256 block with its
//! padding) from the key's inner and outer states, computed once per key: the
//! same bytes [`hmac::Hmac`] gives, for the two compressions the message
//! needs and nothing else (no hasher state copied, buffered and padded per
//! call). A window's tag ([`super::Keys`]) is one of these; there are
//! thousands per outbound call that carries a remembered secret.

use sha2::digest::generic_array::GenericArray;

/// Longest message hashed in one block: 64 bytes less the `0x80` byte and
/// the 8-byte length that close it.
pub const MAX_SHORT: usize = 55;

/// SHA-256's initial state.
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The states after a key's inner (`0x36`) and outer (`0x5c`) pads.
#[derive(Clone)]
pub struct ShortMac {
    inner: [u32; 8],
    outer: [u32; 8],
}

fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
}

/// The state as the digest's bytes (big-endian words).
fn digest(state: [u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (c, w) in out.chunks_exact_mut(4).zip(state) {
        c.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// The last block of a message of `total` bytes whose last bytes, not yet
/// compressed, are `head` then `rest`.
fn last_block(head: &[u8], rest: &[u8], total: usize) -> [u8; 64] {
    let n = head.len() + rest.len();
    let mut b = [0u8; 64];
    b[..head.len()].copy_from_slice(head);
    b[head.len()..n].copy_from_slice(rest);
    b[n] = 0x80;
    b[56..].copy_from_slice(&((total as u64) * 8).to_be_bytes());
    b
}

impl ShortMac {
    /// The states for `key`; `None` for a key longer than a block (HMAC
    /// hashes those first, which no caller needs).
    pub fn new(key: &[u8]) -> Option<ShortMac> {
        if key.len() > 64 {
            return None;
        }
        let pad = |x: u8| {
            let mut b = [x; 64];
            for (d, k) in b.iter_mut().zip(key) {
                *d ^= k;
            }
            let mut s = IV;
            compress(&mut s, &b);
            s
        };
        Some(ShortMac {
            inner: pad(0x36),
            outer: pad(0x5c),
        })
    }

    /// HMAC-SHA256 of `head` followed by `rest`; `None` when the two are
    /// longer than [`MAX_SHORT`] together.
    pub fn mac(&self, head: &[u8], rest: &[u8]) -> Option<[u8; 32]> {
        let n = head.len() + rest.len();
        if n > MAX_SHORT {
            return None;
        }
        let mut s = self.inner;
        compress(&mut s, &last_block(head, rest, 64 + n));
        let mut t = self.outer;
        compress(&mut t, &last_block(&digest(s), &[], 64 + 32));
        Some(digest(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    fn reference(key: &[u8], head: &[u8], rest: &[u8]) -> [u8; 32] {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        m.update(head);
        m.update(rest);
        m.finalize().into_bytes().into()
    }

    #[test]
    fn gives_the_hmac_of_every_short_message() {
        let msg: Vec<u8> = (0..80u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
        for key in [&[][..], &[7u8; 24], &[0xffu8; 32], &[1u8; 64]] {
            let m = ShortMac::new(key).expect("short key");
            for n in 0..=MAX_SHORT {
                assert_eq!(m.mac(b"", &msg[..n]), Some(reference(key, b"", &msg[..n])));
                if n > 0 {
                    let (h, r) = msg[..n].split_at(1);
                    assert_eq!(m.mac(h, r), Some(reference(key, h, r)), "{n}");
                }
            }
            assert_eq!(m.mac(b"\x01", &msg[..MAX_SHORT]), None);
            assert_eq!(m.mac(b"", &msg[..MAX_SHORT + 1]), None);
        }
        assert!(ShortMac::new(&[0u8; 65]).is_none());
    }
}
