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
const LIST_TIMEOUT: Duration = Duration::from_secs(30);

/// The most bytes of a model list read (2 MiB). Hosted catalogues are the large ones
/// (OpenRouter lists hundreds of models, each with a description and prices), yet a list
/// needs nothing like a chat answer's room.
pub const LIST_MAX_BYTES: u64 = 2 * 1024 * 1024;

/// The most bytes read from a local server's status routes (1 MiB): LM Studio's
/// `/api/v0/models`, llama.cpp's `/props`, Ollama's `/api/ps` and `/api/show` describe
/// the few models of one machine.
const PROBE_MAX_BYTES: u64 = 1024 * 1024;

/// Sends a prepared model-list request (URL and auth headers set) and reads the list,
/// at most [`LIST_MAX_BYTES`] of it; a redirect is an error (see [`http::send`]). A 200 whose body is an error object (LM Studio's answer to an unknown route) counts
/// as "not found".
pub(crate) async fn fetch_model_list(
    request: reqwest::RequestBuilder,
    key_hint: Option<&str>,
) -> Result<Vec<ModelInfo>, crate::ProviderError> {
    let raw = http::send(request, LIST_TIMEOUT, http::BodyLimit::probe(LIST_MAX_BYTES)).await?;
    let error_in_body = serde_json::from_str::<Value>(&raw.body).is_ok_and(|v| v.get("error").is_some());
    if !raw.is_success() || error_in_body {
        let status = if raw.is_success() { 404 } else { raw.status };
        return Err(http::error_from_status(status, raw.retry_after, &raw.body, key_hint));
    }
    Ok(parse_model_list(&raw.body))
}

/// Reads any of the known model-list shapes. Unknown shapes give an empty list.
fn parse_model_list(body: &str) -> Vec<ModelInfo> {
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

/// The context window an entry of a model list states as the one requests get: hosted
/// APIs' limits, and what a local server has *loaded*. Trained maxima (LM Studio's
/// `max_context_length`, llama.cpp's `n_ctx_train`, Ollama's `model_info`) are not used:
/// the model usually runs with far less, and planning for the trained size makes
/// servers that truncate silently (Ollama) review only part of a file.
fn context_of(entry: &Value) -> Option<u64> {
    const PATHS: &[&str] = &[
        "/loaded_context_length",
        "/loaded_instances/0/config/context_length",
        "/context_length",
        "/max_model_len",
        "/top_provider/context_length",
        "/max_input_tokens",
        "/inputTokenLimit",
    ];
    PATHS
        .iter()
        .find_map(|path| entry.pointer(path).and_then(Value::as_u64).filter(|n| *n > 0))
}

/// Asks a local server on its own routes what context the model is running with:
/// LM Studio (`/api/v0/models`, loaded models only), llama.cpp (`/props`), then Ollama
/// (`/api/ps` for a loaded model, else a configured `num_ctx` from `/api/show`).
/// `root` is the server's address without `/v1`; `key` is sent as a bearer token.
/// Any failure just means "unknown": a redirect is not followed (`client` follows none,
/// see [`http::client`]) and a body over [`PROBE_MAX_BYTES`] is not read.
pub(crate) async fn local_context_window(
    client: &reqwest::Client,
    root: &str,
    model: &str,
    key: Option<&str>,
) -> Option<u64> {
    let get = |path: &[&str]| authorized(client.get(http::endpoint(root, path)), key);
    if let Some(body) = fetch(get(&["api", "v0", "models"]), None).await {
        let entries = serde_json::from_str::<Value>(&body).ok()?;
        let entry = entries
            .get("data")?
            .as_array()?
            .iter()
            .find(|e| e.get("id").and_then(Value::as_str) == Some(model));
        if let Some(entry) = entry {
            // Listed but not loaded: the window is unknown until the model is loaded.
            return entry.get("loaded_context_length").and_then(Value::as_u64);
        }
    }
    // llama.cpp: a router (`--models-dir`, several models) answers `/props` for itself
    // with `n_ctx` 0 and for one model with `?model=`; a one-model server ignores the
    // query. 0 never means a window: it means "not this one".
    for props in [get(&["props"]).query(&[("model", model)]), get(&["props"])] {
        if let Some(n) = fetch(props, None).await.as_deref().and_then(llama_cpp_context) {
            return Some(n);
        }
    }
    if let Some(body) = fetch(get(&["api", "ps"]), None).await {
        if let Some(n) = ollama_loaded_context(&body, model) {
            return Some(n);
        }
    }
    let show = authorized(client.post(http::endpoint(root, &["api", "show"])), key);
    let body = fetch(show, Some(serde_json::json!({ "model": model }))).await?;
    ollama_configured_context(&body)
}

/// The slot context a llama.cpp `/props` body states, if it states one.
fn llama_cpp_context(body: &str) -> Option<u64> {
    serde_json::from_str::<Value>(body)
        .ok()?
        .pointer("/default_generation_settings/n_ctx")
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)
}

fn authorized(request: reqwest::RequestBuilder, key: Option<&str>) -> reqwest::RequestBuilder {
    match key {
        Some(key) => request.bearer_auth(key),
        None => request,
    }
}

/// The body of a quick successful request, or `None`.
async fn fetch(request: reqwest::RequestBuilder, json: Option<Value>) -> Option<String> {
    const QUICK: Duration = Duration::from_secs(5);
    let limit = http::BodyLimit::probe(PROBE_MAX_BYTES);
    let raw = match json {
        Some(body) => http::send_json(request, &body, QUICK, limit).await.ok()?,
        None => http::send(request, QUICK, limit).await.ok()?,
    };
    let error_in_body = serde_json::from_str::<Value>(&raw.body).is_ok_and(|v| v.get("error").is_some());
    (raw.is_success() && !error_in_body).then_some(raw.body)
}

/// Ollama's `/api/ps`: the context a loaded model runs with.
fn ollama_loaded_context(body: &str, model: &str) -> Option<u64> {
    let v: Value = serde_json::from_str(body).ok()?;
    let wanted = |name: &str| name == model || name == format!("{model}:latest");
    v.get("models")?
        .as_array()?
        .iter()
        .find(|m| {
            ["name", "model"]
                .iter()
                .any(|k| m.get(k).and_then(Value::as_str).is_some_and(wanted))
        })?
        .get("context_length")?
        .as_u64()
}

/// Ollama's `/api/show`: a `num_ctx` set in the model's parameters (what it will load
/// with). The trained maximum in `model_info` is deliberately not used.
fn ollama_configured_context(body: &str) -> Option<u64> {
    let v: Value = serde_json::from_str(body).ok()?;
    v.get("parameters").and_then(Value::as_str).and_then(|p| {
        p.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("num_ctx")).then(|| words.next()?.parse().ok())?
        })
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
                    context_tokens: None
                }
            ],
            "only a loaded window counts, never the trained maximum"
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
        assert_eq!(
            parse_model_list(llamacpp)[0].context_tokens,
            None,
            "n_ctx_train is the trained size"
        );
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
    fn a_llama_cpp_router_states_no_window_for_itself() {
        // As llama-server b1-0c1e570 answers in router mode (`/props` without `?model=`).
        let router = r#"{"role":"router","max_instances":4,"model_path":"none","default_generation_settings":{"params":null,"n_ctx":0}}"#;
        assert_eq!(llama_cpp_context(router), None, "0 is not a window");
        let one_model = r#"{"default_generation_settings":{"n_ctx":4096},"total_slots":2}"#;
        assert_eq!(llama_cpp_context(one_model), Some(4096));
        assert_eq!(llama_cpp_context("<html>"), None);
    }

    #[test]
    fn reads_ollamas_loaded_then_configured_context_never_the_trained_one() {
        let ps = r#"{"models":[{"name":"gemma3:12b","model":"gemma3:12b","context_length":8192,"size_vram":1}]}"#;
        assert_eq!(ollama_loaded_context(ps, "gemma3:12b"), Some(8192));
        assert_eq!(ollama_loaded_context(ps, "qwen3"), None);
        let show = r#"{"parameters":"num_ctx 16384\nstop \"<end>\"","model_info":{"gemma3.context_length":131072}}"#;
        assert_eq!(ollama_configured_context(show), Some(16384));
        let show = r#"{"model_info":{"general.architecture":"gemma3","gemma3.context_length":131072}}"#;
        assert_eq!(ollama_configured_context(show), None);
    }
}
