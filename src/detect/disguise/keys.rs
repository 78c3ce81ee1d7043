//! The keys every disguise hash is made with, derived from the store key: the
//! keyed tag of a window (HMAC-SHA256 from kept pad states) and the keyed
//! polynomial hash the rolling search computes, with its modular arithmetic.

use super::{mac, P};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The keys every hash is made with, derived from the store key.
#[derive(Clone)]
pub struct Keys {
    pub(super) base: u64,
    mac: Hmac<Sha256>,
    /// The same key's pad states, for windows (see [`mac`]).
    short: mac::ShortMac,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// `c`, lower-cased when matching case-blind.
pub(super) fn fold(c: u8, blind: bool) -> u8 {
    if blind {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

/// `x mod P` for `x < 2P` (what every step of the rolling hash yields).
pub(super) fn reduce(x: u64) -> u64 {
    if x >= P {
        x - P
    } else {
        x
    }
}

pub(super) fn mulmod(a: u64, b: u64) -> u64 {
    let r = (a as u128) * (b as u128);
    let s = ((r as u64) & P) + ((r >> 61) as u64);
    if s >= P {
        s - P
    } else {
        s
    }
}

impl Keys {
    pub fn new(store_key: &[u8; 32]) -> Keys {
        let mut d = [0u8; 32];
        if let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(store_key) {
            m.update(b"skilltrace/detect/disguise/v1");
            d.copy_from_slice(&m.finalize().into_bytes());
        }
        let mut b8 = [0u8; 8];
        b8.copy_from_slice(&d[..8]);
        let base = u64::from_le_bytes(b8) % (P - 4) + 2;
        let mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&d[8..]).expect("HMAC takes keys of any length");
        let short = mac::ShortMac::new(&d[8..]).expect("a 24-byte key fits a block");
        Keys { base, mac, short }
    }

    /// 64-bit keyed tag of a window; a case-blind one is tagged in lower case,
    /// apart from the others (after a `0x01` byte). Windows fit one block:
    /// their HMAC starts from the key's kept pad states.
    pub(super) fn tag(&self, w: &[u8], blind: bool) -> u64 {
        let short = if blind {
            let mut low = [0u8; mac::MAX_SHORT];
            low.get_mut(..w.len()).and_then(|l| {
                l.copy_from_slice(w);
                l.make_ascii_lowercase();
                self.short.mac(b"\x01", l)
            })
        } else {
            self.short.mac(b"", w)
        };
        let out: [u8; 32] = match short {
            Some(o) => o,
            None => {
                let mut m = self.mac.clone();
                if blind {
                    m.update(b"\x01");
                    m.update(&w.to_ascii_lowercase());
                } else {
                    m.update(w);
                }
                m.finalize().into_bytes().into()
            }
        };
        let mut b8 = [0u8; 8];
        b8.copy_from_slice(&out[..8]);
        u64::from_le_bytes(b8)
    }

    /// Keyed polynomial hash of a window (what the rolling hash computes).
    pub(super) fn poly(&self, w: &[u8], blind: bool) -> u64 {
        w.iter().fold(0u64, |h, &c| {
            (mulmod(h, self.base) + fold(c, blind) as u64 + 1) % P
        })
    }

    pub(super) fn pow(&self, mut e: usize) -> u64 {
        let (mut r, mut b) = (1u64, self.base);
        while e > 0 {
            if e & 1 == 1 {
                r = mulmod(r, b);
            }
            b = mulmod(b, b);
            e >>= 1;
        }
        r
    }
}
