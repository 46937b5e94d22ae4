//! The judge pass through the real binary: a loopback server plays two reviewers and the
//! judge (routed by the prompt). A rejected issue ranks last, stays listed and fails no
//! gate; verdicts survive `aggregate` (no request) and `--resume` (none asked twice); a
//! judge that fails or answers nonsense leaves its issue unjudged, saying why; a judge
//! table that names nothing, or a judge-only provider no judge names, is a clear error.

mod support;

use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use support::chat::{chat_completion, is_judge_question, verdict};
use support::fixture::{self, openai_provider};
use support::server::{chat_server, Seen};
use support::{ok, refused, stderr};
use wiremock::{MockServer, ResponseTemplate};

/// A true SQL injection (low severity, so it ranks below the trap before judging) and a
/// command injection that another file makes safe (critical: it ranks first unjudged).
const APP_GO: &str = "package p\n\nfunc lookup() { db.Query(\"SELECT \" + id) }\n\nfunc run() { exec.Command(\"sh\", \"-c\", tool) }\n\n\n\n\nfunc tail() {}\n";

/// Both reviewers' answer on `app.go`: the two issues.
fn findings() -> String {
    json!({"findings": [
        {"file": "app.go", "start_line": 3, "end_line": 3, "severity": "low", "category": "injection",
         "cwe": 89, "title": "SQL injection in lookup", "description": "id is concatenated into SQL.",
         "confidence": 0.9},
        {"file": "app.go", "start_line": 5, "end_line": 5, "severity": "critical", "category": "injection",
         "cwe": 78, "title": "Command injection in run", "description": "tool reaches sh -c.",
         "confidence": 0.9}
    ]})
    .to_string()
}

/// How the judge answers a question about the command injection (the trap).
#[derive(Clone, Copy)]
enum Trap {
    Rejected,
    Fails,
    Garbage,
}

/// Reviewers `alpha` and `beta` report both issues; `judge` confirms the SQL injection and
/// answers about the trap as `trap` says until `fixed` turns true, then rejects it.
async fn server(trap: Trap, fixed: Arc<AtomicBool>) -> (MockServer, Seen) {
    chat_server(move |ask| {
        let content = if is_judge_question(&ask.user) {
            assert_eq!(ask.model, "judge", "only the judge is asked to judge");
            assert_eq!(
                ask.body["response_format"]["json_schema"]["schema"]["required"],
                json!(["verdict", "reason"])
            );
            match (
                ask.user.contains("Command injection in run"),
                trap,
                fixed.load(Ordering::SeqCst),
            ) {
                (false, _, _) => verdict("confirmed", "id comes from the request"),
                (true, Trap::Rejected, _) | (true, _, true) => {
                    verdict("rejected", "tool is a constant set in config.go")
                }
                (true, Trap::Fails, false) => return ResponseTemplate::new(500).set_body_string("boom"),
                (true, Trap::Garbage, false) => "I would rather not say.".to_string(),
            }
        } else {
            assert_ne!(ask.model, "judge", "a judge-only provider reviews nothing");
            findings()
        };
        ResponseTemplate::new(200).set_body_json(chat_completion(&content, json!({}), Some(&ask.model), (100, 10)))
    })
    .await
}

/// The project: `app.go` and a configuration with the two reviewers and the judge.
fn project(server: &MockServer) -> tempfile::TempDir {
    let url = format!("{}/v1", server.uri());
    let mut config = fixture::providers(&["alpha", "beta"], &url, "context_tokens = 32000");
    config.push_str(&openai_provider(
        "judge",
        &url,
        "judge",
        "review = false\nmax_attempts = 1",
    ));
    config.push_str("[judge]\nprovider = \"judge\"\ntop = 5\n");
    fixture::project(&[("repo/app.go", APP_GO)], &config)
}

async fn quorum(dir: &Path, args: &[&str]) -> Output {
    support::quorum_async(dir, args, &[]).await
}

async fn review(dir: &Path, args: &[&str]) -> Output {
    support::review_repo(dir, args).await
}

/// `quorum review --resume out` of the project's run.
async fn resume(dir: &Path) -> Output {
    let args = [
        "review",
        "repo",
        "--config",
        "quorum.toml",
        "--resume",
        "out",
        "--no-cache",
        "--quiet",
    ];
    quorum(dir, &args).await
}

/// The report's issues as (title, verdict or "-").
fn verdicts(report: &Value) -> Vec<(String, String)> {
    report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let verdict = i["judge"]["verdict"].as_str().unwrap_or("-");
            (i["title"].as_str().unwrap().to_string(), verdict.to_string())
        })
        .collect()
}

/// The report's issue titled `title`.
fn titled<'r>(report: &'r Value, title: &str) -> &'r Value {
    let issues = report["issues"].as_array().unwrap();
    issues.iter().find(|i| i["title"] == title).unwrap()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_issue_ranks_last_stays_listed_fails_no_gate_and_survives_aggregate() {
    let (server, seen) = server(Trap::Rejected, Arc::default()).await;
    let dir = project(&server);
    let root = dir.path();
    let out = root.join("out");

    let err = ok(&review(
        root,
        &["--fail-on", "critical", "--format", "json,md,sarif,rdjson,html"],
    )
    .await);
    assert!(
        err.contains("Gate passed"),
        "the only critical issue was rejected: {err}"
    );
    assert_eq!(seen.asked("Judge this reported issue."), 2, "one question per issue");
    let report = fixture::report(&out);
    assert_eq!(
        verdicts(&report),
        pairs(&[
            ("SQL injection in lookup", "confirmed"),
            ("Command injection in run", "rejected")
        ]),
        "{report:#}"
    );
    let trap = &report["issues"][1];
    assert_eq!(
        trap["judge"],
        json!({"provider": "judge", "verdict": "rejected", "reason": "tool is a constant set in config.go"})
    );
    assert_eq!(trap["agreement"]["count"], 2, "still agreed by both reviewers");
    assert_eq!(report["run"]["judge"]["rejected"], 1);
    assert_eq!(report["run"]["judge"]["confirmed"], 1);
    assert_eq!(report["run"]["judge"]["unjudged"], 0);
    // The judge's records are of their own kind, each naming its issue.
    let judged: Vec<Value> = fixture::records(&out)
        .into_iter()
        .filter(|r| r["kind"] == "judge")
        .collect();
    assert_eq!(judged.len(), 2);
    assert!(judged
        .iter()
        .all(|r| r["provider"] == "judge" && r["issue"].as_str().is_some_and(|i| i.starts_with('Q'))));
    // Every report shows the verdict and its reason.
    for file in ["report.md", "report.sarif", "report.rdjson", "report.html"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(
            text.contains("rejected") && text.contains("config.go"),
            "{file}: {text}"
        );
    }
    // Without the judge the same critical issue fails the gate.
    let unjudged = std::fs::read_to_string(root.join("quorum.toml"))
        .unwrap()
        .replace("review = false\n", "")
        .replace("[judge]\nprovider = \"judge\"\ntop = 5\n", "");
    std::fs::write(root.join("plain.toml"), unjudged).unwrap();
    let plain = quorum(
        root,
        &[
            "review",
            "repo",
            "--config",
            "plain.toml",
            "--out",
            "plain",
            "--no-cache",
            "--quiet",
            "--fail-on",
            "critical",
            "--provider",
            "alpha",
            "--provider",
            "beta",
        ],
    )
    .await;
    assert_eq!(plain.status.code(), Some(1), "{}", stderr(&plain));

    // aggregate asks nothing and keeps the verdicts and the order.
    let asked = seen.count();
    let err = ok(&quorum(root, &["aggregate", "out", "--fail-on", "critical"]).await);
    assert!(err.contains("Judge: 1 confirmed, 1 rejected"), "{err}");
    assert_eq!(seen.count(), asked, "aggregate sends no request");
    let again = fixture::report(&out);
    assert_eq!(again["issues"], report["issues"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_judge_leaves_the_issue_unjudged_and_resume_asks_only_that_question() {
    let fixed = Arc::new(AtomicBool::new(false));
    let (server, seen) = server(Trap::Fails, fixed.clone()).await;
    let dir = project(&server);
    let root = dir.path();
    let out = root.join("out");

    let failed = review(root, &["--fail-on", "critical"]).await;
    assert_eq!(
        failed.status.code(),
        Some(1),
        "an unjudged issue still counts: {}",
        stderr(&failed)
    );
    let report = fixture::report(&out);
    assert_eq!(
        verdicts(&report),
        pairs(&[
            ("SQL injection in lookup", "confirmed"),
            ("Command injection in run", "unjudged")
        ]),
        "the confirmed issue rises within its level; the unjudged one is listed: {report:#}"
    );
    let reason = report["issues"][1]["judge"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the judge gave no answer (request)") && reason.contains("500"),
        "{reason}"
    );
    assert_eq!(report["run"]["judge"]["unjudged"], 1);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("1 unjudged (still listed)"), "{md}");

    // Resumed with the judge working: only the failed question is asked again.
    fixed.store(true, Ordering::SeqCst);
    let before = seen.count();
    let confirmed_before = seen.asked("SQL injection in lookup");
    ok(&resume(root).await);
    assert_eq!(seen.count(), before + 1, "one question asked again");
    assert_eq!(
        seen.asked("SQL injection in lookup"),
        confirmed_before,
        "no answered question repeated"
    );
    let report = fixture::report(&out);
    assert_eq!(
        verdicts(&report),
        pairs(&[
            ("SQL injection in lookup", "confirmed"),
            ("Command injection in run", "rejected")
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_judge_answering_nonsense_leaves_the_issue_unjudged_and_says_why() {
    let (server, seen) = server(Trap::Garbage, Arc::default()).await;
    let dir = project(&server);
    let root = dir.path();

    ok(&review(root, &[]).await);
    assert_eq!(
        seen.asked("Command injection in run"),
        2,
        "the judge is asked, then asked again once"
    );
    let report = fixture::report(&root.join("out"));
    assert_eq!(report["issues"].as_array().unwrap().len(), 2, "no issue hidden");
    let trap = titled(&report, "Command injection in run");
    assert_eq!(trap["judge"]["verdict"], "unjudged");
    let reason = trap["judge"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the judge's answer is not a verdict: no JSON with a verdict"),
        "{reason}"
    );
    assert!(reason.contains("I would rather not say."), "{reason}");
}

#[test]
fn a_judge_naming_no_provider_or_a_judge_only_provider_no_judge_names_is_refused() {
    let base = openai_provider("alpha", "http://127.0.0.1:9/v1", "alpha", "");
    let cases = [
        (
            format!("{base}[judge]\nprovider = \"gpt\"\n"),
            "judge.provider = \"gpt\" names no provider: add a [providers.gpt] table or name one of: alpha",
        ),
        (
            format!("{base}{}", openai_provider("big", "http://127.0.0.1:9/v1", "big", "review = false")),
            "providers.big.review = false, but no [judge] names it, so it would do nothing: add [judge] provider = \"big\", or remove review = false",
        ),
        (format!("{base}[judge]\ntop = 3\n"), "judge.provider is missing"),
        (format!("{base}[judge]\nprovider = \"alpha\"\ntop = -1\n"), "judge.top must be from 0 to 10000"),
        (format!("{base}[judge]\nprovider = \"alpha\"\nmode = \"council\"\n"), "mode"),
    ];
    for (config, expected) in cases {
        let dir = fixture::project(&[("repo/a.go", "package a\n")], &config);
        let err = refused(&support::quorum(
            dir.path(),
            &["review", "repo", "--config", "quorum.toml", "--out", "out", "--dry-run"],
            &[],
        ));
        assert!(err.contains(expected), "{config}\n→ {err}");
        assert!(err.contains("quorum.toml:"), "the error names the file: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_review_takes_the_verdicts_from_the_cache_and_a_changed_question_is_asked() {
    let (server, seen) = server(Trap::Rejected, Arc::default()).await;
    let dir = project(&server);
    let root = dir.path();
    let cached_review = |out: &'static str| async move {
        let args = ["review", "repo", "--config", "quorum.toml", "--out", out, "--quiet"];
        support::quorum_async(root, &args, &[]).await
    };
    ok(&cached_review("first").await);
    let asked = seen.count();
    assert_eq!(seen.asked("Judge this reported issue."), 2);
    ok(&cached_review("second").await);
    assert_eq!(seen.count(), asked, "reviews and verdicts all come from the cache");
    let report = fixture::report(&root.join("second"));
    assert_eq!(
        verdicts(&report),
        pairs(&[
            ("SQL injection in lookup", "confirmed"),
            ("Command injection in run", "rejected")
        ])
    );
    let cached: Vec<Value> = fixture::records(&root.join("second"))
        .into_iter()
        .filter(|r| r["kind"] == "judge")
        .collect();
    assert!(
        cached.len() == 2 && cached.iter().all(|r| r["cached"] == true),
        "{cached:?}"
    );

    // Another line of code around the issue is another question: asked again.
    let edited = APP_GO.replace("func tail() {}", "func tail() { audit() }");
    fixture::write(root, "repo/app.go", edited);
    ok(&cached_review("third").await);
    assert_eq!(
        seen.asked("Judge this reported issue."),
        4,
        "both questions changed with the code shown"
    );
}

/// A finding every reviewer reports, `gamma` included.
const EVERYONE: &str = r#"{"file": "app.go", "start_line": 10, "end_line": 10, "severity": "medium", "category": "other", "cwe": 400, "title": "Unbounded work in tail", "description": "tail loops without a limit."}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_peers_mode_the_families_that_did_not_report_an_issue_judge_it_and_agreement_counts_both() {
    let (server, seen) = chat_server(|ask| {
        let content = match (is_judge_question(&ask.user), ask.model.as_str()) {
            (true, "gamma") if ask.user.contains("SQL injection in lookup") => verdict("confirmed", "id is user input"),
            (true, "gamma") => verdict("rejected", "tool is a constant"),
            (true, "judge") => verdict("confirmed", "no limit on the loop"),
            (true, other) => panic!("{other} reported every issue it was asked about"),
            (false, "gamma") => format!("{{\"findings\": [{EVERYONE}]}}"),
            (false, _) => {
                let mut all: Value = serde_json::from_str(&findings()).unwrap();
                all["findings"]
                    .as_array_mut()
                    .unwrap()
                    .push(serde_json::from_str(EVERYONE).unwrap());
                all.to_string()
            }
        };
        ResponseTemplate::new(200).set_body_json(chat_completion(&content, json!({}), Some(&ask.model), (100, 10)))
    })
    .await;
    let url = format!("{}/v1", server.uri());
    let mut config: String = ["alpha", "beta", "gamma"]
        .iter()
        .map(|name| openai_provider(name, &url, name, "context_tokens = 32000"))
        .collect();
    config.push_str(&openai_provider("judge", &url, "judge", "review = false"));
    config.push_str("[judge]\nprovider = \"judge\"\nmode = \"peers\"\n");
    let dir = fixture::project(&[("repo/app.go", APP_GO)], &config);
    let root = dir.path();

    ok(&review(root, &[]).await);
    assert_eq!(
        seen.count_of("gamma"),
        1 + 2,
        "gamma reviewed, then judged the two issues it missed"
    );
    assert_eq!(
        seen.count_of("judge"),
        1,
        "the named judge only for the issue every family reported"
    );
    let report = fixture::report(&root.join("out"));
    let issue = |title: &str| titled(&report, title).clone();
    let sql = issue("SQL injection in lookup");
    assert_eq!(sql["agreement"]["count"], 2, "the consensus count is kept");
    assert_eq!(
        sql["peers"],
        json!({"reported": 2, "confirmed": 1, "count": 3, "of": 3,
               "checks": [{"provider": "gamma", "verdict": "confirmed", "reason": "id is user input"}]})
    );
    let trap = issue("Command injection in run");
    assert_eq!(
        (trap["peers"]["count"].clone(), trap["peers"]["confirmed"].clone()),
        (json!(2), json!(0))
    );
    assert!(
        trap["judge"].is_null(),
        "a peer's rejection is a vote, not the judge's verdict"
    );
    assert_eq!(issue("Unbounded work in tail")["judge"]["verdict"], "confirmed");
    // Reported or confirmed by 3 ranks above 2 of 3; the judge's confirmation rises in its level.
    assert_eq!(
        verdicts(&report).into_iter().map(|(t, _)| t).collect::<Vec<_>>(),
        [
            "Unbounded work in tail",
            "SQL injection in lookup",
            "Command injection in run"
        ]
    );
    let md = std::fs::read_to_string(root.join("out/report.md")).unwrap();
    assert!(
        md.contains("reported or confirmed by 3 of 3 (2 reported, 1 confirmed by peers)"),
        "{md}"
    );

    // A review with --min-agree 3 still asks the peers about issues two families reported,
    // and keeps the one a peer confirmed.
    let strict = quorum(
        root,
        &[
            "review",
            "repo",
            "--config",
            "quorum.toml",
            "--out",
            "strict",
            "--no-cache",
            "--quiet",
            "--min-agree",
            "3",
        ],
    )
    .await;
    ok(&strict);
    let titles: Vec<String> = verdicts(&fixture::report(&root.join("strict")))
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(titles, ["Unbounded work in tail", "SQL injection in lookup"]);

    // --min-agree counts a peer's confirmation, and aggregate asks nothing.
    let asked = seen.count();
    ok(&quorum(root, &["aggregate", "out", "--min-agree", "3"]).await);
    assert_eq!(seen.count(), asked);
    let titles: Vec<String> = verdicts(&fixture::report(&root.join("out")))
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(titles, ["Unbounded work in tail", "SQL injection in lookup"]);

    // The named judge fails its checks (nothing listens where it now points): the peers
    // still judge, and the issue only it could judge is left unjudged, saying why.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = std::fs::read_to_string(root.join("quorum.toml")).unwrap();
    let moved = config.replace(
        &format!("[providers.judge]\nkind = \"openai\"\nbase_url = \"{url}\""),
        &format!("[providers.judge]\nkind = \"openai\"\nbase_url = \"http://{closed}/v1\""),
    );
    assert_ne!(moved, config);
    std::fs::write(root.join("quorum.toml"), moved).unwrap();
    let gamma = seen.count_of("gamma");
    let args = [
        "review",
        "repo",
        "--config",
        "quorum.toml",
        "--out",
        "dropped",
        "--no-cache",
        "--quiet",
    ];
    ok(&quorum(root, &args).await);
    assert_eq!(
        seen.count_of("gamma"),
        gamma + 1 + 2,
        "gamma reviewed, then judged the two issues it missed"
    );
    let report = fixture::report(&root.join("dropped"));
    let tail = titled(&report, "Unbounded work in tail");
    assert_eq!(tail["judge"]["verdict"], "unjudged");
    assert!(
        tail["judge"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("not asked: the judge failed its checks before the run ("),
        "{tail:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_judge_gets_only_the_budget_the_review_left() {
    let (server, seen) = server(Trap::Rejected, Arc::default()).await;
    let url = format!("{}/v1", server.uri());
    // Each request may cost $2.00 (200 output tokens at $10,000 a million) and costs $0.10
    // (the 10 the server reports): the review spends $0.20 of $2.15, which leaves room for
    // no judge request, though a budget of its own would have taken both.
    let priced = "max_output_tokens = 200\nprice_input_per_mtok = 0\nprice_output_per_mtok = 10000";
    let mut config = fixture::providers(&["alpha", "beta"], &url, &format!("context_tokens = 32000\n{priced}"));
    config.push_str(&openai_provider(
        "judge",
        &url,
        "judge",
        &format!("review = false\n{priced}"),
    ));
    config.push_str("[judge]\nprovider = \"judge\"\n");
    let dir = fixture::project(&[("repo/app.go", APP_GO)], &config);
    let root = dir.path();

    let out = review(root, &["--max-cost", "2.15"]).await;
    assert_eq!(out.status.code(), Some(4), "an incomplete run: {}", stderr(&out));
    assert_eq!(seen.count_of("judge"), 0);
    let report = fixture::report(&root.join("out"));
    assert_eq!(report["run"]["judge"]["unjudged"], 2, "{report:#}");
    let reason = report["issues"][0]["judge"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("not asked: the run stopped before the judge answered"),
        "{reason}"
    );
}

/// The review without `--quiet`, which says when the index of related code is built.
async fn review_saying_progress(dir: &Path) -> String {
    let args = [
        "review",
        "repo",
        "--config",
        "quorum.toml",
        "--out",
        "out",
        "--no-cache",
    ];
    ok(&quorum(dir, &args).await)
}

#[tokio::test]
async fn the_index_of_related_code_is_built_for_the_judge_only_when_it_has_an_issue_to_ask_about() {
    let (quiet_server, seen) = chat_server(|ask| {
        assert!(!is_judge_question(&ask.user), "no issue, no question");
        let nothing = json!({"findings": []}).to_string();
        ResponseTemplate::new(200).set_body_json(chat_completion(&nothing, json!({}), Some(&ask.model), (100, 10)))
    })
    .await;
    let err = review_saying_progress(project(&quiet_server).path()).await;
    assert_eq!(seen.asked("Judge this reported issue."), 0);
    assert!(
        !err.contains("related code: indexed"),
        "nothing to judge, nothing indexed: {err}"
    );

    let (server, _) = server(Trap::Rejected, Arc::default()).await;
    let err = review_saying_progress(project(&server).path()).await;
    assert!(err.contains("related code: indexed 1 files"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_judge_that_rejects_every_issue_is_named_as_suspect_and_keeps_at_most_two_out_of_a_gate() {
    // Three issues on app.go, each rejected: what a model too weak to judge does.
    let server = chat_server(|ask| {
        let content = if is_judge_question(&ask.user) {
            verdict("rejected", "looks fine")
        } else {
            let mut answer: Value = serde_json::from_str(&findings()).unwrap();
            answer["findings"].as_array_mut().unwrap().push(json!({
                "file": "app.go", "start_line": 10, "end_line": 10, "severity": "medium",
                "category": "other", "title": "Empty tail function", "description": "tail does nothing."
            }));
            answer.to_string()
        };
        ResponseTemplate::new(200).set_body_json(chat_completion(&content, json!({}), Some(&ask.model), (100, 10)))
    })
    .await
    .0;
    let dir = project(&server);
    let root = dir.path();
    let out = root.join("out");
    ok(&review(root, &["--format", "json,md,sarif,rdjson,html"]).await);
    let caution = "Caution: the judge rejected all 3 issues it gave a verdict on";
    // The terminal (review is quiet here; aggregate prints what review prints).
    let err = ok(&quorum(root, &["aggregate", "out"]).await);
    assert!(err.contains(caution), "{err}");
    let report = fixture::report(&out);
    assert!(
        report["run"]["judge"]["caution"]
            .as_str()
            .is_some_and(|c| c.starts_with(caution)),
        "{report:#}"
    );
    for file in ["report.md", "report.html"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        // At the top, before the first issue is named.
        let at = text.find(caution);
        assert!(
            at.is_some_and(|at| text.find("injection in").is_some_and(|issue| at < issue)),
            "{file}: {text}"
        );
    }
    // Nothing is hidden: all three stay listed.
    assert_eq!(report["issues"].as_array().unwrap().len(), 3);
    // Under caution its rejections keep nothing out of a gate: the one critical issue
    // fails it, saying why even with --quiet.
    let gated = quorum(root, &["aggregate", "out", "--quiet", "--fail-on", "critical"]).await;
    assert_eq!(gated.status.code(), Some(1), "{}", stderr(&gated));
    let err = stderr(&gated);
    assert!(
        err.contains("The judge is under caution (it rejected every issue it gave a verdict on): the 1 rejected")
            && err.contains("Gate failed"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_judge_that_fails_its_checks_is_said_before_the_review_asked_nothing_and_resume_asks_it() {
    let (server, seen) = server(Trap::Rejected, Arc::default()).await;
    let dir = project(&server);
    let root = dir.path();
    // The server's model list lacks the judge's model (until `listed`): it fails its
    // cheap checks.
    let listed = Arc::new(AtomicBool::new(false));
    let judge_listed = listed.clone();
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/v1/models"))
        .respond_with(move |_: &wiremock::Request| {
            // A model list of long names makes a long reason to drop the judge: it is
            // recorded shortened, so the run folder stays readable.
            let long = "m".repeat(3000);
            let mut models = vec!["alpha", "beta", long.as_str()];
            if judge_listed.load(Ordering::SeqCst) {
                models.push("judge");
            }
            let data: Vec<Value> = models.iter().map(|m| json!({"id": m, "object": "model"})).collect();
            ResponseTemplate::new(200).set_body_json(json!({"object": "list", "data": data}))
        })
        .with_priority(1)
        .mount(&server)
        .await;

    let err = ok(&review(root, &[]).await);
    assert!(
        err.contains("judge: dropped: ")
            && err
                .contains("judge is the judge: it is asked nothing, and the issues it was to judge are left unjudged"),
        "{err}"
    );
    // The reviewers reviewed; the judge, though its server would answer, was asked nothing.
    assert_eq!(seen.asked("Judge this reported issue."), 0);
    let report = fixture::report(&root.join("out"));
    let issues = report["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 2, "{report:#}");
    for issue in issues {
        assert_eq!(issue["judge"]["verdict"], "unjudged", "{report:#}");
        let reason = issue["judge"]["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("not asked: the judge failed its checks before the run ("),
            "{reason}"
        );
        assert!(reason.chars().count() < 2200, "{} characters", reason.chars().count());
    }
    ok(&quorum(root, &["aggregate", "out", "--out", "merged", "--quiet"]).await);

    // Once the judge works, --resume asks it about them, and nothing else.
    listed.store(true, Ordering::SeqCst);
    let before = seen.count();
    ok(&resume(root).await);
    assert_eq!(seen.count(), before + 2, "the two questions, no review");
    assert_eq!(
        verdicts(&fixture::report(&root.join("out"))),
        pairs(&[
            ("SQL injection in lookup", "confirmed"),
            ("Command injection in run", "rejected")
        ])
    );
}
