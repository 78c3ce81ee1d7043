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
    let root = roots
        .iter()
        .find(|p| whole_tree(&super::path::resolve(p, cmd.cwd.as_deref())))?;
    let pattern: Vec<&str> = cmd
        .args()
        .iter()
        .filter(|a| !a.starts_with('-') && !paths.contains(a))
        .map(String::as_str)
        .chain(cmd.flag_value("-e"))
        .collect();
    if !marked(&pattern.join(" "), tax) && super::flow::secret_filter(cmd, tax).is_none() {
        return None;
    }
    Some((pattern.join(" "), root.clone()))
}

/// True when `path` (resolved) is a whole home or root folder.
pub fn whole_tree(path: &str) -> bool {
    let full = normalise_path(path);
    let full = full.trim_end_matches('/');
    WHOLE.contains(&full) || full.is_empty()
}

/// True when a search pattern looks for text only secrets hold (`PRIVATE KEY`, `AKIA`).
pub fn marked(pattern: &str, tax: &Taxonomy) -> bool {
    let upper = pattern.to_ascii_uppercase();
    tax.secret_markers
        .iter()
        .any(|m| upper.contains(m.as_str()))
}

/// Finders that descend into folders and select by name.
const FINDERS: &[&str] = &["find", "fd", "fdfind", "locate", "mlocate", "plocate"];

/// `(name, folder)` when `cmd` looks for credential files by name over a whole
/// home or root folder (`find / -name '*.key'`, `locate id_rsa`): it lists where
/// every key of the machine is, the step before reading them. The names are
/// data (`hunted_names` in `assets/detect/evasion.toml`).
pub fn name_hunt(cmd: &Command, names: &[String]) -> Option<(String, String)> {
    let name = cmd.name();
    if !FINDERS.contains(&name.as_str()) {
        return None;
    }
    let args = cmd.args();
    let locate = name.ends_with("locate");
    let (root, wanted): (String, Vec<&String>) = if name == "find" {
        let root = args.iter().take_while(|a| !a.starts_with('-')).next()?;
        let wanted = args
            .windows(2)
            .filter(|w| {
                ["-name", "-iname", "-path", "-ipath", "-regex", "-iregex"].contains(&w[0].as_str())
            })
            .map(|w| &w[1])
            .collect();
        (super::path::resolve(root, cmd.cwd.as_deref()), wanted)
    } else {
        let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        let root = if locate {
            "/".to_string()
        } else {
            pos.get(1)
                .map(|r| super::path::resolve(r, cmd.cwd.as_deref()))
                .unwrap_or_else(|| ".".into())
        };
        (root, pos.into_iter().take(1).collect())
    };
    if !whole_tree(&root) {
        return None;
    }
    let hit = wanted.into_iter().find(|w| {
        let core: String = w
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !matches!(c, '*' | '?' | '\\' | '^' | '$'))
            .collect();
        !core.ends_with(".pub") && names.iter().any(|n| core.contains(n.as_str()))
    })?;
    Some((hit.clone(), normalise_path(&root)))
}
