//! `SKILL.md` files read and fingerprinted: frontmatter split from the body,
//! simple YAML fields, the normalisations the hashes are taken over, and every
//! fingerprint a registry entry carries (hashes, prefix, signatures, watermark).

use super::PREFIX_TOKENS;
use crate::detect::fingerprint::sha256_hex;
use crate::detect::registry::SkillEntry;
use regex::Regex;
use std::sync::OnceLock;

/// What a `SKILL.md` says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SkillMd {
    pub name: Option<String>,
    pub description: Option<String>,
    pub version: Option<String>,
    /// Raw frontmatter text (between the `---` lines).
    pub frontmatter: Option<String>,
    pub body: String,
}

/// Splits `---\n…\n---` frontmatter from the body.
pub fn split_frontmatter(text: &str) -> (Option<&str>, &str) {
    let t = text.trim_start_matches('\u{feff}');
    let Some(rest) = t
        .strip_prefix("---")
        .filter(|r| r.starts_with('\n') || r.starts_with("\r\n"))
    else {
        return (None, t);
    };
    let rest = rest.trim_start_matches(['\r', '\n']);
    let mut off = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let fm = &rest[..off];
            let body = &rest[off + line.len()..];
            return (Some(fm), body);
        }
        off += line.len();
    }
    (None, t)
}

/// Top-level `key: value` lines of simple YAML (block scalars `>`/`|` folded).
pub(super) fn yaml_field(fm: &str, key: &str) -> Option<String> {
    let lines: Vec<&str> = fm.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let Some(v) = l.strip_prefix(key).and_then(|r| r.strip_prefix(':')) else {
            continue;
        };
        let v = v.trim();
        if v.starts_with('>') || v.starts_with('|') {
            let mut parts = Vec::new();
            for n in &lines[i + 1..] {
                if n.starts_with(' ') || n.starts_with('\t') || n.trim().is_empty() {
                    parts.push(n.trim());
                } else {
                    break;
                }
            }
            return Some(parts.join(" ").trim().to_string());
        }
        let v = v.trim_matches('"').trim_matches('\'');
        return (!v.is_empty()).then(|| v.to_string());
    }
    None
}

/// Parses a `SKILL.md`.
pub fn parse_skill_md(text: &str) -> SkillMd {
    let (fm, body) = split_frontmatter(text);
    let mut md = SkillMd {
        body: body.to_string(),
        ..Default::default()
    };
    if let Some(fm) = fm {
        md.name = yaml_field(fm, "name");
        md.description = yaml_field(fm, "description");
        md.version = yaml_field(fm, "version").or_else(|| {
            // `metadata:\n  version: x`
            fm.lines()
                .skip_while(|l| !l.starts_with("metadata:"))
                .skip(1)
                .take_while(|l| l.starts_with(' '))
                .find_map(|l| {
                    l.trim()
                        .strip_prefix("version:")
                        .map(|v| v.trim().trim_matches('"').to_string())
                })
        });
        md.frontmatter = Some(fm.to_string());
    }
    md
}

/// Frontmatter normalised: LF line ends, trailing spaces and blank edges trimmed.
pub fn normalise_frontmatter(fm: &str) -> String {
    fm.replace("\r\n", "\n")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_matches('\n')
        .to_string()
}

/// Body normalised: HTML comments (watermarks) removed, whitespace collapsed.
pub fn normalise_body(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find("<!--") {
        out.push_str(&rest[..i]);
        match rest[i..].find("-->") {
            Some(j) => rest = &rest[i + j + 3..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn watermark_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        crate::lazyre::note_compile();
        Regex::new(r"<!--\s*skill:([^/\s]+)/(\S+?)(?:\s+(\S+))?\s*-->").ok()
    })
    .as_ref()
}

fn signature_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        crate::lazyre::note_compile();
        Regex::new(r"(?m)^\s*(?:async\s+)?(def|function|fn)\s+([A-Za-z_]\w*)\s*\(([^)\n]{0,120})\)")
            .ok()
    })
    .as_ref()
}

/// Every fingerprint of a `SKILL.md` (identity fields left empty).
pub fn fingerprints_of(text: &str) -> SkillEntry {
    let md = parse_skill_md(text);
    let mut e = SkillEntry::default();
    if let Some(fm) = &md.frontmatter {
        e.frontmatter_sha256 = Some(sha256_hex(normalise_frontmatter(fm).as_bytes()));
    }
    let body = normalise_body(&md.body);
    if !body.is_empty() {
        e.body_sha256 = Some(sha256_hex(body.as_bytes()));
        let tokens: Vec<&str> = body.split(' ').collect();
        e.token_count = Some(tokens.len());
        e.prefix_sha256 = Some(sha256_hex(
            tokens[..tokens.len().min(PREFIX_TOKENS)]
                .join(" ")
                .as_bytes(),
        ));
        if let Some(re) = signature_re() {
            for c in re.captures_iter(&md.body) {
                let args = c.get(3).map(|m| m.as_str()).unwrap_or("");
                e.function_signatures
                    .push(format!("{} {}({})", &c[1], &c[2], args.trim()));
            }
            e.function_signatures.dedup();
            e.function_signatures.truncate(20);
        }
    }
    if let Some(c) = watermark_re().and_then(|re| re.captures(text)) {
        e.watermark = Some(format!("{}/{}", &c[1], &c[2]));
    }
    e
}

/// SHA-256 of a tool's parameters as canonical JSON (keys sorted).
pub fn schema_hash(params: &serde_json::Value) -> String {
    sha256_hex(serde_json::to_string(params).unwrap_or_default().as_bytes())
}
