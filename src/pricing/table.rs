//! The price table: the embedded `assets/pricing/prices.toml` (generated from
//! LiteLLM's price list by `scripts/gen_prices.py`), merged with the config's
//! `[pricing]` section, and looked up by model name.
//!
//! Prices are read as dollars per million tokens and kept as whole
//! femto-dollars (10^-15 $) per token, so every sum is exact integer arithmetic.

use super::names::candidates;
use super::Money;
use crate::config::Config;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

const PRICES_TOML: &str = include_str!("../../assets/pricing/prices.toml");

/// Femto-dollars per token for a price of one dollar per million tokens.
const FEMTO_PER_DOLLAR_PER_MILLION: f64 = 1e9;

/// Highest price accepted, in dollars per million tokens (a typo guard).
const MAX_PER_MILLION: f64 = 1_000_000.0;

/// Where the table's prices come from (the asset's `[source]`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub name: String,
    pub package: String,
    pub licence: String,
    /// The date the snapshot was taken, `YYYY-MM-DD`.
    pub snapshot: String,
}

impl Source {
    /// One line for reports: what, which package, licence, how old.
    pub fn line(&self) -> String {
        format!(
            "prices: {} from {} ({}), snapshot {}",
            self.name, self.package, self.licence, self.snapshot
        )
    }
}

/// Per-token prices of one band of calls, in femto-dollars. A cache price the
/// table lacks is charged at the input price (no discount is assumed), a
/// 1-hour cache write the table lacks at the 5-minute price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rates {
    pub input: u64,
    pub output: u64,
    pub cache_read: Option<u64>,
    pub cache_write: Option<u64>,
    pub cache_write_1h: Option<u64>,
}

/// The prices of one tier: every token of a call whose prompt is above
/// `above` tokens; a price the tier leaves out is the base one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub above: u64,
    pub input: Option<u64>,
    pub output: Option<u64>,
    pub cache_read: Option<u64>,
    pub cache_write: Option<u64>,
    pub cache_write_1h: Option<u64>,
}

/// One model's prices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// Whose list the price is from (`anthropic`, `openai`, `config`, ...).
    pub provider: String,
    pub base: Rates,
    /// Long-context tiers, lowest threshold first.
    pub tiers: Vec<Tier>,
}

impl Price {
    /// The rates for calls filed under `band` (see [`PriceTable::band_of`]).
    pub fn rates(&self, band: u64) -> Rates {
        let b = self.base;
        match self.tiers.iter().rev().find(|t| band >= t.above) {
            None => b,
            Some(t) => Rates {
                input: t.input.unwrap_or(b.input),
                output: t.output.unwrap_or(b.output),
                cache_read: t.cache_read.or(b.cache_read),
                cache_write: t.cache_write.or(b.cache_write),
                cache_write_1h: t.cache_write_1h.or(b.cache_write_1h),
            },
        }
    }
}

/// The price table in use: models by lowercased name, aliases, bands, source.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    models: HashMap<String, Price>,
    aliases: HashMap<String, String>,
    bands: Vec<u64>,
    source: Source,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    bands: Vec<u64>,
    source: Source,
    models: BTreeMap<String, PriceFile>,
}

/// A price as written in the asset and the config: dollars per million tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    #[serde(default)]
    provider: Option<String>,
    input: f64,
    output: f64,
    cache_read: Option<f64>,
    cache_write: Option<f64>,
    cache_write_1h: Option<f64>,
    #[serde(default)]
    tiers: Vec<TierFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierFile {
    above: u64,
    input: Option<f64>,
    output: Option<f64>,
    cache_read: Option<f64>,
    cache_write: Option<f64>,
    cache_write_1h: Option<f64>,
}

/// The config's `[pricing]` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PricingConfig {
    /// Use the shipped table (default true); false prices only `models`.
    builtin: Option<bool>,
    /// Trace name → table name, for deployments and gateways with names of their own.
    #[serde(default)]
    aliases: BTreeMap<String, String>,
    /// Prices added or replacing the shipped ones (dollars per million tokens).
    #[serde(default)]
    models: BTreeMap<String, PriceFile>,
}

/// One dollars-per-million figure as femto-dollars per token; `None` for a
/// negative, non-finite or absurd figure.
fn femto(per_million: f64) -> Option<u64> {
    (per_million.is_finite() && (0.0..=MAX_PER_MILLION).contains(&per_million))
        .then(|| (per_million * FEMTO_PER_DOLLAR_PER_MILLION).round() as u64)
}

impl PriceFile {
    /// The price, or why not (`bands` are the thresholds a tier may use).
    fn price(&self, default_provider: &str, bands: &[u64]) -> Result<Price, String> {
        let f = |what: &str, v: f64| {
            femto(v).ok_or_else(|| {
                format!("{what} = {v}: not a price (0 to 1000000 $ per million tokens)")
            })
        };
        let opt = |what: &str, v: Option<f64>| v.map(|v| f(what, v)).transpose();
        let base = Rates {
            input: f("input", self.input)?,
            output: f("output", self.output)?,
            cache_read: opt("cache_read", self.cache_read)?,
            cache_write: opt("cache_write", self.cache_write)?,
            cache_write_1h: opt("cache_write_1h", self.cache_write_1h)?,
        };
        let mut tiers = Vec::with_capacity(self.tiers.len());
        for t in &self.tiers {
            if !bands.contains(&t.above) {
                let list: Vec<String> = bands.iter().map(u64::to_string).collect();
                return Err(format!(
                    "tier above = {}: tiers may start at one of the table's bands ({})",
                    t.above,
                    list.join(", ")
                ));
            }
            tiers.push(Tier {
                above: t.above,
                input: opt("input", t.input)?,
                output: opt("output", t.output)?,
                cache_read: opt("cache_read", t.cache_read)?,
                cache_write: opt("cache_write", t.cache_write)?,
                cache_write_1h: opt("cache_write_1h", t.cache_write_1h)?,
            });
        }
        tiers.sort_by_key(|t| t.above);
        Ok(Price {
            provider: self
                .provider
                .clone()
                .unwrap_or_else(|| default_provider.to_owned()),
            base,
            tiers,
        })
    }
}

impl PriceTable {
    /// The table shipped in the binary.
    pub fn builtin() -> Result<PriceTable, String> {
        let file: TableFile = toml::from_str(PRICES_TOML)
            .map_err(|e| format!("assets/pricing/prices.toml: {}", e.message()))?;
        let mut bands = file.bands;
        bands.sort_unstable();
        bands.dedup();
        let mut t = PriceTable {
            models: HashMap::with_capacity(file.models.len()),
            aliases: HashMap::new(),
            bands,
            source: file.source,
        };
        for (name, p) in &file.models {
            let price = p
                .price("", &t.bands)
                .map_err(|e| format!("assets/pricing/prices.toml: {name}: {e}"))?;
            t.models.insert(name.to_ascii_lowercase(), price);
        }
        Ok(t)
    }

    /// The shipped table with the config's `[pricing]` section over it: its
    /// models added (replacing shipped ones of the same name), its aliases set.
    /// A bad price is one error naming the config file, line and model.
    pub fn from_config(config: &Config) -> anyhow::Result<PriceTable> {
        let cfg: PricingConfig = config.section("pricing")?;
        let mut t = PriceTable::builtin().map_err(anyhow::Error::msg)?;
        if cfg.builtin == Some(false) {
            t.models.clear();
        }
        for (name, p) in &cfg.models {
            let price = p.price("config", &t.bands).map_err(|e| {
                anyhow::anyhow!(
                    "{}:{}: [pricing.models] {name}: {e}",
                    config.display_name(),
                    config.line_of(name)
                )
            })?;
            t.models.insert(name.trim().to_ascii_lowercase(), price);
        }
        for (from, to) in cfg.aliases {
            t.aliases.insert(
                from.trim().to_ascii_lowercase(),
                to.trim().to_ascii_lowercase(),
            );
        }
        Ok(t)
    }

    /// A table of exactly these prices (tests, and a config without the builtin table).
    pub fn with_prices(
        bands: Vec<u64>,
        models: impl IntoIterator<Item = (String, Price)>,
    ) -> PriceTable {
        PriceTable {
            models: models
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            bands,
            ..PriceTable::default()
        }
    }

    /// Where the prices come from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The tier thresholds calls are filed under, lowest first.
    pub fn bands(&self) -> &[u64] {
        &self.bands
    }

    /// How many models the table prices.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// True when the table prices nothing.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The table's name for `model` and its price; `None` when the table does
    /// not know the model (its cost is then unknown, never zero).
    pub fn lookup(&self, model: &str) -> Option<(&str, &Price)> {
        for c in candidates(model) {
            let name = self.aliases.get(&c).unwrap_or(&c);
            if let Some((k, p)) = self.models.get_key_value(name.as_str()) {
                return Some((k.as_str(), p));
            }
        }
        None
    }

    /// What `usage` of `model`, filed under `band`, cost; `None` for a model
    /// the table does not know.
    pub fn cost(&self, model: &str, usage: &crate::usage::Usage, band: u64) -> Option<Money> {
        self.lookup(model)
            .map(|(_, p)| super::charge(&p.rates(band), usage))
    }

    /// The band a call with `prompt_tokens` is filed under: the highest
    /// tier threshold it exceeds, 0 below all of them. Tiers start at band
    /// values only, so a stored band says exactly which tier a call is in.
    pub fn band_of(&self, prompt_tokens: u64) -> u64 {
        band_in(&self.bands, prompt_tokens)
    }
}

/// [`PriceTable::band_of`] over the shipped table's bands (what the store files calls under).
pub fn band_of(prompt_tokens: u64) -> u64 {
    use std::sync::OnceLock;
    static BANDS: OnceLock<Vec<u64>> = OnceLock::new();
    let bands = BANDS.get_or_init(|| PriceTable::builtin().map(|t| t.bands).unwrap_or_default());
    band_in(bands, prompt_tokens)
}

fn band_in(bands: &[u64], prompt_tokens: u64) -> u64 {
    bands
        .iter()
        .rev()
        .find(|b| prompt_tokens > **b)
        .copied()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_parses_and_names_its_source() {
        let t = PriceTable::builtin().expect("the embedded table parses");
        assert!(t.len() > 100, "{} models", t.len());
        let s = t.source();
        assert!(s.name.contains("LiteLLM") && s.licence.starts_with("MIT"));
        assert_eq!(s.snapshot.len(), 10, "a YYYY-MM-DD date: {}", s.snapshot);
        // Dollars per million tokens become femto-dollars per token, exactly.
        let (name, p) = t.lookup("claude-opus-4-6").expect("priced");
        assert_eq!(name, "claude-opus-4-6");
        assert_eq!(p.base.input, 5_000_000_000);
        assert_eq!(p.base.cache_read, Some(500_000_000));
        let (_, mini) = t.lookup("gpt-4o-mini").expect("priced");
        assert_eq!(mini.base.cache_read, Some(75_000_000));
    }

    #[test]
    fn lookups_follow_spellings_never_guess() {
        let t = PriceTable::builtin().expect("table");
        for m in [
            "anthropic/claude-sonnet-4-5",
            "claude-sonnet-4-5-20250929",
            "CLAUDE-SONNET-4-5",
            "claude-opus-4-6[1m]",
        ] {
            assert!(t.lookup(m).is_some(), "{m}");
        }
        assert_eq!(
            t.lookup("us.anthropic.claude-sonnet-4-20250514-v1:0")
                .map(|x| x.0),
            Some("claude-sonnet-4-20250514")
        );
        assert!(t.lookup("my-private-model").is_none());
        assert!(t.lookup("").is_none());
    }

    #[test]
    fn bands_file_calls_by_their_highest_threshold() {
        let t = PriceTable::with_prices(vec![128_000, 200_000], []);
        assert_eq!(t.band_of(0), 0);
        assert_eq!(t.band_of(128_000), 0, "above means strictly above");
        assert_eq!(t.band_of(128_001), 128_000);
        assert_eq!(t.band_of(200_001), 200_000);
        assert!(band_of(5) == 0 && band_of(10_000_000) > 0);
    }

    #[test]
    fn config_adds_replaces_and_aliases() {
        let cfg = Config::from_text(
            None,
            r#"
[pricing]
aliases = { "team-gateway-large" = "acme-large" }
[pricing.models."acme-large"]
input = 2.0
output = 8.0
cache_read = 0.2
[pricing.models."gpt-4o-mini"]
input = 0.1
output = 0.4
"#
            .into(),
        )
        .expect("config");
        let t = PriceTable::from_config(&cfg).expect("table");
        let (name, p) = t.lookup("team-gateway-large").expect("alias");
        assert_eq!((name, p.provider.as_str()), ("acme-large", "config"));
        assert_eq!(
            t.lookup("gpt-4o-mini").map(|x| x.1.base.input),
            Some(100_000_000)
        );
        assert!(
            t.lookup("claude-opus-4-6").is_some(),
            "the shipped table stays"
        );

        let only = Config::from_text(
            None,
            "[pricing]\nbuiltin = false\n[pricing.models.x]\ninput = 1.0\noutput = 1.0\n".into(),
        )
        .expect("config");
        let t = PriceTable::from_config(&only).expect("table");
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn bad_prices_are_one_line_naming_file_line_and_model() {
        for (text, why) in [
            ("[pricing.models.x]\ninput = -1.0\noutput = 1.0\n", "not a price"),
            ("[pricing.models.x]\ninput = 1.0\n", "missing field"),
            (
                "[pricing.models.x]\ninput = 1.0\noutput = 1.0\ntiers = [{ above = 150000, input = 2.0 }]\n",
                "tiers may start at one of the table's bands",
            ),
            ("[pricing]\nbuiltn = true\n", "unknown field"),
        ] {
            let cfg = Config::from_text(None, text.into()).expect("toml");
            let e = PriceTable::from_config(&cfg).expect_err(text).to_string();
            assert!(e.contains(why), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let cfg = Config::from_text(
            None,
            "[pricing.models.x]\ninput = -1.0\noutput = 1.0\n".into(),
        )
        .expect("toml");
        let e = PriceTable::from_config(&cfg).expect_err("bad").to_string();
        assert!(e.starts_with("config:1: [pricing.models] x:"), "{e}");
    }
}
