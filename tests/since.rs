//! Reviewing a change: `review --since REF` on a temporary git repository asks about
//! exactly the files changed (modified, added, untracked, renamed; not deleted, not
//! ignored), names their changed lines, and reports issues outside them apart as
//! pre-existing; several paths and `--files-from` restrict a review under every rule of
//! the walk; the cache makes a re-review ask only what changed again. Requests are
//! counted at a loopback server.

mod support;

use std::io::Write as _;
use std::process::Stdio;

use serde_json::{json, Value};
use support::chat::{self, NO_FINDINGS};
use support::fixture::{self, git, openai_provider, write};
use support::server::{chat_server, Seen};
use support::{ok, quorum_async, refused};
use wiremock::MockServer;

/// A Go file of `n` numbered lines.
fn go(n: u32) -> String {
    (1..=n).map(|i| format!("// line {i}\n")).collect()
}

/// `text` with line `line` replaced.
fn edit(text: &str, line: usize, new: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[line - 1] = new.to_string();
    lines.join("\n") + "\n"
}

fn config(server: &MockServer) -> String {
    openai_provider("a", &format!("{}/v1", server.uri()), "a-model", "max_concurrency = 2")
}

async fn nothing_found_server() -> (MockServer, Seen) {
    chat_server(|_| chat::reply(NO_FINDINGS, (100, 10))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_asks_about_exactly_the_changed_files_with_their_lines() {
    let (server, seen) = nothing_found_server().await;
    let files = [
        ("keep.go", go(10)),
        ("mod.go", go(20)),
        ("del.go", go(5)),
        ("ren.go", go(30)),
        ("sub/inner.go", go(4)),
        (".gitignore", "build/\n".to_string()),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let Some(repo) = fixture::git_project(&files, &config(&server)) else {
        return;
    };
    let root = repo.path();
    write(root, "mod.go", edit(&go(20), 5, "q := \"SELECT \" + id"));
    std::fs::remove_file(root.join("del.go")).unwrap();
    git(root, &["mv", "ren.go", "renamed.go"]);
    write(root, "renamed.go", edit(&go(30), 30, "exec(cmd)"));
    // Unlike del.go, so git does not take it for del.go renamed.
    write(root, "added.go", "package added\n\nfunc A() {}\n");
    git(root, &["add", "added.go"]);
    write(root, "untracked.go", go(2));
    write(root, "build/out.go", go(2));
    write(root, ".env", "TOKEN=x\n");
    write(root, "sub/inner.go", edit(&go(4), 1, "changed"));

    let plan = quorum_async(root, &["review", "--since", "HEAD", "--dry-run"], &[]).await;
    ok(&plan);
    let plan = support::stdout(&plan);
    assert!(
        plan.contains("Changes since HEAD (") && plan.contains("Files to send: 5."),
        "{plan}"
    );
    assert_eq!(seen.count(), 0);

    let err = ok(&quorum_async(root, &["review", "--since", "HEAD"], &[]).await);
    assert_eq!(
        seen.files(),
        ["added.go", "mod.go", "renamed.go", "sub/inner.go", "untracked.go"],
        "modified, added, renamed (new name), untracked; not deleted, unchanged or ignored:\n{err}"
    );
    assert!(err.contains("Reviewing 5 files changed since HEAD"), "{err}");
    let prompt = |file: &str| seen.chats().into_iter().find(|c| c.file == file).unwrap().user;
    assert!(
        prompt("mod.go").contains("\nChanged lines: 5. "),
        "{}",
        prompt("mod.go")
    );
    assert!(
        prompt("renamed.go").contains("\nChanged lines: 30. "),
        "{}",
        prompt("renamed.go")
    );
    assert!(
        prompt("added.go").contains("\nChanged lines: 1-3. "),
        "{}",
        prompt("added.go")
    );
    assert!(prompt("untracked.go").contains("\nChanged lines: 1-2. "));
    assert!(
        prompt("mod.go").contains(" 5| q := \"SELECT \" + id\n"),
        "the code is sent as it is"
    );
    let report = fixture::report(&root.join("quorum-report"));
    assert_eq!(report["run"]["since"]["ref"], "HEAD");
    assert_eq!(report["run"]["since"]["commit"].as_str().unwrap().len(), 40);
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, [".env"], "a changed secret file is listed, not sent");

    // A folder given with --since narrows the change to it, names relative to it.
    seen.forget();
    ok(&quorum_async(
        root,
        &["review", "sub", "--since", "HEAD", "--out", "q2", "--no-cache"],
        &[],
    )
    .await);
    assert_eq!(seen.files(), ["inner.go"]);

    // The last commit as the reference: what it changed and what changed since.
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "second"]);
    write(root, "keep.go", edit(&go(10), 2, "x"));
    seen.forget();
    ok(&quorum_async(root, &["review", "--since", "HEAD~1", "--out", "q3", "--no-cache"], &[]).await);
    assert_eq!(
        seen.files(),
        [
            "added.go",
            "keep.go",
            "mod.go",
            "renamed.go",
            "sub/inner.go",
            "untracked.go"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_outside_the_changed_lines_are_pre_existing_and_shown_apart() {
    let (server, seen) = chat_server(|ask| {
        let findings = json!({"findings": [
            {"file": ask.file, "start_line": 6, "end_line": 6, "severity": "high", "category": "injection",
             "cwe": 89, "title": "SQL injection in the new query", "description": "built from input"},
            {"file": ask.file, "start_line": 40, "end_line": 41, "severity": "medium", "category": "crypto",
             "cwe": 327, "title": "MD5 used for passwords", "description": "old code"}
        ]});
        chat::reply(&findings.to_string(), (100, 10))
    })
    .await;
    let Some(repo) = fixture::git_project(&[("db.go", &go(50))], &config(&server)) else {
        return;
    };
    let root = repo.path();
    write(root, "db.go", edit(&go(50), 5, "q := \"SELECT \" + id"));

    let out = quorum_async(root, &["review", "--since", "HEAD"], &[]).await;
    let err = ok(&out);
    assert_eq!(seen.count(), 1);
    let report = fixture::report(&root.join("quorum-report"));
    let issues = report["issues"].as_array().unwrap();
    let mark = |title: &str| -> Value {
        let issue = issues
            .iter()
            .find(|i| i["title"].as_str().unwrap().starts_with(title))
            .unwrap();
        issue.get("pre_existing").cloned().unwrap_or(Value::Null)
    };
    assert_eq!(
        mark("SQL injection"),
        Value::Null,
        "line 6 is within 3 lines of the change at 5"
    );
    assert_eq!(mark("MD5"), Value::Bool(true), "lines 40-41 are far from it");
    let table = support::stdout(&out);
    let apart = table.find("Pre-existing (outside the changed lines):").expect(&table);
    assert!(
        table.find("SQL injection").unwrap() < apart && table.find("MD5").unwrap() > apart,
        "{table}"
    );
    assert!(
        err.contains("2 issues (1 new, 1 pre-existing outside the changed lines)"),
        "{err}"
    );
    let md = std::fs::read_to_string(root.join("quorum-report/report.md")).unwrap();
    let apart = md.find("## Pre-existing (outside the changed lines)").expect(&md);
    assert!(
        md.find("| SQL injection").unwrap() < apart && md[apart..].contains("MD5"),
        "{md}"
    );
    assert!(md.contains("1 new issues, 1 pre-existing"), "{md}");

    // aggregate marks the same issues from the run folder alone.
    let rebuilt = ok(&quorum_async(root, &["aggregate", "quorum-report", "--quiet"], &[]).await);
    assert_eq!(
        fixture::report(&root.join("quorum-report"))["issues"],
        report["issues"],
        "{rebuilt}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_outside_a_repository_or_with_an_unknown_ref_is_refused_and_no_change_is_nothing_to_do() {
    let (server, seen) = nothing_found_server().await;
    let plain = fixture::project(&[("a.go", "package a\n")], &config(&server));
    let err = refused(&quorum_async(plain.path(), &["review", "--since", "HEAD"], &[]).await);
    assert!(
        err.contains("not inside a git work tree") && err.contains("leave out --since"),
        "{err}"
    );

    let Some(repo) = fixture::git_project(&[("a.go", "package a\n")], &config(&server)) else {
        return;
    };
    let root = repo.path();
    let err = refused(&quorum_async(root, &["review", "--since", "nope/branch"], &[]).await);
    assert!(
        err.contains("--since nope/branch: git knows no commit by that name"),
        "{err}"
    );
    for option in ["--output=hijack", "-p"] {
        let err = refused(&quorum_async(root, &["review", "--since", option], &[]).await);
        assert!(
            err.contains("git knows no commit by that name"),
            "{option} is a name, not an option: {err}"
        );
    }
    assert!(!root.join("hijack").exists());

    let out = quorum_async(root, &["review", "--since", "HEAD"], &[]).await;
    let err = ok(&out);
    assert!(
        err.contains("Nothing to review: no file under . changed since HEAD"),
        "{err}"
    );
    assert!(!root.join("quorum-report").exists(), "nothing was written");
    // A CI gate passes on an empty change set, and a report asked on stdout is nothing.
    let gated = quorum_async(
        root,
        &[
            "review",
            "--since",
            "HEAD",
            "--fail-on",
            "info",
            "--format",
            "json",
            "--out",
            "-",
        ],
        &[],
    )
    .await;
    assert!(ok(&gated).contains("Nothing to review"));
    assert!(gated.stdout.is_empty());
    assert!(!root.join("quorum-report").exists());
    // Only a secret file changed: nothing is sent, and that is said.
    write(root, ".env", "TOKEN=x\n");
    let err = ok(&quorum_async(root, &["review", "--since", "HEAD"], &[]).await);
    assert!(err.contains("Nothing to review") && err.contains(".env"), "{err}");
    assert_eq!(seen.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_paths_and_files_from_review_only_those_under_every_rule() {
    let (server, seen) = nothing_found_server().await;
    let files = [
        ("a/x.go", "package a\n"),
        ("a/y.go", "package a\n"),
        ("b/c.go", "package b\n"),
        ("b/d.go", "package b\n"),
        ("e.go", "package e\n"),
        ("a/.env", "TOKEN=x\n"),
    ];
    let project = fixture::project(&files, &config(&server));
    let root = project.path();
    ok(&quorum_async(root, &["review", "a", "b/c.go", "--quiet"], &[]).await);
    assert_eq!(seen.files(), ["a/x.go", "a/y.go", "b/c.go"]);
    let report = fixture::report(&root.join("quorum-report"));
    assert_eq!(
        report["skipped"][0]["path"], "a/.env",
        "a listed folder's secret stays home"
    );

    seen.forget();
    write(root, "list.txt", "b/d.go\n\ne.go\r\na/.env\n");
    ok(&quorum_async(
        root,
        &["review", "--files-from", "list.txt", "--out", "q2", "--quiet"],
        &[],
    )
    .await);
    assert_eq!(seen.files(), ["b/d.go", "e.go"]);

    seen.forget();
    let mut child = support::quorum_cmd(root)
        .args([
            "review",
            "b",
            "--files-from",
            "-",
            "--out",
            "q3",
            "--quiet",
            "--no-cache",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"b/c.go\n").unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    ok(&out);
    assert_eq!(seen.files(), ["c.go"], "names are relative to the folder given");

    let err = refused(&quorum_async(root, &["review", "b", "--files-from", "list.txt"], &[]).await);
    assert!(err.contains("e.go is outside b, the folder under review"), "{err}");
    let err = refused(&quorum_async(root, &["review", "a", "missing.go"], &[]).await);
    assert!(err.contains("cannot read missing.go"), "{err}");
    assert_eq!(seen.count(), 1);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_path_through_a_link_out_of_the_root_is_refused() {
    let (server, seen) = nothing_found_server().await;
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.go", "package s\n");
    let project = fixture::project(&[("a/x.go", "package a\n")], &config(&server));
    let root = project.path();
    std::os::unix::fs::symlink(outside.path(), root.join("a/link")).unwrap();
    write(root, "list.txt", "a/link/secret.go\n");
    let err = refused(&quorum_async(root, &["review", "--files-from", "list.txt"], &[]).await);
    assert!(err.contains("a/link/secret.go is outside ."), "{err}");
    assert_eq!(seen.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_review_of_a_change_asks_only_the_file_changed_again() {
    let (server, seen) = nothing_found_server().await;
    let Some(repo) = fixture::git_project(&[("a.go", &go(20)), ("b.go", &go(20))], &config(&server)) else {
        return;
    };
    let root = repo.path();
    write(root, "a.go", edit(&go(20), 3, "a1"));
    write(root, "b.go", edit(&go(20), 3, "b1"));
    ok(&quorum_async(root, &["review", "--since", "HEAD", "--quiet"], &[]).await);
    assert_eq!(seen.files(), ["a.go", "b.go"]);
    write(root, "b.go", edit(&edit(&go(20), 3, "b1"), 12, "b2"));
    ok(&quorum_async(root, &["review", "--since", "HEAD", "--quiet"], &[]).await);
    assert_eq!(seen.files(), ["a.go", "b.go", "b.go"], "a.go came from the cache");
    assert!(seen.prompts()[2].contains("Changed lines: 3, 12. "));
    let cached: Vec<bool> = fixture::records(&root.join("quorum-report"))
        .iter()
        .map(|r| r["cached"] == true)
        .collect();
    assert_eq!(cached.iter().filter(|c| **c).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repositorys_filter_drivers_do_not_run() {
    let (server, seen) = nothing_found_server().await;
    let files = [("a.go", "package a\n"), (".gitattributes", "*.go filter=evil\n")];
    let Some(repo) = fixture::git_project(&files, &config(&server)) else {
        return;
    };
    let root = repo.path();
    let marker = root.join("filter-ran");
    // A shipped .git/config's clean filter, which `git diff` runs on working-tree files.
    git(
        root,
        &[
            "config",
            "filter.evil.clean",
            &format!("touch '{}'; cat", marker.display()),
        ],
    );
    git(root, &["config", "filter.evil.process", "false"]);
    write(root, "a.go", "package a\n\nfunc A() {}\n");
    ok(&quorum_async(root, &["review", "--since", "HEAD", "--quiet"], &[]).await);
    assert_eq!(seen.files(), ["a.go"]);
    assert!(
        seen.prompts()[0].contains("Changed lines: 2-3. "),
        "{}",
        seen.prompts()[0]
    );
    assert!(!marker.exists(), "the repository's filter ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_change_review_compares_with_the_same_commit() {
    let (server, seen) = nothing_found_server().await;
    let Some(repo) = fixture::git_project(&[("a.go", &go(9)), ("b.go", &go(9))], &config(&server)) else {
        return;
    };
    let root = repo.path();
    write(root, "a.go", edit(&go(9), 2, "a1"));
    ok(&quorum_async(root, &["review", "--since", "HEAD", "--quiet", "--no-cache"], &[]).await);
    // The reference moves on; the run still compares with the commit it recorded.
    git(root, &["commit", "-qam", "second"]);
    ok(&quorum_async(root, &["review", "--resume", "--quiet", "--no-cache"], &[]).await);
    assert_eq!(seen.files(), ["a.go"], "nothing is asked again");
    let report = fixture::report(&root.join("quorum-report"));
    assert_eq!(report["run"]["since"]["ref"], "HEAD");
    assert_eq!(report["errors"], json!([]), "every file of the change is answered");
}

/// The object file of `object` (a loose object id) under `repo`'s `.git`.
fn loose_object(repo: &std::path::Path, object: &str) -> std::path::PathBuf {
    repo.join(".git/objects").join(&object[..2]).join(&object[2..])
}

/// The id git gives `spec` in `repo`.
fn rev_parse(repo: &std::path::Path, spec: &str) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", spec])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_claiming_to_be_a_partial_clone_fetches_nothing() {
    let (server, _seen) = nothing_found_server().await;
    let Some(repo) = fixture::git_project(&[("a.rs", "fn a() {}\n")], &config(&server)) else {
        return;
    };
    let root = repo.path();
    let marker = root.join("ssh-ran");
    // The blob of a.rs at HEAD is missing: a partial clone's git would fetch it from the
    // promisor remote, through the repository's own ssh command.
    let blob = rev_parse(root, "HEAD:a.rs");
    std::fs::remove_file(loose_object(root, &blob)).unwrap();
    write(root, "a.rs", "fn a() { b() }\n");
    for (key, value) in [
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", "origin"),
        ("remote.origin.url", "ssh://git.invalid/x"),
        ("remote.origin.promisor", "true"),
        ("core.sshCommand", &format!("touch '{}'; false", marker.display())),
    ] {
        git(root, &["config", key, value]);
    }
    let out = quorum_async(root, &["review", "--since", "HEAD", "--quiet"], &[]).await;
    assert!(
        !marker.exists(),
        "the repository's ssh command ran:\n{}",
        support::stderr(&out)
    );
    if !out.status.success() {
        let err = refused(&out);
        assert!(err.contains("git diff") && err.contains("failed"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submodules_filter_does_not_run() {
    let (server, _seen) = nothing_found_server().await;
    let Some(repo) = fixture::git_project(&[("a.go", "package a\n")], &config(&server)) else {
        return;
    };
    let root = repo.path();
    let sub = root.join("sub");
    let marker = root.join("sub-filter-ran");
    write(&sub, "x.go", "package x\n");
    write(&sub, ".gitattributes", "* filter=evil\n");
    git(&sub, &["init", "-q"]);
    git(&sub, &["add", "."]);
    git(&sub, &["commit", "-qm", "sub"]);
    // The submodule's own config, which git uses when it looks inside it.
    git(
        &sub,
        &[
            "config",
            "filter.evil.clean",
            &format!("touch '{}'; cat", marker.display()),
        ],
    );
    write(
        root,
        ".gitmodules",
        "[submodule \"sub\"]\n\tpath = sub\n\turl = ./sub\n",
    );
    git(root, &["add", ".gitmodules", "sub"]);
    git(root, &["commit", "-qm", "with sub"]);
    write(&sub, "x.go", "package x\n\nfunc X() {}\n");
    write(root, "a.go", "package a\n\nfunc A() {}\n");
    ok(&quorum_async(root, &["review", "--since", "HEAD", "--quiet"], &[]).await);
    assert!(!marker.exists(), "the submodule's clean filter ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_work_tree_moved_elsewhere_by_the_repositorys_config_is_not_used() {
    let (server, _seen) = nothing_found_server().await;
    let Some(repo) = fixture::git_project(&[("a.go", "package a\n")], &config(&server)) else {
        return;
    };
    let root = repo.path();
    let victim = tempfile::tempdir().unwrap();
    // A suppressions file there that would stop any review that read it.
    write(
        victim.path(),
        ".quorum/suppressions.toml",
        "[[suppression]]\nreson = \"typo\"\n",
    );
    git(root, &["config", "core.worktree", victim.path().to_str().unwrap()]);

    let err = ok(&quorum_async(root, &["review", "--quiet"], &[]).await);
    assert!(root.join("quorum-report/report.json").exists(), "{err}");
    let err = refused(&quorum_async(root, &["review", "--since", "HEAD"], &[]).await);
    assert!(err.contains("core.worktree") && err.contains("outside it"), "{err}");
    let listed = support::quorum(root, &["suppress", "--list"], &[]);
    assert!(
        !support::stderr(&listed).contains("malformed"),
        "{}",
        support::stderr(&listed)
    );
    assert_eq!(
        std::fs::read_to_string(victim.path().join(".quorum/suppressions.toml")).unwrap(),
        "[[suppression]]\nreson = \"typo\"\n",
        "the victim's file is untouched"
    );
}

#[cfg(unix)]
#[test]
fn an_order_file_that_is_a_fifo_does_not_hang_the_review() {
    let provider = openai_provider("a", "http://127.0.0.1:9/v1", "a-model", "");
    let Some(repo) = fixture::git_project(&[("a.go", "package a\n")], &provider) else {
        return;
    };
    let root = repo.path();
    fixture::mkfifo(&root.join(".git/order"));
    git(root, &["config", "diff.orderFile", ".git/order"]);
    write(root, "a.go", "package a\n\nfunc A() {}\n");
    // Well under git's own time limit: the order file is never opened.
    let out = support::quorum_within(
        root,
        &["review", "--since", "HEAD", "--dry-run"],
        std::time::Duration::from_secs(30),
    );
    let out = out.expect("review --since hung on the FIFO");
    ok(&out);
    let plan = support::stdout(&out);
    assert!(plan.contains("Files to send: 1."), "{plan}");
}
