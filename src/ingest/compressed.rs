//! Compressed trace files: Codex moves old rollouts to `archived_sessions/`
//! and may compress them as `rollout-*.jsonl.zst`. Such a file is decoded as
//! a stream by a pure-Rust zstd decoder, bounded against compression bombs:
//! past [`MAX_DECODED`] bytes, or past [`MAX_RATIO`] decoded bytes per
//! compressed byte once [`RATIO_FLOOR`] bytes are out, reading stops with one
//! error. Its plain `.jsonl` twin, when present, is the one read (as Codex
//! itself prefers it).

use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The suffix of a compressed trace file (after its own `.jsonl`).
const SUFFIX: &str = ".zst";
/// Most bytes one compressed file may decode to: 2 GiB.
pub const MAX_DECODED: u64 = 2 << 30;
/// Most decoded bytes per compressed byte (JSON Lines rarely pass 30; a very
/// repetitive log may reach a few hundred; a bomb of one byte reaches 30,000).
pub const MAX_RATIO: u64 = 1000;
/// The ratio is judged once this much is decoded (small files compress oddly).
pub const RATIO_FLOOR: u64 = 32 << 20;
/// Largest zstd window accepted (the decoder holds one window in memory).
const MAX_WINDOW: u64 = 32 << 20;

/// True for `name.jsonl.zst` (and `.ndjson.zst`): a compressed trace file.
pub fn is_compressed(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(SUFFIX))
        .is_some_and(|n| n.ends_with(".jsonl") || n.ends_with(".ndjson"))
}

/// The plain file a compressed one decodes to (`a.jsonl` for `a.jsonl.zst`).
pub fn plain_twin(p: &Path) -> Option<PathBuf> {
    let name = p.file_name()?.to_str()?.strip_suffix(SUFFIX)?;
    Some(p.with_file_name(name))
}

/// A compressed file whose plain twin exists is not read (the twin is).
pub fn has_plain_twin(p: &Path) -> bool {
    is_compressed(p) && plain_twin(p).is_some_and(|t| t.is_file())
}

/// Counts the compressed bytes the decoder consumed.
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// The decoded bytes of a compressed file, within the bounds above.
pub struct Decoded<R: Read> {
    decoder: ruzstd::decoding::StreamingDecoder<Counted<R>, ruzstd::decoding::FrameDecoder>,
    out: u64,
    max: u64,
    floor: u64,
}

impl<R: Read> Decoded<R> {
    /// How many compressed bytes were consumed so far.
    fn packed(&self) -> u64 {
        self.decoder.get_ref().read
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.decoder.read(buf).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("corrupt zstd data ({e})"),
            )
        })?;
        self.out += n as u64;
        if self.out > self.max {
            return Err(bomb(format!("decompresses past {} MiB", self.max >> 20)));
        }
        if self.out > self.floor && self.out / self.packed().max(1) > MAX_RATIO {
            return Err(bomb(format!(
                "decompresses more than {MAX_RATIO} times its size"
            )));
        }
        Ok(n)
    }
}

fn bomb(why: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{why}: refused as a compression bomb"),
    )
}

/// Starts decoding `input` (a zstd stream), with at most `max` bytes out.
pub fn decode<R: Read>(input: R, max: u64) -> io::Result<Decoded<R>> {
    decode_judged(input, max, RATIO_FLOOR)
}

/// [`decode`], judging the ratio once `floor` bytes are out.
fn decode_judged<R: Read>(input: R, max: u64, floor: u64) -> io::Result<Decoded<R>> {
    let decoder = ruzstd::decoding::StreamingDecoder::new_with_max_window_size(
        Counted {
            inner: input,
            read: 0,
        },
        MAX_WINDOW,
    )
    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not zstd data ({e})")))?;
    Ok(Decoded {
        decoder,
        out: 0,
        max,
        floor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zst(b: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(b, ruzstd::encoding::CompressionLevel::Fastest)
    }

    #[test]
    fn names_and_twins() {
        assert!(is_compressed(Path::new("/a/rollout-x.jsonl.zst")));
        assert!(!is_compressed(Path::new("/a/rollout-x.zst")));
        assert!(!is_compressed(Path::new("/a/rollout-x.jsonl")));
        assert_eq!(
            plain_twin(Path::new("/a/r.jsonl.zst")),
            Some(PathBuf::from("/a/r.jsonl"))
        );
        let t = tempfile::tempdir().expect("tmp");
        let z = t.path().join("r.jsonl.zst");
        assert!(!has_plain_twin(&z));
        std::fs::write(t.path().join("r.jsonl"), "").expect("write");
        assert!(has_plain_twin(&z));
    }

    #[test]
    fn decodes_what_was_compressed() {
        let text = b"{\"a\":1}\n{\"b\":2}\n".repeat(1000);
        let mut out = Vec::new();
        decode(&zst(&text)[..], MAX_DECODED)
            .expect("zstd")
            .read_to_end(&mut out)
            .expect("read");
        assert_eq!(out, text);
    }

    #[test]
    fn a_bomb_stops_at_a_bound_with_one_line() {
        let zeros = vec![b'\n'; 8 << 20];
        let packed = zst(&zeros);
        // The size bound.
        let err = decode(&packed[..], 1 << 20)
            .expect("zstd")
            .read_to_end(&mut Vec::new())
            .expect_err("bounded");
        assert_eq!(
            err.to_string(),
            "decompresses past 1 MiB: refused as a compression bomb"
        );
        // The ratio bound.
        let err = decode_judged(&packed[..], MAX_DECODED, 1 << 20)
            .expect("zstd")
            .read_to_end(&mut Vec::new())
            .expect_err("bounded");
        assert_eq!(
            err.to_string(),
            "decompresses more than 1000 times its size: refused as a compression bomb"
        );
        // Garbage is an error, not a panic.
        let err = decode(&b"not zstd at all"[..], MAX_DECODED)
            .and_then(|mut d| d.read_to_end(&mut Vec::new()));
        assert!(err.is_err());
        assert!(!err.expect_err("bad").to_string().contains('\n'));
    }
}
