//! One `[providers.NAME]` table, validated: one function per key, each saying what the
//! key must be and pointing its error at the key's line (or, for a value a preset gave,
//! at the table's `preset = …` line). The keys are checked in a fixed order, so a table
//! with several mistakes always reports the same one first. The keys with a number
//! (counts, timeouts, sizes, prices, weights) are checked in `limits`.

use std::path::{Path, PathBuf};

use toml::Spanned;

mod limits;

use limits::{
    context_tokens, max_attempts, max_concurrency, max_output_tokens, max_response_bytes, price, related_tokens,
    temperature, timeout_secs, weight,
};

use super::error::{ConfigError, Locator, Span};
use super::keys::{check_key_destination, check_key_variable};
use super::presets::{preset, PRESETS};
use super::provider::{ProviderConfig, ProviderKind, RawProvider, StructuredOutputMode, TokenLimitFieldName};

/// The longest provider name: it appears in every report, table and file name.
pub(super) const MAX_PROVIDER_NAME: usize = 64;

/// The longest `model` or `family`: each finding carries both, so a run folder holding a
/// longer one (planted: run.json is untrusted) would cost its length times the findings.
/// Real model names (`openrouter/anthropic/claude-3.5-sonnet:beta`) are far shorter.
pub(crate) const MAX_MODEL_NAME_CHARS: usize = 256;

/// A provider name is 1 to 64 ASCII letters, digits, `_`, `.` or `-`, starting with a
/// letter or digit: it is printed in tables, reports and errors, where anything else
/// could draw on the terminal or forge a line.
pub(crate) fn valid_provider_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= MAX_PROVIDER_NAME
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// The table being validated: its name, for messages, and where errors point.
struct Table<'a> {
    name: &'a str,
    loc: &'a Locator<'a>,
}

impl Table<'_> {
    /// `providers.NAME.key`, as every message names a key.
    fn key(&self, key: &str) -> String {
        format!("providers.{}.{key}", self.name)
    }

    fn error(&self, span: Span, message: String) -> ConfigError {
        self.loc.error(span, message)
    }

    /// A key the table's kind needs and neither the table nor its preset set: the error
    /// points at `kind`.
    fn missing(&self, kind_span: &Span, key: &str, what: &str) -> ConfigError {
        self.error(kind_span.clone(), format!("{} is missing: {what}", self.key(key)))
    }
}

pub(super) fn validate_provider(
    name: String,
    table: Spanned<RawProvider>,
    base_dir: &Path,
    loc: &Locator,
) -> Result<ProviderConfig, ConfigError> {
    let table_span = table.span();
    // First, so every message below may quote the name.
    if !valid_provider_name(&name) {
        return Err(loc.error(
            table_span,
            format!(
                "provider name {name:?} is not allowed: use 1 to {MAX_PROVIDER_NAME} letters, digits, '_', '.' or '-', \
                 starting with a letter or digit"
            ),
        ));
    }
    let t = Table { name: &name, loc };
    let mut p = table.into_inner();
    let preset_name = p.preset.as_ref().map(|s| s.get_ref().clone());
    if let Some(preset_field) = p.preset.clone() {
        p = p.with_preset(named_preset(&t, &preset_field)?, preset_field.span());
    }
    let Some(kind_field) = p.kind.clone() else {
        return Err(t.error(
            table_span,
            format!(
                "{} is missing: set kind = \"openai\" | \"anthropic\" | \"gemini\" | \"replay\", or preset = \"lmstudio\" (see `quorum providers list`)",
                t.key("kind")
            ),
        ));
    };
    let kind = *kind_field.get_ref();
    let kind_span = kind_field.span();
    let model = model(&t, &p.model, kind, &kind_span)?;
    let base_url = base_url(&t, &p.base_url, kind, &kind_span)?;
    let replay_file = replay_file(&t, &p.replay_file, kind, &kind_span, base_dir)?;
    let max_concurrency = max_concurrency(&t, &p.max_concurrency)?;
    let max_attempts = max_attempts(&t, &p.max_attempts)?;
    let timeout_secs = timeout_secs(&t, &p.timeout_secs)?;
    let temperature = temperature(&t, &p.temperature)?;
    if let Some(env) = &p.api_key_env {
        check_key_variable(&name, env, loc)?;
    }
    check_key_destination(&name, &p, base_url.as_deref(), loc)?;
    let max_response_bytes = max_response_bytes(&t, &p.max_response_bytes)?;
    let structured_output = p.structured_output.unwrap_or(match kind {
        ProviderKind::Anthropic => StructuredOutputMode::Tool,
        _ => StructuredOutputMode::JsonSchema,
    });
    check_structured_output(kind, structured_output)
        .map_err(|why| t.error(kind_span.clone(), format!("{}: {why}", t.key("structured_output"))))?;
    let price_input_per_mtok = price(&t, &p.price_input_per_mtok, "price_input_per_mtok")?;
    let price_output_per_mtok = price(&t, &p.price_output_per_mtok, "price_output_per_mtok")?;
    if p.extra_body.is_some() && kind != ProviderKind::Openai {
        return Err(t.error(
            kind_span,
            format!("{} is only for kind = \"openai\"", t.key("extra_body")),
        ));
    }
    let context_tokens = context_tokens(&t, &p.context_tokens)?;
    let max_output_tokens = max_output_tokens(&t, p.max_output_tokens, &kind_span)?;
    let weight = weight(&t, &p.weight)?;
    let related_tokens = related_tokens(&t, &p.related_tokens)?;
    let extra_body = p
        .extra_body
        .as_ref()
        .map(|t| serde_json::to_value(t).expect("TOML tables are JSON-representable"));
    let is_openai_proper = base_url.as_deref().is_some_and(|u| u.contains("api.openai.com"));
    let family = p
        .family
        .clone()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| model.clone());
    if family.chars().count() > MAX_MODEL_NAME_CHARS {
        return Err(t.error(
            kind_span.clone(),
            format!("{} is longer than {MAX_MODEL_NAME_CHARS} characters", t.key("family")),
        ));
    }
    Ok(ProviderConfig {
        family,
        kind,
        base_url,
        model,
        api_key_env: p.api_key_env.as_ref().map(|e| e.get_ref().clone()),
        api_key_env_line: p.api_key_env.as_ref().map(|e| loc.line(e.span())),
        max_concurrency,
        timeout_secs,
        max_output_tokens,
        temperature,
        structured_output,
        price_input_per_mtok,
        price_output_per_mtok,
        prices_checked: p.prices_checked.clone(),
        extra_body,
        preset: preset_name,
        weight,
        context: p.context.unwrap_or_default(),
        related_tokens,
        requests_per_minute: p.requests_per_minute.filter(|n| *n > 0),
        tokens_per_minute: p.tokens_per_minute.filter(|n| *n > 0),
        context_tokens,
        send_key_to: p.send_key_to.as_ref().map(|h| h.get_ref().trim().to_string()),
        max_response_bytes,
        token_limit_field: p.token_limit_field.unwrap_or(if is_openai_proper {
            TokenLimitFieldName::MaxCompletionTokens
        } else {
            TokenLimitFieldName::MaxTokens
        }),
        max_attempts,
        replay_file,
        redact: p.redact.unwrap_or_default(),
        review: p.review.unwrap_or(true),
        name,
    })
}

/// `preset`: the embedded preset it names.
fn named_preset(t: &Table, field: &Spanned<String>) -> Result<RawProvider, ConfigError> {
    preset(field.get_ref()).ok_or_else(|| {
        let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        t.error(
            field.span(),
            format!(
                "{}: no preset {:?}; presets: {}",
                t.key("preset"),
                field.get_ref(),
                names.join(", ")
            ),
        )
    })
}

/// `model`: not empty; a replay without one is named after its table.
fn model(
    t: &Table,
    model: &Option<Spanned<String>>,
    kind: ProviderKind,
    kind_span: &Span,
) -> Result<String, ConfigError> {
    match (model, kind) {
        (Some(m), _) if m.get_ref().trim().chars().count() > MAX_MODEL_NAME_CHARS => Err(t.error(
            m.span(),
            format!("{} is longer than {MAX_MODEL_NAME_CHARS} characters", t.key("model")),
        )),
        (Some(m), _) if !m.get_ref().trim().is_empty() => Ok(m.get_ref().trim().to_string()),
        (Some(m), _) => Err(t.error(m.span(), format!("{} must not be empty", t.key("model")))),
        (None, ProviderKind::Replay) => Ok(t.name.to_string()),
        (None, _) => Err(t.missing(
            kind_span,
            "model",
            "name the model the server should run, e.g. model = \"google/gemma-3-12b\"",
        )),
    }
}

/// `base_url`: an http(s) URL with a host the HTTP client reads as this parser does, and
/// nothing that would be written to run.json or would swallow the API path.
fn base_url(
    t: &Table,
    base_url: &Option<Spanned<String>>,
    kind: ProviderKind,
    kind_span: &Span,
) -> Result<Option<String>, ConfigError> {
    let u = match (base_url, kind) {
        (Some(u), _) => u,
        (None, ProviderKind::Replay) => return Ok(None),
        (None, _) => {
            return Err(t.missing(
                kind_span,
                "base_url",
                "e.g. base_url = \"http://127.0.0.1:1234/v1\" for LM Studio, or use a preset",
            ))
        }
    };
    let url = u.get_ref().trim().trim_end_matches('/').to_string();
    let authority = url
        .split_once("://")
        .map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
    if authority.contains('@') || url.contains('?') {
        return Err(t.error(
            u.span(),
            format!(
                "{} must not carry credentials or a query (they would be written to run.json); \
                 put the key in an environment variable named by api_key_env",
                t.key("base_url")
            ),
        ));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(t.error(
            u.span(),
            format!(
                "{} must start with http:// or https://, e.g. \"http://127.0.0.1:1234/v1\"",
                t.key("base_url")
            ),
        ));
    }
    // The key rules judge the host this parser finds; a URL it cannot read must not slip
    // past them.
    if providers::Destination::of(&url).is_none() {
        return Err(t.error(
            u.span(),
            format!(
                "{} is not a URL with a host, e.g. \"http://127.0.0.1:1234/v1\"",
                t.key("base_url")
            ),
        ));
    }
    // A fragment would swallow the API path Quorum appends, sending the request (and
    // any extra_body) to the base URL's own path on the server.
    if url.contains('#') {
        return Err(t.error(
            u.span(),
            format!(
                "{} must not contain a fragment (`#…`): Quorum appends the API path to it; \
                 remove the `#` and what follows",
                t.key("base_url")
            ),
        ));
    }
    Ok(Some(url))
}

/// `replay_file`: required by a replay, refused elsewhere; resolved against the
/// configuration file's folder.
fn replay_file(
    t: &Table,
    file: &Option<Spanned<String>>,
    kind: ProviderKind,
    kind_span: &Span,
    base_dir: &Path,
) -> Result<Option<PathBuf>, ConfigError> {
    match (file, kind) {
        (Some(f), ProviderKind::Replay) => Ok(Some(base_dir.join(f.get_ref()))),
        (Some(f), _) => Err(t.error(
            f.span(),
            format!("{} is only for kind = \"replay\"", t.key("replay_file")),
        )),
        (None, ProviderKind::Replay) => Err(t.missing(
            kind_span,
            "replay_file",
            "name the recorded responses.jsonl to answer from",
        )),
        (None, _) => Ok(None),
    }
}

/// Which structured-output modes each API family really supports.
fn check_structured_output(kind: ProviderKind, mode: StructuredOutputMode) -> Result<(), String> {
    use StructuredOutputMode as M;
    match (kind, mode) {
        (ProviderKind::Replay, _) | (_, M::None) => Ok(()),
        (ProviderKind::Openai, M::JsonSchema | M::JsonObject) => Ok(()),
        (ProviderKind::Anthropic, M::Tool) => Ok(()),
        (ProviderKind::Gemini, M::JsonSchema) => Ok(()),
        (ProviderKind::Openai, _) => Err("openai servers take json_schema, json_object or none".into()),
        (ProviderKind::Anthropic, _) => Err("anthropic takes tool (a forced tool call) or none".into()),
        (ProviderKind::Gemini, _) => Err("gemini takes json_schema or none".into()),
    }
}
