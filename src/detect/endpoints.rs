//! The connections a command makes: curl and friends, wget, nc, socat, ssh,
//! scp, rsync, sftp, ftp, git (with remotes added on the line), DNS tools and
//! ping (data hidden in names or ping patterns), package installs from URLs or
//! unknown indexes, `/dev/tcp`, and whether each connection *sends* data
//! (request body, upload, piped input, command output in the URL, encoded
//! DNS labels). Hosts are canonical (see `host.rs`).

use super::host;
use super::network::{host_of, unc_host};
use super::shell::{Command, RedirectKind};
use super::taxonomy::Taxonomy;

mod code;
use code::{git, installs};

/// A connection made by a command or tool.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub host: String,
    /// The URL or address as written (for evidence).
    pub target: String,
    /// True when data is sent (body, upload, piped input, output in the URL).
    pub sends: bool,
    /// Tool or command that made it.
    pub by: String,
    /// A push to a git remote the line (or the run) added.
    pub new_remote: bool,
    /// A package (or package index) fetched to install: its install scripts run.
    pub install: bool,
}

/// Options that take a value, per command (so their value is not read as a host).
fn value_options(name: &str) -> &'static [&'static str] {
    match name {
        "curl" => &[
            "-o",
            "--output",
            "-X",
            "--request",
            "-H",
            "--header",
            "-d",
            "--data",
            "--data-raw",
            "--data-binary",
            "--data-urlencode",
            "--json",
            "-F",
            "--form",
            "-u",
            "--user",
            "-A",
            "--user-agent",
            "-e",
            "--referer",
            "-T",
            "--upload-file",
            "-m",
            "--max-time",
            "--connect-timeout",
            "-w",
            "--write-out",
            "-x",
            "--proxy",
            "-b",
            "--cookie",
            "-c",
            "--cookie-jar",
            "--retry",
            "-K",
            "--config",
            "--cacert",
            "--cert",
            "--key",
            "-E",
            "-r",
            "--range",
            "-z",
            "--resolve",
            "--limit-rate",
            "-Y",
            "-y",
            "--url",
        ],
        "wget" => &[
            "-O",
            "--output-document",
            "-o",
            "--output-file",
            "-P",
            "--directory-prefix",
            "--header",
            "--post-data",
            "--post-file",
            "--body-data",
            "--body-file",
            "--method",
            "-U",
            "--user-agent",
            "-t",
            "--tries",
            "-T",
            "--timeout",
            "--user",
            "--password",
            "-e",
            "--execute",
        ],
        "nc" | "ncat" | "netcat" => &[
            "-p", "-s", "-w", "-e", "-c", "-x", "-X", "-i", "-q", "-I", "-O",
        ],
        "ssh" => &[
            "-p", "-i", "-l", "-o", "-F", "-L", "-R", "-D", "-J", "-W", "-b", "-c", "-E", "-m",
            "-S",
        ],
        "scp" | "sftp" => &["-P", "-i", "-o", "-F", "-l", "-c", "-J", "-S"],
        "rsync" => &[
            "-e",
            "--rsh",
            "--exclude",
            "--include",
            "--filter",
            "-f",
            "--port",
        ],
        "dig" | "nslookup" | "host" | "drill" => &["-t", "-p", "-c", "-q", "-x", "-k", "-y"],
        "ping" | "ping6" => &[
            "-c", "-i", "-W", "-w", "-s", "-I", "-p", "-t", "-l", "-Q", "-m",
        ],
        "telnet" => &["-l", "-b"],
        "ftp" | "lftp" | "ncftp" | "tftp" => &["-u", "-p", "-P", "-e", "-c", "-m", "-l"],
        "xh" | "curlie" | "http" | "https" => &["-a", "--auth", "-o", "--output", "--session"],
        _ => &[],
    }
}

/// Non-option arguments of `cmd` (skipping option values).
fn positionals(cmd: &Command) -> Vec<String> {
    let name = cmd.name();
    let vo = value_options(&name);
    let mut out = Vec::new();
    let args = cmd.args();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            out.extend(args[i + 1..].iter().cloned());
            break;
        }
        if a.starts_with('-') && a.len() > 1 {
            if vo.contains(&a.as_str()) {
                i += 1;
            }
        } else {
            out.push(a.clone());
        }
        i += 1;
    }
    out
}

fn piped_input(cmd: &Command) -> bool {
    !cmd.piped_from.is_empty()
        || !cmd.stdin_from.is_empty()
        || cmd.sends_stdin
        || cmd.redirects.iter().any(|r| {
            // `< /dev/null` gives the command nothing to send
            matches!(r.kind, RedirectKind::HereString | RedirectKind::HereDoc)
                || (r.kind == RedirectKind::Read && r.target != "/dev/null")
        })
}

fn dynamic_url(u: &str) -> bool {
    u.contains("$(…)") || u.contains('$') || u.contains('`')
}

/// DNS record types, which `dig`, `drill` and `host` take as an operand.
const DNS_TYPES: &[&str] = &[
    "A", "AAAA", "TXT", "MX", "NS", "SOA", "CNAME", "PTR", "SRV", "ANY", "CAA", "DNSKEY", "DS",
    "HINFO", "NAPTR", "NULL", "SPF", "AXFR", "IXFR",
];

/// Curl-like commands and HTTPie-like ones (`http POST host a=b`).
const CURL_LIKE: &[&str] = &["curl", "lwp-request", "aria2c", "axel", "fetch", "wput"];
const HTTPIE_LIKE: &[&str] = &["http", "https", "httpie", "xh", "curlie"];

/// The connections one command makes.
pub fn endpoints(cmd: &Command, tax: &Taxonomy) -> Vec<Endpoint> {
    let name = cmd.name();
    let mut out: Vec<Endpoint> = Vec::new();
    let by = cmd.display();
    let push = |out: &mut Vec<Endpoint>, target: &str, host: Option<String>, sends: bool| {
        if let Some(h) = host.and_then(|h| host::canonical(&h)).map(|h| h.name) {
            // a name with an encoded label leaks data to its DNS server on lookup
            let leaks = h.split('.').any(host::looks_encoded_label);
            out.push(Endpoint {
                host: h,
                target: target.to_string(),
                sends: sends || leaks,
                by: by.clone(),
                new_remote: false,
                install: false,
            });
        }
    };
    // /dev/tcp/HOST/PORT redirections (bash network pseudo-files).
    for r in &cmd.redirects {
        if let Some(rest) = r
            .target
            .strip_prefix("/dev/tcp/")
            .or_else(|| r.target.strip_prefix("/dev/udp/"))
        {
            let host = rest.split('/').next().unwrap_or("").to_string();
            push(&mut out, &r.target, Some(host), true);
        }
    }
    // a tunnel or a cloud copy: the host is the service's, not on the line
    for (words, implied) in &tax.implied_hosts {
        if super::access::command_matches(cmd, words) {
            push(
                &mut out,
                &words.join(" "),
                Some(implied.host.clone()),
                implied.sends,
            );
        }
    }
    // a copy to a Windows share or WebDAV folder (`copy F \\host\share`, `cp F
    // //host/share`, `Copy-Item F \\host@SSL\dav`) or a share mounted (`net use Z:
    // \\host\share`, `New-PSDrive -Root …`): a share named after the first word
    // is where data goes
    if tax.share_commands.contains(&name) {
        // Windows switches (`/s`, `/user:x` is longer and kept) are not words
        let switch = |a: &str| a.starts_with('/') && !a.starts_with("//") && a.len() <= 4;
        let words = cmd
            .args()
            .iter()
            .filter(|a| !a.starts_with('-') && !switch(a));
        for (i, w) in words.enumerate() {
            if let Some(h) = unc_host(w) {
                push(&mut out, w, Some(h.to_string()), i > 0);
            }
        }
    }
    let n = name.as_str();
    if CURL_LIKE.contains(&n) || HTTPIE_LIKE.contains(&n) {
        let sends_flag = [
            "-d",
            "--data",
            "--data-raw",
            "--data-binary",
            "--data-urlencode",
            "--data-ascii",
            "--json",
            "-F",
            "--form",
            "--form-string",
            "-T",
            "--upload-file",
        ]
        .iter()
        .any(|f| cmd.has_flag(f))
            || matches!(
                cmd.flag_value("-X").or(cmd.flag_value("--request")),
                Some(m) if ["POST", "PUT", "PATCH"].contains(&m.to_ascii_uppercase().as_str())
            );
        let httpie = HTTPIE_LIKE.contains(&n);
        let httpie_data = httpie
            && cmd.args().iter().any(|a| {
                (a.contains('=') || a.contains(":=") || a.contains('@'))
                    && !a.starts_with('-')
                    && !a.contains("://")
            });
        let mut targets = positionals(cmd);
        if let Some(u) = cmd.flag_value("--url") {
            targets.push(u.to_string());
        }
        for t in targets {
            if httpie
                && (["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(&t.as_str())
                    || (t.contains('=') && !t.contains("://")))
            {
                continue;
            }
            if t.starts_with("file:") {
                continue;
            }
            let sends =
                sends_flag || httpie_data || piped_input(cmd) || dynamic_url(&t) || n == "wput";
            push(&mut out, &t, host_of(&t), sends);
        }
        // the request really goes to a proxy, or to an address given for the name
        let sends = sends_flag || piped_input(cmd);
        if let Some(p) = cmd.flag_value("--proxy").or_else(|| cmd.short_value('x')) {
            let h = host_of(p).or_else(|| host_of(&format!("http://{p}")));
            push(&mut out, p, h, sends);
        }
        for f in ["--resolve", "--connect-to"] {
            if let Some(v) = cmd.flag_value(f) {
                // HOST:PORT:ADDR  /  HOST:PORT:ADDR2:PORT2
                let parts: Vec<&str> = v.split(':').collect();
                if let Some(addr) = parts.get(2) {
                    let addr = addr.trim_matches(|c| c == '[' || c == ']');
                    push(&mut out, v, Some(addr.to_string()), sends);
                }
            }
        }
    } else if ["invoke-webrequest", "iwr", "invoke-restmethod", "irm"].contains(&n) {
        // PowerShell's web cmdlets: `-Uri URL -Method Post -Body … -InFile …`
        let lower: Vec<String> = cmd.args().iter().map(|a| a.to_ascii_lowercase()).collect();
        let value_of = |flag: &str| {
            lower
                .iter()
                .position(|a| a == flag)
                .and_then(|i| cmd.args().get(i + 1))
                .map(String::as_str)
        };
        let method_sends = value_of("-method")
            .map(|m| ["post", "put", "patch"].contains(&m.to_ascii_lowercase().as_str()))
            .unwrap_or(false);
        let sends = method_sends
            || lower
                .iter()
                .any(|a| a == "-body" || a == "-infile" || a == "-form")
            || piped_input(cmd);
        let url = value_of("-uri")
            .map(str::to_string)
            .or_else(|| cmd.args().iter().find(|a| a.contains("://")).cloned());
        if let Some(u) = url {
            let s = sends || dynamic_url(&u);
            push(&mut out, &u, host_of(&u), s);
        }
    } else if n == "wget" {
        let sends = ["--post-data", "--post-file", "--body-data", "--body-file"]
            .iter()
            .any(|f| cmd.has_flag(f))
            || matches!(cmd.flag_value("--method"), Some(m) if ["post", "put", "patch"].contains(&m.to_ascii_lowercase().as_str()));
        for t in positionals(cmd) {
            let s = sends || dynamic_url(&t);
            push(&mut out, &t, host_of(&t), s);
        }
    } else if [
        "nc", "ncat", "netcat", "pwncat", "cryptcat", "sbd", "telnet",
    ]
    .contains(&n)
    {
        let listen = cmd.has_flag("-l") || cmd.has_flag("--listen");
        if let Some(h) = positionals(cmd).first() {
            if !listen {
                push(
                    &mut out,
                    h,
                    Some(h.clone()),
                    piped_input(cmd) || cmd.has_flag("-e") || cmd.has_flag("-c"),
                );
            }
        }
    } else if n == "ztcp" {
        if let Some(h) = positionals(cmd).first() {
            push(&mut out, h, Some(h.clone()), true);
        }
    } else if n == "socat" {
        for a in cmd.args() {
            let lower = a.to_ascii_lowercase();
            for pre in [
                "tcp:",
                "tcp4:",
                "tcp6:",
                "openssl:",
                "udp:",
                "udp4:",
                "tcp-connect:",
                "openssl-connect:",
                "ssl:",
            ] {
                if let Some(rest) = lower.strip_prefix(pre) {
                    let host = rest.split([':', ',']).next().unwrap_or("").to_string();
                    push(&mut out, a, Some(host), true);
                }
            }
        }
    } else if n == "openssl" {
        // `openssl s_client -connect host:port`
        if let Some(hp) = cmd.flag_value("-connect") {
            let host = hp.rsplit_once(':').map(|x| x.0).unwrap_or(hp).to_string();
            push(&mut out, hp, Some(host), piped_input(cmd));
        }
    } else if n == "ssh" {
        if let Some(h) = positionals(cmd).first() {
            let host = h.rsplit('@').next().unwrap_or(h).to_string();
            let runs_remote = positionals(cmd).len() > 1;
            push(
                &mut out,
                h,
                Some(host),
                piped_input(cmd) || (runs_remote && !cmd.subst_ids.is_empty()),
            );
        }
    } else if ["scp", "rsync", "sftp"].contains(&n) {
        let pos = positionals(cmd);
        let count = pos.len();
        for (i, p) in pos.iter().enumerate() {
            if let Some(host) = remote_spec_host(p) {
                // the last argument is the destination: data goes there
                push(
                    &mut out,
                    p,
                    Some(host),
                    i + 1 == count && count > 1 || n == "sftp",
                );
            } else if p.contains("://") {
                push(&mut out, p, host_of(p), i + 1 == count || n == "sftp");
            } else if n == "sftp" {
                if let Some(h) = host_like(p) {
                    push(&mut out, p, Some(h), true);
                }
            }
        }
    } else if ["ftp", "lftp", "ncftp", "ncftpput", "tftp", "tnftp"].contains(&n) {
        let here_put = cmd.redirects.iter().any(|r| {
            matches!(r.kind, RedirectKind::HereString | RedirectKind::HereDoc)
                && r.target
                    .split_whitespace()
                    .any(|w| ["put", "mput", "send", "append"].contains(&w))
        });
        let arg_put = cmd
            .args()
            .iter()
            .any(|a| ["put", "mput", "send"].contains(&a.as_str()) || a.contains("put "));
        let sends = here_put || arg_put || n == "ncftpput" || piped_input(cmd);
        for p in positionals(cmd) {
            if p.contains("://") {
                push(&mut out, &p, host_of(&p), sends);
            } else if let Some(h) = host_like(&p) {
                push(&mut out, &p, Some(h), sends);
                break;
            }
        }
    } else if n == "gh" {
        // the GitHub CLI: gists, issues, comments, secrets and raw API calls carry data
        let a: Vec<&str> = cmd.args().iter().map(String::as_str).collect();
        let sends = matches!(
            a.as_slice(),
            ["gist", "create" | "edit", ..]
                | ["issue" | "pr", "create" | "comment" | "edit", ..]
                | ["secret" | "variable", "set", ..]
                | ["release", "create" | "upload", ..]
        ) || (a.first() == Some(&"api")
            && a.iter().any(|x| {
                ["-f", "-F", "--field", "--raw-field", "--input"].contains(x)
                    || x.starts_with("--field=")
                    || x.starts_with("--input=")
            }));
        if sends {
            push(&mut out, "gh", Some("github.com".to_string()), true);
        }
    } else if n == "git" {
        git(cmd, &mut out, &by);
    } else if [
        "dig",
        "nslookup",
        "host",
        "drill",
        "ping",
        "ping6",
        "resolvectl",
        "getent",
    ]
    .contains(&n)
    {
        let pos = positionals(cmd);
        let names: Vec<&String> = match n {
            "resolvectl" => pos.iter().skip(1).collect(),
            "getent" => pos.iter().skip(1).collect(),
            // The destination is ping's last operand: Windows' `ping -n 10
            // 127.0.0.1` counts with an option Linux reads as a flag.
            "ping" | "ping6" => pos.last().into_iter().collect(),
            _ => pos
                .iter()
                .filter(|p| {
                    !p.starts_with('@')
                        && !p.starts_with('+')
                        && !DNS_TYPES.contains(&p.to_ascii_uppercase().as_str())
                })
                .take(1)
                .collect(),
        };
        let pattern = n.starts_with("ping") && cmd.flag_value("-p").is_some();
        for h in names {
            let dynamic = dynamic_url(h);
            let host = h.trim_end_matches('.').to_ascii_lowercase();
            if dynamic {
                // DNS exfiltration: the data is in the name; classify by the parent domain
                let parent: Vec<&str> = host.rsplit('.').take(2).collect();
                let parent: Vec<&str> = parent.into_iter().rev().collect();
                push(&mut out, h, Some(parent.join(".")), true);
            } else if host.contains('.')
                || host.parse::<std::net::IpAddr>().is_ok()
                || host::inet_aton(&host).is_some()
            {
                push(&mut out, h, Some(host), pattern);
            }
        }
    }
    installs(cmd, tax, &mut out, &by);
    // URLs inside interpreter code the normaliser did not turn into commands
    if cmd.interp.is_none() {
        if let Some(code) = &cmd.code {
            let sends = code.contains("post") || code.contains("POST") || code.contains("send");
            for u in super::network::urls_in(code) {
                push(&mut out, &u, host_of(&u), sends);
            }
        }
    }
    out
}

/// A bare host argument: an IP address or a dotted name.
fn host_like(s: &str) -> Option<String> {
    let s = s.rsplit('@').next().unwrap_or(s);
    let ok = !s.is_empty()
        && !s.contains('/')
        && (s.contains('.') || s.parse::<std::net::IpAddr>().is_ok())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    ok.then(|| s.to_string())
}

/// `[user@]host:path` (scp/rsync/git remote syntax) → host.
pub fn remote_spec_host(s: &str) -> Option<String> {
    if s.starts_with('/') || s.starts_with('.') || s.starts_with('~') || s.contains("://") {
        return None;
    }
    let (before, _) = s.split_once(':')?;
    if before.contains('/') || before.is_empty() {
        return None;
    }
    let host = before.rsplit('@').next()?.to_ascii_lowercase();
    if host.len() == 1 {
        return None; // a Windows drive letter
    }
    Some(host)
}
