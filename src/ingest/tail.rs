//! Tailer (placeholder).
