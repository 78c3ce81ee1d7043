//! proxy (placeholder until its issue lands).
