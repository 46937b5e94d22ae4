//! What every integration test shares: the `quorum` binary, run as a user would but in a
//! home of its own, and what a run is read back with.
//!
//! Quorum keeps state outside the project (the answer cache, the list of trusted
//! configurations) in the user's folders. A test must neither read nor write the real
//! ones, or tests would share cached answers with each other and with the developer.
//! Each working folder gets its own home, so two runs from the same folder see the same
//! cache, as two runs by one user would.
//!
//! Each test binary uses some of these helpers, none uses all: hence `dead_code` is
//! allowed here and in every module below.

#![allow(dead_code)]

pub mod browser;
pub mod chat;
pub mod engine;
pub mod fixture;
pub mod server;
pub mod sim;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A variable no test sets and every run has removed, for tests of a missing key.
pub const UNSET_VAR: &str = "QUORUM_CLI_TEST_UNSET";

/// Variables of the developer's environment every run has removed: a configuration
/// chosen outside the test, the variable tests name as unset, what would exempt a
/// host from the proxies a test sets (`NO_PROXY`) or make them ignored (a CGI request),
/// and the width a shell may export (`COLUMNS`), which tables written to a pipe follow.
const REMOVED_VARS: [&str; 6] = [
    "QUORUM_CONFIG",
    UNSET_VAR,
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
    "COLUMNS",
];

/// The user home a test run from `cwd` gets: outside `cwd`, so it is never reviewed.
pub fn test_home(cwd: &Path) -> PathBuf {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let mut hasher = DefaultHasher::new();
    cwd.hash(&mut hasher);
    std::env::temp_dir()
        .join("quorum-test-homes")
        .join(format!("{:016x}", hasher.finish()))
}

/// `quorum`, ready to run in `cwd` with its own config and cache folders. For a run
/// that is spawned and watched; [`quorum`] runs one to its end.
pub fn quorum_cmd(cwd: &Path) -> Command {
    with_test_home(Command::new(env!("CARGO_BIN_EXE_quorum")), cwd)
}

/// `cmd`, run in `cwd` with the home, config and cache folders of [`quorum_cmd`].
fn with_test_home(mut cmd: Command, cwd: &Path) -> Command {
    let home = test_home(cwd);
    cmd.current_dir(cwd)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"));
    for var in REMOVED_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `quorum ARGS` in `cwd` with the variables `env` added and stdout and stderr on
/// a terminal `columns` wide (a pseudo-terminal of util-linux's `script`); what the
/// terminal showed, or `None` where `script` is missing.
pub fn quorum_in_terminal(cwd: &Path, args: &[&str], env: &[(&str, &str)], columns: u16) -> Option<String> {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_quorum"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let line = format!("stty cols {columns} rows 50; exec {}", quoted.join(" "));
    let mut script = Command::new("script");
    script.args(["-q", "-e", "-c", &line, "/dev/null"]);
    let out = with_test_home(script, cwd)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    Some(String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"))
}

/// Runs `quorum ARGS` in `cwd` with the variables `env` added, to its end.
pub fn quorum(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    quorum_cmd(cwd)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the quorum binary runs")
}

/// `quorum review repo --config quorum.toml --out out --no-cache --quiet ARGS` in `dir`:
/// the review of a `fixture::project` whose tree is under `repo/`.
pub async fn review_repo(dir: &Path, args: &[&str]) -> Output {
    let review = [
        "review",
        "repo",
        "--config",
        "quorum.toml",
        "--out",
        "out",
        "--no-cache",
        "--quiet",
    ];
    quorum_async(dir, &[&review[..], args].concat(), &[]).await
}

/// [`quorum`] from an async test: on a blocking thread, so the loopback servers of the
/// test's runtime keep answering meanwhile.
pub async fn quorum_async(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let cwd = cwd.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        quorum(&cwd, &args, &env)
    })
    .await
    .unwrap()
}

/// Runs `quorum ARGS` in `cwd` for at most `limit`: its output when it ended by itself,
/// `None` when it was still running and was killed.
pub fn quorum_within(cwd: &Path, args: &[&str], limit: std::time::Duration) -> Option<Output> {
    use std::process::Stdio;
    let mut child = quorum_cmd(cwd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the quorum binary runs");
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if child.try_wait().expect("the run can be watched").is_some() {
            return Some(child.wait_with_output().expect("its output is read"));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the run succeeded (exit 0) and returns its stderr.
pub fn ok(out: &Output) -> String {
    let err = stderr(out);
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{err}",
        out.status.code(),
        stdout(out)
    );
    err
}

/// Asserts the review ran but is incomplete (exit 4: stopped early, or a provider failed
/// on some files) and returns its stderr.
pub fn incomplete(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(4), "{}\n{err}", stdout(out));
    err
}

/// Asserts the run stopped with status 2 (refused, nothing done) and returns its stderr.
pub fn refused(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{}\n{err}", stdout(out));
    err
}
