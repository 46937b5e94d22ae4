//! API-key handling shared by every provider.
//!
//! This module exists because the OpenAI-compatible, Anthropic and Gemini providers take a
//! key the same way (`api_key` and `api_key_env` in their settings) and must guard it by
//! the same rules: a blank key is no key; errors name the key's environment variable,
//! never the key; a key a server echoes back is scrubbed from errors; `Debug` output shows
//! only that a key is set; and a refusal when no key was sent says how to configure one.
//! Keeping these rules in one place means a fix reaches every provider. Only where the
//! key goes on the wire (`Authorization`, `x-api-key`, `x-goog-api-key`) differs, and that
//! stays in each provider's module.

use std::fmt;
use std::time::Duration;

use crate::http::{self, RawResponse};
use crate::{ErrorKind, ProviderError};

/// What stands in for a key in `Debug` output and in scrubbed errors.
const REDACTED: &str = "<redacted>";

/// Keys shorter than this are not scrubbed from errors: replacing every occurrence of a
/// string that short would garble the message and hide nothing worth hiding.
const MIN_SCRUBBED_LEN: usize = 4;

/// A provider's key as its settings configure it, borrowed from `api_key` and
/// `api_key_env`.
#[derive(Clone, Copy)]
pub(crate) struct ApiKey<'a> {
    /// The key, trimmed; `None` when absent or blank.
    key: Option<&'a str>,
    /// The *name* of the environment variable the key came from.
    env: Option<&'a str>,
}

impl<'a> ApiKey<'a> {
    pub(crate) fn new(api_key: Option<&'a str>, api_key_env: Option<&'a str>) -> Self {
        ApiKey {
            key: api_key.map(str::trim).filter(|k| !k.is_empty()),
            env: api_key_env,
        }
    }

    /// The key to send: trimmed, and `None` when it is absent or blank.
    pub(crate) fn key(self) -> Option<&'a str> {
        self.key
    }

    /// The variable to name when the server rejects the key (the `key_hint` of
    /// [`http::error_from_status`]): only when a key is actually sent.
    pub(crate) fn hint(self) -> Option<&'a str> {
        self.key.and(self.env)
    }

    /// Removes the key from an error's message and body excerpt, in case a server echoed
    /// it back.
    pub(crate) fn scrub(self, mut err: ProviderError) -> ProviderError {
        if let Some(key) = self.key.filter(|k| k.len() >= MIN_SCRUBBED_LEN) {
            err.message = err.message.replace(key, REDACTED);
            err.body_excerpt = err.body_excerpt.map(|b| b.replace(key, REDACTED));
        }
        err
    }

    /// When the server refused access ([`ErrorKind::Auth`]) and no key was sent, says so
    /// and how to fix it, instead of the generic refusal: the variable named by
    /// `api_key_env` is unset or empty, or no `api_key_env` is configured at all. `api`
    /// names the server in the message ("the server", "the Anthropic API"); `usual_env`
    /// is the variable the key usually lives in, suggested when none is configured. Any
    /// other error is returned as it is.
    pub(crate) fn explain_missing(
        self,
        mut err: ProviderError,
        api: &str,
        url: &str,
        raw: &RawResponse,
        usual_env: Option<&str>,
    ) -> ProviderError {
        if err.kind != ErrorKind::Auth || self.key.is_some() {
            return err;
        }
        let status = raw.status;
        let said = http::server_said(&raw.body);
        err.message = match self.env {
            Some(var) => format!(
                "{api} at {url} requires an API key ({status}) and none was sent: ${var} is not set or empty{said}"
            ),
            None => {
                let usually = usual_env.map(|var| format!(" (usually {var})")).unwrap_or_default();
                format!(
                    "{api} at {url} requires an API key ({status}) and none is configured: set `api_key_env` to the \
                     name of the environment variable that holds it{usually}{said}"
                )
            }
        };
        err
    }
}

/// Starts the `Debug` output of a provider's settings with the fields every provider's
/// settings have, in this order, the key shown only as `Some("<redacted>")`; the caller
/// adds its own fields and finishes.
pub(crate) fn debug_settings<'a, 'b: 'a>(
    f: &'a mut fmt::Formatter<'b>,
    name: &str,
    base_url: &str,
    model: &str,
    api_key: Option<&str>,
    api_key_env: Option<&str>,
    timeout: Duration,
) -> fmt::DebugStruct<'a, 'b> {
    let mut out = f.debug_struct(name);
    out.field("base_url", &base_url)
        .field("model", &model)
        .field("api_key", &api_key.map(|_| REDACTED))
        .field("api_key_env", &api_key_env)
        .field("timeout", &timeout);
    out
}

/// The `Debug` output of a provider: its URL (which never holds a key) and its settings
/// (whose `Debug` redacts the key), but not its HTTP client.
pub(crate) fn debug_provider(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    url: &str,
    settings: &dyn fmt::Debug,
) -> fmt::Result {
    f.debug_struct(name)
        .field("url", &url)
        .field("settings", settings)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            retry_after: None,
            body: body.into(),
        }
    }

    #[test]
    fn a_blank_key_is_no_key_and_a_key_is_trimmed() {
        assert_eq!(ApiKey::new(Some("  sk-1 \n"), None).key(), Some("sk-1"));
        assert_eq!(ApiKey::new(Some(" \t "), Some("K")).key(), None);
        assert_eq!(ApiKey::new(None, Some("K")).key(), None);
    }

    #[test]
    fn the_variable_is_named_only_when_a_key_is_sent() {
        assert_eq!(ApiKey::new(Some("sk-1"), Some("K")).hint(), Some("K"));
        assert_eq!(ApiKey::new(Some(""), Some("K")).hint(), None);
        assert_eq!(ApiKey::new(Some("sk-1"), None).hint(), None);
    }

    #[test]
    fn scrub_replaces_the_trimmed_key_but_not_a_very_short_one() {
        let mut e = ProviderError::new(ErrorKind::Auth, "bad key sk-12345");
        e.body_excerpt = Some("{\"key\":\"sk-12345\"}".into());
        let e = ApiKey::new(Some(" sk-12345 "), None).scrub(e);
        assert_eq!(e.message, "bad key <redacted>");
        assert_eq!(e.body_excerpt.as_deref(), Some("{\"key\":\"<redacted>\"}"));
        let e = ApiKey::new(Some("abc"), None).scrub(ProviderError::new(ErrorKind::Auth, "abc"));
        assert_eq!(e.message, "abc");
    }

    #[test]
    fn missing_key_names_the_unset_variable_or_says_how_to_configure_one() {
        let refused = || ProviderError::new(ErrorKind::Auth, "generic");
        let body = r#"{"error":{"message":"Missing key"}}"#;
        let e = ApiKey::new(None, Some("MY_KEY")).explain_missing(
            refused(),
            "the X API",
            "http://h/v1",
            &raw(401, body),
            None,
        );
        assert_eq!(
            e.message,
            "the X API at http://h/v1 requires an API key (401) and none was sent: $MY_KEY is not set or empty; the \
             server said: Missing key"
        );
        let e =
            ApiKey::new(Some(" "), None).explain_missing(refused(), "the server", "u", &raw(403, "{}"), Some("X_KEY"));
        assert_eq!(
            e.message,
            "the server at u requires an API key (403) and none is configured: set `api_key_env` to the name of the \
             environment variable that holds it (usually X_KEY)"
        );
        let e = ApiKey::new(None, None).explain_missing(refused(), "the server", "u", &raw(401, ""), None);
        assert!(e.message.ends_with("that holds it"), "{}", e.message);
    }

    #[test]
    fn a_sent_key_or_another_error_is_left_alone() {
        let explain = |key: Option<&str>, err: ProviderError| {
            ApiKey::new(key, Some("K")).explain_missing(err, "the server", "u", &raw(401, ""), None)
        };
        let e = explain(Some("sk-1"), ProviderError::new(ErrorKind::Auth, "rejected"));
        assert_eq!(e.message, "rejected");
        let e = explain(None, ProviderError::new(ErrorKind::Server, "down"));
        assert_eq!(e.message, "down");
    }

    #[test]
    fn debug_shows_that_a_key_is_set_but_not_the_key() {
        struct S;
        impl fmt::Debug for S {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                debug_settings(f, "S", "http://h", "m", Some("sk-1"), Some("K"), Duration::from_secs(1))
                    .field("extra", &1)
                    .finish()
            }
        }
        assert_eq!(
            format!("{S:?}"),
            r#"S { base_url: "http://h", model: "m", api_key: Some("<redacted>"), api_key_env: Some("K"), timeout: 1s, extra: 1 }"#
        );
    }
}
