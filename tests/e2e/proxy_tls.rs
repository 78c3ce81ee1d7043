//! The proxy to a TLS upstream speaking HTTP/2 (ALPN `h2` only), trusted through
//! `upstream_ca_pem`: the exchange is forwarded byte for byte over h2 and
//! recorded; an untrusted certificate gives a 502. The certificate is made at
//! test time with the `openssl` command (the test is skipped without it).
#![allow(clippy::unwrap_used)]

use crate::proxy_support;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use proxy_support::*;
use skilltrace::model::SpanKind;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// A private CA and a leaf for 127.0.0.1 / localhost signed by it: (CA PEM, leaf PEM, leaf key PEM).
fn make_certs(dir: &Path) -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .ok()?;
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=skilltrace test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    ];
    for args in steps {
        let ok = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
    }
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    Some((read("ca.pem"), read("cert.pem"), read("key.pem")))
}

/// An h2-only TLS server answering every request with `body` as SSE; records the HTTP version seen.
async fn h2_upstream(
    cert: &[u8],
    key: &[u8],
    body: Bytes,
) -> (SocketAddr, Arc<std::sync::Mutex<Vec<hyper::Version>>>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let versions = Arc::new(std::sync::Mutex::new(Vec::new()));
    let v2 = versions.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let (body, versions) = (body.clone(), v2.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (body, versions) = (body.clone(), versions.clone());
                    async move {
                        versions.lock().unwrap().push(req.version());
                        let _ = req.into_body().collect().await;
                        let mut r = Response::new(Full::new(body));
                        r.headers_mut()
                            .insert("content-type", "text/event-stream".parse().unwrap());
                        Ok::<_, Infallible>(r)
                    }
                });
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (addr, versions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_h2_upstream_with_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = make_certs(dir.path()) else {
        eprintln!("skipped: the openssl command is not available");
        return;
    };
    let req = fixture("wire-anthropic/03_request_stream.json");
    let sse = fixture("wire-anthropic/04_stream_tool_use.sse");
    let (addr, versions) = h2_upstream(&cert, &key, sse.clone()).await;
    let url = format!("https://localhost:{}", addr.port());

    // Trusted through the extra CA: forwarded over h2, byte for byte, and recorded.
    let mut cfg = config(&url);
    cfg.upstream_ca_pem = ca;
    let px = start_proxy(cfg).await;
    let h = [("x-api-key", API_KEY), ("anthropic-version", "2023-06-01")];
    let got = send(px.addr, "POST", "/v1/messages", &h, req.clone()).await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.body, sse);
    assert_eq!(
        versions.lock().unwrap().as_slice(),
        &[hyper::Version::HTTP_2]
    );
    let batches = px.stop().await;
    let all = spans(&batches);
    let llm = &of_kind(&all, SpanKind::Llm)[0];
    assert_eq!(llm.attributes["upstream"], url.as_str());
    assert_eq!(of_kind(&all, SpanKind::Tool).len(), 2);

    // Not trusted (webpki roots only): the client gets a 502 naming the certificate problem.
    let px = start_proxy(config(&url)).await;
    let got = send(px.addr, "POST", "/v1/messages", &h, req).await;
    assert_eq!(got.status, 502);
    let v: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    let msg = v["error"]["message"].as_str().unwrap().to_ascii_lowercase();
    assert!(msg.contains("certificate"), "{msg}");
    px.stop().await;

    // A CA file that is not PEM is refused at bind time.
    let mut bad = config(&url);
    bad.upstream_ca_pem = b"not a certificate".to_vec();
    assert!(matches!(
        skilltrace::proxy::bind(bad).await,
        Err(skilltrace::proxy::ProxyError::Tls(_))
    ));
}
