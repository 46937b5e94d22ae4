//! Quorum's provider layer: one trait, one module per model API family.
//!
//! This crate exists so that everything that speaks HTTP to a model lives behind one
//! small, testable seam. It knows nothing of findings, files or reports: a [`Request`]
//! (a system prompt, a user prompt and an optional JSON Schema) goes in, and a
//! [`Completion`] (answer text, reasoning kept apart, token usage, finish reason) or a
//! typed [`ProviderError`] comes out. Retrying is the caller's job: every error says
//! whether it is worth retrying and how long the server asked us to wait.

use std::time::Duration;

use futures::future::BoxFuture;

mod anthropic;
mod auth;
mod chat;
mod discovery;
mod gemini;
mod http;
mod model_name;
mod openai;
mod reasoning;
mod text;

pub use anthropic::{Anthropic, AnthropicOutput, AnthropicSettings};
pub use chat::{ChatApi, Endpoint};
pub use discovery::LIST_MAX_BYTES;
pub use gemini::{Gemini, GeminiOutput, GeminiSettings};
pub use http::{client, Destination, Reach};
pub use model_name::same_model;
pub use openai::{OpenAiCompatible, OpenAiSettings, StructuredOutput, TokenLimitField};
pub use reasoning::{split_reasoning, Reasoned};
pub use text::excerpt;

/// One chat request, independent of any API's wire format.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// A caller-chosen identifier for this request (used in logs, and by replaying
    /// providers to find a recorded answer). Never sent to a server.
    pub id: String,
    /// The system prompt.
    pub system: String,
    /// The user prompt.
    pub user: String,
    /// A JSON Schema the answer must match, when the provider can enforce one.
    pub schema: Option<serde_json::Value>,
    /// Upper bound on generated tokens (reasoning included, where the API counts it).
    pub max_output_tokens: u32,
    pub temperature: f32,
    pub seed: Option<u64>,
}

/// Why generation stopped, normalised across APIs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model finished its answer.
    Stop,
    /// The output limit cut the answer: its JSON must be treated as incomplete.
    Length,
    /// A safety filter or refusal replaced the answer.
    Filtered,
    /// Anything else the server said, verbatim.
    Other(String),
    /// The server did not say.
    Unknown,
}

/// Tokens the server says it used. `None` where the server did not report a figure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The answer, with any reasoning the server separated (or that sat in a leading
    /// `<think>` block) removed.
    pub text: String,
    /// The model's reasoning, where the server returned it apart from the answer.
    pub reasoning: Option<String>,
    pub usage: Usage,
    pub finish: FinishReason,
    /// The model the server says answered (servers such as LM Studio may serve a
    /// different one than was asked for).
    pub model: Option<String>,
}

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The key was missing, wrong or lacks permission (401/403).
    Auth,
    /// The model (or route) does not exist on this server (404).
    NotFound,
    /// Too many requests for now: retry after a while (429).
    RateLimited,
    /// Out of credit or quota: retrying will not help until a person acts.
    QuotaExhausted,
    /// The prompt does not fit the model's context window.
    ContextOverflow,
    /// The server failed or is overloaded (5xx, 529).
    Server,
    /// No answer within the time allowed.
    Timeout,
    /// The server could not be reached at all.
    Connect,
    /// The server rejected the request as malformed (other 4xx).
    InvalidRequest,
    /// The server answered with a redirect (3xx), which is never followed (it would carry
    /// the key and the code elsewhere): `base_url` must change, so no request to this
    /// provider can succeed.
    Redirected,
    /// The answer was not what the API documents.
    BadResponse,
}

impl ErrorKind {
    /// Whether trying the same request again later may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Connect
        )
    }
}

/// A failed request, with everything needed to decide what to do next.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// How long the server asked us to wait before retrying.
    pub retry_after: Option<Duration>,
    /// A one-line explanation that says what to do, never containing a key.
    pub message: String,
    /// The start of the response body, for diagnosis.
    pub body_excerpt: Option<String>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            status: None,
            retry_after: None,
            message: message.into(),
            body_excerpt: None,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

/// A model a server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// The name to put in `model` (Gemini's `models/` prefix removed).
    pub id: String,
    /// The context window in tokens, where the listing says.
    pub context_tokens: Option<u64>,
}

/// A model behind some API. Implementations translate a [`Request`] into their wire
/// format, send it once (no retries), and translate the answer back.
pub trait Provider: Send + Sync {
    /// The models the server offers. A provider that cannot list them says so with
    /// [`ErrorKind::InvalidRequest`].
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>> {
        Box::pin(async {
            Err(ProviderError::new(
                ErrorKind::InvalidRequest,
                "this provider cannot list models",
            ))
        })
    }

    /// The context window the configured model runs with, where the server tells it
    /// (LM Studio, Ollama and llama.cpp do, on routes of their own).
    fn context_window(&self) -> BoxFuture<'_, Option<u64>> {
        Box::pin(async { None })
    }

    /// Sends one request and waits for the whole answer.
    fn complete<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Completion, ProviderError>>;
}

/// The default per-request timeout when none is configured: local servers may need
/// minutes to load a model and prefill a long prompt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The default limit on one chat answer's body (4 MiB), when `max_response_bytes` is not
/// configured. An answer is JSON around at most `max_output_tokens` of text (a few bytes
/// a token, some of it reasoning), so even a 100 000-token answer fits with room to
/// spare; anything larger is a server misbehaving, and reading it all would let it fill
/// memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

#[cfg(test)]
mod tests;
