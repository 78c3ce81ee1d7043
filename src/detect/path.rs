//! Paths as the OS sees them: every spelling of one file folds to one form.
//!
//! [`normalise`] maps the home folder in any spelling (`~`, `~user`, `$HOME`,
//! `${HOME}`, `/home/<user>`, `/Users/<user>`, `/root`, `C:\Users\<user>`,
//! `%USERPROFILE%`, `$env:USERPROFILE`) to `~`, resolves `.` and `..` and
//! doubled slashes lexically, and strips `/proc/self/root`. [`resolve`] first
//! places a relative path under a working directory (the run's, or one a `cd`
//! in the same command line chose). [`glob_regex`] turns a shell glob the
//! agent wrote (`~/.ssh/id_*`, `~/.aws/cre*`) into a regex, so a caller can ask
//! whether it can match a credential file. Pure string work: no file system.

/// Folds a path to one spelling (see the module docs).
pub fn normalise(p: &str) -> String {
    let p = p.trim().trim_matches(|c| c == '"' || c == '\'');
    let mut s = if p.contains('\\') {
        p.replace('\\', "/")
    } else {
        p.to_string()
    };
    if let Some(rest) = s.strip_prefix("/proc/self/root/") {
        s = format!("/{rest}");
    }
    s = home_prefix(&s);
    let dotted = s.contains("//")
        || s.contains("/./")
        || s.contains("/../")
        || s.ends_with("/.")
        || s.ends_with("/..")
        || s.starts_with("./")
        || s.starts_with("../");
    if dotted {
        s = lexical(&s);
    }
    s
}

/// `p` as seen from `cwd` (an absolute or `~` path), normalised. Absolute and
/// home paths ignore `cwd`; without one, a relative path stays relative.
pub fn resolve(p: &str, cwd: Option<&str>) -> String {
    let n = normalise(p);
    match cwd {
        Some(c) if is_relative(&n) && !c.is_empty() => {
            let base = normalise(c);
            if base.is_empty() || is_relative(&base) {
                return n;
            }
            normalise(&format!("{}/{}", base.trim_end_matches('/'), n))
        }
        _ => n,
    }
}

/// True when `p` (normalised) names no root: not `/…`, `~…` or a variable.
pub fn is_relative(p: &str) -> bool {
    !(p.starts_with('/') || p.starts_with('~') || p.starts_with('$') || p.starts_with('%'))
}

/// Where a relative path that climbs out of an unknown working directory can
/// land: `../../.aws/credentials` is `~/.aws/credentials` for a project two
/// folders below home. `None` for paths that do not start with `../`.
pub fn climb_guess(p: &str) -> Option<String> {
    if !p.starts_with("../") {
        return None;
    }
    let rest = p.trim_start_matches("../");
    let rest = rest.trim_start_matches("./");
    (!rest.is_empty() && !rest.starts_with("..")).then(|| format!("~/{rest}"))
}

fn home_prefix(s: &str) -> String {
    let out = home_prefix_raw(s);
    // Windows' profile folders in one case: `~/appdata/roaming` is `~/AppData/Roaming`
    for canon in ["~/AppData/Roaming", "~/AppData/Local", "~/AppData/LocalLow"] {
        if let Some(rest) = strip_prefix_ci(&out, canon) {
            if rest.is_empty() || rest.starts_with('/') {
                return format!("{canon}{rest}");
            }
        }
    }
    out
}

fn home_prefix_raw(s: &str) -> String {
    // Windows' per-user folders (`%APPDATA%\gcloud`, `$env:LOCALAPPDATA/…`)
    for (pre, dir) in [
        ("%APPDATA%", "~/AppData/Roaming"),
        ("$env:APPDATA", "~/AppData/Roaming"),
        ("${env:APPDATA}", "~/AppData/Roaming"),
        ("%LOCALAPPDATA%", "~/AppData/Local"),
        ("$env:LOCALAPPDATA", "~/AppData/Local"),
        ("${env:LOCALAPPDATA}", "~/AppData/Local"),
    ] {
        if let Some(rest) = strip_prefix_ci(s, pre) {
            if rest.is_empty() || rest.starts_with('/') {
                return format!("{dir}{rest}");
            }
        }
    }
    // `%USERPROFILE%\.aws` unquoted in bash loses its backslash: a `%…%` folder
    // is a folder all the same (`%USERPROFILE%.aws`)
    for pre in ["%USERPROFILE%", "%HOMEPATH%"] {
        if let Some(rest) = strip_prefix_ci(s, pre) {
            if rest.starts_with('.') {
                return format!("~/{rest}");
            }
        }
    }
    for pre in [
        "${HOME}",
        "$HOME",
        "%USERPROFILE%",
        "%HOMEPATH%",
        "$env:USERPROFILE",
        "$env:HOME",
        "${env:USERPROFILE}",
    ] {
        if let Some(rest) = strip_prefix_ci(s, pre) {
            if rest.is_empty() || rest.starts_with('/') {
                return format!("~{rest}");
            }
        }
    }
    // C:/Users/<user>/…
    let b = s.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
        if let Some(rest) = strip_prefix_ci(&s[3..], "users/") {
            return after_user(rest);
        }
        return s.to_string();
    }
    for pre in ["/home/", "/Users/", "/var/home/", "/private/var/root/"] {
        if let Some(rest) = s.strip_prefix(pre) {
            if pre.ends_with("root/") {
                return format!("~/{rest}");
            }
            return after_user(rest);
        }
    }
    for pre in ["/root", "/var/root"] {
        if let Some(rest) = s.strip_prefix(pre) {
            if rest.is_empty() || rest.starts_with('/') {
                return format!("~{rest}");
            }
        }
    }
    // `~user/…` is another user's home: a home all the same.
    if s.starts_with('~') && !s.starts_with("~/") && s.len() > 1 {
        if let Some(i) = s.find('/') {
            return format!("~{}", &s[i..]);
        }
        return "~".to_string();
    }
    s.to_string()
}

fn after_user(rest: &str) -> String {
    match rest.find('/') {
        // `/home/../etc/passwd` climbs out of home: leave it to `lexical`.
        Some(i) if &rest[..i] == ".." => format!("/home/{rest}"),
        Some(i) => format!("~{}", &rest[i..]),
        None => "~".to_string(),
    }
}

fn strip_prefix_ci<'a>(s: &'a str, pre: &str) -> Option<&'a str> {
    let head = s.get(..pre.len())?;
    head.eq_ignore_ascii_case(pre).then(|| &s[pre.len()..])
}

/// Resolves `.`, `..` and empty segments without touching the file system.
/// `..` above a home folder leaves `/home`; above a relative start it is kept.
fn lexical(s: &str) -> String {
    let (root, body) = if let Some(b) = s.strip_prefix("~/") {
        ("~", b)
    } else if s == "~" {
        return s.to_string();
    } else if let Some(b) = s.strip_prefix('/') {
        ("/", b)
    } else {
        ("", s)
    };
    let mut parts: Vec<&str> = Vec::new();
    let mut climbed_home = false;
    for seg in body.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().map(|p| *p != "..").unwrap_or(false) {
                    parts.pop();
                } else if root == "~" && parts.is_empty() && !climbed_home {
                    climbed_home = true;
                } else if root.is_empty() {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let trailing = s.ends_with('/') && !parts.is_empty();
    let mut out = match root {
        "~" if climbed_home => {
            // `~/../<user>/…` is some home again; `~/../..` is the root.
            let joined = parts.join("/");
            return home_prefix(&format!("/home/{joined}"));
        }
        "~" => {
            if parts.is_empty() {
                "~".to_string()
            } else {
                format!("~/{}", parts.join("/"))
            }
        }
        "/" => format!("/{}", parts.join("/")),
        _ => parts.join("/"),
    };
    if trailing {
        out.push('/');
    }
    if root == "/" {
        let again = home_prefix(&out);
        if again != out {
            return again;
        }
    }
    out
}

/// True when a path word holds glob characters the shell would expand.
pub fn has_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

/// A glob's one-character classes written as the character they stand for
/// (`~/.[n]etrc` → `~/.netrc`, `/e[t]c/sh[a]dow`): a class that can match one
/// thing only is a literal spelled to hide from matching.
pub fn literal_classes(p: &str) -> std::borrow::Cow<'_, str> {
    if !p.contains('[') {
        return p.into();
    }
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '['
            && chars.get(i + 2) == Some(&']')
            && !matches!(chars[i + 1], '!' | '^' | ']' | '[' | '/')
        {
            out.push(chars[i + 1]);
            i += 3;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out.into()
}

/// A shell glob (as written by the agent, normalised) as an anchored regex:
/// `*` and `?` stay inside one folder and, at a name's start, skip hidden
/// names as bash does; `**/` is any number of folders, hidden ones included (as
/// `find` descends); `[…]` classes are kept. `None` for an invalid class.
pub fn glob_regex(glob: &str) -> Option<String> {
    let chars: Vec<char> = glob.chars().collect();
    let mut re = String::from("^");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_name_start = i == 0 || chars[i - 1] == '/';
        match c {
            '*' if at_name_start && chars.get(i + 1) == Some(&'*') && {
                let mut j = i;
                while chars.get(j + 1) == Some(&'*') {
                    j += 1;
                }
                chars.get(j + 1) == Some(&'/')
            } =>
            {
                // `**/`: any number of folders, hidden ones included (find descends into them)
                while chars.get(i + 1) == Some(&'*') {
                    i += 1;
                }
                i += 1;
                re.push_str("(?:[^/]+/)*");
            }
            '*' => {
                while chars.get(i + 1) == Some(&'*') {
                    i += 1;
                }
                re.push_str(if at_name_start {
                    "(?:[^./][^/]*)?"
                } else {
                    "[^/]*"
                });
            }
            '?' => re.push_str(if at_name_start { "[^./]" } else { "[^/]" }),
            '[' => {
                let end = chars[i + 1..].iter().position(|c| *c == ']')? + i + 1;
                let mut class: String = chars[i + 1..end].iter().collect();
                if let Some(rest) = class.strip_prefix('!') {
                    class = format!("^{rest}");
                }
                if class.is_empty() {
                    return None;
                }
                re.push('[');
                re.push_str(&class.replace('\\', "\\\\"));
                re.push(']');
                i = end;
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    Some(re)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_in_every_spelling() {
        for p in [
            "~/.aws/credentials",
            "$HOME/.aws/credentials",
            "${HOME}/.aws/credentials",
            "/home/alice/.aws/credentials",
            "/Users/bob/.aws/credentials",
            "/root/.aws/credentials",
            "~bob/.aws/credentials",
            "C:\\Users\\bob\\.aws\\credentials",
            "c:/users/bob/.aws/credentials",
            "%USERPROFILE%\\.aws\\credentials",
            "$env:USERPROFILE/.aws/credentials",
            "/home/alice/proj/../.aws/credentials",
            "~/.aws/./credentials",
            "~//.aws///credentials",
            "~/.ssh/../.aws/credentials",
            "/proc/self/root/home/alice/.aws/credentials",
            "~/../alice/.aws/credentials",
            "/var/root/.aws/credentials",
            "%USERPROFILE%.aws/credentials",
        ] {
            assert_eq!(normalise(p), "~/.aws/credentials", "{p}");
        }
        assert_eq!(normalise("./.env"), ".env");
        for p in [
            "%APPDATA%\\gcloud\\credentials.db",
            "$env:APPDATA/gcloud/credentials.db",
            "C:\\Users\\bob\\appdata\\roaming\\gcloud\\credentials.db",
        ] {
            assert_eq!(
                normalise(p),
                "~/AppData/Roaming/gcloud/credentials.db",
                "{p}"
            );
        }
        assert_eq!(normalise("%LOCALAPPDATA%/x"), "~/AppData/Local/x");
        assert_eq!(normalise("/home/../etc/shadow"), "/etc/shadow");
        assert_eq!(normalise("/etc/../etc/./shadow"), "/etc/shadow");
        assert_eq!(normalise("/rootfs/x"), "/rootfs/x");
        assert_eq!(normalise("/homework/x"), "/homework/x");
        assert_eq!(normalise("src/../README.md"), "README.md");
        assert_eq!(normalise("~/.ssh/"), "~/.ssh/");
        assert_eq!(normalise("/home/alice"), "~");
    }

    #[test]
    fn relative_paths_under_a_working_directory() {
        assert_eq!(
            resolve("../../.aws/credentials", Some("/home/u/src/proj")),
            "~/.aws/credentials"
        );
        assert_eq!(resolve(".env", Some("/srv/app")), "/srv/app/.env");
        assert_eq!(resolve("credentials", Some("~/.aws")), "~/.aws/credentials");
        assert_eq!(resolve("/etc/hosts", Some("/w")), "/etc/hosts");
        assert_eq!(resolve("../x", None), "../x");
        assert_eq!(
            climb_guess("../../.aws/credentials").as_deref(),
            Some("~/.aws/credentials")
        );
        assert_eq!(climb_guess("src/x"), None);
    }

    #[test]
    fn globs_as_the_shell_reads_them() {
        let m = |g: &str, p: &str| {
            regex::Regex::new(&glob_regex(g).expect("glob"))
                .expect("re")
                .is_match(p)
        };
        assert!(m("~/.ssh/id_*", "~/.ssh/id_rsa"));
        assert!(m("~/.aws/cre*", "~/.aws/credentials"));
        assert!(m("~/.net*", "~/.netrc"));
        assert!(m("~/.ssh/id_[re]*", "~/.ssh/id_ed25519"));
        assert!(m("~/.ssh/*", "~/.ssh/id_rsa"));
        assert!(!m("~/*", "~/.netrc"), "a leading * skips hidden names");
        assert!(!m("~/.ssh/*.pub", "~/.ssh/id_rsa"));
        assert!(!m("~/.aws/cre*", "~/.aws/config"));
        assert!(m("~/.??rc", "~/.netrc") || m("~/.?etrc", "~/.netrc"));
        assert!(
            m("~/**/id_*", "~/.ssh/id_rsa"),
            "**/ descends into hidden folders"
        );
        assert!(m("~/**/credentials", "~/.aws/credentials"));
        assert!(
            m("~/.ssh/**/id_*", "~/.ssh/id_rsa"),
            "**/ is also no folder"
        );
        assert!(!m("~/**/*.pub", "~/.ssh/id_rsa"));
        assert!(glob_regex("x[").is_none());
        assert_eq!(literal_classes("~/.[n]etrc"), "~/.netrc");
        assert_eq!(literal_classes("/e[t]c/sh[a]dow"), "/etc/shadow");
        assert_eq!(literal_classes("~/.ssh/id_[er]*"), "~/.ssh/id_[er]*");
        assert_eq!(literal_classes("x[!a]y"), "x[!a]y");
        assert!(has_glob("~/.ssh/id_*") && !has_glob("~/.ssh/id_rsa"));
    }
}
