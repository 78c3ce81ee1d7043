#!/usr/bin/env python3
"""Generates assets/pricing/prices.toml, skilltrace's offline price table.

Usage: gen_prices.py [--from FILE] [--version VERSION] [--date YYYY-MM-DD] [-o OUT]

The source is LiteLLM's `model_prices_and_context_window.json` (MIT licence,
Copyright (c) 2023 Berri AI), the community-kept price list that ships inside
the `litellm` package on PyPI. Without --from, the script downloads the wheel of
litellm VERSION (default: the one the current table was made from) with pip,
without dependencies, and reads the JSON inside it. --from takes that JSON file
or a litellm wheel. Nothing is fetched at run time: skilltrace embeds the table.

What is kept: chat, responses and completion models of the first-party APIs
(Anthropic, OpenAI, Google Gemini, xAI, DeepSeek, Mistral), then, for names
those lack (retired Claude models, for instance), the same models as Vertex AI
and Amazon Bedrock list them. Names are the ones agents write in their traces:
provider prefixes ("gemini/", "xai/"), Bedrock's region and "anthropic."
prefixes and "-v1:0" suffixes are taken off, and Vertex's "@date" becomes
"-date". Prices are US dollars per million tokens: input, output, cache read,
cache write (5-minute), cache write (1-hour), and long-context tiers (the price
of every token of a call whose prompt is above a threshold). Batch, flex and
priority prices are left out: traces do not say which tier a call used.
"""
import argparse
import datetime
import decimal
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

DEFAULT_VERSION = "1.110.2"
JSON_IN_WHEEL = "litellm/model_prices_and_context_window_backup.json"
PRIMARY = ["anthropic", "openai", "gemini", "xai", "deepseek", "mistral"]
FALLBACK = [
    "vertex_ai-language-models",
    "vertex_ai-anthropic_models",
    "bedrock_converse",
    "bedrock",
]
MODES = {"chat", "responses", "completion"}
REGION = re.compile(r"^(?:us|eu|apac|global|jp|au|us-gov|ca)\.")
TIER = re.compile(r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|"
                  r"cache_creation_input_token_cost|cache_creation_input_token_cost_above_1hr)"
                  r"_above_(\d+)k_tokens$")
FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
}


def per_million(x) -> str:
    """A per-token dollar price as dollars per million tokens, in plain decimal."""
    d = (decimal.Decimal(repr(float(x))) * 1_000_000).normalize()
    s = format(d, "f")
    return s if "." in s else s + ".0"


def canonical(key: str, provider: str) -> str:
    name = key.rsplit("/", 1)[-1]
    if provider.startswith("bedrock"):
        name = REGION.sub("", name)
        if not name.startswith("anthropic."):
            return ""
        name = name[len("anthropic."):]
        name = re.sub(r"-v\d+:0$", "", name)
    name = name.replace("@", "-")
    return name.lower()


def rates(entry: dict) -> dict:
    out = {}
    for k, short in FIELDS.items():
        v = entry.get(k)
        if isinstance(v, (int, float)) and v >= 0:
            out[short] = per_million(v)
    return out


def tiers(entry: dict) -> list:
    by = {}
    for k, v in entry.items():
        m = TIER.match(k)
        if not m or not isinstance(v, (int, float)):
            continue
        above = int(m.group(2)) * 1000
        by.setdefault(above, {})[FIELDS[m.group(1)]] = per_million(v)
    # A 1-hour cache write above a threshold: LiteLLM spells it
    # cache_creation_input_token_cost_above_1hr_above_<N>k_tokens.
    for k, v in entry.items():
        m = re.match(r"^cache_creation_input_token_cost_above_1hr_above_(\d+)k_tokens$", k)
        if m and isinstance(v, (int, float)):
            by.setdefault(int(m.group(1)) * 1000, {})["cache_write_1h"] = per_million(v)
    order = list(FIELDS.values())
    return [
        dict(above=a, **{k: r[k] for k in order if k in r})
        for a, r in sorted(by.items())
        if "input" in r or "output" in r
    ]


def select(data: dict) -> dict:
    ranked = []
    for key, e in data.items():
        if not isinstance(e, dict):
            continue
        provider = e.get("litellm_provider")
        if provider not in PRIMARY and provider not in FALLBACK:
            continue
        if e.get("mode") not in MODES:
            continue
        if not isinstance(e.get("input_cost_per_token"), (int, float)):
            continue
        if not isinstance(e.get("output_cost_per_token"), (int, float)):
            continue
        name = canonical(key, provider)
        if not name:
            continue
        rank = (PRIMARY + FALLBACK).index(provider)
        # Plain keys before regional or routed ones (us-gov Bedrock prices differ).
        ranked.append((rank, key.count("/"), bool(REGION.match(key)), key, name, provider, e))
    ranked.sort(key=lambda r: r[:4])
    models = {}
    for _, _, _, key, name, provider, e in ranked:
        if name in models:
            continue
        row = {"provider": provider, **rates(e)}
        t = tiers(e)
        if t:
            row["tiers"] = t
        models[name] = row
    return dict(sorted(models.items()))


def toml_str(s: str) -> str:
    return json.dumps(s)


def inline(d: dict) -> str:
    parts = []
    for k, v in d.items():
        if k == "tiers":
            parts.append("tiers = [" + ", ".join(inline(t) for t in v) + "]")
        elif k == "provider":
            parts.append(f"provider = {toml_str(v)}")
        else:
            parts.append(f"{k} = {v}")
    return "{ " + ", ".join(parts) + " }"


def load(src: str):
    """The price JSON and a description of where it came from."""
    if src.endswith(".whl"):
        with open(src, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        with zipfile.ZipFile(src) as z:
            data = json.loads(z.read(JSON_IN_WHEEL))
        return data, f"{os.path.basename(src)} (sha256 {digest})"
    with open(src, "rb") as f:
        raw = f.read()
    return json.loads(raw), f"{os.path.basename(src)} (sha256 {hashlib.sha256(raw).hexdigest()})"


def download(version: str, into: str) -> str:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", f"litellm=={version}", "--no-deps",
         "--only-binary", ":all:", "-q", "-d", into],
        check=True,
    )
    wheels = [f for f in os.listdir(into) if f.endswith(".whl")]
    if not wheels:
        sys.exit("error: pip downloaded no litellm wheel")
    return os.path.join(into, wheels[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="src", help="LiteLLM price JSON or litellm wheel")
    ap.add_argument("--version", default=DEFAULT_VERSION, help="litellm version to download")
    ap.add_argument("--date", default=datetime.date.today().isoformat(),
                    help="snapshot date written in the header (default: today)")
    ap.add_argument("-o", "--output", default=os.path.join(
        os.path.dirname(__file__), "..", "assets", "pricing", "prices.toml"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = a.src or download(a.version, tmp)
        data, origin = load(src)
    models = select(data)
    bands = sorted({t["above"] for m in models.values() for t in m.get("tiers", [])})
    lines = [
        "# skilltrace's offline price table: US dollars per million tokens.",
        "# GENERATED by scripts/gen_prices.py; edit the script, not this file, and",
        "# override or extend prices in the config ([pricing] in README.md).",
        "#",
        "# Source: LiteLLM's model_prices_and_context_window.json, as shipped in the",
        f"# litellm {a.version} package on PyPI: {origin}.",
        "# Licence of the source: MIT, Copyright (c) 2023 Berri AI (assets/pricing/LICENSE-litellm).",
        f"# Snapshot taken {a.date}. Prices change: regenerate with",
        "#   python3 scripts/gen_prices.py --version <newer litellm>",
        "#",
        "# input: uncached prompt tokens; cache_read / cache_write / cache_write_1h:",
        "# prompt tokens read from or written to the provider's cache (5 minutes / 1 hour);",
        "# output: completion tokens, reasoning included. A tier prices every token of a",
        "# call whose prompt (cached tokens included) is above `above` tokens.",
        "",
        "# Prompt-size thresholds of every tier below; the store files each call",
        "# under the highest one its prompt exceeds, so tiers are priced exactly.",
        "bands = [" + ", ".join(str(b) for b in bands) + "]",
        "",
        "[source]",
        'name = "LiteLLM model_prices_and_context_window.json"',
        f'package = "litellm {a.version} (PyPI)"',
        'licence = "MIT, Copyright (c) 2023 Berri AI"',
        f'snapshot = "{a.date}"',
        "",
        "[models]",
    ]
    for name, row in models.items():
        lines.append(f"{toml_str(name)} = {inline(row)}")
    out = os.path.abspath(a.output)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{out}: {len(models)} models, bands {bands}", file=sys.stderr)


if __name__ == "__main__":
    main()
