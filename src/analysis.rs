//! From the run store to ranked issues: parse, normalize, cluster, rank, and count.
//!
//! `quorum review` and `quorum aggregate` both end here, from the same files on disk,
//! so a report rebuilt later is exactly the report the run printed. Everything that went
//! wrong on the way (failed requests, truncated or unparsable answers, findings about
//! files never sent) is counted per provider and listed, never silently lost.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use providers::FinishReason;
use serde::{Deserialize, Serialize};

use crate::consensus::{self, Issue, Settings};
use crate::finding;
use crate::parse::parse_findings;
use crate::store::{ResponseRecord, RunMeta, Status};

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
}

/// Everything the reports show.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub meta: RunMeta,
    pub issues: Vec<Issue>,
    pub errors: Vec<RunError>,
    pub providers: Vec<ProviderTotals>,
    /// Files with at least one usable answer.
    pub files_reviewed: usize,
}

/// Turns a run's records into ranked issues and totals.
pub fn analyze(
    meta: RunMeta,
    records: Vec<ResponseRecord>,
    texts: &HashMap<String, String>,
    settings: &Settings,
) -> Analysis {
    let lines: HashMap<&str, u32> = meta.files.iter().map(|f| (f.path.as_str(), f.lines)).collect();
    let mut totals: Vec<ProviderTotals> = meta
        .providers
        .iter()
        .map(|p| ProviderTotals {
            name: p.name.clone(),
            model: p.model.clone(),
            family: p.family.clone(),
            ..Default::default()
        })
        .collect();
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); totals.len()];
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    let mut reviewed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();

    let mut answered_jobs: BTreeSet<(String, String)> = BTreeSet::new();
    for record in latest_per_job(records) {
        let Some(index) = totals.iter().position(|t| t.name == record.provider) else {
            continue;
        };
        answered_jobs.insert((record.provider.clone(), record.file.clone()));
        let Some(&line_count) = lines.get(record.file.as_str()) else {
            continue;
        };
        let t = &mut totals[index];
        t.requests += 1;
        t.input_tokens += record.usage.input_tokens.unwrap_or(0);
        t.output_tokens += record.usage.output_tokens.unwrap_or(0);
        if record.cached {
            t.cached_answers += 1;
        } else if record.status != Status::Skipped
            && record.usage.input_tokens.is_none()
            && record.usage.output_tokens.is_none()
            && record.attempts > 0
        {
            t.answers_without_usage += 1;
        }
        if record.status == Status::Split {
            // Replaced by its parts (recorded separately); only its tokens count here.
            t.requests -= 1;
            continue;
        }
        latencies[index].push(record.latency_ms);
        match usable_answer(&record) {
            Err(error) => {
                if error.stage == "request" || error.stage == "skipped" {
                    t.failures += 1;
                } else {
                    t.unusable_answers += 1;
                }
                errors.push(error);
            }
            Ok(parsed) => {
                reviewed
                    .entry(record.file.clone())
                    .or_default()
                    .insert(t.family.clone());
                let ctx = finding::Context {
                    provider: &t.name,
                    model: &t.model,
                    family: &t.family,
                    file: &record.file,
                    line_count,
                };
                for raw in &parsed.findings {
                    match finding::normalize(raw, ctx) {
                        Ok(f) => {
                            t.findings += 1;
                            t.clamped_findings += usize::from(f.lines_clamped);
                            findings.push(f);
                        }
                        Err(finding::Dropped::NotAFinding) => {}
                        Err(finding::Dropped::ForeignFile(_)) => t.dropped_findings += 1,
                    }
                }
            }
        }
    }
    for ((t, mut l), p) in totals.iter_mut().zip(latencies).zip(&meta.providers) {
        l.sort_unstable();
        t.median_latency_ms = l.get(l.len().saturating_sub(1) / 2).copied().unwrap_or(0);
        t.cost_usd = cost(
            t.input_tokens,
            t.output_tokens,
            p.price_input_per_mtok,
            p.price_output_per_mtok,
        );
    }
    errors.extend(missing_jobs(&meta, &answered_jobs));
    errors.sort_by(|a, b| (&a.provider, &a.file).cmp(&(&b.provider, &b.file)));
    let files_reviewed = reviewed.len();
    let issues = consensus::build_issues(findings, &reviewed, texts, settings);
    Analysis {
        meta,
        issues,
        errors,
        providers: totals,
        files_reviewed,
    }
}

/// A job with no record at all: the run stopped before asking it.
fn missing_jobs(meta: &RunMeta, answered: &BTreeSet<(String, String)>) -> Vec<RunError> {
    let mut missing = Vec::new();
    for p in &meta.providers {
        for f in &meta.files {
            if !answered.contains(&(p.name.clone(), f.path.clone())) {
                missing.push(RunError {
                    provider: p.name.clone(),
                    file: f.path.clone(),
                    stage: "missing".to_string(),
                    kind: None,
                    message: "never asked: the run stopped first; `quorum review --resume` asks it".to_string(),
                });
            }
        }
    }
    missing
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

/// The last record of each (provider, file, part): a later answer supersedes an earlier
/// one (a resumed run's answer replaces the failure before it).
fn latest_per_job(records: Vec<ResponseRecord>) -> Vec<ResponseRecord> {
    type JobId = (String, String, Option<crate::store::LineRange>);
    let mut latest: BTreeMap<JobId, ResponseRecord> = BTreeMap::new();
    for record in records {
        latest.insert((record.provider.clone(), record.file.clone(), record.chunk), record);
    }
    latest.into_values().collect()
}

/// The findings of a usable answer, or why the answer cannot be used.
fn usable_answer(record: &ResponseRecord) -> Result<crate::parse::Parsed, RunError> {
    let error = |stage: &str, kind: Option<String>, message: String| RunError {
        provider: record.provider.clone(),
        file: record.file.clone(),
        stage: stage.to_string(),
        kind,
        message,
    };
    if record.status != Status::Ok {
        let stage = if record.status == Status::Skipped {
            "skipped"
        } else {
            "request"
        };
        let (kind, message) = match &record.error {
            Some(e) => (
                serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from)),
                e.message.clone(),
            ),
            None => (None, "the request failed".to_string()),
        };
        return Err(error(stage, kind, message));
    }
    match record.finish_reason {
        Some(FinishReason::Length) => return Err(error(
            "truncated",
            None,
            "the answer was cut off at max_output_tokens, so its findings may be incomplete; raise max_output_tokens"
                .into(),
        )),
        Some(FinishReason::Filtered) => {
            return Err(error(
                "filtered",
                None,
                "the provider's safety filter withheld the answer".into(),
            ))
        }
        _ => {}
    }
    if let Some(served) = &record.served_model {
        return Err(error(
            "wrong-model",
            None,
            format!(
                "the server answered with {served} instead of {} (LM Studio serves whatever model is loaded); \
                 not counted, so one model cannot vote twice",
                record.model
            ),
        ));
    }
    let parsed =
        parse_findings(record.text.as_deref().unwrap_or("")).map_err(|e| error("parse", None, e.to_string()))?;
    if parsed.findings.is_empty() && parsed.skipped > 0 {
        return Err(error(
            "parse",
            None,
            format!(
                "none of the answer's {} findings could be read (not objects, or empty)",
                parsed.skipped
            ),
        ));
    }
    Ok(parsed)
}
