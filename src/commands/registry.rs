//! `skilltrace registry verify|list|build`: skill registry tools.

use crate::cli::RegistryCommand;
use crate::detect::registry::{self, RegistriesConfig, Registry};
use anyhow::{Context, Result};
use std::io::Write;

pub fn run(cmd: RegistryCommand) -> Result<i32> {
    match cmd {
        RegistryCommand::Verify { file } => {
            let cfg = crate::config::Config::load_default()?;
            let rc: RegistriesConfig = cfg.section("registries")?;
            let r = Registry::load(&file, &rc)?;
            println!(
                "ok: {}: {} skills, sha256 {}, verified by {}",
                r.origin,
                r.file.skills.len(),
                r.sha256,
                r.verified
            );
            Ok(0)
        }
        RegistryCommand::List => {
            let cfg = crate::config::Config::load_default()?;
            let rc: RegistriesConfig = cfg.section("registries")?;
            let regs = Registry::load_all(&rc)?;
            let mut out = std::io::stdout().lock();
            for r in &regs {
                writeln!(
                    out,
                    "{} ({}, {} skills, {})",
                    r.file.name,
                    r.origin,
                    r.file.skills.len(),
                    r.verified
                )?;
                for s in &r.file.skills {
                    let methods = methods_of(s);
                    writeln!(out, "  {:<36} {:<8} {}", s.id, s.version, methods.join(" "))?;
                }
            }
            Ok(0)
        }
        RegistryCommand::Build { dir, output, sign } => {
            let mut text = registry::build(&dir)?;
            if let Some(k) = sign {
                let key = std::fs::read_to_string(&k)
                    .with_context(|| format!("{}: cannot read signing key", k.display()))?;
                text = registry::sign(&text, &key)?;
            }
            match output {
                Some(path) => {
                    std::fs::write(&path, &text)
                        .with_context(|| format!("{}: cannot write", path.display()))?;
                    let digest = crate::detect::fingerprint::sha256_hex(text.as_bytes());
                    let pin = crate::detect::tokens::beside(&path, "sha256");
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default();
                    std::fs::write(&pin, format!("{digest}  {name}\n"))
                        .with_context(|| format!("{}: cannot write", pin.display()))?;
                    // The digest file records it; only the config's pin (or a
                    // signature) makes skilltrace trust the registry.
                    eprintln!(
                        "wrote {} and its digest {}\nto use it, pin the digest in the config:\n  [registries]\n  files = [{:?}]\n  pinned = {{ {:?} = {digest:?} }}",
                        path.display(),
                        pin.display(),
                        path.display().to_string(),
                        path.display().to_string(),
                    );
                }
                None => print!("{text}"),
            }
            Ok(0)
        }
    }
}

fn methods_of(s: &registry::SkillEntry) -> Vec<&'static str> {
    let mut m = vec!["invocation"];
    if s.watermark.is_some() {
        m.push("watermark");
    }
    if s.frontmatter_sha256.is_some() {
        m.push("frontmatter");
    }
    if s.body_sha256.is_some() {
        m.push("body");
    }
    if !s.tool_schemas.is_empty() {
        m.push("tool-schema");
    }
    if s.prefix_sha256.is_some() {
        m.push("prefix");
    }
    if !s.function_signatures.is_empty() {
        m.push("signature");
    }
    if !s.exact.is_empty() {
        m.push("exact");
    }
    m
}
