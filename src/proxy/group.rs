//! Conversation grouping: which run an exchange belongs to.
//!
//! In order of strength: an explicit session id (a header, or one carried in
//! the body); the Responses `previous_response_id`; a tool call id the request
//! answers or repeats that an earlier response of a run produced; message-prefix
//! continuity (the request's messages extend an earlier request's messages,
//! compared as a chain of SHA-256 hashes over normalised messages). Otherwise
//! a new run. Memory is bounded: every index forgets its oldest entries.

use super::exchange::Message;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// One link of the prefix hash chain: `h[i]` covers messages `0..=i`.
pub type PrefixHash = [u8; 32];

/// Chain hashes over normalised messages: role, text, tool-call ids and names,
/// tool results. Formatting that clients change between turns (`cache_control`
/// markers, string vs text-block content, `content: null` vs absent, argument
/// whitespace) does not enter the hash.
pub fn prefix_hashes(messages: &[Message]) -> Vec<PrefixHash> {
    let mut out = Vec::with_capacity(messages.len());
    let mut prev = [0u8; 32];
    for m in messages {
        let mut h = Sha256::new();
        h.update(prev);
        field(&mut h, m.role.as_bytes());
        field(&mut h, m.text.as_bytes());
        for c in &m.tool_calls {
            field(&mut h, b"call");
            field(&mut h, c.id.as_bytes());
            field(&mut h, c.name.as_bytes());
        }
        for r in &m.tool_results {
            field(&mut h, b"result");
            field(&mut h, r.call_id.as_bytes());
            field(&mut h, r.output.as_bytes());
        }
        prev = h.finalize().into();
        out.push(prev);
    }
    out
}

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// A map that forgets its oldest insertions past a capacity.
#[derive(Debug)]
struct Bounded<K, V> {
    map: HashMap<K, V>,
    order: VecDeque<K>,
    cap: usize,
}

impl<K: Eq + Hash + Clone, V> Bounded<K, V> {
    fn new(cap: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    fn get(&self, k: &K) -> Option<&V> {
        self.map.get(k)
    }

    fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k)
    }

    fn insert(&mut self, k: K, v: V) {
        if self.map.insert(k.clone(), v).is_none() {
            self.order.push_back(k);
            while self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
}

/// How many recent requests per run `new_from` is measured against.
const CHAINS_PER_RUN: usize = 4;

/// A tool call the model asked for, remembered so its result can be attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownCall {
    pub run_id: String,
    pub span_id: String,
    pub parent_id: String,
    pub tool_name: String,
}

/// What the grouper decided for one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub run_id: String,
    /// True when this exchange opened the run.
    pub new_run: bool,
    /// How the run was found: `session`, `previous_response`, `tool_call`, `prefix`, `new`.
    pub by: &'static str,
    /// Messages before this index were already sent in the run's previous request.
    pub new_from: usize,
}

/// What grouping needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct GroupKey<'a> {
    /// Session id from a header or the body.
    pub session: Option<&'a str>,
    pub previous_response_id: Option<&'a str>,
    pub messages: &'a [Message],
    pub hashes: &'a [PrefixHash],
}

/// Remembers recent conversations. One per proxy, owned by the recorder thread.
#[derive(Debug)]
pub struct Grouper {
    sessions: Bounded<String, ()>,
    by_prefix: Bounded<PrefixHash, String>,
    by_response: Bounded<String, String>,
    calls: Bounded<String, KnownCall>,
    /// Per run, the message hash chains of its last few requests (side requests interleave).
    last_hashes: Bounded<String, VecDeque<Vec<PrefixHash>>>,
    fresh: u64,
    salt: u64,
}

impl Default for Grouper {
    fn default() -> Self {
        Grouper::new(4096)
    }
}

impl Grouper {
    /// Remembers up to `cap` entries per index (and `cap / 4` runs' message hashes).
    pub fn new(cap: usize) -> Grouper {
        Grouper {
            sessions: Bounded::new(cap),
            by_prefix: Bounded::new(cap),
            by_response: Bounded::new(cap),
            calls: Bounded::new(cap * 4),
            last_hashes: Bounded::new(cap / 4),
            fresh: 0,
            salt: rand::random(),
        }
    }

    /// Picks the run for a request (does not remember it: call [`Grouper::remember`]).
    pub fn assign(&mut self, key: GroupKey<'_>) -> Assignment {
        let (run_id, by, new_run) = self.find(key);
        let new_from = self
            .last_hashes
            .get(&run_id)
            .into_iter()
            .flatten()
            .map(|prev| {
                prev.iter()
                    .zip(key.hashes)
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
            .unwrap_or(0);
        Assignment {
            run_id,
            new_run,
            by,
            new_from,
        }
    }

    fn find(&mut self, key: GroupKey<'_>) -> (String, &'static str, bool) {
        if let Some(s) = key.session.filter(|s| !s.is_empty()) {
            let id = session_run_id(s);
            let new_run = self.sessions.get(&id).is_none();
            self.sessions.insert(id.clone(), ());
            return (id, "session", new_run);
        }
        if let Some(run) = key
            .previous_response_id
            .and_then(|p| self.by_response.get(&p.to_string()))
        {
            return (run.clone(), "previous_response", false);
        }
        for m in key.messages.iter().rev() {
            let ids = m
                .tool_results
                .iter()
                .map(|r| &r.call_id)
                .chain(m.tool_calls.iter().map(|c| &c.id));
            for id in ids {
                if let Some(c) = self.calls.get(id) {
                    return (c.run_id.clone(), "tool_call", false);
                }
            }
        }
        // Strict extension only: the same messages again is a new conversation (or a retry).
        let n = key.hashes.len();
        for h in key.hashes[..n.saturating_sub(1)].iter().rev() {
            if let Some(run) = self.by_prefix.get(h) {
                return (run.clone(), "prefix", false);
            }
        }
        self.fresh += 1;
        let mut h = Sha256::new();
        h.update(self.salt.to_le_bytes());
        h.update(self.fresh.to_le_bytes());
        h.update(
            chrono::Utc::now()
                .timestamp_nanos_opt()
                .unwrap_or(0)
                .to_le_bytes(),
        );
        let id = format!("proxy-{}", &hex::encode(h.finalize())[..20]);
        (id, "new", true)
    }

    /// Records a finished exchange: its messages, its response id and the tool calls it produced.
    pub fn remember(
        &mut self,
        run_id: &str,
        hashes: Vec<PrefixHash>,
        response_id: Option<&str>,
        calls: Vec<(String, KnownCall)>,
    ) {
        if let Some(last) = hashes.last() {
            self.by_prefix.insert(*last, run_id.to_string());
        }
        if !hashes.is_empty() {
            let run = run_id.to_string();
            match self.last_hashes.get_mut(&run) {
                Some(chains) => {
                    chains.push_back(hashes);
                    if chains.len() > CHAINS_PER_RUN {
                        chains.pop_front();
                    }
                }
                None => self.last_hashes.insert(run, VecDeque::from([hashes])),
            }
        }
        if let Some(r) = response_id.filter(|r| !r.is_empty()) {
            self.by_response.insert(r.to_string(), run_id.to_string());
        }
        for (id, c) in calls {
            if !id.is_empty() {
                self.calls.insert(id, c);
            }
        }
    }

    /// The span of an earlier tool call, to attach its result to.
    pub fn call(&self, call_id: &str) -> Option<&KnownCall> {
        self.calls.get(&call_id.to_string())
    }
}

/// A session id maps to the same run id every time, across proxy restarts.
pub fn session_run_id(session: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"skilltrace-proxy-session\0");
    h.update(session.as_bytes());
    format!("proxy-s-{}", &hex::encode(h.finalize())[..20])
}

#[cfg(test)]
mod tests {
    use super::super::exchange::{ToolCall, ToolResult};
    use super::*;

    fn msg(role: &str, text: &str) -> Message {
        Message {
            role: role.into(),
            text: text.into(),
            ..Message::default()
        }
    }

    fn key<'a>(m: &'a [Message], h: &'a [PrefixHash]) -> GroupKey<'a> {
        GroupKey {
            session: None,
            previous_response_id: None,
            messages: m,
            hashes: h,
        }
    }

    #[test]
    fn prefix_continuity_joins_and_same_request_does_not() {
        let mut g = Grouper::default();
        let m1 = vec![msg("system", "s"), msg("user", "q")];
        let h1 = prefix_hashes(&m1);
        let a1 = g.assign(key(&m1, &h1));
        assert!(a1.new_run);
        g.remember(&a1.run_id, h1.clone(), None, vec![]);

        let mut m2 = m1.clone();
        m2.push(msg("assistant", "a"));
        m2.push(msg("user", "more"));
        let h2 = prefix_hashes(&m2);
        let a2 = g.assign(key(&m2, &h2));
        assert_eq!(a2.run_id, a1.run_id);
        assert_eq!((a2.by, a2.new_from), ("prefix", 2));
        g.remember(&a2.run_id, h2, None, vec![]);

        // The same first request again is another conversation.
        let a3 = g.assign(key(&m1, &h1));
        assert_ne!(a3.run_id, a1.run_id);
        assert!(a3.new_run);
    }

    #[test]
    fn side_requests_in_a_session_do_not_reset_new_from() {
        let mut g = Grouper::default();
        let main1 = vec![
            msg("user", "fix the bug"),
            msg("assistant", "ok"),
            msg("user", "go"),
        ];
        let side = vec![msg("user", "write a 5 word title")];
        let mut main2 = main1.clone();
        main2.push(msg("assistant", "done"));
        main2.push(msg("user", "thanks"));
        for (m, want) in [(&main1, 0), (&side, 0), (&main2, 3)] {
            let h = prefix_hashes(m);
            let a = g.assign(GroupKey {
                session: Some("s1"),
                ..key(m, &h)
            });
            assert_eq!(a.new_from, want);
            g.remember(&a.run_id, h, None, vec![]);
        }
    }

    #[test]
    fn tool_call_ids_and_sessions_win() {
        let mut g = Grouper::default();
        let known = KnownCall {
            run_id: "run-a".into(),
            span_id: "s".into(),
            parent_id: "p".into(),
            tool_name: "Bash".into(),
        };
        g.remember(
            "run-a",
            vec![],
            Some("resp_1"),
            vec![("call_9".into(), known)],
        );
        let m = vec![
            msg("user", "different history"),
            Message {
                role: "tool".into(),
                tool_results: vec![ToolResult {
                    call_id: "call_9".into(),
                    output: "ok".into(),
                    is_error: false,
                }],
                ..Message::default()
            },
        ];
        let h = prefix_hashes(&m);
        let a = g.assign(key(&m, &h));
        assert_eq!((a.run_id.as_str(), a.by), ("run-a", "tool_call"));
        let a = g.assign(GroupKey {
            previous_response_id: Some("resp_1"),
            ..key(&[], &[])
        });
        assert_eq!((a.run_id.as_str(), a.by), ("run-a", "previous_response"));
        let s1 = g.assign(GroupKey {
            session: Some("abc"),
            ..key(&m, &h)
        });
        let s2 = g.assign(GroupKey {
            session: Some("abc"),
            ..key(&[], &[])
        });
        assert!(s1.new_run && !s2.new_run);
        assert_eq!(s1.run_id, s2.run_id);
        assert_eq!(s1.run_id, session_run_id("abc"));
    }

    #[test]
    fn hash_ignores_formatting_but_not_content() {
        let a = vec![Message {
            role: "assistant".into(),
            tool_calls: vec![ToolCall {
                id: "c".into(),
                name: "f".into(),
                arguments: "{\"a\": 1}".into(),
            }],
            ..Message::default()
        }];
        let mut b = a.clone();
        b[0].tool_calls[0].arguments = "{\"a\":1}".into();
        assert_eq!(prefix_hashes(&a), prefix_hashes(&b));
        b[0].text = "x".into();
        assert_ne!(prefix_hashes(&a), prefix_hashes(&b));
    }

    #[test]
    fn bounded_forgets_oldest() {
        let mut b = Bounded::new(2);
        b.insert(1, "a");
        b.insert(2, "b");
        b.insert(3, "c");
        assert_eq!(b.get(&1), None);
        assert_eq!(b.get(&3), Some(&"c"));
    }
}
