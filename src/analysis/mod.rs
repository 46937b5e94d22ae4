//! From the run store to ranked issues: parse, normalize, cluster, rank, and count.
//!
//! `quorum review` and `quorum aggregate` both end here, from the same files on disk,
//! so a report rebuilt later is exactly the report the run printed. Everything that went
//! wrong on the way (failed requests, truncated or unparsable answers, findings about
//! files never sent) is counted per provider and listed, never silently lost.
//!
//! `answer` judges each record, and is the one file here that names a type of the
//! providers crate (a record's finish reason); `tally` adds the records up; `parts`
//! handles files reviewed in parts. What `analyze` returns holds the crate's own types
//! and strings, so the reports built from it depend on no provider.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::checks;
use crate::consensus::{self, Issue, Settings};
use crate::normalize::parse::Cut;
use crate::store::{LineRange, ResponseRecord, RunMeta};

mod answer;
mod changed;
pub mod compare;
mod parts;
mod places;
mod tally;

pub(crate) use answer::usable_text;
use answer::{latest_per_job, missing_jobs};
use parts::merge_part_overlaps;
use tally::Tally;

pub use changed::CHANGE_MARGIN_LINES;

/// Something that kept a provider from reviewing a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunError {
    pub provider: String,
    pub file: String,
    /// `request` (the call failed), `truncated`, `filtered` or `parse`.
    pub stage: String,
    /// For request failures, the error kind (`rate_limited`, `timeout`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub message: String,
}

/// The most characters of an error message kept: messages quote servers and stored
/// records, which are untrusted and may be any length.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// An answer that went past the limits on findings or field lengths: its first findings
/// were used, shortened; the rest is counted here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerCut {
    pub provider: String,
    pub file: String,
    /// The part of the file the answer covered; absent for the whole file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk: Option<LineRange>,
    pub cut: Cut,
}

/// Per-provider totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderTotals {
    pub name: String,
    pub model: String,
    pub family: String,
    /// Files answered (successfully or not).
    pub requests: usize,
    /// Requests that failed after every retry.
    pub failures: usize,
    /// Answers that could not be used (truncated, filtered, no JSON).
    pub unusable_answers: usize,
    pub findings: usize,
    /// Findings about a file other than the one sent (dropped).
    pub dropped_findings: usize,
    /// Lines of findings that fell outside the file and were clamped.
    pub clamped_findings: usize,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Median request latency, in milliseconds.
    pub median_latency_ms: u64,
    /// 95th-percentile request latency (nearest rank), in milliseconds.
    #[serde(default)]
    pub p95_latency_ms: u64,
    /// US dollars, from the server's token counts and the configured prices; `None`
    /// when no price is configured.
    pub cost_usd: Option<f64>,
    /// Answers taken from the cache: they cost nothing this run, and their tokens are
    /// not counted above.
    #[serde(default)]
    pub cached_answers: usize,
    /// Answers whose server reported no token usage: the token and cost figures above
    /// leave them out, so they are a lower bound when this is not 0.
    #[serde(default)]
    pub answers_without_usage: usize,
    /// Findings left unread because their answer listed more than the limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cut_findings: usize,
    /// Text fields of findings shortened to their limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cut_fields: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Everything the reports show.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub meta: RunMeta,
    pub issues: Vec<Issue>,
    pub errors: Vec<RunError>,
    /// Answers used only in part (past the limits), in provider and file order.
    pub cuts: Vec<AnswerCut>,
    pub providers: Vec<ProviderTotals>,
    /// Files with at least one usable answer.
    pub files_reviewed: usize,
    /// The issues taken out of `issues` as already decided (suppressed, or in the
    /// baseline): `issues` is what reports list and a gate counts.
    pub triage: crate::triage::Triage,
    /// The judge pass's verdicts and counts (empty without one).
    pub judge: crate::judge::Judged,
}

impl Analysis {
    /// The issues a change brought (every issue outside a `--since` review): what the
    /// gate (`--fail-on`, issue 8) counts.
    pub fn new_issues(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.is_new())
    }

    /// The issues outside a `--since` review's changed lines, reported apart.
    pub fn pre_existing_issues(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.pre_existing)
    }
}

/// Turns a run's records into ranked issues and totals.
pub fn analyze(
    meta: RunMeta,
    records: Vec<ResponseRecord>,
    texts: &HashMap<String, String>,
    settings: &Settings,
) -> Analysis {
    let mut tally = Tally::new(&meta);
    let (current, stale) = split_stale(records, &meta);
    // A judge's verdict is no review of its file: it is read after consensus.
    let (current, judge_records): (Vec<ResponseRecord>, Vec<ResponseRecord>) =
        current.into_iter().partition(|r| r.kind.is_review());
    let stale: Vec<ResponseRecord> = stale.into_iter().filter(|r| r.kind.is_review()).collect();
    for record in &stale {
        tally.add_stale(record);
    }
    for record in latest_per_job(current) {
        tally.add(record);
    }
    tally.finish_totals(&meta);
    let Tally {
        totals,
        findings,
        mut errors,
        cuts,
        reviewed,
        outcomes,
        answered_jobs,
        ..
    } = tally;
    errors.extend(missing_jobs(&meta, &answered_jobs));
    errors.sort_by(|a, b| (&a.provider, &a.file).cmp(&(&b.provider, &b.file)));
    let files_reviewed = reviewed.len();
    let findings = merge_part_overlaps(findings);
    // Quorum's own issues are certain and high severity: they come first.
    let mut issues = checks::issues(&meta.checks, &outcomes, texts);
    let places = places::places(&findings, texts);
    issues.extend(consensus::build_issues_at(findings, &places, &reviewed, texts, settings).issues);
    changed::mark_pre_existing(&mut issues, &meta.files);
    let reviewers = meta.providers.iter().map(|p| p.name.clone()).collect();
    // The judge's requests are no review, but they are spent: priced apart.
    let judge_spend = meta
        .judge
        .as_ref()
        .map(|run| crate::judge::spend(&judge_records, run, &meta.providers))
        .unwrap_or_default();
    let mut judge = crate::judge::judge_issues(&mut issues, judge_records, meta.judge.as_ref(), &reviewers);
    judge.usage = judge_spend;
    Analysis {
        meta,
        issues,
        errors,
        cuts,
        providers: totals,
        files_reviewed,
        triage: crate::triage::Triage::default(),
        judge,
    }
}

/// The records about the files as they are now, and those about an earlier version of
/// a file (a run resumed after an edit), which are not about this one.
fn split_stale(records: Vec<ResponseRecord>, meta: &RunMeta) -> (Vec<ResponseRecord>, Vec<ResponseRecord>) {
    let hashes: HashMap<&str, &str> = meta
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.content_hash.as_str()))
        .collect();
    records.into_iter().partition(|r| {
        r.content_hash
            .as_deref()
            .is_none_or(|h| hashes.get(r.file.as_str()).is_none_or(|now| *now == h))
    })
}

/// Dollars for the tokens at the given per-million prices; `None` without any price.
pub fn cost(input_tokens: u64, output_tokens: u64, input_price: Option<f64>, output_price: Option<f64>) -> Option<f64> {
    if input_price.is_none() && output_price.is_none() {
        return None;
    }
    let dollars = input_tokens as f64 * input_price.unwrap_or(0.0) / 1e6
        + output_tokens as f64 * output_price.unwrap_or(0.0) / 1e6;
    Some((dollars * 1e6).round() / 1e6)
}

#[cfg(test)]
mod stale_tests {
    use super::*;

    #[test]
    fn an_answer_about_an_earlier_version_of_a_file_is_not_counted() {
        let meta: RunMeta = serde_json::from_value(serde_json::json!({
            "schema_version": 1, "run_id": "r", "root": "/x", "started_at": "t",
            "providers": [{"name": "a", "kind": "openai", "model": "m", "family": "a"}],
            "files": [{"path": "x.go", "lines": 10, "content_hash": "new"}],
            "skipped": []
        }))
        .unwrap();
        let answer = |hash: &str, line: u32| -> ResponseRecord {
            let finding = format!(
                "{{\"findings\":[{{\"start_line\":{line},\"title\":\"SQL injection\",\"severity\":\"high\",\"cwe\":89}}]}}"
            );
            serde_json::from_value(serde_json::json!({
                "provider": "a", "model": "m", "file": "x.go", "content_hash": hash,
                "status": "ok", "text": finding, "finish_reason": "stop"
            }))
            .unwrap()
        };
        let a = analyze(
            meta.clone(),
            vec![answer("old", 2)],
            &HashMap::new(),
            &Settings::default(),
        );
        assert!(a.issues.is_empty(), "the old version's answer is ignored");
        assert_eq!(a.errors[0].stage, "missing", "and the job shows as not yet asked");
        let a = analyze(
            meta,
            vec![answer("old", 2), answer("new", 7)],
            &HashMap::new(),
            &Settings::default(),
        );
        assert_eq!(a.issues.len(), 1);
        assert_eq!(a.issues[0].start_line, Some(7));
    }
}
