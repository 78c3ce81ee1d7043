//! Test harness for the proxy: a scripted local upstream that replays recorded
//! bodies (optionally in timed chunks), a proxy on port 0 whose records land in
//! a plain channel, and a small HTTP client that reads frames as they arrive.
#![allow(dead_code, clippy::unwrap_used)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::HeaderMap;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use skilltrace::ingest::formats::Record;
use skilltrace::ingest::pipeline::{Batch, IngestSender};
use skilltrace::model::{Span, SpanKind};
use skilltrace::proxy::{self, ProxyConfig, ProxyError};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A fixture file's bytes.
pub fn fixture(rel: &str) -> Bytes {
    let p = format!("{}/tests/fixtures/wire/{rel}", env!("CARGO_MANIFEST_DIR"));
    Bytes::from(std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}")))
}

/// What the upstream answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// Body pieces, each sent after its delay.
    pub chunks: Vec<(Duration, Bytes)>,
}

impl Reply {
    /// A JSON body sent whole with a content-length.
    pub fn json(body: Bytes) -> Reply {
        Reply {
            status: 200,
            headers: vec![
                ("content-type", "application/json".into()),
                ("content-length", body.len().to_string()),
                ("x-request-id", "req_test_123".into()),
                ("openai-processing-ms", "42".into()),
            ],
            chunks: vec![(Duration::ZERO, body)],
        }
    }

    /// An SSE body split into pieces at awkward places (mid-line, mid-UTF-8 is fine for bytes).
    pub fn sse(body: Bytes, pieces: usize) -> Reply {
        let step = (body.len() / pieces.max(1)).max(1) + 7;
        let mut chunks = Vec::new();
        let mut at = 0;
        while at < body.len() {
            let end = (at + step).min(body.len());
            chunks.push((Duration::ZERO, body.slice(at..end)));
            at = end;
        }
        Reply {
            status: 200,
            headers: vec![
                ("content-type", "text/event-stream; charset=utf-8".into()),
                ("cache-control", "no-cache".into()),
                ("request-id", "req_stream_1".into()),
            ],
            chunks,
        }
    }
}

/// A request as the upstream received it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

/// The scripted upstream.
pub struct TestUpstream {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// When each chunk was handed to the upstream's connection.
    pub sent_at: Arc<Mutex<Vec<Instant>>>,
    /// Set when a chunk could not be sent because the proxy dropped the response.
    pub cancelled: Arc<AtomicBool>,
}

impl TestUpstream {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A response body fed from a channel.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

pub async fn start_upstream(
    handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> TestUpstream {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler: Arc<Handler> = Arc::new(handler);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sent_at = Arc::new(Mutex::new(Vec::new()));
    let cancelled = Arc::new(AtomicBool::new(false));
    let up = TestUpstream {
        addr,
        seen: seen.clone(),
        sent_at: sent_at.clone(),
        cancelled: cancelled.clone(),
    };
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            let (handler, seen, sent_at, cancelled) = (
                handler.clone(),
                seen.clone(),
                sent_at.clone(),
                cancelled.clone(),
            );
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (handler, seen, sent_at, cancelled) = (
                        handler.clone(),
                        seen.clone(),
                        sent_at.clone(),
                        cancelled.clone(),
                    );
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        let s = Seen {
                            method: parts.method.to_string(),
                            path_and_query: parts
                                .uri
                                .path_and_query()
                                .map(|p| p.to_string())
                                .unwrap_or_default(),
                            headers: parts.headers,
                            body,
                        };
                        let reply = handler(&s);
                        seen.lock().unwrap().push(s);
                        let (tx, rx) = tokio::sync::mpsc::channel(4);
                        tokio::spawn(async move {
                            for (delay, chunk) in reply.chunks {
                                if !delay.is_zero() {
                                    tokio::time::sleep(delay).await;
                                }
                                sent_at.lock().unwrap().push(Instant::now());
                                if tx.send(chunk).await.is_err() {
                                    cancelled.store(true, Ordering::SeqCst);
                                    return;
                                }
                            }
                        });
                        let mut resp = Response::new(ChannelBody(rx));
                        *resp.status_mut() = hyper::StatusCode::from_u16(reply.status).unwrap();
                        for (k, v) in reply.headers {
                            resp.headers_mut().append(k, v.parse().unwrap());
                        }
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    up
}

/// A proxy on 127.0.0.1:0 recording into a channel.
pub struct TestProxy {
    pub addr: SocketAddr,
    rx: std::sync::mpsc::Receiver<Batch>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), ProxyError>>,
}

pub fn config(upstream: &str) -> ProxyConfig {
    let mut cfg = ProxyConfig::new("127.0.0.1:0");
    cfg.openai_upstream = upstream.to_string();
    cfg.anthropic_upstream = upstream.to_string();
    cfg.timeouts.drain = Duration::from_secs(2);
    cfg
}

pub async fn start_proxy(cfg: ProxyConfig) -> TestProxy {
    let (tx, rx) = std::sync::mpsc::sync_channel(1024);
    let bound = proxy::bind(cfg).await.unwrap();
    let addr = bound.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bound.serve(IngestSender::new(tx), async {
        let _ = stop_rx.await;
    }));
    TestProxy {
        addr,
        rx,
        stop: Some(stop_tx),
        task,
    }
}

impl TestProxy {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the proxy (draining and flushing the recorder) and returns every batch.
    pub async fn stop(mut self) -> Vec<Batch> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        self.rx.try_iter().collect()
    }
}

/// Every record of every batch.
pub fn records(batches: &[Batch]) -> Vec<Record> {
    batches.iter().flat_map(|b| b.records.clone()).collect()
}

/// Every span, in emission order.
pub fn spans(batches: &[Batch]) -> Vec<Span> {
    records(batches)
        .into_iter()
        .filter_map(|r| match r {
            Record::Span(s) => Some(s),
            _ => None,
        })
        .collect()
}

pub fn of_kind(spans: &[Span], kind: SpanKind) -> Vec<Span> {
    spans.iter().filter(|s| s.kind == kind).cloned().collect()
}

/// A response as the client saw it, with each body frame's arrival time.
pub struct Got {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub frames: Vec<(Instant, Bytes)>,
}

/// Sends one request over a fresh connection and reads the answer frame by frame.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Got {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = sender
        .send_request(req.body(Full::new(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut body = resp.into_body();
    let mut frames = Vec::new();
    let mut all = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            all.extend_from_slice(&data);
            frames.push((Instant::now(), data));
        }
    }
    Got {
        status,
        headers,
        body: Bytes::from(all),
        frames,
    }
}

/// The key every test client sends; it must appear in no record and no stored byte.
pub const API_KEY: &str = "sk-proj-TESTKEYdoNotStore0123456789abcdefABCDEF";

pub fn auth_headers() -> Vec<(&'static str, String)> {
    vec![
        ("authorization", format!("Bearer {API_KEY}")),
        ("x-api-key", API_KEY.to_string()),
        ("content-type", "application/json".to_string()),
    ]
}

/// `send` with the test API key headers.
pub async fn send_auth(addr: SocketAddr, path: &str, body: Bytes) -> Got {
    let h = auth_headers();
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    send(addr, "POST", path, &h, body).await
}
