//! A minimal blocking HTTP/1.1 client for `guard serve`: the command hook
//! forwarding an event to a running server (`skilltrace guard --http URL`)
//! and `guard status` asking whether a server answers. Plain `http://` only
//! (the server listens on loopback), one request per connection, deadlines on
//! connect, write and read, and no more than [`MAX_RESPONSE`] bytes read.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The largest response read.
pub const MAX_RESPONSE: u64 = 4 * 1024 * 1024;
/// Header a server started with `--token` wants.
pub const TOKEN_HEADER: &str = "x-skilltrace-token";
/// Environment variable holding that token on the client side.
pub const TOKEN_ENV: &str = "SKILLTRACE_GUARD_TOKEN";

/// `http://host:port/path` split up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub host: String,
    pub port: u16,
    pub path: String,
}

/// Parses an `http://` URL; `https://` and anything else is an error.
pub fn parse_url(url: &str) -> Result<Url, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("{url}: only http:// URLs (the guard server listens on plain HTTP)")
    })?;
    let (auth, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match auth.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
            h.trim_start_matches('[').trim_end_matches(']'),
            p.parse::<u16>().map_err(|_| format!("{url}: bad port"))?,
        ),
        _ => (auth.trim_start_matches('[').trim_end_matches(']'), 80),
    };
    if host.is_empty() {
        return Err(format!("{url}: no host"));
    }
    Ok(Url {
        host: host.to_string(),
        port,
        path: path.to_string(),
    })
}

/// Sends one request and returns the status and body, within `timeout` overall.
pub fn request(
    method: &str,
    url: &Url,
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    let addr = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("{}: {e}", url.host))?
        .next()
        .ok_or_else(|| format!("{}: no address", url.host))?;
    let mut s = TcpStream::connect_timeout(&addr, left()).map_err(|e| format!("{addr}: {e}"))?;
    let _ = s.set_nodelay(true);
    s.set_write_timeout(Some(left()))
        .map_err(|e| e.to_string())?;
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        url.path,
        url.host,
        url.port,
        body.len()
    );
    if let Some(t) = std::env::var_os(TOKEN_ENV).filter(|t| !t.is_empty()) {
        head.push_str(&format!("{TOKEN_HEADER}: {}\r\n", t.to_string_lossy()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())
        .and_then(|()| s.write_all(body))
        .map_err(|e| format!("{addr}: {e}"))?;
    let mut buf = Vec::new();
    let mut r = s.take(MAX_RESPONSE);
    loop {
        r.get_mut()
            .set_read_timeout(Some(left()))
            .map_err(|e| e.to_string())?;
        let mut chunk = [0u8; 16 * 1024];
        match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("{addr}: {e}")),
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{addr}: no answer within {} ms",
                timeout.as_millis()
            ));
        }
    }
    parse_response(&buf)
}

/// Status and body of a complete HTTP/1.1 response (plain or chunked body).
fn parse_response(buf: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("response cut short")?;
    let head = String::from_utf8_lossy(&buf[..end]);
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no status line")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = &buf[end + 4..];
    Ok((
        status,
        if chunked {
            dechunk(body)?
        } else {
            body.to_vec()
        },
    ))
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").ok_or("bad chunk")?;
        let size = std::str::from_utf8(&b[..nl])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .ok_or("bad chunk size")?;
        b = &b[nl + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = b.get(..size).ok_or("chunk cut short")?;
        out.extend_from_slice(chunk);
        b = b.get(size + 2..).ok_or("chunk cut short")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:8788/guard/codex").unwrap(),
            Url {
                host: "127.0.0.1".into(),
                port: 8788,
                path: "/guard/codex".into()
            }
        );
        assert_eq!(parse_url("http://[::1]:9/").unwrap().host, "::1");
        assert_eq!(parse_url("http://localhost").unwrap().port, 80);
        assert!(parse_url("https://x/").is_err());
        assert!(parse_url("http://h:99999/").is_err());
    }

    #[test]
    fn responses_plain_and_chunked() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_response(plain).unwrap(), (200, b"{}".to_vec()));
        let ch = b"HTTP/1.1 401 Unauthorized\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(ch).unwrap(), (401, b"abcde".to_vec()));
        assert!(parse_response(b"HTTP/1.1 200").is_err());
    }
}
