use super::*;

#[test]
fn server_message_openai_shape() {
    let body = r#"{"error":{"message":"Incorrect model","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
    assert_eq!(server_message(body).as_deref(), Some("Incorrect model"));
}

#[test]
fn server_message_lm_studio_string() {
    let body = r#"{"error":"'response_format.type' must be 'json_schema' or 'text'"}"#;
    assert_eq!(
        server_message(body).as_deref(),
        Some("'response_format.type' must be 'json_schema' or 'text'")
    );
}

#[test]
fn server_message_llama_cpp_and_openrouter_integer_code() {
    let body = r#"{"error":{"code":400,"type":"exceed_context_size_error",
        "message":"request (9412 tokens) exceeds the available context size (8192 tokens), try increasing it",
        "n_prompt_tokens":9412,"n_ctx":8192}}"#;
    assert_eq!(
        server_message(body).as_deref(),
        Some("request (9412 tokens) exceeds the available context size (8192 tokens), try increasing it")
    );
    let body = r#"{"error":{"code":402,"message":"Insufficient credits","metadata":{}}}"#;
    assert_eq!(server_message(body).as_deref(), Some("Insufficient credits"));
}

#[test]
fn server_message_gemini_compat_array() {
    let body = r#"[{"error":{"code":429,"message":"Quota exceeded for metric","status":"RESOURCE_EXHAUSTED"}}]"#;
    assert_eq!(server_message(body).as_deref(), Some("Quota exceeded for metric"));
}

#[test]
fn server_message_vllm_flat_and_anthropic() {
    let body = r#"{"object":"error","message":"This model's maximum context length is 2048 tokens.","type":"BadRequestError","param":null,"code":400}"#;
    assert_eq!(
        server_message(body).as_deref(),
        Some("This model's maximum context length is 2048 tokens.")
    );
    let body = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
    assert_eq!(server_message(body).as_deref(), Some("Overloaded"));
}

#[test]
fn server_message_none_for_non_json_or_no_message() {
    assert_eq!(server_message("<html>Bad Gateway</html>"), None);
    assert_eq!(server_message(r#"{"choices":[]}"#), None);
    assert_eq!(server_message(""), None);
}

#[test]
fn classification_by_status() {
    let kind = |status, body: &str| error_from_status(status, None, body, None).kind;
    assert_eq!(kind(401, ""), ErrorKind::Auth);
    assert_eq!(kind(403, ""), ErrorKind::Auth);
    assert_eq!(kind(404, ""), ErrorKind::NotFound);
    assert_eq!(kind(402, ""), ErrorKind::QuotaExhausted);
    assert_eq!(
        kind(429, r#"{"error":{"code":"rate_limit_exceeded"}}"#),
        ErrorKind::RateLimited
    );
    assert_eq!(
        kind(429, r#"{"error":{"type":"insufficient_quota"}}"#),
        ErrorKind::QuotaExhausted
    );
    assert_eq!(
        kind(400, r#"{"error":{"code":"context_length_exceeded"}}"#),
        ErrorKind::ContextOverflow
    );
    assert_eq!(
        kind(400, r#"{"error":"prompt is too long: 208656 tokens > 200000 maximum"}"#),
        ErrorKind::ContextOverflow
    );
    assert_eq!(
        kind(400, "The input token count (1200000) exceeds the maximum"),
        ErrorKind::ContextOverflow
    );
    assert_eq!(
        kind(400, "the prompt is longer than the context length currently available"),
        ErrorKind::ContextOverflow
    );
    assert_eq!(kind(413, ""), ErrorKind::ContextOverflow);
    assert_eq!(
        kind(
            400,
            r#"{"error":{"status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"#
        ),
        ErrorKind::Auth
    );
    assert_eq!(kind(400, r#"{"error":"bad"}"#), ErrorKind::InvalidRequest);
    assert_eq!(kind(422, ""), ErrorKind::InvalidRequest);
    assert_eq!(kind(408, ""), ErrorKind::Timeout);
    assert_eq!(kind(500, ""), ErrorKind::Server);
    assert_eq!(kind(503, ""), ErrorKind::Server);
    assert_eq!(kind(529, ""), ErrorKind::Server);
    assert_eq!(kind(302, ""), ErrorKind::BadResponse);
}

#[test]
fn gemini_per_minute_quota_with_retry_delay_is_a_rate_limit() {
    let body = r#"[{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.",
        "status":"RESOURCE_EXHAUSTED","details":[{"retryDelay":"20s"}]}}]"#;
    let e = error_from_status(429, None, body, None);
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_secs(20)));
    let same_without_delay = body.replace(r#"{"retryDelay":"20s"}"#, "{}");
    assert_eq!(
        error_from_status(429, None, &same_without_delay, None).kind,
        ErrorKind::QuotaExhausted
    );
}

#[test]
fn auth_message_names_the_variable_and_quotes_the_server() {
    let e = error_from_status(
        401,
        None,
        r#"{"error":{"message":"Incorrect API key provided"}}"#,
        Some("OPENAI_API_KEY"),
    );
    assert!(
        e.message
            .starts_with("the server rejected the API key from $OPENAI_API_KEY (401): check the key"),
        "{}",
        e.message
    );
    assert!(e.message.contains("Incorrect API key provided"));
    assert_eq!(e.status, Some(401));
}

#[test]
fn retry_after_is_kept_only_for_retryable_errors() {
    let e = error_from_status(429, Some(Duration::from_secs(3)), "{}", None);
    assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
    let e = error_from_status(429, None, r#"{"error":{"code":"insufficient_quota"}}"#, None);
    assert_eq!(e.retry_after, None);
    assert!(!e.is_retryable());
}

#[test]
fn server_said_quotes_the_server_or_adds_nothing() {
    assert_eq!(
        server_said(r#"{"error":{"message":"No such model"}}"#),
        "; the server said: No such model"
    );
    assert_eq!(server_said("<html>"), "");
}

#[test]
fn error_status_code_only_takes_http_error_statuses() {
    assert_eq!(error_status_code(&serde_json::json!({"code": 502})), Some(502));
    assert_eq!(error_status_code(&serde_json::json!({"code": 200})), None);
    assert_eq!(error_status_code(&serde_json::json!({"code": 70000})), None);
    assert_eq!(error_status_code(&serde_json::json!({"code": "429"})), None);
    assert_eq!(error_status_code(&serde_json::json!({})), None);
}

#[test]
fn quota_and_overflow_detectors() {
    assert!(is_quota_exhausted("Your credit balance is too low"));
    assert!(is_quota_exhausted(
        r#"{"error":{"details":{"error_code":"enforced_spend_limit_reached"}}}"#
    ));
    assert!(!is_quota_exhausted(r#"{"error":{"code":"rate_limit_exceeded"}}"#));
    assert!(is_context_overflow("Context size has been exceeded."));
    assert!(is_context_overflow("(n_keep: 13055>= n_ctx: 4096)"));
    assert!(!is_context_overflow(r#"{"error":"Model not loaded"}"#));
}

#[test]
fn excerpt_collapses_whitespace_and_cuts_on_char_boundary() {
    assert_eq!(body_excerpt("  a \n\n b\tc  "), "a b c");
    let long = "é".repeat(1000);
    let e = body_excerpt(&long);
    assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
    assert!(e.ends_with('…'));
    assert_eq!(body_excerpt("short"), "short");
}
