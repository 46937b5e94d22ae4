//! Clustering quality on the labelled visible set in `examples/labelled/`: several
//! models' answers (paraphrases, shared false positives, two bugs of one model on nearby
//! lines, findings without lines) with gold cluster labels. The B-cubed scores are
//! asserted at the level the current clustering reaches, so a change that clusters
//! worse fails here; the specific cases the set was written for are asserted one by one.

use std::collections::BTreeSet;
use std::path::Path;

use quorum::consensus::{self, Place, Settings};
use quorum::eval::bcubed;
use quorum::finding::{self, Finding};
use quorum::parse::RawFinding;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Set {
    finding: Vec<Labelled>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Labelled {
    cluster: String,
    provider: String,
    file: String,
    start_line: Option<u32>,
    end_line: Option<u32>,
    function: Option<String>,
    cwe: Option<u32>,
    category: Option<String>,
    severity: String,
    title: String,
    description: String,
}

/// The set's findings, normalized as a review would, and their gold labels.
fn load() -> (Vec<Finding>, Vec<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/labelled/findings.toml");
    let text = std::fs::read_to_string(&path).expect("examples/labelled/findings.toml is readable");
    let set: Set = toml::from_str(&text).expect("examples/labelled/findings.toml is valid");
    set.finding
        .into_iter()
        .map(|l| {
            let raw = RawFinding {
                file: Some(l.file.clone()),
                start_line: l.start_line,
                end_line: l.end_line,
                function: l.function,
                severity: Some(l.severity),
                category: l.category,
                cwe: l.cwe,
                title: Some(l.title),
                description: Some(l.description),
                ..RawFinding::default()
            };
            let ctx = finding::Context {
                provider: &l.provider,
                model: &l.provider,
                family: &l.provider,
                file: &l.file,
                line_count: 1000,
            };
            let f = finding::normalize(&raw, ctx).expect("every labelled finding is about its own file");
            (f, l.cluster)
        })
        .unzip()
}

fn groups(findings: &[Finding]) -> Vec<Vec<usize>> {
    let places: Vec<Place> = findings.iter().map(Place::of).collect();
    consensus::cluster_indices(findings, &places, &Settings::default())
}

/// The predicted groups as sets of gold labels, for readable failure messages.
fn described(groups: &[Vec<usize>], gold: &[String]) -> Vec<BTreeSet<String>> {
    groups
        .iter()
        .map(|g| g.iter().map(|&i| gold[i].clone()).collect())
        .collect()
}

#[test]
fn bcubed_scores_on_the_labelled_set_do_not_regress() {
    let (findings, gold) = load();
    let groups = groups(&findings);
    let (precision, recall, f1) = bcubed(&groups, &gold);
    println!("labelled set: B-cubed precision {precision:.3}, recall {recall:.3}, F1 {f1:.3}");
    let seen = described(&groups, &gold);
    assert!(precision >= 1.0, "precision {precision:.3}: {seen:?}");
    assert!(recall >= 0.95, "recall {recall:.3}: {seen:?}");
    assert!(f1 >= 0.97, "F1 {f1:.3}: {seen:?}");
}

#[test]
fn every_gold_cluster_is_one_group_or_a_known_split() {
    let (findings, gold) = load();
    let groups = groups(&findings);
    let labels: BTreeSet<&String> = gold.iter().collect();
    let split: Vec<&String> = labels
        .into_iter()
        .filter(|label| groups.iter().filter(|g| g.iter().any(|&i| &gold[i] == *label)).count() > 1)
        .collect();
    assert!(split.is_empty(), "split gold clusters: {split:?}");
}

#[test]
fn one_models_two_bugs_on_nearby_lines_stay_apart() {
    let (findings, gold) = load();
    let groups = groups(&findings);
    for group in &groups {
        let labels: BTreeSet<&String> = group.iter().map(|&i| &gold[i]).collect();
        assert_eq!(labels.len(), 1, "merged different problems: {labels:?}");
    }
}

#[test]
fn the_labelled_set_clusters_the_same_in_any_order() {
    let (findings, gold) = load();
    let forward = described(&groups(&findings), &gold);
    let mut reversed_findings = findings.clone();
    reversed_findings.reverse();
    let mut reversed_gold = gold.clone();
    reversed_gold.reverse();
    let mut a: Vec<BTreeSet<String>> = forward;
    let mut b = described(&groups(&reversed_findings), &reversed_gold);
    a.sort();
    b.sort();
    assert_eq!(a, b);
}
