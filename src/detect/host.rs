//! Hosts as the network sees them: one canonical spelling per host, so the
//! allowlist, the known-bad list and the loopback test cannot be stepped around.
//!
//! [`canonical`] lowercases, percent-decodes, maps full-width dots, drops
//! trailing dots and IPv6 zones, reads IPv4 the way `inet_aton` does (decimal
//! `2130706433`, hex `0x7f000001`, octal `0177.0.0.1`, short `127.1` and mixed
//! forms) and folds IPv4-mapped or -compatible IPv6 (`::ffff:7f00:1`) to its
//! IPv4 address. [`looks_encoded_label`] tells a DNS label that carries data
//! (hex, base32, base64url) from an ordinary name. Pure functions, no lookups.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A host in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Lowercase name without trailing dot, or the IP address in standard notation.
    pub name: String,
    /// The address, when the host is an IP literal in any spelling.
    pub ip: Option<IpAddr>,
}

/// At most this many bytes of a host are read (DNS names are ≤ 253).
const MAX_HOST: usize = 1024;

/// The canonical form of a host as written in a URL or an argument; `None`
/// when nothing host-like is left.
pub fn canonical(raw: &str) -> Option<Host> {
    if raw.len() > MAX_HOST {
        return None;
    }
    let mut h = percent_decode(raw.trim());
    // WHATWG URL host parsing maps these to "." before anything else.
    for dot in ['\u{3002}', '\u{ff0e}', '\u{ff61}'] {
        if h.contains(dot) {
            h = h.replace(dot, ".");
        }
    }
    let h = h.trim_matches(|c| c == '[' || c == ']');
    let h = h.split('%').next().unwrap_or(h); // IPv6 zone id
    let h = h.trim_end_matches('.').to_lowercase();
    if h.is_empty() {
        return None;
    }
    if let Some(ip) = parse_ip(&h).or_else(|| echoed_ip(&h)) {
        return Some(Host {
            name: ip.to_string(),
            ip: Some(ip),
        });
    }
    Some(Host { name: h, ip: None })
}

/// Wildcard DNS services that answer every name with the address written in
/// it (`169.254.169.254.nip.io`, `10-0-0-1.sslip.io`, `a9fea9fe.nip.io`): the
/// name is that address. (DNS behaviour of public services, not a rule list.)
const IP_ECHO_DOMAINS: &[&str] = &["nip.io", "sslip.io", "xip.io", "traefik.me", "backname.io"];

/// The address an IP-echo name (see [`IP_ECHO_DOMAINS`]) resolves to.
fn echoed_ip(h: &str) -> Option<IpAddr> {
    let prefix = IP_ECHO_DOMAINS
        .iter()
        .find_map(|d| h.strip_suffix(d)?.strip_suffix('.'))?;
    let labels: Vec<&str> = prefix.split('.').collect();
    if labels.len() >= 4 {
        let dotted = labels[labels.len() - 4..].join(".");
        if let Ok(ip) = dotted.parse::<Ipv4Addr>() {
            return Some(IpAddr::V4(ip));
        }
    }
    let last = labels.last()?;
    let dashed = last.rsplit('-').take(4).collect::<Vec<_>>();
    if dashed.len() == 4 {
        let v: Vec<&str> = dashed.into_iter().rev().collect();
        if let Ok(ip) = v.join(".").parse::<Ipv4Addr>() {
            return Some(IpAddr::V4(ip));
        }
    }
    if last.len() == 8 {
        if let Ok(n) = u32::from_str_radix(last, 16) {
            return Some(IpAddr::V4(Ipv4Addr::from(n)));
        }
    }
    None
}

/// The address a host names when it is an IP literal in any spelling.
pub fn parse_ip(h: &str) -> Option<IpAddr> {
    if h.contains(':') {
        let v6: Ipv6Addr = h.parse().ok()?;
        return Some(fold_v6(v6));
    }
    inet_aton(h).map(IpAddr::V4)
}

/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, not `::1`/`::`)
/// and NAT64 (`64:ff9b::a.b.c.d`) addresses reach an IPv4 host: name that host.
fn fold_v6(v6: Ipv6Addr) -> IpAddr {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let s = v6.segments();
    if s[..6] == [0, 0, 0, 0, 0, 0] && (s[6] != 0 || s[7] > 1) {
        return IpAddr::V4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return IpAddr::V4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    IpAddr::V6(v6)
}

/// IPv4 the way `inet_aton` (and so curl, ping and browsers) reads it: one to
/// four parts, each decimal, `0x` hex or `0`-led octal, the last part filling
/// the remaining bytes.
pub fn inet_aton(h: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = h.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        nums.push(number(p)?);
    }
    let last = *nums.last()?;
    let head = &nums[..nums.len() - 1];
    if head.iter().any(|n| *n > 255) {
        return None;
    }
    let room = 4 - head.len();
    if room < 4 && last >= 1u64 << (8 * room) {
        return None;
    }
    if last > u64::from(u32::MAX) {
        return None;
    }
    let mut v: u32 = 0;
    for (i, n) in head.iter().enumerate() {
        v |= (*n as u32) << (24 - 8 * i);
    }
    v |= last as u32;
    Some(Ipv4Addr::from(v))
}

fn number(p: &str) -> Option<u64> {
    if p.is_empty() || p.len() > 34 {
        return None;
    }
    if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        if hex.is_empty() {
            return Some(0);
        }
        return u64::from_str_radix(hex, 16).ok();
    }
    if p.len() > 1 && p.starts_with('0') {
        return u64::from_str_radix(&p[1..], 8).ok();
    }
    p.parse::<u64>().ok()
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True for loopback and unspecified addresses (`127.0.0.0/8`, `::1`, `0.0.0.0`, `::`).
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback() || ip.is_unspecified()
}

/// True when a DNS label carries data rather than a name: long, and made of
/// hex, base32 or base64url with the mix of letters and digits encoders leave.
pub fn looks_encoded_label(label: &str) -> bool {
    let n = label.len();
    if n < 24 {
        return false;
    }
    let alnum = label
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '=');
    if !alnum {
        return false;
    }
    let digits = label.chars().filter(|c| c.is_ascii_digit()).count();
    let letters = label.chars().filter(|c| c.is_ascii_alphabetic()).count();
    let hex = label.chars().all(|c| c.is_ascii_hexdigit());
    let dashes = label.chars().filter(|c| *c == '-').count();
    // Names people choose have words split by dashes; encoders do not.
    if dashes * 8 >= n {
        return false;
    }
    (hex && digits > 0 && letters > 0) || (digits * 10 >= n && letters * 3 >= n) || n >= 40
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_echo_names_are_their_address() {
        for (n, want) in [
            ("169.254.169.254.nip.io", "169.254.169.254"),
            ("app.169.254.169.254.nip.io", "169.254.169.254"),
            ("169-254-169-254.sslip.io", "169.254.169.254"),
            ("www.a9fea9fe.nip.io", "169.254.169.254"),
            ("127.0.0.1.nip.io.", "127.0.0.1"),
        ] {
            let h = canonical(n).unwrap();
            assert_eq!(h.name, want, "{n}");
        }
        assert!(canonical("nip.io").unwrap().ip.is_none());
        assert!(canonical("docs.sslip.io").unwrap().ip.is_none());
    }

    fn name(s: &str) -> String {
        canonical(s).map(|h| h.name).unwrap_or_default()
    }

    #[test]
    fn ipv4_in_every_spelling_is_one_address() {
        for s in [
            "127.0.0.1",
            "2130706433",
            "0x7f000001",
            "0x7F000001",
            "0177.0.0.1",
            "0177.0.0.01",
            "127.1",
            "127.0.1",
            "0x7f.1",
            "0x7f.0.0.0x1",
            "127.0.0.1.",
            "[::ffff:127.0.0.1]",
            "::ffff:7f00:1",
            "%31%32%37.0.0.1",
            "127。0。0。1",
        ] {
            assert_eq!(name(s), "127.0.0.1", "{s}");
            assert!(
                is_loopback(canonical(s).and_then(|h| h.ip).expect("ip")),
                "{s}"
            );
        }
        assert_eq!(name("3405803783"), "203.0.113.7");
        assert_eq!(name("0xcb.0x0.0x71.0x7"), "203.0.113.7");
        assert_eq!(name("0313.0.0161.07"), "203.0.113.7");
        assert_eq!(name("2852039166"), "169.254.169.254");
        assert_eq!(name("::ffff:a9fe:a9fe"), "169.254.169.254");
        assert_eq!(name("64:ff9b::cb00:7107"), "203.0.113.7");
        assert_eq!(name("0"), "0.0.0.0");
    }

    #[test]
    fn names_that_only_look_numeric_stay_names() {
        assert_eq!(name("1e100.net"), "1e100.net");
        assert_eq!(name("GitHub.COM."), "github.com");
        assert_eq!(name("256.1.1.1"), "256.1.1.1");
        assert!(canonical("256.1.1.1").and_then(|h| h.ip).is_none());
        assert!(canonical("1.2.3.4.5").and_then(|h| h.ip).is_none());
        assert!(
            canonical("08.1.1.1").and_then(|h| h.ip).is_none(),
            "8 is not octal"
        );
        assert_eq!(name("[2001:db8::1]"), "2001:db8::1");
        assert_eq!(name("fe80::1%eth0"), "fe80::1");
        assert!(!is_loopback("::2".parse().expect("v6")));
        assert_eq!(name("::1"), "::1");
    }

    #[test]
    fn encoded_labels_versus_names() {
        assert!(looks_encoded_label("4157535f5345435245545f4b45593d616263"));
        assert!(looks_encoded_label("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"));
        assert!(looks_encoded_label("QVdTX1NFQ1JFVF9LRVk9YWJjZGVmZ2g"));
        assert!(!looks_encoded_label("www"));
        assert!(!looks_encoded_label("my-service-staging-eu-west-1"));
        assert!(!looks_encoded_label("d111111abcdef8"));
        assert!(!looks_encoded_label("internationalization"));
    }
}
