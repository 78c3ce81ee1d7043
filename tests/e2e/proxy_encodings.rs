//! Compressed provider responses: the client gets the upstream's compressed
//! bytes exactly, and the recording decodes every coding a provider or CDN may
//! use (gzip, deflate, br, zstd) to a parsed LLM span; a corrupt one is a
//! counted parse error, never a failed request.
#![allow(clippy::unwrap_used)]

use crate::proxy_support;

use bytes::Bytes;
use proxy_support::*;
use skilltrace::model::SpanKind;
use std::io::Write;

fn compress(encoding: &str, body: &[u8]) -> Vec<u8> {
    match encoding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(body).unwrap();
            e.finish().unwrap()
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(body).unwrap();
            e.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                w.write_all(body).unwrap();
            }
            out
        }
        "zstd" => {
            ruzstd::encoding::compress_to_vec(body, ruzstd::encoding::CompressionLevel::Fastest)
        }
        other => panic!("{other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_json_responses_are_forwarded_exactly_and_recorded_in_every_coding() {
    let req = fixture("wire-openai-chat/01_request_with_tools.json");
    let resp = fixture("wire-openai-chat/02_response_tool_calls.json");
    for encoding in ["gzip", "deflate", "br", "zstd"] {
        let packed = Bytes::from(compress(encoding, &resp));
        assert_ne!(packed, resp);
        let mut reply = Reply::json(packed.clone());
        for h in reply.headers.iter_mut() {
            if h.0 == "content-length" {
                h.1 = packed.len().to_string();
            }
        }
        reply.headers.push(("content-encoding", encoding.into()));
        let up = start_upstream(move |_| reply.clone()).await;
        let px = start_proxy(config(&up.url())).await;
        let got = send_auth(px.addr, "/v1/chat/completions", req.clone()).await;
        assert_eq!(got.status, 200, "{encoding}");
        assert_eq!(
            got.body, packed,
            "{encoding}: the client gets the compressed bytes as sent"
        );
        assert_eq!(got.headers["content-encoding"], encoding);
        let batches = px.stop().await;
        let all = spans(&batches);
        let llm = of_kind(&all, SpanKind::Llm);
        assert_eq!(llm.len(), 1, "{encoding}");
        assert_eq!(
            llm[0].model.as_deref(),
            Some("gpt-4o-mini-2024-07-18"),
            "{encoding}: response parsed"
        );
        assert_eq!(
            (llm[0].input_tokens, llm[0].output_tokens),
            (Some(75), Some(51)),
            "{encoding}"
        );
        assert_eq!(
            llm[0].attributes["response.content_encoding"], encoding,
            "{encoding}"
        );
        // the tool call the model asked for is recorded from the decoded body
        assert!(!of_kind(&all, SpanKind::Tool).is_empty(), "{encoding}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_compressed_body_is_forwarded_and_noted_not_parsed() {
    let req = fixture("wire-openai-chat/01_request_with_tools.json");
    let junk = Bytes::from_static(b"\x28\xb5\x2f\xfd not really zstd");
    let mut reply = Reply::json(junk.clone());
    reply.headers.push(("content-encoding", "zstd".into()));
    let up = start_upstream(move |_| reply.clone()).await;
    let px = start_proxy(config(&up.url())).await;
    let got = send_auth(px.addr, "/v1/chat/completions", req).await;
    assert_eq!(got.body, junk);
    let batches = px.stop().await;
    let llm = of_kind(&spans(&batches), SpanKind::Llm);
    assert_eq!(llm.len(), 1);
    assert!(llm[0].model.is_none() || llm[0].output_tokens.is_none());
    // the recording says why, as a parse error of the proxy source
    let errors: Vec<String> = batches
        .iter()
        .flat_map(|b| b.errors.iter().map(|e| e.message.clone()))
        .collect();
    assert_eq!(errors, ["response: corrupt compressed body"]);
}
