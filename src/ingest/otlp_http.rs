//! The OTLP/HTTP receiver: `POST /v1/traces` with an `ExportTraceServiceRequest`
//! and `POST /v1/logs` with an `ExportLogsServiceRequest` (Claude Code's and
//! Codex's telemetry events), in protobuf (SDKs' default) or JSON, gzip or
//! plain, from an OpenTelemetry SDK, an agent or a Collector, on loopback only; each request is parsed by the OTLP parser
//! (protobuf rewritten to OTLP/JSON first, [`super::otlp_proto`]) and handed to
//! the pipeline (redaction and detection before the store) like a line of a
//! tailed file.
//!
//! Answers follow the OTLP/HTTP specification: 200 with an (empty)
//! `ExportTraceServiceResponse`; 400 for a body that is not an OTLP/JSON request
//! (the sender must not retry); 415 for another content type; 413 past the
//! size limit. Nothing accepted is dropped: a request is taken only while the
//! store writer's inbox has room (it spools what a slow or full store cannot
//! take); when it has none, the answer is 429 with `Retry-After` before the
//! body is read (the exporter retries), and 503 with `Retry-After` if the
//! writer has stopped; both are said on stderr at once. Error bodies name the
//! problem, never the content.

use crate::ingest::formats::{FileParser, Format, FormatError};
use crate::ingest::pipeline::{Batch, IngestSender, SourceState};
use crate::model::ParseError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::future::Future;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where OTLP/HTTP receivers listen by convention.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4318";
/// The traces path of OTLP/HTTP.
pub const TRACES_PATH: &str = "/v1/traces";
/// The logs path of OTLP/HTTP.
pub const LOGS_PATH: &str = "/v1/logs";
/// Largest request body taken, compressed or not.
pub const MAX_BODY: usize = 32 << 20;

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    #[error("otlp: {0}: not a host:port address")]
    BadListen(String),
    #[error("otlp: {0} is not a loopback address; the receiver listens on loopback only")]
    NotLoopback(String),
    #[error("otlp: cannot listen on {addr}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// Counters, live while the receiver runs.
#[derive(Debug, Default)]
pub struct ReceiverStats {
    pub requests: AtomicU64,
    pub accepted: AtomicU64,
    pub rejected: AtomicU64,
    /// Answered 429 because the store writer was behind (the exporter retries).
    pub throttled: AtomicU64,
}

/// A bound receiver, not yet serving.
pub struct BoundReceiver {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    stats: Arc<ReceiverStats>,
}

/// Binds `listen` (loopback only).
pub async fn bind(listen: &str) -> Result<BoundReceiver, ReceiverError> {
    let addrs: Vec<SocketAddr> = match listen.parse::<SocketAddr>() {
        Ok(a) => vec![a],
        Err(_) => tokio::net::lookup_host(listen)
            .await
            .map_err(|_| ReceiverError::BadListen(listen.to_string()))?
            .collect(),
    };
    let Some(first) = addrs.first().copied() else {
        return Err(ReceiverError::BadListen(listen.to_string()));
    };
    if let Some(remote) = addrs.iter().find(|a| !a.ip().is_loopback()) {
        return Err(ReceiverError::NotLoopback(remote.to_string()));
    }
    let listener = tokio::net::TcpListener::bind(first)
        .await
        .map_err(|source| ReceiverError::Listen {
            addr: first.to_string(),
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ReceiverError::Listen {
            addr: first.to_string(),
            source,
        })?;
    Ok(BoundReceiver {
        listener,
        addr,
        stats: Arc::new(ReceiverStats::default()),
    })
}

struct Shared {
    source: String,
    parser: Mutex<FileParser>,
    sink: IngestSender,
    stats: Arc<ReceiverStats>,
}

impl BoundReceiver {
    /// The address actually bound (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `otlp://<addr>`: the source path of every span received.
    pub fn source_path(&self) -> String {
        format!("otlp://{}", self.addr)
    }

    /// Counters, live while the receiver runs.
    pub fn stats(&self) -> Arc<ReceiverStats> {
        self.stats.clone()
    }

    /// Receives until `shutdown` resolves, then lets open requests finish.
    pub async fn serve(self, sink: IngestSender, shutdown: impl Future<Output = ()>) {
        let source = self.source_path();
        let shared = Arc::new(Shared {
            parser: Mutex::new(FileParser::new(source.clone(), Some(Format::Otlp))),
            source,
            sink,
            stats: self.stats.clone(),
        });
        let handler_shared = shared.clone();
        crate::serve::http1(
            self.listener,
            move |req| handle(handler_shared.clone(), req),
            Duration::from_secs(10),
            Duration::from_secs(5),
            shutdown,
        )
        .await;
        // Anything a parser still holds (spans waiting for their parent) goes out last.
        let mut records = Vec::new();
        if let Ok(mut p) = shared.parser.lock() {
            p.finish(&mut records);
        }
        if !records.is_empty() {
            shared.sink.send(Batch {
                records,
                ..Batch::default()
            });
        }
    }
}

type Body = Full<Bytes>;

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// An error answer: OTLP's `Status` message as JSON.
fn status(code: StatusCode, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "code": code.as_u16(), "message": message }).to_string();
    reply(code, "application/json", body)
}

/// A retryable refusal: `status` with `Retry-After: secs`.
fn retry_later(code: StatusCode, secs: u32, message: &str) -> Response<Body> {
    let mut r = status(code, message);
    if let Ok(v) = secs.to_string().parse() {
        r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
    }
    r
}

fn header(req: &Request<Incoming>, name: hyper::header::HeaderName) -> &str {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let n = shared.stats.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let answer = receive(&shared, req, n).await;
    let counter = if answer.status() == StatusCode::OK {
        &shared.stats.accepted
    } else {
        &shared.stats.rejected
    };
    counter.fetch_add(1, Ordering::Relaxed);
    Ok(answer)
}

async fn receive(shared: &Shared, req: Request<Incoming>, n: u64) -> Response<Body> {
    let logs = match req.uri().path().trim_end_matches('/') {
        TRACES_PATH => false,
        LOGS_PATH => true,
        _ => {
            return status(
                StatusCode::NOT_FOUND,
                "skilltrace receives traces and logs only, at POST /v1/traces and /v1/logs",
            )
        }
    };
    if req.method() != Method::POST {
        return status(StatusCode::METHOD_NOT_ALLOWED, "use POST");
    }
    let content_type = header(&req, hyper::header::CONTENT_TYPE).to_ascii_lowercase();
    let protobuf = if content_type.starts_with("application/json") {
        false
    } else if content_type.starts_with("application/x-protobuf") {
        true
    } else {
        return status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type: application/x-protobuf or application/json (OTLP/HTTP)",
        );
    };
    // Admission: take a request only when the writer can take its spans, so
    // an accepted one is never dropped (the parser keeps state across requests).
    if shared.sink.is_closed() {
        crate::notice::warn(
            "otlp-writer",
            "otlp: the store writer has stopped; answering 503 (exporters retry)",
        );
        return retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            5,
            "store writer stopped; retry later",
        );
    }
    if !shared.sink.has_room() {
        let n = shared.stats.throttled.fetch_add(1, Ordering::Relaxed) + 1;
        crate::notice::warn(
            "otlp-throttled",
            format!("otlp: the store is behind; answering 429 with Retry-After (exporters retry; {n} so far)"),
        );
        return retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            1,
            "the store is behind; retry later",
        );
    }
    let encoding = header(&req, hyper::header::CONTENT_ENCODING).to_ascii_lowercase();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body is larger than 32 MiB or was cut short",
            )
        }
    };
    let body = match encoding.as_str() {
        "" | "identity" => body.to_vec(),
        "gzip" | "x-gzip" => {
            let mut out = Vec::new();
            let inflated = flate2::read::GzDecoder::new(&body[..])
                .take(MAX_BODY as u64 + 1)
                .read_to_end(&mut out);
            match inflated {
                Ok(_) if out.len() <= MAX_BODY => out,
                Ok(_) => {
                    return status(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "request body inflates past 32 MiB",
                    )
                }
                Err(_) => return status(StatusCode::BAD_REQUEST, "body is not valid gzip"),
            }
        }
        _ => {
            return status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Encoding: only gzip or none",
            )
        }
    };
    let body = if protobuf {
        let decoded = if logs {
            crate::ingest::otlp_logs_proto::to_json(&body)
        } else {
            crate::ingest::otlp_proto::to_json(&body)
        };
        match decoded {
            Ok(json) => json,
            Err(_) => {
                let what = if logs { "logs" } else { "traces" };
                return status(
                    StatusCode::BAD_REQUEST,
                    &format!("not an OTLP protobuf {what} request"),
                );
            }
        }
    } else {
        body
    };
    let mut records = Vec::new();
    let parsed = match shared.parser.lock() {
        Ok(mut p) => p.line(&body, n, &mut records),
        Err(_) => return status(StatusCode::INTERNAL_SERVER_ERROR, "receiver failed"),
    };
    let (errors, bad) = match parsed {
        Ok(_) => (Vec::new(), None),
        Err(e) => {
            // The stored message goes through redaction with the batch; the answer
            // names only the kind of problem (a JSON error can quote the input).
            let said = match &e {
                FormatError::Json(_) => "invalid JSON".to_string(),
                other => other.to_string(),
            };
            let error = ParseError {
                path: shared.source.clone(),
                line: n,
                message: e.to_string(),
            };
            (vec![error], Some(said))
        }
    };
    let batch = Batch {
        records,
        errors,
        source: Some(SourceState {
            path: shared.source.clone(),
            kind: "otlp".into(),
            line: n,
            format: "otlp".into(),
            ..SourceState::default()
        }),
    };
    // Wait for room in the writer's queue (a slow answer is the backpressure an
    // exporter expects); the parser has taken the request, so dropping or
    // asking for a retry could lose or double-count it.
    let sink = shared.sink.clone();
    let sent = tokio::task::spawn_blocking(move || sink.send(batch))
        .await
        .unwrap_or(false);
    if !sent {
        crate::notice::warn(
            "otlp-writer",
            "otlp: the store writer has stopped; a request was refused with 503 (exporters retry)",
        );
        return retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            5,
            "store writer stopped; retry later",
        );
    }
    match bad {
        Some(m) => status(
            StatusCode::BAD_REQUEST,
            &format!("not an OTLP/JSON traces or logs request: {m}"),
        ),
        None => reply(StatusCode::OK, "application/json", "{}".into()),
    }
}
