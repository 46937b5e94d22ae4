//! Issue 10's end to end: reviewers that read one file at a time report the three
//! cross-file traps of `examples/cross-file-traps` (and the real vulnerability beside
//! them); the judge, a loopback server, gets each issue with the related code the run's
//! index finds, and decides only from what its question shows. The related code must
//! carry what makes each trap safe, so the judge rejects the traps; they sink below the
//! true issue and stay listed.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::chat::{chat_completion, is_judge_question, verdict};
use support::fixture::{self, openai_provider};
use support::server::{chat_server, Seen};
use wiremock::{MockServer, ResponseTemplate};

/// One trap (or the control): the finding the reviewers make, and the code from other
/// files that makes it safe (two pieces, both needed: the use and the check).
struct Case {
    file: &'static str,
    line: u32,
    severity: &'static str,
    cwe: u32,
    title: &'static str,
    safe_because: &'static [&'static str],
}

/// As `examples/cross-file-traps/TRAPS.md` documents them; the control is reported at a
/// lower severity, so unjudged it ranks below every trap.
const CASES: [Case; 4] = [
    Case {
        file: "server/reports.go",
        line: 10,
        severity: "critical",
        cwe: 78,
        title: "T1 command injection in exportReport",
        safe_because: &[
            "requireReportFormat(http.HandlerFunc(exportReport))",
            "reportFormat.MatchString",
        ],
    },
    Case {
        file: "app/repo.py",
        line: 5,
        severity: "critical",
        cwe: 89,
        title: "T2 SQL injection in list_items",
        safe_because: &["sort_column(request.args.get(\"sort\"))", "if requested in SORTABLE"],
    },
    Case {
        file: "web/files.js",
        line: 7,
        severity: "critical",
        cwe: 22,
        title: "T3 path traversal in sendUpload",
        safe_because: &["safeFileName(req.query.name)", "base.replace(/[^A-Za-z0-9._-]/g, '')"],
    },
    Case {
        file: "server/reports.go",
        line: 20,
        severity: "medium",
        cwe: 78,
        title: "C1 command injection in previewReport",
        safe_because: &[],
    },
];

/// A reviewer's answer on `file`: the cases in it.
fn findings(file: &str) -> String {
    let found: Vec<Value> = CASES
        .iter()
        .filter(|c| c.file == file)
        .map(|c| {
            json!({"file": c.file, "start_line": c.line, "end_line": c.line, "severity": c.severity,
                   "category": "injection", "cwe": c.cwe, "title": c.title,
                   "description": "User input reaches a dangerous call.", "confidence": 0.9})
        })
        .collect();
    json!({ "findings": found }).to_string()
}

/// The judge: it rejects an issue only when its question shows every piece of code that
/// makes it safe; the control has none, so it is confirmed.
fn judge(question: &str) -> String {
    let case = CASES
        .iter()
        .find(|c| question.contains(c.title))
        .expect("the question names a reported issue");
    let shown = !case.safe_because.is_empty() && case.safe_because.iter().all(|code| question.contains(code));
    match shown {
        true => verdict(
            "rejected",
            "the related code shows the input checked before it gets here",
        ),
        false => verdict("confirmed", "nothing shown checks the input"),
    }
}

/// The reviewers report the cases of each file they are asked about; the judge decides
/// from its question alone (see [`judge`]).
async fn traps_server() -> (MockServer, Seen) {
    chat_server(|ask| {
        let content = match is_judge_question(&ask.user) {
            true => judge(&ask.user),
            false => findings(&ask.file),
        };
        ResponseTemplate::new(200).set_body_json(chat_completion(&content, json!({}), Some(&ask.model), (100, 10)))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_judge_sees_what_makes_each_trap_safe_and_the_traps_sink_below_the_true_issue() {
    let (server, seen) = traps_server().await;
    let url = format!("{}/v1", server.uri());
    let mut config = fixture::providers(&["alpha", "beta"], &url, "context_tokens = 32000");
    config.push_str(&openai_provider(
        "judge",
        &url,
        "judge",
        "review = false\ncontext_tokens = 32000",
    ));
    config.push_str("[judge]\nprovider = \"judge\"\ntop = 10\n");
    let dir = fixture::project(&[], &config);
    let traps = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cross-file-traps");
    for part in ["server", "app", "web"] {
        fixture::copy_tree(&traps.join(part), &dir.path().join("repo").join(part));
    }
    support::ok(&support::review_repo(dir.path(), &[]).await);

    let report = fixture::report(&dir.path().join("out"));
    let ranked: Vec<(String, String)> = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let title = i["title"].as_str().unwrap().to_string();
            (title, i["judge"]["verdict"].as_str().unwrap_or("-").to_string())
        })
        .collect();
    assert_eq!(ranked.len(), 4, "no issue disappears: {ranked:?}");
    assert_eq!(
        ranked[0],
        (CASES[3].title.to_string(), "confirmed".to_string()),
        "the true issue comes first: {ranked:?}"
    );
    for (title, verdict) in &ranked[1..] {
        assert!(title.starts_with('T'), "{ranked:?}");
        assert_eq!(verdict, "rejected", "{title}: {ranked:?}");
    }
    // Each trap's question carried the code from other files that makes it safe.
    let questions: Vec<String> = seen.prompts().into_iter().filter(|p| is_judge_question(p)).collect();
    assert_eq!(questions.len(), 4, "one question per issue");
    for case in &CASES[..3] {
        let question = questions.iter().find(|q| q.contains(case.title)).unwrap();
        for code in case.safe_because {
            assert!(
                question.contains(code),
                "{}: {code} not shown in\n{question}",
                case.title
            );
        }
    }
}

/// The demo (four recorded reviewers on `examples/vulnerable-app`) with a judge: every
/// issue chosen is asked about once, each question carries related code from the run's
/// index, and a judge that confirms everything keeps every issue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_demo_the_judge_gets_each_top_issue_with_related_code() {
    let (server, seen) = chat_server(|ask| {
        assert!(is_judge_question(&ask.user), "replayed reviewers ask no server");
        let content = verdict("confirmed", "the code shows it");
        ResponseTemplate::new(200).set_body_json(chat_completion(&content, json!({}), Some(&ask.model), (100, 10)))
    })
    .await;
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let demo = std::fs::read_to_string(examples.join("demo.toml")).unwrap().replace(
        "demo/responses.jsonl",
        &examples.join("demo/responses.jsonl").display().to_string(),
    );
    let url = format!("{}/v1", server.uri());
    let config = format!(
        "{demo}\n{}[judge]\nprovider = \"judge\"\ntop = 10\n",
        openai_provider("judge", &url, "judge", "review = false\ncontext_tokens = 32000")
    );
    let dir = fixture::project(&[], &config);
    fixture::copy_tree(&examples.join("vulnerable-app"), &dir.path().join("repo"));
    support::ok(&support::review_repo(dir.path(), &[]).await);

    let report = fixture::report(&dir.path().join("out"));
    let issues = report["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 16, "no issue disappears");
    let judged: Vec<&Value> = issues.iter().filter(|i| i["judge"]["verdict"] == "confirmed").collect();
    let questions: Vec<String> = seen.prompts();
    assert_eq!(judged.len(), questions.len(), "one question per judged issue");
    assert!(judged.len() >= 10, "the top 10 at least: {}", judged.len());
    for (rank, issue) in issues.iter().take(10).enumerate() {
        assert_eq!(issue["judge"]["verdict"], "confirmed", "issue {} was judged", rank + 1);
    }
    let with_related: Vec<&String> = questions
        .iter()
        .filter(|q| q.contains("Related code from other files, nearest first:"))
        .collect();
    eprintln!(
        "{} of {} questions carry related code",
        with_related.len(),
        questions.len()
    );
    for question in &questions {
        assert!(
            with_related.contains(&question) || question.contains("No related code from other files is available."),
            "{question}"
        );
    }
    // The command injection's handler is registered in the router: the judge sees where.
    let injection = questions.iter().find(|q| q.contains("CWE-78")).unwrap();
    assert!(
        injection.contains("Related code from other files, nearest first:"),
        "{injection}"
    );
}

/// In a `--since` review only the changed handler is sent, but the index covers the whole
/// tree: the judge still sees the unchanged router and middleware that make it safe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_since_review_the_judge_sees_safe_making_code_that_did_not_change() {
    let (server, seen) = traps_server().await;
    let url = format!("{}/v1", server.uri());
    let mut config = openai_provider("alpha", &url, "alpha", "context_tokens = 32000");
    config.push_str(&openai_provider(
        "judge",
        &url,
        "judge",
        "review = false\ncontext_tokens = 32000",
    ));
    config.push_str("[judge]\nprovider = \"judge\"\ntop = 10\n");
    let dir = fixture::project(&[], &config);
    let repo = dir.path().join("repo");
    let traps = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cross-file-traps");
    for part in ["server", "app", "web"] {
        fixture::copy_tree(&traps.join(part), &repo.join(part));
    }
    let committed = fixture::git(&repo, &["init", "-q"])
        && fixture::git(&repo, &["add", "."])
        && fixture::git(&repo, &["commit", "-qm", "first"]);
    if !committed {
        eprintln!("skipped: git is not on PATH");
        return;
    }
    let reports = repo.join("server/reports.go");
    let changed = std::fs::read_to_string(&reports).unwrap().replace(
        "format := r.URL.Query().Get(\"format\")",
        "format := r.URL.Query().Get(\"format\") // the report's format",
    );
    std::fs::write(&reports, changed).unwrap();
    support::ok(&support::review_repo(dir.path(), &["--since", "HEAD"]).await);

    let sent: Vec<String> = seen
        .chats()
        .into_iter()
        .filter(|c| !is_judge_question(&c.user))
        .map(|c| c.file)
        .collect();
    assert_eq!(sent, ["server/reports.go"], "only the changed file is reviewed");
    let report = fixture::report(&dir.path().join("out"));
    let verdicts: Vec<(&str, &str)> = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["title"].as_str().unwrap(),
                i["judge"]["verdict"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [(CASES[3].title, "confirmed"), (CASES[0].title, "rejected")],
        "the trap's router and middleware, unchanged, reached the judge"
    );
}

#[test]
fn the_with_and_without_configuration_reviews_the_traps_twice_and_never_their_answers() {
    // What a user with a model of their own runs to measure the false positives related
    // code removes; a dry run sends nothing.
    let out = support::quorum(
        fixture::repo_root(),
        &[
            "review",
            "examples/cross-file-traps",
            "--config",
            "examples/cross-file-traps.toml",
            "--dry-run",
        ],
        &[],
    );
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), support::stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{said}");
    for provider in ["alone", "related"] {
        let row = said.lines().find(|l| l.contains(&format!(" {provider} ")));
        assert!(row.is_some_and(|r| r.split_whitespace().any(|w| w == "9")), "{said}");
    }
    assert!(said.contains("TRAPS.md: not matched by review.include"), "{said}");
}
