//! Replay of a stored run in its original timing (placeholder until issue 7 lands).
