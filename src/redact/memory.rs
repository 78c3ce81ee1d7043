//! Known-secret memory: once a value is redacted anywhere in a run, every later
//! exact occurrence of it in that run is redacted too, with no context needed
//! (an AWS secret first seen in `cat ~/.aws/credentials` output and later
//! pasted into a `curl -d`).
//!
//! Per run: the set of values and an Aho-Corasick automaton over them, rebuilt
//! lazily on the first search after the set grew. Values shorter than
//! [`MIN_LEN`] are not remembered (a 4-character password would otherwise mask
//! every occurrence of a common word). Bounded: at most [`MAX_PER_RUN`] values
//! per run and [`MAX_RUNS`] runs (the oldest run is forgotten first). Lives in
//! memory only; never stored.

use crate::hash::HashMap;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::VecDeque;

/// Shortest value remembered.
pub const MIN_LEN: usize = 8;
/// Most values remembered per run.
pub const MAX_PER_RUN: usize = 4096;
/// Most runs remembered at once.
pub const MAX_RUNS: usize = 256;

/// One remembered value occurrence: byte range and the label (rule index) it was found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub label: usize,
}

#[derive(Debug, Default)]
struct RunMemory {
    values: Vec<String>,
    labels: Vec<usize>,
    index: HashMap<String, usize>,
    /// Automaton over `values[..built]`; newer values are searched one by one with
    /// `memmem` until there are enough of them to make a rebuild worth it
    /// (amortised: a run that keeps finding secrets does not rebuild per string).
    ac: Option<AhoCorasick>,
    built: usize,
    /// Finders for `values[built..]`, in order.
    pending: Vec<memchr::memmem::Finder<'static>>,
}

impl RunMemory {
    fn search(&mut self, text: &str, out: &mut Vec<Hit>) {
        let pending = self.values.len() - self.built;
        if pending > 8.max(self.built / 2) {
            self.ac = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&self.values)
                .ok();
            if self.ac.is_some() {
                self.built = self.values.len();
                self.pending.clear();
            } else {
                self.built = 0;
                self.pending = self
                    .values
                    .iter()
                    .map(|v| memchr::memmem::Finder::new(v.as_bytes()).into_owned())
                    .collect();
            }
        }
        if let Some(ac) = &self.ac {
            for m in ac.find_iter(text) {
                let label = self
                    .labels
                    .get(m.pattern().as_usize())
                    .copied()
                    .unwrap_or(0);
                out.push(Hit {
                    start: m.start(),
                    end: m.end(),
                    label,
                });
            }
        }
        // The finders built once in `learn` (building one per search dominated the
        // cost of text dense with secrets).
        for (f, &label) in self.pending.iter().zip(&self.labels[self.built..]) {
            let len = f.needle().len();
            for s in f.find_iter(text.as_bytes()) {
                out.push(Hit {
                    start: s,
                    end: s + len,
                    label,
                });
            }
        }
    }
}

/// Remembered secrets of every recent run.
#[derive(Debug, Default)]
pub struct Memory {
    runs: HashMap<String, RunMemory>,
    order: VecDeque<String>,
    total: usize,
    /// Counts every change (a value learned, a run forgotten).
    changes: u64,
}

impl Memory {
    /// Remembers `value` (found by rule `label`) for `run_id`; true if it is new.
    pub fn learn(&mut self, run_id: &str, value: &str, label: usize) -> bool {
        if value.len() < MIN_LEN {
            return false;
        }
        if !self.runs.contains_key(run_id) {
            if self.order.len() >= MAX_RUNS {
                if let Some(old) = self.order.pop_front() {
                    if let Some(m) = self.runs.remove(&old) {
                        self.total -= m.values.len();
                        self.changes += 1;
                    }
                }
            }
            self.order.push_back(run_id.to_string());
            self.runs.insert(run_id.to_string(), RunMemory::default());
        }
        let Some(m) = self.runs.get_mut(run_id) else {
            return false;
        };
        if m.index.contains_key(value) || m.values.len() >= MAX_PER_RUN {
            return false;
        }
        m.index.insert(value.to_string(), m.values.len());
        m.values.push(value.to_string());
        m.labels.push(label);
        m.pending
            .push(memchr::memmem::Finder::new(value.as_bytes()).into_owned());
        self.total += 1;
        self.changes += 1;
        true
    }

    /// Appends every occurrence of a remembered value of `run_id` in `text` to `out`.
    pub fn search(&mut self, run_id: &str, text: &str, out: &mut Vec<Hit>) {
        if self.total == 0 {
            return;
        }
        if let Some(m) = self.runs.get_mut(run_id) {
            m.search(text, out);
        }
    }

    /// How many values are remembered in total (all runs).
    pub fn len(&self) -> usize {
        self.total
    }

    /// How many times the memory changed (values learned, runs forgotten):
    /// equal counts mean the same contents.
    pub fn changes(&self) -> u64 {
        self.changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_run() {
        let mut m = Memory::default();
        assert!(m.learn("r1", "s3cr3tvalue", 4));
        assert!(!m.learn("r1", "s3cr3tvalue", 4), "no duplicates");
        assert!(!m.learn("r1", "short", 4), "too short to remember");
        let mut out = vec![];
        m.search("r1", "curl -d s3cr3tvalue x s3cr3tvalue", &mut out);
        assert_eq!(
            out,
            vec![
                Hit {
                    start: 8,
                    end: 19,
                    label: 4
                },
                Hit {
                    start: 22,
                    end: 33,
                    label: 4
                }
            ]
        );
        out.clear();
        m.search("r2", "s3cr3tvalue", &mut out);
        assert!(out.is_empty(), "other runs do not share memory");
    }

    #[test]
    fn forgets_oldest_run() {
        let mut m = Memory::default();
        for i in 0..=MAX_RUNS {
            m.learn(&format!("run{i}"), "0123456789", 0);
        }
        assert_eq!(m.len(), MAX_RUNS);
        let mut out = vec![];
        m.search("run0", "0123456789", &mut out);
        assert!(out.is_empty());
        m.search(&format!("run{MAX_RUNS}"), "0123456789", &mut out);
        assert_eq!(out.len(), 1);
    }
    #[test]
    fn finds_values_before_and_after_a_rebuild() {
        let mut m = Memory::default();
        for i in 0..20 {
            m.learn("r", &format!("secretvalue{i:02}"), i);
        }
        let mut out = vec![];
        m.search("r", "x secretvalue03 y", &mut out); // rebuilds the automaton
        assert_eq!(
            out,
            vec![Hit {
                start: 2,
                end: 15,
                label: 3
            }]
        );
        m.learn("r", "latecomer-secret", 99);
        out.clear();
        m.search("r", "latecomer-secret and secretvalue19", &mut out);
        out.sort_by_key(|h| h.start);
        assert_eq!(
            out,
            vec![
                Hit {
                    start: 0,
                    end: 16,
                    label: 99
                },
                Hit {
                    start: 21,
                    end: 34,
                    label: 19
                }
            ]
        );
    }
}
