//! Presets: a provider table's defaults for a known server (`preset = "lmstudio"`),
//! embedded in the binary, and how a table's own values are laid over them.

use toml::Spanned;

use super::error::Span;
use super::provider::RawProvider;

/// The presets `preset = "NAME"` can name, embedded in the binary.
pub(super) const PRESETS: &[(&str, &str)] = &[
    ("lmstudio", include_str!("../../config/presets/lmstudio.toml")),
    ("ollama", include_str!("../../config/presets/ollama.toml")),
    ("llamacpp", include_str!("../../config/presets/llamacpp.toml")),
    ("vllm", include_str!("../../config/presets/vllm.toml")),
    ("openai", include_str!("../../config/presets/openai.toml")),
    ("openrouter", include_str!("../../config/presets/openrouter.toml")),
    ("anthropic", include_str!("../../config/presets/anthropic.toml")),
    ("gemini", include_str!("../../config/presets/gemini.toml")),
];

/// Reads an embedded preset.
pub(super) fn preset(name: &str) -> Option<RawProvider> {
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| toml::from_str(text).expect("embedded presets are valid"))
}

impl RawProvider {
    /// Fills what the table leaves out from `preset`. A preset's values take the span
    /// of the table's `preset = …` line, so errors about them point there.
    pub(super) fn with_preset(self, preset: RawProvider, at: Span) -> RawProvider {
        fn pick<T>(own: Option<Spanned<T>>, preset: Option<Spanned<T>>, at: &Span) -> Option<Spanned<T>> {
            own.or_else(|| preset.map(|v| Spanned::new(at.clone(), v.into_inner())))
        }
        RawProvider {
            preset: self.preset,
            kind: pick(self.kind, preset.kind, &at),
            base_url: pick(self.base_url, preset.base_url, &at),
            model: pick(self.model, preset.model, &at),
            api_key_env: pick(self.api_key_env, preset.api_key_env, &at),
            family: self.family.or(preset.family),
            max_concurrency: pick(self.max_concurrency, preset.max_concurrency, &at),
            timeout_secs: pick(self.timeout_secs, preset.timeout_secs, &at),
            max_output_tokens: self.max_output_tokens.or(preset.max_output_tokens),
            temperature: pick(self.temperature, preset.temperature, &at),
            structured_output: self.structured_output.or(preset.structured_output),
            token_limit_field: self.token_limit_field.or(preset.token_limit_field),
            max_attempts: pick(self.max_attempts, preset.max_attempts, &at),
            replay_file: pick(self.replay_file, preset.replay_file, &at),
            price_input_per_mtok: pick(self.price_input_per_mtok, preset.price_input_per_mtok, &at),
            price_output_per_mtok: pick(self.price_output_per_mtok, preset.price_output_per_mtok, &at),
            extra_body: merge_tables(preset.extra_body, self.extra_body),
            requests_per_minute: self.requests_per_minute.or(preset.requests_per_minute),
            tokens_per_minute: self.tokens_per_minute.or(preset.tokens_per_minute),
            context_tokens: pick(self.context_tokens, preset.context_tokens, &at),
            weight: self.weight,
            // Never from a preset: naming the host is the user's own explicit choice.
            send_key_to: self.send_key_to,
            max_response_bytes: pick(self.max_response_bytes, preset.max_response_bytes, &at),
            redact: self.redact.or(preset.redact),
        }
    }
}

/// `own` over `base`, table by table: a user's `extra_body` adds to a preset's instead
/// of silently dropping what the preset needs (OpenRouter's `require_parameters`).
fn merge_tables(base: Option<toml::Table>, own: Option<toml::Table>) -> Option<toml::Table> {
    match (base, own) {
        (Some(mut base), Some(own)) => {
            for (key, value) in own {
                let merged = match (base.remove(&key), value) {
                    (Some(toml::Value::Table(b)), toml::Value::Table(o)) => {
                        toml::Value::Table(merge_tables(Some(b), Some(o)).unwrap_or_default())
                    }
                    (_, value) => value,
                };
                base.insert(key, merged);
            }
            Some(base)
        }
        (base, own) => own.or(base),
    }
}
