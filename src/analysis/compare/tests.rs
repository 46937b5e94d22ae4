//! The metrics on hand-built analyses: three providers, `a` and `b` of one family.

use serde_json::json;

use super::*;
use crate::analysis::analyze;
use crate::consensus::Settings;
use crate::store::RunMeta;

fn meta() -> RunMeta {
    serde_json::from_value(json!({
        "schema_version": 1, "run_id": "r", "root": "/x", "started_at": "t",
        "providers": [
            {"name": "a", "kind": "openai", "model": "ma", "family": "f1"},
            {"name": "b", "kind": "openai", "model": "mb", "family": "f1"},
            {"name": "c", "kind": "openai", "model": "mc", "family": "f2"}
        ],
        "files": [{"path": "x.go", "lines": 100, "content_hash": "h"}],
        "skipped": []
    }))
    .unwrap()
}

fn finding(provider: &str, line: u32) -> serde_json::Value {
    let family = if provider == "c" { "f2" } else { "f1" };
    json!({
        "provider": provider, "model": format!("m{provider}"), "family": family, "file": "x.go",
        "start_line": line, "end_line": line, "severity": "high", "category": "injection",
        "cwe": null, "title": "t", "description": "d", "suggestion": null, "confidence": null
    })
}

/// An issue at `line` holding one finding of each of `providers`, agreed by `families`.
fn issue(line: u32, providers: &[&str], families: usize) -> Issue {
    serde_json::from_value(json!({
        "id": format!("i{line}"), "file": "x.go", "start_line": line, "end_line": line,
        "severity": "high", "category": "injection", "cwe": null, "title": "t",
        "agreement": {"count": families, "of": 2, "providers": providers},
        "score": 0.5,
        "findings": providers.iter().map(|p| finding(p, line)).collect::<Vec<_>>()
    }))
    .unwrap()
}

fn analysis(issues: Vec<Issue>) -> Analysis {
    let mut a = analyze(meta(), Vec::new(), &Default::default(), &Settings::default());
    a.issues = issues;
    for p in &mut a.providers {
        p.findings = a
            .issues
            .iter()
            .flat_map(|i| &i.findings)
            .filter(|f| f.provider == p.name)
            .count();
    }
    a
}

fn row<'a>(c: &'a Comparison, name: &str) -> &'a ModelRow {
    c.models.iter().find(|m| m.name == name).unwrap()
}

fn pair<'a>(c: &'a Comparison, a: &str, b: &str) -> &'a Pair {
    c.pairs.iter().find(|p| p.a == a && p.b == b).unwrap()
}

/// a: {1, 2, 3}; b: {2}; c: {3, 4}.
fn sample() -> Comparison {
    compare(
        &analysis(vec![
            issue(1, &["a"], 1),
            issue(2, &["a", "b"], 1),
            issue(3, &["a", "c"], 2),
            issue(4, &["c"], 1),
        ]),
        None,
    )
}

#[test]
fn jaccard_is_issues_both_reported_over_issues_either_reported() {
    let c = sample();
    assert_eq!(c.pairs.len(), 3, "every pair once");
    let ab = pair(&c, "a", "b");
    assert_eq!((ab.both, ab.either), (1, 3));
    assert!((ab.jaccard.unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(ab.b_confirms_a, Some(1.0 / 3.0));
    assert_eq!(ab.a_confirms_b, Some(1.0));
    let bc = pair(&c, "b", "c");
    assert_eq!((bc.both, bc.either, bc.jaccard), (0, 3, Some(0.0)));
}

#[test]
fn alone_and_shared_count_issues_and_shared_needs_another_family() {
    let c = sample();
    let a = row(&c, "a");
    assert_eq!(a.alone, 1, "issue 1");
    // Issue 2 is shared with b, but b is of a's family: only issue 3 counts.
    assert_eq!(a.shared_with_other_family, 1);
    assert_eq!((row(&c, "b").alone, row(&c, "b").shared_with_other_family), (0, 0));
    assert_eq!((row(&c, "c").alone, row(&c, "c").shared_with_other_family), (1, 1));
}

#[test]
fn the_agreed_share_counts_findings_in_issues_of_agreement_two_or_more() {
    let c = sample();
    assert_eq!(row(&c, "a").agreed_share, Some(1.0 / 3.0));
    assert_eq!(row(&c, "a").agreed_issues, 1);
    assert_eq!(row(&c, "b").agreed_share, Some(0.0));
    assert_eq!(row(&c, "c").agreed_share, Some(0.5));
    let none = compare(&analysis(vec![issue(1, &["a"], 1)]), None);
    assert_eq!(row(&none, "b").agreed_share, None, "no findings, no share");
}

#[test]
fn the_model_confirming_most_is_named_and_cost_is_split_over_agreed_issues() {
    let mut a = analysis(vec![
        issue(1, &["a"], 1),
        issue(2, &["a", "b"], 1),
        issue(3, &["a", "c"], 2),
    ]);
    a.providers[0].cost_usd = Some(0.3);
    let c = compare(&a, None);
    // b confirms 1 of a's 3, c 1 of 3: a tie keeps the first; b is wholly confirmed by a.
    assert_eq!(row(&c, "a").most_confirmed_by.as_deref(), Some("b"));
    assert_eq!(row(&c, "b").most_confirmed_by.as_deref(), Some("a"));
    assert_eq!(row(&c, "a").cost_per_agreed_issue, Some(0.3));
    assert_eq!(row(&c, "b").cost_per_agreed_issue, None, "no price");
}

#[test]
fn p95_is_the_nearest_rank() {
    assert_eq!(p95(&[]), 0);
    assert_eq!(p95(&[7]), 7);
    let hundred: Vec<u64> = (1..=100).collect();
    assert_eq!(p95(&hundred), 95);
    let twenty: Vec<u64> = (1..=20).collect();
    assert_eq!(p95(&twenty), 19);
    assert_eq!(p95(&[1, 2, 3]), 3);
}

#[test]
fn quorum_s_own_issues_are_left_out() {
    let mut own = issue(9, &["a"], 1);
    own.source = Source::Quorum;
    let c = compare(&analysis(vec![own]), None);
    assert_eq!((c.issues, row(&c, "a").alone), (0, 0));
}

#[test]
fn a_truth_file_scores_each_model() {
    let truth: Truth = toml::from_str("[[vuln]]\nid = \"v\"\nfile = \"x.go\"\nstart_line = 3\n").unwrap();
    let c = compare(&analysis(vec![issue(3, &["a"], 1), issue(50, &["b"], 1)]), Some(&truth));
    let a = row(&c, "a").truth.as_ref().unwrap();
    assert_eq!((a.true_positives, a.false_positives), (1, 0));
    let b = row(&c, "b").truth.as_ref().unwrap();
    assert_eq!((b.true_positives, b.false_positives, b.recall), (0, 1, 0.0));
}
