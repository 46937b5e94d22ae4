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
//! Its parts, one concern each: [`transport`] sends (client, timeout, body limit,
//! redirects refused), [`errors`] classifies failed answers, [`retry`] reads the waits a
//! server asks for, [`url`] builds API URLs, [`destination`] says where a base URL sends
//! requests, and [`json`] holds the small pieces of JSON handling every wire format
//! needs alike.
//!
//! Nothing here retries: one call, one request. No function here ever puts an API key
//! into a message (URLs in messages lose their query string, where Gemini puts its key).
//!
//! [`ProviderError`]: crate::ProviderError

mod destination;
mod errors;
mod json;
mod retry;
mod transport;
mod url;

pub use destination::{Destination, Reach};
pub(crate) use errors::{
    body_excerpt, error_from_status, error_status_code, is_context_overflow, is_quota_exhausted, reclassify,
    server_message, server_said,
};
pub(crate) use json::{bad_response, json_body, lenient, reported_with_ok_status, shortest_decimal};
pub(crate) use retry::retry_delay_in_body;
pub use transport::client;
pub(crate) use transport::{send, send_json, BodyLimit, RawResponse};
pub(crate) use url::{base_or, endpoint, path_segments};
