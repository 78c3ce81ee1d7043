use super::*;

fn tax() -> Taxonomy {
    Taxonomy::load(&DetectionConfig::default()).expect("built-in data")
}

#[test]
fn detection_off_compiles_no_rule_data() {
    let t = Taxonomy::load(&DetectionConfig {
        enabled: Some(false),
        credential_paths: vec!["~/.mine/**".into()],
        ..DetectionConfig::default()
    })
    .expect("load");
    assert!(!t.enabled);
    assert!(t.credential("~/.aws/credentials").is_none());
    assert!(
        t.credential("~/.mine/key").is_none(),
        "user additions ignored too"
    );
    let on = Taxonomy::load(&DetectionConfig::default()).expect("load");
    assert!(on.enabled && on.credential("~/.aws/credentials").is_some());
}

#[test]
fn home_spellings_normalise() {
    assert_eq!(normalise_path("/home/alice/.ssh/id_rsa"), "~/.ssh/id_rsa");
    assert_eq!(
        normalise_path("/Users/bob/.aws/credentials"),
        "~/.aws/credentials"
    );
    assert_eq!(normalise_path("$HOME/.netrc"), "~/.netrc");
    assert_eq!(normalise_path("${HOME}/.netrc"), "~/.netrc");
    assert_eq!(normalise_path("/root/.kube/config"), "~/.kube/config");
    assert_eq!(normalise_path("./.env"), ".env");
}

#[test]
fn credential_globs() {
    let t = tax();
    for p in [
        "~/.ssh/id_rsa",
        "/home/u/.ssh/id_ed25519",
        "~/.aws/credentials",
        ".env",
        "/srv/app/.env.production",
        "~/.kube/config",
        "~/.docker/config.json",
        "~/.gnupg/private-keys-v1.d/x.key",
        "~/.config/solana/id.json",
        "~/.mozilla/firefox/abc.default/logins.json",
        "~/snap/firefox/common/.mozilla/firefox/abc.default-release/key4.db",
        ".mozilla/firefox/abc.default-release/logins.json",
        // files that hold logins by their format count in any folder
        ".netrc",
        "/srv/app/.netrc",
        "deploy/.git-credentials",
        ".config/gh/hosts.yml",
        "/tmp/x/.pgpass",
    ] {
        assert!(t.credential(p).is_some(), "{p}");
    }
    for p in [
        "README.md",
        "src/env.rs",
        ".env.example",
        "~/.ssh/id_rsa.pub",
        "docs/.environment",
        "src/password_field.rs",
        "docs/netrc.md",
        ".npmrc",
        "src/gh/hosts.yml",
    ] {
        assert!(t.credential(p).is_none(), "{p}");
    }
}

#[test]
fn domains_and_env_names() {
    let t = tax();
    assert!(t.allow.contains("pypi.org"));
    assert!(t.allow.contains("files.pythonhosted.org"));
    assert!(!t.allow.contains("evilpypi.org"));
    assert!(t.known_bad.contains("abc123.ngrok-free.app"));
    assert!(t.known_bad.contains("pastebin.com"));
    assert!(!t.known_bad.contains("github.com"));
    assert!(t.secret_env("OPENAI_API_KEY"));
    assert!(t.secret_env("aws_secret_access_key"));
    assert!(!t.secret_env("HOME"));
    assert!(!t.secret_env("SSH_AUTH_SOCK"));
    assert!(t.persistence.matches("~/.bashrc").is_some());
    assert!(t
        .persistence
        .matches("/home/u/.ssh/authorized_keys")
        .is_some());
    assert!(t.persistence.matches("src/main.rs").is_none());
}

#[test]
fn config_extends_data() {
    let cfg = DetectionConfig {
        allow_domains: vec!["internal.example".into()],
        credential_paths: vec!["~/secrets/*".into()],
        ..Default::default()
    };
    let t = Taxonomy::load(&cfg).expect("load");
    assert!(t.allow.contains("api.internal.example"));
    assert!(t.credential("~/secrets/db.txt").is_some());
}

#[test]
fn env_code_patterns_compile_and_match() {
    // Compiled on first use: a pattern that did not compile would match nothing.
    let t = tax();
    t.env_code.compile().expect("env code patterns");
    assert!(t.env_code.is_match("print(os.environ)"));
}

#[test]
fn a_glob_reads_a_credential_when_it_can_match_one_in_any_folder_the_pattern_allows() {
    let t = tax();
    // `**/.netrc` holds directly in the home folder too, not only below it
    for g in [
        "~/.net*",
        "~/.git-cred*",
        "./.netr?",
        "/srv/app/.pgp*",
        "~/.ss*/id_*",
        "*.pem",
        "~/**/id_*",
        "~/projects/*/.env",
        // one-character classes are literals; a name with no `*` and mostly
        // literal characters is specific; a specific glob of a credential folder
        "~/.[n]etrc",
        "~/.?etrc",
        "~/.aw*",
        "~/.s[s]h/id_rsa",
    ] {
        assert!(t.credential_at(g, Some("/home/u/proj")).is_some(), "{g}");
    }
    for g in [
        "~/.bash*rc",
        "src/*.rs",
        "~/notes/*.md",
        "*",
        "src/*",
        "*.txt",
        "./*",
        "src/co*",
        "docs/?.md",
    ] {
        assert!(t.credential_at(g, Some("/home/u/proj")).is_none(), "{g}");
    }
    for g in ["*", "src/*", "*.txt", "*/*"] {
        assert!(t.credential_at(g, None).is_none(), "{g} without a cwd");
    }
}

#[test]
fn name_sets_compile_and_escape_as_regex_escape_does() {
    for c in "a.b+c(d)[e]{f}^$|\\?*#&-~ é/\u{1F600}".chars() {
        let mut got = String::new();
        sets::escape_into(c, &mut got);
        assert_eq!(got, regex::escape(&c.to_string()), "{c:?}");
    }
    let t = tax();
    t.warm();
    assert!(t.secret_env("AWS_SECRET_ACCESS_KEY"));
    assert!(!t.secret_env("PATH"));
    let cfg = DetectionConfig {
        secret_env_names: vec!["MY_*_TOKEN".into(), "odd.name(1)".into()],
        ..DetectionConfig::default()
    };
    let t = Taxonomy::load(&cfg).expect("load");
    assert!(t.secret_env("MY_DEPLOY_TOKEN"));
    assert!(t.secret_env("odd.name(1)"));
    assert!(!t.secret_env("oddxname(1)"), "a dot is literal");
}
