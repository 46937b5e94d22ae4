//! The projects tests review and what they read back: files and a `quorum.toml`, an
//! OpenAI-compatible provider table, a git repository, the offline demo, and the JSON a
//! run writes.

use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::Value;

/// The repository's root (where `examples/` is).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `text` to `root/relative`, creating the folders on the way.
pub fn write(root: &Path, relative: &str, text: impl AsRef<[u8]>) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A fresh folder holding `files` (relative path, text) and `config` as `quorum.toml`.
pub fn project(files: &[(&str, &str)], config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    std::fs::write(dir.path().join("quorum.toml"), config).unwrap();
    dir
}

/// A `[providers.NAME]` table of kind `openai` at `base_url` for `model`, its lines in
/// this order (error messages name them by number), with `extra` lines after them.
pub fn openai_provider(name: &str, base_url: &str, model: &str, extra: &str) -> String {
    format!("[providers.{name}]\nkind = \"openai\"\nbase_url = \"{base_url}\"\nmodel = \"{model}\"\n{extra}\n")
}

/// An OpenAI-protocol provider table for each of `names` at `base_url`, each serving a
/// model of its own name (so each is a family of its own), with `extra` lines.
pub fn providers(names: &[&str], base_url: &str, extra: &str) -> String {
    names
        .iter()
        .map(|name| openai_provider(name, base_url, name, extra))
        .collect()
}

/// The JSON file at `path`.
pub fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `report.json` of the run folder `out`.
pub fn report(out: &Path) -> Value {
    load(&out.join("report.json"))
}

/// The records of `out/responses.jsonl`, every line of which must be JSON.
pub fn records(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("responses.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The records of `out/responses.jsonl` of a run that may still be writing it: none
/// while it is missing, and a line cut off mid-write left out.
pub fn records_so_far(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("responses.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Runs git in `repo` with a fixed identity, isolated from the developer's git config;
/// false when git is not on PATH.
pub fn git(repo: &Path, args: &[&str]) -> bool {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .status();
    match status {
        Ok(status) => {
            assert!(status.success(), "git {args:?}");
            true
        }
        Err(_) => false,
    }
}

/// [`project`] as a git repository with everything committed; `None` (the test skips)
/// when git is not on PATH.
pub fn git_project(files: &[(&str, &str)], config: &str) -> Option<tempfile::TempDir> {
    let dir = project(files, config);
    let committed = git(dir.path(), &["init", "-q"])
        && git(dir.path(), &["add", "."])
        && git(dir.path(), &["commit", "-qm", "first"]);
    if !committed {
        eprintln!("SKIPPED: git is not on PATH");
    }
    committed.then_some(dir)
}

/// Makes a named pipe at `path` (a file whose reader waits for a writer).
pub fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// The README's offline demo: `quorum review examples/vulnerable-app` with its recorded
/// answers, into `out`, with `extra` arguments.
pub fn demo_review(out: &Path, extra: &[&str]) -> Output {
    demo_review_with(out, extra, &[])
}

/// [`demo_review`] with the variables `env` added.
pub fn demo_review_with(out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let out = out.to_str().unwrap();
    let args = [
        &[
            "review",
            "examples/vulnerable-app",
            "--config",
            "examples/demo.toml",
            "--out",
            out,
        ][..],
        extra,
    ]
    .concat();
    super::quorum(repo_root(), &args, env)
}

/// A validator for the official SARIF 2.1.0 schema (from OASIS).
pub fn sarif_validator() -> jsonschema::Validator {
    let schema = load(&repo_root().join("tests/fixtures/sarif-schema-2.1.0.json"));
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

/// A validator for reviewdog's JSON Schema `name` (`DiagnosticResult.json` for rdjson,
/// `Diagnostic.json` for one line of rdjsonl), copied from reviewdog's `proto/rdf/jsonschema`.
pub fn reviewdog_validator(name: &str) -> jsonschema::Validator {
    let schema = load(&repo_root().join("tests/fixtures/reviewdog").join(name));
    jsonschema::validator_for(&schema).expect("the reviewdog schema compiles")
}

/// The offline demo inside a fresh git repository (committed): its app at `repo/sub`,
/// its config at `repo/demo.toml`; `None` (the test skips) when git is not on PATH.
pub fn demo_in_git(sub: &str) -> Option<tempfile::TempDir> {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo_root().join("examples/vulnerable-app"), &dir.path().join(sub));
    copy_tree(&repo_root().join("examples/demo"), &dir.path().join("demo"));
    std::fs::copy(repo_root().join("examples/demo.toml"), dir.path().join("demo.toml")).unwrap();
    let committed = git(dir.path(), &["init", "-q"])
        && git(dir.path(), &["add", "."])
        && git(dir.path(), &["commit", "-qm", "first"]);
    if !committed {
        eprintln!("SKIPPED: git is not on PATH");
    }
    committed.then_some(dir)
}

/// Copies the folder `from` (regular files and folders) to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
