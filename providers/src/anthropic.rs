//! The native Anthropic Messages API provider (`POST /v1/messages`).
//!
//! Claude is reachable only through its own protocol: the key goes in `x-api-key` with
//! an `anthropic-version` header, the system prompt is a top-level field, there is no
//! `seed`, `max_tokens` is required, and JSON output is obtained by forcing a tool whose
//! `input_schema` is the finding schema (ARCHITECTURE.md §4). Its answers are content
//! blocks (`text`, `tool_use`, `thinking`), its stop reasons and error types are its own,
//! and 529 `overloaded_error` is a retryable failure that no other API uses. This module
//! translates both ways and sends through the shared transport ([`crate::http`]), so
//! callers see the same [`Completion`] and [`ProviderError`] as for every other API.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::chat::{self, Answer, Api, ChatApi, EmptyAnswer, KeyHeader, OutputSettings, Wire};
use crate::http;
use crate::{Completion, ErrorKind, FinishReason, ProviderError, Request};

/// Where the Anthropic API lives; `/v1/messages` is appended.
const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// How many models one `GET /v1/models` asks for (the API's maximum page).
const MODEL_PAGE_SIZE: u32 = 1000;
/// The API version every request declares (the only stable one).
const ANTHROPIC_VERSION: &str = "2023-06-01";
/// The forced tool whose input is the structured answer.
const TOOL_NAME: &str = "report_findings";
const TOOL_DESCRIPTION: &str = "Report the review findings";

/// How to reach one Claude model: `base_url` is the API root, with or without `/v1`
/// (e.g. `https://api.anthropic.com`, or a proxy; empty means [`DEFAULT_BASE_URL`]), and
/// the key is sent as `x-api-key`.
pub type AnthropicSettings = OutputSettings<AnthropicOutput>;

/// How the answer is constrained to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnthropicOutput {
    /// One tool, `report_findings`, whose `input_schema` is the request's schema, forced
    /// with `tool_choice`; the answer is the tool call's `input`. Works on every Claude
    /// model (but excludes extended thinking, which needs `tool_choice` auto).
    #[default]
    Tool,
    /// No tools: rely on the prompt alone and read the text blocks.
    None,
}

/// A Claude model behind the Messages API.
pub type Anthropic = ChatApi<AnthropicSettings>;

impl Wire for AnthropicSettings {
    const API: Api = Api {
        provider: "Anthropic",
        settings: "AnthropicSettings",
        fixed_header: Some(("anthropic-version", ANTHROPIC_VERSION)),
        server: "the Anthropic API",
        usual_key_env: Some("ANTHROPIC_API_KEY"),
        key_header: KeyHeader::Named("x-api-key"),
        expects: "the Anthropic API",
        error: error_response,
        read: read_answer,
        empty: EmptyAnswer {
            thinking: "reasoning",
            after_thinking: "; check the prompt and max_output_tokens",
            without_text: "no text block and no report_findings tool call; check the server's answer",
        },
    };

    /// The Messages URL.
    fn chat_url(&self) -> String {
        messages_url(&self.endpoint.base_url)
    }

    /// The JSON body for `req` (see ARCHITECTURE.md §4): model, `max_tokens`, temperature,
    /// top-level `system` (omitted when empty), one user message and, when `req.schema`
    /// is set and the settings allow, the forced `report_findings` tool. Never a `seed`:
    /// the API has none and rejects unknown fields.
    fn build_body(&self, req: &Request) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(self.endpoint.model));
        body.insert("max_tokens".into(), json!(req.max_output_tokens));
        if let Some(t) = http::shortest_decimal(req.temperature) {
            body.insert("temperature".into(), t);
        }
        if !req.system.is_empty() {
            body.insert("system".into(), json!(req.system));
        }
        body.insert("messages".into(), json!([{"role": "user", "content": req.user}]));
        if let (Some(schema), AnthropicOutput::Tool) = (&req.schema, self.structured_output) {
            body.insert(
                "tools".into(),
                json!([{"name": TOOL_NAME, "description": TOOL_DESCRIPTION, "input_schema": schema}]),
            );
            body.insert("tool_choice".into(), json!({"type": "tool", "name": TOOL_NAME}));
        }
        Value::Object(body)
    }

    /// `GET /v1/models` (entries carry `max_input_tokens`).
    fn models_request(client: &reqwest::Client, chat_url: &str) -> reqwest::RequestBuilder {
        let root = chat_url.strip_suffix("/messages").unwrap_or(chat_url);
        client
            .get(http::endpoint(root, &["models"]))
            .query(&[("limit", MODEL_PAGE_SIZE)])
    }
}

/// `base_url` without trailing slashes, plus whatever of the path segments `v1`, `messages`
/// it lacks (appended as segments, see [`http::endpoint`]).
fn messages_url(base_url: &str) -> String {
    let base = http::base_or(base_url, DEFAULT_BASE_URL);
    let segments = http::path_segments(base);
    let last_two: Vec<&str> = segments.iter().rev().take(2).rev().map(String::as_str).collect();
    match last_two.as_slice() {
        [.., "v1", "messages"] => http::endpoint(base, &[]),
        [.., "v1"] => http::endpoint(base, &["messages"]),
        _ => http::endpoint(base, &["v1", "messages"]),
    }
}

// ---- Response parsing ---------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct WireMessage {
    #[serde(default, rename = "type", deserialize_with = "http::lenient")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "http::lenient")]
    content: Option<Vec<Value>>,
    #[serde(default, deserialize_with = "http::lenient")]
    stop_reason: Option<String>,
    #[serde(default, deserialize_with = "http::lenient")]
    usage: Option<WireUsage>,
    #[serde(default, deserialize_with = "http::lenient")]
    model: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    #[serde(default, deserialize_with = "http::lenient")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "http::lenient")]
    output_tokens: Option<u64>,
}

/// Turns one Messages API answer into a [`Completion`] or a [`ProviderError`]. Pure:
/// give it a captured status, `Retry-After` and body. `key_hint` is the name of the key's
/// environment variable, for 401/403 messages.
///
/// - non-2xx: classified by [`http::error_from_status`], corrected where Anthropic's
///   typed errors say more (see `error_response`);
/// - a 2xx `{"type":"error",…}` body: the error its `error.type` names;
/// - body not JSON, or no `content` array: [`ErrorKind::BadResponse`];
/// - the `report_findings` tool call's `input`, serialized, is the answer when present
///   (any text blocks beside it are commentary, kept with the reasoning); otherwise the
///   text blocks joined;
/// - `thinking` blocks are the reasoning;
/// - `stop_reason`: `end_turn` / `tool_use` / `stop_sequence` → Stop; `max_tokens` and
///   `model_context_window_exceeded` → Length (the output was cut either way); `refusal`
///   → Filtered; anything else (`pause_turn`) → Other;
/// - an empty answer that claims to be complete is an error; one cut by the limit is
///   returned, since the caller treats `Length` as truncation anyway.
fn read_answer(answer: &Answer<'_>, value: Value) -> Result<Completion, ProviderError> {
    let status = answer.status;
    if !value.is_object() {
        return Err(answer.bad(format!("the server's answer ({status}) is not a Messages API object")));
    }
    let wire: WireMessage = serde_json::from_value(value).map_err(|e| {
        answer.bad(format!(
            "the server's answer ({status}) is not a Messages API answer ({e})"
        ))
    })?;
    if wire.kind.as_deref() == Some("error")
        || (wire.content.is_none() && wire.error.as_ref().is_some_and(Value::is_object))
    {
        return Err(error_in_ok_body(answer, wire.error.as_ref()));
    }
    let Some(blocks) = wire.content else {
        return Err(answer.bad(format!(
            "the server's answer ({status}) has no content blocks: `base_url` may not point at the Anthropic API"
        )));
    };

    let mut texts = Vec::new();
    let mut thinking = Vec::new();
    let mut tool_input = None;
    for block in &blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => texts.extend(block.get("text").and_then(Value::as_str)),
            Some("thinking") => thinking.extend(block.get("thinking").and_then(Value::as_str)),
            // Only one tool is offered and it is forced, so there is one call; keep the first.
            Some("tool_use")
                if tool_input.is_none() && block.get("name").and_then(Value::as_str) == Some(TOOL_NAME) =>
            {
                tool_input = block.get("input");
            }
            _ => {}
        }
    }
    let prose = texts.concat();
    let mut reasoning_parts: Vec<&str> = thinking.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    let text = match tool_input {
        Some(input) => {
            // Text beside a forced tool call is commentary ("Here are the findings"): keep
            // it, but not in the answer, which must be the JSON alone.
            if !prose.trim().is_empty() {
                reasoning_parts.push(prose.trim());
            }
            serde_json::to_string(input).expect("a JSON value serializes")
        }
        None => prose.clone(),
    };
    let reasoning = (!reasoning_parts.is_empty()).then(|| reasoning_parts.join("\n\n"));

    let finish = match wire.stop_reason.as_deref() {
        Some("end_turn" | "tool_use" | "stop_sequence") => FinishReason::Stop,
        Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
        Some("refusal") => FinishReason::Filtered,
        Some(other) => FinishReason::Other(other.to_string()),
        None => FinishReason::Unknown,
    };
    Ok(Completion {
        text,
        reasoning,
        usage: chat::usage(wire.usage.as_ref(), |u| u.input_tokens, |u| u.output_tokens),
        finish,
        model: wire.model,
    })
}

/// The typed parts of an Anthropic error body:
/// `{"type":"error","error":{"type":…,"message":…,"details":{"error_code":…}}}`.
#[derive(Debug, Default)]
struct ErrorInfo {
    kind: Option<String>,
    message: Option<String>,
    error_code: Option<String>,
}

impl ErrorInfo {
    fn from_error(error: Option<&Value>) -> Self {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        match error {
            Some(e) => ErrorInfo {
                kind: s(e.get("type")),
                message: s(e.get("message")),
                error_code: s(e.get("details").and_then(|d| d.get("error_code"))),
            },
            None => ErrorInfo::default(),
        }
    }

    fn from_body(body: &str) -> Self {
        let value: Option<Value> = serde_json::from_str(body.trim()).ok();
        Self::from_error(value.as_ref().and_then(|v| v.get("error")))
    }
}

/// The status Anthropic documents for each error type, to classify an error that came
/// with some other status (inside a 200, or behind a proxy that rewrote it).
fn status_of_error_type(kind: &str) -> Option<u16> {
    Some(match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "conflict_error" => 409,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "api_error" => 500,
        "overloaded_error" => 529,
        _ => return None,
    })
}

/// Classifies a non-2xx answer: [`http::error_from_status`] gets most of it right
/// (401/403 Auth, 404 NotFound, 402 Quota, 413 and "prompt is too long" ContextOverflow,
/// 429 RateLimited or, with `enforced_spend_limit_reached`, Quota, 5xx and 529 Server).
/// Corrected here where Anthropic's typed error says more:
/// - "input length and `max_tokens` exceed context limit" → ContextOverflow;
/// - a 400 about the workspace's own usage/spend limit → QuotaExhausted;
/// - `rate_limit_error` is a rate limit even if its text mentions credit or billing,
///   unless `error_code` says the spend limit was reached;
/// - `permission_error` says the key lacks permission rather than being wrong.
fn error_response(status: u16, retry_after: Option<Duration>, body: &str, key_hint: Option<&str>) -> ProviderError {
    let info = ErrorInfo::from_body(body);
    let mut err = http::error_from_status(status, retry_after, body, key_hint);
    let message = info.message.as_deref().unwrap_or("").to_lowercase();
    let kind = info.kind.as_deref();
    let spend_limit = info.error_code.as_deref() == Some("enforced_spend_limit_reached");
    let retry_after = retry_after.or_else(|| http::retry_delay_in_body(body));

    if spend_limit || kind == Some("billing_error") {
        if err.kind != ErrorKind::QuotaExhausted {
            http::reclassify(
                &mut err,
                body,
                ErrorKind::QuotaExhausted,
                format!(
                    "the Anthropic spend limit or credit is used up ({status}): raise the limit or add credit in the \
                     Anthropic Console; retrying will not help"
                ),
                None,
            );
        }
    } else if message.contains("exceed context limit") {
        http::reclassify(
            &mut err,
            body,
            ErrorKind::ContextOverflow,
            format!(
                "the prompt plus max_output_tokens do not fit the model's context window ({status}): lower \
                 max_output_tokens or split the file"
            ),
            None,
        );
    } else if status == 400 && (message.contains("usage limit") || message.contains("spend limit")) {
        http::reclassify(
            &mut err,
            body,
            ErrorKind::QuotaExhausted,
            format!(
                "the API usage limit set for this Anthropic workspace was reached ({status}): raise it in the \
                 Anthropic Console; retrying will not help until it resets"
            ),
            None,
        );
    } else if kind == Some("rate_limit_error") && err.kind != ErrorKind::RateLimited {
        http::reclassify(
            &mut err,
            body,
            ErrorKind::RateLimited,
            format!(
                "rate limited ({status}){}; lower max_concurrency if this keeps happening",
                match retry_after {
                    Some(d) => format!(": the server asked to wait {:.1} s", d.as_secs_f64()),
                    None => String::new(),
                }
            ),
            retry_after,
        );
    } else if kind == Some("permission_error") {
        let whose = match key_hint {
            Some(var) => format!("the API key from ${var}"),
            None => "the API key".to_string(),
        };
        http::reclassify(
            &mut err,
            body,
            ErrorKind::Auth,
            format!(
                "{whose} is not allowed to make this request ({status}): check the key's workspace and its access to \
                 this model"
            ),
            None,
        );
    }
    err
}

/// An `{"type":"error",…}` body that came with a 2xx status: classified as the status
/// its `error.type` documents, with the real status kept.
fn error_in_ok_body(answer: &Answer<'_>, error: Option<&Value>) -> ProviderError {
    let info = ErrorInfo::from_error(error);
    let as_status = info.kind.as_deref().and_then(status_of_error_type).unwrap_or(500);
    answer.reported_error(error_response, as_status)
}

#[cfg(test)]
mod tests;
