//! The command line as a user meets it: `init`, the offline demo, and every kind of bad
//! input, each of which must name what is wrong and where, exit with status 2, and
//! leave nothing half-written.

mod support;

use std::path::Path;
use std::process::Output;

use support::fixture::{self, demo_review, project, repo_root};
use support::{stderr, UNSET_VAR};

fn quorum(cwd: &Path, args: &[&str]) -> Output {
    support::quorum(cwd, args, &[])
}

/// Runs `review` on a one-file project with `config` and expects a configuration error.
fn config_error(config: &str) -> String {
    config_error_with(config, &[])
}

/// As `config_error`, running `first` (e.g. `quorum trust`) before the review.
fn config_error_with(config: &str, first: &[&str]) -> String {
    let dir = project(&[("main.go", "package main\n")], config);
    if !first.is_empty() {
        let out = quorum(dir.path(), first);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = quorum(dir.path(), &["review", "--out", "out"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!dir.path().join("out").exists(), "a failed start writes nothing");
    stderr(&out)
}

const GOOD: &str = "[providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\n";

#[test]
fn unknown_key_names_file_line_and_key() {
    let err = config_error(&format!("{GOOD}temprature = 0.2\n"));
    assert!(err.contains("quorum.toml:5:"), "{err}");
    assert!(err.contains("temprature"), "{err}");
}

#[test]
fn wrong_type_names_line() {
    let err = config_error(&format!("{GOOD}max_concurrency = \"two\"\n"));
    assert!(err.contains("quorum.toml:5: providers.local.max_concurrency:"), "{err}");
    assert!(err.contains("expected a whole number"), "{err}");
}

#[test]
fn duplicate_provider_names_line() {
    let err = config_error(&format!("{GOOD}{GOOD}"));
    assert!(err.contains("quorum.toml:5:"), "{err}");
}

#[test]
fn missing_required_key_names_it() {
    let err = config_error("[providers.local]\nkind = \"openai\"\nmodel = \"m\"\n");
    assert!(
        err.contains("quorum.toml:2:") && err.contains("providers.local.base_url is missing"),
        "{err}"
    );
}

#[test]
fn unknown_kind_is_named() {
    let err = config_error("[providers.local]\nkind = \"palm\"\n");
    assert!(err.contains("quorum.toml:2:") && err.contains("palm"), "{err}");
}

#[test]
fn missing_key_variable_is_named_without_guessing_a_key() {
    // A file that names a key variable needs trust before its key is even looked for.
    let err = config_error_with(&format!("{GOOD}api_key_env = \"{UNSET_VAR}\"\n"), &["trust"]);
    assert!(
        err.contains("quorum.toml:5:") && err.contains(&format!("{UNSET_VAR} is not set")),
        "{err}"
    );
}

#[test]
fn bad_values_are_named() {
    for (line, why) in [
        ("max_concurrency = 0", "max_concurrency must be at least 1"),
        ("temperature = 5.0", "temperature must be between 0 and 2"),
        ("timeout_secs = 0", "timeout_secs must be at least 1"),
        ("structured_output = \"xml\"", "xml"),
    ] {
        let err = config_error(&format!("{GOOD}{line}\n"));
        assert!(err.contains("quorum.toml:5:") && err.contains(why), "{line}: {err}");
    }
}

#[test]
fn invalid_toml_is_named() {
    let err = config_error("[providers.local\nkind = \"openai\"\n");
    assert!(err.contains("quorum.toml:1:"), "{err}");
}

#[test]
fn no_config_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = quorum(dir.path(), &["review"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("quorum init"), "{}", stderr(&out));
}

#[test]
fn unknown_provider_flag_lists_the_configured_ones() {
    let err = {
        let dir = project(&[("main.go", "package main\n")], GOOD);
        stderr(&quorum(dir.path(), &["review", "--provider", "gpt"]))
    };
    assert!(
        err.contains("--provider gpt") && err.contains("configured: local"),
        "{err}"
    );
}

#[test]
fn unknown_format_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = quorum(dir.path(), &["review", "--format", "pdf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("pdf"));
}

#[test]
fn nothing_to_review_is_explained() {
    let dir = project(
        &[("main.go", "package main\n")],
        &format!("[review]\ninclude = [\"**/*.rs\"]\n{GOOD}"),
    );
    let out = quorum(dir.path(), &["review", "--config", "quorum.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing to review"), "{}", stderr(&out));
}

#[test]
fn init_writes_a_valid_config_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = quorum(dir.path(), &["init"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = std::fs::read_to_string(dir.path().join("quorum.toml")).unwrap();
    assert!(written.contains("[providers.nemotron]") && written.contains("[providers.gemma]"));
    let again = quorum(dir.path(), &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"));
    assert!(quorum(dir.path(), &["init", "--force"]).status.success());
}

#[test]
fn aggregate_of_a_folder_that_is_no_run_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = quorum(dir.path(), &["aggregate", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--out folder of a review"), "{}", stderr(&out));
}

/// The README's first command: the offline demo ranks real issues above the noise.
#[test]
fn demo_ranks_planted_vulnerabilities_above_noise() {
    let out_dir = tempfile::tempdir().unwrap();
    support::ok(&demo_review(out_dir.path(), &[]));
    let report = fixture::report(out_dir.path());
    let truth: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo_root().join("examples/vulnerable-app/truth.toml")).unwrap())
            .unwrap();
    let vulns = truth["vuln"].as_array().unwrap();
    let is_true = |issue: &serde_json::Value| {
        vulns.iter().any(|v| {
            let (s, e) = (
                issue["start_line"].as_i64().unwrap_or(0),
                issue["end_line"].as_i64().unwrap_or(0),
            );
            v["file"].as_str() == issue["file"].as_str()
                && s <= v["end_line"].as_integer().unwrap() + 3
                && e + 3 >= v["start_line"].as_integer().unwrap()
        })
    };
    let issues = report["issues"].as_array().unwrap();
    let labels: Vec<bool> = issues.iter().map(is_true).collect();
    let true_count = labels.iter().filter(|t| **t).count();
    assert_eq!(
        true_count,
        vulns.len(),
        "each planted vulnerability is one issue: {labels:?}"
    );
    // Only the decoy two weak models share may rank among the real issues; every
    // other false positive ranks below all of them.
    let last_true = labels.iter().rposition(|t| *t).unwrap();
    let noise_above = labels[..last_true].iter().filter(|t| !**t).count();
    assert!(noise_above <= 1, "{labels:?}");
    let top: Vec<bool> = labels[..vulns.len()].to_vec();
    assert!(top.iter().filter(|t| **t).count() >= vulns.len() - 1, "{labels:?}");
}

/// `quorum eval` scores the demo run against its truth file, and `--min-agree` keeps
/// only the issues enough independent models agree on.
#[test]
fn eval_scores_the_demo_and_min_agree_filters() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().to_str().unwrap();
    support::ok(&demo_review(out_dir.path(), &["--quiet", "--min-agree", "2"]));
    let report = fixture::report(out_dir.path());
    let issues = report["issues"].as_array().unwrap();
    assert!(!issues.is_empty() && issues.iter().all(|i| i["agreement"]["count"].as_u64() >= Some(2)));

    let eval = quorum(
        repo_root(),
        &["eval", out, "--truth", "examples/vulnerable-app/truth.toml", "--json"],
    );
    support::ok(&eval);
    let scores: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    let at_two = scores["consensus"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "consensus >= 2");
    let at_two = at_two.expect("a row for agreement ≥ 2");
    assert_eq!(at_two["true_positives"], 8, "{scores:#}");
    assert!(at_two["precision"].as_f64().unwrap() > 0.85, "{scores:#}");

    let missing = quorum(repo_root(), &["eval", out, "--truth", "no/such/truth.toml"]);
    assert_eq!(missing.status.code(), Some(2));
}

/// `quorum review … | head -1`, `quorum providers list | head -1`: a reader that closes
/// stdout early ends the output quietly, with no panic and no error line, and the command
/// still ends as it would have: its status, its messages on stderr and what it records.
#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("out");
    // Nothing listens on a port that was just let go: the provider is unusable.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let broken = project(
        &[],
        &fixture::openai_provider("gone", &format!("http://{dead}/v1"), "m", ""),
    );
    let broken_config = broken.path().join("quorum.toml");
    let broken_config = broken_config.to_str().unwrap();
    let runs: [(&[&str], i32, &str); 4] = [
        (
            &[
                "review",
                "examples/vulnerable-app",
                "--config",
                "examples/demo.toml",
                "--out",
                out.to_str().unwrap(),
            ],
            0,
            "Wrote ",
        ),
        (&["providers", "list", "--config", "examples/demo.toml"], 0, ""),
        (&["providers", "check", "--config", broken_config], 1, "gone"),
        (&["trust", broken_config], 0, "Trusted "),
    ];
    for (args, status, says) in runs {
        let mut child = support::quorum_cmd(repo_root())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before anything is printed.
        drop(child.stdout.take());
        let done = child.wait_with_output().unwrap();
        let err = stderr(&done);
        assert!(
            !err.contains("panicked") && !err.contains("failed printing"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("error:"), "{args:?}: {err}");
        assert_eq!(done.status.code(), Some(status), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} still says {says:?}: {err}");
    }
}
