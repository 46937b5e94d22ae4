use super::*;
use crate::chat::parse;
use crate::Usage;
use serde_json::json;
use std::time::Duration;

fn settings() -> OpenAiSettings {
    OpenAiSettings {
        endpoint: Endpoint {
            base_url: "http://127.0.0.1:1234/v1/".into(),
            model: "m".into(),
            api_key: Some("sk-secret-123".into()),
            api_key_env: Some("OPENAI_API_KEY".into()),
            timeout: Duration::from_secs(5),
            max_response_bytes: crate::DEFAULT_MAX_RESPONSE_BYTES,
        },
        token_limit_field: TokenLimitField::MaxTokens,
        structured_output: StructuredOutput::JsonSchema,
        extra_body: None,
    }
}

fn request() -> Request {
    Request {
        id: "r".into(),
        system: "sys".into(),
        user: "usr".into(),
        schema: Some(json!({"type":"object"})),
        max_output_tokens: 100,
        temperature: 0.2,
        seed: Some(u64::MAX),
    }
}

fn ok(body: Value) -> Result<Completion, ProviderError> {
    parse::<OpenAiSettings>(200, None, &body.to_string(), None)
}

#[test]
fn extra_body_adds_fields_but_never_overrides_built_ones() {
    let mut s = settings();
    s.extra_body = Some(json!({"provider": {"require_parameters": true}, "model": "other", "stream": true}));
    let body = OpenAiCompatible::new(s, reqwest::Client::new()).build_body(&request());
    assert_eq!(body["provider"], json!({"require_parameters": true}));
    assert_eq!(body["model"], "m");
    assert_eq!(body["stream"], false);
}

#[test]
fn debug_and_errors_never_show_the_key() {
    crate::chat::assert_key_kept_secret(settings(), "sk-secret-123");
}

#[test]
fn url_is_normalised() {
    assert_eq!(chat_url("http://h:1/v1/"), "http://h:1/v1/chat/completions");
    assert_eq!(chat_url("http://h:1/v1//"), "http://h:1/v1/chat/completions");
    assert_eq!(chat_url("http://h:1/v1"), "http://h:1/v1/chat/completions");
    assert_eq!(
        chat_url("http://h:1/v1/chat/completions/"),
        "http://h:1/v1/chat/completions"
    );
}

#[test]
fn nothing_after_the_base_url_changes_the_path() {
    // A `#` or `?` would turn the API path into a fragment or query: the request would
    // go to the base URL's own path (e.g. Ollama's /api/pull).
    assert_eq!(
        chat_url("http://127.0.0.1:11434/api/pull#"),
        "http://127.0.0.1:11434/api/pull/chat/completions"
    );
    assert_eq!(chat_url("http://h:1/v1?x=1#y"), "http://h:1/v1/chat/completions");
    assert_eq!(chat_url("http://h:1"), "http://h:1/chat/completions");
    let mut s = settings();
    s.endpoint.base_url = "http://h:1/v1#".into();
    let p = OpenAiCompatible::new(s, reqwest::Client::new());
    assert_eq!(p.url(), "http://h:1/v1/chat/completions");
    assert_eq!(api_root(p.url()), "http://h:1/v1");
}

#[test]
fn temperature_is_sent_as_written_and_large_seeds_survive() {
    let p = OpenAiCompatible::new(settings(), reqwest::Client::new());
    let body = p.build_body(&request());
    assert_eq!(body["temperature"], json!(0.2));
    assert_eq!(body["seed"], json!(u64::MAX));
}

#[test]
fn no_schema_means_no_response_format() {
    let mut s = settings();
    s.structured_output = StructuredOutput::JsonObject;
    let p = OpenAiCompatible::new(s, reqwest::Client::new());
    let body = p.build_body(&Request {
        schema: None,
        ..request()
    });
    assert!(body.get("response_format").is_none());
}

#[test]
fn reasoning_field_wins_and_think_is_still_stripped() {
    let c = ok(json!({"choices":[{"message":{"content":"<think>a</think>{}","reasoning_content":"b"},"finish_reason":"stop"}]}))
        .unwrap();
    assert_eq!(c.text, "{}");
    assert_eq!(c.reasoning.as_deref(), Some("b"));
}

#[test]
fn gpt_oss_reasoning_field() {
    let c = ok(json!({"choices":[{"message":{"content":"{}","reasoning":"thought"},"finish_reason":"stop"}]})).unwrap();
    assert_eq!(c.reasoning.as_deref(), Some("thought"));
}

#[test]
fn missing_opening_think_tag() {
    let c = ok(json!({"choices":[{"message":{"content":"musing</think>{}"},"finish_reason":"stop"}]})).unwrap();
    assert_eq!(c.text, "{}");
    assert_eq!(c.reasoning.as_deref(), Some("musing"));
}

#[test]
fn finish_reasons_map() {
    let f = |r: Value| {
        ok(json!({"choices":[{"message":{"content":"x"},"finish_reason":r}]}))
            .unwrap()
            .finish
    };
    assert_eq!(f(json!("stop")), FinishReason::Stop);
    assert_eq!(f(json!("length")), FinishReason::Length);
    assert_eq!(f(json!("content_filter")), FinishReason::Filtered);
    assert_eq!(f(json!("tool_calls")), FinishReason::Other("tool_calls".into()));
    assert_eq!(f(json!(null)), FinishReason::Unknown);
    assert_eq!(f(json!(7)), FinishReason::Unknown);
}

#[test]
fn refusal_is_filtered_and_kept_as_text() {
    let c =
        ok(json!({"choices":[{"message":{"content":null,"refusal":"I can't help"},"finish_reason":"stop"}]})).unwrap();
    assert_eq!(c.finish, FinishReason::Filtered);
    assert_eq!(c.text, "I can't help");
}

#[test]
fn empty_answer_with_length_is_returned() {
    let c = ok(json!({"choices":[{"message":{"content":"","reasoning_content":"long"},"finish_reason":"length"}]}))
        .unwrap();
    assert_eq!(c.finish, FinishReason::Length);
    assert_eq!(c.text, "");
}

#[test]
fn empty_answer_after_reasoning_mentions_reasoning() {
    let e = ok(json!({"choices":[{"message":{"content":"","reasoning_content":"long"},"finish_reason":"stop"}]}))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
    assert!(
        e.message.contains("empty answer") && e.message.contains("reasoning"),
        "{}",
        e.message
    );
}

#[test]
fn content_parts_are_joined() {
    let c = ok(json!({"choices":[{"message":{"content":[{"type":"text","text":"{\"a\""},{"type":"text","text":":1}"}]},"finish_reason":"stop"}]}))
        .unwrap();
    assert_eq!(c.text, "{\"a\":1}");
}

#[test]
fn odd_fields_do_not_break_parsing() {
    let c = ok(json!({"id":1,"object":null,"model":5,"usage":{"prompt_tokens":"x","completion_tokens":3},
        "choices":[{"index":"0","message":{"content":"{}","reasoning":{"nested":true}},"finish_reason":"stop","logprobs":7}]}))
    .unwrap();
    assert_eq!(c.text, "{}");
    assert_eq!(c.model, None);
    assert_eq!(
        c.usage,
        Usage {
            input_tokens: None,
            output_tokens: Some(3)
        }
    );
}

#[test]
fn openrouter_mid_generation_error() {
    let e = ok(json!({"choices":[{"message":{"content":""},"finish_reason":"error",
        "error":{"code":502,"message":"Upstream provider died"}}]}))
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
    assert_eq!(e.status, Some(200));
    assert!(e.message.contains("Upstream provider died"), "{}", e.message);
}

#[test]
fn lm_studio_overflow_with_http_200() {
    let e = ok(json!({"error":"The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 13055>= n_ctx: 4096)."}))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContextOverflow);
}

#[test]
fn gemini_array_error_with_200() {
    let e = ok(json!([{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    let e = ok(json!([1, 2])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse);
}
