//! Hostile model output costs nothing: an answer flooding the report with findings, or
//! with fields megabytes long, is used only up to the limits, what was cut is recorded
//! in the reports, and no report copies the flood. Through the real path: the analysis
//! every report is built from, and the binary against a loopback server.

mod support;

use std::collections::HashMap;

use quorum::analysis::{self, MAX_MESSAGE_CHARS};
use quorum::consensus::Settings;
use quorum::normalize::finding::{MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS};
use quorum::normalize::parse::MAX_FINDINGS_PER_ANSWER;
use quorum::store::{ResponseRecord, RunMeta};
use serde_json::{json, Value};
use support::chat;
use support::fixture::{self, openai_provider, project};
use support::server::chat_server;

/// One answer of `count` findings about `app.go`, all on a few lines and titled alike
/// (the worst case for clustering), the first one with a megabyte-long description.
fn flood(count: usize) -> String {
    let findings: Vec<Value> = (0..count)
        .map(|i| {
            let line = 10 + (i % 5) as u32;
            let description = if i == 0 {
                "A crafted value changes the statement. ".repeat(30_000)
            } else {
                format!("The handler {} concatenates the query parameter into the SQL.", i % 7)
            };
            json!({"file": "app.go", "start_line": line, "end_line": line + 2, "severity": "high",
                   "category": "injection", "cwe": 89, "title": format!("SQL injection in handler {}", i % 50),
                   "description": description, "suggestion": "Use a parameterized query."})
        })
        .collect();
    json!({ "findings": findings }).to_string()
}

fn meta() -> RunMeta {
    serde_json::from_value(json!({
        "schema_version": 1, "run_id": "r", "root": "/x", "started_at": "t",
        "providers": [{"name": "evil", "kind": "openai", "model": "m", "family": "evil"}],
        "files": [{"path": "app.go", "lines": 200, "content_hash": "h"}],
        "skipped": []
    }))
    .unwrap()
}

fn record(fields: Value) -> ResponseRecord {
    let mut record = json!({"provider": "evil", "model": "m", "file": "app.go", "content_hash": "h"});
    record
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    serde_json::from_value(record).unwrap()
}

#[test]
fn a_flooding_answer_is_used_up_to_the_limits_and_the_cut_is_reported() {
    for count in [10_000, 100_000] {
        let answer = record(json!({"status": "ok", "text": flood(count), "finish_reason": "stop"}));
        let a = analysis::analyze(meta(), vec![answer], &HashMap::new(), &Settings::default());

        assert_eq!(a.cuts.len(), 1, "{count}: one answer was cut");
        assert_eq!(a.cuts[0].cut.findings, count - MAX_FINDINGS_PER_ANSWER);
        assert_eq!(a.cuts[0].cut.fields, 1, "the long description");
        assert_eq!(a.providers[0].findings, MAX_FINDINGS_PER_ANSWER);
        assert_eq!(a.providers[0].cut_findings, count - MAX_FINDINGS_PER_ANSWER);
        let findings: Vec<_> = a.issues.iter().flat_map(|i| &i.findings).collect();
        assert_eq!(findings.len(), MAX_FINDINGS_PER_ANSWER);
        assert!(findings
            .iter()
            .all(|f| f.description.chars().count() <= MAX_DESCRIPTION_CHARS
                && f.title.chars().count() <= MAX_TITLE_CHARS));

        let report: Value = serde_json::from_str(&quorum::report::json(&a).unwrap()).unwrap();
        assert_eq!(report["cut"][0]["cut"]["findings"], count - MAX_FINDINGS_PER_ANSWER);
        assert_eq!(report["cut"][0]["provider"], "evil");
        assert_eq!(
            report["run"]["providers"][0]["cut_findings"],
            count - MAX_FINDINGS_PER_ANSWER
        );
        let markdown = quorum::report::markdown(&a);
        assert!(markdown.contains("## Answers cut"), "{markdown}");
        assert!(markdown.contains(&format!("| evil | app.go | {} | 1 |", count - MAX_FINDINGS_PER_ANSWER)));
        // Every report is bounded by the limits, not by the answer.
        for text in [
            quorum::report::json(&a).unwrap(),
            markdown,
            quorum::report::html::html(&a, &HashMap::new()),
            quorum::report::sarif::sarif(&a).unwrap(),
        ] {
            assert!(
                text.len() < 2 * 1024 * 1024,
                "{count}: a report of {} bytes",
                text.len()
            );
        }
    }
}

#[test]
fn an_answer_within_the_limits_reports_no_cut() {
    let answer = record(json!({"status": "ok", "text": one_finding(), "finish_reason": "stop"}));
    let a = analysis::analyze(meta(), vec![answer], &HashMap::new(), &Settings::default());
    assert_eq!(a.issues.len(), 1);
    assert!(a.cuts.is_empty());
    let report = quorum::report::json(&a).unwrap();
    assert!(
        !report.contains("\"cut"),
        "no cut fields when nothing was cut: {report}"
    );
    assert!(!quorum::report::markdown(&a).contains("Answers cut"));
}

fn one_finding() -> String {
    json!({"findings": [{"file": "app.go", "start_line": 3, "title": "SQL injection", "cwe": 89}]}).to_string()
}

#[test]
fn error_messages_from_stored_records_are_excerpts() {
    let failed = record(json!({"status": "error", "error": {"kind": "server", "message": "x".repeat(1_000_000)}}));
    let a = analysis::analyze(meta(), vec![failed], &HashMap::new(), &Settings::default());
    assert_eq!(a.errors[0].message.chars().count(), MAX_MESSAGE_CHARS);
    let wrong_model = record(json!({"status": "ok", "text": one_finding(), "finish_reason": "stop",
                                    "served_model": "m".repeat(1_000_000)}));
    let a = analysis::analyze(meta(), vec![wrong_model], &HashMap::new(), &Settings::default());
    assert_eq!(a.errors[0].stage, "wrong-model");
    assert_eq!(a.errors[0].message.chars().count(), MAX_MESSAGE_CHARS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_of_a_flooding_answer_reports_the_cut() {
    let answer = chat::reply(&flood(10_000), (1000, 100));
    let (server, _seen) = chat_server(move |_| answer.clone()).await;
    let code: String = (1..=200).map(|i| format!("// line {i}\n")).collect();
    let config = openai_provider("evil", &format!("{}/v1", server.uri()), "m", "context_tokens = 100000");
    let dir = project(&[("src/app.go", &code)], &config);
    support::ok(&support::quorum_async(dir.path(), &["review", "src", "--out", "out", "--quiet"], &[]).await);

    let report = fixture::report(&dir.path().join("out"));
    assert_eq!(report["cut"][0]["file"], "app.go", "{report:#}");
    assert_eq!(report["cut"][0]["cut"]["findings"], 10_000 - MAX_FINDINGS_PER_ANSWER);
    assert_eq!(report["cut"][0]["cut"]["fields"], 1);
    let markdown = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(markdown.contains("## Answers cut"), "{markdown}");
    for name in ["report.json", "report.md", "report.html", "report.sarif"] {
        let len = std::fs::metadata(dir.path().join("out").join(name)).unwrap().len();
        assert!(len < 2 * 1024 * 1024, "{name} holds {len} bytes");
    }
}
