//! The small pieces of JSON handling every provider's wire format needs alike: reading a
//! field leniently, writing a temperature as written, and reporting a body that is not
//! what the API documents.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::Value;

use super::errors::body_excerpt;
use crate::{ErrorKind, ProviderError};

/// A 2xx answer whose body is not what the API documents ([`ErrorKind::BadResponse`]),
/// with `message` saying what is wrong and the start of the body kept for diagnosis.
pub(crate) fn bad_response(status: u16, body: &str, message: String) -> ProviderError {
    ProviderError {
        kind: ErrorKind::BadResponse,
        status: Some(status),
        retry_after: None,
        message,
        body_excerpt: Some(body_excerpt(body)),
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
mod tests;
