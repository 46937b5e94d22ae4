//! The report files of the offline demo: `report.sarif` validates against the official
//! SARIF 2.1.0 schema (tests/fixtures/sarif-schema-2.1.0.json, from OASIS) and carries
//! every ranked issue with its location, level, agreement and stable fingerprint, with
//! what GitHub code scanning reads (`%SRCROOT%`, `security-severity`, `precision`, the
//! explanation and fix); `report.html` lists every issue and escapes what models wrote;
//! `report.rdjson` / `report.rdjsonl` validate against reviewdog's own JSON Schema
//! (tests/fixtures/reviewdog, from reviewdog's proto/rdf/jsonschema) with one diagnostic
//! per issue. Paths are relative to the git repository's root, also for a subfolder.

mod support;

use std::path::Path;

use serde_json::Value;
use support::fixture::{copy_tree, demo_in_git, demo_review, load, repo_root, reviewdog_validator, sarif_validator};

/// Every way `value` breaks the schema `validator` holds, one line each.
fn schema_errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The SARIF `security-severity` band of a Quorum severity, as CodeQL grades them.
fn security_band(severity: &str) -> std::ops::Range<f64> {
    match severity {
        "critical" => 9.0..10.1,
        "high" => 7.0..9.0,
        "medium" => 4.0..7.0,
        "low" => 0.1..4.0,
        _ => 0.0..0.1,
    }
}

const SEVERITY_ORDER: [&str; 5] = ["info", "low", "medium", "high", "critical"];

fn severity_rank(severity: &str) -> usize {
    SEVERITY_ORDER.iter().position(|s| *s == severity).unwrap()
}

#[test]
fn demo_sarif_is_valid_and_matches_the_json_report() {
    let out = tempfile::tempdir().unwrap();
    support::ok(&demo_review(out.path(), &["--quiet", "--format", "json,sarif,html"]));
    let sarif = load(&out.path().join("report.sarif"));
    let validator = sarif_validator();
    let errors = schema_errors(&validator, &sarif);
    assert!(
        errors.is_empty(),
        "report.sarif is not valid SARIF 2.1.0:\n{}",
        errors.join("\n")
    );

    let report = load(&out.path().join("report.json"));
    let issues = report["issues"].as_array().unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"].is_object());
    assert!(
        issues.iter().any(|i| i["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["suggestion"].is_string())),
        "the demo has fixes to carry"
    );
    assert_eq!(results.len(), issues.len());
    for (issue, result) in issues.iter().zip(results) {
        assert_eq!(result["partialFingerprints"]["quorumIssueId/v1"], issue["id"]);
        let location = &result["locations"][0]["physicalLocation"];
        // The checkout is a git repository: paths start at its root, not at the demo's.
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.ends_with(issue["file"].as_str().unwrap()), "{uri}");
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(location["region"]["startLine"], issue["start_line"]);
        let count = issue["agreement"]["count"].as_u64().unwrap();
        let text = result["message"]["text"].as_str().unwrap();
        assert!(text.contains(&format!("agreed by {count} of")));
        let findings = issue["findings"].as_array().unwrap();
        let described = findings
            .iter()
            .find(|f| !f["description"].as_str().unwrap().trim().is_empty());
        if let Some(f) = described {
            assert!(
                text.contains(f["description"].as_str().unwrap().trim()),
                "explanation in {text}"
            );
        }
        let fixed = findings
            .iter()
            .find_map(|f| f["suggestion"].as_str().filter(|s| !s.trim().is_empty()));
        if let Some(fix) = fixed {
            assert!(text.contains(&format!("Fix: {}", fix.trim())), "fix in {text}");
        }
        let expected_precision = match (count, issue["agreement"]["of"].as_u64().unwrap()) {
            (c, of) if c >= 2 && c >= of => "very-high",
            (c, _) if c >= 2 => "high",
            _ => "medium",
        };
        assert_eq!(result["properties"]["precision"], expected_precision);
        let rule = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        let described_rule = &sarif["runs"][0]["tool"]["driver"]["rules"][index];
        assert_eq!(described_rule["id"], rule);
        // A rule is graded by its strongest issue: at least this one's severity.
        let score: f64 = described_rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let rule_severity = SEVERITY_ORDER
            .iter()
            .rev()
            .find(|s| security_band(s).contains(&score))
            .unwrap();
        assert!(severity_rank(rule_severity) >= severity_rank(issue["severity"].as_str().unwrap()));
        assert!(["very-high", "high", "medium"].contains(&described_rule["properties"]["precision"].as_str().unwrap()));
        let expected_level = match issue["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(result["level"], expected_level);
    }
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    for issue in issues {
        assert!(html.contains(&format!("id=\"{}\"", issue["id"].as_str().unwrap())));
    }
    assert!(
        html.contains("&#39;") || html.contains("&quot;"),
        "model text is escaped"
    );
    // Two script elements, the page's own: its data (never run) and its filters.
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert!(html.contains("<script type=\"application/json\" id=\"quorum-data\">"));
    // The invalid case is caught: the validator is not a no-op.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("catastrophic");
    assert!(!validator.is_valid(&broken));
}

/// The demo's issues as rdjson and rdjsonl: both validate against reviewdog's schema and
/// hold one diagnostic per reported issue, at its lines, with its severity, agreement,
/// CWE and source.
#[test]
fn demo_rdjson_and_rdjsonl_validate_against_reviewdogs_schema() {
    let out = tempfile::tempdir().unwrap();
    support::ok(&demo_review(
        out.path(),
        &["--quiet", "--format", "json,rdjson,rdjsonl"],
    ));
    let report = load(&out.path().join("report.json"));
    let issues = report["issues"].as_array().unwrap();
    assert!(!issues.is_empty());

    let result = load(&out.path().join("report.rdjson"));
    let validator = reviewdog_validator("DiagnosticResult.json");
    let errors = schema_errors(&validator, &result);
    assert!(
        errors.is_empty(),
        "report.rdjson is not valid rdjson:\n{}",
        errors.join("\n")
    );
    let diagnostics = result["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), issues.len());
    for (issue, d) in issues.iter().zip(diagnostics) {
        assert_diagnostic_of(issue, d);
    }

    let lines = std::fs::read_to_string(out.path().join("report.rdjsonl")).unwrap();
    let line_validator = reviewdog_validator("Diagnostic.json");
    let streamed: Vec<Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        &streamed, diagnostics,
        "rdjsonl holds the same diagnostics, one per line"
    );
    for d in &streamed {
        let errors = schema_errors(&line_validator, d);
        assert!(
            errors.is_empty(),
            "an rdjsonl line is not a Diagnostic:\n{}",
            errors.join("\n")
        );
    }
    // The validators are not no-ops.
    let mut broken = result.clone();
    broken["diagnostics"][0]["severity"] = Value::from("FATAL");
    assert!(!validator.is_valid(&broken));
    assert!(!line_validator.is_valid(&Value::from(json_with_bad_line())));
}

fn json_with_bad_line() -> serde_json::Map<String, Value> {
    let mut d = serde_json::Map::new();
    d.insert(
        "location".into(),
        serde_json::json!({"range": {"start": {"line": "one"}}}),
    );
    d
}

/// One rdjson diagnostic says what its `report.json` issue says.
fn assert_diagnostic_of(issue: &Value, d: &Value) {
    let path = d["location"]["path"].as_str().unwrap();
    assert!(path.ends_with(issue["file"].as_str().unwrap()), "{path}");
    assert_eq!(d["location"]["range"]["start"]["line"], issue["start_line"]);
    let end = issue["end_line"].as_u64().or(issue["start_line"].as_u64()).unwrap();
    assert_eq!(d["location"]["range"]["end"]["line"], end);
    let expected = match issue["severity"].as_str().unwrap() {
        "critical" | "high" => "ERROR",
        "medium" => "WARNING",
        _ => "INFO",
    };
    assert_eq!(d["severity"], expected);
    assert_eq!(d["source"]["name"], "quorum");
    let message = d["message"].as_str().unwrap();
    // Model text is escaped for the Markdown of a pull request comment.
    let unescaped = |t: &str| t.replace('\\', "");
    assert!(unescaped(message).starts_with(&unescaped(issue["title"].as_str().unwrap())));
    for (at, _) in message.match_indices(['`', '[', '<']) {
        assert_eq!(&message[at - 1..at], "\\", "unescaped Markdown in {message}");
    }
    let agreement = &issue["agreement"];
    assert!(message.contains(&format!("agreed by {} of {}", agreement["count"], agreement["of"])));
    let findings = issue["findings"].as_array().unwrap();
    if findings.len() > 1 {
        for f in findings {
            assert!(
                message.contains(&format!("- {}: ", f["provider"].as_str().unwrap())),
                "{message}"
            );
        }
    }
    match issue["cwe"].as_u64() {
        Some(cwe) => {
            assert_eq!(d["code"]["value"], format!("CWE-{cwe}"));
            assert_eq!(
                d["code"]["url"],
                format!("https://cwe.mitre.org/data/definitions/{cwe}.html")
            );
        }
        None => assert!(d.get("code").is_none()),
    }
    // Models give fixes as free text, not replacements for exact lines.
    assert!(d.get("suggestions").is_none());
}

/// Reviewing a subfolder of a git repository: SARIF and rdjson name each file from the
/// repository's root, so code scanning and reviewdog find it in the pull request.
#[test]
fn a_reviewed_subfolder_of_a_git_repository_is_named_from_the_repository_root() {
    let Some(repo) = demo_in_git("services/app") else {
        return;
    };
    let out = repo.path().join("out");
    let args = ["review", "services/app", "--config", "demo.toml", "--quiet", "--out"];
    let args = [&args[..], &[out.to_str().unwrap(), "--format", "json,sarif,rdjson"]].concat();
    support::ok(&support::quorum(repo.path(), &args, &[]));
    assert_paths_from(&out, "services/app/");
}

/// Outside git, paths start at the reviewed folder.
#[test]
fn outside_git_paths_start_at_the_reviewed_folder() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo_root().join("examples/vulnerable-app"), &dir.path().join("app"));
    let out = dir.path().join("out");
    let config = repo_root().join("examples/demo.toml");
    let args = ["review", "app", "--quiet", "--format", "json,sarif,rdjson", "--config"];
    let args = [&args[..], &[config.to_str().unwrap(), "--out", out.to_str().unwrap()]].concat();
    support::ok(&support::quorum(dir.path(), &args, &[]));
    assert_paths_from(&out, "");
}

/// Every SARIF result and rdjson diagnostic of the run in `out` names its file as
/// `prefix` + the file `report.json` gives (relative to the reviewed folder).
fn assert_paths_from(out: &Path, prefix: &str) {
    let issues = load(&out.join("report.json"))["issues"].as_array().unwrap().clone();
    assert!(!issues.is_empty());
    let sarif = load(&out.join("report.sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let diagnostics = load(&out.join("report.rdjson"))["diagnostics"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(results.len(), issues.len());
    for ((issue, result), d) in issues.iter().zip(results).zip(&diagnostics) {
        let expected = format!("{prefix}{}", issue["file"].as_str().unwrap());
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uri"], expected.as_str());
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
        assert_eq!(d["location"]["path"], expected.as_str());
    }
}

/// sarif-tools (`pip install sarif-tools`, the `sarif` command) reads the demo's
/// `report.sarif`: `sarif summary` counts its results by level as the report has them.
/// Skipped, and said so, where sarif-tools is not installed.
#[test]
fn sarif_tools_summarises_the_demo_sarif() {
    let out = tempfile::tempdir().unwrap();
    support::ok(&demo_review(out.path(), &["--quiet", "--format", "sarif"]));
    let sarif_path = out.path().join("report.sarif");
    let summary = match std::process::Command::new("sarif")
        .arg("summary")
        .arg(&sarif_path)
        .output()
    {
        Ok(summary) => summary,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            println!("skipped: sarif-tools not installed (pip install sarif-tools)");
            return;
        }
        Err(err) => panic!("sarif summary could not run: {err}"),
    };
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(
        summary.status.success(),
        "sarif summary failed: {text}{}",
        String::from_utf8_lossy(&summary.stderr)
    );
    let sarif = load(&sarif_path);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 10, "the demo's issues: {}", results.len());
    for level in ["error", "warning", "note"] {
        let count = results.iter().filter(|r| r["level"] == level).count();
        assert!(count > 0, "the demo has {level} results");
        assert!(
            text.lines().any(|l| l.trim() == format!("{level}: {count}")),
            "sarif summary counts {count} {level} results:\n{text}"
        );
    }
    // Each issue is listed under its CWE and title.
    assert!(
        text.contains("CWE-78 OS command injection via export format parameter"),
        "{text}"
    );
}
