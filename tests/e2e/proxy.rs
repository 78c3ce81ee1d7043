//! The proxy end to end against a local upstream replaying real recorded wire
//! bodies: byte-exact pass-through, the spans and tool calls recorded, no API
//! key in any record, live streaming, 502 on an unreachable upstream, remote
//! listen refusal, the client token, and cancellation on client disconnect.
#![allow(clippy::unwrap_used)]

use crate::proxy_support;

use bytes::Bytes;
use proxy_support::*;
use skilltrace::ingest::formats::Record;
use skilltrace::model::{SpanKind, SpanStatus};
use skilltrace::proxy::{self, ProxyConfig, ProxyError};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Replies by request body: each fixture request gets its recorded response.
fn replay(pairs: Vec<(Bytes, Reply)>) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen: &Seen| {
        pairs
            .iter()
            .find(|(req, _)| *req == seen.body)
            .map(|(_, r)| r.clone())
            .unwrap_or(Reply {
                status: 404,
                headers: vec![("content-type", "application/json".into())],
                chunks: vec![(
                    Duration::ZERO,
                    Bytes::from_static(b"{\"error\":\"no fixture\"}"),
                )],
            })
    }
}

fn assert_no_key(batches: &[skilltrace::ingest::pipeline::Batch]) {
    let dump = format!("{:?}", records(batches));
    assert!(!dump.contains(API_KEY), "API key leaked into a record");
    assert!(
        !dump.contains("TESTKEY"),
        "part of the API key leaked into a record"
    );
    assert!(!dump.to_ascii_lowercase().contains("\"authorization\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_completions_pass_through_and_two_turn_run() {
    let req1 = fixture("wire-openai-chat/01_request_with_tools.json");
    let resp1 = fixture("wire-openai-chat/02_response_tool_calls.json");
    let req2 = fixture("wire-openai-chat/03_request_with_tool_results.json");
    let resp2 = fixture("wire-openai-chat/04_response_final_text.json");
    let up = start_upstream(replay(vec![
        (req1.clone(), Reply::json(resp1.clone())),
        (req2.clone(), Reply::json(resp2.clone())),
    ]))
    .await;
    let px = start_proxy(config(&up.url())).await;

    let g1 = send_auth(px.addr, "/v1/chat/completions?trace=1", req1.clone()).await;
    assert_eq!(g1.status, 200);
    assert_eq!(
        g1.body, resp1,
        "client must receive the upstream bytes exactly"
    );
    assert_eq!(g1.headers["x-request-id"], "req_test_123");
    assert_eq!(g1.headers["openai-processing-ms"], "42");
    assert_eq!(g1.headers["content-type"], "application/json");
    let g2 = send_auth(px.addr, "/v1/chat/completions", req2.clone()).await;
    assert_eq!(g2.body, resp2);

    // What the upstream saw: same method, path, query, body; auth passed through; Host rewritten.
    let seen = up.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path_and_query, "/v1/chat/completions?trace=1");
    assert_eq!(seen[0].body, req1);
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {API_KEY}").as_str()
    );
    assert_eq!(seen[0].headers["host"], up.addr.to_string().as_str());
    assert_eq!(seen[1].body, req2);

    let batches = px.stop().await;
    assert_no_key(&batches);
    let all = spans(&batches);
    let llm = of_kind(&all, SpanKind::Llm);
    assert_eq!(llm.len(), 2);
    let first = &llm[0];
    assert_eq!(first.name, "chat.completions");
    assert_eq!(first.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!(
        (first.input_tokens, first.output_tokens),
        (Some(75), Some(51))
    );
    assert_eq!(first.status, SpanStatus::Ok);
    assert_eq!(first.attributes["request.model"], "gpt-4o-mini");
    assert_eq!(first.attributes["http.status"], 200);
    assert_eq!(first.attributes["http.query"], "trace=1");
    assert_eq!(first.attributes["finish_reason"], "tool_calls");
    let msgs = first.attributes["request.messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1]["role"], "user");
    assert_eq!(
        msgs[1]["text"],
        "What's the weather in Seattle and San Francisco today?"
    );
    assert_eq!(
        first.attributes["request.headers"]["content-type"],
        "application/json"
    );
    assert!(first.attributes["request.headers"]
        .get("authorization")
        .is_none());
    assert!(first.attributes["request.headers"]
        .get("x-api-key")
        .is_none());

    // The model's tool calls, before the agent ran them.
    let tools: Vec<_> = of_kind(&all, SpanKind::Tool)
        .into_iter()
        .filter(|t| t.tool_input.is_some())
        .collect();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0].parent_id.as_deref(), Some(first.id.as_str()));
    assert_eq!(tools[0].tool_name.as_deref(), Some("get_current_weather"));
    assert_eq!(
        tools[0].tool_call_id.as_deref(),
        Some("call_JpNb8OiAkbIbHzDggfpdDHpi")
    );
    assert_eq!(
        tools[0].tool_input.as_deref(),
        Some("{\"location\": \"Seattle, WA\"}")
    );
    assert_eq!(
        tools[1].tool_input.as_deref(),
        Some("{\"location\": \"San Francisco, CA\"}")
    );

    // Turn two joins the run (its tool results answer turn one's calls) and fills the outputs.
    let second = &llm[1];
    assert_eq!(second.run_id, first.run_id);
    assert_eq!(second.attributes["group.by"], "tool_call");
    assert_eq!(second.attributes["request.new_from"], 2);
    assert_eq!(
        second.text.as_deref(),
        Some("Today, the weather in Seattle is 50 degrees and raining, while in San Francisco, it's 70 degrees and sunny.")
    );
    let results: Vec<_> = of_kind(&all, SpanKind::Tool)
        .into_iter()
        .filter(|t| t.tool_output.is_some())
        .collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].id, tools[0].id);
    assert_eq!(
        results[0].tool_output.as_deref(),
        Some("50 degrees and raining")
    );
    assert_eq!(
        results[1].tool_output.as_deref(),
        Some("70 degrees and sunny")
    );

    let runs: Vec<_> = records(&batches)
        .into_iter()
        .filter_map(|r| match r {
            Record::Run(r) => Some(r),
            _ => None,
        })
        .collect();
    assert!(runs.iter().all(|r| r.id == first.run_id));
    assert_eq!(
        runs[0].title.as_deref(),
        Some("What's the weather in Seattle and San Francisco today?")
    );
    let src = batches[0].source.as_ref().unwrap();
    assert_eq!(src.kind, "proxy");
    assert_eq!(src.path, format!("proxy://{}", px_addr_of(&batches)));
}

fn px_addr_of(batches: &[skilltrace::ingest::pipeline::Batch]) -> String {
    let s = &spans(batches)[0];
    s.origin.path.trim_start_matches("proxy://").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_stream_tool_call_fragments_are_reassembled() {
    let req = fixture("wire-openai-chat/05_request_stream.json");
    let sse = fixture("wire-openai-chat/06_stream_tool_calls.sse");
    let up = start_upstream(replay(vec![(req.clone(), Reply::sse(sse.clone(), 9))])).await;
    let px = start_proxy(config(&up.url())).await;
    let g = send_auth(px.addr, "/v1/chat/completions", req).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body, sse);
    assert_eq!(
        g.headers["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let batches = px.stop().await;
    assert_no_key(&batches);
    let all = spans(&batches);
    let llm = &of_kind(&all, SpanKind::Llm)[0];
    assert_eq!((llm.input_tokens, llm.output_tokens), (Some(75), Some(51)));
    assert_eq!(llm.attributes["stream"], true);
    assert_eq!(
        llm.attributes["response.id"],
        "chatcmpl-ASYMbACebDoWcuraMEWQhU48q4dAp"
    );
    let tools = of_kind(&all, SpanKind::Tool);
    let got: Vec<_> = tools
        .iter()
        .map(|t| {
            (
                t.tool_call_id.clone().unwrap(),
                t.tool_input.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "call_fHCjJqt9Pysde6vcJcvbXGBx".to_string(),
                "{\"location\": \"Seattle, WA\"}".to_string()
            ),
            (
                "call_3J9foSw3CUb48lrqIXoTky6U".to_string(),
                "{\"location\": \"San Francisco, CA\"}".to_string()
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_stream_and_function_call() {
    let req1 = fixture("wire-openai-responses/01_request_stream.json");
    let sse = fixture("wire-openai-responses/02_stream_text.sse");
    let req2 = fixture("wire-openai-responses/03_request_with_tools.json");
    let resp2 = fixture("wire-openai-responses/04_response_function_call.json");
    let up = start_upstream(replay(vec![
        (req1.clone(), Reply::sse(sse.clone(), 13)),
        (req2.clone(), Reply::json(resp2.clone())),
    ]))
    .await;
    let px = start_proxy(config(&up.url())).await;
    assert_eq!(send_auth(px.addr, "/v1/responses", req1).await.body, sse);
    assert_eq!(send_auth(px.addr, "/v1/responses", req2).await.body, resp2);
    let batches = px.stop().await;
    assert_no_key(&batches);
    let all = spans(&batches);
    let llm = of_kind(&all, SpanKind::Llm);
    assert_eq!(llm.len(), 2);
    assert_eq!(llm[0].name, "responses");
    assert_eq!(llm[0].text.as_deref(), Some("This is a test."));
    assert_eq!(
        (llm[0].input_tokens, llm[0].output_tokens),
        (Some(22), Some(6))
    );
    assert_eq!(
        llm[0].attributes["request.system"],
        "You are a helpful assistant."
    );
    assert_eq!(llm[0].attributes["sse.events"], 13);
    assert_ne!(llm[0].run_id, llm[1].run_id, "unrelated conversations");
    let tools = of_kind(&all, SpanKind::Tool);
    assert_eq!(tools.len(), 1);
    assert_eq!(
        tools[0].tool_call_id.as_deref(),
        Some("call_90uO5LcGP5vTBTCrjyhYtWsA")
    );
    assert_eq!(
        tools[0].tool_input.as_deref(),
        Some("{\"location\":\"Seattle, WA\"}")
    );
    assert_eq!(tools[0].parent_id.as_deref(), Some(llm[1].id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_messages_plain_and_streamed() {
    let req1 = fixture("wire-anthropic/01_request_with_tools.json");
    let resp1 = fixture("wire-anthropic/02_response_tool_use.json");
    let req2 = fixture("wire-anthropic/03_request_stream.json");
    let sse = fixture("wire-anthropic/04_stream_tool_use.sse");
    let up = start_upstream(replay(vec![
        (req1.clone(), Reply::json(resp1.clone())),
        (req2.clone(), Reply::sse(sse.clone(), 17)),
    ]))
    .await;
    let px = start_proxy(config(&up.url())).await;
    let h = [
        ("x-api-key", API_KEY),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ];
    let g1 = send(px.addr, "POST", "/v1/messages", &h, req1).await;
    assert_eq!(g1.body, resp1);
    let g2 = send(px.addr, "POST", "/v1/messages?beta=true", &h, req2).await;
    assert_eq!(g2.body, sse);
    assert_eq!(g2.headers["request-id"], "req_stream_1");
    assert_eq!(up.seen.lock().unwrap()[0].headers["x-api-key"], API_KEY);
    let batches = px.stop().await;
    assert_no_key(&batches);
    let all = spans(&batches);
    let llm = of_kind(&all, SpanKind::Llm);
    assert_eq!(llm[0].name, "messages");
    assert_eq!(llm[0].attributes["provider"], "anthropic");
    assert_eq!(
        llm[0].text.as_deref(),
        Some("Sure! Let me fetch the current weather and time in New York simultaneously!")
    );
    assert_eq!(
        (llm[0].input_tokens, llm[0].output_tokens),
        (Some(721), Some(112))
    );
    assert_eq!(
        llm[0].attributes["request.headers"]["anthropic-version"],
        "2023-06-01"
    );
    assert_eq!(
        llm[1].text.as_deref(),
        Some("I'll check both the current weather and time in New York simultaneously right away!")
    );
    assert_eq!(
        (llm[1].input_tokens, llm[1].output_tokens),
        (Some(721), Some(113))
    );
    assert_eq!(llm[1].attributes["finish_reason"], "tool_use");
    let tools = of_kind(&all, SpanKind::Tool);
    let got: Vec<_> = tools
        .iter()
        .map(|t| (t.tool_name.clone().unwrap(), t.tool_input.clone().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "get_weather".to_string(),
                "{\"location\":\"New York, NY\"}".to_string()
            ),
            (
                "get_time".to_string(),
                "{\"timezone\":\"America/New_York\"}".to_string()
            ),
            (
                "get_weather".to_string(),
                "{\"location\": \"New York, NY\"}".to_string()
            ),
            (
                "get_time".to_string(),
                "{\"timezone\": \"America/New_York\"}".to_string()
            ),
        ]
    );
    assert_eq!(
        tools[2].tool_call_id.as_deref(),
        Some("toolu_01Mo5Ee5Yb7vrzaxSNS5DVuP")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_chunks_reach_the_client_as_they_are_sent() {
    let pieces: Vec<(Duration, Bytes)> = (0..6)
        .map(|i| {
            let ev = format!(
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"part {i} \"}}}}]}}\n\n"
            );
            (Duration::from_millis(200), Bytes::from(ev))
        })
        .chain(std::iter::once((Duration::from_millis(200), Bytes::from_static(b"data: [DONE]\n\n"))))
        .collect();
    // Up to three measurements: one scheduler stall on a loaded CI machine is not a
    // proxy that buffers; every chunk of one measurement must arrive within 5 ms.
    for attempt in 0..3 {
        let pieces = pieces.clone();
        let reply = Reply {
            status: 200,
            headers: vec![("content-type", "text/event-stream".into())],
            chunks: pieces.clone(),
        };
        let up = start_upstream(move |_| reply.clone()).await;
        let px = start_proxy(config(&up.url())).await;
        let started = Instant::now();
        let g = send_auth(
            px.addr,
            "/v1/chat/completions",
            Bytes::from_static(b"{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
        )
        .await;
        let sent = up.sent_at.lock().unwrap().clone();
        assert_eq!(g.frames.len(), pieces.len(), "one frame per upstream chunk");
        assert_eq!(sent.len(), pieces.len());
        let mut lags = Vec::new();
        for (i, ((got_at, data), sent_at)) in g.frames.iter().zip(&sent).enumerate() {
            assert_eq!(data, &pieces[i].1);
            lags.push(got_at.saturating_duration_since(*sent_at));
        }
        let slow = lags.iter().any(|l| *l >= Duration::from_millis(5));
        if slow && attempt < 2 {
            eprintln!("attempt {attempt}: a chunk lagged ({lags:?}); measuring again");
            let _ = px.stop().await;
            continue;
        }
        assert!(
            !slow,
            "chunks reached the client {lags:?} after the upstream sent them (limit 5 ms each)"
        );
        assert!(started.elapsed() >= Duration::from_millis(1200));
        let batches = px.stop().await;
        let llm = &of_kind(&spans(&batches), SpanKind::Llm)[0];
        assert_eq!(
            llm.text.as_deref(),
            Some("part 0 part 1 part 2 part 3 part 4 part 5 ")
        );
        return;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstream_gives_502_json_and_error_span() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let px = start_proxy(config(&format!("http://{dead}"))).await;
    let req = fixture("wire-openai-chat/01_request_with_tools.json");
    let g = send_auth(px.addr, "/v1/chat/completions", req).await;
    assert_eq!(g.status, 502);
    assert_eq!(g.headers["content-type"], "application/json");
    let v: serde_json::Value = serde_json::from_slice(&g.body).unwrap();
    assert_eq!(v["error"]["code"], "upstream_unreachable");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unreachable"));
    let h = [("anthropic-version", "2023-06-01"), ("x-api-key", API_KEY)];
    let g = send(
        px.addr,
        "POST",
        "/v1/messages",
        &h,
        Bytes::from_static(b"{}"),
    )
    .await;
    assert_eq!(g.status, 502);
    let v: serde_json::Value = serde_json::from_slice(&g.body).unwrap();
    assert_eq!(v["type"], "error", "anthropic-shaped error body");
    let batches = px.stop().await;
    assert_no_key(&batches);
    let llm = of_kind(&spans(&batches), SpanKind::Llm);
    assert_eq!(llm.len(), 2);
    assert_eq!(llm[0].status, SpanStatus::Error);
    assert_eq!(llm[0].attributes["outcome"], "upstream_unreachable");
    assert!(llm[0].attributes["error"].as_str().unwrap().len() > 5);
    // The request was still understood: the user's question is on the span.
    assert_eq!(llm[0].attributes["request.model"], "gpt-4o-mini");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_listen_needs_allow_remote_and_token() {
    let cfg = ProxyConfig::new("0.0.0.0:0");
    assert!(matches!(
        proxy::bind(cfg).await,
        Err(ProxyError::NotLoopback(_))
    ));
    let mut cfg = ProxyConfig::new("0.0.0.0:0");
    cfg.allow_remote = true;
    assert!(matches!(
        proxy::bind(cfg.clone()).await,
        Err(ProxyError::TokenRequired)
    ));
    cfg.token = Some(String::new());
    assert!(matches!(
        proxy::bind(cfg.clone()).await,
        Err(ProxyError::TokenRequired)
    ));
    cfg.token = Some("s3cret-token".into());
    let bound = proxy::bind(cfg).await.unwrap();
    assert!(bound.local_addr().ip().is_unspecified());
    assert!(format!(
        "{:?}",
        ProxyConfig {
            token: Some("s3cret-token".into()),
            ..ProxyConfig::default()
        }
    )
    .contains("[set]"));
    let err = proxy::bind(ProxyConfig::new("localhost:0")).await;
    assert!(err.is_ok(), "localhost resolves to loopback");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_required_checked_and_stripped() {
    let body = fixture("wire-openai-chat/02_response_tool_calls.json");
    let b2 = body.clone();
    let up = start_upstream(move |_| Reply::json(b2.clone())).await;
    let mut cfg = config(&up.url());
    cfg.token = Some("tok-123".into());
    let px = start_proxy(cfg).await;
    let req = Bytes::from_static(b"{\"model\":\"m\",\"messages\":[]}");
    let none = send(px.addr, "POST", "/v1/chat/completions", &[], req.clone()).await;
    assert_eq!(none.status, 401);
    let v: serde_json::Value = serde_json::from_slice(&none.body).unwrap();
    assert_eq!(v["error"]["code"], "unauthorized");
    let wrong = send(
        px.addr,
        "POST",
        "/v1/chat/completions",
        &[("x-skilltrace-token", "tok-124")],
        req.clone(),
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(
        up.seen.lock().unwrap().is_empty(),
        "refused requests are not forwarded"
    );
    let ok = send(
        px.addr,
        "POST",
        "/v1/chat/completions",
        &[("x-skilltrace-token", "tok-123")],
        req,
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body, body);
    let seen = up.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].headers.get("x-skilltrace-token").is_none());
    let batches = px.stop().await;
    assert!(!format!("{:?}", records(&batches)).contains("tok-123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_disconnect_cancels_the_upstream_stream() {
    let chunks: Vec<(Duration, Bytes)> = (0..50)
        .map(|_| {
            (
                Duration::from_millis(50),
                Bytes::from_static(b"data: {\"choices\":[]}\n\n"),
            )
        })
        .collect();
    let reply = Reply {
        status: 200,
        headers: vec![("content-type", "text/event-stream".into())],
        chunks,
    };
    let up = start_upstream(move |_| reply.clone()).await;
    let px = start_proxy(config(&up.url())).await;
    let addr = px.addr;
    let client = tokio::spawn(async move {
        send_auth(
            addr,
            "/v1/chat/completions",
            Bytes::from_static(b"{\"stream\":true}"),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    client.abort();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !up.cancelled.load(Ordering::SeqCst) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        up.cancelled.load(Ordering::SeqCst),
        "upstream kept streaming to nobody"
    );
    assert!(up.sent_at.lock().unwrap().len() < 20);
    let batches = px.stop().await;
    let llm = &of_kind(&spans(&batches), SpanKind::Llm)[0];
    assert_eq!(llm.attributes["outcome"], "client_disconnected");
    assert_eq!(llm.status, SpanStatus::Error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_become_http_spans() {
    let up = start_upstream(|_| Reply::json(Bytes::from_static(b"{\"data\":[]}"))).await;
    let px = start_proxy(config(&up.url())).await;
    let g = send(
        px.addr,
        "GET",
        "/v1/models?key=AIzaSECRET&limit=2",
        &[("authorization", "Bearer sk-hidden-value-123")],
        Bytes::new(),
    )
    .await;
    assert_eq!(g.body, Bytes::from_static(b"{\"data\":[]}"));
    assert_eq!(
        up.seen.lock().unwrap()[0].path_and_query,
        "/v1/models?key=AIzaSECRET&limit=2"
    );
    let batches = px.stop().await;
    let dump = format!("{:?}", records(&batches));
    assert!(!dump.contains("AIzaSECRET") && !dump.contains("sk-hidden"));
    let http = of_kind(&spans(&batches), SpanKind::Http);
    assert_eq!(http.len(), 1);
    assert_eq!(http[0].name, "GET /v1/models");
    assert_eq!(http[0].attributes["http.query"], "key=[dropped]&limit=2");
    assert_eq!(http[0].status, SpanStatus::Ok);
}

/// `spawn` runs the proxy on its own runtime thread (for callers without one, like the TUI).
#[test]
fn spawn_runs_on_its_own_thread_and_shuts_down() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let body = fixture("wire-openai-chat/04_response_final_text.json");
    let b2 = body.clone();
    let up = rt.block_on(start_upstream(move |_| Reply::json(b2.clone())));
    let (tx, rx) = std::sync::mpsc::sync_channel(16);
    let sink = skilltrace::ingest::pipeline::IngestSender::new(tx);
    let refused = proxy::spawn(ProxyConfig::new("0.0.0.0:0"), sink.clone());
    assert!(matches!(refused, Err(ProxyError::NotLoopback(_))));
    let handle = proxy::spawn(config(&up.url()), sink).unwrap();
    let req = fixture("wire-openai-chat/03_request_with_tool_results.json");
    let got = rt.block_on(send_auth(handle.addr(), "/v1/chat/completions", req));
    assert_eq!(got.body, body);
    assert_eq!(handle.stats().requests.load(Ordering::Relaxed), 1);
    handle.shutdown().unwrap();
    let batches: Vec<_> = rx.try_iter().collect();
    let llm = of_kind(&spans(&batches), SpanKind::Llm);
    assert_eq!(llm.len(), 1);
    assert_eq!(llm[0].attributes["request.message_count"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_request_body_gets_408_and_is_not_forwarded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = start_upstream(|_| Reply::json(Bytes::from_static(b"{}"))).await;
    let mut cfg = config(&up.url());
    cfg.timeouts.request_body = Duration::from_millis(300);
    let px = start_proxy(cfg).await;
    let mut s = tokio::net::TcpStream::connect(px.addr).await.unwrap();
    s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"model\":")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("request_timeout"));
    assert!(up.seen.lock().unwrap().is_empty());
    drop(s);
    let batches = px.stop().await;
    let llm = &of_kind(&spans(&batches), SpanKind::Llm)[0];
    assert_eq!(llm.status, SpanStatus::Error);
}
