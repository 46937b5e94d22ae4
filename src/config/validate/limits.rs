//! The keys that say how hard a provider is driven and how its answers count: counts,
//! timeouts, sizes, prices and weights, each with its default and its bounds.

use toml::Spanned;

use super::Table;
use crate::config::error::{ConfigError, Span};

/// Requests one provider has in flight at once, unless `max_concurrency` says more.
const DEFAULT_MAX_CONCURRENCY: u32 = 1;
/// Attempts per request, the first included, unless `max_attempts` says otherwise.
const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// How long one request may take, unless `timeout_secs` says otherwise: a local model
/// on a laptop can need minutes for one file.
const DEFAULT_TIMEOUT_SECS: u64 = 600;
/// The highest sampling temperature the APIs accept.
const MAX_TEMPERATURE: f32 = 2.0;
/// The smallest context window a provider may declare: the system prompt with its finding
/// schema alone is about a thousand tokens.
const MIN_CONTEXT_TOKENS: u64 = 1024;
/// The output limit asked for unless `max_output_tokens` says otherwise.
const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 4096;
/// How much a provider's vote counts unless `weight` says otherwise.
const DEFAULT_WEIGHT: f64 = 1.0;

/// `max_concurrency`: at least 1.
pub(super) fn max_concurrency(t: &Table, value: &Option<Spanned<u32>>) -> Result<usize, ConfigError> {
    Ok(positive(t, value, DEFAULT_MAX_CONCURRENCY, "max_concurrency")? as usize)
}

/// `max_attempts`: at least 1 (the first attempt counts).
pub(super) fn max_attempts(t: &Table, value: &Option<Spanned<u32>>) -> Result<u32, ConfigError> {
    positive(t, value, DEFAULT_MAX_ATTEMPTS, "max_attempts")
}

/// A count that must be at least 1.
fn positive(t: &Table, value: &Option<Spanned<u32>>, default: u32, key: &str) -> Result<u32, ConfigError> {
    match value {
        Some(v) if *v.get_ref() == 0 => Err(t.error(v.span(), format!("{} must be at least 1", t.key(key)))),
        Some(v) => Ok(*v.get_ref()),
        None => Ok(default),
    }
}

/// `timeout_secs`: at least one second.
pub(super) fn timeout_secs(t: &Table, value: &Option<Spanned<u64>>) -> Result<u64, ConfigError> {
    match value {
        Some(s) if *s.get_ref() == 0 => Err(t.error(s.span(), format!("{} must be at least 1", t.key("timeout_secs")))),
        Some(s) => Ok(*s.get_ref()),
        None => Ok(DEFAULT_TIMEOUT_SECS),
    }
}

/// `temperature`: within what the APIs accept; 0 (the most repeatable answers) by default.
pub(super) fn temperature(t: &Table, value: &Option<Spanned<f32>>) -> Result<f32, ConfigError> {
    match value {
        Some(v) if !(0.0..=MAX_TEMPERATURE).contains(v.get_ref()) => Err(t.error(
            v.span(),
            format!("{} must be between 0 and {MAX_TEMPERATURE}", t.key("temperature")),
        )),
        Some(v) => Ok(*v.get_ref()),
        None => Ok(0.0),
    }
}

/// `max_response_bytes`: at least one byte.
pub(super) fn max_response_bytes(t: &Table, value: &Option<Spanned<u64>>) -> Result<u64, ConfigError> {
    match value {
        Some(m) if *m.get_ref() == 0 => Err(t.error(
            m.span(),
            format!("{} must be at least 1 (bytes)", t.key("max_response_bytes")),
        )),
        Some(m) => Ok(*m.get_ref()),
        None => Ok(providers::DEFAULT_MAX_RESPONSE_BYTES),
    }
}

/// `price_input_per_mtok`, `price_output_per_mtok`: US dollars, 0 or more.
pub(super) fn price(t: &Table, value: &Option<Spanned<f64>>, key: &str) -> Result<Option<f64>, ConfigError> {
    match value {
        Some(p) if !(p.get_ref().is_finite() && *p.get_ref() >= 0.0) => Err(t.error(
            p.span(),
            format!("{} must be a price in US dollars, 0 or more", t.key(key)),
        )),
        Some(p) => Ok(Some(*p.get_ref())),
        None => Ok(None),
    }
}

/// `context_tokens`: at least [`MIN_CONTEXT_TOKENS`].
pub(super) fn context_tokens(t: &Table, value: &Option<Spanned<u64>>) -> Result<Option<u64>, ConfigError> {
    match value {
        Some(c) if *c.get_ref() < MIN_CONTEXT_TOKENS => Err(t.error(
            c.span(),
            format!(
                "{} must be at least {MIN_CONTEXT_TOKENS} tokens",
                t.key("context_tokens")
            ),
        )),
        Some(c) => Ok(Some(*c.get_ref())),
        None => Ok(None),
    }
}

/// `max_output_tokens`: at least 1. The field carries no line of its own, so the error
/// points at `kind`.
pub(super) fn max_output_tokens(t: &Table, value: Option<u32>, kind_span: &Span) -> Result<u32, ConfigError> {
    let max_output_tokens = value.unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS);
    if max_output_tokens == 0 {
        return Err(t.error(
            kind_span.clone(),
            format!("{} must be at least 1", t.key("max_output_tokens")),
        ));
    }
    Ok(max_output_tokens)
}

/// Tokens of related code a request carries unless `related_tokens` says otherwise:
/// room for a few definitions and callers.
const DEFAULT_RELATED_TOKENS: u64 = 2000;
/// Fewer would not hold one excerpt with its heading.
const MIN_RELATED_TOKENS: u64 = 100;

/// `related_tokens`: at least [`MIN_RELATED_TOKENS`].
pub(super) fn related_tokens(t: &Table, value: &Option<Spanned<u64>>) -> Result<u64, ConfigError> {
    match value {
        Some(r) if *r.get_ref() < MIN_RELATED_TOKENS => Err(t.error(
            r.span(),
            format!(
                "{} must be at least {MIN_RELATED_TOKENS} tokens",
                t.key("related_tokens")
            ),
        )),
        Some(r) => Ok(*r.get_ref()),
        None => Ok(DEFAULT_RELATED_TOKENS),
    }
}

/// `weight`: a number of at least 0.
pub(super) fn weight(t: &Table, value: &Option<Spanned<f64>>) -> Result<f64, ConfigError> {
    match value {
        Some(w) if !(w.get_ref().is_finite() && *w.get_ref() >= 0.0) => {
            Err(t.error(w.span(), format!("{} must be a number of at least 0", t.key("weight"))))
        }
        Some(w) => Ok(*w.get_ref()),
        None => Ok(DEFAULT_WEIGHT),
    }
}
