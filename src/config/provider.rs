//! One `[providers.NAME]` table: the API it speaks, where it is, how it is driven.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

/// The API family a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Any OpenAI-compatible chat-completions server (OpenAI, LM Studio, Ollama, vLLM,
    /// llama.cpp, OpenRouter).
    Openai,
    /// Anthropic's native Messages API.
    Anthropic,
    /// Google Gemini's native `generateContent` API.
    Gemini,
    /// Answers from a recorded `responses.jsonl`: runs the pipeline with no model server.
    Replay,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Replay => "replay",
        }
    }
}

/// Whether secret-looking values are replaced by placeholders before code is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactMode {
    /// By the provider's host: redact unless it is this machine or a private network
    /// (loopback, RFC 1918, link-local, `localhost`, fc00::/7); `replay` never sends.
    #[default]
    Auto,
    /// Always redact, wherever the server is.
    Always,
    /// Never redact (the server is trusted with the secrets in the code).
    Never,
}

/// What a provider sees besides its file (`context`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextMode {
    /// The file (or part) alone.
    #[default]
    None,
    /// The file, then code from other files that bears on it (`crate::related`): the
    /// definitions it uses, its callers, where its fields are set, within `related_tokens`.
    Related,
}

/// How the answer is constrained to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutputMode {
    /// A JSON Schema the server enforces (OpenAI-compatible servers, Gemini).
    JsonSchema,
    /// Plain JSON mode, no schema (OpenAI-compatible servers; not LM Studio).
    JsonObject,
    /// A forced tool call whose input schema is the finding schema (Anthropic).
    Tool,
    /// Ask in the prompt only.
    None,
}

impl StructuredOutputMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StructuredOutputMode::JsonSchema => "json_schema",
            StructuredOutputMode::JsonObject => "json_object",
            StructuredOutputMode::Tool => "tool",
            StructuredOutputMode::None => "none",
        }
    }
}

/// Which request field carries the output limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenLimitFieldName {
    MaxTokens,
    MaxCompletionTokens,
}

impl TokenLimitFieldName {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenLimitFieldName::MaxTokens => "max_tokens",
            TokenLimitFieldName::MaxCompletionTokens => "max_completion_tokens",
        }
    }
}

/// A provider, validated, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    /// The table name: the provider's name in every report.
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: Option<String>,
    pub model: String,
    /// The environment variable holding the key (never the key itself).
    pub api_key_env: Option<String>,
    /// Providers serving the same model share a family and count as one voice.
    pub family: String,
    pub max_concurrency: usize,
    pub timeout_secs: u64,
    pub max_output_tokens: u32,
    pub temperature: f32,
    pub structured_output: StructuredOutputMode,
    pub token_limit_field: TokenLimitFieldName,
    /// Attempts per request, the first included, for retryable failures.
    pub max_attempts: u32,
    /// For `replay`: the recorded answers, resolved against the config file's folder.
    pub replay_file: Option<PathBuf>,
    /// US dollars per million input tokens, for cost figures.
    pub price_input_per_mtok: Option<f64>,
    /// US dollars per million output tokens.
    pub price_output_per_mtok: Option<f64>,
    /// When a price is the built-in one of the preset's model: the date it was checked.
    pub prices_checked: Option<String>,
    /// Extra top-level fields merged into every request body (OpenAI-compatible
    /// servers), e.g. OpenRouter's `provider.require_parameters`.
    pub extra_body: Option<serde_json::Value>,
    /// The preset the table named, if any.
    pub preset: Option<String>,
    /// At most this many requests in any minute (`None`: unlimited).
    pub requests_per_minute: Option<u32>,
    /// At most this many tokens (estimated input + expected output) in any minute.
    pub tokens_per_minute: Option<u64>,
    /// The model's context window; files that do not fit are split. `None`: ask the
    /// server (local servers tell), else send whole files.
    pub context_tokens: Option<u64>,
    /// How much this provider's vote counts in the consensus score (default 1).
    pub weight: f64,
    /// Whether related code from other files goes with each file (`context`).
    pub context: ContextMode,
    /// With `context = "related"`: the most tokens of related code in one request. Not
    /// `context_tokens`, which is the model's whole window: this is a share of it, taken
    /// from the room the file's code gets (so a file is cut smaller to make room).
    pub related_tokens: u64,
    /// The host the user explicitly allows a well-known vendor key to go to, other than
    /// the vendor's own (`OPENAI_API_KEY` and the like); always equal to the `base_url`'s host.
    pub send_key_to: Option<String>,
    /// The most bytes of one answer read; a larger answer fails the request.
    pub max_response_bytes: u64,
    /// Whether secrets in the code are redacted before it is sent (`redact`).
    pub redact: RedactMode,
    /// Whether the provider reviews files (`review = false`: it only judges, see `[judge]`).
    pub review: bool,
    /// Line of `api_key_env` in the file, to point at when its variable is missing.
    pub(super) api_key_env_line: Option<usize>,
}

/// One `[providers.NAME]` table as written (or a preset's fields).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProvider {
    pub(super) preset: Option<Spanned<String>>,
    pub(super) kind: Option<Spanned<ProviderKind>>,
    pub(super) base_url: Option<Spanned<String>>,
    pub(super) model: Option<Spanned<String>>,
    pub(super) api_key_env: Option<Spanned<String>>,
    pub(super) family: Option<String>,
    pub(super) max_concurrency: Option<Spanned<u32>>,
    pub(super) timeout_secs: Option<Spanned<u64>>,
    pub(super) max_output_tokens: Option<u32>,
    pub(super) temperature: Option<Spanned<f32>>,
    pub(super) structured_output: Option<StructuredOutputMode>,
    pub(super) token_limit_field: Option<TokenLimitFieldName>,
    pub(super) max_attempts: Option<Spanned<u32>>,
    pub(super) replay_file: Option<Spanned<String>>,
    pub(super) price_input_per_mtok: Option<Spanned<f64>>,
    pub(super) price_output_per_mtok: Option<Spanned<f64>>,
    pub(super) extra_body: Option<toml::Table>,
    pub(super) requests_per_minute: Option<u32>,
    pub(super) tokens_per_minute: Option<u64>,
    pub(super) context_tokens: Option<Spanned<u64>>,
    pub(super) weight: Option<Spanned<f64>>,
    pub(super) context: Option<ContextMode>,
    pub(super) related_tokens: Option<Spanned<u64>>,
    pub(super) send_key_to: Option<Spanned<String>>,
    pub(super) max_response_bytes: Option<Spanned<u64>>,
    pub(super) redact: Option<RedactMode>,
    pub(super) review: Option<bool>,
    /// Set from a preset's built-in prices (see `presets`), never by a table.
    #[serde(skip)]
    pub(super) prices_checked: Option<String>,
}
