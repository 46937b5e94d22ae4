//! The Anthropic provider against a real HTTP server (wiremock on 127.0.0.1), through
//! the public `Provider::complete` path: the request as sent on the wire (headers, path,
//! body field by field, as in ARCHITECTURE.md §4), and answers and failures in the shapes
//! the Messages API documents.

mod common;

use std::time::Duration;

use common::{header, only_request, sent_body, sorted_keys};
use providers::{
    Anthropic, AnthropicOutput, AnthropicSettings, Completion, ErrorKind, FinishReason, Provider, ProviderError,
    Request, Usage,
};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-ant-test-SECRET-0123456789";
const ROUTE: &str = "/v1/messages";

fn schema() -> Value {
    common::findings_schema()
}

fn request() -> Request {
    common::review_request(schema(), 8192)
}

fn settings(server: &MockServer) -> AnthropicSettings {
    AnthropicSettings {
        endpoint: providers::Endpoint {
            base_url: server.uri(),
            model: "claude-sonnet-4-5".into(),
            api_key: Some(KEY.into()),
            api_key_env: Some("ANTHROPIC_API_KEY".into()),
            timeout: Duration::from_secs(10),
            max_response_bytes: providers::DEFAULT_MAX_RESPONSE_BYTES,
        },
        structured_output: AnthropicOutput::Tool,
    }
}

fn provider(settings: AnthropicSettings) -> Anthropic {
    Anthropic::new(settings, common::client())
}

async fn serve(template: ResponseTemplate) -> MockServer {
    common::serve(ROUTE, template).await
}

async fn serve_json(status: u16, body: Value) -> MockServer {
    serve(ResponseTemplate::new(status).set_body_json(body)).await
}

async fn complete(server: &MockServer) -> Result<Completion, ProviderError> {
    provider(settings(server)).complete(&request()).await
}

async fn fail(server: &MockServer) -> ProviderError {
    complete(server).await.expect_err("expected an error")
}

/// A Messages API answer as documented.
fn message(content: Value, stop_reason: &str) -> Value {
    json!({
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5-20250929", "content": content,
        "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": 2095, "output_tokens": 503,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    })
}

fn tool_answer(input: Value) -> Value {
    message(
        json!([{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "report_findings", "input": input}]),
        "tool_use",
    )
}

fn error_body(kind: &str, text: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": text}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"})
}

// ---- Request -------------------------------------------------------------------------

#[tokio::test]
async fn request_has_the_documented_headers_path_and_body() {
    let server = serve_json(200, tool_answer(json!({"findings": []}))).await;
    complete(&server).await.unwrap();
    let sent = only_request(&server).await;
    assert_eq!(sent.url.path(), ROUTE);
    assert_eq!(sent.url.query(), None);
    assert_eq!(header(&sent, "x-api-key").as_deref(), Some(KEY));
    assert_eq!(header(&sent, "anthropic-version").as_deref(), Some("2023-06-01"));
    assert!(header(&sent, "content-type").unwrap().starts_with("application/json"));
    assert_eq!(header(&sent, "authorization"), None);

    let body: Value = sent.body_json().unwrap();
    assert_eq!(body["model"], json!("claude-sonnet-4-5"));
    assert_eq!(body["max_tokens"], json!(8192));
    assert_eq!(body["temperature"], json!(0.0));
    assert_eq!(body["system"], json!("You review code. Reply with JSON only."));
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "File: src/lib.rs\n```rust\nfn main() {}\n```"}])
    );
    assert_eq!(
        body["tools"],
        json!([{"name": "report_findings", "description": "Report the review findings", "input_schema": schema()}])
    );
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "report_findings"}));
    assert_eq!(
        sorted_keys(&body),
        [
            "max_tokens",
            "messages",
            "model",
            "system",
            "temperature",
            "tool_choice",
            "tools"
        ],
        "no seed, no stream, nothing undocumented"
    );
}

#[tokio::test]
async fn base_url_with_v1_and_trailing_slash_hits_the_same_route() {
    let server = serve_json(200, tool_answer(json!({"findings": []}))).await;
    let mut s = settings(&server);
    s.endpoint.base_url = format!("{}/v1/", server.uri());
    provider(s).complete(&request()).await.unwrap();
    assert_eq!(only_request(&server).await.url.path(), ROUTE);
}

#[tokio::test]
async fn no_key_means_no_key_header() {
    let server = serve_json(200, tool_answer(json!({"findings": []}))).await;
    let mut s = settings(&server);
    s.endpoint.api_key = None;
    provider(s).complete(&request()).await.unwrap();
    let sent = only_request(&server).await;
    assert_eq!(header(&sent, "x-api-key"), None);
    assert_eq!(header(&sent, "anthropic-version").as_deref(), Some("2023-06-01"));
}

#[tokio::test]
async fn none_mode_sends_no_tools_and_reads_text() {
    let server = serve_json(
        200,
        message(json!([{"type": "text", "text": "{\"findings\":[]}"}]), "end_turn"),
    )
    .await;
    let mut s = settings(&server);
    s.structured_output = AnthropicOutput::None;
    let c = provider(s).complete(&request()).await.unwrap();
    assert_eq!(c.text, "{\"findings\":[]}");
    let body = sent_body(&server).await;
    assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
}

// ---- Success -------------------------------------------------------------------------

#[tokio::test]
async fn tool_use_input_is_the_answer() {
    let server = serve_json(
        200,
        message(
            json!([{"type": "text", "text": "I'll report the findings now."},
                {"type": "tool_use", "id": "toolu_01", "name": "report_findings",
                    "input": {"findings": [{"line": 3, "message": "SQL built from user input"}]}}]),
            "tool_use",
        ),
    )
    .await;
    let c = complete(&server).await.unwrap();
    let answer: Value = serde_json::from_str(&c.text).expect("the answer is the tool input as JSON");
    assert_eq!(
        answer,
        json!({"findings": [{"line": 3, "message": "SQL built from user input"}]})
    );
    assert_eq!(c.reasoning.as_deref(), Some("I'll report the findings now."));
    assert_eq!(c.finish, FinishReason::Stop);
    assert_eq!(c.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    assert_eq!(
        c.usage,
        Usage {
            input_tokens: Some(2095),
            output_tokens: Some(503)
        }
    );
}

#[tokio::test]
async fn thinking_blocks_are_reasoning() {
    let server = serve_json(
        200,
        message(
            json!([{"type": "thinking", "thinking": "The query on line 3 concatenates input.", "signature": "EqQBCgIYAhIM"},
                {"type": "text", "text": "{\"findings\":[]}"}]),
            "end_turn",
        ),
    )
    .await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.text, "{\"findings\":[]}");
    assert_eq!(c.reasoning.as_deref(), Some("The query on line 3 concatenates input."));
}

#[tokio::test]
async fn max_tokens_is_truncation() {
    let server = serve_json(
        200,
        message(
            json!([{"type": "tool_use", "id": "toolu_01", "name": "report_findings", "input": {"findings": [{"line": 3}]}}]),
            "max_tokens",
        ),
    )
    .await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.finish, FinishReason::Length);
}

#[tokio::test]
async fn refusal_is_filtered() {
    let server = serve_json(200, message(json!([]), "refusal")).await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.finish, FinishReason::Filtered);
    assert_eq!(c.text, "");
}

#[tokio::test]
async fn empty_end_turn_is_a_bad_response() {
    let server = serve_json(200, message(json!([]), "end_turn")).await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(!e.is_retryable());
}

// ---- HTTP errors ---------------------------------------------------------------------

#[tokio::test]
async fn bad_key_names_the_variable_and_never_the_key() {
    let server = serve_json(
        401,
        error_body("authentication_error", &format!("invalid x-api-key {KEY}")),
    )
    .await;
    let p = provider(settings(&server));
    let e = p.complete(&request()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.status, Some(401));
    assert!(e.message.contains("$ANTHROPIC_API_KEY"), "{}", e.message);
    assert!(!e.is_retryable());
    common::assert_key_hidden(KEY, &e, &p);
}

#[tokio::test]
async fn missing_key_says_the_variable_is_unset() {
    let server = serve_json(401, error_body("authentication_error", "x-api-key header is required")).await;
    let mut s = settings(&server);
    s.endpoint.api_key = None;
    let e = provider(s).complete(&request()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("$ANTHROPIC_API_KEY is not set"), "{}", e.message);
}

#[tokio::test]
async fn permission_error_is_auth() {
    let server = serve_json(
        403,
        error_body(
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("$ANTHROPIC_API_KEY"), "{}", e.message);
}

#[tokio::test]
async fn unknown_model_is_not_found() {
    let server = serve_json(404, error_body("not_found_error", "model: claude-sonnet-9")).await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        e.message.contains("claude-sonnet-9") && e.message.contains("`model`"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn prompt_too_long_is_context_overflow() {
    let server = serve_json(
        400,
        error_body(
            "invalid_request_error",
            "prompt is too long: 208656 tokens > 200000 maximum",
        ),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn other_invalid_request_is_invalid_request_with_the_message() {
    let server = serve_json(
        400,
        error_body(
            "invalid_request_error",
            "max_tokens: 100000 > 64000, which is the maximum allowed",
        ),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("max_tokens: 100000 > 64000"), "{}", e.message);
    assert!(e.body_excerpt.is_some());
}

#[tokio::test]
async fn request_too_large_is_context_overflow() {
    let server = serve_json(
        413,
        error_body(
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
    )
    .await;
    assert_eq!(fail(&server).await.kind, ErrorKind::ContextOverflow);
}

#[tokio::test]
async fn billing_error_is_quota() {
    let server = serve_json(402, error_body("billing_error", "Your credit balance is too low.")).await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::QuotaExhausted);
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn rate_limit_honours_retry_after() {
    let server = serve(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "17")
            .insert_header("anthropic-ratelimit-requests-remaining", "0")
            .set_body_json(error_body(
                "rate_limit_error",
                "This request would exceed the rate limit for your organization of 50 requests per minute.",
            )),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_secs(17)));
    assert!(e.is_retryable());
}

#[tokio::test]
async fn spend_limit_429_is_quota_and_not_retried() {
    let server = serve_json(
        429,
        json!({"type": "error", "error": {"type": "rate_limit_error",
            "message": "You have reached your specified workspace API usage limits.",
            "details": {"error_code": "enforced_spend_limit_reached"}}}),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::QuotaExhausted);
    assert_eq!(e.retry_after, None);
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn api_error_500_is_retryable() {
    let server = serve_json(500, error_body("api_error", "Internal server error")).await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::Server);
    assert!(e.is_retryable());
}

#[tokio::test]
async fn overloaded_529_is_retryable_with_its_wait() {
    let server = serve(
        ResponseTemplate::new(529)
            .insert_header("retry-after", "3")
            .set_body_json(error_body("overloaded_error", "Overloaded")),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::Server);
    assert_eq!(e.status, Some(529));
    assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
    assert!(e.is_retryable());
    assert!(e.message.contains("overloaded"), "{}", e.message);
}

// ---- Broken bodies and transport -----------------------------------------------------

#[tokio::test]
async fn malformed_body_is_a_bad_response_with_excerpt() {
    let server = serve(
        ResponseTemplate::new(200)
            .set_body_raw(br#"{"id":"msg_01","content":[{"type":"te"#.to_vec(), "application/json"),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(!e.is_retryable());
    assert_eq!(
        e.body_excerpt.as_deref(),
        Some(r#"{"id":"msg_01","content":[{"type":"te"#)
    );
}

#[tokio::test]
async fn html_from_a_proxy_is_a_bad_response() {
    let server = serve(ResponseTemplate::new(200).set_body_string("<html>Welcome</html>")).await;
    assert_eq!(fail(&server).await.kind, ErrorKind::BadResponse);
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = serve(
        ResponseTemplate::new(200)
            .set_body_json(tool_answer(json!({"findings": []})))
            .set_delay(Duration::from_secs(2)),
    )
    .await;
    let mut s = settings(&server);
    s.endpoint.timeout = Duration::from_millis(300);
    let e = common::expect_timeout(|| async move { provider(s).complete(&request()).await }).await;
    assert!(!e.message.contains(KEY));
}

#[tokio::test]
async fn list_models_reads_ids_and_input_limits_with_the_documented_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(wiremock::matchers::header("x-api-key", KEY))
        .and(wiremock::matchers::header("anthropic-version", "2023-06-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5",
                      "created_at": "2025-09-29T00:00:00Z", "max_input_tokens": 200000, "max_tokens": 64000}],
            "has_more": false, "first_id": "claude-sonnet-4-5", "last_id": "claude-sonnet-4-5"
        })))
        .mount(&server)
        .await;
    let models = provider(settings(&server)).list_models().await.unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(
        (models[0].id.as_str(), models[0].context_tokens),
        ("claude-sonnet-4-5", Some(200000))
    );
}

#[tokio::test]
async fn list_models_with_a_bad_key_is_an_auth_error_naming_the_variable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(401).set_body_json(error_body("authentication_error", "invalid x-api-key")))
        .mount(&server)
        .await;
    let err = provider(settings(&server)).list_models().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(
        err.message.contains("ANTHROPIC_API_KEY") && !err.message.contains(KEY),
        "{}",
        err.message
    );
}
