//! A search of a whole home or root folder for secret material
//! (`grep -r 'BEGIN OPENSSH PRIVATE KEY' ~`, `rg 'AKIA[0-9A-Z]{16}' /`):
//! credential hunting, which prints whatever it finds. The searchers are
//! grep's family, ripgrep, ag and ack; the secret markers are data
//! (`secret_markers` in `assets/detect/canary.toml`).

use super::access::read_paths;
use super::shell::Command;
use super::taxonomy::{normalise_path, Taxonomy};

/// Searchers that descend into folders (grep only with `-r`/`-R`).
const SEARCHERS: &[&str] = &["grep", "egrep", "fgrep", "rg", "ag", "ack"];

/// Folders whose whole tree holds every credential of a user or the machine.
const WHOLE: &[&str] = &["~", "/", "/home", "/Users", "/root"];

/// `(pattern, folder)` when `cmd` searches a whole home or root folder for
/// text only secrets hold, or for secret names.
pub fn secret_hunt(cmd: &Command, tax: &Taxonomy) -> Option<(String, String)> {
    let name = cmd.name();
    if !SEARCHERS.contains(&name.as_str()) {
        return None;
    }
    let grep = name.ends_with("grep");
    let recursive = !grep
        || cmd.args().iter().any(|a| {
            a == "--recursive"
                || a == "--dereference-recursive"
                || (a.starts_with('-') && !a.starts_with("--") && a.contains(['r', 'R']))
        });
    if !recursive {
        return None;
    }
    let paths = read_paths(cmd, tax);
    let roots: Vec<String> = if paths.is_empty() {
        vec![".".to_string()]
    } else {
        paths.clone()
    };
    let root = roots.iter().find(|p| {
        let full = normalise_path(&super::path::resolve(p, cmd.cwd.as_deref()));
        let full = full.trim_end_matches('/');
        WHOLE.contains(&full) || full.is_empty()
    })?;
    let pattern: Vec<&str> = cmd
        .args()
        .iter()
        .filter(|a| !a.starts_with('-') && !paths.contains(a))
        .map(String::as_str)
        .chain(cmd.flag_value("-e"))
        .collect();
    let upper = pattern.join(" ").to_ascii_uppercase();
    let marked = tax
        .secret_markers
        .iter()
        .any(|m| upper.contains(m.as_str()));
    if !marked && super::flow::secret_filter(cmd, tax).is_none() {
        return None;
    }
    Some((pattern.join(" "), root.clone()))
}
