//! Ids that carry a secret: an id (run, span, parent, tool call, skill) that
//! any redaction rule matches is stored as a keyed stand-in instead.
//!
//! Ids come from trace input an agent or an attacker writes (a session id, a
//! tool-call id, a file name used as a run id), and the store finds rows by
//! them, so they cannot be masked like text: `[REDACTED:x]` for two different
//! ids would merge two runs. The stand-in is `redacted-<rule>-<16 hex>`, the
//! hex an HMAC-SHA256 of the raw id under the store's key: the same id gets the
//! same stand-in in every process writing that store (parent links, pairing and
//! re-import dedup hold), no one without the key can test a guess against it,
//! and it matches no rule itself, so a stand-in is kept as it is. An id no rule
//! matches (nearly all of them) is kept as it is.
//!
//! The verdict uses the rules alone, never the run's memory of secrets seen:
//! an id is judged the same wherever and whenever it comes, so a redactor
//! keeps the verdicts it gave ([`IdMemo`]): a session id, a parent span or a
//! tool-call id named again is not judged again.

use super::json::Ctx;
use super::memory::Memory;
use super::{Mode, Redactor};

/// What every stand-in starts with.
pub const STAND_IN_PREFIX: &str = "redacted-";

/// Verdicts kept at once; all are forgotten when one more would not fit.
const MEMO_MAX: usize = 4096;
/// Longer ids are judged every time (ids are short; a long one is odd input).
const MEMO_ID_MAX: usize = 256;

/// The ids a redactor judged and their stand-ins (`None`: kept as it is), in
/// memory only. Exact: the verdict depends on the id, the rules and the key
/// alone, and the rules never change; a new key forgets them all.
#[derive(Debug, Default)]
pub(super) struct IdMemo {
    verdicts: crate::hash::HashMap<Box<str>, Option<Box<str>>>,
}

impl Redactor {
    /// The id to store in place of `id`: `None` when no rule matches it (keep
    /// it), else its keyed stand-in. Redaction switched off keeps every id.
    pub fn stand_in_id(&self, id: &str) -> Option<String> {
        if !self.enabled || id.is_empty() {
            return None;
        }
        // One prefilter scan serves the judgement and the glued keywords.
        let scan = self.engine.scan(id);
        // Ids glue their parts with word characters (`call_<secret>`,
        // `toolu_<secret>`), where a rule's word boundary sees no start:
        // a keyword glued on is judged again as the start of the rest.
        let b = id.as_bytes();
        let glued: Vec<usize> = scan
            .hits
            .iter()
            .map(|&(_, start, _)| start)
            .filter(|&s| s > 0 && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_'))
            .collect();
        let rule = self.judge_scanned(id, scan).or_else(|| {
            glued
                .into_iter()
                .find_map(|s| id.get(s..).and_then(|rest| self.judge(rest)))
        })?;
        Some(format!(
            "{STAND_IN_PREFIX}{rule}-{}",
            self.key.id_tag(id.as_bytes())
        ))
    }

    /// [`Redactor::stand_in_id`] through the memo of ids judged before.
    pub fn stand_in_id_remembered(&mut self, id: &str) -> Option<String> {
        if !self.enabled || id.is_empty() {
            return None;
        }
        if let Some(v) = self.ids.verdicts.get(id) {
            return v.as_deref().map(String::from);
        }
        let v = self.stand_in_id(id);
        if id.len() <= MEMO_ID_MAX {
            if self.ids.verdicts.len() >= MEMO_MAX {
                self.ids.verdicts.clear();
            }
            self.ids
                .verdicts
                .insert(id.into(), v.as_deref().map(Box::from));
        }
        v
    }

    /// [`Redactor::stand_in_id_remembered`] applied in place.
    pub fn stand_in_remembered_in_place(&mut self, id: &mut String) {
        if let Some(s) = self.stand_in_id_remembered(id) {
            *id = s;
        }
    }

    /// The first rule that matches `text` (the rules alone, no memory), if any.
    fn judge(&self, text: &str) -> Option<&str> {
        self.judge_scanned(text, self.engine.scan(text))
    }

    /// [`Redactor::judge`] given the prefilter's scan of `text`.
    fn judge_scanned(&self, text: &str, scan: super::engine::Scan) -> Option<&str> {
        if scan.is_clean() && super::quiet::plain(text) {
            // no rule can match and no decoder has anything to read (see
            // `quiet`); the memory is left out: nothing else could redact it
            return None;
        }
        self.judge_fully(text, scan)
    }

    /// [`Redactor::judge_scanned`] without the short cut for plain ids: the
    /// rules and every decoder.
    fn judge_fully(&self, text: &str, scan: super::engine::Scan) -> Option<&str> {
        let mut memory = Memory::default();
        let mut ctx = Ctx {
            engine: &self.engine,
            memory: &mut memory,
            mode: Mode::Mask,
            key: &self.key,
            run_id: "",
            skip_memory: true,
            quiet: None,
        };
        let (out, found) = ctx.settled_scanned(text, scan);
        if out.is_none() && found.is_empty() {
            return None;
        }
        Some(
            found
                .first()
                .map(|f| self.engine.labels[f.label].name.as_str())
                .unwrap_or("secret"),
        )
    }

    /// [`Redactor::stand_in_id`] applied in place.
    pub fn stand_in_in_place(&self, id: &mut String) {
        if let Some(s) = self.stand_in_id(id) {
            *id = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::HashKey;
    use super::*;

    const BODY: &str = "R8x2Kq9ZmP4vT7wYbN3cL6hJ1sD5fG0aQ2eU8iO4yX9tW3rV7nM1kB6zC0pA5sE2dF4gH8jK";

    /// Real-shaped secrets, assembled at run time (no secret-shaped literal).
    fn secrets() -> Vec<String> {
        vec![
            format!("sk-ant-api03-{BODY}-AbCdEfAA"),
            format!("sk-proj-{}", &BODY[..60]),
            format!("ghp_{}", &BODY[..36]),
            format!("AKIA{}", "Q3EGRJ5T7WXYZ2AB"),
            format!("eyJ{}.eyJ{}.{}", &BODY[..30], &BODY[2..62], &BODY[5..48]),
            format!("https://admin:{}@db.internal.example.com/x", &BODY[..14]),
        ]
    }

    fn red() -> Redactor {
        Redactor::new(Mode::Mask).with_key(HashKey::from_bytes([7; 32]))
    }

    #[test]
    fn an_id_holding_a_secret_gets_a_stable_keyed_stand_in() {
        let r = red();
        let secrets = secrets();
        for s in &secrets {
            for id in [
                s.to_string(),
                format!("session-{s}"),
                format!("{s}:3"),
                format!("call_{s}"),
                format!("toolu_x{s}"),
            ] {
                let a = r.stand_in_id(&id).unwrap_or_else(|| panic!("kept {id}"));
                assert!(a.starts_with(STAND_IN_PREFIX), "{a}");
                assert!(!a.contains(&s[..12]), "{a}");
                assert_eq!(r.stand_in_id(&id), Some(a.clone()), "stable");
                assert_eq!(r.fork().stand_in_id(&id), Some(a.clone()), "per key");
                assert_eq!(r.stand_in_id(&a), None, "a stand-in matches no rule");
                let other = Redactor::new(Mode::Mask).with_key(HashKey::from_bytes([8; 32]));
                assert_ne!(other.stand_in_id(&id), Some(a), "keyed");
            }
        }
        let a = r.stand_in_id(&secrets[2]);
        let b = r.stand_in_id(&secrets[2].replace('R', "Q"));
        assert_ne!(a, b, "two secrets, two stand-ins");
    }

    #[test]
    fn ordinary_ids_are_kept_and_hash_mode_changes_nothing() {
        let r = red();
        let mut h = Redactor::new(Mode::Hash).with_key(HashKey::from_bytes([7; 32]));
        for id in [
            "0b7e4f3c-2a1d-4c8e-9f6b-5d3a2e1c0b9a",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "00f067aa0ba902b7",
            "toolu_01A09q90qw90lq917835lq9",
            "call_abc123",
            "rollout-2025-01-05T12-34-56-0b7e4f3c",
            "codex:0b7e4f3c-2a1d-4c8e-9f6b-5d3a2e1c0b9a:12",
            "unregistered/pdf-tools",
            "proxy-s-0123456789abcdef0123",
        ] {
            assert_eq!(r.stand_in_id(id), None, "{id}");
        }
        // the verdict never depends on the mode or on secrets seen in a run
        h.remember_secret("run", "0b7e4f3c", "github_token");
        assert_eq!(h.stand_in_id("0b7e4f3c"), None);
        let gh = &secrets()[2];
        assert_eq!(h.stand_in_id(gh), r.stand_in_id(gh));
    }

    #[test]
    fn remembered_verdicts_are_the_verdicts() {
        let mut r = red();
        let fresh = red();
        let mut ids: Vec<String> = secrets()
            .iter()
            .flat_map(|s| [s.clone(), format!("call_{s}")])
            .collect();
        ids.extend(["0b7e4f3c-2a1d-4c8e-9f6b-5d3a2e1c0b9a", "toolu_01A09q9", ""].map(String::from));
        ids.push(format!("toolu_{}", "x".repeat(MEMO_ID_MAX)) + &secrets()[2]);
        for _ in 0..3 {
            for id in &ids {
                assert_eq!(r.stand_in_id_remembered(id), fresh.stand_in_id(id), "{id}");
            }
        }
        assert!(
            r.ids.verdicts.len() < ids.len(),
            "the empty and the long id are not kept"
        );
        // past the bound the memo starts again, and still answers right
        for i in 0..MEMO_MAX + 10 {
            let id = format!("span-{i}");
            assert_eq!(r.stand_in_id_remembered(&id), None);
        }
        assert!(r.ids.verdicts.len() <= MEMO_MAX);
        let gh = &secrets()[2];
        assert_eq!(r.stand_in_id_remembered(gh), fresh.stand_in_id(gh));
        // a new key forgets the stand-ins made under the old one
        let mut rekeyed = r.with_key(HashKey::from_bytes([9; 32]));
        let other = Redactor::new(Mode::Mask).with_key(HashKey::from_bytes([9; 32]));
        assert_eq!(rekeyed.stand_in_id_remembered(gh), other.stand_in_id(gh));
        assert_ne!(other.stand_in_id(gh), fresh.stand_in_id(gh));
        let mut id = gh.clone();
        rekeyed.stand_in_remembered_in_place(&mut id);
        assert_eq!(Some(id), other.stand_in_id(gh));
    }

    #[test]
    fn the_short_cut_for_plain_ids_gives_the_full_verdict() {
        let r = red();
        // the judgement without the short cut: the rules and the decoders
        let full = |id: &str| r.judge_fully(id, r.engine.scan(id)).is_some();
        let mut ids: Vec<String> = [
            "call_abc123",
            "toolu_01A09q90qw90lq917835lq9",
            "00f067aa0ba902b7",
            "span-12",
            "4111111111111111",
            "+1 415 555 0134",
            "me@example.com",
            "AKIAQ3EGRJ5T7WXYZ2AB",
            "password=hunter22",
            "sk-ant-api03-x",
            "192.168.1.20",
        ]
        .map(String::from)
        .to_vec();
        ids.extend(secrets().iter().map(|s| s[..s.len().min(31)].to_string()));
        let mut cut = 0;
        for id in &ids {
            let scan = r.engine.scan(id);
            cut += usize::from(scan.is_clean() && super::super::quiet::plain(id));
            assert_eq!(r.judge(id).is_some(), full(id), "{id}");
        }
        assert!(cut >= 3, "the short cut is taken for plain ids ({cut})");
    }

    #[test]
    fn redaction_switched_off_keeps_every_id() {
        let cfg = crate::config::Config::from_text(None, "[redaction]\nenabled = false\n".into())
            .unwrap();
        let r = Redactor::from_config(&cfg, HashKey::from_bytes([7; 32])).unwrap();
        assert_eq!(r.stand_in_id(&secrets()[2]), None);
        let mut id = secrets()[2].clone();
        red().stand_in_in_place(&mut id);
        assert!(id.starts_with(STAND_IN_PREFIX));
    }
}
