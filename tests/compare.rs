//! `quorum compare` through the binary: the README's demo (4 replayed models), with a truth
//! file, as JSON, over two shard folders, and the files `review` writes beside its reports.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use support::fixture::{demo_review, load, repo_root};
use support::{ok, quorum, refused, stdout};

/// The providers of each models' issue of a `report.json`.
fn reporters(report: &Value) -> Vec<BTreeSet<String>> {
    report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["source"] == "models")
        .map(|i| {
            i["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["provider"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

fn providers(report: &Value) -> Vec<String> {
    report["run"]["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

fn compare(dirs: &[&Path], extra: &[&str]) -> String {
    let mut args = vec!["compare"];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
    args.extend(extra);
    let out = quorum(repo_root(), &args, &[]);
    ok(&out);
    stdout(&out)
}

#[test]
fn the_demo_table_names_every_model_with_its_counts_from_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    ok(&demo_review(&out, &["--quiet"]));
    let report = load(&out.join("report.json"));
    let names = providers(&report);
    assert_eq!(names.len(), 4);
    let issues = reporters(&report);
    let table = compare(&[&out], &[]);
    assert!(
        table.contains(&format!("4 models over {} issues", issues.len())),
        "{table}"
    );
    for (n, name) in names.iter().enumerate() {
        let findings = report["run"]["providers"][n]["findings"].as_u64().unwrap();
        let alone = issues.iter().filter(|r| r.len() == 1 && r.contains(name)).count();
        // The findings table: model, findings, alone, shared, …
        let rows: Vec<Vec<&str>> = table
            .lines()
            .filter(|l| l.contains('┆'))
            .map(|l| l.trim_matches(['│', ' ']).split('┆').map(str::trim).collect())
            .collect();
        let cells = rows
            .iter()
            .find(|c| c[0] == name && c.len() == 7)
            .unwrap_or_else(|| panic!("{name}'s findings row:\n{table}"));
        assert_eq!(cells[1], findings.to_string(), "{name} findings:\n{table}");
        assert_eq!(cells[2], alone.to_string(), "{name} alone:\n{table}");
        // Each demo model is of its own family: shared is every issue with another reporter.
        let families: BTreeSet<&str> = report["run"]["providers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["family"].as_str().unwrap())
            .collect();
        assert_eq!(families.len(), names.len());
        let shared = issues.iter().filter(|r| r.len() > 1 && r.contains(name)).count();
        assert_eq!(cells[3], shared.to_string(), "{name} shared:\n{table}");
    }
}

#[test]
fn json_holds_the_pairwise_matrix_and_truth_adds_precision_and_recall() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    ok(&demo_review(&out, &["--quiet"]));
    let report = load(&out.join("report.json"));
    let issues = reporters(&report);
    let json: Value = serde_json::from_str(&compare(&[&out], &["--format", "json"])).unwrap();
    let pairs = json["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 6, "every pair of 4 models once");
    for p in pairs {
        let (a, b) = (p["a"].as_str().unwrap(), p["b"].as_str().unwrap());
        let both = issues.iter().filter(|r| r.contains(a) && r.contains(b)).count();
        let either = issues.iter().filter(|r| r.contains(a) || r.contains(b)).count();
        assert_eq!(
            (p["both"].as_u64(), p["either"].as_u64()),
            (Some(both as u64), Some(either as u64))
        );
        let jaccard = p["jaccard"].as_f64().unwrap();
        assert!((jaccard - both as f64 / either as f64).abs() < 1e-9);
    }
    assert!(json["models"][0].get("truth").is_none());

    let truth = "examples/vulnerable-app/truth.toml";
    let scored: Value = serde_json::from_str(&compare(&[&out], &["--format", "json", "--truth", truth])).unwrap();
    let eval = quorum(
        repo_root(),
        &["eval", out.to_str().unwrap(), "--truth", truth, "--json"],
        &[],
    );
    let eval: Value = serde_json::from_str(&ok_stdout(&eval)).unwrap();
    for (m, e) in scored["models"]
        .as_array()
        .unwrap()
        .iter()
        .zip(eval["models"].as_array().unwrap())
    {
        assert_eq!(m["truth"], *e, "compare scores each model as eval does");
        assert!(m["truth"]["precision"].is_f64() && m["truth"]["recall"].is_f64());
    }
    let table = compare(&[&out], &["--truth", truth]);
    assert!(table.contains("precision") && table.contains("recall"), "{table}");
    let md = compare(&[&out], &["--format", "md", "--truth", truth]);
    assert!(md.contains("| model | findings |") && md.contains("precision"), "{md}");
}

fn ok_stdout(out: &std::process::Output) -> String {
    ok(out);
    stdout(out)
}

#[test]
fn two_shard_folders_compare_as_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (s1, s2, merged) = (dir.path().join("s1"), dir.path().join("s2"), dir.path().join("m"));
    ok(&demo_review(&s1, &["--quiet", "--shard", "1/2"]));
    ok(&demo_review(&s2, &["--quiet", "--shard", "2/2"]));
    let shards: Value = serde_json::from_str(&compare(&[&s1, &s2], &["--format", "json"])).unwrap();
    let args = [
        "aggregate",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "-q",
    ];
    ok(&quorum(repo_root(), &args, &[]));
    let aggregated = load(&merged.join("compare.json"));
    assert_eq!(
        shards["models"], aggregated["models"],
        "compare merges the shards as aggregate does"
    );
    assert_eq!(shards["pairs"], aggregated["pairs"]);
    let files: u64 = shards["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["files_answered"].as_u64().unwrap())
        .sum();
    let one: Value = serde_json::from_str(&compare(&[&s1], &["--format", "json"])).unwrap();
    let one_files: u64 = one["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["files_answered"].as_u64().unwrap())
        .sum();
    assert!(files > one_files, "both shards' files count: {files} > {one_files}");
}

#[test]
fn review_writes_compare_files_and_a_new_run_sets_them_aside() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    ok(&demo_review(&out, &["--quiet"]));
    let written = load(&out.join("compare.json"));
    let printed: Value = serde_json::from_str(&compare(&[&out], &["--format", "json"])).unwrap();
    assert_eq!(written, printed);
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(
        md.starts_with("# Models compared") && md.contains("| Jaccard |"),
        "{md}"
    );
    // Twice more: the second moves them into previous/, the third replaces that copy.
    for _ in 0..2 {
        ok(&demo_review(&out, &["--quiet"]));
        assert!(out.join("previous/compare.md").is_file() && out.join("previous/compare.json").is_file());
        assert!(out.join("compare.md").is_file() && out.join("compare.json").is_file());
    }
}

#[test]
fn a_bad_format_or_a_folder_without_a_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(&quorum(
        repo_root(),
        &["compare", dir.path().to_str().unwrap(), "--format", "xml"],
        &[],
    ));
    assert!(err.contains("table, md or json"), "{err}");
    let err = refused(&quorum(repo_root(), &["compare", dir.path().to_str().unwrap()], &[]));
    assert!(err.contains("run.json"), "{err}");
}
