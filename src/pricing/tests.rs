//! The pricing maths against figures worked out by hand, one provider's cache
//! semantics at a time. Prices are dollars per million tokens (the published
//! list prices of each model named); every expected figure is in the comment
//! above it as the sum a person would write down.

use super::*;
use crate::model::{Origin, Span, SpanKind};
use crate::usage::{ModelUsage, RunUsage, Usage};

/// Femto-dollars (10^-15 $) per token for `d` dollars per million tokens.
fn pm(d: f64) -> u64 {
    (d * 1e9).round() as u64
}

/// Money from a hand sum in "dollars per million tokens × tokens".
fn hand(sum: f64) -> Money {
    Money((sum * 1e9).round() as u128)
}

fn price(input: f64, output: f64, read: f64, write: Option<f64>, write_1h: Option<f64>) -> Price {
    Price {
        provider: "test".into(),
        base: Rates {
            input: pm(input),
            output: pm(output),
            cache_read: Some(pm(read)),
            cache_write: write.map(pm),
            cache_write_1h: write_1h.map(pm),
        },
        tiers: Vec::new(),
    }
}

/// Claude Opus 4.6 ($5 in, $25 out, $6.25 5-minute write, $10 1-hour write,
/// $0.50 read), GPT-4o mini ($0.15 in, $0.60 out, $0.075 cached read) and
/// Gemini 2.5 Pro ($1.25 / $10 / $0.125 read; above 200k prompt tokens:
/// $2.50 / $15 / $0.25).
fn table() -> PriceTable {
    let mut gemini = price(1.25, 10.0, 0.125, None, None);
    gemini.tiers.push(Tier {
        above: 200_000,
        input: Some(pm(2.5)),
        output: Some(pm(15.0)),
        cache_read: Some(pm(0.25)),
        cache_write: None,
        cache_write_1h: None,
    });
    PriceTable::with_prices(
        vec![200_000],
        [
            (
                "claude-opus-4-6".to_string(),
                price(5.0, 25.0, 0.5, Some(6.25), Some(10.0)),
            ),
            (
                "gpt-4o-mini".to_string(),
                price(0.15, 0.6, 0.075, None, None),
            ),
            ("gemini-2.5-pro".to_string(), gemini),
        ],
    )
}

#[test]
fn anthropic_cache_writes_and_reads_are_priced_apart_from_input() {
    let t = table();
    // A Claude Code record: input_tokens 3, cache_creation_input_tokens 15,005,
    // cache_read_input_tokens 11,442, output_tokens 9 (all 5-minute writes).
    let u = Usage::anthropic(3, 15_005, 11_442, 0, 9);
    // 3 × 5 + 15,005 × 6.25 + 11,442 × 0.5 + 9 × 25
    //   = 15 + 93,781.25 + 5,721 + 225 = 99,742.25  →  $0.09974225
    let c = t.cost("claude-opus-4-6", &u, 0).expect("priced");
    assert_eq!(c, hand(99_742.25));
    assert_eq!(c.usd(), 0.09974225);
    assert_eq!(c.to_string(), "$0.10");
    // Priced as if every prompt token were plain input it would be 26,450 × 5
    // + 225 = 132,475: the cache is what makes the difference.
    assert_ne!(c, hand(132_475.0));

    // 5,000 of the writes kept for an hour:
    // 3 × 5 + 10,005 × 6.25 + 5,000 × 10 + 11,442 × 0.5 + 9 × 25
    //   = 15 + 62,531.25 + 50,000 + 5,721 + 225 = 118,492.25
    let u = Usage::anthropic(3, 15_005, 11_442, 5_000, 9);
    assert_eq!(t.cost("claude-opus-4-6", &u, 0), Some(hand(118_492.25)));
}

#[test]
fn openai_cached_input_is_counted_inside_input() {
    let t = table();
    // prompt_tokens 2,006 of which prompt_tokens_details.cached_tokens 1,920,
    // completion_tokens 300: 86 uncached.
    // 86 × 0.15 + 1,920 × 0.075 + 300 × 0.6 = 12.9 + 144 + 180 = 336.9
    let u = Usage::openai(2_006, 1_920, 300);
    let c = t.cost("gpt-4o-mini", &u, 0).expect("priced");
    assert_eq!(c, hand(336.9));
    assert_eq!(c.to_string(), "$0.0003");
    // Adding the cached tokens on top (the Anthropic reading) would charge
    // 2,006 × 0.15 + 1,920 × 0.075 + 180 = 624.9: wrong, and not what we do.
    assert_ne!(c, hand(624.9));
    // A dated snapshot name is the same model.
    assert_eq!(t.cost("gpt-4o-mini-2024-07-18", &u, 0), Some(c));
}

#[test]
fn a_long_prompt_prices_every_token_at_its_tier() {
    let t = table();
    // 250,000 prompt tokens (50,000 cached), 1,000 out: above 200k, so
    // 200,000 × 2.5 + 50,000 × 0.25 + 1,000 × 15 = 500,000 + 12,500 + 15,000 = 527,500
    let long = Usage::openai(250_000, 50_000, 1_000);
    assert_eq!(t.band_of(long.input), 200_000);
    assert_eq!(
        t.cost("gemini-2.5-pro", &long, t.band_of(long.input)),
        Some(hand(527_500.0))
    );
    // Exactly 200,000 is not above it: 150,000 × 1.25 + 50,000 × 0.125 + 1,000 × 10
    //   = 187,500 + 6,250 + 10,000 = 203,750
    let at = Usage::openai(200_000, 50_000, 1_000);
    assert_eq!(t.band_of(at.input), 0);
    assert_eq!(t.cost("gemini-2.5-pro", &at, 0), Some(hand(203_750.0)));
}

#[test]
fn a_missing_cache_price_is_the_input_price() {
    // A model listed without cache prices: cached tokens cost what input does.
    let mut p = price(2.0, 4.0, 0.0, None, None);
    p.base.cache_read = None;
    // 100 uncached × 2 + 50 read × 2 + 30 written × 2 + 10 × 4 = 200 + 100 + 60 + 40 = 400
    let u = Usage::anthropic(100, 30, 50, 0, 10);
    assert_eq!(charge(&p.base, &u), hand(400.0));
}

#[test]
fn a_run_with_subagents_rolls_up_and_shows_them_apart() {
    let t = table();
    // The parent: one Opus call of 1,000 uncached in, 200 out
    //   = 1,000 × 5 + 200 × 25 = 10,000.
    // Two subagents on GPT-4o mini: 10,000 in (4,000 cached), 500 out
    //   = 6,000 × 0.15 + 4,000 × 0.075 + 500 × 0.6 = 900 + 300 + 300 = 1,500 each.
    let sub = Usage::openai(10_000, 4_000, 500);
    let mut subs = sub;
    subs.add(&sub);
    let usage = RunUsage {
        own: vec![ModelUsage {
            model: "claude-opus-4-6".into(),
            band: 0,
            usage: Usage::anthropic(1_000, 0, 0, 0, 200),
        }],
        subagents: vec![ModelUsage {
            model: "gpt-4o-mini".into(),
            band: 0,
            usage: subs,
        }],
    };
    let rc = RunCost::of(&t, &usage);
    assert_eq!(rc.own.money, hand(10_000.0));
    assert_eq!(rc.subagents.money, hand(3_000.0));
    // 10,000 + 2 × 1,500 = 13,000  →  $0.013
    assert_eq!(rc.total().money, hand(13_000.0));
    assert_eq!(rc.total().usage().calls, 3);
    let j = rc.json();
    assert_eq!(j["usd"], 0.013);
    assert_eq!(j["own_usd"], 0.01);
    assert_eq!(j["subagents_usd"], 0.003);
}

#[test]
fn an_unknown_model_is_unknown_never_zero() {
    let t = table();
    let mut c = Cost::default();
    c.add(&t, "acme-private-llm", 0, &Usage::openai(1_000, 0, 100));
    assert_eq!(c.money, Money(0));
    assert!(c.all_unknown());
    assert_eq!(c.short(), "unknown");
    assert_eq!(c.long(), "unknown (1 call, 1,100 tokens: acme-private-llm)");
    assert_eq!(c.json()["usd"], serde_json::Value::Null);
    assert_eq!(c.json()["unknown_tokens"], 1_100);
    // A total with a known part says how much it leaves out.
    // 1,000 × 0.15 + 100 × 0.6 = 150 + 60 = 210
    c.add(&t, "gpt-4o-mini", 0, &Usage::openai(1_000, 0, 100));
    c.add(&t, "", 0, &Usage::openai(5, 0, 5));
    assert_eq!(c.money, hand(210.0));
    assert_eq!(c.short(), "$0.0002+?");
    assert_eq!(
        c.long(),
        "$0.0002 + unknown (2 calls, 1,110 tokens: (no model), acme-private-llm)"
    );
    assert_eq!(c.json()["usd"], 0.00021);
    assert_eq!(c.json()["unknown_calls"], 2);
    // No usage at all is neither zero nor unknown: there is nothing to show.
    assert_eq!(Cost::default().short(), "");
    assert_eq!(Cost::default().long(), "-");
}

#[test]
fn a_span_is_priced_from_its_fields() {
    let t = table();
    let mut s = Span::new("m", "r", SpanKind::Llm, "chat", Origin::new("f", 1));
    assert_eq!(Cost::of_span(&t, &s), None, "no tokens: no cost at all");
    s.model = Some("claude-opus-4-6".into());
    Usage::anthropic(3, 15_005, 11_442, 0, 9).put(&mut s);
    assert_eq!(
        Cost::of_span(&t, &s).map(|c| c.money),
        Some(hand(99_742.25))
    );
}

#[test]
fn money_reads_like_money() {
    assert_eq!(Money(0).to_string(), "$0.00");
    assert_eq!(hand(12_345_678.0).to_string(), "$12.35");
    assert_eq!(hand(4_200.0).to_string(), "$0.0042");
    assert_eq!(hand(10.0).to_string(), "<$0.0001");
    assert_eq!(Money::from_usd(5.0), hand(5_000_000.0));
    assert_eq!(Money::from_usd(-1.0), Money(0));
    assert_eq!(format!("{:>8}", hand(1_000_000.0)), "   $1.00");
}

#[test]
fn a_reported_figure_is_shown_and_the_estimate_kept() {
    let t = PriceTable::default();
    let usage = RunUsage {
        own: vec![crate::usage::ModelUsage {
            model: "acme-x".into(),
            band: 0,
            usage: Usage::openai(100, 0, 10),
        }],
        subagents: Vec::new(),
    };
    let mut rc = RunCost::of(&t, &usage);
    assert_eq!(rc.short(), "unknown", "an empty table prices nothing");
    assert_eq!(rc.json()["usd_from"], "prices");
    assert!(rc.json()["reported_usd"].is_null());
    rc.reported = Some(Money::from_usd(0.0319246));
    assert_eq!(rc.short(), "$0.03");
    assert!(
        rc.long()
            .starts_with("$0.03 (agent's figure; priced unknown"),
        "{}",
        rc.long()
    );
    let j = rc.json();
    assert_eq!(j["usd_from"], "agent");
    assert!(
        (j["usd"].as_f64().unwrap() - 0.0319246).abs() < 1e-12,
        "{j}"
    );
    assert!(j["estimate_usd"].is_null(), "{j}");
    assert_eq!(j["unknown_calls"], 1, "{j}");
}
