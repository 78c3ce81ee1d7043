//! Stable finding fingerprints: hex SHA-256 of rule id + run id + normalised evidence.
//!
//! Same input, same fingerprint: re-importing or replaying a trace never
//! duplicates a finding, and a chain that raises a finding re-emits it under
//! the same fingerprint so the store updates it in place.

use sha2::{Digest, Sha256};

/// Whitespace collapsed, trimmed.
pub fn normalise(evidence: &str) -> String {
    evidence.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fingerprint of a finding.
pub fn fingerprint(rule_id: &str, run_id: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(run_id.as_bytes());
    h.update([0]);
    h.update(normalise(key).as_bytes());
    hex::encode(h.finalize())
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_whitespace_insensitive() {
        let a = fingerprint("EXF-TRACE-003", "run1", "cat  ~/.aws/credentials");
        let b = fingerprint("EXF-TRACE-003", "run1", "cat ~/.aws/credentials ");
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(
            a,
            fingerprint("EXF-TRACE-003", "run2", "cat ~/.aws/credentials")
        );
        assert_ne!(
            a,
            fingerprint("EXF-TRACE-001", "run1", "cat ~/.aws/credentials")
        );
    }
}
