//! Classifying a failed answer: status, `Retry-After` and body become one
//! [`ProviderError`] whose kind says what to do (retry, wait, shrink the input, or stop
//! and tell a person) and whose message quotes the server's own words.

use std::time::Duration;

use serde_json::Value;

use super::retry::{human_duration, retry_delay_in_body};
use crate::{ErrorKind, ProviderError};

/// How many characters of a body to keep in [`ProviderError::body_excerpt`].
const EXCERPT_CHARS: usize = 300;
/// How many characters of a server's own error message to quote in a message.
const SERVER_MESSAGE_CHARS: usize = 400;

/// The start of a body for diagnostics (see [`crate::excerpt`]), about 300 characters.
pub(crate) fn body_excerpt(body: &str) -> String {
    crate::excerpt(body, EXCERPT_CHARS)
}

/// Whether a body says the prompt did not fit the model's context window, in any of the
/// wordings the supported servers use.
pub fn is_context_overflow(body: &str) -> bool {
    let b = body.to_lowercase();
    [
        "context_length_exceeded",            // OpenAI code
        "maximum context length",             // OpenAI, vLLM, OpenRouter text
        "exceed_context_size_error",          // llama.cpp type
        "exceeds the available context size", // llama.cpp text
        "greater than the context length",    // LM Studio (n_keep >= n_ctx)
        "context size has been exceeded",     // LM Studio MLX
        "n_keep",                             // LM Studio / llama.cpp n_keep >= n_ctx
        "prompt is too long",                 // Anthropic
        "input token count",                  // Gemini
        "longer than the context length",     // Ollama with truncate:false
    ]
    .iter()
    .any(|needle| b.contains(needle))
}

/// Whether a body says the account is out of credit or quota (retrying will not help
/// until a person acts).
pub fn is_quota_exhausted(body: &str) -> bool {
    let b = body.to_lowercase();
    [
        "insufficient_quota",
        "billing",
        "enforced_spend_limit_reached",
        "exceeded your current quota",
        "credit",
    ]
    .iter()
    .any(|needle| b.contains(needle))
}

/// Quota markers that cannot also describe a short-term rate limit. Gemini's per-minute
/// 429 says "You exceeded your current quota, please check your plan and billing
/// details" too, but comes with a retry delay; these codes never do.
fn is_definitely_quota(body: &str) -> bool {
    let b = body.to_lowercase();
    ["insufficient_quota", "enforced_spend_limit_reached", "billing_error"]
        .iter()
        .any(|n| b.contains(n))
}

/// Gemini reports a bad key as a 400, not a 401.
fn is_invalid_key(body: &str) -> bool {
    body.contains("API_KEY_INVALID") || body.to_lowercase().contains("api key not valid")
}

/// The server's own error message, from any of the error shapes in the wild:
/// OpenAI / Anthropic / Ollama `/v1` `{"error":{"message":…}}`, LM Studio and Ollama
/// native `{"error":"…"}`, llama.cpp / OpenRouter `{"error":{"code":400,"message":…}}`,
/// Gemini compat `[{"error":{…}}]`, old vLLM `{"object":"error","message":…}`, and
/// FastAPI-style `{"detail":"…"}`. Whitespace is collapsed; long messages are cut.
pub fn server_message(body: &str) -> Option<String> {
    fn message_of(v: &Value) -> Option<&str> {
        match v {
            Value::Array(items) => items.iter().find_map(message_of),
            Value::Object(map) => {
                match map.get("error") {
                    Some(Value::String(s)) => return Some(s),
                    Some(Value::Object(e)) => {
                        if let Some(Value::String(m)) = e.get("message") {
                            return Some(m);
                        }
                        if let Some(m) = e.get("error").and_then(message_of_error_field) {
                            return Some(m);
                        }
                    }
                    _ => {}
                }
                ["message", "detail"]
                    .iter()
                    .find_map(|k| map.get(*k).and_then(Value::as_str))
            }
            _ => None,
        }
    }
    fn message_of_error_field(v: &Value) -> Option<&str> {
        match v {
            Value::String(s) => Some(s),
            Value::Object(e) => e.get("message").and_then(Value::as_str),
            _ => None,
        }
    }
    let value: Value = serde_json::from_str(body.trim()).ok()?;
    let message = crate::excerpt(message_of(&value)?, SERVER_MESSAGE_CHARS);
    (!message.is_empty()).then_some(message)
}

/// `"; the server said: …"` with the server's own message (see [`server_message`]), to
/// append to an explanation; empty when the body has none.
pub(crate) fn server_said(body: &str) -> String {
    server_message(body)
        .map(|said| format!("; the server said: {said}"))
        .unwrap_or_default()
}

/// Classifies a non-2xx answer. `key_hint` is the *name* of the environment variable the
/// key came from (e.g. `OPENAI_API_KEY`), used to say which key was rejected; the key
/// itself is never an argument and never appears in the result.
///
/// 401/403 (and Gemini's 400 `API_KEY_INVALID`) → Auth; 404 → NotFound; 402 → Quota;
/// 429 → RateLimited, or QuotaExhausted when the body says so; 413, or 4xx/5xx with
/// context-overflow text → ContextOverflow; 408 → Timeout; 5xx and 529 → Server; other
/// 4xx → InvalidRequest; anything else → BadResponse.
pub fn error_from_status(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    key_hint: Option<&str>,
) -> ProviderError {
    let retry_after = retry_after.or_else(|| retry_delay_in_body(body));
    let (kind, what) = classify(status, retry_after, body, key_hint);
    let trimmed = body.trim();
    ProviderError {
        kind,
        status: Some(status),
        retry_after: if kind.is_retryable() { retry_after } else { None },
        message: format!("{what}{}", server_said(body)),
        body_excerpt: (!trimmed.is_empty()).then(|| body_excerpt(trimmed)),
    }
}

fn classify(status: u16, retry_after: Option<Duration>, body: &str, key_hint: Option<&str>) -> (ErrorKind, String) {
    use ErrorKind::*;
    match status {
        401 | 403 => (Auth, auth_message(status, key_hint)),
        400 if is_invalid_key(body) => (Auth, auth_message(status, key_hint)),
        404 => (
            NotFound,
            format!("model or route not found ({status}): check `model` and `base_url`"),
        ),
        402 => (QuotaExhausted, quota_message(status)),
        429 if is_definitely_quota(body) => (QuotaExhausted, quota_message(status)),
        429 if is_quota_exhausted(body) && retry_after.is_none() => (QuotaExhausted, quota_message(status)),
        429 => {
            let wait = match retry_after {
                Some(d) => format!(": the server asked to wait {}", human_duration(d)),
                None => String::new(),
            };
            (
                RateLimited,
                format!("rate limited ({status}){wait}; lower max_concurrency if this keeps happening"),
            )
        }
        413 => (
            ContextOverflow,
            format!("the request is too large for the server ({status}): split the file or review fewer lines at once"),
        ),
        400..=599 if is_context_overflow(body) => (
            ContextOverflow,
            format!(
                "the prompt does not fit the model's context window ({status}): split the file, or give the \
                 model a larger context (LM Studio: load it with a larger context length)"
            ),
        ),
        400 if is_quota_exhausted(body) => (QuotaExhausted, quota_message(status)),
        408 => (
            Timeout,
            format!("the server timed out waiting for the request ({status})"),
        ),
        529 => (Server, format!("the server is overloaded ({status}): retry later")),
        503 => (
            Server,
            format!("the server is unavailable or still loading the model ({status}): retry later"),
        ),
        500..=599 => (Server, format!("server error ({status})")),
        400..=499 => (InvalidRequest, format!("the server rejected the request ({status})")),
        _ => (BadResponse, format!("unexpected HTTP status {status}")),
    }
}

fn auth_message(status: u16, key_hint: Option<&str>) -> String {
    match key_hint {
        Some(var) => format!("the server rejected the API key from ${var} ({status}): check the key"),
        None => format!(
            "the server refused access ({status}): it needs a valid API key; set `api_key_env` to the name of \
             the environment variable that holds it"
        ),
    }
}

fn quota_message(status: u16) -> String {
    format!("out of credit or quota ({status}): add credit or raise the limit; retrying will not help")
}

/// Gives `err` another kind and explanation, keeping the server's own words.
pub(crate) fn reclassify(
    err: &mut ProviderError,
    body: &str,
    kind: ErrorKind,
    what: String,
    retry_after: Option<Duration>,
) {
    err.kind = kind;
    err.retry_after = if kind.is_retryable() { retry_after } else { None };
    err.message = format!("{what}{}", server_said(body));
}

/// An error object's integer `code`, when it is an HTTP error status (400–599), as
/// OpenRouter, llama.cpp and Google put in errors that come with a 2xx status.
pub(crate) fn error_status_code(error: &Value) -> Option<u16> {
    error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c))
}

#[cfg(test)]
mod tests;
