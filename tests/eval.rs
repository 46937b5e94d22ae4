//! `quorum eval` on the offline demo: the recorded answers of four models on
//! `examples/vulnerable-app`, scored against its `truth.toml` per model and for the
//! consensus at each agreement threshold. The expected numbers follow from
//! `examples/demo/README.md`: 8 planted vulnerabilities; claude finds 7 with one false
//! positive, gpt-mini 5 with 3, gemma 5 with 3, nemotron 4 with 2; at two agreeing
//! models the consensus holds all 8 and the one decoy two models share.

mod support;

use quorum::consensus::Settings;
use quorum::eval::{self, Scores};
use support::fixture::{demo_review, repo_root};

/// Runs the demo review into a fresh folder and evaluates it.
fn demo_eval() -> eval::EvalReport {
    let out = tempfile::tempdir().expect("a temporary folder");
    support::ok(&demo_review(out.path(), &["--quiet"]));
    let truth = repo_root().join("examples/vulnerable-app/truth.toml");
    eval::run_eval(out.path(), &truth, &Settings::default()).expect("the demo run evaluates")
}

fn counts(s: &Scores) -> (usize, usize, usize) {
    (s.true_positives, s.false_positives, s.false_negatives)
}

#[test]
fn demo_scores_per_model_and_per_agreement_threshold() {
    let report = demo_eval();
    println!("{}", report.table());
    assert_eq!(report.truth_entries, 8);
    let model = |name: &str| {
        report
            .models
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no row for {name}: {report:?}"))
    };
    assert_eq!(counts(model("claude")), (7, 1, 1));
    assert_eq!(counts(model("gpt-mini")), (5, 3, 3));
    assert_eq!(counts(model("gemma")), (5, 3, 3));
    assert_eq!(counts(model("nemotron")), (4, 2, 4));
    let at = |k: usize| &report.consensus[k - 1];
    assert_eq!(report.consensus.len(), 4);
    assert_eq!(counts(at(1)), (8, 8, 0), "every issue: {:?}", at(1));
    assert_eq!(counts(at(2)), (8, 1, 0), "two or more models: {:?}", at(2));
    assert!((at(2).precision - 8.0 / 9.0).abs() < 1e-9 && at(2).recall == 1.0);
    assert_eq!(counts(at(3)), (4, 0, 4), "the four found by three or more: {:?}", at(3));
    assert_eq!(
        counts(at(4)),
        (1, 0, 7),
        "only the SQL injection has all four: {:?}",
        at(4)
    );
}

#[test]
fn the_table_has_a_row_per_model_and_threshold() {
    let table = demo_eval().table();
    for row in [
        "claude",
        "gpt-mini",
        "gemma",
        "nemotron",
        "consensus >= 1",
        "consensus >= 4",
    ] {
        assert!(table.contains(row), "{row} missing from:\n{table}");
    }
}
