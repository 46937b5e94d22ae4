//! The output folder is Quorum's and the cache is the user's: a repository under review
//! cannot ship answers (a cache, an earlier run), redirect Quorum's writes with planted
//! links or a `run_id`, or have two runs corrupt one folder. Every test runs the real
//! binary against a chat server on 127.0.0.1.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::chat;
use support::fixture::{self, openai_provider, report};
use support::server::{chat_server, Seen};
use support::{ok, refused};
use wiremock::MockServer;

/// The code the attacker wants no model to look at.
const BACKDOOR: &str = "package auth\n\nfunc Check(pw string) bool {\n\treturn pw == \"letmein-4242\"\n}\n";
const BACKDOOR_LINE: u32 = 4;
const HARMLESS: &str = "package util\n\nfunc Add(a, b int) int {\n\treturn a + b\n}\n";
/// Code an attacker drops beside a run folder's files.
const HIDDEN: &str = "package util\n\nfunc Hidden() string {\n\treturn \"beside-the-run\"\n}\n";

/// A loopback chat server. While `clean` is set it finds nothing anywhere (the model
/// the attacker prepared answers with); otherwise it reports the backdoor.
struct Server {
    seen: Seen,
    clean: Arc<AtomicBool>,
}

impl Server {
    async fn start(delay: Duration) -> (MockServer, Server) {
        let clean = Arc::new(AtomicBool::new(false));
        let finds_nothing = clean.clone();
        let (mock, seen) = chat_server(move |ask| {
            let file = ask
                .user
                .lines()
                .find_map(|l| l.strip_prefix("File: "))
                .unwrap_or("auth.go")
                .to_string();
            let findings = if !finds_nothing.load(Ordering::SeqCst) && ask.user.contains("letmein-4242") {
                json!([{"file": file, "start_line": BACKDOOR_LINE, "end_line": BACKDOOR_LINE,
                    "severity": "critical", "category": "auth", "cwe": 798, "title": "Hard-coded backdoor password",
                    "description": "a fixed password bypasses authentication", "suggestion": null, "confidence": 0.9}])
            } else {
                json!([])
            };
            chat::reply(&json!({ "findings": findings }).to_string(), (100, 10)).set_delay(delay)
        })
        .await;
        (mock, Server { seen, clean })
    }

    fn requests(&self) -> usize {
        self.seen.count()
    }

    /// How many requests carried code containing `text`.
    fn asked(&self, text: &str) -> usize {
        self.seen.asked(text)
    }

    fn forget(&self) {
        self.seen.forget();
    }
}

/// A repository with a backdoor, a harmless file, and a configuration on the loopback
/// server (`extra` is added to it).
fn repository(dir: &Path, mock: &MockServer, extra: &str) {
    fixture::write(dir, "src/auth.go", BACKDOOR);
    fixture::write(dir, "src/util.go", HARMLESS);
    let provider = openai_provider("a", &format!("{}/v1", mock.uri()), "a-model", "max_concurrency = 2");
    std::fs::write(dir.join("quorum.toml"), format!("{extra}\n{provider}")).unwrap();
}

async fn run(cwd: &Path, args: &[&str]) -> Output {
    support::quorum_async(cwd, args, &[]).await
}

fn reports_backdoor(out_dir: &Path) -> bool {
    report(out_dir)["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["file"].as_str().unwrap_or_default().ends_with("auth.go"))
}

/// Every file under `dir` with its bytes (links as their targets' names), to show that
/// nothing there changed.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                files.insert(
                    path.clone(),
                    std::fs::read_link(&path).unwrap().into_os_string().into_encoded_bytes(),
                );
            } else if meta.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_shipped_with_the_repository_is_not_read_and_every_file_is_asked() {
    let (mock, server) = Server::start(Duration::ZERO).await;
    let config = "[review]\ncache_dir = \"team-cache\"\n";

    // The attacker reviews the same tree with a model that finds nothing, and ships the
    // answers their run cached, both as an old `.quorum-cache/` and as a configured
    // cache_dir inside the repository.
    let attacker = tempfile::tempdir().unwrap();
    repository(attacker.path(), &mock, "");
    server.clean.store(true, Ordering::SeqCst);
    ok(&run(attacker.path(), &["review", ".", "--config", "quorum.toml", "--quiet"]).await);
    assert_eq!(server.requests(), 2);
    ok(&run(attacker.path(), &["review", ".", "--config", "quorum.toml", "--quiet"]).await);
    assert_eq!(server.requests(), 2, "the prepared answers are a working cache");
    server.forget();
    let prepared = support::test_home(attacker.path()).join("cache/quorum/answers.jsonl");
    let answers = std::fs::read(&prepared).unwrap();

    let victim = tempfile::tempdir().unwrap();
    repository(victim.path(), &mock, config);
    for folder in [".quorum-cache", "team-cache"] {
        std::fs::create_dir(victim.path().join(folder)).unwrap();
        std::fs::write(victim.path().join(folder).join("answers.jsonl"), &answers).unwrap();
    }
    server.clean.store(false, Ordering::SeqCst);
    let stderr = ok(&run(victim.path(), &["review", ".", "--config", "quorum.toml"]).await);
    assert_eq!(
        (server.asked("letmein-4242"), server.asked("func Add(")),
        (1, 1),
        "every file is asked: {stderr}"
    );
    assert!(reports_backdoor(&victim.path().join("quorum-report")));
    assert!(
        stderr.contains("review.cache_dir = \"team-cache\"") && stderr.contains("inside the tree under review"),
        "{stderr}"
    );
    assert!(
        stderr.contains(".quorum-cache is no longer read: answers are now cached in"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(victim.path().join("team-cache/answers.jsonl")).unwrap(),
        answers,
        "nothing is written into the tree's cache either"
    );
    let user_cache = support::test_home(victim.path()).join("cache/quorum");
    assert!(user_cache.join("CACHEDIR.TAG").exists() && user_cache.join("answers.jsonl").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_cache_outside_the_tree_is_used() {
    let (mock, server) = Server::start(Duration::ZERO).await;
    let team = tempfile::tempdir().unwrap();
    let config = format!("[review]\ncache_dir = \"{}\"\n", team.path().join("shared").display());
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    repository(first.path(), &mock, &config);
    repository(second.path(), &mock, &config);
    ok(&run(first.path(), &["review", "src", "--config", "quorum.toml", "--quiet"]).await);
    ok(&run(second.path(), &["review", "src", "--config", "quorum.toml", "--quiet"]).await);
    assert_eq!(
        server.requests(),
        2,
        "the second user's run answers from the team cache"
    );
    assert!(team.path().join("shared/CACHEDIR.TAG").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_run_shipped_with_the_repository_is_not_read_and_code_beside_it_is_reviewed() {
    let (mock, server) = Server::start(Duration::ZERO).await;
    let attacker = tempfile::tempdir().unwrap();
    repository(attacker.path(), &mock, "");
    server.clean.store(true, Ordering::SeqCst);
    ok(&run(
        attacker.path(),
        &["review", "src", "--config", "quorum.toml", "--quiet", "--no-cache"],
    )
    .await);
    assert!(!reports_backdoor(&attacker.path().join("quorum-report")));

    // The victim's checkout carries the attacker's clean run, with code hidden beside it.
    let victim = tempfile::tempdir().unwrap();
    repository(victim.path(), &mock, "");
    let shipped = victim.path().join("quorum-report");
    std::fs::create_dir(&shipped).unwrap();
    for entry in std::fs::read_dir(attacker.path().join("quorum-report")).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), shipped.join(entry.file_name())).unwrap();
        }
    }
    std::fs::write(shipped.join("hidden.go"), HIDDEN).unwrap();
    server.forget();
    server.clean.store(false, Ordering::SeqCst);
    ok(&run(victim.path(), &["review", ".", "--config", "quorum.toml", "--quiet"]).await);
    assert_eq!(
        (
            server.asked("letmein-4242"),
            server.asked("func Add("),
            server.asked("beside-the-run")
        ),
        (1, 1, 1),
        "every file is asked, including code dropped beside a run"
    );
    assert_eq!(server.requests(), 3, "no run file is sent for review");
    assert!(reports_backdoor(&shipped));
    let skipped = report(&shipped)["skipped"].clone();
    for name in [
        "quorum-report/run.json",
        "quorum-report/responses.jsonl",
        "quorum-report/report.md",
    ] {
        assert!(
            skipped
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["path"] == name && s["reason"].as_str().unwrap().contains("output of a Quorum run")),
            "{name} listed as skipped: {skipped}"
        );
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_planted_in_the_output_folder_change_nothing_outside_it() {
    use std::os::unix::fs::symlink;
    let (mock, _server) = Server::start(Duration::ZERO).await;
    let outside = tempfile::tempdir().unwrap();
    let victims = ["bashrc", "authorized_keys", "notes", "config", "other"].map(|n| outside.path().join(n));
    for (i, v) in victims.iter().enumerate() {
        std::fs::write(v, format!("precious {i}\n")).unwrap();
    }
    let untouched = snapshot(outside.path());

    let project = tempfile::tempdir().unwrap();
    repository(project.path(), &mock, "");
    let out = project.path().join("quorum-report");
    std::fs::create_dir(&out).unwrap();
    // A description Quorum could have written: with links of other names beside it, any
    // other `run.json` gets the folder refused before anything is written.
    let planted_run = json!({"schema_version": 1, "run_id": "planted", "root": "src",
        "started_at": "2026-01-01T00:00:00Z", "providers": [], "files": [], "skipped": []});
    std::fs::write(out.join("run.json"), planted_run.to_string()).unwrap();
    let planted = [
        ("responses.jsonl", 0),
        ("report.md", 1),
        ("report.json", 2),
        ("run.tmp", 3),
        ("report.tmp", 4),
        ("responses.tmp", 0),
        ("report.json.tmp", 1),
        (".run.json.1-0.tmp", 2),
        (".report.md.1-0.tmp", 3),
    ];
    for (name, target) in planted {
        symlink(&victims[target], out.join(name)).unwrap();
    }

    // A new review moves the earlier files aside as they are (links stay links) and
    // writes its own: twice, so the kept links are also removed again.
    for _ in 0..2 {
        ok(&run(
            project.path(),
            &["review", "src", "--config", "quorum.toml", "--quiet", "--no-cache"],
        )
        .await);
        assert_eq!(snapshot(outside.path()), untouched);
        assert!(reports_backdoor(&out));
    }

    // Resuming appends to responses.jsonl, and aggregate rewrites the reports: a link
    // there is refused, naming it.
    let _ = std::fs::remove_file(out.join("responses.jsonl"));
    symlink(&victims[0], out.join("responses.jsonl")).unwrap();
    let err = refused(&run(project.path(), &["review", "--resume", "--quiet", "--no-cache"]).await);
    assert!(
        err.contains("responses.jsonl") && err.contains("symbolic link"),
        "{err}"
    );
    std::fs::remove_file(out.join("responses.jsonl")).unwrap();
    std::fs::copy(out.join("previous/responses.jsonl"), out.join("responses.jsonl")).unwrap();
    std::fs::remove_file(out.join("report.sarif")).unwrap();
    symlink(&victims[1], out.join("report.sarif")).unwrap();
    let err = refused(&run(project.path(), &["aggregate", "quorum-report"]).await);
    assert!(err.contains("report.sarif") && err.contains("symbolic link"), "{err}");

    // The lock and the folder an earlier run is kept in are not followed either.
    std::fs::remove_file(out.join("report.sarif")).unwrap();
    std::fs::remove_dir_all(out.join("previous")).unwrap();
    symlink(outside.path(), out.join("previous")).unwrap();
    let err = refused(&run(project.path(), &["review", "src", "--config", "quorum.toml", "--quiet"]).await);
    assert!(err.contains("previous") && err.contains("symbolic link"), "{err}");
    std::fs::remove_file(out.join("previous")).unwrap();
    std::fs::remove_file(out.join(".lock")).unwrap();
    symlink(&victims[2], out.join(".lock")).unwrap();
    let err = refused(&run(project.path(), &["review", "src", "--config", "quorum.toml", "--quiet"]).await);
    assert!(err.contains(".lock") && err.contains("symbolic link"), "{err}");
    assert_eq!(snapshot(outside.path()), untouched);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_folder_that_is_a_link_is_refused() {
    let (mock, server) = Server::start(Duration::ZERO).await;
    let outside = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    repository(project.path(), &mock, "");
    std::os::unix::fs::symlink(outside.path(), project.path().join("quorum-report")).unwrap();
    let why = ["is a symbolic link", "pass the folder itself as --out"];
    out_is_refused(
        project.path(),
        &["quorum-report", "quorum-report/"],
        why,
        &server,
        outside.path(),
    )
    .await;
}

/// Reviews in `project` into each of `outs` are refused, naming both parts of `why`,
/// before anything is asked or written where the link points (`outside`).
async fn out_is_refused(project: &Path, outs: &[&str], why: [&str; 2], server: &Server, outside: &Path) {
    for out in outs {
        let err = refused(&run(project, &["review", "src", "--config", "quorum.toml", "--out", out]).await);
        assert!(err.contains(why[0]) && err.contains(why[1]), "{out}: {err}");
    }
    assert_eq!(server.requests(), 0);
    assert_eq!(
        std::fs::read_dir(outside).unwrap().count(),
        0,
        "nothing written where it points"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_id_that_climbs_out_of_the_folder_is_refused() {
    let (mock, _server) = Server::start(Duration::ZERO).await;
    // base/p/q is the project, so an escape two or three levels up stays inside base.
    let base = tempfile::tempdir().unwrap();
    let project = base.path().join("p/q");
    std::fs::create_dir_all(&project).unwrap();
    repository(&project, &mock, "");
    ok(&run(
        &project,
        &["review", "src", "--config", "quorum.toml", "--quiet", "--no-cache"],
    )
    .await);
    let out = project.join("quorum-report");
    let genuine = fixture::load(&out.join("run.json"));

    for run_id in ["../../escape", "/../../../escape"] {
        let mut planted = genuine.clone();
        planted["run_id"] = Value::from(run_id);
        std::fs::write(out.join("run.json"), planted.to_string()).unwrap();
        let before = snapshot(base.path());
        for args in [
            &["review", "--resume", "--quiet", "--no-cache"][..],
            &["aggregate", "quorum-report"],
        ] {
            let err = refused(&run(&project, args).await);
            assert!(
                err.contains("run.json") && err.contains("not a run folder Quorum wrote"),
                "{args:?}: {err}"
            );
            assert_eq!(snapshot(base.path()), before, "{args:?} wrote nothing");
        }
        // A new review does not take the earlier run's id for a path: it is kept in
        // `previous/`, inside the folder.
        ok(&run(
            &project,
            &["review", "src", "--config", "quorum.toml", "--quiet", "--no-cache"],
        )
        .await);
        let outside_out: Vec<PathBuf> = snapshot(base.path())
            .into_keys()
            .filter(|p| !p.starts_with(&out) && !before.contains_key(p))
            .collect();
        assert!(outside_out.is_empty(), "written outside --out: {outside_out:?}");
        assert!(!base.path().join("escape").exists() && !base.path().join("p/escape").exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_into_the_same_folder_stops_at_once_and_the_first_finishes_intact() {
    let (mock, server) = Server::start(Duration::from_secs(3)).await;
    let project = tempfile::tempdir().unwrap();
    repository(project.path(), &mock, "");
    let args = ["review", "src", "--config", "quorum.toml", "--quiet", "--no-cache"];
    let mut first = support::quorum_cmd(project.path()).args(args).spawn().unwrap();

    // Wait until the first run holds the lock and has asked the server.
    let lock = project.path().join("quorum-report/.lock");
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.requests() < 2 || !lock.exists() {
        assert!(Instant::now() < deadline, "the first run never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    let second = run(project.path(), &args).await;
    let took = started.elapsed();
    let err = refused(&second);
    assert!(
        err.contains("another quorum run is writing to quorum-report")
            && err.contains(&format!("(pid {}?)", first.id())),
        "{err}"
    );
    assert!(
        took < Duration::from_secs(3),
        "stopped at once, not after the first run: {took:?}"
    );
    assert_eq!(server.requests(), 2, "the second run asked nothing");

    let status = tokio::task::spawn_blocking(move || first.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    let out = project.path().join("quorum-report");
    assert!(reports_backdoor(&out));
    assert_eq!(
        std::fs::read_to_string(out.join("responses.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2
    );
    assert!(!out.join("previous").exists(), "the second run moved nothing aside");

    // Held from outside (as by a run on another terminal), the lock stops review and
    // aggregate alike; released, the folder is usable again.
    let held = std::fs::OpenOptions::new().write(true).open(&lock).unwrap();
    held.lock().unwrap();
    for args in [&args[..], &["aggregate", "quorum-report"]] {
        let err = refused(&run(project.path(), args).await);
        assert!(err.contains("another quorum run is writing to"), "{err}");
    }
    drop(held);
    ok(&run(project.path(), &["aggregate", "quorum-report"]).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_last_earlier_run_is_kept_in_previous_with_every_report() {
    let (mock, _server) = Server::start(Duration::ZERO).await;
    let project = tempfile::tempdir().unwrap();
    repository(project.path(), &mock, "");
    let out = project.path().join("quorum-report");
    let run_id = |dir: &Path| -> String {
        let meta = fixture::load(&dir.join("run.json"));
        meta["run_id"].as_str().unwrap().to_string()
    };
    let mut ids = Vec::new();
    for _ in 0..3 {
        ok(&run(
            project.path(),
            &["review", "src", "--config", "quorum.toml", "--quiet", "--no-cache"],
        )
        .await);
        ids.push(run_id(&out));
        // Run ids come from the start time (in seconds): keep them distinct.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(run_id(&out.join("previous")), ids[1], "the run before the last is kept");
    let mut kept: Vec<String> = std::fs::read_dir(out.join("previous"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            "compare.json",
            "compare.md",
            "report.html",
            "report.json",
            "report.md",
            "report.sarif",
            "responses.jsonl",
            "run.json"
        ]
    );
    let folders: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders, ["previous"], "earlier runs do not pile up");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_path_through_a_linked_folder_in_the_project_is_refused() {
    let (mock, server) = Server::start(Duration::ZERO).await;
    let outside = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    repository(project.path(), &mock, "");
    // Committed with the repository: `build -> /elsewhere`.
    std::os::unix::fs::symlink(outside.path(), project.path().join("build")).unwrap();
    let outs = ["build/q", "build/deeper/q", "./build/q/"];
    let why = ["build, a symbolic link", "pass the real path as --out"];
    out_is_refused(project.path(), &outs, why, &server, outside.path()).await;

    // A link outside the project (like macOS's `/tmp`) is the user's own: followed.
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir(elsewhere.path().join("real")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path().join("real"), elsewhere.path().join("alias")).unwrap();
    let out = elsewhere.path().join("alias/q");
    ok(&run(
        project.path(),
        &[
            "review",
            "src",
            "--config",
            "quorum.toml",
            "--quiet",
            "--no-cache",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .await);
    assert!(reports_backdoor(&elsewhere.path().join("real/q")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_with_other_files_and_a_run_json_quorum_did_not_write_is_refused() {
    let (mock, server) = Server::start(Duration::ZERO).await;
    let project = tempfile::tempdir().unwrap();
    repository(project.path(), &mock, "");
    let out = project.path().join("docs");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("run.json"), "{}").unwrap();
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
    let before = snapshot(&out);
    let err = refused(
        &run(
            project.path(),
            &["review", "src", "--config", "quorum.toml", "--quiet", "--out", "docs"],
        )
        .await,
    );
    assert!(
        err.contains("holds files other than Quorum's") && err.contains("run.json is not one Quorum wrote"),
        "{err}"
    );
    assert_eq!(server.requests(), 0);
    assert_eq!(snapshot(&out), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_quorum_did_not_write_in_previous_is_never_deleted() {
    let (mock, _server) = Server::start(Duration::ZERO).await;
    let project = tempfile::tempdir().unwrap();
    repository(project.path(), &mock, "");
    let args = ["review", "src", "--config", "quorum.toml", "--quiet", "--no-cache"];
    ok(&run(project.path(), &args).await);
    let out = project.path().join("quorum-report");
    std::fs::write(out.join("notes.txt"), "mine\n").unwrap();
    std::fs::create_dir(out.join("previous")).unwrap();
    std::fs::write(out.join("previous/report.md"), "an old report\n").unwrap();
    std::fs::write(out.join("previous/important.txt"), "keep me\n").unwrap();
    let before = snapshot(&out.join("previous"));

    let err = refused(&run(project.path(), &args).await);
    assert!(
        err.contains("important.txt") && err.contains("which Quorum did not write"),
        "{err}"
    );
    assert_eq!(snapshot(&out.join("previous")), before, "nothing in previous/ deleted");

    // Moved out, the folder holds only a kept run: it is replaced.
    std::fs::remove_file(out.join("previous/important.txt")).unwrap();
    ok(&run(project.path(), &args).await);
    assert!(out.join("previous/run.json").exists() && out.join("notes.txt").exists());
}

/// A run folder as a repository could ship it: `run.json` says anything it likes.
fn planted_run(dir: &Path, run: Value) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("run.json"), serde_json::to_vec(&run).unwrap()).unwrap();
    std::fs::write(dir.join("responses.jsonl"), b"").unwrap();
}

fn run_json(root: &str, started_at: &str, files: Value) -> Value {
    json!({"schema_version": 1, "run_id": "abc123", "root": root, "started_at": started_at,
           "providers": [], "files": files, "skipped": []})
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_reads_no_device_or_pipe_a_planted_run_json_points_at() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("pipe");
    fixture::mkfifo(&pipe);
    let files = json!([
        {"path": "dev/zero", "lines": 1, "content_hash": "0"},
        {"path": "pipe", "lines": 1, "content_hash": "0"}
    ]);
    // `root` is "/" for dev/zero; the pipe is found through a second run with the temp root.
    planted_run(
        &dir.path().join("run1"),
        run_json("/", "2026-12-01T08:46:18Z", files.clone()),
    );
    let root = dir.path().display().to_string();
    planted_run(&dir.path().join("run2"), run_json(&root, "2026-12-01T08:46:18Z", files));
    for run_dir in ["run1", "run2"] {
        // A hang or an endless read would never return: the deadline turns it into a failure.
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            run(
                dir.path(),
                &["aggregate", run_dir, "--out", &format!("{run_dir}-out"), "--quiet"],
            ),
        )
        .await
        .expect("aggregate returns instead of reading a device or blocking on a pipe");
        // Exit 3: the planted run has no answers, so no model produced a usable answer.
        assert_eq!(out.status.code(), Some(3), "{}", support::stderr(&out));
        assert!(dir.path().join(format!("{run_dir}-out/report.md")).exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_json_whose_times_carry_text_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let forged = "x\n\n| forged | row |\n<img src=x onerror=alert(1)>\u{1b}]0;pwn\u{7}";
    planted_run(&dir.path().join("run"), run_json(".", forged, json!([])));
    let out = run(dir.path(), &["aggregate", "run", "--out", "run-out", "--quiet"]).await;
    let stderr = refused(&out);
    assert!(stderr.contains("RFC 3339"), "{stderr}");
    assert!(!dir.path().join("run-out/report.md").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_json_whose_judge_was_dropped_for_a_reason_too_long_to_quote_is_refused() {
    // Quoted in every chosen issue's reason: 3 MB times 500 issues would be 1.5 GB.
    let dir = tempfile::tempdir().unwrap();
    let mut meta = run_json(".", "2026-12-01T08:46:18Z", json!([]));
    let issues: Vec<String> = (0..500).map(|n| format!("Q{n:08x}")).collect();
    meta["judge"] = json!({"provider": "judge", "mode": "single", "issues": issues, "dropped": "x".repeat(3_000_000)});
    planted_run(&dir.path().join("run"), meta);
    let out = run(dir.path(), &["aggregate", "run", "--out", "run-out", "--quiet"]).await;
    let stderr = refused(&out);
    assert!(
        stderr.contains("judge.dropped is longer than 2000 characters"),
        "{stderr}"
    );
    assert!(!dir.path().join("run-out/report.md").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_json_holding_what_no_configuration_could_is_refused_before_it_costs_per_finding() {
    // A judge's name is copied into each issue it was to judge; a provider's is printed in
    // every table: both follow the configuration's rule for names.
    let dir = tempfile::tempdir().unwrap();
    let huge = "j".repeat(3_000_000);
    let forged = "judge\n| forged | row |";
    for (n, name) in [huge.as_str(), forged].into_iter().enumerate() {
        let mut meta = run_json(".", "2026-12-01T08:46:18Z", json!([]));
        meta["judge"] = json!({"provider": name, "mode": "single", "issues": ["Q00000001"]});
        let run_dir = format!("run{n}");
        planted_run(&dir.path().join(&run_dir), meta);
        let out = run(dir.path(), &["aggregate", &run_dir, "--out", "run-out", "--quiet"]).await;
        let stderr = refused(&out);
        assert!(stderr.contains("is not 1 to 64 letters, digits"), "{stderr}");
        assert!(
            stderr.len() < 1000 && !stderr.lines().any(|l| l.starts_with("| forged")),
            "{stderr}"
        );
    }
    let mut meta = run_json(".", "2026-12-01T08:46:18Z", json!([]));
    meta["providers"] = json!([{"name": "a\u{1b}[2Jb", "kind": "openai", "model": "m", "family": "f"}]);
    planted_run(&dir.path().join("run2"), meta);
    let out = run(dir.path(), &["aggregate", "run2", "--out", "run-out", "--quiet"]).await;
    assert!(refused(&out).contains("is not 1 to 64 letters, digits"));
    // A model name is copied into each of the provider's findings.
    let mut meta = run_json(".", "2026-12-01T08:46:18Z", json!([]));
    meta["providers"] = json!([{"name": "a", "kind": "openai", "model": "m".repeat(200_000), "family": "f"}]);
    planted_run(&dir.path().join("run3"), meta);
    let out = run(dir.path(), &["aggregate", "run3", "--out", "run-out", "--quiet"]).await;
    assert!(refused(&out).contains("a provider's model or family is longer than 256 characters"));
    // The comparison of models is made pair by pair: no more providers than a configuration.
    let mut meta = run_json(".", "2026-12-01T08:46:18Z", json!([]));
    let many: Vec<Value> = (0..3000)
        .map(|n| json!({"name": format!("p{n}"), "kind": "openai", "model": "m", "family": format!("f{n}")}))
        .collect();
    meta["providers"] = json!(many);
    planted_run(&dir.path().join("run4"), meta);
    let out = run(dir.path(), &["aggregate", "run4", "--out", "run-out", "--quiet"]).await;
    assert!(refused(&out).contains("3000 providers, more than a configuration may have (64)"));
    // Each finding carries its file's path: none longer than a system opens.
    let long = format!("{}.go", "d/".repeat(3000));
    let meta = run_json(
        ".",
        "2026-12-01T08:46:18Z",
        json!([{"path": long, "lines": 1, "content_hash": "0"}]),
    );
    planted_run(&dir.path().join("run5"), meta);
    let out = run(dir.path(), &["aggregate", "run5", "--out", "run-out", "--quiet"]).await;
    assert!(refused(&out).contains("is longer than 4096 characters"));
    // Folders of 30 providers each are fine alone; three together are more than a run has.
    for n in 0..3 {
        let mut meta = run_json(".", "2026-12-01T08:46:18Z", json!([]));
        meta["run_id"] = json!(format!("run{n}"));
        let providers: Vec<Value> = (0..30)
            .map(|k| json!({"name": format!("p{n}x{k}"), "kind": "openai", "model": "m", "family": "f"}))
            .collect();
        meta["providers"] = json!(providers);
        planted_run(&dir.path().join(format!("part{n}")), meta);
    }
    let alone = run(dir.path(), &["aggregate", "part0", "--out", "one-out", "--quiet"]).await;
    assert_ne!(alone.status.code(), Some(2), "{}", support::stderr(&alone));
    let out = run(
        dir.path(),
        &["aggregate", "part0", "part1", "part2", "--out", "run-out", "--quiet"],
    )
    .await;
    assert!(
        refused(&out).contains("the run folders together name 90 providers, more than a configuration may have (64)")
    );
}
