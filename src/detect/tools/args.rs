//! Tool calls read by their argument names: the paths, URLs and destinations
//! an MCP or unknown tool's arguments name, and the commands a prompt quotes.

use super::*;

pub(super) fn paths_in(o: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for k in PATH_KEYS {
        match o.get(*k) {
            Some(Value::String(s)) if !s.is_empty() => out.push(s.clone()),
            Some(Value::Array(a)) => {
                out.extend(a.iter().filter_map(|x| x.as_str().map(str::to_string)))
            }
            _ => {}
        }
    }
    out
}

/// An argument that names a file: the known names, and the names tools make
/// of them (`pathInProject`, `fileUri`, `targetFilePath`, `dir_path`).
/// The commands a prompt quotes in backticks (`` `cat x` ``, fenced blocks),
/// at most 16 of them.
pub(super) fn quoted_commands(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while out.len() < 16 {
        let Some(i) = rest.find('`') else { break };
        let after = &rest[i..];
        let fence = after.starts_with("```");
        let open = if fence { 3 } else { 1 };
        let body = &after[open..];
        let close = if fence {
            body.find("```")
        } else {
            body.find('`')
        };
        let Some(j) = close else { break };
        let mut cmd = &body[..j];
        if fence {
            // drop the info string (```bash)
            cmd = cmd.split_once('\n').map(|x| x.1).unwrap_or("");
        }
        if !cmd.trim().is_empty() {
            out.push(cmd.trim());
        }
        rest = &body[j + open..];
    }
    out
}

fn path_key(lk: &str) -> bool {
    PATH_KEYS.contains(&lk)
        || lk.ends_with("path")
        || lk.ends_with("inproject")
        || lk.ends_with("fileuri")
        || lk.ends_with("file")
        || lk.contains("attachment")
}

/// An argument naming the local file a tool takes from (`localFile`,
/// `source_path`, `attachment`): read, even by a tool whose name says it
/// writes or uploads.
fn source_key(lk: &str) -> bool {
    lk.starts_with("local")
        || lk.starts_with("source")
        || lk.starts_with("src")
        || lk.contains("attachment")
}

/// Where a destination argument's value sends, as a URL the network rules read:
/// itself when it is one (`s3://b/k`, `ftp://h/`), the mail domain of an
/// address, `s3://NAME` for a bare bucket; `None` for a channel or room id.
fn destination_url(key: &str, v: &str) -> Option<String> {
    let v = v.trim();
    if v.contains("://") {
        return Some(v.to_string());
    }
    if let Some(h) = crate::detect::network::unc_host(v) {
        return Some(format!("smb://{h}/"));
    }
    if let Some((user, domain)) = v.rsplit_once('@') {
        if !user.is_empty() && domain.contains('.') && !domain.contains(['/', ' ']) {
            return Some(format!("mailto://{domain}/"));
        }
    }
    let bare = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    (key.starts_with("bucket") && bare).then(|| format!("s3://{v}/"))
}

/// True when a destination argument's value is somewhere else than a local
/// path (a URL, an address, a bucket, a channel).
fn sends_away(v: &Value) -> bool {
    match v {
        Value::String(s) => {
            let s = s.trim();
            let drive = s.len() > 1 && s.as_bytes()[1] == b':' && !s.contains("://");
            crate::detect::network::unc_host(s).is_some()
                || !s.is_empty() && !s.starts_with(['/', '~', '.', '\\']) && !drive
        }
        Value::Array(a) => a.iter().any(sends_away),
        _ => false,
    }
}

pub(super) fn generic(
    call: &mut ToolCall,
    lname: &str,
    v: &Value,
    tax: &Taxonomy,
    depth: usize,
    is_fetch: bool,
) {
    if depth > 4 {
        return;
    }
    let writes = [
        "write", "create", "save", "put", "edit", "update", "append", "upload",
    ]
    .iter()
    .any(|w| lname.contains(w));
    match v {
        Value::Object(o) => {
            // a call that names where it sends reads the files it names
            let dest = |k: &String, val: &Value| {
                tax.destination_keys.contains(&k.to_ascii_lowercase()) && sends_away(val)
            };
            let sends = o.iter().any(|(k, val)| dest(k, val));
            call.sends |= sends;
            for (k, val) in o {
                let lk = k.to_ascii_lowercase();
                if dest(k, val) {
                    let vals: Vec<&str> = match val {
                        Value::String(s) => vec![s.as_str()],
                        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                        _ => Vec::new(),
                    };
                    for url in vals.into_iter().filter_map(|s| destination_url(&lk, s)) {
                        call.actions.push(Action::Send { url });
                    }
                } else if COMMAND_KEYS.contains(&lk.as_str()) {
                    push_shell(&mut call.actions, val, tax, None);
                } else if URL_KEYS.contains(&lk.as_str()) {
                    if let Some(s) = val.as_str() {
                        if s.contains("://") || is_fetch {
                            call.actions.push(Action::Fetch { url: s.to_string() });
                        }
                    }
                } else if path_key(&lk) || source_key(&lk) && val.is_string() {
                    let paths: Vec<String> = match val {
                        Value::String(s) => vec![s.clone()],
                        Value::Array(a) => a
                            .iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect(),
                        _ => Vec::new(),
                    };
                    for p in paths {
                        if let Some(local) = p.strip_prefix("file://") {
                            // `file:///home/u/.netrc` names a local file
                            call.actions.push(Action::Read {
                                path: local.to_string(),
                            });
                        } else if p.contains("://") {
                            call.actions.push(Action::Fetch { url: p });
                        } else if writes && !sends && !source_key(&lk) {
                            call.actions.push(Action::Write {
                                path: p,
                                content: String::new(),
                            });
                        } else {
                            call.actions.push(Action::Read { path: p });
                        }
                    }
                } else if val.is_object() || val.is_array() {
                    generic(call, lname, val, tax, depth + 1, is_fetch);
                }
            }
        }
        Value::Array(a) => {
            for x in a.iter().take(64) {
                generic(call, lname, x, tax, depth + 1, is_fetch);
            }
        }
        _ => {}
    }
}
