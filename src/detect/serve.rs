//! What a command exposes to the network: a static file server (`python3 -m
//! http.server`, `php -S`, `busybox httpd`, … from `file_servers` in
//! `assets/detect/network.toml`) whose folder is the home folder, the file system
//! root or a credential folder hands every credential below it to whoever
//! connects (EXF-TRACE-001), unless it listens on loopback only.

use super::access::command_matches;
use super::hit::Hit;
use super::rules::id;
use super::shell::Command;
use super::taxonomy::{normalise_path, Taxonomy};

/// Folders (normalised) whose serving exposes the whole home folder or more.
const WIDE_ROOTS: &[&str] = &["~", "/", "/home", "/Users", "/root"];

/// EXF-TRACE-001 for a file server serving the home folder, `/` or a credential folder.
pub fn exposed(cmd: &Command, tax: &Taxonomy, ev: &str) -> Option<Hit> {
    let (words, server) = tax
        .file_servers
        .iter()
        .find(|(w, _)| command_matches(cmd, w))?;
    if cmd.args().iter().any(|a| loopback_bind(a)) {
        return None;
    }
    let named = server
        .root
        .iter()
        .find_map(|f| cmd.flag_value(f))
        .map(str::to_string)
        .or_else(|| server.operand.then(|| operand(cmd, words.len())).flatten());
    let root = match named {
        Some(r) => super::path::resolve(&r, cmd.cwd.as_deref()),
        None => cmd.cwd.clone()?,
    };
    let n = normalise_path(&root);
    let n = n.trim_end_matches("/.").trim_end_matches('/');
    let n = if n.is_empty() { "/" } else { n };
    if !WIDE_ROOTS.contains(&n) && !tax.sensitive_dir(n) {
        return None;
    }
    Some(
        Hit::new(
            id::EXF_SHELL_EGRESS,
            format!(
                "{} serves {n} to the network: every credential below it can be fetched",
                words.join(" ")
            ),
            ev,
        )
        .key(&format!("serve|{n}|{ev}"))
        .egress(true),
    )
}

/// The first operand after the command words that is not a port or an address.
fn operand(cmd: &Command, words: usize) -> Option<String> {
    let mut skip = words.saturating_sub(1);
    let mut after_flag = false;
    for a in cmd.args() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        if a.starts_with('-') {
            after_flag = !a.contains('=');
            continue;
        }
        let port_like = a
            .chars()
            .all(|c| c.is_ascii_digit() || c == ':' || c == '.');
        if after_flag && port_like {
            after_flag = false;
            continue;
        }
        after_flag = false;
        if !port_like {
            return Some(a.clone());
        }
    }
    None
}

/// An argument binding the server to loopback only (`--bind 127.0.0.1`, `-S localhost:8080`).
fn loopback_bind(a: &str) -> bool {
    let v = a.split_once('=').map(|x| x.1).unwrap_or(a);
    if v == "::1" || v.starts_with("[::1]") {
        return true;
    }
    let host = v
        .rsplit_once(':')
        .filter(|(h, p)| !h.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        .map(|x| x.0)
        .unwrap_or(v);
    host.starts_with("127.") || host.eq_ignore_ascii_case("localhost")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::shell::parse_script_in;

    fn hit(line: &str, cwd: &str) -> Option<Hit> {
        let tax = Taxonomy::load(&Default::default()).unwrap();
        let s = parse_script_in(line, Some(cwd), &tax);
        s.commands.iter().find_map(|c| exposed(c, &tax, line))
    }

    #[test]
    fn file_servers_of_the_home_folder_or_root_are_egress() {
        for line in [
            "python3 -m http.server --directory ~ --bind 0.0.0.0 8000",
            "python3 -m http.server 9999 --bind 0.0.0.0 --directory /",
            "cd ~ && python3 -m http.server 8080",
            "python -m http.server -d $HOME",
            "php -S 0.0.0.0:8080 -t ~",
            "busybox httpd -f -p 8080 -h /home/dev",
            "npx http-server ~/.ssh -p 8080",
            "ruby -run -e httpd /Users/dev -p 8000",
            "cd /home/dev/.aws && python3 -m http.server",
        ] {
            let h = hit(line, "/home/dev/proj").unwrap_or_else(|| panic!("{line}"));
            assert_eq!(h.rule, id::EXF_SHELL_EGRESS, "{line}");
            assert!(h.egress, "{line}");
        }
    }

    #[test]
    fn file_servers_of_a_project_or_on_loopback_are_not() {
        for line in [
            "python -m http.server 8000",
            "python3 -m http.server 8000 --directory docs/_build",
            "python3 -m http.server 8080 --bind 127.0.0.1 --directory ~",
            "php -S localhost:8000 -t public",
            "php -S 127.0.0.1:8080 -t ~",
            "npx http-server dist -p 8080",
            "python3 -m http.server --bind ::1 -d /",
            "cd ~/proj/site && python3 -m http.server",
        ] {
            assert!(hit(line, "/home/dev/proj").is_none(), "{line}");
        }
        // no known working directory, no folder named: nothing to judge
        let tax = Taxonomy::load(&Default::default()).unwrap();
        let s = crate::detect::shell::parse_script("python3 -m http.server", &tax);
        assert!(s.commands.iter().all(|c| exposed(c, &tax, "x").is_none()));
    }
}
