//! Building API URLs from a configured `base_url`, and showing a URL without what must
//! not reach a message (query, user info).

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

/// `base_url` trimmed, or `default` when it is blank: an API with one well-known home
/// (Anthropic, Gemini) lets the configuration leave `base_url` out.
pub(crate) fn base_or<'a>(base_url: &'a str, default: &'a str) -> &'a str {
    let base = base_url.trim();
    if base.is_empty() {
        default
    } else {
        base
    }
}

#[cfg(test)]
mod tests;
