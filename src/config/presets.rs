//! Presets: a provider table's defaults for a known server (`preset = "lmstudio"`),
//! embedded in the binary, and how a table's own values are laid over them; and the
//! built-in prices of the hosted presets' common models.

use std::collections::BTreeMap;

use serde::Deserialize;
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

/// Built-in prices of the hosted presets' common models, with the date they were checked.
const PRICES: &str = include_str!("../../config/presets/prices.toml");

/// `prices.toml`: US dollars per million tokens, `[input, output]`, by preset and model
/// (every table but `checked` is a preset's).
#[derive(Deserialize)]
struct PriceList {
    checked: String,
    #[serde(flatten)]
    presets: BTreeMap<String, BTreeMap<String, [f64; 2]>>,
}

/// A model's built-in prices, in US dollars per million tokens.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct BuiltInPrice {
    pub(super) input: f64,
    pub(super) output: f64,
    /// When they were checked against the vendor's pricing page.
    pub(super) checked: String,
}

/// The built-in price of `model` served through `preset`, if listed (a dated build of a
/// listed model is priced as the model: the providers crate's one rule of model names).
pub(super) fn built_in_price(preset: &str, model: &str) -> Option<BuiltInPrice> {
    let list: PriceList = toml::from_str(PRICES).expect("embedded prices are valid");
    let [input, output] = *list
        .presets
        .get(preset)?
        .iter()
        .find(|(listed, _)| providers::same_model(listed, model))?
        .1;
    Some(BuiltInPrice {
        input,
        output,
        checked: list.checked,
    })
}

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
        // A price the table (or the preset) sets wins over the built-in one.
        let built_in = self
            .preset
            .as_ref()
            .zip(self.model.as_ref().or(preset.model.as_ref()))
            .and_then(|(name, model)| built_in_price(name.get_ref(), model.get_ref()))
            .filter(|_| self.price_input_per_mtok.is_none() || self.price_output_per_mtok.is_none());
        let built_in_field = |value: f64| Some(Spanned::new(at.clone(), value));
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
            price_input_per_mtok: pick(self.price_input_per_mtok, preset.price_input_per_mtok, &at)
                .or_else(|| built_in.as_ref().and_then(|b| built_in_field(b.input))),
            price_output_per_mtok: pick(self.price_output_per_mtok, preset.price_output_per_mtok, &at)
                .or_else(|| built_in.as_ref().and_then(|b| built_in_field(b.output))),
            prices_checked: built_in.map(|b| b.checked),
            extra_body: merge_tables(preset.extra_body, self.extra_body),
            requests_per_minute: self.requests_per_minute.or(preset.requests_per_minute),
            tokens_per_minute: self.tokens_per_minute.or(preset.tokens_per_minute),
            context_tokens: pick(self.context_tokens, preset.context_tokens, &at),
            weight: self.weight,
            // What is sent with each file is the user's choice, not a preset's.
            context: self.context,
            related_tokens: self.related_tokens,
            // Never from a preset: naming the host is the user's own explicit choice.
            send_key_to: self.send_key_to,
            max_response_bytes: pick(self.max_response_bytes, preset.max_response_bytes, &at),
            redact: self.redact.or(preset.redact),
            review: self.review,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_price_is_for_a_preset_and_a_price() {
        let list: PriceList = toml::from_str(PRICES).unwrap();
        assert!(!list.presets.is_empty());
        for (name, models) in &list.presets {
            assert!(PRESETS.iter().any(|(n, _)| n == name), "{name} is no preset");
            for (model, [input, output]) in models {
                assert!(*input >= 0.0 && *output >= 0.0, "{name}.{model}");
            }
        }
    }

    #[test]
    fn a_model_and_its_dated_builds_have_its_price_and_no_other_model_does() {
        let mini = built_in_price("openai", "gpt-4.1-mini").unwrap();
        assert_eq!((mini.input, mini.output), (0.40, 1.60));
        assert_eq!(mini.checked, "2026-12-01");
        assert_eq!(built_in_price("openai", "gpt-4.1-mini-2025-04-14"), Some(mini));
        assert_eq!(built_in_price("openai", "gpt-4.1").map(|p| p.input), Some(2.00));
        let sonnet = built_in_price("anthropic", "claude-sonnet-4-20250514").unwrap();
        assert_eq!((sonnet.input, sonnet.output), (3.00, 15.00));
        // Another vendor's preset, a local server, an unlisted model: no price.
        assert_eq!(built_in_price("openrouter", "gpt-4.1-mini"), None);
        assert_eq!(built_in_price("ollama", "gpt-4.1-mini"), None);
        assert_eq!(built_in_price("openai", "gpt-4.1-mini-high"), None);
    }
}
