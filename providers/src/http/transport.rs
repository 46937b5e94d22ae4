//! Sending one request and reading its answer: the shared client (no redirects, proxies
//! never used for this machine or the local network), a per-request timeout, a bounded
//! body, and transport failures turned into [`ProviderError`]s that name the URL without
//! its query.

use std::time::Duration;

use serde_json::Value;

use super::retry::{human_duration, retry_after};
use super::url::display_url;
use crate::{ErrorKind, ProviderError};

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

#[cfg(test)]
mod tests;
