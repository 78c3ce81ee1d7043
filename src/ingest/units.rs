//! Work units of a parallel import: the discovered files grouped by the run
//! they feed, so one worker scans all of a run, in file order, with one
//! detection state (chains and canaries see the whole run, as in a serial
//! import).
//!
//! Most agents keep one run per file, but some spread one run over several:
//! Claude Code subagent and sidechain files carry their parent's `sessionId`;
//! a Codex subagent or forked rollout names its `parent_thread_id`, and an
//! archived rollout repeats a live one's id; Cline keeps a task as a folder of
//! documents; OpenCode keeps a session as message and part files across its
//! `storage/` folder; Gemini CLI keeps a project's chats and logs under one
//! folder; an Agents SDK or OTLP trace may be exported as a batch document
//! and as lines. A file's key says which run it feeds: the whole `storage/`
//! folder for OpenCode, the project folder for Gemini chats, else the session
//! or trace id read from its first 16 KB, else the folder for a JSON
//! document and the file itself for JSON Lines. Files with one key form one
//! unit. (A file holding several runs is keyed by its first: a later run of
//! it that another file also holds may be scanned by two workers.)

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files (indexes into the import's file list, in that order) that one worker
/// scans together, and their size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub files: Vec<usize>,
    pub bytes: u64,
}

/// Bytes read from the start of a JSON Lines file to find its session id.
const PEEK: usize = 16 << 10;

/// Groups `files` into units, largest first (so the last unit a worker takes
/// is a small one: the workers finish together).
pub fn units(files: &[PathBuf]) -> Vec<Unit> {
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Unit> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let bytes = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        let k = key(f);
        match by_key.get(&k) {
            Some(&u) => {
                out[u].files.push(i);
                out[u].bytes += bytes;
            }
            None => {
                by_key.insert(k, out.len());
                out.push(Unit {
                    files: vec![i],
                    bytes,
                });
            }
        }
    }
    // Stable: units of equal size keep their discovery order.
    out.sort_by_key(|u| std::cmp::Reverse(u.bytes));
    out
}

/// Which run `path` feeds (see the module doc).
pub fn key(path: &Path) -> String {
    let dir = |p: &Path| format!("dir:{}", p.display());
    let parent = path.parent().unwrap_or(Path::new(""));
    if let Some(root) = opencode_storage(path) {
        return dir(root);
    }
    // Gemini CLI: `<project>/chats/...` with the project's logs beside `chats`.
    if let Some(chats) = path
        .ancestors()
        .find(|a| a.file_name() == Some("chats".as_ref()))
    {
        return dir(chats.parent().unwrap_or(chats));
    }
    if super::formats::opencode_db::is_db(path) {
        return format!("file:{}", path.display());
    }
    if let Some(id) = codex_id_in_name(path).filter(|_| super::compressed::is_compressed(path)) {
        return format!("session:{id}");
    }
    if let Some(id) = peek_session(path) {
        return format!("session:{id}");
    }
    match path.extension().and_then(|e| e.to_str()) {
        // A document per task or chat, and their companions, in one folder.
        Some("json") => dir(parent),
        _ => format!("file:{}", path.display()),
    }
}

/// The `storage/` folder of an OpenCode file (`storage/{session,message,part,...}/...`).
fn opencode_storage(path: &Path) -> Option<&Path> {
    const KINDS: [&str; 7] = [
        "session",
        "message",
        "part",
        "session_diff",
        "project",
        "todo",
        "snapshot",
    ];
    let mut child: Option<&Path> = None;
    for a in path.ancestors().skip(1) {
        if a.file_name() == Some("storage".as_ref()) {
            let kind = child.and_then(|c| c.file_name()).and_then(|n| n.to_str());
            if kind.is_some_and(|k| KINDS.contains(&k)) {
                return Some(a);
            }
        }
        child = Some(a);
    }
    None
}

/// The id at the end of a Codex rollout's name (`rollout-<time>-<uuid>.jsonl[.zst]`).
fn codex_id_in_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name.split('.').next()?;
    if !stem.starts_with("rollout-") || stem.len() < 36 + 9 {
        return None;
    }
    let id = &stem[stem.len() - 36..];
    let uuid_like = id.bytes().enumerate().all(|(i, b)| match i {
        8 | 13 | 18 | 23 => b == b'-',
        _ => b.is_ascii_hexdigit(),
    });
    uuid_like.then(|| id.to_string())
}

/// The session a JSON Lines file feeds, from its first bytes: a Codex
/// rollout's parent thread (a subagent or fork goes with its parent), else its
/// own id; a Claude Code (or Gemini CLI, Copilot CLI) `sessionId`; an Agents
/// SDK or OTLP trace id.
fn peek_session(path: &Path) -> Option<String> {
    let mut head = Vec::with_capacity(PEEK);
    std::fs::File::open(path)
        .ok()?
        .take(PEEK as u64)
        .read_to_end(&mut head)
        .ok()?;
    let text = String::from_utf8_lossy(&head);
    if text.contains("\"session_meta\"") {
        for field in ["parent_thread_id", "forked_from_id"] {
            if let Some(v) = string_after(&text, field) {
                return Some(v);
            }
        }
        let payload = text.find("\"payload\"")?;
        return string_after(&text[payload..], "id");
    }
    // An OpenAI Agents SDK or OTLP trace is a run: its files go together.
    ["sessionId", "session_id", "trace_id", "traceId"]
        .iter()
        .find_map(|f| string_after(&text, f))
}

/// The string value of the first `"field": "value"` in `text`.
fn string_after(text: &str, field: &str) -> Option<String> {
    let pat = format!("\"{field}\"");
    let mut from = 0;
    while let Some(at) = text[from..].find(&pat) {
        let rest = text[from + at + pat.len()..].trim_start();
        from += at + pat.len();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let end = rest.find('"')?;
        let v = &rest[..end];
        if !v.is_empty() && v.len() <= 128 {
            return Some(v.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, body: &str) -> PathBuf {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, body).unwrap();
        p
    }

    #[test]
    fn claude_subagent_files_go_with_their_session() {
        let d = tempfile::tempdir().unwrap();
        let main = write(
            d.path(),
            "p/a.jsonl",
            "{\"type\":\"summary\"}\n{\"sessionId\":\"S1\",\"uuid\":\"u\"}\n",
        );
        let sub = write(
            d.path(),
            "p/a/subagents/agent-1.jsonl",
            "{\"sessionId\": \"S1\"}\n",
        );
        let other = write(d.path(), "p/b.jsonl", "{\"sessionId\":\"S2\"}\n");
        assert_eq!(key(&main), key(&sub));
        assert_ne!(key(&main), key(&other));
        let u = units(&[main, sub, other]);
        assert_eq!(u.len(), 2);
        assert!(u.iter().any(|u| u.files == vec![0, 1]), "{u:?}");
    }

    #[test]
    fn codex_children_and_archived_copies_go_with_their_thread() {
        let d = tempfile::tempdir().unwrap();
        let id = "019e2b41-7c10-7d52-9a41-2c7f3e5b0a01";
        let live = write(
            d.path(),
            &format!("s/rollout-2026-10-14T09-00-00-{id}.jsonl"),
            &format!(
                "{{\"type\":\"session_meta\",\"payload\":{{\"id\":\"{id}\",\"cwd\":\"/x\"}}}}\n"
            ),
        );
        let child = write(
            d.path(),
            "s/rollout-2026-10-14T09-00-05-019e2b42-0b3e-7f21-8c55-91d4a6e2b702.jsonl",
            &format!("{{\"type\":\"session_meta\",\"payload\":{{\"id\":\"019e2b42\",\"parent_thread_id\":\"{id}\"}}}}\n"),
        );
        let archived = d
            .path()
            .join(format!("a/rollout-2026-10-14T09-00-00-{id}.jsonl.zst"));
        assert_eq!(key(&live), format!("session:{id}"));
        assert_eq!(key(&child), key(&live));
        assert_eq!(key(&archived), key(&live));
    }

    #[test]
    fn document_folders_and_opencode_storage_are_one_unit_each() {
        let cline = Path::new("/t/tasks/17/api_conversation_history.json");
        assert_eq!(key(cline), key(Path::new("/t/tasks/17/ui_messages.json")));
        assert_ne!(key(cline), key(Path::new("/t/tasks/18/ui_messages.json")));
        let part = Path::new("/h/opencode/storage/part/msg_1/prt_1.json");
        let msg = Path::new("/h/opencode/storage/message/ses_1/msg_1.json");
        assert_eq!(key(part), key(msg));
        assert_eq!(key(part), "dir:/h/opencode/storage");
        let chat = Path::new("/g/tmp/abc/chats/session-1.json");
        assert_eq!(key(chat), key(Path::new("/g/tmp/abc/chats/sub/x.jsonl")));
        assert_eq!(key(chat), "dir:/g/tmp/abc");
    }

    #[test]
    fn a_file_without_a_session_id_is_its_own_unit_and_units_come_largest_first() {
        let d = tempfile::tempdir().unwrap();
        let a = write(d.path(), "a.jsonl", "{\"resourceSpans\":[]}\n");
        let b = write(d.path(), "b.jsonl", &"{\"resourceSpans\":[]}\n".repeat(10));
        assert_eq!(key(&a), format!("file:{}", a.display()));
        let u = units(&[a, b]);
        assert_eq!(u[0].files, vec![1]);
        assert_eq!(u[1].files, vec![0]);
        assert!(u[0].bytes > u[1].bytes);
    }
}
