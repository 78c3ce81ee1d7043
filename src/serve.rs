//! Serving HTTP/1.1 on a bound listener until shutdown: one task per
//! connection, a deadline for request heads, then a graceful drain; binding
//! a listen address loopback-only unless remote access is allowed; refusing,
//! on a loopback listener, requests that name another host or come from a web
//! page ([`foreign_request`]: DNS rebinding, cross-site posts); checking a
//! client token in constant time. Shared by the proxy, the OTLP receiver and
//! the guard's HTTP hook endpoint.

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::body::{Body, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// Why a listen address could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("cannot resolve listen address {0}")]
    BadListen(String),
    #[error("{0} is not a loopback address")]
    NotLoopback(String),
    #[error("cannot listen on {addr}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// Resolves `listen` (`host:port`) and binds it. Every address it resolves to
/// must be loopback unless `allow_remote`. Returns the listener and the
/// address actually bound (port 0 resolved).
pub async fn bind(
    listen: &str,
    allow_remote: bool,
) -> Result<(TcpListener, std::net::SocketAddr), ListenError> {
    let addrs: Vec<std::net::SocketAddr> = match listen.parse::<std::net::SocketAddr>() {
        Ok(a) => vec![a],
        Err(_) => tokio::net::lookup_host(listen)
            .await
            .map_err(|_| ListenError::BadListen(listen.to_string()))?
            .collect(),
    };
    let Some(first) = addrs.first().copied() else {
        return Err(ListenError::BadListen(listen.to_string()));
    };
    if !allow_remote {
        if let Some(remote) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(ListenError::NotLoopback(remote.to_string()));
        }
    }
    let listener = TcpListener::bind(first)
        .await
        .map_err(|source| ListenError::Listen {
            addr: first.to_string(),
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ListenError::Listen {
            addr: first.to_string(),
            source,
        })?;
    Ok((listener, addr))
}

/// A complete response: `status`, a `Content-Type`, and `body`.
pub fn reply(
    status: hyper::StatusCode,
    content_type: &'static str,
    body: String,
) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    let mut r = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    r
}

/// True when header `name` of `headers` equals `expected`, compared in
/// constant time.
pub fn token_ok(headers: &hyper::HeaderMap, name: &str, expected: &str) -> bool {
    headers
        .get(name)
        .is_some_and(|v| ct_eq(v.as_bytes(), expected.as_bytes()))
}

/// Byte equality in time independent of where the inputs differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request to a loopback listener is refused, or `None` when it may be
/// answered. A web page can reach a loopback port: a page of another site
/// through a name it re-points at 127.0.0.1 (DNS rebinding: the request then
/// names that site in `Host`), or by posting across sites (the browser names
/// the page in `Origin`). Local clients (SDKs, exporters, hooks, curl) name a
/// loopback address or `localhost` and send no foreign `Origin`. The reason
/// never repeats the request's text.
pub fn foreign_request(uri: &hyper::Uri, headers: &hyper::HeaderMap) -> Option<&'static str> {
    if uri.host().is_some_and(|h| !is_loopback_name(h)) {
        return Some("the request names a host that is not loopback");
    }
    let mut hosts = headers.get_all(hyper::header::HOST).iter();
    if let Some(host) = hosts.next() {
        let ok = host.to_str().ok().and_then(host_of_authority);
        if hosts.next().is_some() || !ok.is_some_and(is_loopback_name) {
            return Some("the Host header does not name a loopback address");
        }
    }
    // A browser names where a request comes from even when it sends no
    // `Origin` (an `<img>`, a `<script>`, a form or link navigated to: a GET
    // with its cookies-free side effects). No SDK, exporter or agent hook sends
    // `Sec-Fetch-Site`; Node's fetch sends only `Sec-Fetch-Mode`.
    let cross_site = headers
        .get_all("sec-fetch-site")
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    if cross_site {
        return Some("requests from web pages of other sites are not answered");
    }
    for origin in headers.get_all(hyper::header::ORIGIN) {
        let host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .and_then(|(_, rest)| host_of_authority(rest));
        if !host.is_some_and(is_loopback_name) {
            return Some("requests from web pages of other sites are not answered");
        }
    }
    None
}

/// The host of `host[:port]` or `[v6][:port]` (a trailing `/path` ignored).
fn host_of_authority(a: &str) -> Option<&str> {
    let a = a.split('/').next().unwrap_or(a);
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split_once(']').map(|(h, _)| h);
    }
    let host = match a.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        Some(_) => return None,
        None => a,
    };
    (!host.is_empty()).then_some(host)
}

/// `localhost` or a loopback IP literal (`127.0.0.0/8`, `::1`, with or without brackets).
fn is_loopback_name(h: &str) -> bool {
    let h = h.trim_start_matches('[').trim_end_matches(']');
    let h = h.strip_suffix('.').unwrap_or(h);
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `403` a refused foreign request gets: JSON naming why.
fn refusal(why: &'static str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "error": format!("refused: {why}") }).to_string();
    reply(hyper::StatusCode::FORBIDDEN, "application/json", body)
}

/// Accepts connections on `listener` and answers each request with `handler`
/// until `shutdown` resolves; then asks open connections to finish and waits up
/// to `drain` for them. On a loopback listener a [`foreign_request`] gets a
/// `403` and never reaches `handler`.
pub async fn http1<H, F, B>(
    listener: TcpListener,
    handler: H,
    header_timeout: Duration,
    drain: Duration,
    shutdown: impl Future<Output = ()>,
) where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let loopback_only = listener.local_addr().is_ok_and(|a| a.ip().is_loopback());
    let (close_tx, close_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((s, _peer)) => s,
            Err(_) => {
                // Out of file descriptors and the like: back off, keep serving.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let mut close = close_rx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let refused = loopback_only
                    .then(|| foreign_request(req.uri(), req.headers()))
                    .flatten();
                let answer = match refused {
                    None => Ok(handler(req)),
                    Some(why) => {
                        // The reason only: nothing the request carried.
                        crate::notice::warn(
                            "foreign-request",
                            format!("refused a request a web page could have sent: {why}"),
                        );
                        Err(refusal(why))
                    }
                };
                async move {
                    match answer {
                        Ok(fut) => fut.await.map(|r| r.map(Either::Left)),
                        Err(r) => Ok(r.map(Either::Right)),
                    }
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = close.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    drop(close_rx);
    let _ = close_tx.send(true);
    let _ = tokio::time::timeout(drain, close_tx.closed()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }

    fn refused(uri: &str, headers: &[(&str, &str)]) -> Option<&'static str> {
        let mut map = hyper::HeaderMap::new();
        for (k, v) in headers {
            map.append(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                hyper::header::HeaderValue::from_str(v).unwrap(),
            );
        }
        foreign_request(&uri.parse().unwrap(), &map)
    }

    #[test]
    fn only_loopback_names_and_no_foreign_page_are_answered() {
        for host in [
            "127.0.0.1:8787",
            "127.9.9.9",
            "localhost:4318",
            "LOCALHOST.",
            "[::1]:8787",
            "[::1]",
        ] {
            assert_eq!(refused("/v1/traces", &[("host", host)]), None, "{host}");
        }
        assert_eq!(refused("/v1/traces", &[]), None, "HTTP/1.0 without Host");
        let local_page = [
            ("host", "127.0.0.1:4318"),
            ("origin", "http://localhost:3000"),
        ];
        assert_eq!(refused("/", &local_page), None);
        for host in [
            "evil.com",
            "evil.com:8787",
            "127.0.0.1.evil.com",
            "localhost.evil.com:80",
            "0.0.0.0:8787",
            "192.168.1.2",
            "[::ffff:8.8.8.8]",
            "127.0.0.1:80:80",
            "",
        ] {
            assert!(refused("/", &[("host", host)]).is_some(), "{host:?}");
        }
        let two_hosts = [("host", "127.0.0.1"), ("host", "evil.com")];
        assert!(refused("/", &two_hosts).is_some());
        let no_cors = [("host", "127.0.0.1:8787"), ("sec-fetch-site", "cross-site")];
        assert!(
            refused("/health", &no_cors).is_some(),
            "an <img> of another site"
        );
        for site in ["same-origin", "same-site", "none"] {
            let h = [("host", "127.0.0.1:8787"), ("sec-fetch-site", site)];
            assert_eq!(refused("/", &h), None, "{site}");
        }
        let node_fetch = [("host", "127.0.0.1:8787"), ("sec-fetch-mode", "cors")];
        assert_eq!(refused("/v1/chat", &node_fetch), None, "Node's fetch");
        for origin in ["https://evil.com", "null", "http://127.0.0.1.nip.io:8787"] {
            let h = [("host", "127.0.0.1:8787"), ("origin", origin)];
            assert!(refused("/", &h).is_some(), "{origin}");
        }
        assert!(refused("http://evil.com/v1/chat", &[("host", "127.0.0.1")]).is_some());
        assert_eq!(
            refused("http://127.0.0.1:1/v1", &[("host", "127.0.0.1")]),
            None
        );
    }

    #[tokio::test]
    async fn binds_loopback_and_refuses_remote_unless_allowed() {
        let (_l, addr) = bind("127.0.0.1:0", false).await.unwrap();
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        let e = bind("0.0.0.0:0", false).await.unwrap_err();
        assert!(matches!(e, ListenError::NotLoopback(_)), "{e}");
        assert!(bind("0.0.0.0:0", true).await.is_ok());
        assert!(matches!(
            bind("no-such-host.invalid:1", false).await.unwrap_err(),
            ListenError::BadListen(_)
        ));
    }
}
