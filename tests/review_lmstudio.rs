//! End to end: `quorum review` against a loopback server that answers as LM Studio does.
//!
//! Four providers share one server, told apart by the `model` field, each answering in a
//! style real local models have: `<think>` preambles with aliased fields, JSON fenced in
//! prose after a 500, `reasoning_content` after a 429 with `Retry-After`, and a body cut
//! off mid-JSON. The run must retry what is retryable, record what is not, and still
//! rank the one real bug first, agreed by every model that could answer.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::chat::{self, NO_FINDINGS};
use support::fixture::{self, openai_provider};
use support::server::{chat_server, Ask, Seen};
use support::{ok, stdout};
use wiremock::ResponseTemplate;

const DB_GO: &str = "package db\n\nfunc Find(db *sql.DB, name string) {\n\tq := \"SELECT * FROM users WHERE name = '\" + name + \"'\"\n\tdb.Query(q)\n}\n";
const UTIL_GO: &str = "package db\n\nfunc Max(a, b int) int {\n\tif a > b {\n\t\treturn a\n\t}\n\treturn b\n}\n";
const SECRET: &str = "sk-test-DO-NOT-LEAK-1234567890";

fn completion(content: &str, extra: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(chat::chat_completion(content, extra, None, (420, 80)))
}

/// Answers a chat completion the way LM Studio would for each model.
fn lmstudio(ask: &Ask) -> ResponseTemplate {
    let body = &ask.body;
    assert!(body.is_object(), "quorum sends JSON");
    let (model, call) = (&ask.model, ask.nth);
    let db = ask.file == "db.go";
    // What LM Studio is sent: never streamed, an output limit in max_tokens, and a
    // json_schema response format unless the provider asks for none.
    assert_eq!(body["stream"], false);
    assert!(body["max_tokens"].as_u64().is_some() && body.get("max_completion_tokens").is_none());
    match model.as_str() {
        "google/gemma-3-12b" => assert!(body.get("response_format").is_none()),
        _ => {
            assert_eq!(body["response_format"]["type"], "json_schema");
            assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        }
    }
    match model.as_str() {
        "nvidia/nemotron-nano-9b-v2" if db => completion(
            "<think>The name parameter is concatenated into SQL. That is injection.</think>\n\
             {\"issues\":[{\"lines\":\"4-5\",\"risk\":\"HIGH\",\"type\":\"SQL Injection\",\"cwe\":\"CWE-89\",\
             \"issue\":\"SQL injection via name\",\"details\":\"name is concatenated into the query string.\"}]}",
            json!({}),
        ),
        "nvidia/nemotron-nano-9b-v2" => completion("<think>Nothing here.</think>{\"issues\": []}", json!({})),
        "google/gemma-3-12b" if db && call == 1 => {
            ResponseTemplate::new(500).set_body_json(json!({"error": "Model crashed while generating"}))
        }
        "google/gemma-3-12b" if db => completion(
            "Here is my review of the file.\n\n```json\n{\"findings\": [{\"file\": \"db.go\", \"start_line\": 4, \"end_line\": 4,\
             \"severity\": \"critical\", \"category\": \"injection\", \"cwe\": 89, \"title\": \"Unsanitized user input in SQL query\",\
             \"description\": \"User-controlled name is concatenated into a SQL statement.\", \"suggestion\": \"Use placeholders.\",\
             \"confidence\": 0.9}]}\n```\n\nLet me know if you need anything else!",
            json!({}),
        ),
        "google/gemma-3-12b" => completion("No issues found.\n```json\n{\"findings\": []}\n```", json!({})),
        "qwen/qwen3-coder-30b" if call == 1 => ResponseTemplate::new(429)
            .insert_header("Retry-After", "1")
            .set_body_json(json!({"error": "Too many requests"})),
        "qwen/qwen3-coder-30b" if db => completion(
            "{\"findings\":[{\"file\":\"db.go\",\"start_line\":4,\"end_line\":5,\"severity\":\"high\",\"category\":\"injection\",\
             \"cwe\":89,\"title\":\"SQL injection in Find\",\"description\":\"The query concatenates name.\",\"suggestion\":null,\
             \"confidence\":0.8}]}",
            json!({"reasoning_content": "Let me look at the query construction."}),
        ),
        "qwen/qwen3-coder-30b" => completion("{\"findings\":[]}", json!({"reasoning_content": "Looks fine."})),
        _ => ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string("{\"id\":\"chatcmpl-2\",\"choices\":[{\"message\":{\"content\":\"{\\\"findings\\\":["),
    }
}

/// How many chat completions `seen` received for `model` about `file`.
fn calls(seen: &Seen, model: &str, file: &str) -> usize {
    seen.chats()
        .iter()
        .filter(|c| c.model == model && c.file == file)
        .count()
}

fn write_project(root: &Path) {
    std::fs::write(root.join("db.go"), DB_GO).unwrap();
    std::fs::write(root.join("util.go"), UTIL_GO).unwrap();
}

fn config(server: &str) -> String {
    let provider = |name: &str, model: &str, extra: &str| {
        openai_provider(
            name,
            &format!("{server}/v1/"),
            model,
            &format!("max_concurrency = 2\ntimeout_secs = 20\n{extra}"),
        )
    };
    [
        "[review]\ninclude = [\"**/*.go\"]\n\n".to_string(),
        provider("nemotron", "nvidia/nemotron-nano-9b-v2", ""),
        provider("gemma", "google/gemma-3-12b", "structured_output = \"none\""),
        provider("qwen", "qwen/qwen3-coder-30b", "api_key_env = \"QUORUM_E2E_KEY\""),
        provider("broken", "broken-model", ""),
    ]
    .concat()
}

/// Runs `quorum ARGS` in `cwd` with the key of the qwen provider set.
async fn quorum(args: &[&str], cwd: &Path) -> std::process::Output {
    support::quorum_async(cwd, args, &[("QUORUM_E2E_KEY", SECRET)]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_against_an_lmstudio_like_server() {
    let (server, seen) = chat_server(lmstudio).await;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    write_project(&project);
    std::fs::write(dir.path().join("quorum.toml"), config(&server.uri())).unwrap();
    assert!(quorum(&["trust"], dir.path()).await.status.success());

    let output = quorum(&["review", "project", "--out", "out"], dir.path()).await;
    let stdout = stdout(&output);
    // Exit 4: two answers failed (issue 8: an incomplete review is not 0).
    let stderr = support::incomplete(&output);

    // The terminal table ranks the real bug first, agreed by all three working models.
    let first_row = stdout.lines().find(|l| l.contains("db.go")).expect("a row for db.go");
    assert!(first_row.contains("3/3"), "{stdout}");

    let report = fixture::report(&dir.path().join("out"));
    assert_eq!(report["schema_version"], 1);
    let issues = report["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{report:#}");
    let top = &issues[0];
    assert_eq!(top["file"], "db.go");
    assert_eq!(top["cwe"], 89);
    assert_eq!(top["category"], "injection");
    assert_eq!(top["agreement"]["count"], 3);
    assert_eq!(top["agreement"]["of"], 3);
    assert_eq!(top["agreement"]["providers"], json!(["gemma", "nemotron", "qwen"]));
    assert_eq!(top["findings"].as_array().unwrap().len(), 3);

    // The malformed body is recorded per file, not retried, and stops nobody else.
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors
        .iter()
        .all(|e| e["provider"] == "broken" && e["kind"] == "bad_response"));
    assert_eq!(calls(&seen, "broken-model", "db.go"), 1);
    // The 500 and the 429 were retried once each.
    assert_eq!(calls(&seen, "google/gemma-3-12b", "db.go"), 2);
    assert_eq!(calls(&seen, "qwen/qwen3-coder-30b", "util.go"), 2);

    let records = fixture::records(&dir.path().join("out"));
    assert_eq!(records.len(), 8, "one record per (file, provider)");
    let qwen_db = records
        .iter()
        .find(|r| r["provider"] == "qwen" && r["file"] == "db.go")
        .unwrap();
    assert_eq!(qwen_db["attempts"], 2);
    assert!(
        qwen_db["latency_ms"].as_u64().unwrap() >= 1000,
        "Retry-After: 1 was honoured"
    );
    assert_eq!(qwen_db["reasoning"], "Let me look at the query construction.");
    let nemo_db = records
        .iter()
        .find(|r| r["provider"] == "nemotron" && r["file"] == "db.go")
        .unwrap();
    assert!(nemo_db["reasoning"].as_str().unwrap().contains("concatenated into SQL"));
    assert!(!nemo_db["text"].as_str().unwrap().contains("<think>"));

    // The key went to the server, and nowhere else.
    let auth = seen.authorizations();
    assert!(auth.contains(&Some(format!("Bearer {SECRET}"))));
    for entry in std::fs::read_dir(dir.path().join("out")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(SECRET));
    }
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));

    // aggregate rebuilds the same report without a server.
    drop(server);
    support::incomplete(&quorum(&["aggregate", "out", "--quiet"], dir.path()).await);
    let rebuilt = fixture::report(&dir.path().join("out"));
    assert_eq!(rebuilt["issues"], report["issues"]);
    assert_eq!(rebuilt["errors"], report["errors"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_review_keeps_the_first_runs_answers() {
    let (server, _seen) = chat_server(|_| completion(NO_FINDINGS, json!({}))).await;
    let dir = tempfile::tempdir().unwrap();
    write_project(dir.path());
    let cfg = openai_provider("one", &format!("{}/v1", server.uri()), "m", "");
    std::fs::write(dir.path().join("quorum.toml"), cfg).unwrap();
    for _ in 0..2 {
        ok(&quorum(&["review", "--out", "out", "--quiet"], dir.path()).await);
    }
    let kept = dir.path().join("out/previous");
    assert!(kept.is_dir(), "the first run was set aside, not overwritten");
    for name in ["responses.jsonl", "run.json", "report.json", "report.md"] {
        assert!(kept.join(name).exists(), "{name} kept");
    }
}
