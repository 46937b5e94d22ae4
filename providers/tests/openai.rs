//! The OpenAI-compatible provider against a real HTTP server (wiremock on 127.0.0.1),
//! through the public `Provider::complete` path: request bodies and headers as sent on the
//! wire, and answers and failures as the servers of ARCHITECTURE.md §4 produce them.

mod common;

use std::time::Duration;

use common::{header, sent_body, sorted_keys};
use providers::{
    Completion, ErrorKind, FinishReason, OpenAiCompatible, OpenAiSettings, Provider, ProviderError, Request,
    StructuredOutput, TokenLimitField, Usage,
};
use serde_json::{json, Value};
use wiremock::{MockServer, ResponseTemplate};

const KEY: &str = "sk-test-SECRET-0123456789";
const ROUTE: &str = "/v1/chat/completions";

fn schema() -> Value {
    common::findings_schema()
}

fn request() -> Request {
    common::review_request(schema(), 4096)
}

fn settings(server: &MockServer) -> OpenAiSettings {
    OpenAiSettings {
        endpoint: providers::Endpoint {
            base_url: format!("{}/v1", server.uri()),
            model: "qwen/qwen3-coder-30b".into(),
            api_key: None,
            api_key_env: None,
            timeout: Duration::from_secs(10),
            max_response_bytes: providers::DEFAULT_MAX_RESPONSE_BYTES,
        },
        token_limit_field: TokenLimitField::MaxTokens,
        structured_output: StructuredOutput::JsonSchema,
        extra_body: None,
    }
}

fn provider(settings: OpenAiSettings) -> OpenAiCompatible {
    OpenAiCompatible::new(settings, common::client())
}

async fn serve(template: ResponseTemplate) -> MockServer {
    common::serve(ROUTE, template).await
}

async fn serve_json(status: u16, body: Value) -> MockServer {
    serve(ResponseTemplate::new(status).set_body_json(body)).await
}

async fn serve_raw(status: u16, body: &str) -> MockServer {
    serve(ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")).await
}

/// One request with default settings against `server`.
async fn complete(server: &MockServer) -> Result<Completion, ProviderError> {
    provider(settings(server)).complete(&request()).await
}

async fn fail(server: &MockServer) -> ProviderError {
    complete(server).await.expect_err("expected an error")
}

fn answer(message: Value, finish: Value) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "qwen/qwen3-coder-30b",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": null}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
    })
}

// ---- Success -------------------------------------------------------------------------

#[tokio::test]
async fn success_returns_text_usage_model_and_finish() {
    let server = serve_json(
        200,
        answer(
            json!({"role": "assistant", "content": "{\"findings\":[]}"}),
            json!("stop"),
        ),
    )
    .await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.text, "{\"findings\":[]}");
    assert_eq!(c.reasoning, None);
    assert_eq!(
        c.usage,
        Usage {
            input_tokens: Some(120),
            output_tokens: Some(30)
        }
    );
    assert_eq!(c.finish, FinishReason::Stop);
    assert_eq!(c.model.as_deref(), Some("qwen/qwen3-coder-30b"));
}

#[tokio::test]
async fn lm_studio_style_answer_without_id_created_or_usage_is_accepted() {
    let server = serve_json(
        200,
        json!({"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}]}),
    )
    .await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.text, "{}");
    assert_eq!(c.usage, Usage::default());
    assert_eq!(c.model, None);
}

// ---- Request body --------------------------------------------------------------------

#[tokio::test]
async fn request_body_has_every_field_as_documented() {
    let server = serve_json(200, answer(json!({"content": "{}"}), json!("stop"))).await;
    complete(&server).await.unwrap();
    let body = sent_body(&server).await;
    assert_eq!(body["model"], json!("qwen/qwen3-coder-30b"));
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "You review code. Reply with JSON only."},
            {"role": "user", "content": "File: src/lib.rs\n```rust\nfn main() {}\n```"}
        ])
    );
    assert_eq!(body["temperature"], json!(0.0));
    assert_eq!(body["seed"], json!(42));
    assert_eq!(body["max_tokens"], json!(4096));
    assert!(body.get("max_completion_tokens").is_none());
    assert_eq!(body["stream"], json!(false));
    assert_eq!(
        body["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "review_findings", "schema": schema(), "strict": true}})
    );
    assert!(body["response_format"]["json_schema"]["strict"].is_boolean());
    // Nothing beyond what we asked for.
    assert_eq!(
        sorted_keys(&body),
        [
            "max_tokens",
            "messages",
            "model",
            "response_format",
            "seed",
            "stream",
            "temperature"
        ]
    );
}

#[tokio::test]
async fn max_completion_tokens_replaces_max_tokens_and_no_seed_is_omitted() {
    let server = serve_json(200, answer(json!({"content": "{}"}), json!("stop"))).await;
    let mut s = settings(&server);
    s.token_limit_field = TokenLimitField::MaxCompletionTokens;
    let req = Request {
        seed: None,
        temperature: 0.7,
        ..request()
    };
    provider(s).complete(&req).await.unwrap();
    let body = sent_body(&server).await;
    assert_eq!(body["max_completion_tokens"], json!(4096));
    assert!(body.get("max_tokens").is_none());
    assert!(body.get("seed").is_none());
    assert_eq!(body["temperature"], json!(0.7));
}

#[tokio::test]
async fn json_object_mode() {
    let server = serve_json(200, answer(json!({"content": "{}"}), json!("stop"))).await;
    let mut s = settings(&server);
    s.structured_output = StructuredOutput::JsonObject;
    provider(s).complete(&request()).await.unwrap();
    assert_eq!(
        sent_body(&server).await["response_format"],
        json!({"type": "json_object"})
    );
}

#[tokio::test]
async fn no_structured_output_omits_response_format() {
    let server = serve_json(200, answer(json!({"content": "{}"}), json!("stop"))).await;
    let mut s = settings(&server);
    s.structured_output = StructuredOutput::None;
    provider(s).complete(&request()).await.unwrap();
    assert!(sent_body(&server).await.get("response_format").is_none());
}

#[tokio::test]
async fn no_schema_omits_response_format() {
    let server = serve_json(200, answer(json!({"content": "ok"}), json!("stop"))).await;
    provider(settings(&server))
        .complete(&Request {
            schema: None,
            ..request()
        })
        .await
        .unwrap();
    assert!(sent_body(&server).await.get("response_format").is_none());
}

#[tokio::test]
async fn authorization_header_only_with_a_key() {
    let server = serve_json(200, answer(json!({"content": "{}"}), json!("stop"))).await;
    let mut s = settings(&server);
    s.endpoint.api_key = Some(KEY.into());
    s.endpoint.api_key_env = Some("OPENAI_API_KEY".into());
    provider(s).complete(&request()).await.unwrap();
    provider(settings(&server)).complete(&request()).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(header(&requests[0], "authorization"), Some(format!("Bearer {KEY}")));
    assert_eq!(header(&requests[1], "authorization"), None);
    assert!(header(&requests[0], "content-type")
        .unwrap()
        .starts_with("application/json"));
}

#[tokio::test]
async fn trailing_slash_in_base_url_still_hits_v1_chat_completions() {
    let server = serve_json(200, answer(json!({"content": "{}"}), json!("stop"))).await;
    let mut s = settings(&server);
    s.endpoint.base_url = format!("{}/v1/", server.uri());
    provider(s).complete(&request()).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.path(), ROUTE);
}

// ---- Reasoning and finish ------------------------------------------------------------

#[tokio::test]
async fn think_block_in_content_is_split_out() {
    let server = serve_json(
        200,
        answer(
            json!({"content": "<think>\nLine 3 looks off.\n</think>\n{\"findings\":[]}"}),
            json!("stop"),
        ),
    )
    .await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.text, "{\"findings\":[]}");
    assert_eq!(c.reasoning.as_deref(), Some("Line 3 looks off."));
}

#[tokio::test]
async fn reasoning_content_is_kept_apart() {
    let server = serve_json(
        200,
        answer(
            json!({"content": "{\"findings\":[]}", "reasoning_content": "Checked every line."}),
            json!("stop"),
        ),
    )
    .await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.text, "{\"findings\":[]}");
    assert_eq!(c.reasoning.as_deref(), Some("Checked every line."));
}

#[tokio::test]
async fn finish_length_is_reported_as_truncation() {
    let server = serve_json(
        200,
        answer(json!({"content": "{\"findings\":[{\"line\":"}), json!("length")),
    )
    .await;
    let c = complete(&server).await.unwrap();
    assert_eq!(c.finish, FinishReason::Length);
    assert_eq!(c.text, "{\"findings\":[{\"line\":");
}

#[tokio::test]
async fn empty_content_is_an_error() {
    let server = serve_json(200, answer(json!({"content": ""}), json!("stop"))).await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(e.message.contains("empty answer"), "{}", e.message);
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn null_content_with_only_reasoning_names_the_reasoning() {
    let server = serve_json(
        200,
        answer(json!({"content": null, "reasoning_content": "Hmm…"}), json!("stop")),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(e.message.contains("reasoning"), "{}", e.message);
}

// ---- HTTP errors ---------------------------------------------------------------------

#[tokio::test]
async fn server_error_is_retryable() {
    let server = serve_json(
        500,
        json!({"error": {"message": "The server had an error", "type": "server_error"}}),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::Server);
    assert_eq!(e.status, Some(500));
    assert!(e.is_retryable());
    assert!(e.message.contains("The server had an error"), "{}", e.message);
}

#[tokio::test]
async fn rate_limit_with_retry_after_seconds() {
    let server = serve(
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "7")
            .set_body_json(
                json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
            ),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
    assert!(e.is_retryable());
}

#[tokio::test]
async fn rate_limit_with_retry_after_ms() {
    let server = serve(
        ResponseTemplate::new(429)
            .insert_header("retry-after-ms", "1500")
            .insert_header("retry-after", "2")
            .set_body_json(json!({"error": {"message": "slow down", "code": "rate_limit_exceeded"}})),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_millis(1500)));
}

#[tokio::test]
async fn insufficient_quota_is_not_retryable() {
    let server = serve_json(
        429,
        json!({"error": {"message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::QuotaExhausted);
    assert!(!e.is_retryable());
    assert_eq!(e.retry_after, None);
}

#[tokio::test]
async fn bad_key_names_the_variable_and_never_the_key() {
    let server = serve_json(
        401,
        json!({"error": {"message": format!("Incorrect API key provided: {KEY}."), "type": "invalid_request_error",
            "param": null, "code": "invalid_api_key"}}),
    )
    .await;
    let mut s = settings(&server);
    s.endpoint.api_key = Some(KEY.into());
    s.endpoint.api_key_env = Some("OPENAI_API_KEY".into());
    let p = provider(s);
    let e = p.complete(&request()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.status, Some(401));
    assert!(e.message.contains("$OPENAI_API_KEY"), "{}", e.message);
    assert!(!e.is_retryable());
    common::assert_key_hidden(KEY, &e, &p);
}

#[tokio::test]
async fn missing_key_says_how_to_configure_one() {
    let server = serve_json(401, json!({"error": {"message": "Missing bearer token", "code": 401}})).await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("api_key_env"), "{}", e.message);
}

#[tokio::test]
async fn unknown_model_is_not_found() {
    let server = serve_json(
        404,
        json!({"error": {"message": "The model `gpt-9` does not exist or you do not have access to it.",
            "type": "invalid_request_error", "param": null, "code": "model_not_found"}}),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        e.message.contains("`model`") && e.message.contains("`base_url`"),
        "{}",
        e.message
    );
    assert!(e.message.contains("gpt-9"), "{}", e.message);
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn openai_context_length_exceeded() {
    let server = serve_json(
        400,
        json!({"error": {"message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn lm_studio_n_keep_overflow() {
    let server = serve_json(
        400,
        json!({"error": "The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 13055>= n_ctx: 4096). Try to load the model with a larger context length, or provide a shorter input."}),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
    assert!(e.message.contains("n_keep: 13055"), "{}", e.message);
}

#[tokio::test]
async fn llama_cpp_exceed_context_size() {
    let server = serve_json(
        400,
        json!({"error": {"code": 400, "type": "exceed_context_size_error",
            "message": "request (9412 tokens) exceeds the available context size (8192 tokens), try increasing it",
            "n_prompt_tokens": 9412, "n_ctx": 8192}}),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
}

#[tokio::test]
async fn lm_studio_rejects_json_object_as_invalid_request() {
    let server = serve_json(
        400,
        json!({"error": "'response_format.type' must be 'json_schema' or 'text'"}),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("must be 'json_schema' or 'text'"), "{}", e.message);
    assert!(e.body_excerpt.is_some());
}

// ---- Errors inside a 200 and broken bodies -------------------------------------------

#[tokio::test]
async fn lm_studio_unexpected_endpoint_with_200_is_an_error() {
    let server = serve_json(
        200,
        json!({"error": "Unexpected endpoint or method. (POST /v1/chat/completions)"}),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.status, Some(200));
    assert!(e.message.contains("base_url"), "{}", e.message);
}

#[tokio::test]
async fn lm_studio_overflow_with_200_is_context_overflow() {
    let server = serve_json(
        200,
        json!({"error": "The number of tokens to keep from the initial prompt is greater than the context length"}),
    )
    .await;
    assert_eq!(fail(&server).await.kind, ErrorKind::ContextOverflow);
}

#[tokio::test]
async fn openrouter_error_after_generation_started() {
    let server = serve_json(
        200,
        json!({"id": "gen-1", "model": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": ""},
            "finish_reason": "error", "error": {"code": 502, "message": "Provider returned error"}}]}),
    )
    .await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::Server);
    assert!(e.is_retryable());
}

#[tokio::test]
async fn truncated_json_is_a_bad_response() {
    let server = serve_raw(200, r#"{"choices":["#).await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(!e.is_retryable());
    assert_eq!(e.body_excerpt.as_deref(), Some(r#"{"choices":["#));
}

#[tokio::test]
async fn html_body_is_a_bad_response() {
    let server = serve(ResponseTemplate::new(200).set_body_string("<html><body>Welcome</body></html>")).await;
    assert_eq!(fail(&server).await.kind, ErrorKind::BadResponse);
}

#[tokio::test]
async fn no_choices_is_a_bad_response() {
    let server = serve_json(200, json!({"id": "x", "choices": []})).await;
    let e = fail(&server).await;
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(e.message.contains("no choices"), "{}", e.message);
}

// ---- Transport -----------------------------------------------------------------------

#[tokio::test]
async fn slow_server_times_out() {
    let server = serve(
        ResponseTemplate::new(200)
            .set_body_json(answer(json!({"content": "{}"}), json!("stop")))
            .set_delay(Duration::from_secs(2)),
    )
    .await;
    let mut s = settings(&server);
    s.endpoint.timeout = Duration::from_millis(300);
    let e = common::expect_timeout(|| async move { provider(s).complete(&request()).await }).await;
    assert!(e.message.contains("300 ms"), "{}", e.message);
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // the listener is dropped here, so nothing listens on the port
    let s = OpenAiSettings {
        endpoint: providers::Endpoint {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            model: "m".into(),
            api_key: Some(KEY.into()),
            api_key_env: Some("LM_API_TOKEN".into()),
            timeout: Duration::from_secs(5),
            max_response_bytes: providers::DEFAULT_MAX_RESPONSE_BYTES,
        },
        token_limit_field: TokenLimitField::MaxTokens,
        structured_output: StructuredOutput::JsonSchema,
        extra_body: None,
    };
    let e = provider(s).complete(&request()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Connect);
    assert!(e.is_retryable());
    assert_eq!(e.status, None);
    assert!(
        e.message
            .contains(&format!("http://127.0.0.1:{port}/v1/chat/completions")),
        "{}",
        e.message
    );
    assert!(e.message.contains("base_url"), "{}", e.message);
    assert!(!e.message.contains(KEY));
}
