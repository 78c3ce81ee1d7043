//! Line reader (placeholder).
