//! What a server can tell us about its models: which exist, and how much context they
//! run with.
//!
//! Every API lists models in its own shape (`data[]` for OpenAI-compatible servers and
//! Anthropic, `models[]` for Gemini and LM Studio's `/api/v1`), and the context window
//! hides under a different name on each (`context_length`, `max_model_len`,
//! `meta.n_ctx_train`, `max_input_tokens`, `inputTokenLimit`, …). Local servers also say
//! what the *loaded* model really runs with on routes of their own, which matters more
//! than the trained maximum: LM Studio often loads a model with a 4096-token window.

use std::time::Duration;

use serde_json::Value;

use crate::{http, ModelInfo};

/// Time allowed for listing models: a server that takes longer is not healthy.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends a prepared model-list request (URL and auth headers set) and reads the list.
/// A 200 whose body is an error object (LM Studio's answer to an unknown route) counts
/// as "not found".
pub async fn fetch_model_list(
    request: reqwest::RequestBuilder,
    key_hint: Option<&str>,
) -> Result<Vec<ModelInfo>, crate::ProviderError> {
    let raw = http::send(request, LIST_TIMEOUT).await?;
    let error_in_body = serde_json::from_str::<Value>(&raw.body).is_ok_and(|v| v.get("error").is_some());
    if !raw.is_success() || error_in_body {
        let status = if raw.is_success() { 404 } else { raw.status };
        return Err(http::error_from_status(status, raw.retry_after, &raw.body, key_hint));
    }
    Ok(parse_model_list(&raw.body))
}

/// Reads any of the known model-list shapes. Unknown shapes give an empty list.
pub fn parse_model_list(body: &str) -> Vec<ModelInfo> {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        return Vec::new();
    };
    let entries = ["data", "models"]
        .iter()
        .find_map(|k| json.get(k).and_then(Value::as_array))
        .cloned()
        .unwrap_or_default();
    entries
        .iter()
        .filter_map(|e| {
            let id = ["id", "key", "name", "model"]
                .iter()
                .find_map(|k| e.get(k).and_then(Value::as_str))?;
            Some(ModelInfo {
                id: id.strip_prefix("models/").unwrap_or(id).to_string(),
                context_tokens: context_of(e),
            })
        })
        .collect()
}

/// The context window an entry of a model list states, preferring what is loaded.
fn context_of(entry: &Value) -> Option<u64> {
    const PATHS: &[&[&str]] = &[
        &["loaded_context_length"],
        &["loaded_instances", "0", "config", "context_length"],
        &["context_length"],
        &["max_model_len"],
        &["top_provider", "context_length"],
        &["max_input_tokens"],
        &["inputTokenLimit"],
        &["max_context_length"],
        &["meta", "n_ctx_train"],
    ];
    PATHS.iter().find_map(|path| {
        let mut v = entry;
        for key in *path {
            v = match key.parse::<usize>() {
                Ok(i) => v.get(i)?,
                Err(_) => v.get(key)?,
            };
        }
        v.as_u64().filter(|n| *n > 0)
    })
}

/// Asks a local server on its own routes what context the model really runs with:
/// LM Studio (`/api/v0/models`), llama.cpp (`/props`), then Ollama (`/api/show`).
/// `root` is the server's address without `/v1`. Any failure just means "unknown".
pub async fn local_context_window(client: &reqwest::Client, root: &str, model: &str) -> Option<u64> {
    const QUICK: Duration = Duration::from_secs(5);
    let root = root.trim_end_matches('/');
    if let Ok(raw) = http::send(client.get(format!("{root}/api/v0/models")), QUICK).await {
        if raw.is_success() {
            if let Some(n) = parse_model_list(&raw.body)
                .into_iter()
                .find(|m| m.id == model)
                .and_then(|m| m.context_tokens)
            {
                return Some(n);
            }
        }
    }
    if let Ok(raw) = http::send(client.get(format!("{root}/props")), QUICK).await {
        if raw.is_success() {
            let n = serde_json::from_str::<Value>(&raw.body)
                .ok()
                .and_then(|v| v.pointer("/default_generation_settings/n_ctx").and_then(Value::as_u64));
            if n.is_some() {
                return n;
            }
        }
    }
    let show = client.post(format!("{root}/api/show"));
    if let Ok(raw) = http::send_json(show, &serde_json::json!({ "model": model }), QUICK).await {
        if raw.is_success() {
            return ollama_context(&raw.body);
        }
    }
    None
}

/// Ollama's `/api/show` keeps the trained context under `model_info["<arch>.context_length"]`;
/// a `num_ctx` in its `parameters` text is what the model is really loaded with.
fn ollama_context(body: &str) -> Option<u64> {
    let v: Value = serde_json::from_str(body).ok()?;
    let configured = v.get("parameters").and_then(Value::as_str).and_then(|p| {
        p.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("num_ctx")).then(|| words.next()?.parse().ok())?
        })
    });
    configured.or_else(|| {
        v.get("model_info")?
            .as_object()?
            .iter()
            .find(|(k, _)| k.ends_with(".context_length"))
            .and_then(|(_, n)| n.as_u64())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_servers_model_list() {
        let lmstudio = r#"{"object":"list","data":[{"id":"google/gemma-3-12b","type":"llm","state":"loaded","max_context_length":131072,"loaded_context_length":8192},{"id":"other","max_context_length":4096}]}"#;
        assert_eq!(
            parse_model_list(lmstudio),
            vec![
                ModelInfo {
                    id: "google/gemma-3-12b".into(),
                    context_tokens: Some(8192)
                },
                ModelInfo {
                    id: "other".into(),
                    context_tokens: Some(4096)
                }
            ]
        );
        let openai = r#"{"object":"list","data":[{"id":"gpt-4.1","object":"model","created":1,"owned_by":"openai"}]}"#;
        assert_eq!(
            parse_model_list(openai)[0],
            ModelInfo {
                id: "gpt-4.1".into(),
                context_tokens: None
            }
        );
        let vllm = r#"{"data":[{"id":"Qwen/Qwen3-8B","max_model_len":32768}]}"#;
        assert_eq!(parse_model_list(vllm)[0].context_tokens, Some(32768));
        let llamacpp = r#"{"data":[{"id":"model.gguf","meta":{"n_ctx_train":131072}}]}"#;
        assert_eq!(parse_model_list(llamacpp)[0].context_tokens, Some(131072));
        let openrouter = r#"{"data":[{"id":"x/y","context_length":200000,"top_provider":{"context_length":100000}}]}"#;
        assert_eq!(parse_model_list(openrouter)[0].context_tokens, Some(200000));
        let anthropic =
            r#"{"data":[{"id":"claude-sonnet-4-5","max_input_tokens":200000,"max_tokens":64000}],"has_more":false}"#;
        assert_eq!(parse_model_list(anthropic)[0].context_tokens, Some(200000));
        let gemini =
            r#"{"models":[{"name":"models/gemini-2.5-flash","inputTokenLimit":1048576,"outputTokenLimit":65536}]}"#;
        assert_eq!(
            parse_model_list(gemini)[0],
            ModelInfo {
                id: "gemini-2.5-flash".into(),
                context_tokens: Some(1048576)
            }
        );
        let lmstudio_v1 = r#"{"models":[{"key":"qwen3","max_context_length":32768,"loaded_instances":[{"config":{"context_length":16384}}]}]}"#;
        assert_eq!(parse_model_list(lmstudio_v1)[0].context_tokens, Some(16384));
        assert!(parse_model_list("{\"error\":\"Unexpected endpoint or method.\"}").is_empty());
        assert!(parse_model_list("<html>").is_empty());
    }

    #[test]
    fn reads_ollamas_configured_then_trained_context() {
        let show = r#"{"parameters":"num_ctx 16384\nstop \"<end>\"","model_info":{"gemma3.context_length":131072}}"#;
        assert_eq!(ollama_context(show), Some(16384));
        let show = r#"{"model_info":{"general.architecture":"gemma3","gemma3.context_length":131072}}"#;
        assert_eq!(ollama_context(show), Some(131072));
    }
}
