//! The interpreter word lists of `assets/detect/interpreters.toml`, compiled:
//! which commands run which language, the folding patterns, and the call
//! names that read, write, run, evaluate, download, send and connect.

use super::fold::LIT;
use super::Lang;
use crate::detect::DetectError;
use regex::{Regex, RegexBuilder};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct File {
    languages: LanguageLists,
    fold: FoldLists,
    calls: CallLists,
}

#[derive(Debug, Default, Deserialize)]
struct LanguageLists {
    python: Vec<String>,
    js: Vec<String>,
    perl: Vec<String>,
    ruby: Vec<String>,
    php: Vec<String>,
    awk: Vec<String>,
    lua: Vec<String>,
    pwsh: Vec<String>,
    osascript: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct FoldLists {
    home: Vec<String>,
    home_in_strings: Vec<String>,
    identity: Vec<String>,
    url: Vec<String>,
    join: Vec<String>,
    base64: Vec<String>,
    hex: Vec<String>,
    rot13: Vec<String>,
    reverse: Vec<String>,
    decompress: Vec<String>,
    by_name: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct CallLists {
    read: Vec<String>,
    write: Vec<String>,
    write_modes: Vec<String>,
    exec: Vec<String>,
    eval: Vec<String>,
    download: Vec<String>,
    send: Vec<String>,
    socket_send: Vec<String>,
    socket: Vec<String>,
    shell: Vec<String>,
}

/// Which commands run which language (read eagerly: every command asks).
#[derive(Debug, Clone, Default)]
pub struct Languages {
    languages: Vec<(Lang, Vec<String>)>,
}

impl Languages {
    /// The built-in language table.
    pub fn load() -> Result<Languages, DetectError> {
        let f: File = parse()?;
        let l = f.languages;
        Ok(Languages {
            languages: vec![
                (Lang::Python, l.python),
                (Lang::Js, l.js),
                (Lang::Perl, l.perl),
                (Lang::Ruby, l.ruby),
                (Lang::Php, l.php),
                (Lang::Awk, l.awk),
                (Lang::Lua, l.lua),
                (Lang::Pwsh, l.pwsh),
                (Lang::Osascript, l.osascript),
            ],
        })
    }

    /// The language a command (lowercase basename) runs, if any; a version
    /// suffix (`python3.12`, `lua5.4`) is allowed.
    pub fn lang_of(&self, name: &str) -> Option<Lang> {
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        let base = base.strip_suffix('-').unwrap_or(base);
        self.languages
            .iter()
            .find(|(_, names)| names.iter().any(|n| n == name || n == base))
            .map(|(l, _)| *l)
    }
}

fn parse() -> Result<File, DetectError> {
    crate::assets::parse("detect/interpreters.toml").map_err(DetectError::Data)
}

/// Compiled interpreter patterns (compiled on first use: most traces have
/// no interpreter one-liner).
#[derive(Debug, Clone)]
pub struct InterpData {
    /// A canonical literal.
    pub lit: Regex,
    pub home: Regex,
    pub home_in_strings: Regex,
    /// `callee(LIT)` whose value is the literal (group `lit`).
    pub identity: Regex,
    /// `join(LIT, LIT…)` (group `args`).
    pub join: Regex,
    /// Decoding calls by kind (group `lit`, and `buf` for `Buffer.from`).
    pub decoders: Vec<(&'static str, Regex)>,
    /// Names looked up by a string (groups `name`, `obj`, `call`).
    pub by_name: Vec<Regex>,
    pub read: Regex,
    pub write: Regex,
    pub write_modes: Regex,
    pub exec: Regex,
    pub eval: Regex,
    pub download: Regex,
    pub send: Regex,
    pub socket_send: Regex,
    pub socket: Regex,
    pub shell: Regex,
}

fn build(name: &str, pat: &str) -> Result<Regex, DetectError> {
    RegexBuilder::new(pat)
        .case_insensitive(true)
        .size_limit(32 << 20)
        .build()
        .map_err(|e| DetectError::Data(format!("interpreters.toml {name}: {e}")))
}

fn alternation(list: &[String]) -> String {
    list.iter()
        .map(|p| format!("(?:{})", p.replace("LIT", LIT)))
        .collect::<Vec<_>>()
        .join("|")
}

/// A callee list as one regex matching the call name (group `name`) where a
/// call can start (not in the middle of an identifier).
fn callees(name: &str, list: &[String]) -> Result<Regex, DetectError> {
    build(
        name,
        &format!(r"(?:^|[^A-Za-z0-9_$])(?P<name>{})", alternation(list)),
    )
}

/// Like [`callees`], for names that are whole words: the name must also end
/// where a word ends, so `connect` is not found in `"ConnectTimeout=5"` (an ssh
/// option in a Python argv, seen in a real Gemini CLI session).
fn word_callees(name: &str, list: &[String]) -> Result<Regex, DetectError> {
    build(
        name,
        &format!(r"(?:^|[^A-Za-z0-9_$])(?P<name>{})\b", alternation(list)),
    )
}

/// A decoder entry: a callee applied to one literal, or a whole pattern with `LIT`.
fn decoder(kind: &str, entry: &str) -> Result<Regex, DetectError> {
    let pat = if entry.contains("LIT") {
        entry
            .replacen("LIT", &format!("(?P<lit>{LIT})"), 1)
            .replace("LIT", LIT)
    } else {
        format!(r"(?:{entry})\s*\(\s*(?P<lit>{LIT})\s*\)")
    };
    build(kind, &pat)
}

impl InterpData {
    /// The built-in data.
    pub fn load() -> Result<InterpData, DetectError> {
        let f: File = parse()?;
        let mut decoders = Vec::new();
        let kinds: [(&'static str, &Vec<String>); 6] = [
            ("base64", &f.fold.base64),
            ("hex", &f.fold.hex),
            ("rot13", &f.fold.rot13),
            ("reverse", &f.fold.reverse),
            ("url", &f.fold.url),
            ("decompress", &f.fold.decompress),
        ];
        for (kind, list) in kinds {
            for e in list {
                decoders.push((kind, decoder(kind, e)?));
            }
        }
        decoders.push((
            "buffer",
            build(
                "Buffer.from",
                &format!(r#"Buffer\.from\(\s*(?P<lit>{LIT})\s*,\s*(?P<buf>"[A-Za-z0-9]+")\s*\)"#),
            )?,
        ));
        Ok(InterpData {
            lit: build("literal", LIT)?,
            home: build("home", &alternation(&f.fold.home))?,
            home_in_strings: build("home_in_strings", &alternation(&f.fold.home_in_strings))?,
            identity: build(
                "identity",
                &format!(
                    r"(?P<pre>^|[^A-Za-z0-9_$.])(?:{})\s*\(\s*(?P<lit>{LIT})\s*\)",
                    alternation(&f.fold.identity)
                ),
            )?,
            join: build(
                "join",
                &format!(
                    r"(?:{})\s*\(?\s*(?P<args>{LIT}(?:\s*,?\s*{LIT})+)\s*\)?",
                    alternation(&f.fold.join)
                ),
            )?,
            decoders,
            by_name: f
                .fold
                .by_name
                .iter()
                .map(|p| build("by_name", &p.replace("LIT", LIT)))
                .collect::<Result<_, _>>()?,
            read: callees("read", &f.calls.read)?,
            write: callees("write", &f.calls.write)?,
            write_modes: build("write_modes", &alternation(&f.calls.write_modes))?,
            exec: callees("exec", &f.calls.exec)?,
            eval: callees("eval", &f.calls.eval)?,
            download: callees("download", &f.calls.download)?,
            send: build("send", &alternation(&f.calls.send))?,
            socket_send: build("socket_send", &alternation(&f.calls.socket_send))?,
            socket: word_callees("socket", &f.calls.socket)?,
            shell: build("shell", &alternation(&f.calls.shell))?,
        })
    }
}
