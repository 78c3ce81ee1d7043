//! Serving HTTP/1.1 on a bound listener until shutdown: one task per
//! connection, a deadline for request heads, then a graceful drain; binding
//! a listen address loopback-only unless remote access is allowed; checking a
//! client token in constant time. Shared by the proxy, the OTLP receiver and
//! the guard's HTTP hook endpoint.

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

/// Accepts connections on `listener` and answers each request with `handler`
/// until `shutdown` resolves; then asks open connections to finish and waits up
/// to `drain` for them.
pub async fn http1<H, F, B>(
    listener: TcpListener,
    handler: H,
    header_timeout: Duration,
    drain: Duration,
    shutdown: impl Future<Output = ()>,
) where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
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
            let service = hyper::service::service_fn(handler);
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
