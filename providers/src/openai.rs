//! The OpenAI-compatible chat-completions provider.
//!
//! One implementation serves OpenAI itself, LM Studio, Ollama's `/v1`, llama.cpp's
//! `llama-server`, vLLM, OpenRouter and Gemini's compat endpoint. The request body is
//! built with `async-openai`'s typed builders (so field names and shapes follow the
//! published API), then sent through Quorum's own transport ([`crate::http`]): the
//! crate's client would lose the HTTP status on non-OpenAI error bodies, retry behind our
//! back and drop `reasoning_content`. Responses are read leniently with local types,
//! because each server omits or adds different fields (see ARCHITECTURE.md §4).

use std::fmt;

use async_openai::types::chat::{
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage, CreateChatCompletionRequestArgs,
    ResponseFormat, ResponseFormatJsonSchema,
};
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;

use crate::chat::{self, Answer, Api, ChatApi, EmptyAnswer, Endpoint, KeyHeader, Wire};
use crate::{discovery, http};
use crate::{Completion, ErrorKind, FinishReason, ProviderError, Request};

/// The name given to the JSON Schema in `response_format.json_schema.name`.
const SCHEMA_NAME: &str = "review_findings";

/// How to reach one model on an OpenAI-compatible server.
#[derive(Clone)]
pub struct OpenAiSettings {
    /// `base_url` is the API root including `/v1`, e.g. `http://127.0.0.1:1234/v1`
    /// (`/chat/completions` is appended); the key is sent as `Authorization: Bearer …`.
    pub endpoint: Endpoint,
    /// Which field carries the output limit.
    pub token_limit_field: TokenLimitField,
    /// How to ask for JSON output.
    pub structured_output: StructuredOutput,
    /// Extra top-level fields merged into every request body, for server-specific
    /// options (OpenRouter's `provider.require_parameters`, llama.cpp's
    /// `chat_template_kwargs`, …). They never override the fields built above.
    pub extra_body: Option<Value>,
}

impl fmt::Debug for OpenAiSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.endpoint
            .debug_struct(f, "OpenAiSettings")
            .field("token_limit_field", &self.token_limit_field)
            .field("structured_output", &self.structured_output)
            .field("extra_body", &self.extra_body)
            .finish()
    }
}

/// The request field that caps generated tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenLimitField {
    /// `max_tokens`: what LM Studio, Ollama, llama.cpp, vLLM and OpenRouter read.
    #[default]
    MaxTokens,
    /// `max_completion_tokens`: what OpenAI proper wants (its reasoning models reject
    /// `max_tokens`). Ollama ignores it silently.
    MaxCompletionTokens,
}

/// How the answer is constrained to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StructuredOutput {
    /// `response_format: {"type":"json_schema", …, "strict": true}` (OpenAI, LM Studio,
    /// llama.cpp, vLLM, Ollama, OpenRouter, Gemini compat).
    #[default]
    JsonSchema,
    /// `response_format: {"type":"json_object"}`: plain JSON mode (LM Studio rejects it).
    JsonObject,
    /// No `response_format`: rely on the prompt alone.
    None,
}

/// A model behind an OpenAI-compatible `/chat/completions` route.
pub type OpenAiCompatible = ChatApi<OpenAiSettings>;

impl AsRef<Endpoint> for OpenAiSettings {
    fn as_ref(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Wire for OpenAiSettings {
    const API: Api = Api {
        provider: "OpenAiCompatible",
        settings: "OpenAiSettings",
        fixed_header: None,
        server: "the server",
        usual_key_env: None,
        key_header: KeyHeader::Bearer,
        expects: "an OpenAI-compatible API ending in /v1",
        error: http::error_from_status,
        read: read_answer,
        empty: EmptyAnswer {
            thinking: "reasoning",
            after_thinking:
                ": thinking may have used the whole output budget; raise max_output_tokens or turn thinking off",
            without_text: "the prompt may exceed the context length the model was loaded with (LM Studio answers an \
                  overflow this way), or the model failed; check the server's log",
        },
    };

    fn chat_url(&self) -> String {
        chat_url(&self.endpoint.base_url)
    }

    /// The JSON body for `req` (see ARCHITECTURE.md §4): model, system + user messages,
    /// temperature, seed (if any), `max_tokens` or `max_completion_tokens`, `stream:false`
    /// and, when `req.schema` is set and the settings allow, a `response_format`.
    fn build_body(&self, req: &Request) -> Value {
        let s = self;
        let mut args = CreateChatCompletionRequestArgs::default();
        args.model(s.endpoint.model.as_str())
            .messages([
                ChatCompletionRequestSystemMessage::from(req.system.as_str()).into(),
                ChatCompletionRequestUserMessage::from(req.user.as_str()).into(),
            ])
            .temperature(req.temperature)
            .stream(false);
        // `seed` is i64 on the wire type; a u64 beyond i64::MAX is patched in below.
        let seed = req.seed.map(|seed| (seed, i64::try_from(seed)));
        // OpenAI marks max_tokens and seed deprecated; every other server still reads them.
        #[allow(deprecated)]
        {
            match s.token_limit_field {
                TokenLimitField::MaxTokens => args.max_tokens(req.max_output_tokens),
                TokenLimitField::MaxCompletionTokens => args.max_completion_tokens(req.max_output_tokens),
            };
            if let Some((_, Ok(seed))) = seed {
                args.seed(seed);
            }
        }
        if let Some(schema) = &req.schema {
            match s.structured_output {
                StructuredOutput::JsonSchema => {
                    args.response_format(ResponseFormat::JsonSchema {
                        json_schema: ResponseFormatJsonSchema {
                            name: SCHEMA_NAME.into(),
                            description: None,
                            schema: schema.clone(),
                            strict: Some(true),
                        },
                    });
                }
                StructuredOutput::JsonObject => {
                    args.response_format(ResponseFormat::JsonObject);
                }
                StructuredOutput::None => {}
            }
        }
        // Every field of the builder has a default, so `build` cannot fail.
        let typed = args
            .build()
            .expect("CreateChatCompletionRequest fields all have defaults");
        let mut body = serde_json::to_value(&typed).expect("a chat request always serializes to JSON");
        if let Value::Object(map) = &mut body {
            // f32 → JSON goes through f64 and would send 0.2 as 0.20000000298023224.
            if let Some(t) = http::shortest_decimal(req.temperature) {
                map.insert("temperature".into(), t);
            }
            if let Some((seed, Err(_))) = seed {
                map.insert("seed".into(), Value::from(seed));
            }
            if let Some(Value::Object(extra)) = &s.extra_body {
                for (k, v) in extra {
                    map.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
        }
        body
    }

    /// `GET {base_url}/models`.
    fn models_request(client: &reqwest::Client, chat_url: &str) -> reqwest::RequestBuilder {
        client.get(http::endpoint(api_root(chat_url), &["models"]))
    }

    /// Local servers (plain `http://`) are asked on their own routes; hosted APIs do not say.
    fn context_window<'a>(&'a self, client: &'a reqwest::Client, chat_url: &'a str) -> BoxFuture<'a, Option<u64>> {
        Box::pin(async move {
            let root = api_root(chat_url);
            if !root.starts_with("http://") {
                return None;
            }
            let server_root = root.strip_suffix("/v1").unwrap_or(root);
            let key = self.endpoint.api_key();
            discovery::local_context_window(client, server_root, &self.endpoint.model, key.key()).await
        })
    }
}

/// The API root (`…/v1`) of a chat-completions URL.
fn api_root(chat_url: &str) -> &str {
    chat_url.strip_suffix("/chat/completions").unwrap_or(chat_url)
}

/// `base_url` without trailing slashes, plus the path segments `chat`, `completions` (unless
/// they are already there; see [`http::endpoint`]). A doubled slash matters: LM Studio
/// answers `/v1//chat/completions` with a 200 "Unexpected endpoint" error.
fn chat_url(base_url: &str) -> String {
    const CHAT: [&str; 2] = ["chat", "completions"];
    if http::path_segments(base_url).ends_with(&CHAT.map(String::from)) {
        http::endpoint(base_url, &[])
    } else {
        http::endpoint(base_url, &CHAT)
    }
}

// ---- Response parsing ---------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct WireResponse {
    #[serde(default, deserialize_with = "http::lenient")]
    choices: Option<Vec<WireChoice>>,
    #[serde(default, deserialize_with = "http::lenient")]
    usage: Option<WireUsage>,
    #[serde(default, deserialize_with = "http::lenient")]
    model: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct WireChoice {
    #[serde(default, deserialize_with = "http::lenient")]
    message: Option<WireMessage>,
    #[serde(default, deserialize_with = "http::lenient")]
    finish_reason: Option<String>,
    /// OpenRouter puts a mid-generation failure here (with `finish_reason: "error"`).
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct WireMessage {
    /// A string, `null`, or (rarely) an array of `{"type":"text","text":…}` parts.
    #[serde(default)]
    content: Option<Value>,
    #[serde(default, deserialize_with = "http::lenient")]
    reasoning_content: Option<String>,
    #[serde(default, deserialize_with = "http::lenient")]
    reasoning: Option<String>,
    #[serde(default, deserialize_with = "http::lenient")]
    refusal: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    #[serde(default, deserialize_with = "http::lenient")]
    prompt_tokens: Option<u64>,
    #[serde(default, deserialize_with = "http::lenient")]
    completion_tokens: Option<u64>,
}

fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.as_str().or_else(|| p.get("text").and_then(Value::as_str)))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// Turns one chat-completions answer into a [`Completion`] or a [`ProviderError`].
/// Pure: give it a captured status, `Retry-After` and body. `key_hint` is the name of the
/// key's environment variable, for 401/403 messages.
///
/// - non-2xx: classified by [`http::error_from_status`];
/// - 2xx with an error object instead of choices (LM Studio unknown route or overflow,
///   OpenRouter mid-generation failure with `finish_reason:"error"`): the matching error;
/// - body not JSON, or no choices: [`ErrorKind::BadResponse`];
/// - reasoning from `reasoning_content` / `reasoning`, else from a `<think>` block;
/// - a refusal gives [`FinishReason::Filtered`], with the refusal as `text` if there is
///   no other content;
/// - an empty answer with finish `stop` (or none) is an error (LM Studio's silent GGUF
///   overflow, or reasoning that ate the budget); with `length` it is returned, since the
///   caller treats `Length` as truncation anyway.
fn read_answer(answer: &Answer<'_>, value: Value) -> Result<Completion, ProviderError> {
    let status = answer.status;
    // A bare array is how Gemini's compat endpoint wraps errors.
    if let Some(error) = chat::array_error(&value) {
        return Err(error_in_ok_body(answer, Some(error)));
    }
    if value.is_array() {
        return Err(answer.bad(format!(
            "the server's answer ({status}) is a JSON array, not a chat completion"
        )));
    }
    let wire: WireResponse = serde_json::from_value(value)
        .map_err(|e| answer.bad(format!("the server's answer ({status}) is not a chat completion ({e})")))?;

    let choice = wire.choices.as_ref().and_then(|c| c.first());
    let Some(choice) = choice else {
        if wire.error.as_ref().is_some_and(|e| !e.is_null()) {
            return Err(error_in_ok_body(answer, wire.error.as_ref()));
        }
        return Err(answer.bad(format!("the server's answer ({status}) has no choices")));
    };
    if choice.finish_reason.as_deref() == Some("error") {
        let err = choice.error.as_ref().or(wire.error.as_ref());
        return Err(error_in_ok_body(answer, err));
    }

    let message = choice.message.as_ref();
    let raw_text = content_text(message.and_then(|m| m.content.as_ref()));
    let crate::Reasoned {
        answer: mut text,
        reasoning: think,
    } = crate::split_reasoning(&raw_text);
    let reasoning = non_empty(message.and_then(|m| m.reasoning_content.clone()))
        .or_else(|| non_empty(message.and_then(|m| m.reasoning.clone())))
        .or_else(|| non_empty(think));
    let refusal = non_empty(message.and_then(|m| m.refusal.clone()));

    let finish = match (&refusal, choice.finish_reason.as_deref()) {
        (Some(_), _) | (None, Some("content_filter")) => FinishReason::Filtered,
        (None, Some("stop")) => FinishReason::Stop,
        (None, Some("length")) => FinishReason::Length,
        (None, Some(other)) => FinishReason::Other(other.to_string()),
        (None, None) => FinishReason::Unknown,
    };
    if text.trim().is_empty() {
        if let Some(refusal) = refusal {
            text = refusal;
        }
    }
    Ok(Completion {
        text,
        reasoning,
        usage: chat::usage(wire.usage.as_ref(), |u| u.prompt_tokens, |u| u.completion_tokens),
        finish,
        model: wire.model,
    })
}

/// An error carried in a 2xx body. An integer `code` that looks like an HTTP status
/// (OpenRouter, llama.cpp) is classified as that status; otherwise the text decides:
/// overflow → ContextOverflow, out of credit → QuotaExhausted, LM Studio's "Unexpected
/// endpoint" → NotFound, anything else → Server (a failure mid-generation may pass).
fn error_in_ok_body(answer: &Answer<'_>, error: Option<&Value>) -> ProviderError {
    let Answer {
        status,
        retry_after,
        body,
        key_hint,
    } = *answer;
    let code = error.and_then(http::error_status_code);
    // The error object alone (it may sit inside `choices[0]`), in the shape the
    // classifiers read.
    let error_body = match error {
        Some(e) => serde_json::json!({ "error": e }).to_string(),
        None => body.to_string(),
    };
    let said = http::server_message(&error_body)
        .or_else(|| http::server_message(body))
        .unwrap_or_else(|| "no message".into());
    let err = match code {
        Some(code) => {
            let mut e = http::error_from_status(code, retry_after, &error_body, key_hint);
            e.body_excerpt = Some(http::body_excerpt(body));
            e
        }
        None => {
            let (kind, what) = if http::is_context_overflow(body) {
                (
                    ErrorKind::ContextOverflow,
                    "the prompt does not fit the model's context window: split the file, or give the model a \
                     larger context (LM Studio: load it with a larger context length)",
                )
            } else if http::is_quota_exhausted(body) {
                (
                    ErrorKind::QuotaExhausted,
                    "out of credit or quota: add credit or raise the limit",
                )
            } else if said.to_lowercase().contains("unexpected endpoint") {
                (
                    ErrorKind::NotFound,
                    "the server does not know this route: check `base_url` (it should end in /v1, with no \
                     trailing path)",
                )
            } else {
                (ErrorKind::Server, "the server reported an error instead of an answer")
            };
            ProviderError {
                kind,
                status: Some(status),
                retry_after: if kind.is_retryable() { retry_after } else { None },
                message: format!("{what}; the server said: {said}"),
                body_excerpt: Some(http::body_excerpt(body)),
            }
        }
    };
    http::reported_with_ok_status(status, err)
}

#[cfg(test)]
mod tests;
