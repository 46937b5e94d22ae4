//! API keys: where a provider's key comes from (the environment variable it names, read
//! only when a review needs it) and which host it may go to. A configuration that
//! arrives with the code under review must not be able to send the user's keys to a
//! server of its choosing; these rules are what stops it.

use std::path::Path;

use toml::Spanned;

use super::error::{ConfigError, Locator};
use super::provider::{ProviderConfig, RawProvider};

impl ProviderConfig {
    /// The host this provider's requests, and its key, go to (as `base_url` names it,
    /// e.g. `api.openai.com` or `127.0.0.1`); `None` for a replay, which sends nothing.
    pub fn destination_host(&self) -> Option<String> {
        self.base_url
            .as_deref()
            .and_then(providers::Destination::of)
            .map(|d| d.host)
    }

    /// Reads this provider's API key from its environment variable. `Ok(None)` when the
    /// provider needs no key.
    pub fn api_key(&self, config_path: &Path) -> Result<Option<String>, ConfigError> {
        let Some(var) = &self.api_key_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(key) if !key.trim().is_empty() => Ok(Some(key.trim().to_string())),
            _ => Err(ConfigError {
                path: config_path.to_path_buf(),
                line: self.api_key_env_line,
                message: format!(
                    "providers.{}.api_key_env: the environment variable {var} is not set (or is empty); \
                     export it with the key, or remove api_key_env if the server needs none",
                    self.name
                ),
            }),
        }
    }
}

/// A well-known API-key variable and the one host its vendor serves the API from.
pub(super) struct VendorKey {
    pub(super) env: &'static str,
    pub(super) vendor: &'static str,
    pub(super) host: &'static str,
}

/// The variables hosted vendors tell users to keep their keys in, and each vendor's API
/// host. A key in one of these is that vendor's key, so it goes to no other host unless
/// the provider names that host in `send_key_to`: a configuration that arrives with the
/// code under review must not be able to point `OPENAI_API_KEY` at a server of its own.
pub(super) const VENDOR_KEYS: &[VendorKey] = &[
    VendorKey {
        env: "OPENAI_API_KEY",
        vendor: "OpenAI",
        host: "api.openai.com",
    },
    VendorKey {
        env: "ANTHROPIC_API_KEY",
        vendor: "Anthropic",
        host: "api.anthropic.com",
    },
    VendorKey {
        env: "GEMINI_API_KEY",
        vendor: "Google",
        host: "generativelanguage.googleapis.com",
    },
    VendorKey {
        env: "GOOGLE_API_KEY",
        vendor: "Google",
        host: "generativelanguage.googleapis.com",
    },
    VendorKey {
        env: "OPENROUTER_API_KEY",
        vendor: "OpenRouter",
        host: "openrouter.ai",
    },
];

/// Refuses a provider that would send its key where it does not belong: a `send_key_to`
/// that is not the `base_url`'s host, a vendor's key (see [`VENDOR_KEYS`]) to another
/// host without `send_key_to` naming it, or any key over plain `http://` to a host
/// outside this machine and its private network, where anyone on the way could read it.
/// A provider without `api_key_env` sends no key, so only the first rule applies.
pub(super) fn check_key_destination(
    name: &str,
    p: &RawProvider,
    base_url: Option<&str>,
    loc: &Locator,
) -> Result<(), ConfigError> {
    let destination = base_url.and_then(providers::Destination::of);
    let base_url_span = p.base_url.as_ref().map(Spanned::span);
    if let Some(to) = &p.send_key_to {
        let wanted = to.get_ref().trim();
        match &destination {
            Some(d) if d.host == wanted => {}
            Some(d) => {
                return Err(loc.error(
                    to.span(),
                    format!(
                        "providers.{name}.send_key_to is {wanted:?}, but base_url sends requests to {:?}: they must \
                         name the same host",
                        d.host
                    ),
                ))
            }
            None => {
                return Err(loc.error(
                    to.span(),
                    format!("providers.{name}.send_key_to is only for a provider with a base_url"),
                ))
            }
        }
    }
    let (Some(env), Some(d), Some(span)) = (&p.api_key_env, destination, base_url_span) else {
        return Ok(());
    };
    let var = env.get_ref();
    let host = &d.host;
    if let Some(vendor) = VENDOR_KEYS.iter().find(|v| v.env == var) {
        if *host != vendor.host && p.send_key_to.is_none() {
            return Err(loc.error(
                span,
                format!(
                    "providers.{name}: {var} is {}'s key, but base_url sends it to {host}; to send it there on \
                     purpose, add `send_key_to = \"{host}\"`",
                    vendor.vendor
                ),
            ));
        }
    }
    if d.scheme == "http" && !d.is_private_network() {
        return Err(loc.error(
            span,
            format!(
                "providers.{name}: base_url would send the key from ${var} over plain http:// to {host}, where anyone \
                 on the way can read it; use https:// (plain http:// is only for this machine and private network \
                 addresses)"
            ),
        ));
    }
    Ok(())
}

/// A key variable is named, never written: `api_key_env` holds the NAME of an
/// environment variable, and a value that looks like a key itself is refused.
pub(super) fn check_key_variable(name: &str, env: &Spanned<String>, loc: &Locator) -> Result<(), ConfigError> {
    let var = env.get_ref();
    if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(loc.error(
            env.span(),
            format!("providers.{name}.api_key_env must be the NAME of an environment variable (letters, digits, _), not a key"),
        ));
    }
    Ok(())
}
