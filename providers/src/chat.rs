//! The one skeleton every HTTP chat API shares: a provider is a translation (its wire
//! format) over one transport.
//!
//! This module exists so that sending, key handling and error hygiene are written once:
//! each API (OpenAI-compatible, Anthropic, Gemini) implements the private [`Wire`] trait
//! with only what differs (where a chat request goes, how the key travels, the body, the
//! answer's shape), and [`ChatApi`] is the one [`Provider`] over any of them. It sends
//! through [`crate::http`] (no redirects, bounded bodies), scrubs the key from every
//! error and, when a server refuses a request that carried no key, says how to set one.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::auth::{self, ApiKey};
use crate::{discovery, http};
use crate::{Completion, FinishReason, ModelInfo, Provider, ProviderError, Request};

/// Where one model lives and how to reach it: what the settings of every API share.
#[derive(Clone)]
pub struct Endpoint {
    /// The API root. Trailing slashes are ignored; each API's settings say what is
    /// appended to reach its chat route.
    pub base_url: String,
    /// The model name the server knows (`qwen/qwen3-coder-30b`, `claude-sonnet-4-5`, …).
    pub model: String,
    /// The key, sent in the API's own header when present (and not empty). Never
    /// printed: [`fmt::Debug`] redacts it and errors have it scrubbed.
    pub api_key: Option<String>,
    /// The *name* of the environment variable the key came from, to name it in errors.
    pub api_key_env: Option<String>,
    /// Time allowed for one whole request (connect, prefill, generate, read).
    pub timeout: Duration,
    /// The most bytes of one answer's body read; a larger answer is refused (see
    /// [`crate::DEFAULT_MAX_RESPONSE_BYTES`]).
    pub max_response_bytes: u64,
}

impl Endpoint {
    pub(crate) fn api_key(&self) -> ApiKey<'_> {
        ApiKey::new(self.api_key.as_deref(), self.api_key_env.as_deref())
    }

    /// Starts the `Debug` output of a settings struct called `name` with this endpoint's
    /// fields, flat and the key redacted; the caller adds the API's own fields.
    pub(crate) fn debug_struct<'a, 'b: 'a>(
        &self,
        f: &'a mut fmt::Formatter<'b>,
        name: &str,
    ) -> fmt::DebugStruct<'a, 'b> {
        let mut out = auth::debug_settings(
            f,
            name,
            &self.base_url,
            &self.model,
            self.api_key.as_deref(),
            self.api_key_env.as_deref(),
            self.timeout,
        );
        out.field("max_response_bytes", &self.max_response_bytes);
        out
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.debug_struct(f, "Endpoint").finish()
    }
}

/// Settings of an API whose one option is how it asks for JSON (Anthropic, Gemini).
#[derive(Clone)]
pub struct OutputSettings<O> {
    /// Where the model lives; the API's settings alias says how `base_url` is read and
    /// where the key goes.
    pub endpoint: Endpoint,
    /// How to ask for JSON output.
    pub structured_output: O,
}

impl<O> AsRef<Endpoint> for OutputSettings<O> {
    fn as_ref(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl<O: fmt::Debug> fmt::Debug for OutputSettings<O>
where
    Self: Wire,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.endpoint
            .debug_struct(f, Self::API.settings)
            .field("structured_output", &self.structured_output)
            .finish()
    }
}

/// Where an API wants the key.
#[derive(Debug, Clone, Copy)]
pub enum KeyHeader {
    /// `Authorization: Bearer …`.
    Bearer,
    /// A header of its own carrying the bare key.
    Named(&'static str),
}

/// The error for a non-2xx answer: status, `Retry-After`, body, and the key's variable
/// to name in 401/403 messages.
pub type ErrorFn = fn(u16, Option<Duration>, &str, Option<&str>) -> ProviderError;

/// A 2xx answer's JSON turned into a [`Completion`] or a [`ProviderError`].
pub type ReadFn = fn(&Answer<'_>, Value) -> Result<Completion, ProviderError>;

/// One captured chat answer, and the key's variable to name in 401/403 messages.
#[derive(Clone, Copy)]
pub struct Answer<'a> {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: &'a str,
    pub key_hint: Option<&'a str>,
}

impl Answer<'_> {
    /// A [`crate::ErrorKind::BadResponse`] for this answer, saying `message`.
    pub fn bad(&self, message: String) -> ProviderError {
        http::bad_response(self.status, self.body, message)
    }

    /// The error a 2xx answer carried, classified by `error` as if it had come with
    /// `as_status`, and saying it came with this answer's status.
    pub fn reported_error(&self, error: ErrorFn, as_status: u16) -> ProviderError {
        let err = error(as_status, self.retry_after, self.body, self.key_hint);
        http::reported_with_ok_status(self.status, err)
    }
}

/// The token counts a server reported in its usage object `wire` (absent when it sent
/// none), read by the `input` and `output` getters.
pub fn usage<U>(wire: Option<&U>, input: fn(&U) -> Option<u64>, output: fn(&U) -> Option<u64>) -> crate::Usage {
    crate::Usage {
        input_tokens: wire.and_then(input),
        output_tokens: wire.and_then(output),
    }
}

/// The error object of a bare JSON array answer (how Gemini's OpenAI-compatible endpoint
/// wraps errors), if it is one.
pub fn array_error(value: &Value) -> Option<&Value> {
    value.as_array()?.iter().find_map(|item| item.get("error"))
}

/// Turns one captured chat answer of API `W` into a [`Completion`] or a
/// [`ProviderError`]. Pure: a non-2xx answer is classified by the API's error reader, a
/// body that is not JSON is [`crate::ErrorKind::BadResponse`] naming what was expected,
/// and the rest is the API's to read.
pub fn parse<W: Wire>(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    key_hint: Option<&str>,
) -> Result<Completion, ProviderError> {
    if !(200..300).contains(&status) {
        return Err((W::API.error)(status, retry_after, body, key_hint));
    }
    let value = http::json_body(status, body, W::API.expects)?;
    let answer = Answer {
        status,
        retry_after,
        body,
        key_hint,
    };
    let completion = (W::API.read)(&answer, value)?;
    let claims_complete = matches!(completion.finish, FinishReason::Stop | FinishReason::Unknown);
    if completion.text.trim().is_empty() && claims_complete {
        let empty = &W::API.empty;
        let why = match &completion.reasoning {
            Some(r) => format!(
                "only {} came back ({} characters){}",
                empty.thinking,
                r.chars().count(),
                empty.after_thinking
            ),
            None => empty.without_text.to_string(),
        };
        return Err(answer.bad(format!("the model returned an empty answer ({status}): {why}")));
    }
    Ok(completion)
}

/// The facts that name and guard one API.
pub struct Api {
    /// The provider's type name, shown by `Debug`.
    pub provider: &'static str,
    /// The settings' type name, shown by `Debug`.
    pub settings: &'static str,
    /// How messages name the server ("the server", "the Anthropic API").
    pub server: &'static str,
    /// A header every request carries (Anthropic's API version).
    pub fixed_header: Option<(&'static str, &'static str)>,
    /// The variable the key usually lives in, suggested when no `api_key_env` is set.
    pub usual_key_env: Option<&'static str>,
    pub key_header: KeyHeader,
    /// What a chat answer is, for the message when a body is not JSON.
    pub expects: &'static str,
    pub error: ErrorFn,
    pub read: ReadFn,
    pub empty: EmptyAnswer,
}

/// What to say when an answer claims to be complete but has no text.
pub struct EmptyAnswer {
    /// What the API calls the reasoning that may have come back instead ("reasoning").
    pub thinking: &'static str,
    /// What follows "only {thinking} came back (N characters)": the likely cause and fix.
    pub after_thinking: &'static str,
    /// The cause and fix when nothing at all came back.
    pub without_text: &'static str,
}

/// What one API family does its own way, implemented by that API's settings type.
/// Public only inside this private module: callers name the aliases
/// (`OpenAiCompatible`, …), never the trait.
pub trait Wire: AsRef<Endpoint> + Send + Sync {
    const API: Api;

    /// The full URL a chat request goes to (it never carries the key).
    fn chat_url(&self) -> String;

    /// The JSON body of a chat request for `req`.
    fn build_body(&self, req: &Request) -> Value;

    /// The (unauthorised) request that lists the server's models, given the chat URL.
    fn models_request(client: &reqwest::Client, chat_url: &str) -> reqwest::RequestBuilder;

    /// The context window the configured model runs with, where the server says.
    fn context_window<'a>(&'a self, _client: &'a reqwest::Client, _chat_url: &'a str) -> BoxFuture<'a, Option<u64>> {
        Box::pin(async { None })
    }
}

/// A model behind one chat API, `W` being that API's settings.
pub struct ChatApi<W> {
    settings: W,
    client: reqwest::Client,
    url: String,
}

impl<W: Wire + fmt::Debug> fmt::Debug for ChatApi<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        auth::debug_provider(f, W::API.provider, &self.url, &self.settings)
    }
}

impl<W: Wire> ChatApi<W> {
    /// `client` is shared between providers and should come from [`http::client`], which
    /// follows no redirects (a client that does would send the key wherever a server
    /// points); the per-request timeout comes from the settings' endpoint.
    pub fn new(settings: W, client: reqwest::Client) -> Self {
        let url = settings.chat_url();
        ChatApi { settings, client, url }
    }

    pub fn settings(&self) -> &W {
        &self.settings
    }

    /// The full URL chat requests go to (it never carries the key).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The JSON body sent for `req`.
    pub fn build_body(&self, req: &Request) -> Value {
        self.settings.build_body(req)
    }

    pub(crate) fn api_key(&self) -> ApiKey<'_> {
        self.settings.as_ref().api_key()
    }

    /// `request` with the API's fixed header and the key, if one is sent, where the API
    /// expects it.
    fn authorized(&self, mut request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some((name, value)) = W::API.fixed_header {
            request = request.header(name, value);
        }
        match (self.api_key().key(), W::API.key_header) {
            (Some(key), KeyHeader::Bearer) => request.bearer_auth(key),
            (Some(key), KeyHeader::Named(name)) => request.header(name, key),
            (None, _) => request,
        }
    }

    async fn complete_inner(&self, req: &Request) -> Result<Completion, ProviderError> {
        let endpoint = self.settings.as_ref();
        let body = self.build_body(req);
        let request = self.authorized(self.client.post(&self.url));
        let limit = http::BodyLimit::answer(endpoint.max_response_bytes);
        let raw = http::send_json(request, &body, endpoint.timeout, limit).await?;
        let key = self.api_key();
        parse::<W>(raw.status, raw.retry_after, &raw.body, key.hint())
            .map_err(|err| key.explain_missing(err, W::API.server, &self.url, &raw, W::API.usual_key_env))
    }
}

impl<W: Wire> Provider for ChatApi<W> {
    fn complete<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move { self.complete_inner(request).await.map_err(|e| self.api_key().scrub(e)) })
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>> {
        Box::pin(async move {
            let request = self.authorized(W::models_request(&self.client, &self.url));
            let key = self.api_key();
            discovery::fetch_model_list(request, key.hint())
                .await
                .map_err(|e| key.scrub(e))
        })
    }

    fn context_window(&self) -> BoxFuture<'_, Option<u64>> {
        self.settings.context_window(&self.client, &self.url)
    }
}

/// Asserts that a provider built from `settings`, which hold `key`, shows neither the key
/// in its or its settings' `Debug` output nor in an error whose server echoed it back.
#[cfg(test)]
pub(crate) fn assert_key_kept_secret<W: Wire + fmt::Debug + Clone>(settings: W, key: &str) {
    let p = ChatApi::new(settings.clone(), reqwest::Client::new());
    let shown = format!("{p:?} {settings:?}");
    assert!(!shown.contains(key), "{shown}");
    assert!(shown.contains("<redacted>"));

    let mut e = ProviderError::new(crate::ErrorKind::Auth, format!("bad key {key}"));
    e.body_excerpt = Some(format!("{{\"key\":\"{key}\"}}"));
    let e = p.api_key().scrub(e);
    assert!(!e.message.contains(key) && !e.body_excerpt.unwrap().contains(key));
}
