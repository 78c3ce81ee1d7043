//! Model names as agents write them, reduced to the names the price table uses.
//!
//! Traces name one model many ways: `anthropic/claude-sonnet-4-5`,
//! `us.anthropic.claude-sonnet-4-5-20250929-v1:0` (Bedrock),
//! `claude-sonnet-4-5@20250929` (Vertex), `claude-opus-4-6[1m]` (Claude Code's
//! 1M-context label), `gpt-4o-2024-08-06`. [`candidates`] lists the spellings to
//! try, most specific first; nothing fuzzy (no prefix matching), so
//! `gpt-4o-mini` can never be priced as `gpt-4o`.

/// Bedrock's cross-region inference prefixes.
const REGIONS: [&str; 8] = [
    "us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.", "us-gov.",
];

/// The spellings of `model` to look up, most specific first, lowercased and
/// without repeats.
pub fn candidates(model: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    let mut name = model.trim().to_ascii_lowercase();
    push(&name);
    // `claude-opus-4-6[1m]`: a context-size label, not part of the model.
    if let Some(i) = name.find('[') {
        name.truncate(i);
        push(&name);
    }
    // `openrouter/anthropic/claude-...`, `gemini/gemini-2.5-pro`.
    if let Some(i) = name.rfind('/') {
        name = name[i + 1..].to_owned();
        push(&name);
    }
    // Bedrock: `us.anthropic.claude-...-v1:0`.
    for r in REGIONS {
        if let Some(rest) = name.strip_prefix(r) {
            name = rest.to_owned();
            break;
        }
    }
    if let Some(rest) = name.strip_prefix("anthropic.") {
        name = rest.to_owned();
    }
    if let Some(stem) = bedrock_version(&name) {
        name = stem.to_owned();
    }
    push(&name);
    // Vertex: `claude-sonnet-4-5@20250929`.
    if name.contains('@') {
        name = name.replace('@', "-");
        push(&name);
    }
    if let Some(stem) = name.strip_suffix("-latest") {
        push(stem);
    }
    if let Some(stem) = without_date(&name) {
        push(stem);
    }
    out
}

/// `name` without a Bedrock version suffix (`-v1:0`, `-v2:0`).
fn bedrock_version(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(":0")?;
    let i = stem.rfind("-v")?;
    let digits = &stem[i + 2..];
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| &stem[..i])
}

/// `name` without a trailing release date (`-20250929`, `-2024-08-06`).
fn without_date(name: &str) -> Option<&str> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if name.len() > 9 {
        let (stem, tail) = name.split_at(name.len() - 9);
        if let Some(d) = tail.strip_prefix('-') {
            if digits(d) {
                return Some(stem);
            }
        }
    }
    if name.len() > 11 {
        let (stem, tail) = name.split_at(name.len() - 11);
        let b = tail.as_bytes();
        if b[0] == b'-'
            && b[5] == b'-'
            && b[8] == b'-'
            && digits(&tail[1..5])
            && digits(&tail[6..8])
            && digits(&tail[9..])
        {
            return Some(stem);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_spellings_reduce_to_table_names() {
        let last = |m: &str| candidates(m).last().cloned().unwrap_or_default();
        assert_eq!(
            candidates("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            [
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "claude-sonnet-4-5-20250929",
                "claude-sonnet-4-5"
            ]
        );
        assert_eq!(last("claude-sonnet-4-5@20250929"), "claude-sonnet-4-5");
        assert!(
            candidates("claude-sonnet-4-5@20250929").contains(&"claude-sonnet-4-5-20250929".into())
        );
        assert_eq!(candidates("Claude-Opus-4-6[1m]")[1], "claude-opus-4-6");
        assert_eq!(candidates("gemini/gemini-2.5-pro")[1], "gemini-2.5-pro");
        assert_eq!(last("gpt-4o-2024-08-06"), "gpt-4o");
        assert_eq!(last("o3-mini-latest"), "o3-mini");
    }

    #[test]
    fn nothing_fuzzy() {
        // A different model is never one of the candidates.
        assert_eq!(candidates("gpt-4o-mini"), ["gpt-4o-mini"]);
        assert_eq!(candidates("claude-v2:1"), ["claude-v2:1"]);
        assert_eq!(candidates("model-123456789"), ["model-123456789"]);
        assert!(candidates("  ").is_empty());
    }
}
