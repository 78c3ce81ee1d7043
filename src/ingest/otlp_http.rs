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
//! (the sender must not retry); 415 for another content type; 413 past a size
//! limit; 408 for a body not received whole in time. Nothing accepted is
//! dropped: a request is taken only while the store writer's inbox has room
//! (it spools what a slow or full store cannot take); when it has none, the
//! answer is 429 with `Retry-After` before the body is read (the exporter
//! retries), and 503 with `Retry-After` if the writer has stopped or the
//! in-flight memory budget is full; a stopped writer and throttling are said on
//! stderr at once. Error bodies name the problem, never the content.
//!
//! Memory has a ceiling ([`crate::limits`]): every body byte, compressed and
//! decoded, is held against one budget shared by all connections until the
//! writer's queue has taken the request's spans; bodies, decoded sizes, spans
//! and JSON values per request are capped and counted before anything is parsed.

use crate::ingest::formats::{FileParser, Format, FormatError};
use crate::ingest::otlp_census::{census, CensusError};
use crate::ingest::otlp_proto::{to_json_limited, ProtoError};
use crate::ingest::pipeline::{Batch, IngestSender, SourceState};
use crate::limits::body::{drain, read_whole, BodyError};
use crate::limits::decode::{decode, Coding, DecodeError};
use crate::limits::json::CountError;
use crate::limits::{mib, Budget, Held, Limits};
use crate::model::ParseError;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where OTLP/HTTP receivers listen by convention.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4318";
/// The traces path of OTLP/HTTP.
pub const TRACES_PATH: &str = "/v1/traces";
/// Seconds a sender is asked to wait when the memory budget is full.
pub const RETRY_AFTER_SECS: u64 = 1;
/// The logs path of OTLP/HTTP.
pub const LOGS_PATH: &str = "/v1/logs";

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
    /// Of the rejected: answered 503 because the in-flight memory budget was full.
    pub busy: AtomicU64,
    /// Of the rejected: bodies not received whole in time (408).
    pub timed_out: AtomicU64,
    /// Answered 429 because the store writer was behind (the exporter retries).
    pub throttled: AtomicU64,
}

/// A bound receiver, not yet serving.
pub struct BoundReceiver {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    stats: Arc<ReceiverStats>,
    limits: Limits,
}

/// Binds `listen` (loopback only).
pub async fn bind(listen: &str) -> Result<BoundReceiver, ReceiverError> {
    let (listener, addr) = crate::serve::bind(listen, false)
        .await
        .map_err(|e| match e {
            crate::serve::ListenError::BadListen(l) => ReceiverError::BadListen(l),
            crate::serve::ListenError::NotLoopback(a) => ReceiverError::NotLoopback(a),
            crate::serve::ListenError::Listen { addr, source } => {
                ReceiverError::Listen { addr, source }
            }
        })?;
    Ok(BoundReceiver {
        listener,
        addr,
        stats: Arc::new(ReceiverStats::default()),
        limits: Limits::default(),
    })
}

struct Shared {
    source: String,
    parser: Mutex<FileParser>,
    sink: IngestSender,
    stats: Arc<ReceiverStats>,
    limits: Limits,
    budget: Arc<Budget>,
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

    /// Receives under `limits` (the defaults otherwise).
    pub fn with_limits(mut self, limits: Limits) -> BoundReceiver {
        self.limits = limits;
        self
    }

    /// Receives until `shutdown` resolves, then lets open requests finish.
    pub async fn serve(self, sink: IngestSender, shutdown: impl Future<Output = ()>) {
        let source = self.source_path();
        let shared = Arc::new(Shared {
            parser: Mutex::new(FileParser::new(source.clone(), Some(Format::Otlp))),
            source,
            sink,
            stats: self.stats.clone(),
            limits: self.limits,
            budget: Budget::new(self.limits.inflight_bytes),
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

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    crate::serve::reply(status, content_type, body)
}

/// An error answer: OTLP's `Status` message as JSON.
fn status(code: StatusCode, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "code": code.as_u16(), "message": message }).to_string();
    reply(code, "application/json", body)
}

/// A retryable refusal: `status` with `Retry-After: secs`.
fn retry_later(code: StatusCode, secs: u64, message: &str) -> Response<Body> {
    let mut r = status(code, message);
    r.headers_mut().insert(
        hyper::header::RETRY_AFTER,
        hyper::header::HeaderValue::from(secs),
    );
    r
}

/// 503 with `Retry-After`: the in-flight memory budget is full (retryable in OTLP).
fn busy(shared: &Shared) -> Response<Body> {
    shared.stats.busy.fetch_add(1, Ordering::Relaxed);
    retry_later(
        StatusCode::SERVICE_UNAVAILABLE,
        RETRY_AFTER_SECS,
        &format!(
            "request bodies in flight fill the {} memory budget; retry later",
            mib(shared.limits.inflight_bytes)
        ),
    )
}

/// Asks the client's connection to close after this answer (its body was not read whole).
fn closing(mut r: Response<Body>) -> Response<Body> {
    r.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    r
}

/// 413 naming the limit passed and the config key that sets it.
fn too_large(what: &str, key: &str) -> Response<Body> {
    status(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("{what}; send smaller batches or raise [limits] {key}"),
    )
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
    let coding = match encoding.as_str() {
        "" | "identity" => Coding::Identity,
        "gzip" | "x-gzip" => Coding::Gzip,
        _ => {
            return status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Encoding: only gzip or none",
            )
        }
    };
    let limits = shared.limits;
    let max = limits.otlp_body_bytes;
    let deadline = tokio::time::Instant::now() + limits.body_timeout();
    let mut held = shared.budget.hold();
    let mut body = req.into_body();
    let read = read_whole(&mut body, max, &mut held, deadline).await;
    let wire = match read {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return closing(too_large(
                &format!("request body is larger than {}", mib(max)),
                "otlp_body_bytes",
            ))
        }
        Err(BodyError::Budget) => {
            // Read the rest (keeping nothing) so the sender sees the 503, not a reset.
            return if drain(body, max as u64, deadline).await {
                busy(shared)
            } else {
                closing(busy(shared))
            };
        }
        Err(BodyError::Timeout) => {
            shared.stats.timed_out.fetch_add(1, Ordering::Relaxed);
            return closing(status(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "request body not received whole within {} s",
                    limits.body_timeout_secs
                ),
            ));
        }
        Err(BodyError::Broken) => {
            return closing(status(
                StatusCode::BAD_REQUEST,
                "request body was cut short",
            ))
        }
    };
    drop(body);
    let decoded = match decode(coding, &wire, max, 0, &mut held) {
        Ok(d) => d,
        Err(DecodeError::TooLarge { .. }) => {
            return too_large(
                &format!("request body inflates past {}", mib(max)),
                "otlp_body_bytes",
            )
        }
        Err(DecodeError::Budget) => return busy(shared),
        Err(DecodeError::Corrupt) => {
            return status(StatusCode::BAD_REQUEST, "body is not valid gzip")
        }
    };
    let decoded = match decoded {
        Cow::Owned(d) => {
            // The compressed form is no longer needed.
            held.shrink(wire.capacity());
            drop(wire);
            d
        }
        Cow::Borrowed(_) => wire,
    };
    let body = match counted(shared, decoded, protobuf, logs, &mut held) {
        Ok(b) => b,
        Err(answer) => return *answer,
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
    // What the spans cost stays held until the writer's queue has taken them:
    // the text they were parsed from stands in for their size.
    drop(body);
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
    drop(held);
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

/// The request as OTLP/JSON, its spans and values counted against the limits
/// (protobuf is rewritten, counting as it goes); else the answer refusing it.
fn counted(
    shared: &Shared,
    body: Vec<u8>,
    protobuf: bool,
    logs: bool,
    held: &mut Held,
) -> Result<Vec<u8>, Box<Response<Body>>> {
    let l = &shared.limits;
    let spans = || {
        too_large(
            &format!("request carries more than {} spans", l.otlp_spans),
            "otlp_spans",
        )
    };
    let values = || {
        too_large(
            &format!("request carries more than {} JSON values", l.json_values),
            "json_values",
        )
    };
    if !protobuf {
        return match census(&body, l.otlp_spans, l.json_values) {
            Err(CensusError::TooManySpans(_)) => Err(Box::new(spans())),
            Err(CensusError::Count(CountError::TooMany(_))) => Err(Box::new(values())),
            // Bad JSON goes on to the parser, which says what is wrong and stores it.
            Ok(_) | Err(CensusError::Count(CountError::Invalid(_))) => Ok(body),
        };
    }
    if logs {
        // Logs carry no spans; their JSON form is counted like a JSON request.
        let Ok(json) = crate::ingest::otlp_logs_proto::to_json(&body) else {
            return Err(Box::new(status(
                StatusCode::BAD_REQUEST,
                "not an OTLP protobuf logs request",
            )));
        };
        if !held.resize(held.bytes() - body.capacity().min(held.bytes()) + json.capacity()) {
            return Err(Box::new(busy(shared)));
        }
        drop(body);
        return counted(shared, json, false, true, held);
    }
    let json = match to_json_limited(&body, l.otlp_spans, l.json_values) {
        Ok(json) => json,
        Err(ProtoError::TooManySpans(_)) => return Err(Box::new(spans())),
        Err(ProtoError::TooManyValues(_)) => return Err(Box::new(values())),
        Err(e @ ProtoError::TooDeep(_)) => {
            return Err(Box::new(status(
                StatusCode::BAD_REQUEST,
                &format!("OTLP protobuf traces request refused: {e}"),
            )))
        }
        Err(ProtoError::Decode) => {
            return Err(Box::new(status(
                StatusCode::BAD_REQUEST,
                "not an OTLP protobuf traces request",
            )))
        }
    };
    // Hold the JSON form in place of the protobuf one.
    if !held.resize(held.bytes() - body.capacity().min(held.bytes()) + json.capacity()) {
        return Err(Box::new(busy(shared)));
    }
    Ok(json)
}
