//! Fault injection: 2% of answers are a 429, a 500, a hang past the timeout, or a body
//! that is not JSON. Every job must end answered or failed-with-reason, none lost, none
//! recorded twice, and the concurrency caps must hold.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use quorum::engine::{self, Backoff, Reviewer};
use quorum::input::walk::SourceFile;
use quorum::store::{read_records, Status};
use support::chat::{self, openai_error, NO_FINDINGS};
use support::sim;

fn files(n: usize) -> Vec<SourceFile> {
    support::engine::go_files(n, |i| format!("f{i:03}.go"))
}

fn reviewers(server: &str, specs: &[(&str, usize)]) -> Vec<Reviewer> {
    reviewers_with(server, specs, "")
}

/// Reviewers that give up on a request after 1 s and try each job at most 4 times.
fn reviewers_with(server: &str, specs: &[(&str, usize)], extra: &str) -> Vec<Reviewer> {
    support::engine::reviewers(server, specs, &format!("timeout_secs = 1\nmax_attempts = 4\n{extra}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_ends_answered_or_failed_with_a_reason_none_lost_none_twice() {
    let models = [
        (
            "fast",
            sim::Model {
                latency: Duration::from_millis(5),
                cap: 8,
            },
        ),
        (
            "slow",
            sim::Model {
                latency: Duration::from_millis(20),
                cap: 4,
            },
        ),
    ];
    let (server, stats) = sim::start(&models, Some(50), Duration::from_secs(3)).await;
    let files = files(200);
    let reviewers = reviewers(&server.uri(), &[("fast", 8), ("slow", 4)]);
    assert_eq!(engine::plan(&files, &reviewers).len(), 400);
    let dir = tempfile::tempdir().unwrap();
    let options = engine::Options {
        backoff: Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(200),
        },
        ..engine::Options::default()
    };
    let summary = support::engine::run_silently(&files, &reviewers, dir.path(), None, &options).await;

    let records = read_records(dir.path()).unwrap();
    assert!(records.unreadable_lines.is_empty());
    let mut per_job: HashMap<(String, String), usize> = HashMap::new();
    for r in &records.records {
        *per_job.entry((r.provider.clone(), r.file.clone())).or_default() += 1;
        match r.status {
            Status::Ok => assert!(r.text.is_some()),
            _ => assert!(r.error.as_ref().is_some_and(|e| !e.message.is_empty()), "{r:?}"),
        }
    }
    assert_eq!(per_job.len(), 400, "no job lost");
    assert!(per_job.values().all(|n| *n == 1), "no job recorded twice");
    assert_eq!(summary.ok + summary.failed + summary.skipped, 400);
    assert!(
        stats.faults.load(std::sync::atomic::Ordering::SeqCst) >= 8,
        "faults were injected"
    );
    assert_eq!(
        stats.over_cap.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the concurrency caps held"
    );
    // 429, 500 and hangs are retried and recovered; a 200 whose body is not the API's
    // JSON is not retryable (issue: "not what the API documents"): it fails, with reason.
    let failed: Vec<_> = records.records.iter().filter(|r| r.status != Status::Ok).collect();
    assert!(
        failed
            .iter()
            .all(|r| r.error.as_ref().unwrap().kind == providers::ErrorKind::BadResponse),
        "{failed:#?}"
    );
    assert!(failed.len() <= 3 && summary.ok >= 397, "{summary:?}");
}

fn fast_options() -> engine::Options {
    engine::Options {
        backoff: Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(200),
        },
        cool_down: Duration::from_millis(100),
        ..engine::Options::default()
    }
}

async fn run_all(
    files: &[SourceFile],
    reviewers: &[Reviewer],
    options: &engine::Options,
) -> (engine::Summary, Vec<quorum::store::ResponseRecord>) {
    let dir = tempfile::tempdir().unwrap();
    let summary = support::engine::run_silently(files, reviewers, dir.path(), None, options).await;
    (summary, read_records(dir.path()).unwrap().records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_configured_above_the_servers_capacity_slows_down_instead_of_failing() {
    let models = [(
        "busy",
        sim::Model {
            latency: Duration::from_millis(20),
            cap: 2,
        },
    )];
    let (server, stats) = sim::start(&models, None, Duration::ZERO).await;
    let files = files(60);
    let reviewers = reviewers(&server.uri(), &[("busy", 6)]);
    let (summary, records) = run_all(&files, &reviewers, &fast_options()).await;
    assert!(
        stats.over_cap.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the server did answer 429s"
    );
    assert_eq!(summary.ok, 60, "{summary:?}");
    assert!(records.iter().all(|r| r.status == Status::Ok));
}

/// Answers `context_length_exceeded` for files named `*.min.js` and findings otherwise,
/// after failing the first `warm_up` requests with 503 "model is loading".
struct Selective {
    warm_up: usize,
    seen: std::sync::atomic::AtomicUsize,
}

impl wiremock::Respond for Selective {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let n = self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n < self.warm_up {
            return wiremock::ResponseTemplate::new(503)
                .set_body_json(serde_json::json!({"error": "Model is loading"}));
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let user = body["messages"][1]["content"].as_str().unwrap_or_default();
        if support::chat::prompt_file(user).ends_with(".min.js") {
            return wiremock::ResponseTemplate::new(400).set_body_json(openai_error(
                "This model's maximum context length is 4096 tokens.",
                "invalid_request_error",
                Some("messages"),
                Some("context_length_exceeded"),
            ));
        }
        chat::reply(NO_FINDINGS, (100, 5))
    }
}

async fn selective(warm_up: usize) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(Selective {
            warm_up,
            seen: Default::default(),
        })
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_about_one_file_do_not_mark_a_provider_down() {
    let server = selective(0).await;
    let mut files = files(10);
    for i in 0..6 {
        // One long line each: too long for the model, and too small to split.
        files.insert(
            0,
            SourceFile {
                path: format!("dist/a{i}.min.js"),
                text: "x".repeat(3000),
                content_hash: format!("h{i}"),
                changed: None,
            },
        );
    }
    let reviewers = reviewers(&server.uri(), &[("local", 1)]);
    let (summary, records) = run_all(&files, &reviewers, &fast_options()).await;
    assert_eq!(summary.failed, 6, "{summary:?}");
    assert_eq!(
        summary.ok, 10,
        "the provider kept working after six per-file failures: {summary:?}"
    );
    assert!(records.iter().all(|r| r.status != Status::Skipped));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_still_loading_gets_a_rest_and_then_serves_the_run() {
    let server = selective(12).await;
    let files = files(20);
    let reviewers = reviewers_with(&server.uri(), &[("loading", 1)], "");
    let (summary, records) = run_all(&files, &reviewers, &fast_options()).await;
    assert_eq!(summary.skipped, 0, "never marked down for good: {summary:?}");
    assert!(summary.ok >= 16, "{summary:?}");
    assert!(
        records.iter().rev().take(10).all(|r| r.status == Status::Ok),
        "the end of the run is served"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_is_never_exceeded_even_with_requests_in_flight() {
    let models = [(
        "paid",
        sim::Model {
            latency: Duration::from_millis(10),
            cap: 8,
        },
    )];
    let (server, _stats) = sim::start(&models, None, Duration::ZERO).await;
    let files = files(100);
    // Each answer: 500 input + 60 output tokens at $20/M = $0.0112; the worst case
    // reserved per request (estimated input + 4096 output) is about $0.09.
    let reviewers = reviewers_with(
        &server.uri(),
        &[("paid", 4)],
        "price_input_per_mtok = 20.0\nprice_output_per_mtok = 20.0",
    );
    let options = engine::Options {
        max_cost_usd: Some(0.5),
        ..fast_options()
    };
    let (summary, records) = run_all(&files, &reviewers, &options).await;
    let spent: f64 = records
        .iter()
        .map(|r| (r.usage.input_tokens.unwrap_or(0) + r.usage.output_tokens.unwrap_or(0)) as f64 * 20.0 / 1e6)
        .sum();
    assert!(spent <= 0.5, "spent ${spent}");
    assert!(summary.ok >= 30, "the budget is used, not abandoned early: {summary:?}");
    assert!(
        summary
            .stopped_early
            .as_deref()
            .is_some_and(|w| w.contains("--max-cost")),
        "{summary:?}"
    );
}
