//! Every provider against servers that try to take more than they are given: a redirect
//! that would carry the key and the code to another address, and answers too large to
//! hold. All servers listen on 127.0.0.1; "elsewhere" is a second one that must receive
//! nothing.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use providers::{
    Anthropic, AnthropicOutput, AnthropicSettings, ErrorKind, Gemini, GeminiOutput, GeminiSettings, OpenAiCompatible,
    OpenAiSettings, Provider, ProviderError, StructuredOutput, TokenLimitField,
};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-hostile-test-SECRET-0123456789";

fn openai(base: &str, max_response_bytes: u64) -> OpenAiCompatible {
    OpenAiCompatible::new(
        OpenAiSettings {
            endpoint: providers::Endpoint {
                base_url: format!("{base}/v1"),
                model: "m".into(),
                api_key: Some(KEY.into()),
                api_key_env: Some("QUORUM_TEST_KEY".into()),
                timeout: Duration::from_secs(10),
                max_response_bytes,
            },
            token_limit_field: TokenLimitField::MaxTokens,
            structured_output: StructuredOutput::JsonSchema,
            extra_body: None,
        },
        common::client(),
    )
}

fn anthropic(base: &str, max_response_bytes: u64) -> Anthropic {
    Anthropic::new(
        AnthropicSettings {
            endpoint: providers::Endpoint {
                base_url: base.into(),
                model: "claude-sonnet-4-5".into(),
                api_key: Some(KEY.into()),
                api_key_env: Some("ANTHROPIC_API_KEY".into()),
                timeout: Duration::from_secs(10),
                max_response_bytes,
            },
            structured_output: AnthropicOutput::Tool,
        },
        common::client(),
    )
}

fn gemini(base: &str, max_response_bytes: u64) -> Gemini {
    Gemini::new(
        GeminiSettings {
            endpoint: providers::Endpoint {
                base_url: format!("{base}/v1beta"),
                model: "gemini-2.5-flash".into(),
                api_key: Some(KEY.into()),
                api_key_env: Some("GEMINI_API_KEY".into()),
                timeout: Duration::from_secs(10),
                max_response_bytes,
            },
            structured_output: GeminiOutput::JsonSchema,
        },
        common::client(),
    )
}

/// One provider of each kind, all pointing at `base`.
fn every_kind(base: &str, max_response_bytes: u64) -> Vec<(&'static str, Box<dyn Provider>)> {
    vec![
        ("openai", Box::new(openai(base, max_response_bytes))),
        ("anthropic", Box::new(anthropic(base, max_response_bytes))),
        ("gemini", Box::new(gemini(base, max_response_bytes))),
    ]
}

/// A server that must receive nothing, and one that answers everything with `status`
/// and a `Location` pointing at it (with user info and a query, which no message may show).
async fn redirect_pair(status: u16) -> (MockServer, MockServer) {
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let port = elsewhere.address().port();
    let redirecting = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).insert_header(
            "Location",
            format!("http://user:pw@127.0.0.1:{port}/stolen?key=QUERY-SECRET").as_str(),
        ))
        .mount(&redirecting)
        .await;
    (redirecting, elsewhere)
}

async fn assert_untouched(elsewhere: &MockServer) {
    let received = elsewhere.received_requests().await.expect("recording is on");
    assert!(received.is_empty(), "the redirect was followed: {received:?}");
}

/// The error names the status and the target (scheme, host, port and path only), says
/// why Quorum did not follow it and what to do, and is final.
fn assert_refused_redirect(e: &ProviderError, status: u16, elsewhere: &MockServer) {
    let target = format!("http://127.0.0.1:{}/stolen", elsewhere.address().port());
    assert_eq!(e.kind, ErrorKind::Redirected, "{e}");
    assert!(!e.is_retryable());
    assert_eq!(e.status, Some(status));
    assert!(
        e.message
            .contains(&format!("answered {status} with a redirect to {target}: Quorum follows no redirects, because they would carry your key and your code to another address; set base_url to the final address")),
        "{}",
        e.message
    );
    for hidden in ["user", "pw@", "QUERY-SECRET", KEY] {
        assert!(!format!("{e:?}").contains(hidden), "{hidden} shown: {e:?}");
    }
}

#[tokio::test]
async fn a_chat_request_is_never_redirected_elsewhere() {
    for status in [307, 308, 302] {
        let (redirecting, elsewhere) = redirect_pair(status).await;
        for (kind, provider) in every_kind(&redirecting.uri(), providers::DEFAULT_MAX_RESPONSE_BYTES) {
            let request = common::review_request(common::findings_schema(), 100);
            let e = provider.complete(&request).await.expect_err(kind);
            assert_refused_redirect(&e, status, &elsewhere);
        }
        assert_eq!(redirecting.received_requests().await.unwrap().len(), 3, "one try each");
        assert_untouched(&elsewhere).await;
    }
}

#[tokio::test]
async fn a_model_list_is_never_redirected_elsewhere() {
    let (redirecting, elsewhere) = redirect_pair(307).await;
    for (kind, provider) in every_kind(&redirecting.uri(), providers::DEFAULT_MAX_RESPONSE_BYTES) {
        let e = provider.list_models().await.expect_err(kind);
        assert_refused_redirect(&e, 307, &elsewhere);
    }
    assert_untouched(&elsewhere).await;
}

#[tokio::test]
async fn context_window_discovery_is_never_redirected_elsewhere() {
    let (redirecting, elsewhere) = redirect_pair(307).await;
    let provider = openai(&redirecting.uri(), providers::DEFAULT_MAX_RESPONSE_BYTES);
    assert_eq!(provider.context_window().await, None);
    let asked: Vec<String> = redirecting
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        asked,
        ["/api/v0/models", "/props", "/props", "/api/ps", "/api/show"],
        "every route was tried (llama.cpp's /props for the model, then for the server)"
    );
    assert_untouched(&elsewhere).await;
}

#[tokio::test]
async fn a_relative_redirect_is_shown_against_the_server_and_not_followed() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(308).insert_header("Location", "/v2/chat/completions"))
        .expect(1)
        .mount(&server)
        .await;
    let e = openai(&server.uri(), providers::DEFAULT_MAX_RESPONSE_BYTES)
        .complete(&common::review_request(common::findings_schema(), 100))
        .await
        .unwrap_err();
    assert!(
        e.message.contains(&format!(
            "answered 308 with a redirect to {}/v2/chat/completions:",
            server.uri()
        )),
        "{}",
        e.message
    );
}

fn chat_answer() -> serde_json::Value {
    json!({"choices": [{"message": {"content": "{\"findings\": []}"}, "finish_reason": "stop"}]})
}

fn assert_too_large(e: &ProviderError, limit: u64) {
    assert_eq!(e.kind, ErrorKind::BadResponse, "{e}");
    assert!(!e.is_retryable());
    assert!(
        e.message.starts_with("the answer from http://127.0.0.1:")
            && e.message.ends_with(&format!(
                " is larger than {limit} bytes (max_response_bytes); raise it if the model really writes that much"
            )),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn an_answer_over_max_response_bytes_is_refused_and_one_under_it_is_read() {
    let padding = "x".repeat(5000);
    let big = common::serve(
        "/v1/chat/completions",
        ResponseTemplate::new(200).set_body_json(json!({"choices": [], "padding": padding})),
    )
    .await;
    let e = openai(&big.uri(), 1000)
        .complete(&common::review_request(common::findings_schema(), 100))
        .await
        .unwrap_err();
    assert_too_large(&e, 1000);
    assert_eq!(e.status, Some(200));

    let small = common::serve(
        "/v1/chat/completions",
        ResponseTemplate::new(200).set_body_json(chat_answer()),
    )
    .await;
    let body_len = chat_answer().to_string().len() as u64;
    let c = openai(&small.uri(), body_len)
        .complete(&common::review_request(common::findings_schema(), 100))
        .await
        .expect("an answer of exactly the limit is read");
    assert_eq!(c.text, "{\"findings\": []}");
}

#[tokio::test]
async fn an_error_body_over_the_limit_is_refused_too() {
    let server = serve_padded(500, 5000).await;
    for (kind, provider) in every_kind(&server.uri(), 1000) {
        let e = provider
            .complete(&common::review_request(common::findings_schema(), 100))
            .await
            .expect_err(kind);
        assert_too_large(&e, 1000);
        assert_eq!(e.status, Some(500));
    }
}

async fn serve_padded(status: u16, bytes: usize) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_string("y".repeat(bytes)))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_any_body_arrives() {
    // The server says 10 MB are coming, sends 10 bytes, and then waits: only refusing on
    // the header can answer before the 10 s timeout.
    let uri = raw_server(|stream| {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{\"choices\"",
        );
        std::thread::sleep(Duration::from_secs(20));
    });
    let started = Instant::now();
    for (kind, provider) in every_kind(&uri, 1000) {
        let e = provider
            .complete(&common::review_request(common::findings_schema(), 100))
            .await
            .expect_err(kind);
        assert_too_large(&e, 1000);
    }
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn an_endless_chunked_answer_stops_at_the_limit() {
    // No Content-Length: chunks of 1000 bytes for as long as the client reads. A reader
    // without a limit would hold everything until the timeout.
    let uri = raw_server(|stream| {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        let chunk = format!("3e8\r\n{}\r\n", "z".repeat(1000));
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until && stream.write_all(chunk.as_bytes()).is_ok() {}
    });
    let limit = 64 * 1024;
    let started = Instant::now();
    for (kind, provider) in every_kind(&uri, limit) {
        let e = provider
            .complete(&common::review_request(common::findings_schema(), 100))
            .await
            .expect_err(kind);
        assert_too_large(&e, limit);
    }
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_model_list_is_read_up_to_its_own_limit() {
    let server = serve_padded(200, providers::LIST_MAX_BYTES as usize + 1).await;
    let e = openai(&server.uri(), providers::DEFAULT_MAX_RESPONSE_BYTES)
        .list_models()
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(
        e.message.ends_with(&format!(
            "/v1/models is larger than {} bytes, more than a model list or a server's status needs: check that \
             `base_url` points at the API",
            providers::LIST_MAX_BYTES
        )),
        "{}",
        e.message
    );
}

/// A one-route HTTP/1.1 server on 127.0.0.1 for answers wiremock cannot give (a lying
/// `Content-Length`, an endless chunked body): each connection's request is read, then
/// `answer` writes whatever it likes.
fn raw_server(answer: fn(&mut TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                read_request(&mut stream);
                answer(&mut stream);
            });
        }
    });
    uri
}

/// Reads one request's head and its `Content-Length` body.
fn read_request(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
        if let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while seen.len() < head_end + length {
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
    }
}
