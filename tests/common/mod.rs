//! Helpers shared by the tests that run the binary: the `skilltrace` command
//! with no user config file and no colour, and running it expecting success.
#![allow(clippy::unwrap_used, dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output};

/// The `skilltrace` binary, reading no user config file, printing no colour.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skilltrace"));
    c.env(
        "SKILLTRACE_CONFIG",
        "/nonexistent/skilltrace-test-config.toml",
    );
    c.env("NO_COLOR", "1");
    c
}

/// Runs `cmd` and asserts it succeeded (showing the command and its stderr when not).
pub fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `canary init HOME --db DB` and returns the decoy AWS secret it planted.
pub fn canary_init(home: &std::path::Path, db: &std::path::Path) -> String {
    ok(bin().args(["canary", "init"]).arg(home).arg("--db").arg(db));
    let creds = std::fs::read_to_string(home.join(".aws/credentials")).unwrap();
    creds
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .unwrap()
        .to_owned()
}

/// The `host:port` a server started with `--listen 127.0.0.1:0` names in the
/// first line of its banner (`… http://127.0.0.1:PORT/…` or `…PORT, …`).
pub fn banner_addr(child: &mut Child) -> String {
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split(['/', ',']).next())
        .unwrap_or_else(|| panic!("no address in banner: {first:?}"))
        .to_string()
}

/// The head of a `POST` on its own connection (`Connection: close`) with `headers`.
pub fn post_head(addr: &str, path: &str, headers: &[(&str, &str)], len: usize) -> String {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\nConnection: close\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    head
}
