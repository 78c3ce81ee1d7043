//! Secrets leaving in disguise (EXF-TRACE-004): every secret redaction saw in
//! a run is remembered only as keyed hashes of its pieces, in every encoding
//! ([`forms`]), and found again in the arguments of the run's later outbound
//! calls — whole or as any piece of 12+ characters, and piece by piece across
//! calls.
//!
//! Memory: per window a 64-bit tag (HMAC-SHA256 under a key derived from the
//! store key, truncated) and a 32-bit keyed polynomial fingerprint, which sets
//! two bits of a prefilter bitmap (64 bits per window); never the secret. Cost:
//! remembering a secret of n bytes hashes about 8n windows (a 40-character
//! key: ~330 HMACs, tens of µs); at most [`MAX_WINDOWS`] windows per run and
//! [`MAX_TOTAL`] across runs (the oldest runs are forgotten first). Looking
//! through a text of m bytes rolls one polynomial hash per window length in
//! use (at most four) and tests two bits per position; only bitmap hits (true
//! pieces, and about 1 in 1,000 of the rest) pay for an HMAC, at most
//! [`MAX_CHECKS`] of them per text. Text past [`MAX_TEXT`] is not searched.

pub mod forms;
mod keys;
mod mac;
pub mod out;
mod tagged;
mod window_tags;

pub use keys::Keys;
use keys::{fold, mulmod, reduce};
mod wire;

pub use out::SecretOut;
pub use tagged::TagMemo;
use tagged::Tagged;
pub use window_tags::WindowTags;

use crate::hash::HashMap;
use crate::lazyre::{Flags, LazyRegex, LazyRegexSet};
use forms::{Form, MIN_SECRET};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::DetectError;

/// Windows remembered per run.
pub const MAX_WINDOWS: usize = 32 * 1024;
/// Windows remembered across all runs.
pub const MAX_TOTAL: usize = 256 * 1024;
/// Longest secret remembered (a PEM key is a few KiB).
const MAX_SECRET: usize = 8 * 1024;
/// Secrets remembered per run.
const MAX_SECRETS: usize = 4096;
/// Bytes of an outbound argument searched.
pub const MAX_TEXT: usize = 4 << 20;
/// Window matches looked at per text.
const MAX_MATCHES: usize = 4096;
/// HMACs computed per text (prefilter hits).
pub const MAX_CHECKS: usize = 64 * 1024;
/// Outbound calls named per secret (the first ones): a run that sends the same
/// secret in every call would otherwise list all earlier calls in each
/// finding, memory and stored links growing with the square of the run.
const MAX_CALLS: usize = 32;
/// Prefilter bits per window (two of them set by each), and the bitmap's
/// smallest and largest size.
const BITS_PER_WINDOW: usize = 64;
const MIN_BITS: usize = 1 << 12;
const MAX_BITS: usize = 1 << 23;
/// Mersenne prime for the rolling hash.
const P: u64 = (1 << 61) - 1;

/// Rule data (`assets/detect/disguise.toml`).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    // Built-in only and compiled on first use (checked by the tests): most
    // spans hold no secret to look for in pieces.
    structure: Vec<LazyRegex>,
    egress: LazyRegexSet,
    credential_use: LazyRegexSet,
    tail_half: Vec<String>,
    home_hosts: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    structure: Vec<String>,
    egress_commands: Vec<String>,
    credential_use: Vec<String>,
    tail_half: Vec<String>,
    home_hosts: BTreeMap<String, Vec<String>>,
}

impl Rules {
    /// The built-in data.
    pub fn load() -> Result<Rules, DetectError> {
        let f: RulesFile =
            crate::assets::parse("detect/disguise.toml").map_err(DetectError::Data)?;
        let plain = Flags::default();
        Ok(Rules {
            structure: f
                .structure
                .iter()
                .map(|p| LazyRegex::new(p.as_str(), plain))
                .collect(),
            egress: LazyRegexSet::new(f.egress_commands, plain),
            credential_use: LazyRegexSet::new(
                f.credential_use,
                Flags {
                    case_insensitive: true,
                },
            ),
            tail_half: f.tail_half,
            home_hosts: f.home_hosts.into_iter().collect(),
        })
    }

    /// Compiles now what is otherwise compiled on first use.
    pub fn warm(&self) {
        self.structure.iter().for_each(|r| {
            r.get();
        });
        self.egress.get();
        self.credential_use.get();
    }

    /// Which bytes of `value` (a secret found by `rule`) may be matched as pieces.
    fn eligible(&self, rule: &str, value: &str) -> Vec<bool> {
        let mut el = vec![true; value.len()];
        for re in self.structure.iter().filter_map(LazyRegex::get) {
            for m in re.find_iter(value) {
                el[m.range()].iter_mut().for_each(|e| *e = false);
            }
        }
        let r = rule.to_ascii_lowercase();
        if self.tail_half.iter().any(|t| r.contains(t.as_str())) {
            let half = value.len() / 2;
            el[..half].iter_mut().for_each(|e| *e = false);
        }
        el
    }

    /// True when the shell command line `command` carries its arguments off
    /// the machine without naming a host (`gh gist create`, `git push`, …).
    pub fn sends(&self, command: &str) -> bool {
        self.egress.is_match(command)
    }

    /// True when the secret starting at byte `at` of `text` is used as a
    /// credential there (an auth header, `curl -u`, a URL's userinfo).
    pub fn as_credential(&self, text: &str, at: usize) -> bool {
        let mut from = at.saturating_sub(80);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        let before = text.get(from..at).unwrap_or_default();
        // a piece may start after the secret's vendor prefix (`sk-proj-`)
        let prefix = before
            .bytes()
            .rev()
            .take(17)
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            .count();
        let trimmed = &before[..before.len() - prefix.min(16)];
        self.credential_use.is_match(before) || self.credential_use.is_match(trimmed)
    }

    /// True when `host` is the home service of secrets found by `rule`.
    pub fn is_home(&self, rule: &str, host: &str) -> bool {
        let r = rule.to_ascii_lowercase();
        let h = host.trim_end_matches('.').to_ascii_lowercase();
        self.home_hosts
            .iter()
            .filter(|(k, _)| r.contains(k.as_str()))
            .flat_map(|(_, v)| v)
            .any(|d| h == *d || h.ends_with(&format!(".{d}")))
    }
}

/// The two prefilter bits of fingerprint `f` in a bitmap of `bits` bits (a
/// power of two): its low bits, and the high bits of it multiplied by an odd
/// constant, so a window that is not remembered passes only when both are set.
fn slots(f: u32, bits: usize) -> (usize, usize) {
    let mixed = (f as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    (f as usize & (bits - 1), mixed as usize & (bits - 1))
}

/// Where a remembered window points: a secret and the bytes of it it covers.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy)]
struct WinRef {
    secret: u16,
    start: u16,
    len: u8,
    form: u8,
}

/// One remembered secret (never its value).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Secret {
    rule: String,
    seen: String,
    eligible: Vec<bool>,
    /// Bytes already sent out by earlier calls of the run.
    sent: Vec<bool>,
    /// Outbound calls that carried a piece of it (the first [`MAX_CALLS`]).
    calls: Vec<String>,
}

impl Secret {
    fn count(v: &[bool]) -> usize {
        v.iter().filter(|b| **b).count()
    }

    /// True when `covered` holds (about) every byte that could be matched.
    fn whole(&self, covered: &[bool]) -> bool {
        let want = Secret::count(&self.eligible);
        let have = covered
            .iter()
            .zip(&self.eligible)
            .filter(|(c, e)| **c && **e)
            .count();
        want > 0 && want - have <= 2.max(want / 8)
    }
}

/// A secret found in a text: what it sends (`out.seen` is the span the secret
/// was first seen in; `out.as_credential` is set for a plain one), and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub out: SecretOut,
    /// Byte ranges of the text to redact (the pieces as they appear).
    pub ranges: Vec<(usize, usize)>,
}

/// The secrets of one run. Serialised (keyed hashes and fingerprints only,
/// see [`wire`]) so the guard's command hook, a process per event, keeps it
/// between events.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
#[serde(into = "wire::Wire", from = "wire::Wire")]
pub struct RunSecrets {
    secrets: Vec<Secret>,
    /// Keyed hash of each whole value → secret index.
    whole: HashMap<[u8; 32], usize>,
    /// Fingerprints of the windows, and the bitmap they set.
    fingerprints: Vec<u32>,
    bitmap: Vec<u64>,
    windows: HashMap<u64, WinRef>,
    /// Window lengths in use, and whether matched case-blind.
    lens: Vec<(usize, bool)>,
}

impl RunSecrets {
    /// Windows remembered.
    pub fn windows(&self) -> usize {
        self.windows.len()
    }

    /// Forgets the pieces (keeps knowing the whole values).
    pub fn forget_pieces(&mut self) {
        self.fingerprints = Vec::new();
        self.bitmap = Vec::new();
        self.windows = HashMap::default();
        self.lens.clear();
    }

    /// The span a secret with this whole-value hash was first seen in, and its rule.
    pub fn seen(&self, h: &[u8; 32]) -> Option<(&str, &str)> {
        self.whole
            .get(h)
            .and_then(|&i| self.secrets.get(i))
            .map(|s| (s.seen.as_str(), s.rule.as_str()))
    }

    /// Remembers a secret `value` found by `rule` in span `span` (no-op when
    /// already known, too short, or over the bounds). `whole_hash` is its
    /// keyed hash. Returns the number of windows added.
    pub fn remember(
        &mut self,
        keys: &Keys,
        rules: &Rules,
        rule: &str,
        value: &str,
        whole_hash: [u8; 32],
        span: &str,
    ) -> usize {
        if !self.would_remember(value, &whole_hash) {
            return 0;
        }
        let t = Tagged::new(keys, rules, rule, value);
        self.remember_tagged(&t, rule, whole_hash, span)
    }

    /// [`RunSecrets::remember`] with the secret's windows from `memo` (cut
    /// and tagged once per detector, not once per run).
    #[allow(clippy::too_many_arguments)]
    pub fn remember_memo(
        &mut self,
        memo: &mut TagMemo,
        keys: &Keys,
        rules: &Rules,
        rule: &str,
        value: &str,
        whole_hash: [u8; 32],
        span: &str,
    ) -> usize {
        if !self.would_remember(value, &whole_hash) {
            return 0;
        }
        let t = memo.get(keys, rules, rule, value, &whole_hash);
        self.remember_tagged(&t, rule, whole_hash, span)
    }

    /// False when `value` is too short, already known, or one secret too many.
    fn would_remember(&self, value: &str, whole_hash: &[u8; 32]) -> bool {
        value.len() >= MIN_SECRET
            && !self.whole.contains_key(whole_hash)
            && self.secrets.len() < MAX_SECRETS
    }

    /// Adds a secret cut into windows (`t`): the windows no earlier secret of
    /// the run has, in order, up to the run's bound.
    fn remember_tagged(
        &mut self,
        t: &Tagged,
        rule: &str,
        whole_hash: [u8; 32],
        span: &str,
    ) -> usize {
        let idx = self.secrets.len();
        self.whole.insert(whole_hash, idx);
        self.secrets.push(Secret {
            rule: rule.to_string(),
            seen: span.to_string(),
            sent: vec![false; t.len],
            calls: Vec::new(),
            eligible: t.eligible.clone(),
        });
        let before = self.windows.len();
        let room = MAX_WINDOWS.saturating_sub(before);
        if room == 0 {
            return 0;
        }
        let mut added = 0;
        for w in &t.wins {
            if added >= room {
                break;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = self.windows.entry(w.tag) {
                e.insert(WinRef {
                    secret: idx as u16,
                    start: w.start,
                    len: w.len,
                    form: w.form,
                });
                self.fingerprints.push(w.poly);
                let l = (w.width as usize, w.blind);
                if !self.lens.contains(&l) {
                    self.lens.push(l);
                }
                added += 1;
            }
        }
        self.update_bitmap(self.fingerprints.len() - added);
        added
    }

    /// Sizes the bitmap to the windows and sets the bits of the fingerprints
    /// from `from` on (all of them when it grew).
    fn update_bitmap(&mut self, from: usize) {
        let bits = (self.fingerprints.len() * BITS_PER_WINDOW)
            .next_power_of_two()
            .clamp(MIN_BITS, MAX_BITS);
        let from = if self.bitmap.len() * 64 == bits {
            from
        } else {
            self.bitmap = vec![0u64; bits / 64];
            0
        };
        for f in &self.fingerprints[from.min(self.fingerprints.len())..] {
            let (i, j) = slots(*f, bits);
            self.bitmap[i / 64] |= 1 << (i % 64);
            self.bitmap[j / 64] |= 1 << (j % 64);
        }
    }

    /// False when no remembered window has the fingerprint of rolling hash `h`.
    fn maybe(&self, h: u64) -> bool {
        let bits = self.bitmap.len() * 64;
        if bits == 0 {
            return false;
        }
        let (i, j) = slots(h as u32, bits);
        self.bitmap[i / 64] & (1 << (i % 64)) != 0 && self.bitmap[j / 64] & (1 << (j % 64)) != 0
    }

    /// Every remembered secret (or piece of one) in `text`, an outbound
    /// argument of span `span`; records what left for later calls.
    pub fn find(&mut self, keys: &Keys, text: &str, span: &str) -> Vec<Sighting> {
        self.find_memo(keys, &mut WindowTags::default(), text, span)
    }

    /// [`RunSecrets::find`], with the tags of windows tagged before taken
    /// from `memo` instead of computed again.
    pub fn find_memo(
        &mut self,
        keys: &Keys,
        memo: &mut WindowTags,
        text: &str,
        span: &str,
    ) -> Vec<Sighting> {
        if self.windows.is_empty() {
            return Vec::new();
        }
        let t = &text.as_bytes()[..text.len().min(MAX_TEXT)];
        let mut found: Vec<(usize, usize, WinRef)> = Vec::new();
        let mut checks = 0usize;
        for &(w, blind) in &self.lens {
            if t.len() < w || found.len() >= MAX_MATCHES {
                continue;
            }
            let top = keys.pow(w - 1);
            let mut h = keys.poly(&t[..w], blind);
            for i in 0..=t.len() - w {
                if i > 0 {
                    // the same arithmetic as `Keys::poly`, reduced without dividing
                    let out = mulmod(fold(t[i - 1], blind) as u64 + 1, top);
                    h = reduce(h + P - out);
                    h = reduce(mulmod(h, keys.base) + fold(t[i + w - 1], blind) as u64 + 1);
                }
                if self.maybe(h) {
                    checks += 1;
                    if checks > MAX_CHECKS {
                        break;
                    }
                    if let Some(r) = self.windows.get(&memo.tag(keys, &t[i..i + w], blind)) {
                        found.push((i, i + w, *r));
                        if found.len() >= MAX_MATCHES {
                            break;
                        }
                    }
                }
            }
        }
        self.sightings(found, span)
    }

    fn sightings(&mut self, found: Vec<(usize, usize, WinRef)>, span: &str) -> Vec<Sighting> {
        let mut by_secret: BTreeMap<u16, Vec<(usize, usize, WinRef)>> = BTreeMap::new();
        for f in found {
            by_secret.entry(f.2.secret).or_default().push(f);
        }
        let mut out = Vec::new();
        for (idx, hits) in by_secret {
            let Some(s) = self.secrets.get_mut(idx as usize) else {
                continue;
            };
            let mut covered = vec![false; s.sent.len()];
            let mut forms: Vec<&'static str> = Vec::new();
            let mut ranges: Vec<(usize, usize)> = Vec::new();
            for (a, b, r) in &hits {
                let (st, len) = (r.start as usize, r.len as usize);
                if let Some(c) = covered.get_mut(st..st + len) {
                    c.iter_mut().for_each(|x| *x = true);
                }
                let name = Form::ALL.get(r.form as usize).map_or("plain", |f| f.name());
                if !forms.contains(&name) {
                    forms.push(name);
                }
                match ranges.last_mut() {
                    Some(last) if *a <= last.1 => last.1 = last.1.max(*b),
                    _ => ranges.push((*a, *b)),
                }
            }
            ranges.sort_unstable();
            let whole = s.whole(&covered);
            let earlier_calls: Vec<String> =
                s.calls.iter().filter(|c| *c != span).cloned().collect();
            for (x, c) in s.sent.iter_mut().zip(&covered) {
                *x |= *c;
            }
            let whole_with_earlier = s.whole(&s.sent);
            if s.calls.len() < MAX_CALLS && !s.calls.iter().any(|c| c == span) {
                s.calls.push(span.to_string());
            }
            out.push(Sighting {
                out: SecretOut {
                    rule: s.rule.clone(),
                    seen: Some(s.seen.clone()),
                    as_credential: forms == ["plain"],
                    forms,
                    bytes: Secret::count(&covered),
                    len: covered.len(),
                    whole,
                    whole_with_earlier,
                    earlier_calls,
                },
                ranges: merge(ranges),
            });
        }
        out
    }
}

fn merge(mut r: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    r.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (a, b) in r {
        match out.last_mut() {
            Some(l) if a <= l.1 => l.1 = l.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

#[cfg(test)]
mod tests;
