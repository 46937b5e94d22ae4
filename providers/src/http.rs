//! Shared HTTP transport for every provider.
//!
//! This module exists so that the OpenAI-compatible, Anthropic and Gemini providers send
//! requests and read failures the same way. Every server family words its errors
//! differently (OpenAI's `{"error":{"message"}}`, LM Studio's `{"error":"…"}`,
//! llama.cpp's integer `code`, Gemini's array, vLLM's flat object), and several put the
//! real meaning in the body rather than the status (an out-of-credit 429, a context
//! overflow behind a plain 400). Keeping status, `Retry-After` and the raw body together
//! here, and classifying them in one place, gives callers one [`ProviderError`] vocabulary
//! to decide on: retry, wait, shrink the input, or stop and tell a person.
//!
//! It also holds the small pieces of JSON handling every provider's wire format needs
//! alike: reading a field leniently, writing a temperature as written, and reporting a
//! body that is not what the API documents.
//!
//! Nothing here retries: one call, one request. No function here ever puts an API key
//! into a message (URLs in messages lose their query string, where Gemini puts its key).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

use crate::{ErrorKind, ProviderError};

/// How many characters of a body to keep in [`ProviderError::body_excerpt`].
const EXCERPT_CHARS: usize = 300;
/// How many characters of a server's own error message to quote in a message.
const SERVER_MESSAGE_CHARS: usize = 400;

/// A response read in full: what the classifiers need, and nothing tied to a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    pub status: u16,
    /// The wait the server asked for (`retry-after-ms` or `Retry-After`), if any.
    pub retry_after: Option<Duration>,
    /// The body as text (invalid UTF-8 replaced, never rejected).
    pub body: String,
}

impl RawResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A client shared by all requests to one or more providers. It has a connect timeout
/// but no overall timeout: each request sets its own with [`send_json`], because local
/// servers may need minutes to load a model while a hosted API should answer sooner.
///
/// It follows no redirects: a 307 or 308 would re-send the request, key headers and the
/// code under review included, to whatever address the server names. [`send`] turns a
/// 3xx answer into an error that says so instead.
///
/// It uses the proxies the environment names (see [`env_proxies`]), except for this machine
/// and private networks, which it always reaches directly.
pub fn client(connect_timeout: Duration) -> reqwest::Client {
    // Setting proxies turns off reqwest's own reading of the environment, which would also
    // proxy 127.0.0.1: a local server's key and the code under review would leave the
    // machine through a proxy the user set up for the internet.
    let builder = env_proxies()
        .into_iter()
        .fold(reqwest::Client::builder().no_proxy(), reqwest::ClientBuilder::proxy);
    builder
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("quorum/", env!("CARGO_PKG_VERSION")))
        .build()
        // Only fails when the TLS backend cannot initialise, which no caller can repair.
        .expect("the HTTP client (rustls) could not be initialised")
}

/// Every host and network [`Reach::Loopback`] and [`Reach::Private`] cover, in `NO_PROXY`
/// syntax (IPv4-mapped IPv6 forms too), plus the unspecified addresses, which connect to
/// this machine. Requests there never go through a proxy, whatever `NO_PROXY` says.
const NEVER_PROXIED: &str = "localhost, 127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, \
     192.168.0.0/16, 169.254.0.0/16, fc00::/7, fe80::/10, ::ffff:127.0.0.0/104, ::ffff:10.0.0.0/104, \
     ::ffff:172.16.0.0/108, ::ffff:192.168.0.0/112, ::ffff:169.254.0.0/112, 0.0.0.0, ::";

/// The proxies the environment names, read as reqwest reads them by default (`HTTP_PROXY`,
/// `HTTPS_PROXY`, falling back to `ALL_PROXY`; upper case first; `NO_PROXY` honoured;
/// nothing when `REQUEST_METHOD` says this runs as CGI, where `HTTP_PROXY` may come from a
/// request header), but never for a destination in [`NEVER_PROXIED`]. Corporate networks
/// need the proxy for hosted APIs; a proxy for this machine or the local network would
/// only receive the requests, `Authorization` headers included, meant for a local server.
fn env_proxies() -> Vec<reqwest::Proxy> {
    if std::env::var_os("REQUEST_METHOD").is_some() {
        return Vec::new();
    }
    let first_set = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| std::env::var(name).ok())
            .filter(|value| !value.trim().is_empty())
    };
    let all = first_set(&["ALL_PROXY", "all_proxy"]);
    let http = first_set(&["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone());
    let https = first_set(&["HTTPS_PROXY", "https_proxy"]).or(all);
    let user_no_proxy = first_set(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let no_proxy = || reqwest::NoProxy::from_string(&format!("{user_no_proxy},{NEVER_PROXIED}"));
    // A value reqwest cannot read is skipped, as reqwest's own reading skips it.
    let http = http.and_then(|url| reqwest::Proxy::http(url).ok());
    let https = https.and_then(|url| reqwest::Proxy::https(url).ok());
    [http, https]
        .into_iter()
        .flatten()
        .map(|proxy| proxy.no_proxy(no_proxy()))
        .collect()
}

/// The wait a server asked for: `retry-after-ms` (milliseconds, possibly fractional, as
/// OpenAI sends), else `Retry-After` as seconds (integer or decimal) or as an HTTP date
/// (relative to now; a date in the past means "now", i.e. zero).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if let Some(d) = non_negative_secs(ms / 1000.0) {
            return Some(d);
        }
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return non_negative_secs(secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn non_negative_secs(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0)
        .then(|| Duration::try_from_secs_f64(secs).ok())
        .flatten()
}

/// A wait found in the body rather than the headers: Gemini's `google.rpc.RetryInfo`
/// detail, `"retryDelay": "37s"` (also inside the compat endpoint's array body).
pub fn retry_delay_in_body(body: &str) -> Option<Duration> {
    fn find(v: &Value) -> Option<Duration> {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(s)) = map.get("retryDelay") {
                    let secs = s.trim().strip_suffix('s')?.parse::<f64>().ok()?;
                    return non_negative_secs(secs);
                }
                map.values().find_map(find)
            }
            Value::Array(items) => items.iter().find_map(find),
            _ => None,
        }
    }
    // Cheap pre-check: most bodies have no such field and need no parse.
    if !body.contains("retryDelay") {
        return None;
    }
    find(&serde_json::from_str(body).ok()?)
}

/// The start of a body for diagnostics: whitespace runs collapsed to one space, cut at
/// about 300 characters (on a character boundary), with `…` when something was cut.
pub fn excerpt(body: &str) -> String {
    truncate_collapsed(body, EXCERPT_CHARS)
}

fn truncate_collapsed(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars >= max_chars {
                out.push('…');
                return out;
            }
            out.push(c);
            chars += 1;
        }
    }
    out
}

/// `scheme://host[:port]/path` of a URL: no user info, query or fragment, so that a key
/// passed as `?key=` (Gemini) or `user:pass@` never reaches a message.
pub fn display_url(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

/// `base_url` with `segments` appended to its path, one path segment each (a `/`, `?`,
/// `#` or `%` inside a segment is percent-encoded, and `.`/`..` are dropped), after its
/// trailing slashes. A query or fragment in `base_url` is dropped: string concatenation
/// would have put the API path after a `#` (where the server never sees it) and sent the
/// request, and whatever body a config adds, to the base URL's own path instead.
///
/// A `base_url` that is not a URL is returned as it is written, with the segments joined
/// by `/`, so that sending fails with the parser's own error.
pub fn endpoint(base_url: &str, segments: &[&str]) -> String {
    let base = base_url.trim();
    let Ok(mut url) = reqwest::Url::parse(base) else {
        return std::iter::once(base.trim_end_matches('/'))
            .chain(segments.iter().copied())
            .collect::<Vec<_>>()
            .join("/");
    };
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url.to_string()
}

/// The path segments of `url` (parsed as [`endpoint`] does), without empty ones; empty for
/// a URL that does not parse. For checking what a base URL already ends with.
pub fn path_segments(url: &str) -> Vec<String> {
    reqwest::Url::parse(url.trim())
        .ok()
        .and_then(|u| {
            u.path_segments()
                .map(|segments| segments.filter(|s| !s.is_empty()).map(str::to_string).collect())
        })
        .unwrap_or_default()
}

/// Where a base URL sends requests (and keys), read by the same parser reqwest uses, so
/// that a check on it is a check on the real destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// `http` or `https`.
    pub scheme: String,
    /// The host as a request names it: a lower-case domain (IDNs in punycode), an IPv4
    /// address, or an IPv6 address in brackets (`[::1]`).
    pub host: String,
    /// The port connected to (the scheme's default when the URL names none).
    pub port: Option<u16>,
}

/// How far a request to a host travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// This machine: exactly `localhost` (RFC 6761: every resolver answers loopback), 127.0.0.0/8,
    /// `::1`. Not `localhost.`: glibc does not map that spelling from /etc/hosts but asks DNS,
    /// which may answer any address.
    Loopback,
    /// A private network: 10/8, 172.16/12, 192.168/16, link-local (169.254/16,
    /// fe80::/10) and IPv6 unique-local (fc00::/7) addresses.
    Private,
    /// Anywhere: any other address, and any other name (it may resolve anywhere).
    Public,
}

impl Destination {
    /// The destination of `url`; `None` when it is not a URL with a host.
    pub fn of(url: &str) -> Option<Destination> {
        let url = reqwest::Url::parse(url.trim()).ok()?;
        Some(Destination {
            scheme: url.scheme().to_string(),
            host: url.host_str().filter(|h| !h.is_empty())?.to_string(),
            port: url.port_or_known_default(),
        })
    }

    /// `scheme://host:port`: where requests go, for people to read (not terminal-safe
    /// by itself: a host may hold any character the URL parser allows).
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// How far requests to this host travel.
    pub fn reach(&self) -> Reach {
        use std::net::IpAddr;
        if self.host.eq_ignore_ascii_case("localhost") {
            return Reach::Loopback;
        }
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        let (loopback, private) = match bare.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => (ip.is_loopback(), ip.is_private() || ip.is_link_local()),
            Ok(IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
                Some(v4) => (v4.is_loopback(), v4.is_private() || v4.is_link_local()),
                None => (ip.is_loopback(), ip.is_unique_local() || ip.is_unicast_link_local()),
            },
            Err(_) => (false, false),
        };
        match (loopback, private) {
            (true, _) => Reach::Loopback,
            (false, true) => Reach::Private,
            (false, false) => Reach::Public,
        }
    }

    /// Whether the host is this machine.
    pub fn is_loopback(&self) -> bool {
        self.reach() == Reach::Loopback
    }

    /// Whether the host is this machine or an address on a private network, where
    /// traffic does not cross the internet.
    pub fn is_private_network(&self) -> bool {
        self.reach() <= Reach::Private
    }
}

/// How much of an answer [`send`] reads, and what a refusal of a larger one advises.
///
/// Every body is read into memory before it is parsed, so without a limit a server could
/// make Quorum hold gigabytes (or stream forever until the timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit {
    /// The most bytes of body read; a larger body is refused.
    pub max_bytes: u64,
    /// What the refusal adds after the size: which setting to change, or what to check.
    advice: &'static str,
}

impl BodyLimit {
    /// For a chat answer: the provider's `max_response_bytes`.
    pub const fn answer(max_bytes: u64) -> Self {
        BodyLimit {
            max_bytes,
            advice: " (max_response_bytes); raise it if the model really writes that much",
        }
    }

    /// For a model list or a server's status route, whose limit is not configurable.
    pub const fn probe(max_bytes: u64) -> Self {
        BodyLimit {
            max_bytes,
            advice: ", more than a model list or a server's status needs: check that `base_url` points at the API",
        }
    }

    fn exceeded(self, url: &str, status: u16) -> ProviderError {
        let mut err = ProviderError::new(
            ErrorKind::BadResponse,
            format!(
                "the answer from {url} is larger than {} bytes{}",
                self.max_bytes, self.advice
            ),
        );
        err.status = Some(status);
        err
    }
}

/// Sends `request` with `body` as JSON, allowing `timeout` for the whole exchange
/// (connect, send, wait, read the body), and reads the answer, up to `limit`, whatever
/// its status. Only transport failures, redirects and oversized bodies are errors here;
/// turn a non-2xx [`RawResponse`] into an error with [`error_from_status`].
///
/// Failures: no answer in time → [`ErrorKind::Timeout`]; server unreachable or the
/// connection broke → [`ErrorKind::Connect`]; a request that could not even be built
/// (e.g. a header value with a newline) → [`ErrorKind::InvalidRequest`]; a 3xx answer →
/// [`ErrorKind::Redirected`] naming where it pointed (never followed); a body larger
/// than `limit` → [`ErrorKind::BadResponse`]. None of these is retryable.
pub async fn send_json(
    request: reqwest::RequestBuilder,
    body: &Value,
    timeout: Duration,
    limit: BodyLimit,
) -> Result<RawResponse, ProviderError> {
    send(request.json(body), timeout, limit).await
}

/// Like [`send_json`], for a request that carries no body (or has one set already).
pub async fn send(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    limit: BodyLimit,
) -> Result<RawResponse, ProviderError> {
    let (client, built) = request.timeout(timeout).build_split();
    let built = built.map_err(|e| {
        ProviderError::new(
            ErrorKind::InvalidRequest,
            format!(
                "the request could not be built ({}): check `base_url` and the API key's characters",
                cause(&e)
            ),
        )
    })?;
    let request_url = built.url().clone();
    let url = display_url(&request_url);
    let mut response = client
        .execute(built)
        .await
        .map_err(|e| transport_error(&e, &url, timeout, false))?;
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        return Err(redirect_error(&response, &request_url, &url));
    }
    let retry_after = retry_after(response.headers());
    let bytes = read_body(&mut response, limit).await.map_err(|failure| match failure {
        BodyFailure::TooLarge => limit.exceeded(&url, status),
        BodyFailure::Transport(e) => {
            let mut err = transport_error(&e, &url, timeout, true);
            err.status = Some(status);
            err.retry_after = retry_after;
            err
        }
    })?;
    Ok(RawResponse {
        status,
        retry_after,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// Why a body could not be read.
enum BodyFailure {
    /// It is (or declared itself) larger than the limit.
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads a body chunk by chunk, refusing it as soon as it would pass `limit` (or at once
/// when `Content-Length` says it will), so that no more than the limit is ever held.
async fn read_body(response: &mut reqwest::Response, limit: BodyLimit) -> Result<Vec<u8>, BodyFailure> {
    if response
        .content_length()
        .is_some_and(|declared| declared > limit.max_bytes)
    {
        return Err(BodyFailure::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyFailure::Transport)? {
        if (body.len() + chunk.len()) as u64 > limit.max_bytes {
            return Err(BodyFailure::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error for a 3xx answer: its status, where it pointed (resolved against the
/// request's URL, shown without query or user info, and only in printable characters),
/// and why Quorum does not go there.
fn redirect_error(response: &reqwest::Response, request_url: &reqwest::Url, url: &str) -> ProviderError {
    let status = response.status();
    let target = response.headers().get(reqwest::header::LOCATION).map(|location| {
        location
            .to_str()
            .ok()
            .and_then(|l| request_url.join(l.trim()).ok())
            .map_or_else(
                || "an address that is not a valid URL".to_string(),
                |u| printable(&display_url(&u)),
            )
    });
    let to = match target {
        Some(target) => format!("a redirect to {target}"),
        None => "a redirect without a Location".to_string(),
    };
    let mut err = ProviderError::new(
        ErrorKind::Redirected,
        format!(
            "the server at {url} answered {} with {to}: Quorum follows no redirects, because they would carry your \
             key and your code to another address; set base_url to the final address",
            status.as_u16()
        ),
    );
    err.status = Some(status.as_u16());
    err
}

/// `text` with every control character (and bidirectional override, which can reorder
/// what a terminal shows) replaced by `?`, so that a server cannot write to the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// Maps a reqwest failure to a [`ProviderError`]. The message names the URL (without its
/// query) and the innermost cause, never reqwest's own text, which includes the full URL.
fn transport_error(e: &reqwest::Error, url: &str, timeout: Duration, reading_body: bool) -> ProviderError {
    if e.is_connect() {
        let why = if e.is_timeout() {
            "connecting timed out".to_string()
        } else {
            cause(e)
        };
        return ProviderError::new(
            ErrorKind::Connect,
            format!(
                "the server at {url} could not be reached ({why}): check that it is running and that `base_url` is right"
            ),
        );
    }
    if e.is_timeout() {
        return ProviderError::new(
            ErrorKind::Timeout,
            format!(
                "no complete answer from {url} within {}: the server may still be loading the model or \
                 processing a long prompt; raise the timeout or send less input",
                human_duration(timeout)
            ),
        );
    }
    if e.is_builder() {
        return ProviderError::new(
            ErrorKind::InvalidRequest,
            format!("the request to {url} could not be built ({})", cause(e)),
        );
    }
    let when = if reading_body {
        "while reading the answer"
    } else {
        "before it answered"
    };
    ProviderError::new(
        ErrorKind::Connect,
        format!(
            "the connection to the server at {url} failed {when} ({}): check that it is still running",
            cause(e)
        ),
    )
}

/// The innermost cause of an error (e.g. "Connection refused (os error 111)"). reqwest's
/// top-level text embeds the URL, so it is only used when there is no inner cause, and
/// then without the URL.
fn cause(e: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(s) = source {
        innermost = Some(s.to_string());
        source = s.source();
    }
    innermost.unwrap_or_else(|| {
        if e.is_body() {
            "body error".into()
        } else if e.is_decode() {
            "decode error".into()
        } else if e.is_request() {
            "request error".into()
        } else {
            "unknown error".into()
        }
    })
}

fn human_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Whether a body says the prompt did not fit the model's context window, in any of the
/// wordings the supported servers use (see PROTOCOLS.md §3 and §5).
pub fn is_context_overflow(body: &str) -> bool {
    let b = body.to_lowercase();
    [
        "context_length_exceeded",            // OpenAI code
        "maximum context length",             // OpenAI, vLLM, OpenRouter text
        "exceed_context_size_error",          // llama.cpp type
        "exceeds the available context size", // llama.cpp text
        "greater than the context length",    // LM Studio (n_keep >= n_ctx)
        "context size has been exceeded",     // LM Studio MLX
        "n_keep",                             // LM Studio / llama.cpp n_keep >= n_ctx
        "prompt is too long",                 // Anthropic
        "input token count",                  // Gemini
        "longer than the context length",     // Ollama with truncate:false
    ]
    .iter()
    .any(|needle| b.contains(needle))
}

/// Whether a body says the account is out of credit or quota (retrying will not help
/// until a person acts).
pub fn is_quota_exhausted(body: &str) -> bool {
    let b = body.to_lowercase();
    [
        "insufficient_quota",
        "billing",
        "enforced_spend_limit_reached",
        "exceeded your current quota",
        "credit",
    ]
    .iter()
    .any(|needle| b.contains(needle))
}

/// Quota markers that cannot also describe a short-term rate limit. Gemini's per-minute
/// 429 says "You exceeded your current quota, please check your plan and billing
/// details" too, but comes with a retry delay; these codes never do.
fn is_definitely_quota(body: &str) -> bool {
    let b = body.to_lowercase();
    ["insufficient_quota", "enforced_spend_limit_reached", "billing_error"]
        .iter()
        .any(|n| b.contains(n))
}

/// Gemini reports a bad key as a 400, not a 401.
fn is_invalid_key(body: &str) -> bool {
    body.contains("API_KEY_INVALID") || body.to_lowercase().contains("api key not valid")
}

/// The server's own error message, from any of the error shapes in the wild:
/// OpenAI / Anthropic / Ollama `/v1` `{"error":{"message":…}}`, LM Studio and Ollama
/// native `{"error":"…"}`, llama.cpp / OpenRouter `{"error":{"code":400,"message":…}}`,
/// Gemini compat `[{"error":{…}}]`, old vLLM `{"object":"error","message":…}`, and
/// FastAPI-style `{"detail":"…"}`. Whitespace is collapsed; long messages are cut.
pub fn server_message(body: &str) -> Option<String> {
    fn message_of(v: &Value) -> Option<&str> {
        match v {
            Value::Array(items) => items.iter().find_map(message_of),
            Value::Object(map) => {
                match map.get("error") {
                    Some(Value::String(s)) => return Some(s),
                    Some(Value::Object(e)) => {
                        if let Some(Value::String(m)) = e.get("message") {
                            return Some(m);
                        }
                        if let Some(m) = e.get("error").and_then(message_of_error_field) {
                            return Some(m);
                        }
                    }
                    _ => {}
                }
                ["message", "detail"]
                    .iter()
                    .find_map(|k| map.get(*k).and_then(Value::as_str))
            }
            _ => None,
        }
    }
    fn message_of_error_field(v: &Value) -> Option<&str> {
        match v {
            Value::String(s) => Some(s),
            Value::Object(e) => e.get("message").and_then(Value::as_str),
            _ => None,
        }
    }
    let value: Value = serde_json::from_str(body.trim()).ok()?;
    let message = truncate_collapsed(message_of(&value)?, SERVER_MESSAGE_CHARS);
    (!message.is_empty()).then_some(message)
}

/// `"; the server said: …"` with the server's own message (see [`server_message`]), to
/// append to an explanation; empty when the body has none.
pub(crate) fn server_said(body: &str) -> String {
    server_message(body)
        .map(|said| format!("; the server said: {said}"))
        .unwrap_or_default()
}

/// Classifies a non-2xx answer. `key_hint` is the *name* of the environment variable the
/// key came from (e.g. `OPENAI_API_KEY`), used to say which key was rejected; the key
/// itself is never an argument and never appears in the result.
///
/// 401/403 (and Gemini's 400 `API_KEY_INVALID`) → Auth; 404 → NotFound; 402 → Quota;
/// 429 → RateLimited, or QuotaExhausted when the body says so; 413, or 4xx/5xx with
/// context-overflow text → ContextOverflow; 408 → Timeout; 5xx and 529 → Server; other
/// 4xx → InvalidRequest; anything else → BadResponse.
pub fn error_from_status(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
    key_hint: Option<&str>,
) -> ProviderError {
    let retry_after = retry_after.or_else(|| retry_delay_in_body(body));
    let (kind, what) = classify(status, retry_after, body, key_hint);
    let trimmed = body.trim();
    ProviderError {
        kind,
        status: Some(status),
        retry_after: if kind.is_retryable() { retry_after } else { None },
        message: format!("{what}{}", server_said(body)),
        body_excerpt: (!trimmed.is_empty()).then(|| excerpt(trimmed)),
    }
}

fn classify(status: u16, retry_after: Option<Duration>, body: &str, key_hint: Option<&str>) -> (ErrorKind, String) {
    use ErrorKind::*;
    match status {
        401 | 403 => (Auth, auth_message(status, key_hint)),
        400 if is_invalid_key(body) => (Auth, auth_message(status, key_hint)),
        404 => (
            NotFound,
            format!("model or route not found ({status}): check `model` and `base_url`"),
        ),
        402 => (QuotaExhausted, quota_message(status)),
        429 if is_definitely_quota(body) => (QuotaExhausted, quota_message(status)),
        429 if is_quota_exhausted(body) && retry_after.is_none() => (QuotaExhausted, quota_message(status)),
        429 => {
            let wait = match retry_after {
                Some(d) => format!(": the server asked to wait {}", human_duration(d)),
                None => String::new(),
            };
            (
                RateLimited,
                format!("rate limited ({status}){wait}; lower max_concurrency if this keeps happening"),
            )
        }
        413 => (
            ContextOverflow,
            format!("the request is too large for the server ({status}): split the file or review fewer lines at once"),
        ),
        400..=599 if is_context_overflow(body) => (
            ContextOverflow,
            format!(
                "the prompt does not fit the model's context window ({status}): split the file, or give the \
                 model a larger context (LM Studio: load it with a larger context length)"
            ),
        ),
        400 if is_quota_exhausted(body) => (QuotaExhausted, quota_message(status)),
        408 => (
            Timeout,
            format!("the server timed out waiting for the request ({status})"),
        ),
        529 => (Server, format!("the server is overloaded ({status}): retry later")),
        503 => (
            Server,
            format!("the server is unavailable or still loading the model ({status}): retry later"),
        ),
        500..=599 => (Server, format!("server error ({status})")),
        400..=499 => (InvalidRequest, format!("the server rejected the request ({status})")),
        _ => (BadResponse, format!("unexpected HTTP status {status}")),
    }
}

fn auth_message(status: u16, key_hint: Option<&str>) -> String {
    match key_hint {
        Some(var) => format!("the server rejected the API key from ${var} ({status}): check the key"),
        None => format!(
            "the server refused access ({status}): it needs a valid API key; set `api_key_env` to the name of \
             the environment variable that holds it"
        ),
    }
}

fn quota_message(status: u16) -> String {
    format!("out of credit or quota ({status}): add credit or raise the limit; retrying will not help")
}

/// An error object's integer `code`, when it is an HTTP error status (400–599), as
/// OpenRouter, llama.cpp and Google put in errors that come with a 2xx status.
pub(crate) fn error_status_code(error: &Value) -> Option<u16> {
    error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c))
}

// ---- Bodies --------------------------------------------------------------------------

/// A 2xx answer whose body is not what the API documents ([`ErrorKind::BadResponse`]),
/// with `message` saying what is wrong and the start of the body kept for diagnosis.
pub(crate) fn bad_response(status: u16, body: &str, message: String) -> ProviderError {
    ProviderError {
        kind: ErrorKind::BadResponse,
        status: Some(status),
        retry_after: None,
        message,
        body_excerpt: Some(excerpt(body)),
    }
}

/// A 2xx body parsed as JSON, or a [`ErrorKind::BadResponse`] that says it may have been
/// cut off or come from something other than `api` ("the Anthropic API", …), which is
/// what `base_url` should point at.
pub(crate) fn json_body(status: u16, body: &str, api: &str) -> Result<Value, ProviderError> {
    serde_json::from_str(body.trim()).map_err(|e| {
        bad_response(
            status,
            body,
            format!(
                "the server's answer ({status}) is not valid JSON ({e}): it may have been cut off, or `base_url` may \
                 not point at {api}"
            ),
        )
    })
}

/// An error the server reported in the body of a 2xx answer, classified as if it had
/// come with its own status: the message says what really happened and the real
/// `status` is kept.
pub(crate) fn reported_with_ok_status(status: u16, mut err: ProviderError) -> ProviderError {
    err.message = format!("the server answered {status} but reported an error: {}", err.message);
    err.status = Some(status);
    err
}

/// `x` as the JSON number its shortest decimal form denotes (0.2f32 → 0.2): f32 → JSON
/// goes through f64 and would otherwise send 0.2 as 0.20000000298023224.
pub(crate) fn shortest_decimal(x: f32) -> Option<Value> {
    let n = x.to_string().parse::<f64>().ok()?;
    serde_json::Number::from_f64(n).map(Value::Number)
}

/// For `#[serde(default, deserialize_with = "http::lenient")]`: deserializes a field as
/// `T`, or as `None` when it has another shape, so that one odd field from one server does
/// not make the whole answer unreadable.
pub(crate) fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_replaces_control_and_reordering_characters() {
        assert_eq!(printable("http://h/\u{1b}[31mred\u{7}\n"), "http://h/?[31mred??");
        assert_eq!(printable("a\u{202e}b\u{2066}c"), "a?b?c");
        assert_eq!(printable("https://h:1/p"), "https://h:1/p");
    }

    #[test]
    fn destination_is_the_host_reqwest_connects_to() {
        let host = |url: &str| Destination::of(url).map(|d| d.host);
        assert_eq!(host("https://API.OpenAI.com/v1").as_deref(), Some("api.openai.com"));
        assert_eq!(
            host("https://api.openai.com.evil.example/v1").as_deref(),
            Some("api.openai.com.evil.example")
        );
        assert_eq!(host("http://[::1]:8080/v1").as_deref(), Some("[::1]"));
        assert_eq!(
            host("http://2130706433/v1").as_deref(),
            Some("127.0.0.1"),
            "IPv4 forms are normalised"
        );
        assert_eq!(host("not a url"), None);
        assert_eq!(Destination::of("http://h/v1").unwrap().scheme, "http");
    }

    #[test]
    fn private_network_means_this_machine_private_or_link_local_addresses() {
        let private = |url: &str| Destination::of(url).unwrap().is_private_network();
        for url in [
            "http://127.0.0.1:1234",
            "http://localhost:1234",
            "http://LocalHost:1234",
            "http://10.1.2.3",
            "http://172.16.0.1",
            "http://192.168.1.20",
            "http://169.254.1.1",
            "http://[::1]",
            "http://[fd00::1]",
            "http://[fe80::1]",
            "http://[::ffff:192.168.0.1]",
        ] {
            assert!(private(url), "{url}");
        }
        for url in [
            "http://8.8.8.8",
            "http://172.32.0.1",
            "http://example.com",
            "http://localhost.example.com",
            "http://localhost.",
            "http://LOCALHOST./v1",
            "http://[2001:db8::1]",
            "http://[::ffff:8.8.8.8]",
        ] {
            assert!(!private(url), "{url}");
        }
    }
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn retry_after_ms_wins_and_may_be_fractional() {
        let h = headers(&[("retry-after-ms", "1500.5"), ("retry-after", "9")]);
        assert_eq!(retry_after(&h), Some(Duration::from_micros(1_500_500)));
    }

    #[test]
    fn retry_after_seconds_integer_and_decimal() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", " 2.5 ")])),
            Some(Duration::from_millis(2500))
        );
    }

    #[test]
    fn retry_after_http_date_is_relative_to_now() {
        let later = SystemTime::now() + Duration::from_secs(120);
        let h = headers(&[("retry-after", &httpdate::fmt_http_date(later))]);
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120), "{d:?}");
    }

    #[test]
    fn retry_after_date_in_the_past_is_zero() {
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_garbage_or_negative_is_none() {
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-3")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after-ms", "NaN")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn bad_retry_after_ms_falls_back_to_retry_after() {
        let h = headers(&[("retry-after-ms", "x"), ("retry-after", "3")]);
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
    }

    #[test]
    fn gemini_retry_delay_in_body() {
        let body = r#"[{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED",
            "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}]"#;
        assert_eq!(retry_delay_in_body(body), Some(Duration::from_secs(37)));
        assert_eq!(retry_delay_in_body("{}"), None);
    }

    #[test]
    fn server_message_openai_shape() {
        let body = r#"{"error":{"message":"Incorrect model","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
        assert_eq!(server_message(body).as_deref(), Some("Incorrect model"));
    }

    #[test]
    fn server_message_lm_studio_string() {
        let body = r#"{"error":"'response_format.type' must be 'json_schema' or 'text'"}"#;
        assert_eq!(
            server_message(body).as_deref(),
            Some("'response_format.type' must be 'json_schema' or 'text'")
        );
    }

    #[test]
    fn server_message_llama_cpp_and_openrouter_integer_code() {
        let body = r#"{"error":{"code":400,"type":"exceed_context_size_error",
            "message":"request (9412 tokens) exceeds the available context size (8192 tokens), try increasing it",
            "n_prompt_tokens":9412,"n_ctx":8192}}"#;
        assert_eq!(
            server_message(body).as_deref(),
            Some("request (9412 tokens) exceeds the available context size (8192 tokens), try increasing it")
        );
        let body = r#"{"error":{"code":402,"message":"Insufficient credits","metadata":{}}}"#;
        assert_eq!(server_message(body).as_deref(), Some("Insufficient credits"));
    }

    #[test]
    fn server_message_gemini_compat_array() {
        let body = r#"[{"error":{"code":429,"message":"Quota exceeded for metric","status":"RESOURCE_EXHAUSTED"}}]"#;
        assert_eq!(server_message(body).as_deref(), Some("Quota exceeded for metric"));
    }

    #[test]
    fn server_message_vllm_flat_and_anthropic() {
        let body = r#"{"object":"error","message":"This model's maximum context length is 2048 tokens.","type":"BadRequestError","param":null,"code":400}"#;
        assert_eq!(
            server_message(body).as_deref(),
            Some("This model's maximum context length is 2048 tokens.")
        );
        let body =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
        assert_eq!(server_message(body).as_deref(), Some("Overloaded"));
    }

    #[test]
    fn server_message_none_for_non_json_or_no_message() {
        assert_eq!(server_message("<html>Bad Gateway</html>"), None);
        assert_eq!(server_message(r#"{"choices":[]}"#), None);
        assert_eq!(server_message(""), None);
    }

    #[test]
    fn excerpt_collapses_whitespace_and_cuts_on_char_boundary() {
        assert_eq!(excerpt("  a \n\n b\tc  "), "a b c");
        let long = "é".repeat(1000);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt("short"), "short");
    }

    #[test]
    fn display_url_drops_query_and_credentials() {
        let url =
            reqwest::Url::parse("https://user:pw@example.com:8443/v1beta/models/x:generateContent?key=SECRET").unwrap();
        assert_eq!(
            display_url(&url),
            "https://example.com:8443/v1beta/models/x:generateContent"
        );
    }

    #[test]
    fn classification_by_status() {
        let kind = |status, body: &str| error_from_status(status, None, body, None).kind;
        assert_eq!(kind(401, ""), ErrorKind::Auth);
        assert_eq!(kind(403, ""), ErrorKind::Auth);
        assert_eq!(kind(404, ""), ErrorKind::NotFound);
        assert_eq!(kind(402, ""), ErrorKind::QuotaExhausted);
        assert_eq!(
            kind(429, r#"{"error":{"code":"rate_limit_exceeded"}}"#),
            ErrorKind::RateLimited
        );
        assert_eq!(
            kind(429, r#"{"error":{"type":"insufficient_quota"}}"#),
            ErrorKind::QuotaExhausted
        );
        assert_eq!(
            kind(400, r#"{"error":{"code":"context_length_exceeded"}}"#),
            ErrorKind::ContextOverflow
        );
        assert_eq!(
            kind(400, r#"{"error":"prompt is too long: 208656 tokens > 200000 maximum"}"#),
            ErrorKind::ContextOverflow
        );
        assert_eq!(
            kind(400, "The input token count (1200000) exceeds the maximum"),
            ErrorKind::ContextOverflow
        );
        assert_eq!(
            kind(400, "the prompt is longer than the context length currently available"),
            ErrorKind::ContextOverflow
        );
        assert_eq!(kind(413, ""), ErrorKind::ContextOverflow);
        assert_eq!(
            kind(
                400,
                r#"{"error":{"status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"#
            ),
            ErrorKind::Auth
        );
        assert_eq!(kind(400, r#"{"error":"bad"}"#), ErrorKind::InvalidRequest);
        assert_eq!(kind(422, ""), ErrorKind::InvalidRequest);
        assert_eq!(kind(408, ""), ErrorKind::Timeout);
        assert_eq!(kind(500, ""), ErrorKind::Server);
        assert_eq!(kind(503, ""), ErrorKind::Server);
        assert_eq!(kind(529, ""), ErrorKind::Server);
        assert_eq!(kind(302, ""), ErrorKind::BadResponse);
    }

    #[test]
    fn gemini_per_minute_quota_with_retry_delay_is_a_rate_limit() {
        let body = r#"[{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.",
            "status":"RESOURCE_EXHAUSTED","details":[{"retryDelay":"20s"}]}}]"#;
        let e = error_from_status(429, None, body, None);
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after, Some(Duration::from_secs(20)));
        let same_without_delay = body.replace(r#"{"retryDelay":"20s"}"#, "{}");
        assert_eq!(
            error_from_status(429, None, &same_without_delay, None).kind,
            ErrorKind::QuotaExhausted
        );
    }

    #[test]
    fn auth_message_names_the_variable_and_quotes_the_server() {
        let e = error_from_status(
            401,
            None,
            r#"{"error":{"message":"Incorrect API key provided"}}"#,
            Some("OPENAI_API_KEY"),
        );
        assert!(
            e.message
                .starts_with("the server rejected the API key from $OPENAI_API_KEY (401): check the key"),
            "{}",
            e.message
        );
        assert!(e.message.contains("Incorrect API key provided"));
        assert_eq!(e.status, Some(401));
    }

    #[test]
    fn retry_after_is_kept_only_for_retryable_errors() {
        let e = error_from_status(429, Some(Duration::from_secs(3)), "{}", None);
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
        let e = error_from_status(429, None, r#"{"error":{"code":"insufficient_quota"}}"#, None);
        assert_eq!(e.retry_after, None);
        assert!(!e.is_retryable());
    }

    #[test]
    fn server_said_quotes_the_server_or_adds_nothing() {
        assert_eq!(
            server_said(r#"{"error":{"message":"No such model"}}"#),
            "; the server said: No such model"
        );
        assert_eq!(server_said("<html>"), "");
    }

    #[test]
    fn error_status_code_only_takes_http_error_statuses() {
        assert_eq!(error_status_code(&serde_json::json!({"code": 502})), Some(502));
        assert_eq!(error_status_code(&serde_json::json!({"code": 200})), None);
        assert_eq!(error_status_code(&serde_json::json!({"code": 70000})), None);
        assert_eq!(error_status_code(&serde_json::json!({"code": "429"})), None);
        assert_eq!(error_status_code(&serde_json::json!({})), None);
    }

    #[test]
    fn a_body_that_is_not_json_is_a_bad_response_naming_the_api() {
        let e = json_body(200, " {\"a\": ", "the X API").unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
        assert_eq!(e.status, Some(200));
        assert_eq!(e.body_excerpt.as_deref(), Some("{\"a\":"));
        assert!(
            e.message.starts_with("the server's answer (200) is not valid JSON (")
                && e.message
                    .ends_with("): it may have been cut off, or `base_url` may not point at the X API"),
            "{}",
            e.message
        );
        assert_eq!(json_body(200, " [1] ", "the X API").unwrap(), serde_json::json!([1]));
    }

    #[test]
    fn an_error_in_an_ok_body_keeps_the_real_status() {
        let e = reported_with_ok_status(200, error_from_status(503, None, "", None));
        assert_eq!(e.kind, ErrorKind::Server);
        assert_eq!(e.status, Some(200));
        assert!(
            e.message.starts_with("the server answered 200 but reported an error: "),
            "{}",
            e.message
        );
    }

    #[test]
    fn temperatures_are_written_as_written() {
        assert_eq!(shortest_decimal(0.2), Some(serde_json::json!(0.2)));
        assert_eq!(shortest_decimal(1.0), Some(serde_json::json!(1.0)));
        assert_eq!(shortest_decimal(f32::NAN), None);
    }

    #[test]
    fn lenient_fields_of_another_shape_are_none() {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(default, deserialize_with = "lenient")]
            n: Option<u64>,
            #[serde(default, deserialize_with = "lenient")]
            s: Option<String>,
        }
        let w: Wire = serde_json::from_str(r#"{"n": "x", "s": "ok"}"#).unwrap();
        assert_eq!((w.n, w.s.as_deref()), (None, Some("ok")));
        let w: Wire = serde_json::from_str(r#"{"n": 3}"#).unwrap();
        assert_eq!((w.n, w.s), (Some(3), None));
    }

    #[test]
    fn quota_and_overflow_detectors() {
        assert!(is_quota_exhausted("Your credit balance is too low"));
        assert!(is_quota_exhausted(
            r#"{"error":{"details":{"error_code":"enforced_spend_limit_reached"}}}"#
        ));
        assert!(!is_quota_exhausted(r#"{"error":{"code":"rate_limit_exceeded"}}"#));
        assert!(is_context_overflow("Context size has been exceeded."));
        assert!(is_context_overflow("(n_keep: 13055>= n_ctx: 4096)"));
        assert!(!is_context_overflow(r#"{"error":"Model not loaded"}"#));
    }
}
