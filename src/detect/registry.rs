//! Skill registries: the TOML format, integrity (pinned SHA-256 or ed25519
//! signature), signing, and `registry build` from a folder of `SKILL.md` files.
//!
//! A registry loads only if its SHA-256 matches a digest pinned in the config
//! (`[registries] pinned`), or if it carries a valid ed25519 signature from a
//! key in `[registries] trusted_keys`. A digest file beside it
//! (`<file>.sha256`, as `registry build` writes) is checked (a mismatch
//! refuses the file) but never trusted on its own: whoever can change the
//! registry can rewrite the digest next to it. Anything else is refused with
//! one line naming the file; a registry is never half-loaded.

use super::fingerprint::sha256_hex;
use super::skills::{fingerprints_of, parse_skill_md};
use super::DetectError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The most a registry file may hold (a pipe or a device is refused unread).
const MAX_REGISTRY_BYTES: u64 = 256 << 20;
/// The built-in registry (public Anthropic agent skills) and its pinned digest.
const BUILTIN_TOML: &str = include_str!("../../assets/registry/anthropic-skills.toml");
const BUILTIN_SHA256: &str = include_str!("../../assets/registry/anthropic-skills.toml.sha256");
const BUILTIN_NAME: &str = "assets/registry/anthropic-skills.toml";

/// A tool schema a skill declares: name and SHA-256 of its canonical JSON parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSchema {
    pub name: String,
    pub parameters_sha256: String,
}

/// One skill's identity and fingerprints (methods as Skills Trace publishes them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SkillEntry {
    /// `namespace/name`, e.g. `anthropic/pdf`.
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `name/version` from a `<!-- skill:name/version -->` watermark (confidence 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<String>,
    /// SHA-256 of the normalised YAML frontmatter (0.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontmatter_sha256: Option<String>,
    /// SHA-256 of the normalised body (0.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_sha256: Option<String>,
    /// SHA-256 of the first 500 tokens of the normalised body (0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_count: Option<usize>,
    /// Tool schemas (0.6).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_schemas: Vec<ToolSchema>,
    /// Function signatures from the skill's code (0.4), e.g. `def fill_form(path, fields)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub function_signatures: Vec<String>,
    /// Distinctive phrases (0.8) matched literally.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exact: Vec<String>,
    /// Other names the agent may invoke it by (`document-skills:pdf`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A registry file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RegistryFile {
    /// Base64 ed25519 signature over the file without this line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Hex public key of the signer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    pub format: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, rename = "skill")]
    pub skills: Vec<SkillEntry>,
}

/// How a registry's integrity was established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    PinnedInConfig,
    /// Signed by this (hex) trusted key.
    Signature(String),
    Builtin,
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verification::PinnedInConfig => f.write_str("digest pinned in the config"),
            Verification::Signature(k) => {
                write!(f, "ed25519 signature by {}…", &k[..k.len().min(16)])
            }
            Verification::Builtin => f.write_str("built in, digest pinned at build time"),
        }
    }
}

/// A loaded, verified registry.
#[derive(Debug, Clone)]
pub struct Registry {
    /// Where it came from (path, or `assets/...` for the built-in one).
    pub origin: String,
    pub sha256: String,
    pub verified: Verification,
    pub file: RegistryFile,
}

/// The `[registries]` config section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistriesConfig {
    /// Load the built-in registry (default true).
    pub builtin: bool,
    /// More registry files.
    pub files: Vec<PathBuf>,
    /// Pinned digests: path → hex SHA-256.
    pub pinned: BTreeMap<String, String>,
    /// Hex ed25519 public keys whose signatures are trusted.
    pub trusted_keys: Vec<String>,
}

impl Default for RegistriesConfig {
    fn default() -> Self {
        RegistriesConfig {
            builtin: true,
            files: Vec::new(),
            pinned: BTreeMap::new(),
            trusted_keys: Vec::new(),
        }
    }
}

fn refuse(origin: &str, why: impl std::fmt::Display) -> DetectError {
    DetectError::Registry(format!("{origin}: {why}: refused"))
}

/// The file text without its `signature = …` line (what is signed).
pub fn canonical(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("signature ="))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn parse_key(hexkey: &str) -> Option<VerifyingKey> {
    let mut b = [0u8; 32];
    hex::decode_to_slice(hexkey.trim(), &mut b).ok()?;
    VerifyingKey::from_bytes(&b).ok()
}

/// Checks integrity, then parses. `pinned_beside`/`pinned_config` are hex
/// digests when present; only the config's pin or a trusted signature makes a
/// registry trusted (the digest beside it can only refuse it).
pub fn verify(
    origin: &str,
    bytes: &[u8],
    pinned_beside: Option<&str>,
    pinned_config: Option<&str>,
    trusted_keys: &[String],
) -> Result<Registry, DetectError> {
    let sha = sha256_hex(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| refuse(origin, "not UTF-8 text"))?;
    let file: RegistryFile = toml::from_str(text)
        .map_err(|e| refuse(origin, format!("invalid registry: {}", e.message())))?;
    let mut verified = None;
    for (pin, how) in [
        (pinned_config, Some(Verification::PinnedInConfig)),
        (pinned_beside, None),
    ] {
        if let Some(p) = pin {
            let p = p
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if p != sha {
                return Err(refuse(
                    origin,
                    format!(
                        "SHA-256 {}… does not match the pinned {}… (tampered or changed)",
                        &sha[..12],
                        &p[..p.len().min(12)]
                    ),
                ));
            }
            if let Some(how) = how {
                verified.get_or_insert(how);
            }
        }
    }
    if let Some(sig) = &file.signature {
        let sig_bytes = B64
            .decode(sig.trim())
            .map_err(|_| refuse(origin, "signature is not base64"))?;
        let sig =
            Signature::from_slice(&sig_bytes).map_err(|_| refuse(origin, "malformed signature"))?;
        let canon = canonical(text);
        let ok = trusted_keys.iter().find(|k| {
            parse_key(k)
                .map(|vk| vk.verify(canon.as_bytes(), &sig).is_ok())
                .unwrap_or(false)
        });
        match ok {
            Some(k) => {
                verified.get_or_insert(Verification::Signature(k.trim().to_string()));
            }
            None if verified.is_none() => {
                return Err(refuse(
                    origin,
                    "signature does not verify with any trusted key",
                ));
            }
            None => {}
        }
    }
    let verified = verified.ok_or_else(|| match pinned_beside {
        Some(_) => refuse(
            origin,
            format!(
                "the digest beside it is not trusted on its own (whoever can change the file can rewrite it); \
                 pin {sha} in the config ([registries] pinned) or sign the registry with a trusted key"
            ),
        ),
        None => refuse(origin, "no pinned SHA-256 and no trusted signature"),
    })?;
    Ok(Registry {
        origin: origin.to_string(),
        sha256: sha,
        verified,
        file,
    })
}

impl Registry {
    /// The built-in registry, checked against the digest pinned at build time.
    pub fn builtin() -> Result<Registry, DetectError> {
        // Compiled in with its digest: as trusted as the binary itself.
        let mut r = verify(
            BUILTIN_NAME,
            BUILTIN_TOML.as_bytes(),
            None,
            Some(BUILTIN_SHA256),
            &[],
        )?;
        r.verified = Verification::Builtin;
        Ok(r)
    }

    /// Loads and verifies a registry file (digest pinned in the config, or a
    /// signature; a digest beside it is checked but not enough).
    pub fn load(path: &Path, cfg: &RegistriesConfig) -> Result<Registry, DetectError> {
        let origin = path.display().to_string();
        let bytes = crate::paths::read_regular(path, MAX_REGISTRY_BYTES)
            .map_err(|e| refuse(&origin, format!("cannot read: {e}")))?;
        let beside = super::tokens::beside(path, "sha256");
        let pinned_beside = match crate::paths::read_regular(&beside, 1 << 20) {
            Ok(t) => Some(String::from_utf8_lossy(&t).into_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(refuse(
                    &origin,
                    format!("cannot read {}: {e}", beside.display()),
                ))
            }
        };
        let pinned_config = cfg
            .pinned
            .iter()
            .find(|(p, _)| Path::new(p) == path || path.ends_with(p))
            .map(|(_, d)| d.as_str());
        verify(
            &origin,
            &bytes,
            pinned_beside.as_deref(),
            pinned_config,
            &cfg.trusted_keys,
        )
    }

    /// Every registry the config asks for, all verified; the first failure refuses them all.
    pub fn load_all(cfg: &RegistriesConfig) -> Result<Vec<Registry>, DetectError> {
        let mut out = Vec::new();
        if cfg.builtin {
            out.push(Registry::builtin()?);
        }
        for f in &cfg.files {
            out.push(Registry::load(f, cfg)?);
        }
        Ok(out)
    }
}

/// Signs registry text with a hex ed25519 secret key: returns the text with a
/// `signature` line (and `signed_by`) at the top.
pub fn sign(text: &str, secret_hex: &str) -> Result<String, DetectError> {
    let mut sk = [0u8; 32];
    hex::decode_to_slice(secret_hex.trim(), &mut sk)
        .map_err(|_| DetectError::Registry("signing key: expected 64 hex characters".into()))?;
    let key = SigningKey::from_bytes(&sk);
    let public = hex::encode(key.verifying_key().to_bytes());
    let body: String = canonical(text)
        .lines()
        .filter(|l| !l.trim_start().starts_with("signed_by ="))
        .map(|l| format!("{l}\n"))
        .collect();
    let unsigned = format!("signed_by = \"{public}\"\n{body}");
    let sig = key.sign(canonical(&unsigned).as_bytes());
    Ok(format!(
        "signature = \"{}\"\n{unsigned}",
        B64.encode(sig.to_bytes())
    ))
}

/// Optional `registry.toml` in a build folder: the registry's name and namespace.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BuildMeta {
    name: Option<String>,
    namespace: Option<String>,
    description: Option<String>,
    source: Option<String>,
}

/// Builds a registry (TOML text) from every `SKILL.md` under `dir`.
pub fn build(dir: &Path) -> Result<String, DetectError> {
    let io = |e: std::io::Error| DetectError::Io(format!("{}: {e}", dir.display()));
    let meta: BuildMeta = match std::fs::read_to_string(dir.join("registry.toml")) {
        Ok(t) => toml::from_str(&t).map_err(|e| {
            DetectError::Io(format!(
                "{}: {}",
                dir.join("registry.toml").display(),
                e.message()
            ))
        })?,
        Err(_) => BuildMeta::default(),
    };
    let base = dir
        .canonicalize()
        .map_err(io)?
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "skills".into());
    let namespace = meta.namespace.clone().unwrap_or_else(|| base.clone());
    let mut files = Vec::new();
    find_skill_files(dir, 0, &mut files).map_err(io)?;
    files.sort();
    if files.is_empty() {
        return Err(DetectError::Io(format!(
            "{}: no SKILL.md files found",
            dir.display()
        )));
    }
    let mut skills = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| DetectError::Io(format!("{}: {e}", f.display())))?;
        let folder = f
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let md = parse_skill_md(&text);
        let name = md.name.clone().unwrap_or(folder);
        let mut e = fingerprints_of(&text);
        e.id = format!("{namespace}/{name}");
        e.name = name;
        e.version = md.version.clone().unwrap_or_else(|| "0.0.0".into());
        e.description = md.description.clone();
        e.source = meta
            .source
            .as_ref()
            .map(|s| format!("{}/{}", s.trim_end_matches('/'), e.name));
        skills.push(e);
    }
    let reg = RegistryFile {
        signature: None,
        signed_by: None,
        format: 1,
        name: meta.name.unwrap_or(base),
        description: meta.description.unwrap_or_default(),
        skills,
    };
    let body = toml::to_string(&reg)
        .map_err(|e| DetectError::Registry(format!("cannot write registry: {e}")))?;
    Ok(format!(
        "# Skill registry built by `skilltrace registry build` from {} SKILL.md files.\n{body}",
        files.len()
    ))
}

fn find_skill_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if depth > 5 {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let p = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            find_skill_files(&p, depth + 1, out)?;
        } else if p.file_name().map(|n| n == "SKILL.md").unwrap_or(false) {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_registry_verifies_and_lists_anthropic_skills() {
        let r = Registry::builtin().expect("builtin");
        let names: Vec<&str> = r.file.skills.iter().map(|s| s.name.as_str()).collect();
        for n in [
            "pdf",
            "docx",
            "xlsx",
            "pptx",
            "skill-creator",
            "mcp-builder",
            "webapp-testing",
        ] {
            assert!(names.contains(&n), "{n} missing");
        }
        assert_eq!(r.verified, Verification::Builtin);
    }

    #[test]
    fn tampered_registry_is_refused() {
        let text = BUILTIN_TOML.as_bytes();
        let sha = sha256_hex(text);
        assert!(verify("r.toml", text, Some(&sha), Some(&sha), &[]).is_ok());
        let mut bad = text.to_vec();
        let i = bad.iter().position(|b| *b == b'p').expect("a p");
        bad[i] = b'q';
        let err = verify("r.toml", &bad, None, Some(&sha), &[]).expect_err("tampered");
        let msg = err.to_string();
        assert!(
            msg.starts_with("r.toml: ") && msg.ends_with("refused") && !msg.contains('\n'),
            "{msg}"
        );
        let err = verify("r.toml", text, None, None, &[]).expect_err("unpinned");
        assert!(err.to_string().contains("no pinned SHA-256"), "{err}");
        // A tampered file whose digest beside it was regenerated: not trusted.
        let bad_sha = sha256_hex(&bad);
        let err = verify("r.toml", &bad, Some(&bad_sha), None, &[]).expect_err("beside only");
        assert!(err.to_string().contains("not trusted on its own"), "{err}");
        // A stale digest beside the file still refuses it.
        assert!(verify("r.toml", &bad, Some(&sha), Some(&bad_sha), &[]).is_err());
        // a config pin is enough, and a wrong one refuses even if the file pin matches
        assert!(verify("r.toml", text, None, Some(&sha), &[]).is_ok());
        assert!(verify("r.toml", text, Some(&sha), Some(&"0".repeat(64)), &[]).is_err());
    }

    #[test]
    fn signatures() {
        let sk = "11".repeat(32);
        let pk = hex::encode(
            SigningKey::from_bytes(&[0x11; 32])
                .verifying_key()
                .to_bytes(),
        );
        let signed = sign(BUILTIN_TOML, &sk).expect("sign");
        let r = verify(
            "s.toml",
            signed.as_bytes(),
            None,
            None,
            std::slice::from_ref(&pk),
        )
        .expect("verifies");
        assert!(matches!(r.verified, Verification::Signature(_)));
        assert!(verify("s.toml", signed.as_bytes(), None, None, &["22".repeat(32)]).is_err());
        let tampered = signed.replacen("pdf", "pdg", 1);
        assert!(verify("s.toml", tampered.as_bytes(), None, None, &[pk]).is_err());
        // re-signing replaces the old signature
        assert_eq!(sign(&signed, &sk).expect("resign"), signed);
    }
}
