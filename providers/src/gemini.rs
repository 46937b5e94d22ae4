//! The native Google Gemini provider (`POST …/models/{model}:generateContent`).
//!
//! Gemini's own API differs from the OpenAI shape at every step (ARCHITECTURE.md §4): the
//! system prompt is `systemInstruction`, messages are `contents` of `parts`, settings sit
//! in `generationConfig`, JSON output is `responseMimeType` plus one of two schema slots
//! (standard JSON Schema, or an older OpenAPI subset that rejects unknown keywords), and
//! thinking arrives as parts flagged `thought`, counted against the output limit. Its
//! errors are Google RPC statuses: a bad key is a 400, a per-minute limit and a daily
//! quota are both 429 `RESOURCE_EXHAUSTED` (only the details tell them apart), and a
//! blocked prompt is a 200 with no candidates. This module translates both ways and sends
//! through the shared transport ([`crate::http`]). The key travels only in the
//! `x-goog-api-key` header, never in the URL, where proxies and logs would keep it.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::chat::{self, Answer, Api, ChatApi, EmptyAnswer, KeyHeader, OutputSettings, Wire};
use crate::http;
use crate::{Completion, ErrorKind, FinishReason, ProviderError, Request, Usage};

mod schema;

use schema::to_openapi_schema;

/// Where the Gemini API lives, version included.
const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";
/// The API version added to a `base_url` that names only a host.
const API_VERSION: &str = "v1beta";
/// How many models one `GET …/models` asks for (the API's maximum page).
const MODEL_PAGE_SIZE: u32 = 1000;

/// How to reach one Gemini model: `base_url` is the API root including its version, e.g.
/// [`DEFAULT_BASE_URL`] (a bare host gets `/v1beta`; empty means [`DEFAULT_BASE_URL`]);
/// `model` may carry the `models/` prefix; the key is sent as `x-goog-api-key`, never in
/// the URL.
pub type GeminiSettings = OutputSettings<GeminiOutput>;

/// How the answer is constrained to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeminiOutput {
    /// `responseMimeType: application/json` + `responseJsonSchema` (standard JSON
    /// Schema, sent as is; Gemini 2.5 and later).
    #[default]
    JsonSchema,
    /// `responseMimeType: application/json` + `responseSchema`: the schema translated to
    /// the OpenAPI 3.0 subset older models take (see [`to_openapi_schema`]).
    OpenApiSchema,
    /// Neither: rely on the prompt alone.
    None,
}

/// A Gemini model behind the native `generateContent` API.
pub type Gemini = ChatApi<GeminiSettings>;

impl Wire for GeminiSettings {
    const API: Api = Api {
        provider: "Gemini",
        settings: "GeminiSettings",
        fixed_header: None,
        server: "the Gemini API",
        usual_key_env: Some("GEMINI_API_KEY"),
        key_header: KeyHeader::Named("x-goog-api-key"),
        expects: "the Gemini API (e.g. https://generativelanguage.googleapis.com/v1beta)",
        error: error_response,
        read: read_answer,
        empty: EmptyAnswer {
            thinking: "thoughts",
            after_thinking: ": thinking may have used the whole output budget; raise max_output_tokens",
            without_text: "no text part; check the server's answer",
        },
    };

    /// The `generateContent` URL (it never carries the key).
    fn chat_url(&self) -> String {
        generate_url(&self.endpoint.base_url, &self.endpoint.model)
    }

    /// The JSON body for `req` (see ARCHITECTURE.md §4): `systemInstruction` (omitted when
    /// empty), one user turn in `contents`, and `generationConfig` with temperature,
    /// seed (if any), `maxOutputTokens` and, when `req.schema` is set and the settings
    /// allow, `responseMimeType` with `responseJsonSchema` or `responseSchema`.
    ///
    /// The API reads `seed` and `maxOutputTokens` as int32: a seed beyond `i32::MAX` is
    /// folded into range (deterministically, so runs stay reproducible) and a larger
    /// limit is capped.
    fn build_body(&self, req: &Request) -> Value {
        let mut config = Map::new();
        if let Some(t) = http::shortest_decimal(req.temperature) {
            config.insert("temperature".into(), t);
        }
        if let Some(seed) = req.seed {
            config.insert("seed".into(), json!(seed % (i32::MAX as u64 + 1)));
        }
        config.insert(
            "maxOutputTokens".into(),
            json!(req.max_output_tokens.min(i32::MAX as u32)),
        );
        if let Some(schema) = &req.schema {
            let slot = match self.structured_output {
                GeminiOutput::JsonSchema => Some(("responseJsonSchema", schema.clone())),
                GeminiOutput::OpenApiSchema => Some(("responseSchema", to_openapi_schema(schema))),
                GeminiOutput::None => None,
            };
            if let Some((field, schema)) = slot {
                config.insert("responseMimeType".into(), json!("application/json"));
                config.insert(field.into(), schema);
            }
        }
        let mut body = Map::new();
        if !req.system.is_empty() {
            body.insert("systemInstruction".into(), json!({"parts": [{"text": req.system}]}));
        }
        body.insert(
            "contents".into(),
            json!([{"role": "user", "parts": [{"text": req.user}]}]),
        );
        body.insert("generationConfig".into(), Value::Object(config));
        Value::Object(body)
    }

    /// `GET {base}/models` (entries carry `inputTokenLimit`); the key goes in a header.
    fn models_request(client: &reqwest::Client, chat_url: &str) -> reqwest::RequestBuilder {
        let base = chat_url.rsplit_once("/models/").map_or(chat_url, |(b, _)| b);
        client
            .get(http::endpoint(base, &["models"]))
            .query(&[("pageSize", MODEL_PAGE_SIZE)])
    }
}

/// `{base}/models/{model}:generateContent`, with `base` normalised (no trailing slash,
/// `/v1beta` added to a bare host, a trailing `/models` folded in) and `model` taking
/// `models/` only when it has no resource prefix of its own (`tunedModels/…` keeps its).
fn generate_url(base_url: &str, model: &str) -> String {
    let base = http::base_or(base_url, DEFAULT_BASE_URL);
    // Normalised first (no query, fragment or trailing slash), so the checks below see the path.
    let mut root = http::endpoint(base, &[]);
    if http::path_segments(&root).is_empty() {
        root = http::endpoint(&root, &[API_VERSION]);
    }
    if let Some(stripped) = root.strip_suffix("/models") {
        root = stripped.to_string();
    }
    let model = model.trim().trim_matches('/');
    let model = model.strip_suffix(":generateContent").unwrap_or(model);
    let resource = if model.contains('/') {
        format!("{model}:generateContent")
    } else {
        format!("models/{model}:generateContent")
    };
    http::endpoint(&root, &resource.split('/').collect::<Vec<_>>())
}

// ---- Response parsing ---------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse {
    #[serde(default, deserialize_with = "http::lenient")]
    candidates: Option<Vec<WireCandidate>>,
    #[serde(default, deserialize_with = "http::lenient")]
    prompt_feedback: Option<WirePromptFeedback>,
    #[serde(default, deserialize_with = "http::lenient")]
    usage_metadata: Option<WireUsage>,
    #[serde(default, deserialize_with = "http::lenient")]
    model_version: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCandidate {
    #[serde(default, deserialize_with = "http::lenient")]
    content: Option<WireContent>,
    #[serde(default, deserialize_with = "http::lenient")]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct WireContent {
    #[serde(default, deserialize_with = "http::lenient")]
    parts: Option<Vec<Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePromptFeedback {
    #[serde(default, deserialize_with = "http::lenient")]
    block_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireUsage {
    #[serde(default, deserialize_with = "http::lenient")]
    prompt_token_count: Option<u64>,
    #[serde(default, deserialize_with = "http::lenient")]
    candidates_token_count: Option<u64>,
    #[serde(default, deserialize_with = "http::lenient")]
    thoughts_token_count: Option<u64>,
}

/// Turns one `generateContent` answer into a [`Completion`] or a [`ProviderError`].
/// Pure: give it a captured status, `Retry-After` and body. `key_hint` is the name of the
/// key's environment variable, for key errors.
///
/// - non-2xx: classified by [`http::error_from_status`], corrected where Google's
///   statuses and details say more (see `error_response`);
/// - a 2xx `{"error":{…}}` body: the error its `code` names;
/// - body not JSON, or neither candidates nor a block reason: [`ErrorKind::BadResponse`];
/// - a prompt blocked before generation (no candidates, `promptFeedback.blockReason`):
///   a [`FinishReason::Filtered`] completion with empty text, like any other filtered
///   answer;
/// - parts flagged `thought` are the reasoning; the other parts' text, joined, is the
///   answer;
/// - `finishReason`: `STOP` → Stop; `MAX_TOKENS` → Length (often with no text at all,
///   when thinking used the budget); `SAFETY` / `RECITATION` / `BLOCKLIST` /
///   `PROHIBITED_CONTENT` / `SPII` → Filtered; anything else → Other;
/// - usage: `promptTokenCount` in, `candidatesTokenCount + thoughtsTokenCount` out
///   (thinking is billed and limited as output);
/// - an empty answer that claims to be complete is an error.
fn read_answer(answer: &Answer<'_>, value: Value) -> Result<Completion, ProviderError> {
    let status = answer.status;
    // The compat endpoint's error shape; the native one may use it behind some proxies.
    if let Some(error) = chat::array_error(&value) {
        return Err(error_in_ok_body(answer, error));
    }
    if !value.is_object() {
        return Err(answer.bad(format!(
            "the server's answer ({status}) is not a generateContent response"
        )));
    }
    let wire: WireResponse = serde_json::from_value(value).map_err(|e| {
        answer.bad(format!(
            "the server's answer ({status}) is not a generateContent response ({e})"
        ))
    })?;
    let usage = Usage {
        input_tokens: wire.usage_metadata.as_ref().and_then(|u| u.prompt_token_count),
        output_tokens: wire.usage_metadata.as_ref().and_then(|u| {
            match (u.candidates_token_count, u.thoughts_token_count) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            }
        }),
    };

    let Some(candidate) = wire.candidates.as_ref().and_then(|c| c.first()) else {
        if let Some(error) = wire.error.as_ref().filter(|e| e.is_object()) {
            return Err(error_in_ok_body(answer, error));
        }
        if wire
            .prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason.as_ref())
            .is_some()
        {
            // The prompt itself was blocked (safety, blocklist, …): no answer will come,
            // whatever the retry. Reported like any filtered answer.
            return Ok(Completion {
                text: String::new(),
                reasoning: None,
                usage,
                finish: FinishReason::Filtered,
                model: wire.model_version,
            });
        }
        return Err(answer.bad(format!(
            "the server's answer ({status}) has no candidates and no block reason"
        )));
    };

    let mut text = String::new();
    let mut thoughts = Vec::new();
    let parts = candidate
        .content
        .as_ref()
        .and_then(|c| c.parts.as_deref())
        .unwrap_or(&[]);
    for part in parts {
        let Some(t) = part.get("text").and_then(Value::as_str) else {
            continue;
        };
        if part.get("thought").and_then(Value::as_bool) == Some(true) {
            let t = t.trim();
            if !t.is_empty() {
                thoughts.push(t);
            }
        } else {
            text.push_str(t);
        }
    }
    let reasoning = (!thoughts.is_empty()).then(|| thoughts.join("\n\n"));

    let finish = match candidate.finish_reason.as_deref() {
        Some("STOP") => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some("SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII") => FinishReason::Filtered,
        Some(other) => FinishReason::Other(other.to_string()),
        None => FinishReason::Unknown,
    };
    Ok(Completion {
        text,
        reasoning,
        usage,
        finish,
        model: wire.model_version,
    })
}

/// What a Google RPC error body says beyond its message:
/// `{"error":{"code","message","status","details":[{"@type":…ErrorInfo,"reason"},
/// {"@type":…QuotaFailure,"violations":[{"quotaId","quotaValue"}]}, {…RetryInfo,"retryDelay"}]}}`.
#[derive(Debug, Default)]
struct GoogleError {
    status: Option<String>,
    reasons: Vec<String>,
    quota_ids: Vec<String>,
    quota_values: Vec<String>,
}

impl GoogleError {
    fn from_body(body: &str) -> Self {
        let value: Value = match serde_json::from_str(body.trim()) {
            Ok(v) => v,
            Err(_) => return GoogleError::default(),
        };
        // The compat endpoint (and some proxies) wrap the object in an array.
        let error = match &value {
            Value::Array(items) => items.iter().find_map(|i| i.get("error")),
            other => other.get("error"),
        };
        let Some(error) = error else {
            return GoogleError::default();
        };
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let mut info = GoogleError {
            status: s(error.get("status")),
            ..GoogleError::default()
        };
        for detail in error.get("details").and_then(Value::as_array).into_iter().flatten() {
            info.reasons.extend(s(detail.get("reason")));
            for violation in detail.get("violations").and_then(Value::as_array).into_iter().flatten() {
                info.quota_ids.extend(s(violation.get("quotaId")));
                // Usually a string ("50"), sometimes a number.
                match violation.get("quotaValue") {
                    Some(Value::String(v)) => info.quota_values.push(v.clone()),
                    Some(Value::Number(n)) => info.quota_values.push(n.to_string()),
                    _ => {}
                }
            }
        }
        info
    }

    /// A quota that will not come back within a backoff: a daily (or longer) limit, or a
    /// limit of zero (the model has no free tier).
    fn long_term_quota(&self) -> Option<String> {
        let long = self
            .quota_ids
            .iter()
            .find(|id| ["PerDay", "PerMonth", "PerYear"].iter().any(|p| id.contains(p)));
        if let Some(id) = long {
            return Some(format!("the quota {id} is used up"));
        }
        if self.quota_values.iter().any(|v| v == "0") {
            return Some("this model has no quota on this project's tier (limit 0)".into());
        }
        None
    }
}

/// Classifies a non-2xx answer: [`http::error_from_status`] gets most of it right (400
/// `API_KEY_INVALID` and 403 Auth, 404 NotFound, "input token count … exceeds"
/// ContextOverflow, 429 with `retryDelay` RateLimited and without one but with "billing"
/// Quota, 500/503/504 Server). Corrected here where Google's details say more:
/// - a 429 whose `QuotaFailure` names a daily (or longer) quota, or a limit of 0, is
///   QuotaExhausted even though Gemini attaches a `retryDelay` of seconds to it;
/// - `FAILED_PRECONDITION` (e.g. free tier unavailable in the region) is InvalidRequest,
///   though its text mentions billing;
/// - `DEADLINE_EXCEEDED` says the server's own deadline passed.
fn error_response(status: u16, retry_after: Option<Duration>, body: &str, key_hint: Option<&str>) -> ProviderError {
    let info = GoogleError::from_body(body);
    let mut err = http::error_from_status(status, retry_after, body, key_hint);
    let exhausted = status == 429 || info.status.as_deref() == Some("RESOURCE_EXHAUSTED");
    if let Some(what) = info.long_term_quota().filter(|_| exhausted) {
        let what = format!(
            "out of Gemini quota ({status}): {what}; it will not reset within a retry: wait for the reset, enable \
             billing or raise the limit in Google AI Studio"
        );
        http::reclassify(&mut err, body, ErrorKind::QuotaExhausted, what, None);
    } else if info.status.as_deref() == Some("FAILED_PRECONDITION") && err.kind != ErrorKind::Auth {
        let what = format!(
            "Gemini cannot serve this project as it is set up ({status} FAILED_PRECONDITION): the free tier may be \
             unavailable in your region; enabling billing in Google AI Studio usually fixes it"
        );
        http::reclassify(&mut err, body, ErrorKind::InvalidRequest, what, None);
    } else if info.status.as_deref() == Some("DEADLINE_EXCEEDED") && err.kind == ErrorKind::Server {
        let what = format!("Gemini gave up before finishing ({status} DEADLINE_EXCEEDED): retry, or send less input");
        let retry_after = err.retry_after;
        http::reclassify(&mut err, body, ErrorKind::Server, what, retry_after);
    } else if err.kind == ErrorKind::InvalidRequest && info.reasons.iter().any(|r| r.starts_with("API_KEY")) {
        // API_KEY_EXPIRED and the like, beyond the API_KEY_INVALID the shared code knows.
        let what = match key_hint {
            Some(var) => format!("the server rejected the API key from ${var} ({status}): check the key"),
            None => format!("the server refused the API key ({status})"),
        };
        http::reclassify(&mut err, body, ErrorKind::Auth, what, None);
    }
    err
}

/// An error object that came with a 2xx status: classified as the HTTP status its
/// `code` names (500 when it names none), with the real status kept.
fn error_in_ok_body(answer: &Answer<'_>, error: &Value) -> ProviderError {
    let code = http::error_status_code(error).unwrap_or(500);
    answer.reported_error(error_response, code)
}

#[cfg(test)]
mod tests;
