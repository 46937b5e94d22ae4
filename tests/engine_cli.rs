//! The engine as a user meets it through `quorum review`: nothing asked twice (cache,
//! `--resume` after `kill -9`), providers that fail marked down, unusable answers asked
//! again, files split to fit a context window, budgets, dry runs and shards. Every test
//! talks to a loopback server that answers as an OpenAI-compatible server does.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{json, Value};
use support::chat::{self, openai_error, NO_FINDINGS};
use support::fixture::{self, openai_provider};
use support::ok;
use support::server::{chat_server, Seen};
use wiremock::{MockServer, ResponseTemplate};

fn answer(content: &str) -> ResponseTemplate {
    // No `model` field: the served-model check is covered where servers disagree with
    // the request (engine unit tests); here every answer is from the model asked.
    chat::reply(content, (1000, 100))
}

fn one_finding(file: &str, line: u32) -> String {
    json!({"findings": [{"file": file, "start_line": line, "end_line": line, "severity": "high",
        "category": "injection", "cwe": 89, "title": "SQL injection", "description": "query built from input",
        "suggestion": null, "confidence": 0.9}]})
    .to_string()
}

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// A project with `files` Go files and a config with the given provider tables.
    fn new(files: usize, providers: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        for file in support::engine::go_files(files, |i| format!("src/f{i:02}.go")) {
            std::fs::write(dir.path().join(file.path), file.text).unwrap();
        }
        std::fs::write(dir.path().join("quorum.toml"), providers).unwrap();
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn quorum(&self, args: &[&str]) -> Output {
        support::quorum(self.path(), args, &[])
    }

    async fn run(&self, args: &[&str]) -> Output {
        support::quorum_async(self.path(), args, &[]).await
    }

    /// The records of the run folder `out`, as far as written.
    fn records(&self, out: &str) -> Vec<Value> {
        fixture::records_so_far(&self.path().join(out))
    }

    fn report(&self, out: &str) -> Value {
        fixture::report(&self.path().join(out))
    }
}

fn provider(name: &str, server: &MockServer, extra: &str) -> String {
    let concurrency = if extra.contains("max_concurrency") {
        ""
    } else {
        "max_concurrency = 2\n"
    };
    openai_provider(
        name,
        &format!("{}/v1", server.uri()),
        &format!("{name}-model"),
        &format!("{concurrency}{extra}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_tree_is_not_asked_again_and_a_changed_file_alone_is() {
    let (server, seen) = chat_server(|ask| answer(&one_finding(&ask.file, 4))).await;
    let project = Project::new(3, &(provider("a", &server, "") + &provider("b", &server, "")));
    ok(&project.run(&["review", "src", "--quiet"]).await);
    assert_eq!(seen.count(), 6);
    let first = project.report("quorum-report");

    ok(&project.run(&["review", "src", "--quiet"]).await);
    assert_eq!(seen.count(), 6, "the second run over an unchanged tree sends nothing");
    let second = project.report("quorum-report");
    assert_eq!(first["issues"], second["issues"], "cached answers give the same report");
    assert!(project.records("quorum-report").iter().all(|r| r["cached"] == true));
    let totals = &second["run"]["providers"][0];
    assert_eq!(
        (totals["cached_answers"].as_u64(), totals["input_tokens"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(second["run"]["token_figures"], "measured");

    std::fs::write(project.path().join("src/f01.go"), "package p\n\nfunc G() {}\n").unwrap();
    ok(&project.run(&["review", "src", "--quiet"]).await);
    assert_eq!(seen.count(), 8, "one changed file is asked again, of each provider");
    assert_eq!(seen.last_files(2), ["f01.go", "f01.go"]);

    ok(&project.run(&["review", "src", "--quiet", "--no-cache"]).await);
    assert_eq!(seen.count(), 14, "--no-cache asks everything again");
    assert!(support::test_home(project.path())
        .join("cache/quorum/CACHEDIR.TAG")
        .exists());
    assert!(
        !project.path().join(".quorum-cache").exists(),
        "nothing is cached in the project"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_kill_9_loses_nothing_and_repeats_nothing() {
    let (server, seen) =
        chat_server(|ask| answer(&one_finding(&ask.file, 4)).set_delay(Duration::from_millis(150))).await;
    let project = Project::new(20, &provider("slow", &server, "max_concurrency = 1"));
    let mut child = support::quorum_cmd(project.path())
        .args(["review", "src", "--quiet", "--no-cache"])
        .spawn()
        .unwrap();
    // Let a few answers land, then kill without warning.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while project.records("quorum-report").len() < 5 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = project.records("quorum-report").len();
    assert!((5..20).contains(&before), "killed mid-run: {before} answers on disk");
    let sent_before = seen.count();

    let stderr = ok(&project.run(&["review", "--resume", "--quiet", "--no-cache"]).await);
    let records = project.records("quorum-report");
    let mut files: Vec<&str> = records.iter().map(|r| r["file"].as_str().unwrap()).collect();
    files.sort();
    files.dedup();
    assert_eq!(files.len(), 20, "every file answered once the run is resumed: {stderr}");
    assert_eq!(records.len(), 20, "no file answered twice");
    // At most the one request in flight at the kill is asked again.
    assert!(
        seen.count() - sent_before <= 20 - before + 1,
        "{} requests after resume",
        seen.count() - sent_before
    );
    assert_eq!(project.report("quorum-report")["issues"].as_array().unwrap().len(), 20);
}

/// A review of six files by a provider that fails and one that answers.
struct FailingRun {
    _server: MockServer,
    seen: Seen,
    project: Project,
    stderr: String,
}

/// Reviews six files with the providers `name` (one request at a time), whose every
/// answer is `failure()`, and `good`, which finds one issue in each.
async fn review_with_failing(name: &str, failure: fn() -> ResponseTemplate) -> FailingRun {
    let failing_model = format!("{name}-model");
    let (server, seen) = chat_server(move |ask| {
        if ask.model == failing_model {
            failure()
        } else {
            answer(&one_finding(&ask.file, 4))
        }
    })
    .await;
    let project = Project::new(
        6,
        &(provider(name, &server, "max_concurrency = 1") + &provider("good", &server, "")),
    );
    let stderr = support::incomplete(&project.run(&["review", "src", "--no-cache"]).await);
    FailingRun {
        _server: server,
        seen,
        project,
        stderr,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirecting_provider_is_marked_down_after_its_first_answer() {
    let FailingRun { seen, stderr, .. } = review_with_failing("hop", || {
        ResponseTemplate::new(307).insert_header("location", "http://127.0.0.1:9/elsewhere")
    })
    .await;
    assert!(stderr.contains("hop is marked down"), "{stderr}");
    assert!(stderr.contains("follows no redirects"), "{stderr}");
    assert_eq!(seen.count_of("hop-model"), 1, "no request after the first redirect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_key_marks_the_provider_down_and_the_others_go_on() {
    let FailingRun {
        seen, project, stderr, ..
    } = review_with_failing("bad", || {
        ResponseTemplate::new(401).set_body_json(openai_error(
            "Incorrect API key provided",
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
        ))
    })
    .await;
    assert!(stderr.contains("bad is marked down"), "{stderr}");
    assert_eq!(seen.count_of("bad-model"), 1, "no request after the key was rejected");
    let records = project.records("quorum-report");
    let skipped = records
        .iter()
        .filter(|r| r["provider"] == "bad" && r["status"] == "skipped")
        .count();
    assert_eq!(
        skipped, 5,
        "the remaining jobs are recorded as skipped, with the reason"
    );
    let report = project.report("quorum-report");
    assert_eq!(report["issues"].as_array().unwrap().len(), 6);
    assert_eq!(
        report["issues"][0]["agreement"]["of"], 1,
        "a provider that never answered is not counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_json_is_asked_again_with_the_error_quoted() {
    let (server, seen) = chat_server(|ask| {
        if ask.nth == 1 {
            answer("Sure! The main problem is the SQL query on line 4.")
        } else {
            answer(&one_finding(&ask.file, 4))
        }
    })
    .await;
    let project = Project::new(1, &provider("chatty", &server, ""));
    ok(&project.run(&["review", "src", "--quiet", "--no-cache"]).await);
    assert_eq!(seen.count(), 2);
    assert!(
        seen.prompts()[1].contains("could not be used: no JSON found"),
        "{}",
        seen.prompts()[1]
    );
    let records = project.records("quorum-report");
    assert_eq!(
        (records[0]["status"].as_str(), records[0]["attempts"].as_u64()),
        (Some("ok"), Some(2))
    );
    assert_eq!(project.report("quorum-report")["issues"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_too_big_for_the_context_is_split_and_findings_keep_real_lines() {
    let (server, seen) = chat_server(|ask| {
        // Report the SQL line wherever it appears in the part sent.
        let line = ask
            .user
            .lines()
            .find(|l| l.contains("db.Query"))
            .and_then(|l| l.split('|').next())
            .and_then(|n| n.trim().parse::<u32>().ok());
        match line {
            Some(line) => answer(&one_finding(&ask.file, line)),
            None => answer(NO_FINDINGS),
        }
    })
    .await;
    let project = Project::new(
        0,
        &provider("small", &server, "context_tokens = 1536\nmax_output_tokens = 256"),
    );
    let mut big = String::from("package p\n\n");
    for i in 0..400 {
        big.push_str(&format!("func F{i}(x int) int {{\n\treturn x * {i}\n}}\n\n"));
    }
    big.push_str("func Q(db *sql.DB, x string) {\n\tdb.Query(\"SELECT \" + x)\n}\n");
    std::fs::write(project.path().join("src/big.go"), &big).unwrap();
    ok(&project.run(&["review", "src", "--quiet", "--no-cache"]).await);
    assert!(seen.count() > 3, "the file was sent in parts: {}", seen.count());
    let query_line = big.lines().position(|l| l.contains("db.Query")).unwrap() as u64 + 1;
    let report = project.report("quorum-report");
    let issues = report["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{report:#}");
    assert_eq!(issues[0]["start_line"].as_u64(), Some(query_line));
    assert!(project
        .records("quorum-report")
        .iter()
        .all(|r| r["chunk"]["start_line"].is_u64()));
}

/// Prompts longer than this many lines are refused by the overflow tests' server.
const PROMPT_LINES_REFUSED: usize = 80;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_overflow_error_retries_with_smaller_parts() {
    let (server, seen) = chat_server(|ask| {
        // The whole file's prompt (100 lines of code) is refused, a half's (about 50) is not.
        if ask.user.lines().count() > PROMPT_LINES_REFUSED {
            ResponseTemplate::new(400).set_body_json(openai_error(
                "This model's maximum context length is 512 tokens. However, your messages resulted in 900 tokens.",
                "invalid_request_error",
                Some("messages"),
                Some("context_length_exceeded"),
            ))
        } else {
            answer(&one_finding(&ask.file, 1))
        }
    })
    .await;
    let project = Project::new(0, &provider("tiny", &server, ""));
    let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
    std::fs::write(project.path().join("src/long.go"), long).unwrap();
    ok(&project.run(&["review", "src", "--quiet", "--no-cache"]).await);
    assert!(
        seen.count() >= 3,
        "one refused whole-file request, then parts: {}",
        seen.count()
    );
    let records = project.records("quorum-report");
    let split: Vec<_> = records.iter().filter(|r| r["status"] == "split").collect();
    assert_eq!(
        split.len(),
        1,
        "the refused whole file is recorded as split: {records:#?}"
    );
    assert_eq!(split[0]["split_into"].as_array().unwrap().len(), 2);
    let answered = records.iter().filter(|r| r["status"] == "ok").count();
    assert!(answered >= 2 && answered + 1 == records.len(), "{records:#?}");
    // A second run goes straight to the parts, from the cache.
    let before = seen.count();
    ok(&project.run(&["review", "src", "--quiet"]).await);
    ok(&project.run(&["review", "src", "--quiet"]).await);
    assert_eq!(
        seen.count(),
        before + answered + 1,
        "the first cached run asks once; the second asks nothing"
    );
}

/// The `[done/total]` of each progress line of `stderr`.
fn progress_counts(stderr: &str) -> Vec<(usize, usize)> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix('[')?.split_once(']'))
        .filter_map(|(counts, _)| {
            let (done, total) = counts.split_once('/')?;
            Some((done.parse().ok()?, total.parse().ok()?))
        })
        .collect()
}

/// A model that refuses prompts over `PROMPT_LINES_REFUSED` lines as OpenAI does (context_length_exceeded),
/// and a project of two short files and `src/long.go` (100 lines), which it must split.
async fn a_project_with_a_file_too_long_for_the_model() -> (MockServer, Project) {
    let (server, _seen) = chat_server(|ask| {
        // The whole file's prompt (100 lines of code) is refused, a half's (about 50) is not.
        if ask.user.lines().count() > PROMPT_LINES_REFUSED {
            ResponseTemplate::new(400).set_body_json(openai_error(
                "This model's maximum context length is 512 tokens. However, your messages resulted in 900 tokens.",
                "invalid_request_error",
                Some("messages"),
                Some("context_length_exceeded"),
            ))
        } else {
            answer(NO_FINDINGS)
        }
    })
    .await;
    let project = Project::new(2, &provider("tiny", &server, ""));
    let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
    std::fs::write(project.path().join("src/long.go"), long).unwrap();
    (server, project)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_the_parts_of_a_split_file_as_the_report_does() {
    let (_server, project) = a_project_with_a_file_too_long_for_the_model().await;
    let out = project.run(&["review", "src", "--no-cache"]).await;
    let stderr = ok(&out);
    let records = project.records("quorum-report");
    let parts = records.iter().filter(|r| r["status"] == "ok").count();
    assert_eq!(
        parts,
        2 + 2,
        "two small files and the long one's two parts: {records:#?}"
    );
    let counts = progress_counts(&stderr);
    assert_eq!(counts.len(), parts, "one line per job the report counts:\n{stderr}");
    assert_eq!(counts.last(), Some(&(parts, parts)), "{stderr}");
    assert!(
        !stderr.lines().any(|l| l.contains(" · ") && l.contains("failed")),
        "a split is no failure:\n{stderr}"
    );
    assert!(
        stderr.contains("tiny · long.go · too long for the model: reviewed as 2 parts instead"),
        "{stderr}"
    );
    assert!(
        stderr.contains("This run: 4 answered, 0 from the cache, 0 failed"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_split_file_counts_only_the_parts_left_to_ask() {
    let (_server, project) = a_project_with_a_file_too_long_for_the_model().await;
    ok(&project.run(&["review", "src", "--quiet", "--no-cache"]).await);
    // The answer to one part of the long file is lost, as after `kill -9`.
    let responses = project.path().join("quorum-report/responses.jsonl");
    let text = std::fs::read_to_string(&responses).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let part = lines
        .iter()
        .rposition(|l| serde_json::from_str::<Value>(l).is_ok_and(|r| r["status"] == "ok" && !r["chunk"].is_null()))
        .expect("a part of long.go was answered");
    lines.remove(part);
    std::fs::write(&responses, lines.join("\n") + "\n").unwrap();

    let resumed = ok(&project.run(&["review", "--resume", "--no-cache"]).await);
    assert!(resumed.contains("1 requests left to make"), "{resumed}");
    assert_eq!(progress_counts(&resumed), vec![(1, 1)], "{resumed}");
    assert!(resumed.contains("tiny · long.go (lines "), "{resumed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_sends_nothing_and_estimates_cost() {
    let (server, seen) = chat_server(|ask| answer(&one_finding(&ask.file, 4))).await;
    let project = Project::new(
        4,
        &provider(
            "paid",
            &server,
            "price_input_per_mtok = 2.0\nprice_output_per_mtok = 8.0",
        ),
    );
    let out = project.run(&["review", "src", "--dry-run"]).await;
    ok(&out);
    let stdout = support::stdout(&out);
    assert_eq!(seen.count(), 0);
    assert!(
        stdout.contains("paid") && stdout.contains("Dry run: nothing was sent"),
        "{stdout}"
    );
    assert!(stdout.contains("$0.0"), "{stdout}");
    assert!(!project.path().join("quorum-report").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_cost_stops_dispatch_and_resume_finishes_the_run() {
    let (server, seen) = chat_server(|ask| answer(&one_finding(&ask.file, 4))).await;
    // Each answer costs 1000 × $10/M + 100 × $10/M = $0.011; estimates are close to that.
    let project = Project::new(
        10,
        &provider(
            "paid",
            &server,
            "max_concurrency = 1\nprice_input_per_mtok = 10.0\nprice_output_per_mtok = 10.0",
        ),
    );
    // Prices decide the reported cost: a found configuration that sets them needs trust.
    ok(&project.run(&["trust", "quorum.toml"]).await);
    let stderr = support::incomplete(
        &project
            .run(&["review", "src", "--no-cache", "--max-cost", "0.05"])
            .await,
    );
    assert!(stderr.contains("--max-cost budget"), "{stderr}");
    let spent = seen.count();
    assert!((1..10).contains(&spent), "{spent} requests within the budget");
    let report = project.report("quorum-report");
    let cost = report["run"]["providers"][0]["cost_usd"].as_f64().unwrap();
    assert!(cost <= 0.05, "measured cost {cost} within budget");
    ok(&project.run(&["review", "--resume", "--quiet", "--no-cache"]).await);
    assert_eq!(seen.count(), 10, "resume asks only what the budget stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_split_the_files_and_aggregate_merges_them() {
    let (server, seen) = chat_server(|ask| answer(&one_finding(&ask.file, 4))).await;
    let project = Project::new(12, &provider("a", &server, ""));
    ok(&project
        .run(&[
            "review",
            "src",
            "--quiet",
            "--no-cache",
            "--shard",
            "1/2",
            "--out",
            "s1",
        ])
        .await);
    ok(&project
        .run(&[
            "review",
            "src",
            "--quiet",
            "--no-cache",
            "--shard",
            "2/2",
            "--out",
            "s2",
        ])
        .await);
    assert_eq!(seen.count(), 12, "each file in exactly one shard");
    let (n1, n2) = (project.records("s1").len(), project.records("s2").len());
    assert!(n1 > 0 && n2 > 0 && n1 + n2 == 12, "{n1} + {n2}");
    let merged = project.quorum(&["aggregate", "s1", "s2", "--out", "merged", "--quiet"]);
    ok(&merged);
    let report = project.report("merged");
    assert_eq!(report["issues"].as_array().unwrap().len(), 12);
    assert_eq!(report["run"]["files_sent"], 12);
    // The merged store keeps each shard's records whole, their MACs included.
    let mut shards = [project.records("s1"), project.records("s2")].concat();
    let mut merged = project.records("merged");
    let by_file = |a: &Value, b: &Value| a["file"].as_str().cmp(&b["file"].as_str());
    shards.sort_by(by_file);
    merged.sort_by(by_file);
    assert!(shards.iter().all(|r| r["mac"].is_string()));
    assert_eq!(merged, shards);
    let alone = project.quorum(&["aggregate", "s1", "s2"]);
    assert_eq!(alone.status.code(), Some(2), "several folders need --out");
    let bad = project.quorum(&["review", "src", "--shard", "3/2"]);
    assert!(support::stderr(&bad).contains("1 ≤ K ≤ N"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_folder_and_config_are_never_reviewed_and_a_foreign_out_folder_is_refused() {
    let (server, seen) = chat_server(|ask| answer(&one_finding(&ask.file, 4))).await;
    let project = Project::new(2, &provider("a", &server, ""));
    ok(&project.run(&["review", ".", "--quiet", "--no-cache"]).await);
    ok(&project.run(&["review", ".", "--quiet", "--no-cache"]).await);
    let files: Vec<String> = seen.files();
    assert!(
        files.iter().all(|f| f.ends_with(".go")),
        "only the sources were sent: {files:?}"
    );
    assert_eq!(seen.count(), 4);
    let previous: Vec<PathBuf> = std::fs::read_dir(project.path().join("quorum-report"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(previous.len(), 1, "the first run's answers and reports are kept aside");
    std::fs::create_dir(project.path().join("docs")).unwrap();
    std::fs::write(project.path().join("docs/guide.md"), "# guide\n").unwrap();
    let refused = project.quorum(&["review", "src", "--out", "docs"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(support::stderr(&refused).contains("something other than a Quorum run"));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_dispatch_writes_reports_and_resume_finishes() {
    let (server, seen) =
        chat_server(|ask| answer(&one_finding(&ask.file, 4)).set_delay(Duration::from_millis(200))).await;
    let project = Project::new(15, &provider("slow", &server, "max_concurrency = 1"));
    let child = spawn_review(&project);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while project.records("quorum-report").len() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    // Exit 4: the first Ctrl-C leaves the review incomplete.
    let stderr = support::incomplete(&out);
    assert!(stderr.contains("stopped early (interrupted)"), "{stderr}");
    assert!(
        stderr.contains("Incomplete run (stopped early: interrupted;"),
        "{stderr}"
    );
    let answered = project.records("quorum-report").len();
    assert!((3..15).contains(&answered), "{answered} answered before the stop");
    // Progress stops where the run did, and says so: it does not jump to 15/15.
    assert_eq!(progress_counts(&stderr).last(), Some(&(answered, 15)), "{stderr}");
    assert!(
        stderr.contains(&format!("Stopped after {answered} of 15 jobs: interrupted")),
        "{stderr}"
    );
    let run = fixture::load(&project.path().join("quorum-report/run.json"));
    assert_eq!(run["stopped_early"], "interrupted");
    assert_eq!(project.report("quorum-report")["run"]["stopped_early"], "interrupted");
    assert!(stderr.contains("--resume quorum-report"), "{stderr}");
    assert!(
        project.path().join("quorum-report/report.json").exists(),
        "reports written from what is done"
    );

    let resumed = ok(&project.run(&["review", "--resume", "--no-cache"]).await);
    assert_eq!(project.records("quorum-report").len(), 15);
    // Progress counts what is left, as the announcement does.
    let left = 15 - answered;
    assert!(resumed.contains(&format!("{left} requests left to make")), "{resumed}");
    assert_eq!(progress_counts(&resumed).last(), Some(&(left, left)), "{resumed}");
    assert_eq!(
        seen.count(),
        15,
        "the interrupted request finished; nothing was asked twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_from_a_different_model_is_not_counted_or_cached() {
    // LM Studio serves whatever model is loaded, whatever `model` the request names.
    let (server, seen) = chat_server(|ask| {
        let body = chat::chat_completion(
            &one_finding(&ask.file, 4),
            json!({}),
            Some("google/gemma-3-12b"),
            (10, 5),
        );
        ResponseTemplate::new(200).set_body_json(body)
    })
    .await;
    let project = Project::new(1, &(provider("gemma", &server, "") + &provider("qwen", &server, "")));
    std::fs::write(
        project.path().join("quorum.toml"),
        provider("gemma", &server, "").replace("gemma-model", "google/gemma-3-12b") + &provider("qwen", &server, ""),
    )
    .unwrap();
    support::incomplete(&project.run(&["review", "src", "--quiet"]).await);
    let report = project.report("quorum-report");
    assert_eq!(
        report["issues"][0]["agreement"]["count"], 1,
        "one model, one vote: {report:#}"
    );
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["provider"] == "qwen" && e["stage"] == "wrong-model"),
        "{errors:#?}"
    );
    support::incomplete(&project.run(&["review", "src", "--quiet"]).await);
    assert_eq!(
        seen.count(),
        3,
        "the right model's answer is cached; the wrong one is asked again"
    );
}

/// A second Ctrl-C quits at once (130) instead of waiting for the answers in flight; what
/// was recorded stays whole.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_quits_with_130_without_waiting_for_answers() {
    let (server, seen) = chat_server(|ask| answer(&one_finding(&ask.file, 4)).set_delay(Duration::from_secs(30))).await;
    let project = Project::new(3, &provider("slow", &server, "max_concurrency = 1"));
    let child = spawn_review(&project);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while seen.count() < 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..2 {
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", support::stderr(&out));
    assert!(
        project.records("quorum-report").is_empty(),
        "no answer came back to record"
    );
}

/// `quorum review src --no-cache` started in `project`, its output piped: for the tests
/// that interrupt it.
#[cfg(unix)]
fn spawn_review(project: &Project) -> std::process::Child {
    support::quorum_cmd(project.path())
        .args(["review", "src", "--no-cache"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}
