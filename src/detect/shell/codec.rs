//! The codecs the evaluator runs on literal text: base64, base32, hex (plain
//! and `xxd` dumps), reversal and bounded inflation, both ways.

use super::eval::Budget;
use base64::Engine;
use std::io::Read;

/// Decodes base64 (standard or URL-safe, padded or not), base32 or hex,
/// ignoring whitespace as the tools do.
pub fn decode_kind(kind: &str, data: &[u8]) -> Option<Vec<u8>> {
    let clean: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    match kind {
        "base64" | "base64url" => decode_base64(&clean),
        "base32" => decode_base32(&clean),
        "base16" => hex::decode(&clean).ok(),
        _ => None,
    }
}

/// Base64 in either alphabet, with or without padding.
pub fn decode_base64(clean: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    let cfg = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let std = GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let url = GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg);
    std.decode(clean).or_else(|_| url.decode(clean)).ok()
}

pub(super) fn decode_base32(clean: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(clean.len() * 5 / 8);
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &c in clean {
        if c == b'=' {
            break;
        }
        let v = match c.to_ascii_uppercase() {
            b'A'..=b'Z' => c.to_ascii_uppercase() - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

pub(super) fn encode_kind(kind: &str, data: &[u8]) -> Option<Vec<u8>> {
    match kind {
        "base64" => {
            let mut s = base64::engine::general_purpose::STANDARD.encode(data);
            s.push('\n');
            Some(s.into_bytes())
        }
        "base16" => Some(hex::encode_upper(data).into_bytes()),
        _ => None,
    }
}

pub(super) fn hex_plain(data: &[u8]) -> Option<Vec<u8>> {
    let clean: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| b.is_ascii_hexdigit())
        .collect();
    let even = &clean[..clean.len() - clean.len() % 2];
    hex::decode(even).ok()
}

/// `xxd -r` of a hexdump (`00000000: 6375 726c  curl`): the hex between the
/// offset and the text column.
pub(super) fn hex_dump_reverse(data: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(data).ok()?;
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((_, rest)) = line.split_once(':') else {
            continue;
        };
        let hexpart = rest
            .split("  ")
            .find(|p| !p.trim().is_empty())
            .unwrap_or("");
        out.extend(hex_plain(hexpart.as_bytes())?);
    }
    Some(out)
}

pub(super) fn rev(data: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(data);
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.extend(line.chars().rev());
    }
    out.into_bytes()
}

pub(super) fn inflate(data: &[u8], budget: &Budget) -> Option<Vec<u8>> {
    inflate_first(data, budget.bytes as u64 + 1, false)
}

/// `data` inflated as gzip, else as zlib, else (with `raw_deflate`) as a raw
/// deflate stream, at most `cap` bytes of it: the first that reads without
/// error and gives bytes (the last one tried may give none).
pub fn inflate_first(data: &[u8], cap: u64, raw_deflate: bool) -> Option<Vec<u8>> {
    let read = |r: &mut dyn Read, out: &mut Vec<u8>| {
        out.clear();
        r.take(cap).read_to_end(out).is_ok()
    };
    let mut out = Vec::new();
    if read(&mut flate2::read::GzDecoder::new(data), &mut out) && !out.is_empty() {
        return Some(out);
    }
    let zlib = read(&mut flate2::read::ZlibDecoder::new(data), &mut out);
    if !raw_deflate || (zlib && !out.is_empty()) {
        return zlib.then_some(out);
    }
    read(&mut flate2::read::DeflateDecoder::new(data), &mut out).then_some(out)
}
