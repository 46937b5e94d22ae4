use super::*;
use crate::chat::parse;

fn settings() -> GeminiSettings {
    GeminiSettings {
        endpoint: crate::Endpoint {
            base_url: DEFAULT_BASE_URL.into(),
            model: "gemini-2.5-flash".into(),
            api_key: Some("AIza-secret-123".into()),
            api_key_env: Some("GEMINI_API_KEY".into()),
            timeout: Duration::from_secs(5),
            max_response_bytes: crate::DEFAULT_MAX_RESPONSE_BYTES,
        },
        structured_output: GeminiOutput::JsonSchema,
    }
}

fn schema() -> Value {
    json!({"type": "object",
        "properties": {"findings": {"type": "array", "items": {"type": "object",
            "properties": {"cwe": {"type": ["integer", "null"], "description": "CWE number"},
                "severity": {"type": "string", "enum": ["high", "low"]}},
            "required": ["cwe", "severity"], "additionalProperties": false}}},
        "required": ["findings"], "additionalProperties": false})
}

fn request() -> Request {
    Request {
        id: "r".into(),
        system: "You review code.".into(),
        user: "…source…".into(),
        schema: Some(schema()),
        max_output_tokens: 8192,
        temperature: 0.2,
        seed: Some(42),
    }
}

fn ok(body: Value) -> Result<Completion, ProviderError> {
    parse::<GeminiSettings>(200, None, &body.to_string(), None)
}

fn err(status: u16, body: Value) -> ProviderError {
    parse::<GeminiSettings>(status, None, &body.to_string(), Some("GEMINI_API_KEY")).unwrap_err()
}

/// The answer shape the `generateContent` API documents.
fn answer(parts: Value, finish: &str) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
        "usageMetadata": {"promptTokenCount": 1000, "candidatesTokenCount": 200, "thoughtsTokenCount": 300,
            "totalTokenCount": 1500},
        "modelVersion": "gemini-2.5-flash", "responseId": "abc"})
}

#[test]
fn debug_and_errors_never_show_the_key() {
    crate::chat::assert_key_kept_secret(settings(), "AIza-secret-123");
}

#[test]
fn the_url_never_holds_the_key() {
    let p = Gemini::new(settings(), reqwest::Client::new());
    assert!(!p.url().contains("key"), "{}", p.url());
}

#[test]
fn nothing_after_the_base_url_changes_the_path() {
    assert_eq!(
        generate_url("http://127.0.0.1:11434/api/pull#", "m"),
        "http://127.0.0.1:11434/api/pull/models/m:generateContent"
    );
    assert_eq!(
        generate_url("http://h:1/v1?x=1#y", "m"),
        "http://h:1/v1/models/m:generateContent"
    );
    assert_eq!(
        generate_url("http://h:1/v1", "m#x?y"),
        "http://h:1/v1/models/m%23x%3Fy:generateContent"
    );
}

#[test]
fn url_takes_model_with_or_without_prefix() {
    let u = |b: &str, m: &str| generate_url(b, m);
    let want = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent";
    assert_eq!(u(DEFAULT_BASE_URL, "gemini-2.5-flash"), want);
    assert_eq!(u(DEFAULT_BASE_URL, "models/gemini-2.5-flash"), want);
    assert_eq!(
        u("https://generativelanguage.googleapis.com/v1beta/", "gemini-2.5-flash"),
        want
    );
    assert_eq!(u("https://generativelanguage.googleapis.com", "gemini-2.5-flash"), want);
    assert_eq!(
        u(
            "https://generativelanguage.googleapis.com/v1beta/models",
            "gemini-2.5-flash"
        ),
        want
    );
    assert_eq!(u("", " gemini-2.5-flash "), want);
    assert_eq!(
        u("http://127.0.0.1:9/v1", "tunedModels/mine"),
        "http://127.0.0.1:9/v1/tunedModels/mine:generateContent"
    );
}

#[test]
fn body_matches_the_documented_request() {
    let p = Gemini::new(settings(), reqwest::Client::new());
    assert_eq!(
        p.build_body(&request()),
        json!({"systemInstruction": {"parts": [{"text": "You review code."}]},
            "contents": [{"role": "user", "parts": [{"text": "…source…"}]}],
            "generationConfig": {"temperature": 0.2, "seed": 42, "maxOutputTokens": 8192,
                "responseMimeType": "application/json", "responseJsonSchema": schema()}})
    );
}

#[test]
fn seed_and_limit_fit_int32_and_absent_seed_is_omitted() {
    let p = Gemini::new(settings(), reqwest::Client::new());
    let body = p.build_body(&Request {
        seed: Some(u64::MAX),
        max_output_tokens: u32::MAX,
        ..request()
    });
    let seed = body["generationConfig"]["seed"].as_i64().unwrap();
    assert!((0..=i32::MAX as i64).contains(&seed));
    assert_eq!(body["generationConfig"]["maxOutputTokens"], json!(i32::MAX));
    let body = p.build_body(&Request {
        seed: None,
        schema: None,
        system: String::new(),
        ..request()
    });
    assert_eq!(
        body,
        json!({"contents": [{"role": "user", "parts": [{"text": "…source…"}]}],
            "generationConfig": {"temperature": 0.2, "maxOutputTokens": 8192}})
    );
}

#[test]
fn openapi_mode_sends_the_translated_schema() {
    let mut s = settings();
    s.structured_output = GeminiOutput::OpenApiSchema;
    let body = Gemini::new(s, reqwest::Client::new()).build_body(&request());
    let config = &body["generationConfig"];
    assert_eq!(config["responseMimeType"], json!("application/json"));
    assert!(config.get("responseJsonSchema").is_none());
    assert_eq!(
        config["responseSchema"],
        json!({"type": "OBJECT", "required": ["findings"],
            "properties": {"findings": {"type": "ARRAY", "items": {"type": "OBJECT",
                "required": ["cwe", "severity"],
                "properties": {"cwe": {"type": "INTEGER", "nullable": true, "description": "CWE number"},
                    "severity": {"type": "STRING", "enum": ["high", "low"]}}}}}})
    );
    let mut s = settings();
    s.structured_output = GeminiOutput::None;
    let body = Gemini::new(s, reqwest::Client::new()).build_body(&request());
    assert!(body["generationConfig"].get("responseMimeType").is_none());
}

#[test]
fn openapi_translation_edge_cases() {
    assert_eq!(
        to_openapi_schema(&json!({"anyOf": [{"type": "string"}, {"type": "null"}], "$schema": "x"})),
        json!({"type": "STRING", "nullable": true})
    );
    assert_eq!(
        to_openapi_schema(&json!({"type": ["string", "integer"]})),
        json!({"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]})
    );
    assert_eq!(
        to_openapi_schema(&json!({"type": "string", "enum": ["a", null], "format": "uri"})),
        json!({"type": "STRING", "enum": ["a"], "nullable": true})
    );
    assert_eq!(
        to_openapi_schema(&json!({"type": "integer", "enum": [1, 2], "format": "int64", "minimum": 1})),
        json!({"type": "INTEGER", "format": "int64", "minimum": 1})
    );
    assert_eq!(to_openapi_schema(&json!({"const": "x"})), json!({"enum": ["x"]}));
    assert_eq!(to_openapi_schema(&json!(true)), json!({}));
}

#[test]
fn thoughts_are_kept_apart_and_text_parts_joined() {
    let c = ok(answer(
        json!([{"text": "Line 3 looks off.", "thought": true}, {"text": "{\"findings\":"},
            {"text": "[]}", "thoughtSignature": "sig"}]),
        "STOP",
    ))
    .unwrap();
    assert_eq!(c.text, r#"{"findings":[]}"#);
    assert_eq!(c.reasoning.as_deref(), Some("Line 3 looks off."));
    assert_eq!(c.finish, FinishReason::Stop);
    assert_eq!(c.model.as_deref(), Some("gemini-2.5-flash"));
    assert_eq!(c.usage.input_tokens, Some(1000));
    // Thinking is billed and limited as output: candidates (200) + thoughts (300).
    assert_eq!(c.usage.output_tokens, Some(500));
}

#[test]
fn finish_reasons_map() {
    let f = |r: &str| ok(answer(json!([{"text": "x"}]), r)).unwrap().finish;
    assert_eq!(f("STOP"), FinishReason::Stop);
    assert_eq!(f("MAX_TOKENS"), FinishReason::Length);
    for filtered in ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"] {
        assert_eq!(f(filtered), FinishReason::Filtered, "{filtered}");
    }
    assert_eq!(f("LANGUAGE"), FinishReason::Other("LANGUAGE".into()));
    assert_eq!(
        f("MALFORMED_FUNCTION_CALL"),
        FinishReason::Other("MALFORMED_FUNCTION_CALL".into())
    );
    let mut no_reason = answer(json!([{"text": "x"}]), "STOP");
    no_reason["candidates"][0]
        .as_object_mut()
        .unwrap()
        .remove("finishReason");
    assert_eq!(ok(no_reason).unwrap().finish, FinishReason::Unknown);
}

#[test]
fn max_tokens_with_only_thinking_is_an_empty_truncated_answer() {
    let body = json!({"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS"}],
        "usageMetadata": {"promptTokenCount": 900, "thoughtsTokenCount": 8192}, "modelVersion": "gemini-2.5-pro"});
    let c = ok(body).unwrap();
    assert_eq!(c.text, "");
    assert_eq!(c.finish, FinishReason::Length);
    assert_eq!(c.usage.output_tokens, Some(8192));
}

#[test]
fn blocked_prompt_is_a_filtered_empty_completion() {
    let c = ok(json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": {"promptTokenCount": 12}, "modelVersion": "gemini-2.5-flash"}))
    .unwrap();
    assert_eq!(c.finish, FinishReason::Filtered);
    assert_eq!(c.text, "");
    assert_eq!(c.usage.input_tokens, Some(12));
}

#[test]
fn safety_stop_without_content_is_filtered() {
    let c = ok(json!({"candidates": [{"finishReason": "SAFETY", "safetyRatings": []}]})).unwrap();
    assert_eq!(c.finish, FinishReason::Filtered);
}

#[test]
fn empty_stop_is_an_error() {
    let e = ok(answer(json!([{"text": "pondering", "thought": true}]), "STOP")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(e.message.contains("only thoughts"), "{}", e.message);
}

#[test]
fn not_a_response_is_a_bad_response() {
    for body in ["<html>", "[1]", r#"{"candidates":[]}"#, r#"{"x":1}"#] {
        let e = parse::<GeminiSettings>(200, None, body, None).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse, "{body}");
    }
}

fn google_error(code: u16, status: &str, message: &str, details: Value) -> Value {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
}

#[test]
fn bad_key_400_is_auth_and_names_the_variable() {
    let e = err(
        400,
        google_error(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                "domain": "googleapis.com"}]),
        ),
    );
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("$GEMINI_API_KEY"), "{}", e.message);
    let e = err(
        400,
        google_error(
            400,
            "INVALID_ARGUMENT",
            "API key expired. Please renew the API key.",
            json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_EXPIRED"}]),
        ),
    );
    assert_eq!(e.kind, ErrorKind::Auth);
    assert!(e.message.contains("$GEMINI_API_KEY"), "{}", e.message);
}

#[test]
fn documented_statuses_map() {
    let kind = |code, status: &str, message: &str| err(code, google_error(code, status, message, json!([]))).kind;
    assert_eq!(
        kind(
            400,
            "INVALID_ARGUMENT",
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
        ),
        ErrorKind::ContextOverflow
    );
    assert_eq!(
        kind(
            400,
            "INVALID_ARGUMENT",
            "Invalid JSON payload received. Unknown name \"x\""
        ),
        ErrorKind::InvalidRequest
    );
    assert_eq!(kind(403, "PERMISSION_DENIED", "denied"), ErrorKind::Auth);
    assert_eq!(
        kind(404, "NOT_FOUND", "models/gemini-9 is not found"),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(500, "INTERNAL", "An internal error has occurred."),
        ErrorKind::Server
    );
    assert_eq!(kind(503, "UNAVAILABLE", "The model is overloaded."), ErrorKind::Server);
    assert_eq!(kind(504, "DEADLINE_EXCEEDED", "Deadline expired"), ErrorKind::Server);
}

#[test]
fn failed_precondition_is_invalid_request_with_its_message() {
    let e = err(
        400,
        google_error(
            400,
            "FAILED_PRECONDITION",
            "Gemini API free tier is not available in your country. Please enable billing on your project.",
            json!([]),
        ),
    );
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("free tier is not available"), "{}", e.message);
}

fn quota_429(quota_id: &str, value: &str, delay: &str) -> Value {
    google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
        json!([{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": quota_id, "quotaDimensions": {"model": "gemini-2.5-pro"}, "quotaValue": value}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]),
    )
}

#[test]
fn per_minute_quota_is_a_rate_limit_with_its_delay() {
    let e = err(
        429,
        quota_429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "5", "37s"),
    );
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_secs(37)));
}

#[test]
fn daily_or_zero_quota_is_exhausted_despite_the_delay() {
    let e = err(
        429,
        quota_429("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "50", "11s"),
    );
    assert_eq!(e.kind, ErrorKind::QuotaExhausted);
    assert_eq!(e.retry_after, None);
    assert!(e.message.contains("PerDay"), "{}", e.message);
    let e = err(
        429,
        quota_429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "0", "11s"),
    );
    assert_eq!(e.kind, ErrorKind::QuotaExhausted);
}

#[test]
fn billing_429_without_delay_is_exhausted() {
    let e = err(
        429,
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            json!([]),
        ),
    );
    assert_eq!(e.kind, ErrorKind::QuotaExhausted);
}

#[test]
fn error_inside_a_200_is_classified_by_its_code() {
    let e = ok(google_error(503, "UNAVAILABLE", "overloaded", json!([]))).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
    assert_eq!(e.status, Some(200));
    let e = ok(json!([{"error": {"code": 429, "message": "slow", "status": "RESOURCE_EXHAUSTED"}}])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
}
