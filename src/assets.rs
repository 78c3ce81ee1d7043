//! The built-in data files that detection and redaction load at every start,
//! in the JSON form `build.rs` converts them to (the TOML in `assets/` stays
//! the source): `serde_json` reads them in a fraction of the instructions
//! TOML's parser takes, which a short-lived process (the command hook, one per
//! tool call) pays on every event.

use serde::de::DeserializeOwned;

macro_rules! builtin {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(env!("OUT_DIR"), "/", $name, ".json")),
        )
    };
}

/// Each file as `build.rs` names it (`assets/` path, `/` as `_`) with its JSON.
const FILES: &[(&str, &str)] = &[
    builtin!("detect_canary.toml"),
    builtin!("detect_network.toml"),
    builtin!("detect_secrets.toml"),
    builtin!("detect_injection.toml"),
    builtin!("detect_catalogue.toml"),
    builtin!("detect_interpreters.toml"),
    builtin!("detect_evasion.toml"),
    builtin!("detect_disguise.toml"),
    builtin!("detect_tamper.toml"),
    builtin!("redaction_rules.toml"),
    builtin!("guard_policy.toml"),
];

/// Parses the built-in file `path` (under `assets/`, say `detect/canary.toml`)
/// into `T`. The error names the file and why; the files are checked by
/// `every_builtin_file_is_its_toml` and by each loader's own tests.
pub fn parse<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    let key = path.replace('/', "_");
    let Some((_, json)) = FILES.iter().find(|(n, _)| *n == key) else {
        return Err(format!("{path}: not a built-in data file"));
    };
    serde_json::from_str(json).map_err(|e| format!("{path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TOML each file is made from, read from the tree now.
    fn toml_of(key: &str) -> String {
        let rel = key.replacen('_', "/", 1);
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets")
            .join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn every_builtin_file_is_its_toml() {
        for (key, json) in FILES {
            let from_toml: toml::Value = toml::from_str(&toml_of(key)).expect("TOML parses");
            let want = serde_json::to_value(&from_toml).expect("converts");
            let got: serde_json::Value = serde_json::from_str(json).expect("JSON parses");
            assert_eq!(got, want, "{key} differs from its TOML");
        }
    }

    #[test]
    fn a_file_is_parsed_into_its_type_and_an_unknown_one_is_an_error() {
        #[derive(serde::Deserialize)]
        struct Tamper {
            paths: Vec<String>,
        }
        let t: Tamper = parse("detect/tamper.toml").expect("tamper.toml");
        assert!(!t.paths.is_empty());
        let Err(e) = parse::<Tamper>("detect/nope.toml") else {
            panic!("an unknown file parsed");
        };
        assert!(e.contains("detect/nope.toml"), "{e}");
        let e = parse::<Vec<String>>("detect/canary.toml").expect_err("wrong shape");
        assert!(e.starts_with("detect/canary.toml: "), "{e}");
    }
}
