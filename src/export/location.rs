//! Where a finding points in SARIF: trace files as URIs relative to a base id,
//! proxy traffic as stable pseudo-files, and run/span logical locations.
//!
//! Files under the source root (the folder `export`/`scan` runs in) become
//! `%SRCROOT%`-relative paths (what GitHub code scanning wants); other absolute
//! paths become `TRACEROOT`-relative (`TRACEROOT` = `file:///`); proxy records
//! (`proxy://<addr>`) become `proxy/<addr>.jsonl` under `PROXY`, with the request
//! number as the line, and the guard's (`guard://<agent>`) `guard/<agent>.jsonl`.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value};
use std::path::{Component, Path, PathBuf};

/// Base id for files under the source root.
pub const SRCROOT: &str = "%SRCROOT%";
/// Base id for other absolute paths (`file:///`).
pub const TRACEROOT: &str = "TRACEROOT";
/// Base id for proxy recordings (pseudo-files).
pub const PROXY: &str = "PROXY";

/// Characters escaped in a URI path (everything but unreserved characters and `/`).
const PATH_SET: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b':')
    .add(b'@')
    .add(b'!')
    .add(b'$')
    .add(b'&')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'*')
    .add(b'+')
    .add(b',')
    .add(b';')
    .add(b'=');

/// A file reference: base id, relative URI and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub base: &'static str,
    pub uri: String,
    pub line: u64,
}

impl FileRef {
    /// SARIF `physicalLocation` (with `snippet` when given).
    pub fn physical(&self, snippet: Option<&str>) -> Value {
        let mut region = json!({"startLine": self.line.max(1)});
        if let Some(s) = snippet.filter(|s| !s.is_empty()) {
            region["snippet"] = json!({"text": s});
        }
        json!({
            "artifactLocation": {"uri": self.uri, "uriBaseId": self.base},
            "region": region,
        })
    }
}

/// Maps origin paths to SARIF file references against one source root.
#[derive(Debug, Clone)]
pub struct Locator {
    root: Option<PathBuf>,
}

impl Locator {
    /// `root`: the absolute folder `%SRCROOT%` stands for (usually the current directory).
    pub fn new(root: Option<PathBuf>) -> Locator {
        Locator {
            root: root.map(|r| normalise(&r)),
        }
    }

    /// The file reference for an origin path and line; `None` for an empty path.
    pub fn file_ref(&self, path: &str, line: u64) -> Option<FileRef> {
        let path = path.trim();
        if path.is_empty() {
            return None;
        }
        let pseudo = path
            .strip_prefix("proxy://")
            .map(|a| ("proxy", a))
            .or_else(|| path.strip_prefix("guard://").map(|a| ("guard", a)));
        if let Some((scheme, addr)) = pseudo {
            let name: String = addr
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let name = if name.is_empty() {
                scheme.to_string()
            } else {
                name
            };
            return Some(FileRef {
                base: PROXY,
                uri: format!("{scheme}/{}.jsonl", encode(&name)),
                line: line.max(1),
            });
        }
        let path = path.replace('\\', "/");
        let p = Path::new(&path);
        let abs = if p.is_absolute() {
            normalise(p)
        } else {
            match &self.root {
                Some(r) => normalise(&r.join(p)),
                None => {
                    // no root known: keep the relative path as given, minus `./` and `..`
                    let rel = normalise(p);
                    return Some(FileRef {
                        base: SRCROOT,
                        uri: encode_path(&rel),
                        line: line.max(1),
                    });
                }
            }
        };
        if let Some(rel) = self.root.as_ref().and_then(|r| abs.strip_prefix(r).ok()) {
            if !rel.as_os_str().is_empty() {
                return Some(FileRef {
                    base: SRCROOT,
                    uri: encode_path(rel),
                    line: line.max(1),
                });
            }
        }
        let rel = abs.strip_prefix("/").unwrap_or(&abs);
        Some(FileRef {
            base: TRACEROOT,
            uri: encode_path(rel),
            line: line.max(1),
        })
    }

    /// `run.originalUriBaseIds`: what each base id stands for.
    pub fn original_uri_base_ids(&self) -> Value {
        let mut m = serde_json::Map::new();
        if let Some(r) = &self.root {
            let mut uri = format!("file://{}", encode_path(r));
            if !uri.ends_with('/') {
                uri.push('/');
            }
            m.insert(
                SRCROOT.into(),
                json!({"uri": uri, "description": {"text": "The folder skilltrace ran in."}}),
            );
        } else {
            m.insert(
                SRCROOT.into(),
                json!({"description": {"text": "The folder skilltrace ran in."}}),
            );
        }
        m.insert(
            TRACEROOT.into(),
            json!({"uri": "file:///", "description": {"text": "Trace files outside the source folder, by absolute path."}}),
        );
        m.insert(
            PROXY.into(),
            json!({"description": {"text": "skilltrace proxy recordings: one pseudo-file per listen address, one line per request."}}),
        );
        Value::Object(m)
    }
}

/// Lexically resolves `.` and `..` (never touching the file system: traces may be gone).
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            // above the start: dropped rather than escaping the base
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, PATH_SET).to_string()
}

/// Percent-encodes each path segment, joined by `/`.
fn encode_path(p: &Path) -> String {
    let mut segs = Vec::new();
    for c in p.components() {
        if let Component::Normal(s) = c {
            segs.push(encode(&s.to_string_lossy()));
        }
    }
    let joined = segs.join("/");
    if p.is_absolute() {
        format!("/{joined}")
    } else {
        joined
    }
}

/// `logicalLocations` for a span of a run: the run, then the span inside it.
pub fn logical(run_id: &str, span_id: Option<&str>) -> Value {
    let mut v = vec![json!({"name": run_id, "fullyQualifiedName": run_id, "kind": "module"})];
    if let Some(s) = span_id.filter(|s| !s.is_empty()) {
        v.push(json!({
            "name": s,
            "fullyQualifiedName": format!("{run_id}/{s}"),
            "kind": "function",
        }));
    }
    Value::Array(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Locator {
        Locator::new(Some(PathBuf::from("/work/repo")))
    }

    #[test]
    fn files_under_root_are_relative() {
        let r = loc().file_ref("/work/repo/traces/a b.jsonl", 7);
        assert_eq!(
            r,
            Some(FileRef {
                base: SRCROOT,
                uri: "traces/a%20b.jsonl".into(),
                line: 7
            })
        );
        let r = loc().file_ref("./traces/../traces/x.jsonl", 0);
        assert_eq!(
            r.map(|r| (r.uri, r.line)),
            Some(("traces/x.jsonl".into(), 1))
        );
    }

    #[test]
    fn outside_root_and_proxy() {
        let r = loc().file_ref("/home/u/.claude/projects/p/s.jsonl", 3);
        assert_eq!(r.as_ref().map(|r| r.base), Some(TRACEROOT));
        assert_eq!(
            r.map(|r| r.uri),
            Some("home/u/.claude/projects/p/s.jsonl".into())
        );
        let g = loc().file_ref("guard://claude-code", 7).unwrap();
        assert_eq!(
            (g.base, g.uri.as_str(), g.line),
            (PROXY, "guard/claude-code.jsonl", 7)
        );
        let r = loc().file_ref("proxy://127.0.0.1:8787", 42);
        assert_eq!(
            r,
            Some(FileRef {
                base: PROXY,
                uri: "proxy/127.0.0.1_8787.jsonl".into(),
                line: 42
            })
        );
        assert_eq!(loc().file_ref("  ", 1), None);
        let up = loc().file_ref("../../etc/x.jsonl", 1);
        assert_eq!(
            up.map(|r| (r.base, r.uri)),
            Some((TRACEROOT, "etc/x.jsonl".into()))
        );
    }

    #[test]
    fn logical_names_run_and_span() {
        let l = logical("r1", Some("s2"));
        assert_eq!(l[1]["fullyQualifiedName"], "r1/s2");
        assert_eq!(logical("r1", None).as_array().map(Vec::len), Some(1));
    }
}
