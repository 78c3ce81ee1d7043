//! Hash maps for the ingest hot path: std's maps with foldhash, a fast hasher
//! seeded per process, instead of SipHash (which cost 3–4% of an import).
//! Keys there are ids from trace files; the random seed keeps crafted
//! collisions impractical for a local tool.

/// `std::collections::HashMap` with foldhash. Build with `HashMap::default()`.
pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// `std::collections::HashSet` with foldhash. Build with `HashSet::default()`.
pub type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_sets_behave_like_std() {
        let mut m: HashMap<String, u32> = HashMap::default();
        m.insert("a".into(), 1);
        *m.entry("a".into()).or_default() += 1;
        assert_eq!(m.get("a"), Some(&2));
        let mut s: HashSet<&str> = HashSet::default();
        assert!(s.insert("x"));
        assert!(!s.insert("x"));
    }
}
