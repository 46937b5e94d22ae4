//! A run that fails fast on a broken provider: the checks before the run drop a provider
//! nothing listens for, one whose key is refused, or one whose model list lacks its
//! model, each in one line, and stop with exit 3 when none is left; during the run,
//! refused connections and answers from another model mark a provider down after a
//! few; `-v` logs each request without the key.

mod support;

use std::time::{Duration, Instant};

use quorum::engine::{self, Backoff};
use quorum::store::{read_records, Status};
use serde_json::json;
use support::chat::{chat_completion, openai_error, NO_FINDINGS};
use support::fixture::{openai_provider, project, records, report};
use support::server::{answer_model_list, answering, chat_server, closed_port, requests};
use support::{ok, quorum, quorum_async, stderr};
use wiremock::ResponseTemplate;

/// Files every review here reviews.
const FILES: [(&str, &str); 6] = [
    ("src/a.rs", "fn a() {}\n"),
    ("src/b.rs", "fn b() {}\n"),
    ("src/c.rs", "fn c() {}\n"),
    ("src/d.rs", "fn d() {}\n"),
    ("src/e.rs", "fn e() {}\n"),
    ("src/f.rs", "fn f() {}\n"),
];

/// The generous bound on a run that should end in well under a second (the real time is
/// printed): only a run that waits for retries or rests would pass it.
const FAST: Duration = Duration::from_secs(30);

/// A chat completion that found nothing, said to come from `model`.
fn answer_from(model: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(chat_completion(NO_FINDINGS, json!({}), Some(model), (10, 5)))
}

/// The lines of `text` that start with `start`.
fn lines_starting<'a>(text: &'a str, start: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(start)).collect()
}

#[test]
fn nothing_listening_fails_in_a_moment_with_one_line_per_provider_and_exit_3() {
    let config = openai_provider(
        "nemotron",
        &format!("{}/v1", closed_port()),
        "nvidia/nemotron",
        "preset = \"lmstudio\"",
    ) + &openai_provider("qwen", &format!("{}/v1", closed_port()), "qwen/qwen3", "");
    let dir = project(&FILES, &config);
    let started = Instant::now();
    let out = quorum(dir.path(), &["review", "src"], &[]);
    let took = started.elapsed();
    eprintln!("nothing listening: exit {:?} after {took:?}", out.status.code());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(took < FAST, "{took:?}");
    let nemotron = lines_starting(&err, "nemotron: dropped: nothing is listening at http://127.0.0.1:");
    assert_eq!(nemotron.len(), 1, "{err}");
    assert!(
        nemotron[0].contains("(connection refused); start LM Studio's server"),
        "{err}"
    );
    assert_eq!(
        lines_starting(&err, "qwen: dropped: nothing is listening at").len(),
        1,
        "{err}"
    );
    assert!(err.contains("error: no provider can be used"), "{err}");
    assert!(
        !dir.path().join("quorum-report").exists(),
        "a run that cannot start leaves nothing behind"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_nothing_listens_for_is_dropped_and_the_others_review() {
    let (server, seen) = chat_server(|ask| answer_from(&ask.model)).await;
    let config = openai_provider("dead", &format!("{}/v1", closed_port()), "m", "")
        + &openai_provider("good", &format!("{}/v1", server.uri()), "good-model", "");
    let dir = project(&FILES, &config);
    let started = Instant::now();
    let err = ok(&quorum_async(dir.path(), &["review", "src"], &[]).await);
    eprintln!("one provider dropped: review took {:?}", started.elapsed());
    assert_eq!(lines_starting(&err, "dead: dropped: ").len(), 1, "{err}");
    assert_eq!(seen.count_of("good-model"), FILES.len(), "{err}");
    let providers = report(&dir.path().join("quorum-report"))["run"]["providers"].clone();
    let names: Vec<&str> = providers
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["good"], "a dropped provider is not part of the run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_is_dropped_before_any_chat_request() {
    let refusing = answering(ResponseTemplate::new(401).set_body_json(openai_error(
        "Incorrect API key provided",
        "invalid_request_error",
        None,
        Some("invalid_api_key"),
    )))
    .await;
    let (server, seen) = chat_server(|ask| answer_from(&ask.model)).await;
    let config = openai_provider(
        "badkey",
        &format!("{}/v1", refusing.uri()),
        "m",
        "api_key_env = \"QUORUM_FF_WRONG_KEY\"",
    ) + &openai_provider("good", &format!("{}/v1", server.uri()), "good-model", "");
    let dir = project(&FILES, &config);
    ok(&quorum_async(dir.path(), &["trust"], &[]).await);
    let env = [("QUORUM_FF_WRONG_KEY", "sk-ff-wrong-0123456789")];
    let err = ok(&quorum_async(dir.path(), &["review", "src"], &env).await);
    let dropped = lines_starting(&err, "badkey: dropped: the key was refused");
    assert_eq!(dropped.len(), 1, "{err}");
    assert!(
        dropped[0].contains("QUORUM_FF_WRONG_KEY"),
        "the variable is named: {err}"
    );
    let asked = refusing.received_requests().await.unwrap();
    assert_eq!(asked.len(), 1, "only the model list");
    assert!(
        asked[0].method.as_str() == "GET" && asked[0].url.path() == "/v1/models",
        "{} {}",
        asked[0].method,
        asked[0].url
    );
    assert_eq!(seen.count_of("good-model"), FILES.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_list_without_the_model_drops_it_and_a_server_without_a_list_is_kept() {
    let listing = answering(
        ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": [{"id": "google/gemma-3-12b"}]})),
    )
    .await;
    // `chat_server` answers 404 to every route but chat completions: no model list.
    let (server, seen) = chat_server(|ask| answer_from(&ask.model)).await;
    let config = openai_provider("absent", &format!("{}/v1", listing.uri()), "qwen/qwen3-coder-30b", "")
        + &openai_provider("unlisted", &format!("{}/v1", server.uri()), "good-model", "");
    let dir = project(&FILES, &config);
    let err = ok(&quorum_async(dir.path(), &["review", "src"], &[]).await);
    let dropped = lines_starting(&err, "absent: dropped: the model is missing: ");
    assert_eq!(dropped.len(), 1, "{err}");
    assert!(
        dropped[0].contains("\"qwen/qwen3-coder-30b\" is not on the server; it has: google/gemma-3-12b"),
        "{err}"
    );
    assert_eq!(requests(&listing).await, 1, "only the model list");
    assert!(lines_starting(&err, "unlisted: dropped").is_empty(), "{err}");
    assert_eq!(seen.count_of("good-model"), FILES.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_list_that_fails_without_refusing_the_key_keeps_the_provider() {
    // 403: an OpenAI key restricted from reading models, which may still chat; 408, 429
    // and 503: the server is busy. None of them says the provider cannot answer.
    let mut config = String::new();
    let mut servers = Vec::new();
    for status in [403, 408, 429, 503] {
        let (server, seen) = chat_server(|ask| answer_from(&ask.model)).await;
        let answer = ResponseTemplate::new(status).set_body_json(openai_error("not now", "error", None, None));
        answer_model_list(&server, "/v1/models", answer).await;
        config += &openai_provider(&format!("p{status}"), &format!("{}/v1", server.uri()), "m", "");
        servers.push((status, server, seen));
    }
    let dir = project(&FILES, &config);
    let err = ok(&quorum_async(dir.path(), &["review", "src", "--no-cache"], &[]).await);
    assert!(!err.contains("dropped"), "{err}");
    for (status, server, seen) in &servers {
        assert_eq!(seen.count_of("m"), FILES.len(), "{status}: {err}");
        let listed = server.received_requests().await.unwrap();
        assert_eq!(listed[0].url.path(), "/v1/models", "{status}: the list was asked first");
    }
}

/// Reviews the six files with `qwen`, whose server answers every request as
/// `google/gemma-3-12b` and has no model list, and `good`; returns how many requests
/// `qwen` sent, and the run's stderr.
async fn review_with_a_wrong_model(extra: &str) -> (usize, String, tempfile::TempDir) {
    let (server, seen) = chat_server(|ask| {
        answer_from(if ask.model == "good-model" {
            "good-model"
        } else {
            "google/gemma-3-12b"
        })
    })
    .await;
    let base = format!("{}/v1", server.uri());
    let config = openai_provider("qwen", &base, "qwen/qwen3-coder-30b", extra)
        + &openai_provider("good", &base, "good-model", "");
    let dir = project(&FILES, &config);
    let err = support::incomplete(&quorum_async(dir.path(), &["review", "src", "--no-cache"], &[]).await);
    assert_eq!(seen.count_of("good-model"), FILES.len());
    (seen.count_of("qwen/qwen3-coder-30b"), err, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_from_another_model_mark_the_provider_down_after_at_most_three_requests() {
    let (asked, err, dir) = review_with_a_wrong_model("").await;
    eprintln!("wrong model, one request at a time: {asked} requests");
    assert!((1..=3).contains(&asked), "{asked} requests\n{err}");
    let down = lines_starting(&err, "qwen is marked down and gets no more requests: ");
    assert_eq!(down.len(), 1, "{err}");
    assert!(
        down[0].contains("\"google/gemma-3-12b\"") && down[0].contains("\"qwen/qwen3-coder-30b\""),
        "the reason names both models: {err}"
    );
    let records = records(&dir.path().join("quorum-report"));
    let skipped = records
        .iter()
        .filter(|r| r["provider"] == "qwen" && r["status"] == "skipped")
        .count();
    assert_eq!(skipped, FILES.len() - asked, "the rest are not sent: {records:#?}");
    let counts = format!(
        "This run: {} answered, 0 from the cache, {asked} failed, {skipped} skipped",
        FILES.len()
    );
    assert!(err.contains(&counts), "a discarded answer is not answered: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_wrong_models_in_a_row_mark_a_provider_down_and_a_discarded_answer_is_not_answered() {
    // Every other file is answered by another model: each is thrown away, but the
    // server serves the model asked for in between, so it is not marked down.
    let (server, seen) = chat_server(|ask| {
        let wrong = ask.model == "qwen" && ["a.rs", "c.rs", "e.rs"].contains(&ask.file.as_str());
        answer_from(if wrong { "google/gemma-3-12b" } else { &ask.model })
    })
    .await;
    let base = format!("{}/v1", server.uri());
    let config = openai_provider("qwen", &base, "qwen", "") + &openai_provider("good", &base, "good", "");
    let dir = project(&FILES, &config);
    let err = support::incomplete(&quorum_async(dir.path(), &["review", "src", "--no-cache"], &[]).await);
    assert!(lines_starting(&err, "qwen is marked down").is_empty(), "{err}");
    assert_eq!(seen.count_of("qwen"), FILES.len(), "{err}");
    let discarded: Vec<&str> = err.lines().filter(|l| l.contains("qwen · ")).collect();
    assert_eq!(
        discarded
            .iter()
            .filter(|l| l.ends_with("discarded: google/gemma-3-12b answered, not qwen"))
            .count(),
        3,
        "{err}"
    );
    assert!(
        err.contains("3 answers failed or were unusable")
            && err.contains("This run: 9 answered, 0 from the cache, 3 failed"),
        "the counts agree: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_requests_at_once_a_wrong_model_still_costs_at_most_three() {
    let (asked, err, _dir) = review_with_a_wrong_model("max_concurrency = 2").await;
    eprintln!("wrong model, two requests at a time: {asked} requests");
    assert!((1..=3).contains(&asked), "{asked} requests\n{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_logs_each_request_and_its_retry_decision_but_never_the_key() {
    const KEY: &str = "sk-ff-secret-key-9876543210";
    let (server, _seen) = chat_server(|ask| {
        if ask.model == "flaky-model" {
            ResponseTemplate::new(500).set_body_json(openai_error("overloaded", "server_error", None, None))
        } else {
            answer_from(&ask.model)
        }
    })
    .await;
    let base = format!("{}/v1", server.uri());
    let config = openai_provider("good", &base, "good-model", "api_key_env = \"QUORUM_FF_KEY\"")
        + &openai_provider("flaky", &base, "flaky-model", "max_attempts = 2");
    let dir = project(&FILES[..1], &config);
    ok(&quorum_async(dir.path(), &["trust"], &[]).await);
    let env = [("QUORUM_FF_KEY", KEY)];
    let out = quorum_async(dir.path(), &["review", "src", "--no-cache", "-v"], &env).await;
    let err = support::incomplete(&out);
    let requests = lines_starting_with_field(&err, "request");
    let good = requests
        .iter()
        .find(|l| l.contains("provider=good "))
        .unwrap_or_else(|| panic!("a request line for good: {err}"));
    assert!(
        good.contains("file=a.rs") && good.contains("status=ok served=good-model latency_ms="),
        "{good}"
    );
    assert!(
        requests
            .iter()
            .any(|l| l.contains("provider=flaky ") && l.contains("status=500")),
        "{err}"
    );
    assert!(err.contains("retrying in"), "the retry decision: {err}");
    assert!(err.contains("giving up: no attempt left"), "{err}");
    assert!(!err.contains(KEY) && !support::stdout(&out).contains(KEY), "{err}");
    assert!(!err.contains("fn a()"), "no code in the log: {err}");

    // Without -v the output says nothing of the sort.
    let quiet = support::incomplete(&quorum_async(dir.path(), &["review", "src", "--no-cache"], &env).await);
    assert!(!quiet.contains("DEBUG") && !quiet.contains("latency_ms"), "{quiet}");
    // QUORUM_LOG=debug does what -v does.
    let logged = support::incomplete(
        &quorum_async(
            dir.path(),
            &["review", "src", "--no-cache"],
            &[env[0], ("QUORUM_LOG", "debug")],
        )
        .await,
    );
    assert!(!lines_starting_with_field(&logged, "request").is_empty(), "{logged}");
}

/// The log lines whose message is `message` (after the time and level).
fn lines_starting_with_field<'a>(text: &'a str, message: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.contains(" DEBUG ") && l.contains(&format!("DEBUG {message} ")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_during_a_run_mark_the_provider_down_across_jobs() {
    // The engine alone: the checks before the run would drop this provider.
    let files = support::engine::go_files(6, |i| format!("f{i}.go"));
    let reviewers = support::engine::reviewers(&closed_port(), &[("gone", 1)], "");
    let options = engine::Options {
        backoff: Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
        },
        ..engine::Options::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    support::engine::run_silently(&files, &reviewers, dir.path(), None, &options).await;
    eprintln!("refused connections: run took {:?}", started.elapsed());
    let records = read_records(dir.path()).unwrap().records;
    let attempts: u32 = records.iter().map(|r| r.attempts).sum();
    assert_eq!(attempts, 2, "two refusals, then no more requests: {records:#?}");
    // The two refused requests may be one job's retry or two jobs' first tries; every
    // other job is recorded as not sent, with the reason.
    let skipped: Vec<_> = records.iter().filter(|r| r.status == Status::Skipped).collect();
    let failed = records.iter().filter(|r| r.status == Status::Error).count();
    assert_eq!((failed + skipped.len(), records.len()), (6, 6), "{records:#?}");
    assert!(skipped.len() >= 4, "{records:#?}");
    for record in skipped {
        let why = &record.error.as_ref().unwrap().message;
        assert!(why.contains("2 connections in a row were refused"), "{why}");
    }
}
