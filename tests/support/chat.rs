//! The bodies the fake servers of tests and benchmarks answer with, in the shapes the
//! APIs document: an OpenAI-compatible chat completion and error, an Anthropic message,
//! a Gemini `generateContent` answer. One place, so every fake server answers in the
//! same, real shape.

#![allow(dead_code)]

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

/// The answer of a model that found nothing.
pub const NO_FINDINGS: &str = r#"{"findings": []}"#;

/// The file a review prompt is about: the first `File: PATH` line of Quorum's user prompt
/// (its second line, after the one naming the markers' token).
pub fn prompt_file(user: &str) -> String {
    user.lines()
        .find_map(|l| l.strip_prefix("File: "))
        .unwrap_or_default()
        .to_string()
}

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

/// A 200 carrying a chat completion of `content` (no model named) with `usage`
/// (prompt, completion tokens).
pub fn reply(content: &str, usage: (u64, u64)) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(chat_completion(content, json!({}), None, usage))
}

/// An OpenAI error body: `{"error": {message, type, param, code}}`.
pub fn openai_error(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

/// An Anthropic `message` whose one content block is a forced `tool_use` of `tool`
/// with `input`; `usage` is (input, output) tokens.
pub fn anthropic_tool_use(model: &str, tool: &str, input: Value, usage: (u64, u64)) -> Value {
    json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": input}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": usage.0, "output_tokens": usage.1}
    })
}

/// Gemini's token counts of one answer.
pub struct GeminiUsage {
    pub prompt: u64,
    pub candidates: u64,
    pub thoughts: u64,
}

/// A Gemini `generateContent` answer with one candidate made of `parts`.
pub fn gemini_answer(model: &str, parts: Value, usage: GeminiUsage) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": usage.prompt, "candidatesTokenCount": usage.candidates,
                          "thoughtsTokenCount": usage.thoughts,
                          "totalTokenCount": usage.prompt + usage.candidates + usage.thoughts},
        "modelVersion": model
    })
}

/// The number of the first code line of a review prompt that contains `needle`, as the
/// prompt numbers it (`  12| code`): where a model that found it would say it is.
pub fn prompt_line(user: &str, needle: &str) -> Option<u32> {
    user.lines()
        .filter(|l| l.contains(needle))
        .find_map(|l| l.split_once("| ")?.0.trim().parse().ok())
}

/// Whether a user prompt is a judge's question about one issue (Quorum's judge prompt
/// opens with this line), not a review of a file.
pub fn is_judge_question(user: &str) -> bool {
    user.starts_with("Judge this reported issue.")
}

/// The issue id a judge's question is about (its `Issue: Q…` line).
pub fn judged_issue(user: &str) -> Option<String> {
    user.lines()
        .find_map(|l| l.strip_prefix("Issue: "))
        .map(|id| id.trim().to_string())
}

/// A judge's answer: `{"verdict": …, "reason": …}`.
pub fn verdict(verdict: &str, reason: &str) -> String {
    json!({"verdict": verdict, "reason": reason}).to_string()
}
