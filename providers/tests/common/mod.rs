//! What the provider tests (`openai.rs`, `anthropic.rs`, `gemini.rs`) share: the review
//! request they send, a wiremock server answering one route, and ways to read back what
//! reached it. Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

use providers::{Completion, ErrorKind, ProviderError, Request};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The HTTP client every test provider uses.
pub fn client() -> reqwest::Client {
    providers::client(Duration::from_secs(2))
}

/// A findings schema in standard JSON Schema (strict: every property required, no others).
pub fn findings_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"findings": {"type": "array", "items": {"type": "object",
            "properties": {"line": {"type": "integer"}, "message": {"type": "string"}},
            "required": ["line", "message"], "additionalProperties": false}}},
        "required": ["findings"],
        "additionalProperties": false
    })
}

/// The review request the tests send: this system prompt and user prompt, temperature 0
/// and seed 42, with `schema` and `max_output_tokens`.
pub fn review_request(schema: Value, max_output_tokens: u32) -> Request {
    Request {
        id: "src/lib.rs#0".into(),
        system: "You review code. Reply with JSON only.".into(),
        user: "File: src/lib.rs\n```rust\nfn main() {}\n```".into(),
        schema: Some(schema),
        max_output_tokens,
        temperature: 0.0,
        seed: Some(42),
    }
}

/// A server that answers `POST route` with `template`.
pub async fn serve(route: &str, template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// The only request `server` received (and that there was exactly one: no retries).
pub async fn only_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.expect("request recording is on");
    assert_eq!(requests.len(), 1, "exactly one request, no retries");
    requests.remove(0)
}

/// The JSON body of the only request `server` received.
pub async fn sent_body(server: &MockServer) -> Value {
    only_request(server)
        .await
        .body_json()
        .expect("the request body is JSON")
}

/// A header of a received request, as text.
pub fn header(request: &wiremock::Request, name: &str) -> Option<String> {
    request.headers.get(name).map(|v| v.to_str().unwrap().to_string())
}

/// The top-level field names of a JSON object, sorted.
pub fn sorted_keys(body: &Value) -> Vec<String> {
    let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// Checks that `key` appears nowhere in an error (shown or debugged) or in the provider's
/// `Debug` output.
pub fn assert_key_hidden(key: &str, err: &ProviderError, provider: &dyn Debug) {
    let everything = format!("{err} {err:?} {provider:?}");
    assert!(!everything.contains(key), "key leaked: {everything}");
}

/// Runs `call` (which builds a provider with a 300 ms timeout and sends one request to a
/// server that answers after 2 s) and checks that it gave up in time with a retryable
/// [`ErrorKind::Timeout`], which it returns.
pub async fn expect_timeout<F, Fut>(call: F) -> ProviderError
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Completion, ProviderError>>,
{
    let started = Instant::now();
    let e = call().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(e.is_retryable());
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "gave up after {:?}",
        started.elapsed()
    );
    e
}
