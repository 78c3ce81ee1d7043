//! A minimal local LLM-API stand-in for `scripts/bench_proxy.sh`: answers every
//! request with a recorded Chat Completions body (or, for `"stream":true`, the
//! recorded SSE stream), so proxy overhead can be measured against a direct
//! connection to the same server. Usage: `proxy_bench_upstream 127.0.0.1:PORT`;
//! prints `accepted N` for each connection it accepts.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;

const JSON: &[u8] =
    include_bytes!("../tests/fixtures/wire/wire-openai-chat/02_response_tool_calls.json");
const SSE: &[u8] =
    include_bytes!("../tests/fixtures/wire/wire-openai-chat/06_stream_tool_calls.sse");

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let stream = memchr::memmem::find(&body, b"\"stream\":true").is_some()
        || memchr::memmem::find(&body, b"\"stream\": true").is_some();
    let (ctype, bytes) = if stream {
        ("text/event-stream", SSE)
    } else {
        ("application/json", JSON)
    };
    let mut resp = Response::new(Full::new(Bytes::from_static(bytes)));
    resp.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static(ctype),
    );
    Ok(resp)
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18080".to_string());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let mut accepted: u64 = 0;
        loop {
            let (stream, _) = listener.accept().await?;
            // One line per connection: the bench counts the connections a point opened.
            accepted += 1;
            println!("accepted {accepted}");
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hyper::service::service_fn(answer))
                    .await;
            });
        }
    })
}
