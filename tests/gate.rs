//! The CI gate and the exit codes of a review, through the real binary: `--fail-on`
//! by severity and agreement on the offline demo and on `aggregate`, what the gate does
//! not count (issues already decided, pre-existing issues of a `--since` review), exit 3
//! when no answer is usable, and exit 4 for an incomplete review (0 with
//! `--allow-partial`). Models are the demo's recorded answers or a loopback server.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};
use support::chat::{chat_completion, openai_error, NO_FINDINGS};
use support::fixture::{self, demo_review};
use support::server::chat_server;
use support::{ok, stderr};
use wiremock::{MockServer, ResponseTemplate};

/// The ids of `report`'s issues at `severity` or above (critical > high > …) with at
/// least `min` agreeing families.
fn ids_at(report: &Value, severities: &[&str], min: u64) -> Vec<String> {
    report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| severities.contains(&i["severity"].as_str().unwrap()))
        .filter(|i| i["agreement"]["count"].as_u64().unwrap() >= min)
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

#[test]
fn the_demo_fails_the_gate_at_high_with_two_families_and_passes_at_critical_with_four() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let failed = demo_review(&out, &["--quiet", "--fail-on", "high", "--min-agree", "2"]);
    let err = stderr(&failed);
    assert_eq!(code(&failed), Some(1), "{err}");
    let report = fixture::report(&out);
    let failing = ids_at(&report, &["high", "critical"], 2);
    assert!(failing.len() >= 2, "the demo has issues high and agreed: {report:#}");
    assert!(
        err.contains(&format!(
            "Gate failed: {} issues at high or above with agreement ≥ 2: {}",
            failing.len(),
            failing.join(", ")
        )),
        "{err}"
    );
    // --min-agree also filters the report: the gate counts what the report lists.
    assert!(report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["agreement"]["count"].as_u64() >= Some(2)));

    let passed = demo_review(&out, &["--quiet", "--fail-on", "critical", "--min-agree", "4"]);
    let err = ok(&passed);
    assert!(
        err.contains("Gate passed: no new issue at critical or above with agreement ≥ 4."),
        "{err}"
    );
    // Without --fail-on, issues do not fail a review.
    ok(&demo_review(&out, &["--quiet"]));
}

#[test]
fn aggregate_gates_the_same_way_and_issues_already_decided_do_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ok(&demo_review(&out, &["--quiet"]));
    let run = out.to_str().unwrap();
    let critical = ids_at(&fixture::report(&out), &["critical"], 1);
    assert!(!critical.is_empty());

    let aggregate = |args: &[&str]| {
        let merged = dir.path().join("merged");
        let base = ["aggregate", run, "--out", merged.to_str().unwrap(), "--quiet"];
        support::quorum(fixture::repo_root(), &[&base[..], args].concat(), &[])
    };
    let failed = aggregate(&["--fail-on", "critical"]);
    let err = stderr(&failed);
    assert_eq!(code(&failed), Some(1), "{err}");
    assert!(
        err.contains(&format!("with agreement ≥ 1: {}", critical.join(", "))),
        "{err}"
    );

    // Every issue in the baseline: nothing is left to act on, so nothing fails.
    let baseline = dir.path().join("old.json");
    std::fs::copy(out.join("report.json"), &baseline).unwrap();
    let err = ok(&aggregate(&[
        "--fail-on",
        "info",
        "--baseline",
        baseline.to_str().unwrap(),
    ]));
    assert!(err.contains("Gate passed"), "{err}");
}

#[test]
fn a_severity_fail_on_does_not_know_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo_review(&dir.path().join("out"), &["--fail-on", "severe"]);
    let err = support::refused(&out);
    assert!(err.contains("critical, high, medium, low, info"), "{err}");
}

/// A high SQL injection at line 3 of a file, as a model reports it.
fn sql_finding(file: &str) -> String {
    json!({"findings": [{"file": file, "start_line": 3, "end_line": 3, "severity": "high",
        "category": "injection", "cwe": 89, "title": "SQL injection in lookup",
        "description": "id reaches the query unescaped", "confidence": 0.9}]})
    .to_string()
}

/// Two models of different families on one server: both find the SQL injection in
/// `bad.go` and nothing elsewhere, except that `beta` gets a 400 on `flaky.go` when
/// `flaky`, or every answer is prose when `prose`.
async fn models(flaky: bool, prose: bool) -> MockServer {
    let (server, _seen) = chat_server(move |ask| {
        if flaky && ask.model == "beta" && ask.file.ends_with("flaky.go") {
            return ResponseTemplate::new(400).set_body_json(openai_error(
                "unsupported parameter",
                "invalid_request_error",
                None,
                None,
            ));
        }
        let content = match () {
            () if prose => "I looked at the code and it seems fine to me.".to_string(),
            () if ask.file.ends_with("bad.go") => sql_finding(&ask.file),
            () => NO_FINDINGS.to_string(),
        };
        ResponseTemplate::new(200).set_body_json(chat_completion(&content, json!({}), Some(&ask.model), (100, 10)))
    })
    .await;
    server
}

const BAD_GO: &str = "package p\n\nfunc lookup() { db.Query(\"SELECT \" + id) }\n\n\n\n\n\n\n\n\n\n\nfunc tail() {}\n";

/// `repo/bad.go` and `repo/flaky.go`, and a configuration naming `alpha` and `beta` on
/// `server`.
fn project(server: &MockServer) -> tempfile::TempDir {
    let providers = fixture::providers(
        &["alpha", "beta"],
        &format!("{}/v1", server.uri()),
        "context_tokens = 32000",
    );
    fixture::project(
        &[
            ("repo/bad.go", BAD_GO),
            ("repo/flaky.go", "package p\n\nfunc ok() {}\n"),
        ],
        &providers,
    )
}

/// `quorum review repo` into `out`, without the cache, with `args`.
async fn review(dir: &Path, args: &[&str]) -> Output {
    support::review_repo(dir, args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_failing_on_some_files_is_exit_4_unless_partial_is_allowed_and_the_gate_wins() {
    let server = models(true, false).await;
    let dir = project(&server);
    let root = dir.path();

    let partial = review(root, &[]).await;
    let err = stderr(&partial);
    assert_eq!(code(&partial), Some(4), "{err}");
    assert!(
        err.contains("Incomplete run (1 answer failed or was unusable, from beta;") && err.contains("exit 4"),
        "{err}"
    );
    let report = fixture::report(&root.join("out"));
    assert_eq!(
        report["errors"][0]["file"], "flaky.go",
        "the report says which: {report:#}"
    );

    let err = ok(&review(root, &["--allow-partial"]).await);
    assert!(err.contains("accepted with --allow-partial"), "{err}");

    // Partial and failing: the gate's 1 wins, and both facts are printed.
    let both = review(root, &["--fail-on", "high", "--min-agree", "2"]).await;
    let err = stderr(&both);
    assert_eq!(code(&both), Some(1), "{err}");
    assert!(
        err.contains("Gate failed: 1 issue at high or above with agreement ≥ 2: Q"),
        "{err}"
    );
    assert!(err.contains("Incomplete run"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suppressed_issue_does_not_fail_the_gate() {
    let server = models(false, false).await;
    let dir = project(&server);
    let root = dir.path();
    let failed = review(root, &["--fail-on", "high"]).await;
    assert_eq!(code(&failed), Some(1), "{}", stderr(&failed));
    let report = fixture::report(&root.join("out"));
    let id = report["issues"][0]["id"].as_str().unwrap().to_string();

    let suppress = support::quorum(
        root,
        &["suppress", &id, "--reason", "a test query", "--out", "out"],
        &[],
    );
    ok(&suppress);
    let err = ok(&review(root, &["--fail-on", "high"]).await);
    assert!(err.contains("Gate passed"), "{err}");
    assert_eq!(fixture::report(&root.join("out"))["suppressed"][0]["id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pre_existing_issue_of_a_since_review_does_not_fail_the_gate() {
    let server = models(false, false).await;
    let dir = project(&server);
    let root = dir.path();
    let repo = root.join("repo");
    let committed = fixture::git(&repo, &["init", "-q"])
        && fixture::git(&repo, &["add", "."])
        && fixture::git(&repo, &["commit", "-qm", "first"]);
    if !committed {
        eprintln!("SKIPPED: git is not on PATH");
        return;
    }
    // A change ten lines below the planted query: the issue is not the change's.
    std::fs::write(
        repo.join("bad.go"),
        BAD_GO.replace("func tail() {}", "func tail() { return }"),
    )
    .unwrap();
    let since = [
        "review",
        ".",
        "--since",
        "HEAD",
        "--config",
        "../quorum.toml",
        "--out",
        "../out",
        "--no-cache",
    ];
    let gated = support::quorum_async(&repo, &[&since[..], &["--quiet", "--fail-on", "high"]].concat(), &[]).await;
    let err = ok(&gated);
    assert!(err.contains("Gate passed"), "{err}");
    let report = fixture::report(&root.join("out"));
    assert_eq!(report["issues"][0]["pre_existing"], true, "{report:#}");

    // An empty change set is nothing to review: 0.
    fixture::git(&repo, &["commit", "-qam", "second"]);
    ok(&support::quorum_async(&repo, &[&since[..], &["--fail-on", "info"]].concat(), &[]).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_usable_answer_on_any_file_is_exit_3() {
    let server = models(false, true).await;
    let dir = project(&server);
    let out = review(dir.path(), &["--fail-on", "info", "--allow-partial"]).await;
    let err = stderr(&out);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(err.contains("No model produced a usable answer on any file"), "{err}");
    // aggregate of that run ends the same way.
    let again = support::quorum(dir.path(), &["aggregate", "out", "--quiet"], &[]);
    assert_eq!(code(&again), Some(3), "{}", stderr(&again));
}
