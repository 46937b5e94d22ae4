//! `quorum providers list` and `quorum providers check` against a loopback server that
//! answers as LM Studio does: its model list, its native `/api/v0/models` with the
//! loaded context length, and its 400 for a `json_object` response format.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};
use support::chat;
use support::fixture::project;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "lm-studio-token-SECRET-987";

/// Runs `quorum ARGS` in `cwd` with the right key and a wrong one set.
async fn quorum(cwd: &Path, args: &[&str]) -> Output {
    let keys = [("QUORUM_CHECK_KEY", KEY), ("QUORUM_CHECK_WRONG_KEY", "wrong")];
    support::quorum_async(cwd, args, &keys).await
}

struct Chat;

impl Respond for Chat {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        if body["response_format"]["type"] == "json_object" {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"error": "'response_format.type' must be 'json_schema' or 'text'"}));
        }
        let model = body["model"].as_str();
        let content = "<think>ok</think>{\"findings\": []}";
        ResponseTemplate::new(200).set_body_json(chat::chat_completion(content, json!({}), model, (30, 5)))
    }
}

async fn lmstudio() -> MockServer {
    let server = MockServer::start().await;
    let unauthorized = ResponseTemplate::new(401).set_body_json(json!({"error": "Invalid API key"}));
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [
                {"id": "google/gemma-3-12b", "object": "model", "owned_by": "organization_owner"},
                {"id": "nvidia/nemotron-nano-9b-v2", "object": "model", "owned_by": "organization_owner"}
            ]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(unauthorized.clone())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v0/models"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [
                {"id": "google/gemma-3-12b", "type": "llm", "state": "loaded",
                 "max_context_length": 131072, "loaded_context_length": 8192}
            ]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(Chat)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(unauthorized)
        .mount(&server)
        .await;
    server
}

fn provider(name: &str, server: &str, model: &str, key_var: &str, extra: &str) -> String {
    format!(
        "[providers.{name}]\npreset = \"lmstudio\"\nbase_url = \"{server}/v1\"\nmodel = \"{model}\"\napi_key_env = \"{key_var}\"\ntimeout_secs = 10\n{extra}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_each_way_a_provider_can_be_unusable() {
    let server = lmstudio().await;
    let uri = server.uri();
    let config = [
        provider("good", &uri, "google/gemma-3-12b", "QUORUM_CHECK_KEY", ""),
        provider("absent", &uri, "qwen/qwen3-coder-30b", "QUORUM_CHECK_KEY", ""),
        provider(
            "jsonobj",
            &uri,
            "nvidia/nemotron-nano-9b-v2",
            "QUORUM_CHECK_KEY",
            "structured_output = \"json_object\"",
        ),
        provider("badkey", &uri, "google/gemma-3-12b", "QUORUM_CHECK_WRONG_KEY", ""),
        "[providers.down]\npreset = \"lmstudio\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\n".into(),
    ]
    .concat();
    let dir = project(&[], &config);
    assert!(quorum(dir.path(), &["trust"]).await.status.success());
    let out = quorum(dir.path(), &["providers", "check"]).await;
    let stdout = support::stdout(&out);
    let stderr = support::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // Cells: provider, reachable, key, model, context, structured output, latency, usable.
    let row = |name: &str| -> Vec<String> {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_default();
        line.split(['│', '┆'])
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    };
    assert_eq!(row("good")[4], "8192", "{stdout}");
    assert_eq!(row("good")[7], "yes", "{stdout}");
    assert_eq!(
        (row("absent")[3].as_str(), row("absent")[7].as_str()),
        ("FAILED", "NO"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "\"qwen/qwen3-coder-30b\" is not on the server; it has: google/gemma-3-12b, nvidia/nemotron-nano-9b-v2"
        ),
        "{stderr}"
    );
    assert_eq!(
        (row("jsonobj")[5].as_str(), row("jsonobj")[7].as_str()),
        ("FAILED", "NO"),
        "{stdout}"
    );
    assert!(stderr.contains("must be 'json_schema' or 'text'"), "{stderr}");
    assert_eq!(
        (row("badkey")[2].as_str(), row("badkey")[7].as_str()),
        ("FAILED", "NO"),
        "{stdout}"
    );
    assert!(stderr.contains("QUORUM_CHECK_WRONG_KEY"), "{stderr}");
    assert_eq!(
        (row("down")[1].as_str(), row("down")[7].as_str()),
        ("FAILED", "NO"),
        "{stdout}"
    );
    assert!(stderr.contains("could not be reached"), "{stderr}");
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_when_every_provider_works_and_list_hides_keys() {
    let server = lmstudio().await;
    let dir = project(
        &[],
        &provider("good", &server.uri(), "google/gemma-3-12b", "QUORUM_CHECK_KEY", ""),
    );
    assert!(quorum(dir.path(), &["trust"]).await.status.success());
    support::ok(&quorum(dir.path(), &["providers", "check"]).await);
    let list = quorum(dir.path(), &["providers", "list"]).await;
    let stdout = support::stdout(&list);
    support::ok(&list);
    assert!(
        stdout.contains("openai (preset lmstudio)")
            && stdout.contains("$QUORUM_CHECK_KEY (set)")
            && stdout.contains("timeout_secs         10")
            && stdout.contains(&format!("sends to             {}", server.uri()))
            && stdout.contains("trusted (you trusted this content on"),
        "{stdout}"
    );
    assert!(!stdout.contains(KEY));
}

/// A llama.cpp server in router mode (`llama-server --models-dir`), as b1-0c1e570 answers:
/// `/props` describes the router itself with `n_ctx` 0, and one model with `?model=`.
async fn llama_cpp_router() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [
                {"id": "gemma-mock", "object": "model", "owned_by": "llamacpp", "status": {"value": "unloaded"}}
            ]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/props"))
        .and(query_param("model", "gemma-mock"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"default_generation_settings": {"n_ctx": 4096}, "total_slots": 2})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/props"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"role": "router", "model_path": "none",
            "default_generation_settings": {"params": null, "n_ctx": 0}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Chat)
        .mount(&server)
        .await;
    server
}

/// Found against a real llama-server in router mode: its own `/props` says `n_ctx: 0`,
/// which Quorum took for the model's window and refused every review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_llama_cpp_router_is_asked_for_the_models_window_not_its_own() {
    let server = llama_cpp_router().await;
    let config = format!(
        "[providers.gemma]\nkind = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"gemma-mock\"\nmax_output_tokens = 256\ntimeout_secs = 10\n",
        server.uri()
    );
    let dir = project(&[("app/main.go", "package main\n\nfunc main() {}\n")], &config);
    assert!(quorum(dir.path(), &["trust"]).await.status.success());
    let check = quorum(dir.path(), &["providers", "check"]).await;
    support::ok(&check);
    assert!(support::stdout(&check).contains("4096"), "{}", support::stdout(&check));
    support::ok(&quorum(dir.path(), &["review", "app", "--quiet"]).await);
}
