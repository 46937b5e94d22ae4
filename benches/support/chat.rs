//! The body an OpenAI-compatible server answers a chat completion with, as documented,
//! for the loopback servers of tests and benchmarks. One place, so every fake server
//! answers in the same, real shape.

use serde_json::{json, Value};

/// A `chat.completion` with one choice. `message_extra` adds fields to the message
/// (`reasoning_content`, …); `model` is echoed as servers do, or left out.
pub fn chat_completion(content: &str, message_extra: Value, model: Option<&str>, usage: (u64, u64)) -> Value {
    let mut message = json!({"role": "assistant", "content": content});
    if let (Some(m), Some(extra)) = (message.as_object_mut(), message_extra.as_object()) {
        m.extend(extra.clone());
    }
    let mut body = json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1764000000,
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": {"prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1}
    });
    if let Some(model) = model {
        body["model"] = Value::from(model);
    }
    body
}
