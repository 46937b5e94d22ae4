//! `report.json`: the contract other tools read.

use anyhow::Result;
use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::analysis::{Analysis, AnswerCut, ProviderTotals, RunError};
use crate::consensus::Issue;
use crate::input::walk::Skipped;
use crate::triage::{BaselineTriage, SuppressedIssue, Suppression};

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    run: JsonRun<'a>,
    issues: Vec<JsonIssue<'a>>,
    errors: &'a [RunError],
    /// Answers used only in part (past the limits on findings or field lengths).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    cut: &'a [AnswerCut],
    skipped: &'a [Skipped],
    /// Issues found again and dismissed in the suppressions file (absent when none).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    suppressed: &'a [SuppressedIssue],
    /// Suppressions whose issue this run no longer found in their file (absent when none).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stale_suppressions: &'a [Suppression],
    /// With `--baseline`: the issues left out as already known, and those gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a BaselineTriage>,
}

/// An issue with its judge's verdict (`judge`, absent when it was not judged).
#[derive(Serialize)]
struct JsonIssue<'a> {
    #[serde(flatten)]
    issue: &'a Issue,
    #[serde(skip_serializing_if = "Option::is_none")]
    judge: Option<&'a crate::judge::Judgement>,
    /// In the judge's `peers` mode: reported or confirmed by `count` of `of`, both counts
    /// kept, and each peer's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    peers: Option<&'a crate::judge::PeerCheck>,
}

#[derive(Serialize)]
struct JsonRun<'a> {
    /// Where the token and cost figures come from: `measured` (servers' reported usage
    /// of this run's requests). Estimates appear only in `--dry-run` output.
    token_figures: &'static str,
    run_id: &'a str,
    root: &'a str,
    started_at: &'a str,
    finished_at: Option<&'a str>,
    files_sent: usize,
    files_reviewed: usize,
    files_skipped: usize,
    /// Why the run stopped before asking everything (absent when it finished).
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped_early: Option<&'a str>,
    /// With `--since`: the reference and the commit compared with (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<&'a crate::input::changes::Since>,
    providers: &'a [ProviderTotals],
    /// The judge pass: its provider and mode, and how many issues it confirmed,
    /// rejected, left uncertain or could not judge (absent without a judge pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    judge: Option<JsonJudge<'a>>,
}

#[derive(Serialize)]
struct JsonJudge<'a> {
    #[serde(flatten)]
    run: &'a crate::judge::JudgeRun,
    #[serde(flatten)]
    counts: &'a crate::judge::Judged,
}

/// `report.json`.
pub fn json(a: &Analysis) -> Result<String> {
    let report = JsonReport {
        schema_version: SCHEMA_VERSION,
        run: JsonRun {
            token_figures: "measured",
            run_id: &a.meta.run_id,
            root: &a.meta.root,
            started_at: &a.meta.started_at,
            finished_at: a.meta.finished_at.as_deref(),
            files_sent: a.meta.files.len(),
            files_reviewed: a.files_reviewed,
            files_skipped: a.meta.skipped.len(),
            stopped_early: a.meta.stopped_early.as_deref(),
            since: a.meta.since.as_ref(),
            providers: &a.providers,
            judge: a.meta.judge.as_ref().map(|run| JsonJudge { run, counts: &a.judge }),
        },
        issues: a
            .issues
            .iter()
            .map(|issue| JsonIssue {
                issue,
                judge: a.judge.of(&issue.id),
                peers: a.judge.peers_of(&issue.id),
            })
            .collect(),
        errors: &a.errors,
        cut: &a.cuts,
        skipped: &a.meta.skipped,
        suppressed: &a.triage.suppressed,
        stale_suppressions: &a.triage.stale,
        baseline: a.triage.baseline.as_ref(),
    };
    Ok(serde_json::to_string_pretty(&report)? + "\n")
}
