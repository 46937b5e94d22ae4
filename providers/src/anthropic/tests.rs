use super::*;
use crate::chat::parse;
use crate::Usage;

fn settings() -> AnthropicSettings {
    AnthropicSettings {
        endpoint: crate::Endpoint {
            base_url: "https://api.anthropic.com/".into(),
            model: "claude-sonnet-4-5".into(),
            api_key: Some("sk-ant-secret-123".into()),
            api_key_env: Some("ANTHROPIC_API_KEY".into()),
            timeout: Duration::from_secs(5),
            max_response_bytes: crate::DEFAULT_MAX_RESPONSE_BYTES,
        },
        structured_output: AnthropicOutput::Tool,
    }
}

fn request() -> Request {
    Request {
        id: "r".into(),
        system: "You review code.".into(),
        user: "…source…".into(),
        schema: Some(json!({"type": "object", "properties": {"findings": {"type": "array"}}})),
        max_output_tokens: 8192,
        temperature: 0.2,
        seed: Some(42),
    }
}

fn ok(body: Value) -> Result<Completion, ProviderError> {
    parse::<AnthropicSettings>(200, None, &body.to_string(), None)
}

fn err(status: u16, body: Value) -> ProviderError {
    parse::<AnthropicSettings>(status, None, &body.to_string(), Some("ANTHROPIC_API_KEY")).unwrap_err()
}

fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011"})
}

/// The answer shape the Messages API documents.
fn message(content: Value, stop_reason: &str) -> Value {
    json!({"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
        "content": content, "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": 2095, "output_tokens": 503, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0}})
}

#[test]
fn debug_and_errors_never_show_the_key() {
    crate::chat::assert_key_kept_secret(settings(), "sk-ant-secret-123");
}

#[test]
fn nothing_after_the_base_url_changes_the_path() {
    assert_eq!(
        messages_url("http://127.0.0.1:11434/api/pull#"),
        "http://127.0.0.1:11434/api/pull/v1/messages"
    );
    assert_eq!(messages_url("http://h:1/v1?x=1#y"), "http://h:1/v1/messages");
}

#[test]
fn url_accepts_a_base_with_or_without_v1() {
    assert_eq!(
        messages_url("https://api.anthropic.com"),
        "https://api.anthropic.com/v1/messages"
    );
    assert_eq!(
        messages_url("https://api.anthropic.com/"),
        "https://api.anthropic.com/v1/messages"
    );
    assert_eq!(
        messages_url("https://api.anthropic.com/v1/"),
        "https://api.anthropic.com/v1/messages"
    );
    assert_eq!(
        messages_url("http://proxy:8080/anthropic/v1/messages"),
        "http://proxy:8080/anthropic/v1/messages"
    );
    assert_eq!(messages_url("  "), "https://api.anthropic.com/v1/messages");
}

#[test]
fn body_matches_the_documented_request() {
    let p = Anthropic::new(settings(), reqwest::Client::new());
    let body = p.build_body(&request());
    assert_eq!(
        body,
        json!({"model": "claude-sonnet-4-5", "max_tokens": 8192, "temperature": 0.2,
            "system": "You review code.",
            "messages": [{"role": "user", "content": "…source…"}],
            "tools": [{"name": "report_findings", "description": "Report the review findings",
                "input_schema": request().schema.unwrap()}],
            "tool_choice": {"type": "tool", "name": "report_findings"}})
    );
    assert!(body.get("seed").is_none());
}

#[test]
fn no_tool_without_schema_or_in_none_mode_and_no_empty_system() {
    let p = Anthropic::new(settings(), reqwest::Client::new());
    let body = p.build_body(&Request {
        schema: None,
        system: String::new(),
        ..request()
    });
    assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
    assert!(body.get("system").is_none());
    let mut s = settings();
    s.structured_output = AnthropicOutput::None;
    let body = Anthropic::new(s, reqwest::Client::new()).build_body(&request());
    assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
}

#[test]
fn tool_input_is_the_answer_and_text_beside_it_is_not() {
    let c = ok(message(
        json!([{"type": "text", "text": "Here are the findings."},
            {"type": "tool_use", "id": "toolu_01", "name": "report_findings",
                "input": {"findings": [{"line": 3}]}}]),
        "tool_use",
    ))
    .unwrap();
    assert_eq!(c.text, r#"{"findings":[{"line":3}]}"#);
    assert_eq!(c.reasoning.as_deref(), Some("Here are the findings."));
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

#[test]
fn text_blocks_are_joined_and_thinking_is_reasoning() {
    let c = ok(message(
        json!([{"type": "thinking", "thinking": "Line 3 is odd.", "signature": "EqQB"},
            {"type": "redacted_thinking", "data": "xyz"},
            {"type": "text", "text": "{\"findings\":"}, {"type": "text", "text": "[]}"}]),
        "end_turn",
    ))
    .unwrap();
    assert_eq!(c.text, r#"{"findings":[]}"#);
    assert_eq!(c.reasoning.as_deref(), Some("Line 3 is odd."));
}

#[test]
fn other_tools_are_ignored() {
    let c = ok(message(
        json!([{"type": "tool_use", "id": "t", "name": "other", "input": {}}, {"type": "text", "text": "{}"}]),
        "end_turn",
    ))
    .unwrap();
    assert_eq!(c.text, "{}");
}

#[test]
fn stop_reasons_map() {
    let f = |r: Value| {
        let mut m = message(json!([{"type": "text", "text": "x"}]), "end_turn");
        m["stop_reason"] = r;
        ok(m).unwrap().finish
    };
    assert_eq!(f(json!("end_turn")), FinishReason::Stop);
    assert_eq!(f(json!("tool_use")), FinishReason::Stop);
    assert_eq!(f(json!("stop_sequence")), FinishReason::Stop);
    assert_eq!(f(json!("max_tokens")), FinishReason::Length);
    assert_eq!(f(json!("model_context_window_exceeded")), FinishReason::Length);
    assert_eq!(f(json!("refusal")), FinishReason::Filtered);
    assert_eq!(f(json!("pause_turn")), FinishReason::Other("pause_turn".into()));
    assert_eq!(f(json!(null)), FinishReason::Unknown);
}

#[test]
fn empty_answer_is_an_error_unless_truncated_or_refused() {
    let e = ok(message(json!([]), "end_turn")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(e.message.contains("empty answer"), "{}", e.message);
    let c = ok(message(json!([]), "max_tokens")).unwrap();
    assert_eq!((c.text.as_str(), c.finish), ("", FinishReason::Length));
    let c = ok(message(json!([]), "refusal")).unwrap();
    assert_eq!(c.finish, FinishReason::Filtered);
}

#[test]
fn not_a_message_is_a_bad_response() {
    for body in ["not json", "[1]", r#"{"id":"x"}"#, r#"{"content":"text"}"#] {
        let e = parse::<AnthropicSettings>(200, None, body, None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse, "{body}");
        assert_eq!(e.body_excerpt.as_deref(), Some(body));
    }
}

#[test]
fn documented_errors_map() {
    let kind = |status, t: &str, m: &str| err(status, error_body(t, m)).kind;
    assert_eq!(kind(401, "authentication_error", "invalid x-api-key"), ErrorKind::Auth);
    assert_eq!(kind(403, "permission_error", "no access"), ErrorKind::Auth);
    assert_eq!(kind(404, "not_found_error", "model: claude-9"), ErrorKind::NotFound);
    assert_eq!(
        kind(
            400,
            "invalid_request_error",
            "prompt is too long: 208656 tokens > 200000 maximum"
        ),
        ErrorKind::ContextOverflow
    );
    assert_eq!(
        kind(
            400,
            "invalid_request_error",
            "input length and `max_tokens` exceed context limit: 197626 + 21333 > 200000, decrease input length \
             or `max_tokens` and try again"
        ),
        ErrorKind::ContextOverflow
    );
    assert_eq!(
        kind(400, "invalid_request_error", "temperature: range: 0..1"),
        ErrorKind::InvalidRequest
    );
    assert_eq!(
        kind(
            400,
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API."
        ),
        ErrorKind::QuotaExhausted
    );
    assert_eq!(
        kind(
            400,
            "invalid_request_error",
            "You have reached your specified API usage limits. You will regain access on 2026-01-01 at 00:00 UTC."
        ),
        ErrorKind::QuotaExhausted
    );
    assert_eq!(
        kind(413, "request_too_large", "Request exceeds the maximum size"),
        ErrorKind::ContextOverflow
    );
    assert_eq!(
        kind(402, "billing_error", "payment required"),
        ErrorKind::QuotaExhausted
    );
    assert_eq!(
        kind(
            429,
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit"
        ),
        ErrorKind::RateLimited
    );
    assert_eq!(kind(500, "api_error", "Internal server error"), ErrorKind::Server);
    assert_eq!(kind(529, "overloaded_error", "Overloaded"), ErrorKind::Server);
    assert_eq!(kind(409, "conflict_error", "conflict"), ErrorKind::InvalidRequest);
}

#[test]
fn spend_limit_429_is_quota_not_rate_limit() {
    let body = json!({"type": "error", "error": {"type": "rate_limit_error",
        "message": "You have reached your spend limit.", "details": {"error_code": "enforced_spend_limit_reached"}}});
    let e = parse::<AnthropicSettings>(429, Some(Duration::from_secs(5)), &body.to_string(), None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::QuotaExhausted);
    assert_eq!(e.retry_after, None);
    assert!(!e.is_retryable());
}

#[test]
fn rate_limit_mentioning_credit_is_still_a_rate_limit() {
    let body = error_body("rate_limit_error", "Rate limited; credit usage is fine, slow down");
    let e = parse::<AnthropicSettings>(429, None, &body.to_string(), None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert!(e.message.contains("slow down"), "{}", e.message);
}

#[test]
fn auth_names_the_variable_and_permission_says_so() {
    let e = err(401, error_body("authentication_error", "invalid x-api-key"));
    assert!(e.message.contains("$ANTHROPIC_API_KEY"), "{}", e.message);
    assert!(e.message.contains("invalid x-api-key"), "{}", e.message);
    let e = err(
        403,
        error_body("permission_error", "Your API key does not have permission"),
    );
    assert!(
        e.message.contains("$ANTHROPIC_API_KEY") && e.message.contains("not allowed"),
        "{}",
        e.message
    );
}

#[test]
fn error_inside_a_200_is_classified_by_its_type() {
    let e = ok(error_body("overloaded_error", "Overloaded")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
    assert_eq!(e.status, Some(200));
    assert!(e.message.starts_with("the server answered 200"), "{}", e.message);
    let e = ok(error_body("strange_error", "?")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
}
