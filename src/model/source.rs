//! What the sources leave beside their records: where each source stands
//! (so a restart resumes), and the lines or documents that could not be read.

use serde::{Deserialize, Serialize};

/// Where a file source stands: identity and how far it has been read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SourceState {
    /// File path, or `proxy://addr` for the proxy.
    pub path: String,
    /// `file` or `proxy`.
    pub kind: String,
    pub dev: u64,
    pub ino: u64,
    /// Bytes consumed (up to the end of the last complete line).
    pub offset: u64,
    /// Lines consumed (for the proxy: requests seen).
    pub line: u64,
    /// Formats seen, comma separated.
    pub format: String,
}

/// A line (or document) that could not be parsed; kept so a person can find it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseError {
    pub path: String,
    pub line: u64,
    /// Why, one line. Never contains the offending text itself.
    pub message: String,
}
