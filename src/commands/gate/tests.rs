use super::*;
use crate::analysis::RunError;
use crate::store::{FileMeta, RunMeta};

fn issue(id: &str, severity: &str, agree: usize, source: &str, pre_existing: bool) -> Issue {
    serde_json::from_value(serde_json::json!({
        "id": id, "file": "a.go", "start_line": 3, "end_line": 3, "severity": severity,
        "category": "injection", "cwe": 89, "title": format!("issue {id}"),
        "agreement": {"count": agree, "of": 3, "providers": []}, "score": 0.9, "findings": [],
        "source": source, "pre_existing": pre_existing
    }))
    .unwrap()
}

fn analysis(issues: Vec<Issue>, files_reviewed: usize) -> Analysis {
    Analysis {
        meta: RunMeta {
            schema_version: 1,
            run_id: "r1".into(),
            root: ".".into(),
            started_at: "2026-12-01T00:00:00Z".into(),
            finished_at: None,
            providers: Vec::new(),
            files: vec![FileMeta {
                path: "a.go".into(),
                lines: 10,
                content_hash: "abc".into(),
                changed: None,
            }],
            skipped: Vec::new(),
            config: None,
            shard: None,
            stopped_early: None,
            checks: Vec::new(),
            since: None,
            selection: Vec::new(),
            judge: None,
            seal: None,
        },
        issues,
        errors: Vec::new(),
        cuts: Vec::new(),
        providers: Vec::new(),
        files_reviewed,
        triage: Default::default(),
        judge: Default::default(),
    }
}

fn error(provider: &str) -> RunError {
    RunError {
        provider: provider.into(),
        file: "a.go".into(),
        stage: "request".into(),
        kind: Some("server".into()),
        message: "500".into(),
    }
}

fn gate(severity: &str, min_agree: Option<usize>) -> Gate {
    Gate::new(Some(parse_severity(severity).unwrap()), min_agree).unwrap()
}

#[test]
fn the_gate_fails_on_an_issue_at_the_severity_with_enough_agreement() {
    let a = analysis(
        vec![
            issue("Q1", "critical", 1, "models", false),
            issue("Q2", "high", 2, "models", false),
            issue("Q3", "medium", 3, "models", false),
        ],
        1,
    );
    let ids = |g: Gate| g.failing(&a).iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(gate("high", None)), ["Q1", "Q2"]);
    assert_eq!(ids(gate("high", Some(2))), ["Q2"]);
    assert_eq!(ids(gate("critical", Some(2))), Vec::<String>::new());
    assert_eq!(ids(gate("medium", Some(3))), ["Q3"]);
    let c = conclude(&a, Some(&gate("high", Some(2))), false);
    assert_eq!(c.outcome, Outcome::GateFailed);
    assert_eq!(
        c.lines,
        ["Gate failed: 1 issue at high or above with agreement ≥ 2: Q2"]
    );
    let c = conclude(&a, Some(&gate("critical", Some(2))), false);
    assert_eq!(c.outcome, Outcome::Passed);
    assert_eq!(
        c.lines,
        ["Gate passed: no new issue at critical or above with agreement ≥ 2."]
    );
}

#[test]
fn pre_existing_issues_do_not_count_and_quorums_own_always_do() {
    let a = analysis(
        vec![
            issue("Qold", "critical", 3, "models", true),
            issue("Qsecret", "high", 0, "quorum", false),
        ],
        1,
    );
    let failing = gate("high", Some(3)).failing(&a);
    assert_eq!(failing.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["Qsecret"]);
    let only_old = analysis(vec![issue("Qold", "critical", 3, "models", true)], 1);
    assert_eq!(
        conclude(&only_old, Some(&gate("info", None)), false).outcome,
        Outcome::Passed
    );
}

#[test]
fn without_a_gate_a_complete_run_passes_whatever_it_found() {
    let a = analysis(vec![issue("Q1", "critical", 3, "models", false)], 1);
    let c = conclude(&a, None, false);
    assert_eq!((c.outcome, c.lines.len()), (Outcome::Passed, 0));
}

#[test]
fn nothing_usable_wins_and_an_empty_change_set_is_not_nothing_usable() {
    let a = analysis(vec![issue("Q1", "critical", 0, "quorum", false)], 0);
    assert_eq!(
        conclude(&a, Some(&gate("low", None)), true).outcome,
        Outcome::NothingUsable
    );
    let mut empty = analysis(Vec::new(), 0);
    empty.meta.files.clear();
    assert_eq!(conclude(&empty, None, false).outcome, Outcome::Passed);
}

#[test]
fn an_incomplete_run_is_exit_4_unless_allowed_and_a_failed_gate_wins_over_it() {
    let mut a = analysis(vec![issue("Q1", "high", 1, "models", false)], 1);
    a.errors = vec![error("b"), error("a"), error("b")];
    let c = conclude(&a, None, false);
    assert_eq!(c.outcome, Outcome::Incomplete);
    assert!(
        c.lines[0].contains("3 answers failed or were unusable, from a, b"),
        "{:?}",
        c.lines
    );
    assert_eq!(conclude(&a, None, true).outcome, Outcome::Passed);
    // Both facts are printed; the gate's exit wins.
    let c = conclude(&a, Some(&gate("high", None)), false);
    assert_eq!(c.outcome, Outcome::GateFailed);
    assert!(c.lines[0].starts_with("Gate failed") && c.lines[1].starts_with("Incomplete run"));
    a.errors.clear();
    a.meta.stopped_early = Some("interrupted".into());
    let c = conclude(&a, None, false);
    assert_eq!(c.outcome, Outcome::Incomplete);
    assert!(c.lines[0].contains("stopped early: interrupted"));
}

#[test]
fn fail_on_takes_a_severity_word_only() {
    assert_eq!(parse_severity("critical").unwrap(), Severity::Critical);
    assert_eq!(parse_severity("info").unwrap(), Severity::Info);
    let err = parse_severity("severe").unwrap_err().to_string();
    assert!(
        err.contains("critical, high, medium, low, info") && err.contains("severe"),
        "{err}"
    );
    assert_eq!(Gate::new(None, Some(2)), None);
    assert_eq!(gate("low", Some(0)).min_agree, 1);
}

/// `a` with the judge's `verdicts` (issue id, verdict) and, when `caution`, its caution.
fn judged(mut a: Analysis, verdicts: &[(&str, crate::judge::Verdict)], caution: bool) -> Analysis {
    for (id, verdict) in verdicts {
        a.judge.verdicts.insert(
            id.to_string(),
            crate::judge::Judgement {
                provider: "judge".into(),
                verdict: *verdict,
                reason: "r".into(),
            },
        );
    }
    a.judge.caution = caution.then(|| "Caution: the judge rejected all 3 issues.".into());
    a
}

#[test]
fn the_judges_rejections_keep_at_most_two_issues_out_of_the_gate_and_none_under_caution() {
    use crate::judge::Verdict::{Confirmed, Rejected};
    let issues = || {
        vec![
            issue("Q1", "critical", 2, "models", false),
            issue("Q2", "high", 2, "models", false),
            issue("Q3", "high", 2, "models", false),
            issue("Q4", "low", 2, "models", false),
        ]
    };
    let ids = |a: &Analysis, g: Gate| g.failing(a).iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    // Two rejected of those that reach the gate (the confirmed low one does not): kept out.
    let two = judged(
        analysis(issues(), 1),
        &[("Q1", Rejected), ("Q2", Rejected), ("Q3", Confirmed), ("Q4", Confirmed)],
        false,
    );
    assert_eq!(ids(&two, gate("high", None)), ["Q3"]);
    assert!(conclude(&two, Some(&gate("high", None)), false)
        .lines
        .iter()
        .all(|l| !l.contains("The judge rejected")));
    // Three rejected that reach it, whatever else the judge confirmed: all count.
    let three = judged(
        analysis(issues(), 1),
        &[("Q1", Rejected), ("Q2", Rejected), ("Q3", Rejected), ("Q4", Confirmed)],
        false,
    );
    assert_eq!(ids(&three, gate("high", None)), ["Q1", "Q2", "Q3"]);
    let c = conclude(&three, Some(&gate("high", None)), false);
    assert_eq!(c.outcome, Outcome::GateFailed);
    assert!(
        c.lines[0].starts_with("The judge rejected 3 issues that reach the gate: its rejections keep at most 2"),
        "{:?}",
        c.lines
    );
    // A judge under caution keeps even one out no more.
    let one = judged(analysis(issues(), 1), &[("Q1", Rejected)], true);
    assert_eq!(ids(&one, gate("critical", None)), ["Q1"]);
    let c = conclude(&one, Some(&gate("critical", None)), false);
    assert!(
        c.lines[0]
            .starts_with("The judge is under caution (it rejected every issue it gave a verdict on): the 1 rejected"),
        "{:?}",
        c.lines
    );
}
