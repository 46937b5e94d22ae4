//! The Gemini provider against a real HTTP server (wiremock on 127.0.0.1), through the
//! public `Provider::complete` path: the request as sent on the wire (key in a header and
//! never in the URL, path, body field by field, as in ARCHITECTURE.md §4), and answers and
//! failures in the shapes the Gemini API documents.

mod common;

use std::time::Duration;

use common::{header, only_request, sent_body, sorted_keys};
use providers::{
    Completion, ErrorKind, FinishReason, Gemini, GeminiOutput, GeminiSettings, Provider, ProviderError, Request, Usage,
};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "AIzaSy-test-SECRET-0123456789";
const ROUTE: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

/// Unlike the other providers' tests, a nullable property (`cwe`), for the OpenAPI
/// translation.
fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {"findings": {"type": "array", "items": {"type": "object",
            "properties": {"line": {"type": "integer"}, "cwe": {"type": ["integer", "null"]}},
            "required": ["line", "cwe"], "additionalProperties": false}}},
        "required": ["findings"],
        "additionalProperties": false
    })
}

fn request() -> Request {
    common::review_request(schema(), 8192)
}

fn settings(server: &MockServer) -> GeminiSettings {
    GeminiSettings {
        endpoint: providers::Endpoint {
            base_url: format!("{}/v1beta", server.uri()),
            model: "gemini-2.5-flash".into(),
            api_key: Some(KEY.into()),
            api_key_env: Some("GEMINI_API_KEY".into()),
            timeout: Duration::from_secs(10),
            max_response_bytes: providers::DEFAULT_MAX_RESPONSE_BYTES,
        },
        structured_output: GeminiOutput::JsonSchema,
    }
}

fn provider(settings: GeminiSettings) -> Gemini {
    Gemini::new(settings, common::client())
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

/// A `generateContent` answer as documented.
fn answer(parts: Value, finish: &str) -> Value {
    json!({
        "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": finish, "index": 0}],
        "usageMetadata": {"promptTokenCount": 1200, "candidatesTokenCount": 40, "thoughtsTokenCount": 310,
            "totalTokenCount": 1550},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "mBzDaJ2xFe-ZjMcP5-iBsAs"
    })
}

fn google_error(code: u16, status: &str, message: &str, details: Value) -> Value {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
}

// ---- Request -------------------------------------------------------------------------

#[tokio::test]
async fn request_has_the_key_in_a_header_only_and_the_documented_body() {
    let server = serve_json(200, answer(json!([{"text": "{\"findings\":[]}"}]), "STOP")).await;
    complete(&server).await.unwrap();
    let sent = only_request(&server).await;
    assert_eq!(sent.url.path(), ROUTE);
    assert_eq!(
        sent.url.query(),
        None,
        "nothing in the query string, least of all the key"
    );
    assert!(!sent.url.as_str().contains(KEY));
    assert_eq!(header(&sent, "x-goog-api-key").as_deref(), Some(KEY));
    assert_eq!(header(&sent, "authorization"), None);
    assert!(header(&sent, "content-type").unwrap().starts_with("application/json"));

    let body: Value = sent.body_json().unwrap();
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "You review code. Reply with JSON only."}]})
    );
    assert_eq!(
        body["contents"],
        json!([{"role": "user", "parts": [{"text": "File: src/lib.rs\n```rust\nfn main() {}\n```"}]}])
    );
    assert_eq!(
        body["generationConfig"],
        json!({"temperature": 0.0, "seed": 42, "maxOutputTokens": 8192,
            "responseMimeType": "application/json", "responseJsonSchema": schema()})
    );
    assert_eq!(
        sorted_keys(&body),
        ["contents", "generationConfig", "systemInstruction"]
    );
}

#[tokio::test]
async fn model_with_prefix_hits_the_same_route() {
    let server = serve_json(200, answer(json!([{"text": "{}"}]), "STOP")).await;
    let mut s = settings(&server);
    s.endpoint.model = "models/gemini-2.5-flash".into();
    s.endpoint.base_url = format!("{}/v1beta/", server.uri());
    provider(s).complete(&request()).await.unwrap();
    assert_eq!(only_request(&server).await.url.path(), ROUTE);
}

#[tokio::test]
async fn openapi_mode_sends_response_schema_without_unknown_keywords() {
    let server = serve_json(200, answer(json!([{"text": "{}"}]), "STOP")).await;
    let mut s = settings(&server);
    s.structured_output = GeminiOutput::OpenApiSchema;
    provider(s).complete(&request()).await.unwrap();
    let body = sent_body(&server).await;
    let config = &body["generationConfig"];
    assert!(config.get("responseJsonSchema").is_none());
    assert_eq!(config["responseMimeType"], json!("application/json"));
    assert_eq!(
        config["responseSchema"],
        json!({"type": "OBJECT", "required": ["findings"], "properties": {"findings": {"type": "ARRAY",
            "items": {"type": "OBJECT", "required": ["line", "cwe"], "properties": {
                "line": {"type": "INTEGER"}, "cwe": {"type": "INTEGER", "nullable": true}}}}}})
    );
    assert!(!config.to_string().contains("additionalProperties"));
}

#[tokio::test]
async fn no_schema_or_none_mode_sends_no_json_mode_and_no_seed_when_absent() {
    let server = serve_json(200, answer(json!([{"text": "ok"}]), "STOP")).await;
    let mut s = settings(&server);
    s.structured_output = GeminiOutput::None;
    provider(s)
        .complete(&Request {
            seed: None,
            ..request()
        })
        .await
        .unwrap();
    let body = sent_body(&server).await;
    assert_eq!(
        body["generationConfig"],
        json!({"temperature": 0.0, "maxOutputTokens": 8192})
    );
}

// ---- Success -------------------------------------------------------------------------

#[tokio::test]
async fn thought_parts_are_kept_apart_from_the_answer() {
    let server = serve_json(
        200,
        answer(
            json!([{"text": "**Scanning** line 3 builds SQL from input.", "thought": true},
                {"text": "{\"findings\":[{\"line\":3,\"cwe\":89}]}", "thoughtSignature": "CiIBVKhc7"}]),
            "STOP",
        ),
    )
    .await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.text, "{\"findings\":[{\"line\":3,\"cwe\":89}]}");
    assert_eq!(
        c.reasoning.as_deref(),
        Some("**Scanning** line 3 builds SQL from input.")
    );
    assert_eq!(c.finish, FinishReason::Stop);
    assert_eq!(c.model.as_deref(), Some("gemini-2.5-flash"));
    assert_eq!(
        c.usage,
        Usage {
            input_tokens: Some(1200),
            output_tokens: Some(350)
        }
    );
}

#[tokio::test]
async fn max_tokens_is_truncation() {
    let server = serve_json(200, answer(json!([{"text": "{\"findings\":[{\"line\""}]), "MAX_TOKENS")).await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.finish, FinishReason::Length);
    assert_eq!(c.text, "{\"findings\":[{\"line\"");
}

#[tokio::test]
async fn thinking_that_ate_the_budget_is_an_empty_truncated_answer() {
    let server = serve_json(
        200,
        json!({"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}],
            "usageMetadata": {"promptTokenCount": 1200, "totalTokenCount": 9392, "thoughtsTokenCount": 8192},
            "modelVersion": "gemini-2.5-pro"}),
    )
    .await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.finish, FinishReason::Length);
    assert_eq!(c.text, "");
    assert_eq!(c.usage.output_tokens, Some(8192));
}

#[tokio::test]
async fn safety_finish_is_filtered() {
    let server = serve_json(
        200,
        json!({"candidates": [{"finishReason": "SAFETY", "index": 0,
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]}]}),
    )
    .await;
    assert_eq!(complete(&server).await.unwrap().finish, FinishReason::Filtered);
}

#[tokio::test]
async fn blocked_prompt_is_a_filtered_completion() {
    let server = serve_json(
        200,
        json!({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
            "usageMetadata": {"promptTokenCount": 1200, "totalTokenCount": 1200}, "modelVersion": "gemini-2.5-flash"}),
    )
    .await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.finish, FinishReason::Filtered);
    assert_eq!(c.text, "");
}

// ---- HTTP errors ---------------------------------------------------------------------

#[tokio::test]
async fn bad_key_is_a_400_that_means_auth() {
    let server = serve_json(
        400,
        google_error(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]),
        ),
    )
    .await;
    let p = provider(settings(&server));
    let e = p.complete(&request()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.status, Some(400));
    assert!(e.message.contains("$GEMINI_API_KEY"), "{}", e.message);
    assert!(!e.is_retryable());
    common::assert_key_hidden(KEY, &e, &p);
}

#[tokio::test]
async fn missing_key_says_the_variable_is_unset() {
    let server = serve_json(
        403,
        google_error(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            json!([]),
        ),
    )
    .await;
    let mut s = settings(&server);
    s.endpoint.api_key = None;
    let e = provider(s).complete(&request()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("$GEMINI_API_KEY is not set"), "{}", e.message);
    assert_eq!(header(&only_request(&server).await, "x-goog-api-key"), None);
}

#[tokio::test]
async fn permission_denied_is_auth() {
    let server = serve_json(
        403,
        google_error(
            403,
            "PERMISSION_DENIED",
            "The caller does not have permission",
            json!([]),
        ),
    )
    .await;
    assert_eq!(fail(&server).await.kind, ErrorKind::Auth);
}

#[tokio::test]
async fn unknown_model_is_not_found() {
    let server = serve_json(
        404,
        google_error(
            404,
            "NOT_FOUND",
            "models/gemini-2.5-flash is not found for API version v1beta, or is not supported for generateContent.",
            json!([]),
        ),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("is not found for API version"), "{}", e.message);
}

#[tokio::test]
async fn input_token_count_is_context_overflow() {
    let server = serve_json(
        400,
        google_error(
            400,
            "INVALID_ARGUMENT",
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            json!([]),
        ),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn failed_precondition_is_invalid_request_with_its_message() {
    let server = serve_json(
        400,
        google_error(
            400,
            "FAILED_PRECONDITION",
            "User location is not supported for the API use.",
            json!([]),
        ),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("User location is not supported"), "{}", e.message);
}

#[tokio::test]
async fn per_minute_limit_is_a_rate_limit_with_retry_delay() {
    let server = serve_json(
        429,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            json!([{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "quotaValue": "10"}]},
                {"@type": "type.googleapis.com/google.rpc.Help", "links": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]),
        ),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_secs(37)));
    assert!(e.is_retryable());
}

#[tokio::test]
async fn daily_quota_is_exhausted_not_a_rate_limit() {
    let server = serve_json(
        429,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 50",
            json!([{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"}, "quotaValue": "50"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "11s"}]),
        ),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::QuotaExhausted);
    assert_eq!(e.retry_after, None);
    assert!(!e.is_retryable());
    assert!(e.message.contains("PerDay"), "{}", e.message);
}

#[tokio::test]
async fn server_errors_are_retryable() {
    for (code, status) in [(500, "INTERNAL"), (503, "UNAVAILABLE"), (504, "DEADLINE_EXCEEDED")] {
        let server = serve_json(code, google_error(code, status, "try again", json!([]))).await;
        let e = fail(&server).await;
        assert_eq!(e.kind, ErrorKind::Server, "{status}");
        assert_eq!(e.status, Some(code));
        assert!(e.is_retryable(), "{status}");
    }
}

// ---- Broken bodies and transport -----------------------------------------------------

#[tokio::test]
async fn malformed_body_is_a_bad_response_with_excerpt() {
    let server = serve(ResponseTemplate::new(200).set_body_raw(
        br#"{"candidates":[{"content":{"parts":[{"te"#.to_vec(),
        "application/json",
    ))
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(!e.is_retryable());
    assert_eq!(
        e.body_excerpt.as_deref(),
        Some(r#"{"candidates":[{"content":{"parts":[{"te"#)
    );
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = serve(
        ResponseTemplate::new(200)
            .set_body_json(answer(json!([{"text": "{}"}]), "STOP"))
            .set_delay(Duration::from_secs(2)),
    )
    .await;
    let mut s = settings(&server);
    s.endpoint.timeout = Duration::from_millis(300);
    let e = common::expect_timeout(|| async move { provider(s).complete(&request()).await }).await;
    assert!(!e.message.contains(KEY));
}

#[tokio::test]
async fn list_models_strips_the_models_prefix_and_keeps_the_key_out_of_the_url() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1beta/models"))
        .and(wiremock::matchers::header("x-goog-api-key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"models": [
            {"name": "models/gemini-2.5-flash", "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
             "supportedGenerationMethods": ["generateContent"]}
        ]})))
        .mount(&server)
        .await;
    let models = provider(settings(&server)).list_models().await.unwrap();
    assert_eq!(
        (models[0].id.as_str(), models[0].context_tokens),
        ("gemini-2.5-flash", Some(1048576))
    );
    let requests = server.received_requests().await.unwrap();
    assert!(!requests[0].url.as_str().contains(KEY), "{}", requests[0].url);
}
