//! The user's config file: one TOML document; each module reads its own section.
//!
//! Sections: `[redaction]` (mode, rules, allowlist, field paths), `[detection]`
//! (allowlisted domains, extra paths), `[registries]` (files, pinned digests,
//! trusted keys), `[tui]` (theme), `[proxy]`. A module deserialises its own
//! section with [`Config::section`], so adding a setting touches one module.

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// The most a config file may hold (a pipe or `/dev/zero` is refused unread).
const MAX_CONFIG_BYTES: u64 = 8 << 20;

/// The loaded config: its path and text (for error line numbers) and the parsed table.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub path: Option<PathBuf>,
    pub text: String,
    pub table: toml::Table,
}

impl Config {
    /// Loads the default config file if it exists; an absent file is an empty config.
    pub fn load_default() -> Result<Config> {
        match crate::paths::config_file() {
            Some(p) if p.exists() => Config::load(&p),
            _ => Ok(Config::default()),
        }
    }

    /// Loads and parses `path`; a syntax error is one line naming file and line.
    pub fn load(path: &Path) -> Result<Config> {
        let bytes = crate::paths::read_regular(path, MAX_CONFIG_BYTES)
            .with_context(|| format!("{}: cannot read config", path.display()))?;
        let text = String::from_utf8(bytes)
            .with_context(|| format!("{}: cannot read config: not UTF-8", path.display()))?;
        Config::from_text(Some(path.to_path_buf()), text)
    }

    /// Parses config text (used by tests and by `load`).
    pub fn from_text(path: Option<PathBuf>, text: String) -> Result<Config> {
        let table: toml::Table = match toml::from_str(&text) {
            Ok(t) => t,
            Err(e) => {
                let line = e.span().map(|s| line_of(&text, s.start)).unwrap_or(0);
                let name = path
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "config".into());
                anyhow::bail!("{name}:{line}: invalid config: {}", e.message());
            }
        };
        Ok(Config { path, text, table })
    }

    /// Deserialises section `name` into `T` (its `Default` when absent).
    pub fn section<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T> {
        match self.table.get(name) {
            None => Ok(T::default()),
            Some(v) => v.clone().try_into().map_err(|e: toml::de::Error| {
                anyhow::anyhow!("{}: [{name}]: {}", self.display_name(), e.message())
            }),
        }
    }

    /// 1-based line of the first occurrence of `needle` in the config text (for error messages).
    pub fn line_of(&self, needle: &str) -> usize {
        self.text
            .find(needle)
            .map(|o| line_of(&self.text, o))
            .unwrap_or(0)
    }

    /// The config's path for messages.
    pub fn display_name(&self) -> String {
        self.path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "config".into())
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Default)]
    struct Tui {
        theme: Option<String>,
    }

    #[test]
    fn sections_and_errors() {
        let c = Config::from_text(None, "[tui]\ntheme = \"light\"\n".into()).expect("parse");
        let t: Tui = c.section("tui").expect("section");
        assert_eq!(t.theme.as_deref(), Some("light"));
        let none: Tui = c.section("absent").expect("default");
        assert!(none.theme.is_none());
        let err = Config::from_text(None, "[tui]\ntheme = \n".into()).expect_err("bad");
        assert!(err.to_string().starts_with("config:2:"), "{err}");
    }
}
