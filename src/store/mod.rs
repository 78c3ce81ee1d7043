//! The SQLite store (placeholder: filled in by the foundation work).
