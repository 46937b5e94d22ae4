//! Suppressions and baselines through the real binary: `quorum suppress` records a
//! decision in `.quorum/suppressions.toml` at the repository root, later reviews leave
//! the issue out of every report (SARIF carries it as dismissed), `--baseline` reports
//! only new issues, and ids survive a real edit sequence (lines inserted above, another
//! function edited, a re-run worded differently) until the code is fixed, when the
//! suppression goes stale. Models are a loopback server that finds the planted lines
//! wherever they are in the prompt.

mod support;

use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use support::chat::{chat_completion, prompt_line};
use support::fixture;
use support::server::{chat_server, Seen};
use support::{ok, refused};
use wiremock::{MockServer, ResponseTemplate};

const SQL_LINE: &str = "db.Query(\"SELECT * FROM users WHERE id = \" + id)";
const SHELL_LINE: &str = "exec.Command(\"sh\", \"-c\", \"ping \" + host)";

/// The Go file under review: `prelude` lines on top, then a lookup with SQL built from
/// input, a health check whose body is `health`, a ping with a shell command, and the
/// lookup's query `query` (the planted SQL line, or its fix).
fn app(prelude: &str, health: &str, query: &str) -> String {
    format!(
        "package main\n\n{prelude}import \"database/sql\"\n\nfunc lookup(db *sql.DB, id string) {{\n\t\
         rows, _ := {query}\n\t_ = rows\n}}\n\nfunc health() string {{\n\t{health}\n}}\n\n\
         func ping(host string) {{\n\t{SHELL_LINE}.Run()\n}}\n"
    )
}

/// A model's findings on `prompt`: the planted lines it can see, where they are now. A
/// re-run words them differently, and one model (`beta`) names the line before each
/// (the function's header) as its start: with two models, that moves the issues' ids.
fn findings(model: &str, prompt: &str, rerun: bool) -> String {
    let mut found = Vec::new();
    let moved = rerun && model == "beta";
    if let Some(line) = prompt_line(prompt, SQL_LINE) {
        let title = if rerun {
            "User input concatenated into an SQL query"
        } else {
            "SQL injection in lookup"
        };
        found.push(
            json!({"file": "src/app.go", "start_line": line - u32::from(moved), "end_line": line,
            "severity": "high", "category": "injection", "cwe": 89, "title": title,
            "description": "id reaches the query unescaped", "confidence": 0.9}),
        );
    }
    if let Some(line) = prompt_line(prompt, SHELL_LINE) {
        let title = if rerun {
            "Shell command built from host"
        } else {
            "Command injection in ping"
        };
        found.push(
            json!({"file": "src/app.go", "start_line": line - u32::from(moved), "end_line": line,
            "severity": "high", "category": "injection", "cwe": 78, "title": title,
            "description": "host reaches a shell", "confidence": 0.8}),
        );
    }
    json!({"findings": found}).to_string()
}

/// The models, and the switch that makes them answer as a re-run does.
async fn models() -> (MockServer, Seen, Arc<AtomicBool>) {
    let rerun = Arc::new(AtomicBool::new(false));
    let wording = rerun.clone();
    let (server, seen) = chat_server(move |ask| {
        let content = findings(&ask.model, &ask.user, wording.load(Ordering::SeqCst));
        ResponseTemplate::new(200).set_body_json(chat_completion(&content, json!({}), Some(&ask.model), (100, 10)))
    })
    .await;
    (server, seen, rerun)
}

/// A git repository `repo/` holding `src/app.go`, and a configuration beside it naming
/// two models of different families on `server`.
fn project(server: &MockServer, code: &str) -> tempfile::TempDir {
    let providers = fixture::providers(
        &["alpha", "beta"],
        &format!("{}/v1", server.uri()),
        "context_tokens = 32000",
    );
    let dir = fixture::project(&[("repo/src/app.go", code)], &providers);
    if !fixture::git(&dir.path().join("repo"), &["init", "-q"]) {
        eprintln!("git is not installed: the suppressions file goes to the reviewed folder");
    }
    dir
}

/// `quorum review repo/src` (a folder inside the repository) into `out`, with `args`.
async fn review(dir: &Path, args: &[&str]) -> Output {
    let review = [
        "review",
        "repo/src",
        "--config",
        "quorum.toml",
        "--out",
        "out",
        "--no-cache",
    ];
    support::quorum_async(dir, &[&review[..], args].concat(), &[]).await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| a.iter().map(|i| i["id"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The id of the issue of CWE `cwe` in `report`'s `issues`.
fn id_of(report: &Value, cwe: u64) -> String {
    let issue = report["issues"].as_array().unwrap().iter().find(|i| i["cwe"] == cwe);
    issue.unwrap_or_else(|| panic!("no CWE-{cwe} issue in {report:#}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suppression_survives_an_edit_sequence_and_goes_stale_when_the_code_is_fixed() {
    let (server, _seen, reworded) = models().await;
    let health = "return \"ok\"";
    let dir = project(&server, &app("", health, SQL_LINE));
    let root = dir.path();
    let app_go = root.join("repo/src/app.go");

    // The first review: two issues.
    ok(&review(root, &[]).await);
    let first = fixture::report(&root.join("out"));
    let (sql, shell) = (id_of(&first, 89), id_of(&first, 78));
    let baseline = tempfile::tempdir().unwrap();
    let baseline_json = baseline.path().join("report.json");
    std::fs::copy(root.join("out/report.json"), &baseline_json).unwrap();

    // The team decides the SQL one is not a problem.
    let said = support::stdout(&support::quorum(
        root,
        &["suppress", &sql, "--reason", "ids are checked integers", "--out", "out"],
        &[],
    ));
    let file = root.join("repo/.quorum/suppressions.toml");
    assert!(
        said.contains(&format!("Suppressed {sql}")) && said.contains("repo/.quorum/suppressions.toml"),
        "{said}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    for part in [
        format!("id = \"{sql}\""),
        "reason = \"ids are checked integers\"".to_string(),
        "title = \"SQL injection in lookup\"".to_string(),
        "file = \"app.go\"".to_string(),
        format!("date = \"{}\"", &now_date()),
    ] {
        assert!(text.contains(&part), "{part} in\n{text}");
    }

    // Three edits: lines inserted above, another function edited, a re-run worded anew.
    let steps: [(&str, String); 3] = [
        (
            "lines inserted above",
            app(
                "// Package main serves users.\n// It talks to a database.\n\n",
                health,
                SQL_LINE,
            ),
        ),
        (
            "another function edited",
            app(
                "// Package main serves users.\n// It talks to a database.\n\n",
                "return strings.ToUpper(\"ok\") + \"!\"",
                SQL_LINE,
            ),
        ),
        (
            "a re-run, worded differently",
            app(
                "// Package main serves users.\n// It talks to a database.\n\n",
                "return strings.ToUpper(\"ok\") + \"!\"",
                SQL_LINE,
            ),
        ),
    ];
    for (step, code) in &steps {
        std::fs::write(&app_go, code).unwrap();
        if step.starts_with("a re-run") {
            reworded.store(true, Ordering::SeqCst);
        }
        let out = review(root, &["--baseline", baseline_json.to_str().unwrap()]).await;
        let err = ok(&out);
        let table = support::stdout(&out);
        assert!(
            table.contains(&format!("suppressed {sql} app.go:")) && table.contains("No issues reported."),
            "{table}"
        );
        let report = fixture::report(&root.join("out"));
        assert_eq!(ids(&report["suppressed"]), [sql.as_str()], "{step}: {report:#}");
        assert_eq!(report["suppressed"][0]["reason"], "ids are checked integers");
        assert_eq!(ids(&report["issues"]), Vec::<String>::new(), "{step}: 0 new");
        let unchanged = report["baseline"]["unchanged"].as_array().unwrap();
        assert_eq!(
            (unchanged.len(), &unchanged[0]["cwe"]),
            (1, &json!(78)),
            "{step}: {report:#}"
        );
        assert_eq!(report["baseline"]["absent"], json!([]), "{step}");
        assert!(report.get("stale_suppressions").is_none(), "{step}");
        assert!(
            err.contains("1 suppressed by ") && err.contains("1 in the baseline "),
            "{step}: {err}"
        );
        let md = std::fs::read_to_string(root.join("out/report.md")).unwrap();
        assert!(
            md.contains("## Left out") && md.contains("ids are checked integers"),
            "{md}"
        );
        assert!(!md.contains("## Issues"), "{step}: nothing new to list");
        let html = std::fs::read_to_string(root.join("out/report.html")).unwrap();
        assert!(
            html.contains("<h2>Suppressed</h2>") && html.contains("1 in the baseline"),
            "{step}"
        );
        let now = assert_dismissed_in_sarif(&root.join("out/report.sarif"));
        let shell_now = unchanged[0]["id"].as_str().unwrap();
        if step.starts_with("a re-run") {
            // The two models now disagree by a line and the tie moved both ids; the
            // suppression and the baseline matched them one line away.
            assert!(now != sql && shell_now != shell, "{step}: the ids moved");
        } else {
            assert_eq!(
                (now.as_str(), shell_now),
                (sql.as_str(), shell.as_str()),
                "{step}: the ids held"
            );
        }
    }
    // The re-run moved one model's line: the issue's lines followed, its id did not.
    let rerun = fixture::report(&root.join("out"));
    let models: Vec<&str> = rerun["baseline"]["unchanged"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["Shell command built from host"; 2], "the models' new wording");

    // The same run folder rebuilt by aggregate gives the same decisions.
    let err = ok(&support::quorum(
        root,
        &["aggregate", "out", "--baseline", baseline_json.to_str().unwrap()],
        &[],
    ));
    assert!(err.contains("1 suppressed by "), "{err}");

    // The fix: the models stop reporting it, and the suppression is stale.
    reworded.store(false, Ordering::SeqCst);
    let fixed = app("", health, "db.Query(\"SELECT * FROM users WHERE id = ?\", id)");
    std::fs::write(&app_go, fixed).unwrap();
    let err = ok(&review(root, &[]).await);
    let report = fixture::report(&root.join("out"));
    assert_eq!(ids(&report["stale_suppressions"]), [sql.as_str()], "{report:#}");
    assert_eq!(ids(&report["issues"]), [shell.as_str()]);
    assert!(report.get("suppressed").is_none());
    assert!(err.contains("1 stale suppressions") && err.contains(&sql), "{err}");
    let listed = support::stdout(&support::quorum(root, &["suppress", "--list", "--out", "out"], &[]));
    assert!(
        listed.contains(&sql) && listed.contains("ids are checked integers"),
        "{listed}"
    );
}

/// The SARIF log is valid, carries the suppressed issue as dismissed with its reason,
/// and marks every result against the baseline; gives the dismissed result's id.
fn assert_dismissed_in_sarif(path: &Path) -> String {
    let sarif = fixture::load(path);
    let errors: Vec<String> = fixture::sarif_validator()
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let dismissed: Vec<&Value> = results.iter().filter(|r| r.get("suppressions").is_some()).collect();
    assert_eq!(dismissed.len(), 1, "{results:#?}");
    let dismissed = dismissed[0];
    assert_eq!(dismissed["ruleId"], "CWE-89");
    assert_eq!(
        dismissed["suppressions"],
        json!([{"kind": "external", "status": "accepted", "justification": "ids are checked integers"}])
    );
    let states: Vec<&Value> = results.iter().map(|r| &r["baselineState"]).collect();
    assert_eq!(states, [&json!("unchanged"); 2], "the suppressed and the known issue");
    dismissed["partialFingerprints"]["quorumIssueId/v1"]
        .as_str()
        .unwrap()
        .to_string()
}

fn now_date() -> String {
    // The date the suppression was recorded (UTC), as `date -u +%F` gives it.
    let out = std::process::Command::new("date").args(["-u", "+%F"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_what_to_do() {
    let (server, seen, _) = models().await;
    let dir = project(&server, &app("", "return \"ok\"", SQL_LINE));
    let root = dir.path();
    ok(&review(root, &[]).await);
    let sql = id_of(&fixture::report(&root.join("out")), 89);
    let suppress = |args: &[&str]| {
        let out: &[&str] = if args.contains(&"--out") {
            &[]
        } else {
            &["--out", "out"]
        };
        support::quorum(root, &[&["suppress"][..], args, out].concat(), &[])
    };

    let err = refused(&suppress(&["Q00000000", "--reason", "r"]));
    assert!(
        err.contains("no issue Q00000000 in out/report.json: use an id of that run's report"),
        "{err}"
    );
    let err = refused(&suppress(&["not-an-id", "--reason", "r"]));
    assert!(err.contains("\"not-an-id\" is not a Quorum issue id"), "{err}");
    let err = refused(&suppress(&[&sql, "--reason", "  "]));
    assert!(err.contains("--reason is empty"), "{err}");
    let err = refused(&suppress(&[&sql, "--reason", "r", "--out", "nowhere"]));
    assert!(err.contains("run `quorum review --out nowhere` first"), "{err}");
    assert!(!root.join("repo/.quorum").exists(), "nothing written");

    // A malformed file stops the next review before anything is sent.
    fixture::write(
        root,
        "repo/.quorum/suppressions.toml",
        "[[suppression]]\nid = \"Q0123abcd\"\nreson = \"typo\"\n",
    );
    seen.forget();
    let err = refused(&review(root, &[]).await);
    assert!(
        err.contains("suppressions.toml:3: malformed suppressions file"),
        "{err}"
    );
    assert_eq!(seen.count(), 0, "no request was made");
    let err = refused(&suppress(&[&sql, "--reason", "r"]));
    assert!(err.contains("suppressions.toml:3"), "{err}");

    // A baseline that is not a report.
    std::fs::remove_file(root.join("repo/.quorum/suppressions.toml")).unwrap();
    let other = tempfile::tempdir().unwrap();
    let not_report = other.path().join("run.json");
    std::fs::copy(root.join("out/run.json"), &not_report).unwrap();
    let err = refused(&review(root, &["--baseline", not_report.to_str().unwrap()]).await);
    assert!(
        err.contains("run.json is not a Quorum report.json (no list of issues)"),
        "{err}"
    );
    assert_eq!(seen.count(), 0, "no request was made");
    let err = refused(&support::quorum(
        root,
        &["aggregate", "out", "--baseline", "missing.json"],
        &[],
    ));
    assert!(err.contains("cannot read the baseline missing.json"), "{err}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_suppressions_folder_is_neither_read_nor_written() {
    let (server, _seen, _) = models().await;
    let dir = project(&server, &app("", "return \"ok\"", SQL_LINE));
    let root = dir.path();
    ok(&review(root, &[]).await);
    let sql = id_of(&fixture::report(&root.join("out")), 89);
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), root.join("repo/.quorum")).unwrap();
    let err = refused(&support::quorum(
        root,
        &["suppress", &sql, "--reason", "r", "--out", "out"],
        &[],
    ));
    assert!(err.contains(".quorum: it is a symbolic link"), "{err}");
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "nothing written through it"
    );
    let err = refused(&review(root, &[]).await);
    assert!(err.contains("symbolic link"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suppressions_file_is_never_sent_to_a_model() {
    let (server, seen, _) = models().await;
    let dir = project(&server, &app("", "return \"ok\"", SQL_LINE));
    let root = dir.path();
    let entry = "[[suppression]]\nid = \"Q0123abcd\"\nreason = \"reviewed\"\n";
    fixture::write(root, "repo/.quorum/suppressions.toml", entry);
    let args = ["review", "repo", "--config", "quorum.toml", "--out", "out"];
    ok(&support::quorum_async(root, &args, &[]).await);
    assert_eq!(seen.files(), ["src/app.go", "src/app.go"], "both models, only the code");
    // Its one entry names no file and matches nothing: stale.
    assert_eq!(
        ids(&fixture::report(&root.join("out"))["stale_suppressions"]),
        ["Q0123abcd"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipped_run_folder_cannot_choose_where_suppressions_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fixture::write(root, "victim/keep.txt", "x");
    // The report a pull request ships: its root points outside the project.
    let title = "Looks fine\nSuppressed Q00000000 (forged line)";
    let report = json!({"schema_version": 1, "run": {"root": "../victim"},
        "issues": [{"id": "Qdeadbeef", "file": "a.go", "title": title}]});
    fixture::write(root, "project/quorum-report/report.json", report.to_string());
    let project = root.join("project");
    let suppress = || support::quorum(&project, &["suppress", "Qdeadbeef", "--reason", "fp"], &[]);

    let err = refused(&suppress());
    assert!(
        err.contains(
            "was not written by your Quorum (a run folder can come with the code): review again, then suppress"
        ),
        "{err}"
    );
    // A run.json beside it, with a seal this user's key did not make.
    let meta = json!({"schema_version": 1, "run_id": "0123456789ab", "root": "../victim",
        "started_at": "2026-01-01T00:00:00Z", "providers": [], "files": [], "skipped": [],
        "seal": "00".repeat(32)});
    fixture::write(root, "project/quorum-report/run.json", meta.to_string());
    let err = refused(&suppress());
    assert!(err.contains("was not written by your Quorum"), "{err}");
    assert!(!root.join("victim/.quorum").exists(), "nothing written outside");
    assert!(!project.join(".quorum").exists(), "nor inside");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_with_line_breaks_is_printed_on_one_line() {
    let (server, _seen, _) = models().await;
    let dir = project(&server, &app("", "return \"ok\"", SQL_LINE));
    let root = dir.path();
    ok(&review(root, &[]).await);
    let report_path = root.join("out/report.json");
    let mut report = fixture::load(&report_path);
    let sql = id_of(&report, 89);
    let issue = report["issues"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["id"] == sql.as_str());
    issue.unwrap()["title"] = json!("SQL\nSuppressed Q00000000 (forged line)");
    std::fs::write(&report_path, report.to_string()).unwrap();
    let out = support::quorum(root, &["suppress", &sql, "--reason", "r", "--out", "out"], &[]);
    ok(&out);
    let said = support::stdout(&out);
    assert_eq!(said.trim_end().lines().count(), 1, "{said}");
    assert!(
        said.starts_with(&format!("Suppressed {sql} (SQL Suppressed Q00000000")),
        "{said}"
    );
}
