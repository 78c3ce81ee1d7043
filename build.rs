//! Converts the built-in TOML data files the detector and the redactor load at
//! start into JSON in `OUT_DIR`, which `src/assets.rs` embeds and parses with
//! `serde_json`: a short-lived process (the command hook) parses them in a
//! fraction of the instructions TOML takes. The TOML files in `assets/` stay
//! the source; nothing here is checked in.

use std::path::Path;

/// The TOML files converted (paths under `assets/`); `src/assets.rs` names
/// the same list.
const FILES: &[&str] = &[
    "detect/canary.toml",
    "detect/network.toml",
    "detect/secrets.toml",
    "detect/injection.toml",
    "detect/catalogue.toml",
    "detect/interpreters.toml",
    "detect/evasion.toml",
    "detect/disguise.toml",
    "detect/tamper.toml",
    "redaction/rules.toml",
    "guard/policy.toml",
];

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for f in FILES {
        let src = Path::new("assets").join(f);
        println!("cargo:rerun-if-changed={}", src.display());
        let text = std::fs::read_to_string(&src)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", src.display()));
        let value: toml::Value = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", src.display()));
        check(f, &value);
        let json = serde_json::to_string(&value).expect("a TOML value converts to JSON");
        let dest = Path::new(&out).join(f.replace('/', "_") + ".json");
        std::fs::write(&dest, json)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// A TOML date or time has no JSON form the loaders would read the same way.
fn check(file: &str, v: &toml::Value) {
    match v {
        toml::Value::Datetime(_) => panic!("{file}: dates are not supported in built-in data"),
        toml::Value::Array(a) => a.iter().for_each(|v| check(file, v)),
        toml::Value::Table(t) => t.values().for_each(|v| check(file, v)),
        _ => {}
    }
}
