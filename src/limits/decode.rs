//! Content decoding under a cap: `gzip`, `deflate` (zlib-wrapped or raw), `br`
//! and `zstd` bodies are inflated 64 KiB at a time, each step held against the
//! caller's [`Held`], so a bomb is stopped at the cap rather than after it has
//! inflated. Past the cap, decoding may go on (output thrown away) for a
//! bounded number of bytes, to say how large the body was.

use super::{mib, Held};
use std::borrow::Cow;
use std::io::Read;

/// Largest zstd window accepted: the limit RFC 9659 sets for the `zstd`
/// content coding (a frame asking for more is corrupt here).
const ZSTD_MAX_WINDOW: u64 = 8 << 20;
/// Bytes decoded per step.
const STEP: usize = 64 << 10;

/// A content coding this module undoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

impl Coding {
    /// From a `Content-Encoding` value (case and spaces ignored); `None` for a coding not decoded here.
    pub fn from_header(value: &str) -> Option<Coding> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Some(Coding::Identity),
            "gzip" | "x-gzip" => Some(Coding::Gzip),
            "deflate" => Some(Coding::Deflate),
            "br" => Some(Coding::Brotli),
            "zstd" => Some(Coding::Zstd),
            _ => None,
        }
    }
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("corrupt compressed body")]
    Corrupt,
    /// Decoding passed `cap`; `counted` bytes were seen before decoding stopped
    /// (`more`: it stopped at the count limit, not at the end).
    #[error("decodes past {} ({}{counted} bytes)", mib(*cap), if *more { "at least " } else { "" })]
    TooLarge {
        cap: usize,
        counted: u64,
        more: bool,
    },
    #[error("the in-flight memory budget is full")]
    Budget,
}

/// Decodes `input` into at most `cap` bytes, growing `held` by what it keeps.
/// Past the cap, up to `count_past` more bytes are decoded (and dropped) to
/// measure the body; pass 0 to stop at once. Identity bodies are borrowed.
pub fn decode<'a>(
    coding: Coding,
    input: &'a [u8],
    cap: usize,
    count_past: u64,
    held: &mut Held,
) -> Result<Cow<'a, [u8]>, DecodeError> {
    let limit = Limit {
        cap,
        count_past,
        start: held.bytes(),
    };
    let out = match coding {
        Coding::Identity => {
            if input.len() > cap {
                return Err(DecodeError::TooLarge {
                    cap,
                    counted: input.len() as u64,
                    more: false,
                });
            }
            return Ok(Cow::Borrowed(input));
        }
        Coding::Gzip => inflate(flate2::read::GzDecoder::new(input), limit, held),
        Coding::Deflate => {
            // RFC 9110 deflate is zlib-wrapped; some servers send it raw.
            match inflate(flate2::read::ZlibDecoder::new(input), limit, held) {
                Err(DecodeError::Corrupt) => {
                    held.shrink(held.bytes() - limit.start);
                    inflate(flate2::read::DeflateDecoder::new(input), limit, held)
                }
                other => other,
            }
        }
        Coding::Brotli => inflate(
            brotli_decompressor::Decompressor::new(input, STEP),
            limit,
            held,
        ),
        Coding::Zstd => {
            match ruzstd::decoding::StreamingDecoder::new_with_max_window_size(
                input,
                ZSTD_MAX_WINDOW,
            ) {
                Ok(d) => inflate(d, limit, held),
                Err(_) => Err(DecodeError::Corrupt),
            }
        }
    };
    if out.is_err() {
        // Nothing decoded is kept, so nothing stays held for it.
        held.shrink(held.bytes() - limit.start);
    }
    out.map(Cow::Owned)
}

#[derive(Debug, Clone, Copy)]
struct Limit {
    cap: usize,
    count_past: u64,
    /// What `held` held before decoding started.
    start: usize,
}

fn inflate(mut r: impl Read, limit: Limit, held: &mut Held) -> Result<Vec<u8>, DecodeError> {
    let mut out: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; STEP];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(DecodeError::Corrupt),
        };
        let len = out.len() + n;
        if len > limit.cap {
            drop(out);
            return Err(count_rest(r, &mut buf, len as u64, limit));
        }
        if len > out.capacity() {
            // Grow by doubling, never past the cap, and hold what is allocated.
            let want = len.max(out.capacity() * 2).min(limit.cap);
            if !held.resize(limit.start + want) {
                return Err(DecodeError::Budget);
            }
            out.reserve_exact(want - out.len());
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Decodes on past the cap, keeping nothing, to say how large the body was.
fn count_rest(mut r: impl Read, buf: &mut [u8], mut counted: u64, limit: Limit) -> DecodeError {
    let stop = (limit.cap as u64).saturating_add(limit.count_past);
    let mut more = true;
    while counted < stop {
        match r.read(buf) {
            Ok(0) | Err(_) => {
                more = false;
                break;
            }
            Ok(n) => counted += n as u64,
        }
    }
    DecodeError::TooLarge {
        cap: limit.cap,
        counted,
        more,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Budget;
    use std::io::Write;

    fn gzip(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    fn zlib(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    fn raw_deflate(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    fn brotli(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(b).unwrap();
        }
        out
    }

    fn zstd(b: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(b, ruzstd::encoding::CompressionLevel::Fastest)
    }

    #[test]
    fn every_coding_round_trips_under_the_cap() {
        let body = br#"{"choices":[{"message":{"content":"hi"}}]}"#.repeat(100);
        for (coding, packed) in [
            (Coding::Gzip, gzip(&body)),
            (Coding::Deflate, zlib(&body)),
            (Coding::Deflate, raw_deflate(&body)),
            (Coding::Brotli, brotli(&body)),
            (Coding::Zstd, zstd(&body)),
            (Coding::Identity, body.clone()),
        ] {
            let mut held = Held::default();
            let got = decode(coding, &packed, 1 << 20, 0, &mut held).unwrap();
            assert_eq!(&got[..], &body[..], "{coding:?}");
        }
    }

    #[test]
    fn a_bomb_stops_at_the_cap_and_is_measured() {
        let body = vec![b'0'; 8 << 20];
        for (coding, packed) in [
            (Coding::Gzip, gzip(&body)),
            (Coding::Brotli, brotli(&body)),
            (Coding::Zstd, zstd(&body)),
        ] {
            assert!(packed.len() < 64 << 10, "{coding:?} is a bomb");
            let budget = Budget::new(64 << 20);
            let mut held = budget.hold();
            let e = decode(coding, &packed, 1 << 20, u64::MAX, &mut held).unwrap_err();
            assert_eq!(
                e,
                DecodeError::TooLarge {
                    cap: 1 << 20,
                    counted: 8 << 20,
                    more: false
                },
                "{coding:?}"
            );
            assert_eq!(budget.used(), 0, "nothing stays held");
            assert!(budget.peak() <= 1 << 20, "{coding:?}: {}", budget.peak());
            // Counting can be bounded too.
            let e = decode(coding, &packed, 1 << 20, 1 << 20, &mut held).unwrap_err();
            assert!(
                matches!(e, DecodeError::TooLarge { more: true, counted, .. } if (2 << 20..3 << 20).contains(&counted)),
                "{e:?}"
            );
        }
        let e = decode(Coding::Identity, &body, 10, 0, &mut Held::default()).unwrap_err();
        assert!(e.to_string().starts_with("decodes past 0.0 MiB"), "{e}");
    }

    #[test]
    fn decoding_holds_what_it_keeps_and_stops_when_the_budget_is_full() {
        let body = vec![b'x'; 4 << 20];
        let packed = gzip(&body);
        let budget = Budget::new(1 << 20);
        let mut held = budget.hold();
        assert_eq!(
            decode(Coding::Gzip, &packed, 8 << 20, 0, &mut held),
            Err(DecodeError::Budget)
        );
        assert_eq!(budget.used(), 0);
        let budget = Budget::new(8 << 20);
        let mut held = budget.hold();
        let got = decode(Coding::Gzip, &packed, 8 << 20, 0, &mut held).unwrap();
        assert_eq!(got.len(), 4 << 20);
        assert!(held.bytes() >= 4 << 20 && held.bytes() <= 8 << 20);
    }

    #[test]
    fn corrupt_and_unknown_codings() {
        for coding in [Coding::Gzip, Coding::Deflate, Coding::Brotli, Coding::Zstd] {
            let e = decode(
                coding,
                b"\x28\xb5\x2f\xfd not really",
                1 << 20,
                0,
                &mut Held::default(),
            );
            assert_eq!(e, Err(DecodeError::Corrupt), "{coding:?}");
        }
        assert_eq!(Coding::from_header(" GZIP "), Some(Coding::Gzip));
        assert_eq!(Coding::from_header(""), Some(Coding::Identity));
        assert_eq!(Coding::from_header("compress"), None);
    }
}
