//! The last few short field values redaction found clean. A file's path, a
//! span's name, its model and its tool name repeat span after span; the same
//! text in the same run is clean again while the run memory is unchanged,
//! because a redactor's rules, mode and key never change. Raw values that held
//! nothing to redact, kept in memory only, a fixed handful.

/// Values kept at once.
const SLOTS: usize = 8;
/// Longer values are not kept (paths, names and models are short).
const MAX_LEN: usize = 512;

/// Recently clean `(run, text)` pairs, valid for one state of the memory.
#[derive(Debug, Default)]
pub(super) struct CleanMemo {
    slots: Vec<(String, String)>,
    /// The slot the next value replaces once all are used.
    next: usize,
    /// The memory's change count the slots were judged at.
    changes: u64,
}

impl CleanMemo {
    /// Forgets every value once the memory moved on from what they were judged against.
    fn at(&mut self, changes: u64) {
        if changes != self.changes {
            self.slots.clear();
            self.next = 0;
            self.changes = changes;
        }
    }

    /// True when `text` was found clean in `run` with the memory at `changes`.
    pub(super) fn is_clean(&mut self, run: &str, text: &str, changes: u64) -> bool {
        self.at(changes);
        self.slots.iter().any(|(r, t)| t == text && r == run)
    }

    /// Keeps `text`, found clean in `run` with the memory at `changes`.
    pub(super) fn note(&mut self, run: &str, text: &str, changes: u64) {
        if text.len() > MAX_LEN {
            return;
        }
        self.at(changes);
        if self.slots.len() < SLOTS {
            self.slots.push((run.to_string(), text.to_string()));
            return;
        }
        let (r, t) = &mut self.slots[self.next];
        r.clear();
        r.push_str(run);
        t.clear();
        t.push_str(text);
        self.next = (self.next + 1) % SLOTS;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_few_values_per_memory_state() {
        let mut m = CleanMemo::default();
        assert!(!m.is_clean("r", "Bash", 0));
        m.note("r", "Bash", 0);
        assert!(m.is_clean("r", "Bash", 0));
        assert!(!m.is_clean("other", "Bash", 0), "per run");
        assert!(!m.is_clean("r", "Bash", 1), "the memory changed");
        assert!(!m.is_clean("r", "Bash", 1), "and the values were forgotten");
        for i in 0..SLOTS + 3 {
            m.note("r", &format!("v{i}"), 1);
        }
        assert_eq!(m.slots.len(), SLOTS);
        assert!(m.is_clean("r", &format!("v{}", SLOTS + 2), 1));
        assert!(!m.is_clean("r", "v0", 1), "the oldest were replaced");
        m.note("r", &"x".repeat(MAX_LEN + 1), 1);
        assert!(
            !m.is_clean("r", &"x".repeat(MAX_LEN + 1), 1),
            "long values are not kept"
        );
    }
}
