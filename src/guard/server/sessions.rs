//! The server's live sessions: each with its own judge and memory behind its
//! own lock, the oldest forgotten when the table is full.

use crate::guard::judge::Judge;
use crate::guard::session::Session;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Sessions kept in memory (the least recently started forgotten first).
const MAX_SESSIONS: usize = 8192;

/// One session's state: its own judge (shared rules, its own run memory)
/// and what the guard remembers of it.
pub(super) struct Live {
    pub(super) judge: Judge,
    pub(super) session: Session,
}

/// Every live session, each behind its own lock. The map's lock is held only
/// to find or add a session, never across a decision.
#[derive(Default)]
pub(super) struct Sessions {
    map: HashMap<String, Arc<Mutex<Live>>>,
    order: VecDeque<String>,
}

impl Sessions {
    /// The session `key` (created as a fork of `base`, the oldest forgotten when full).
    pub(super) fn get(&mut self, key: &str, base: &Judge) -> Arc<Mutex<Live>> {
        if let Some(l) = self.map.get(key) {
            return l.clone();
        }
        if self.order.len() >= MAX_SESSIONS {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
        self.order.push_back(key.to_string());
        let live = Arc::new(Mutex::new(Live {
            judge: base.fork(),
            session: Session::default(),
        }));
        self.map.insert(key.to_string(), live.clone());
        live
    }

    pub(super) fn forget(&mut self, key: &str) {
        if self.map.remove(key).is_some() {
            self.order.retain(|k| k != key);
        }
    }
}
