//! The forwarding shell: a hyper 1 HTTP/1.1 server on the listen address and a
//! pooled client (HTTP/1.1 or HTTP/2 over rustls with the `ring` provider and
//! webpki roots) to the upstreams.
//!
//! Bodies stream through frame by frame in both directions; a copy of each frame
//! goes to the exchange's recorder on the side. A client that disconnects drops
//! the upstream request (and its connection). Errors the proxy itself produces
//! (401, 408, 502, 503, 504) carry a JSON body in the shape of the provider's own errors.
//!
//! Memory has a ceiling: request bodies read ahead and response copies are
//! held against one in-flight budget shared by every connection. A request
//! whose body the budget cannot hold is not forwarded: the client gets 503
//! with `Retry-After` (which the OpenAI and Anthropic SDKs honour by retrying).

mod tee;

pub use tee::RequestTee;
use tee::{AheadError, ResponseTee};

use super::capture::{
    Capture, ExchangeMeta, ExchangeRecorder, Finished, Outcome, RecordLimits, ResponseMeta,
    SharedCapture,
};
use super::phases::Phase;
use super::route::{self, Provider, Upstream};
use super::{ProxyStats, Timeouts};
use crate::limits::{body::drain, mib, Budget};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{HttpConnector, HttpInfo};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Errors of bodies the proxy hands to hyper.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body type the proxy answers with.
pub type ProxyBody = BoxBody<Bytes, BoxError>;
type UpstreamClient = Client<HttpsConnector<HttpConnector>, RequestTee>;

/// Headers a client may send to name its conversation, first match wins.
pub const SESSION_HEADERS: &[&str] = &[
    "x-skilltrace-session",
    "x-session-id",
    "session-id",
    "session_id",
    "x-claude-code-session-id",
    "x-conversation-id",
    "conversation-id",
    "conversation_id",
    "openai-conversation-id",
];

/// The one path the proxy answers itself (`GET` only, never forwarded): its
/// counters as JSON ([`ProxyStats::to_json`]), behind the token when one is set.
pub const HEALTH_PATH: &str = "/health";

/// Everything a request handler needs, shared by all connections.
pub struct Shared {
    pub openai: Upstream,
    pub anthropic: Upstream,
    pub token: Option<String>,
    pub limits: RecordLimits,
    pub timeouts: Timeouts,
    pub recorder: tokio::sync::mpsc::UnboundedSender<Finished>,
    pub stats: Arc<ProxyStats>,
    /// Body bytes held across all connections.
    pub budget: Arc<Budget>,
    client: UpstreamClient,
}

impl Shared {
    /// Builds the upstream client: TLS trusts the webpki roots plus `extra_ca_pem`.
    /// Fails when the TLS provider cannot be set up or the PEM holds no usable certificate.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        openai: Upstream,
        anthropic: Upstream,
        token: Option<String>,
        limits: RecordLimits,
        timeouts: Timeouts,
        extra_ca_pem: &[u8],
        recorder: tokio::sync::mpsc::UnboundedSender<Finished>,
        stats: Arc<ProxyStats>,
    ) -> Result<Shared, String> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeouts.connect));
        http.set_keepalive(Some(Duration::from_secs(60)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(extra_ca_pem)?)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        Ok(Shared {
            openai,
            anthropic,
            token,
            budget: Budget::new(limits.inflight),
            limits,
            timeouts,
            recorder,
            stats,
            client,
        })
    }
}

/// Checks that the extra CA certificates load (so `bind` fails early, not `serve`).
pub fn check_tls(extra_ca_pem: &[u8]) -> Result<(), String> {
    tls_config(extra_ca_pem).map(|_| ())
}

/// rustls client settings: `ring`, safe default protocol versions, webpki roots + extra CAs.
fn tls_config(extra_ca_pem: &[u8]) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if !extra_ca_pem.is_empty() {
        let mut added = 0;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(extra_ca_pem) {
            let cert = cert.map_err(|_| "extra CA file is not valid PEM".to_string())?;
            roots
                .add(cert)
                .map_err(|e| format!("extra CA certificate rejected: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err("extra CA file holds no certificate".into());
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Accepts connections until `shutdown` resolves, then lets open connections
/// finish (up to the drain timeout).
pub async fn run(listener: TcpListener, shared: Arc<Shared>, shutdown: impl Future<Output = ()>) {
    let (header_timeout, drain) = (shared.timeouts.client_headers, shared.timeouts.drain);
    crate::serve::http1(
        listener,
        move |req| handle(shared.clone(), req),
        header_timeout,
        drain,
        shutdown,
    )
    .await;
}

/// One request: check the token, route, forward, stream the answer back.
async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Infallible> {
    let authorized = shared.token.as_ref().is_none_or(|expected| {
        crate::serve::token_ok(req.headers(), route::TOKEN_HEADER, expected)
    });
    if authorized && req.method() == hyper::Method::GET && req.uri().path() == HEALTH_PATH {
        return Ok(health_response(&shared.stats));
    }
    super::poll::touch();
    let seq = shared.stats.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let route = route::classify(req.method(), req.uri().path(), req.headers());
    if !authorized {
        shared.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
        return Ok(error_response(
            StatusCode::UNAUTHORIZED,
            route.provider,
            "unauthorized",
            "missing or wrong x-skilltrace-token header",
        ));
    }
    let rec_started = Instant::now();
    let (mut parts, body) = req.into_parts();
    let upstream = match route.provider {
        Provider::OpenAi => &shared.openai,
        Provider::Anthropic => &shared.anthropic,
    };
    let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = upstream.target(pq) else {
        return Ok(error_response(
            StatusCode::BAD_REQUEST,
            route.provider,
            "bad_request",
            "request target cannot be forwarded",
        ));
    };
    let meta = ExchangeMeta {
        seq,
        route,
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(route::recordable_query),
        upstream: upstream.display(),
        started: rec_started,
        started_ms: chrono::Utc::now().timestamp_millis(),
        request_headers: route::recordable_header_map(&parts.headers),
        session_header: session_header(&parts.headers),
    };
    let limit = if route.api.is_some() {
        shared.limits.request_body
    } else {
        0
    };
    let capture: SharedCapture = Arc::new(Mutex::new(Capture::new(limit)));
    let mut rec = ExchangeRecorder::new(
        meta,
        capture.clone(),
        shared.limits,
        shared.recorder.clone(),
        shared.stats.clone(),
    )
    .with_budget(shared.budget.clone());
    route::strip_for_forwarding(&mut parts.headers);
    let tee = if route.api.is_some() {
        let deadline = tokio::time::Instant::now() + shared.timeouts.request_body;
        let held = shared.budget.hold();
        match RequestTee::read_ahead(body, limit, capture, held, deadline).await {
            Ok(t) => t,
            Err(AheadError::Broken(e)) => {
                // The client broke off mid-upload: nothing to forward, no one to answer.
                rec.finish(Outcome::BodyError(format!(
                    "client request body: {}",
                    describe(&e)
                )));
                return Ok(error_response(
                    StatusCode::BAD_REQUEST,
                    route.provider,
                    "bad_request",
                    "request body broke off",
                ));
            }
            Err(AheadError::Timeout) => {
                rec.finish(Outcome::BodyError("client request body: timed out".into()));
                return Ok(closing(error_response(
                    StatusCode::REQUEST_TIMEOUT,
                    route.provider,
                    "request_timeout",
                    "request body not received in time",
                )));
            }
            Err(AheadError::Budget(rest)) => {
                // Refused before anything was forwarded: nothing to record. The rest
                // of the body is read and dropped so the client sees the 503.
                rec.cancel();
                shared.stats.busy.fetch_add(1, Ordering::Relaxed);
                let ended = drain(rest, u64::MAX, deadline).await;
                let mut resp = error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    route.provider,
                    "proxy_busy",
                    &format!(
                        "skilltrace proxy: request bodies in flight fill its {} memory budget; retry shortly",
                        mib(shared.limits.inflight)
                    ),
                );
                resp.headers_mut().insert(
                    hyper::header::RETRY_AFTER,
                    HeaderValue::from(RETRY_AFTER_SECS),
                );
                return Ok(if ended { resp } else { closing(resp) });
            }
        }
    } else {
        RequestTee::streaming(body, capture)
    };
    let read_at = Instant::now();
    if let Some(p) = &shared.stats.phases {
        p.add(Phase::Read, read_at.saturating_duration_since(rec_started));
    }
    let mut up = Request::new(tee);
    *up.method_mut() = parts.method;
    *up.uri_mut() = uri;
    *up.headers_mut() = parts.headers;

    // The forwarding thread polls (briefly) for the answer head rather than park.
    let waiting = super::poll::current().map(|w| w.waiting());
    let sent = tokio::time::timeout(shared.timeouts.response_headers, shared.client.request(up));
    let sent = sent.await;
    drop(waiting);
    let resp = match sent {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            shared.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
            let why = describe(&e);
            rec.finish(Outcome::Unreachable(why.clone()));
            return Ok(error_response(
                StatusCode::BAD_GATEWAY,
                route.provider,
                "upstream_unreachable",
                &format!(
                    "skilltrace proxy: upstream {} unreachable: {why}",
                    upstream.display()
                ),
            ));
        }
        Err(_) => {
            shared.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
            rec.finish(Outcome::HeaderTimeout);
            return Ok(error_response(
                StatusCode::GATEWAY_TIMEOUT,
                route.provider,
                "upstream_timeout",
                &format!(
                    "skilltrace proxy: upstream {} sent no response within {} s",
                    upstream.display(),
                    shared.timeouts.response_headers.as_secs()
                ),
            ));
        }
    };
    let head_at = Instant::now();
    if let Some(p) = &shared.stats.phases {
        p.add(Phase::Upstream, head_at.saturating_duration_since(read_at));
        if let Some(info) = resp.extensions().get::<HttpInfo>() {
            p.upstream_conn(info.local_addr());
        }
    }
    let (mut rparts, rbody) = resp.into_parts();
    route::strip_response(&mut rparts.headers);
    rec.on_response(ResponseMeta {
        status: rparts.status.as_u16(),
        headers: route::recordable_header_map(&rparts.headers),
        content_type: header_str(&rparts.headers, CONTENT_TYPE).to_ascii_lowercase(),
        content_encoding: Some(
            header_str(&rparts.headers, CONTENT_ENCODING)
                .trim()
                .to_string(),
        )
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity")),
        at: head_at,
    });
    let body = ResponseTee {
        inner: rbody,
        rec,
        idle: shared.timeouts.idle,
        sleep: None,
    };
    let mut out = Response::new(body.boxed());
    *out.status_mut() = rparts.status;
    *out.headers_mut() = rparts.headers;
    Ok(out)
}

/// Seconds a client is asked to wait when the memory budget is full.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Asks the client's connection to close after this answer (its body was not read whole).
fn closing(mut r: Response<ProxyBody>) -> Response<ProxyBody> {
    r.headers_mut()
        .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn header_str(h: &HeaderMap, name: hyper::header::HeaderName) -> &str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn session_header(h: &HeaderMap) -> Option<String> {
    SESSION_HEADERS.iter().find_map(|n| {
        h.get(*n)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| v.chars().take(256).collect())
    })
}

/// The error and its causes, one line (connector errors name hosts and OS errors, no secrets).
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.contains(&s) {
            parts.push(s);
        }
        cur = err.source();
    }
    crate::redact::cut::one_line(&parts.join(": "), 300)
}

/// `200` with the proxy's counters.
fn health_response(stats: &ProxyStats) -> Response<ProxyBody> {
    let mut v = stats.to_json();
    if let Some(w) = super::poll::current() {
        v["poll"] = w.to_json();
    }
    let bytes = Bytes::from(v.to_string());
    let mut resp = Response::new(Full::new(bytes).map_err(|never| match never {}).boxed());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// A JSON error body shaped like the provider's own, so SDKs surface it cleanly.
pub fn error_response(
    status: StatusCode,
    provider: Provider,
    code: &str,
    message: &str,
) -> Response<ProxyBody> {
    let body = match provider {
        Provider::Anthropic => serde_json::json!({
            "type": "error",
            "error": {"type": if status == StatusCode::UNAUTHORIZED { "authentication_error" } else { "api_error" }, "message": message, "code": code},
        }),
        Provider::OpenAi => serde_json::json!({
            "error": {"message": message, "type": "skilltrace_proxy_error", "param": null, "code": code},
        }),
    };
    let bytes = Bytes::from(body.to_string());
    let mut resp = Response::new(Full::new(bytes).map_err(|never| match never {}).boxed());
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut()
        .insert("x-skilltrace-proxy-error", HeaderValue::from_static("1"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_header_first_match() {
        let mut h = HeaderMap::new();
        h.insert("session_id", HeaderValue::from_static("codex-1"));
        h.insert("x-session-id", HeaderValue::from_static("mine"));
        assert_eq!(session_header(&h).as_deref(), Some("mine"));
        assert_eq!(session_header(&HeaderMap::new()), None);
    }
}
