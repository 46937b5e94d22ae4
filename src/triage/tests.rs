use std::collections::{HashMap, HashSet};

use super::*;

fn issue(id: &str, file: &str) -> Issue {
    serde_json::from_value(serde_json::json!({
        "id": id, "file": file, "start_line": 3, "end_line": 3, "severity": "high",
        "category": "injection", "cwe": 89, "title": format!("issue {id}"),
        "agreement": {"count": 2, "of": 2, "providers": ["a", "b"]}, "score": 0.9, "findings": []
    }))
    .unwrap()
}

fn suppression(id: &str, file: Option<&str>) -> Suppression {
    Suppression {
        id: id.into(),
        file: file.map(String::from),
        title: format!("issue {id}"),
        reason: "reviewed".into(),
        date: "2026-12-01".into(),
    }
}

fn inputs(entries: Vec<Suppression>, baseline: Option<Vec<Issue>>) -> Inputs {
    Inputs {
        suppressions: {
            let mut s = Suppressions::default();
            s.path = ".quorum/suppressions.toml".into();
            s.entries = entries;
            s
        },
        baseline: baseline.map(|issues| Baseline {
            report: "old.json".into(),
            ids: issues.iter().map(|i| i.id.clone()).collect(),
            issues,
        }),
    }
}

#[test]
fn suppressed_issues_leave_the_list_and_gone_ones_are_stale_only_where_reviewed() {
    let sent: HashSet<&str> = ["a.go", "b.go"].into();
    let decided = inputs(
        vec![
            suppression("Q00000001", Some("a.go")),
            suppression("Q00000002", Some("a.go")),
            // Not sent this run (a shard, a subfolder): not known to be gone.
            suppression("Q00000003", Some("c.go")),
            suppression("Q00000004", None),
        ],
        None,
    );
    let (kept, triage) = apply(
        vec![issue("Q00000001", "a.go"), issue("Q0000000a", "b.go")],
        &sent,
        &HashMap::new(),
        &decided,
    );
    assert_eq!(kept, vec![issue("Q0000000a", "b.go")]);
    assert_eq!(triage.suppressed.len(), 1);
    assert_eq!(triage.suppressed[0].id, "Q00000001");
    assert_eq!(triage.suppressed[0].reason, "reviewed");
    let stale: Vec<&str> = triage.stale.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(stale, ["Q00000002", "Q00000004"]);
    assert!(triage.baseline.is_none());
    let lines = triage.summary_lines();
    assert_eq!(lines[0], "1 suppressed by .quorum/suppressions.toml.");
    assert!(lines[1].starts_with("2 stale suppressions") && lines[1].contains("Q00000002 (issue Q00000002)"));
}

#[test]
fn the_baseline_leaves_out_what_it_held_and_names_what_is_gone() {
    let sent: HashSet<&str> = ["a.go"].into();
    let old = vec![
        issue("Q00000001", "a.go"),
        issue("Q00000002", "a.go"),
        issue("Q00000003", "z.go"),
    ];
    let decided = inputs(vec![suppression("Q00000009", Some("a.go"))], Some(old));
    let now = vec![
        issue("Q00000001", "a.go"),
        issue("Q00000005", "a.go"),
        issue("Q00000009", "a.go"),
    ];
    let (kept, triage) = apply(now, &sent, &HashMap::new(), &decided);
    assert_eq!(kept, vec![issue("Q00000005", "a.go")], "only the new issue is reported");
    let b = triage.baseline.as_ref().unwrap();
    assert_eq!(b.unchanged, vec![issue("Q00000001", "a.go")]);
    // z.go was not reviewed this run: its issue is not known to be gone.
    assert_eq!(b.absent, vec![issue("Q00000002", "a.go")]);
    assert_eq!(triage.suppressed.len(), 1, "a suppression wins over the baseline");
    assert_eq!(
        triage.summary_lines().last().unwrap(),
        "1 in the baseline old.json, left out; 1 baseline issues no longer found."
    );
}

#[test]
fn nothing_decided_changes_nothing() {
    let sent: HashSet<&str> = ["a.go"].into();
    let (kept, triage) = apply(
        vec![issue("Q00000001", "a.go")],
        &sent,
        &HashMap::new(),
        &Inputs::default(),
    );
    assert_eq!(kept.len(), 1);
    assert!(triage.summary_lines().is_empty() && triage.suppressions_file.is_none());
}

/// An issue of `a.go` anchored at `line`, with the id it would get there.
fn anchored(line: u32, texts: &HashMap<String, String>) -> Issue {
    let mut below = issue("Q00000000", "a.go");
    below.start_line = Some(line + 1);
    let mut at = issue("Q00000000", "a.go");
    at.start_line = Some(line);
    // The fingerprint at `line` is the one a line below gets as its earlier neighbour.
    at.id = crate::consensus::nearby_ids(&below, texts)[0].clone();
    at
}

#[test]
fn an_id_moved_by_a_line_still_matches_but_an_exact_match_comes_first() {
    let texts = HashMap::from([("a.go".to_string(), "a\nb\nc\nd\ne\nf\ng\n".to_string())]);
    let sent: HashSet<&str> = ["a.go"].into();
    let (at3, at4) = (anchored(3, &texts), anchored(4, &texts));
    assert_ne!(at3.id, at4.id);
    // A re-run anchors the issue suppressed at line 3 on line 4.
    let decided = inputs(vec![suppression(&at3.id, Some("a.go"))], Some(vec![at3.clone()]));
    let (kept, triage) = apply(vec![at4.clone()], &sent, &texts, &decided);
    assert!(kept.is_empty() && triage.stale.is_empty());
    assert_eq!(
        (triage.suppressed[0].id.as_str(), triage.suppressed[0].issue.id.as_str()),
        (at3.id.as_str(), at4.id.as_str())
    );
    assert!(triage.suppressed[0].in_baseline && triage.baseline.unwrap().absent.is_empty());
    // Both found: each keeps its own decision, and the neighbour is not hidden.
    let decided = inputs(vec![suppression(&at3.id, Some("a.go"))], None);
    let (kept, triage) = apply(vec![at3.clone(), at4.clone()], &sent, &texts, &decided);
    assert_eq!((kept, triage.suppressed.len()), (vec![at4], 1));
}
