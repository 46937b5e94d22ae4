//! End to end through the hosted APIs' native protocols: `quorum review` with an
//! Anthropic provider (forced tool use) and a Gemini provider (JSON schema, thought
//! parts), each against a loopback server answering in that API's documented shape,
//! configured from presets with only `base_url`, `model` and prices overridden, and
//! `send_key_to` naming the loopback host the vendors' keys are sent to on purpose.

mod support;

use serde_json::{json, Value};
use support::chat::{anthropic_tool_use, gemini_answer, GeminiUsage};
use support::fixture::{self, project};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CODE: &str = "import os\n\ndef run(cmd):\n    os.system('ls ' + cmd)\n";

fn finding() -> Value {
    json!({"file": "tool.py", "start_line": 4, "end_line": 4, "severity": "high", "category": "injection",
           "cwe": 78, "title": "Command injection in run", "description": "cmd reaches os.system unescaped.",
           "suggestion": "Use subprocess with a list.", "confidence": 0.9})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_with_anthropic_and_gemini_native_apis() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "ant-key-123456"))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_tool_use(
            "claude-sonnet-4-5",
            "report_findings",
            json!({"findings": [finding()]}),
            (1000, 200),
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.5-flash:generateContent"))
        .and(header("x-goog-api-key", "gem-key-654321"))
        .respond_with(ResponseTemplate::new(200).set_body_json(gemini_answer(
            "gemini-2.5-flash",
            json!([
                {"text": "The cmd argument flows into a shell.", "thought": true},
                {"text": json!({"findings": [finding()]}).to_string()}
            ]),
            GeminiUsage {
                prompt: 900,
                candidates: 150,
                thoughts: 50,
            },
        )))
        .expect(1)
        .mount(&server)
        .await;

    let config = format!(
        "[providers.claude]\npreset = \"anthropic\"\nbase_url = \"{uri}\"\nmodel = \"claude-sonnet-4-5\"\n\
         send_key_to = \"127.0.0.1\"\nprice_input_per_mtok = 3.0\nprice_output_per_mtok = 15.0\n\n\
         [providers.gemini]\npreset = \"gemini\"\nbase_url = \"{uri}/v1beta\"\nmodel = \"gemini-2.5-flash\"\n\
         send_key_to = \"127.0.0.1\"\n",
        uri = server.uri()
    );
    let dir = project(&[("src/tool.py", CODE)], &config);
    // The presets name key variables: a found file needs the user's trust first.
    support::ok(&support::quorum(dir.path(), &["trust"], &[]));
    let keys = [
        ("ANTHROPIC_API_KEY", "ant-key-123456"),
        ("GEMINI_API_KEY", "gem-key-654321"),
    ];
    let out = support::quorum_async(dir.path(), &["review", "src", "--out", "out", "--quiet"], &keys).await;
    support::ok(&out);

    let report = fixture::report(&dir.path().join("out"));
    let issue = &report["issues"][0];
    assert_eq!(issue["agreement"]["count"], 2, "{report:#}");
    assert_eq!(issue["cwe"], 78);
    assert_eq!(issue["file"], "tool.py");
    let providers = report["run"]["providers"].as_array().unwrap();
    let claude = providers.iter().find(|p| p["name"] == "claude").unwrap();
    assert_eq!(claude["input_tokens"], 1000);
    assert_eq!(claude["cost_usd"], 0.006, "1000 × $3/M + 200 × $15/M");
    let gemini = providers.iter().find(|p| p["name"] == "gemini").unwrap();
    assert_eq!(gemini["output_tokens"], 200, "thinking tokens count as output");
    assert_eq!(
        gemini["cost_usd"], 0.00077,
        "no price configured: the built-in one, 900 × $0.30/M + 200 × $2.50/M"
    );
    let store = std::fs::read_to_string(dir.path().join("out/responses.jsonl")).unwrap();
    assert!(
        store.contains("The cmd argument flows into a shell."),
        "thought parts are kept apart, in the store"
    );
    assert!(!store.contains("ant-key-123456") && !store.contains("gem-key-654321"));
}
