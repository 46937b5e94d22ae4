//! How long a server asked us to wait, from its headers or its body, and how a wait is
//! written in messages.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

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

pub(super) fn human_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests;
