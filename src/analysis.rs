//! From the run store to ranked issues: parse, normalize, cluster, rank, and count.
//!
//! `quorum review` and `quorum aggregate` both end here, from the same files on disk,
//! so a report rebuilt later is exactly the report the run printed. Everything that went
//! wrong on the way (failed requests, truncated or unparsable answers, findings about
//! files never sent) is counted per provider and listed, never silently lost.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use providers::FinishReason;
use serde::{Deserialize, Serialize};

use crate::checks::{self, FileOutcome};
use crate::consensus::{self, Issue, Settings};
use crate::normalize::finding::{self, Finding};
use crate::normalize::parse::{parse_findings, Cut};
use crate::store::{LineRange, ResponseRecord, RunMeta, Status};

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
    let mut cuts = Vec::new();
    let mut reviewed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Who answered about each file, and who found something in it, for Quorum's own issues.
    let mut outcomes: BTreeMap<String, FileOutcome> = BTreeMap::new();

    let mut answered_jobs: BTreeSet<(String, String)> = BTreeSet::new();
    let hashes: HashMap<&str, &str> = meta
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.content_hash.as_str()))
        .collect();
    // An answer about an earlier version of a file (a run resumed after an edit) is not
    // about this one.
    // Their tokens were still spent, so they count in the totals.
    let (current, stale): (Vec<ResponseRecord>, Vec<ResponseRecord>) = records.into_iter().partition(|r| {
        r.content_hash
            .as_deref()
            .is_none_or(|h| hashes.get(r.file.as_str()).is_none_or(|now| *now == h))
    });
    for record in &stale {
        if let Some(t) = totals.iter_mut().find(|t| t.name == record.provider) {
            t.input_tokens += record.usage.input_tokens.unwrap_or(0);
            t.output_tokens += record.usage.output_tokens.unwrap_or(0);
        }
    }
    for record in latest_per_job(current) {
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
                if !parsed.cut.is_empty() {
                    t.cut_findings += parsed.cut.findings;
                    t.cut_fields += parsed.cut.fields;
                    cuts.push(AnswerCut {
                        provider: record.provider.clone(),
                        file: record.file.clone(),
                        chunk: record.chunk,
                        cut: parsed.cut,
                    });
                }
                reviewed
                    .entry(record.file.clone())
                    .or_default()
                    .insert(t.family.clone());
                let outcome = outcomes.entry(record.file.clone()).or_default();
                outcome.families.insert(t.family.clone());
                outcome.answered.insert(t.name.clone());
                let ctx = finding::Context {
                    provider: &t.name,
                    model: &t.model,
                    family: &t.family,
                    file: &record.file,
                    line_count,
                };
                for raw in &parsed.findings {
                    match finding::normalize(raw, ctx) {
                        Ok(mut f) => {
                            if let Some(part) = record.chunk {
                                keep_inside_part(&mut f, part);
                            }
                            t.findings += 1;
                            t.clamped_findings += usize::from(f.lines_clamped);
                            outcomes
                                .entry(f.file.clone())
                                .or_default()
                                .reported
                                .insert(t.name.clone());
                            findings.push((record.chunk, f));
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
    let findings = merge_part_overlaps(findings);
    // Quorum's own issues are certain and high severity: they come first.
    let mut issues = checks::issues(&meta.checks, &outcomes, texts);
    issues.extend(consensus::build_issues(findings, &reviewed, texts, settings));
    Analysis {
        meta,
        issues,
        errors,
        cuts,
        providers: totals,
        files_reviewed,
    }
}

/// Lines a finding may lie outside the part it was found in before it is brought inside.
const PART_TOLERANCE: u32 = 3;

/// Lines a model gave outside the part it was sent (it counted from 1, say) are put at
/// the nearest line of the part and flagged.
fn keep_inside_part(f: &mut Finding, part: LineRange) {
    let (Some(start), Some(end)) = (f.start_line, f.end_line) else {
        return;
    };
    let lo = part.start_line.saturating_sub(PART_TOLERANCE);
    let hi = part.end_line + PART_TOLERANCE;
    if start < lo || end > hi {
        f.start_line = Some(start.clamp(part.start_line, part.end_line));
        f.end_line = Some(end.clamp(part.start_line, part.end_line));
        f.lines_clamped = true;
    }
}

/// One model reviewing two overlapping parts of a file may report one problem twice, in
/// different words. Such pairs (same provider, same file, different parts, overlapping
/// lines, same kind of weakness) keep the first. Findings within one part are left to
/// clustering, which never merges a model's two different findings.
fn merge_part_overlaps(findings: Vec<(Option<LineRange>, Finding)>) -> Vec<Finding> {
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    // Parts' findings kept so far, by (provider, file) and part: only those can be
    // duplicates, and only those of parts near the finding's lines, so a file split in
    // many parts is not compared finding by finding across all of them.
    let mut by_job: HashMap<(String, String), Vec<PartFindings>> = HashMap::new();
    for (part, f) in findings {
        let Some(part) = part else {
            kept.push(f);
            continue;
        };
        let parts = by_job.entry((f.provider.clone(), f.file.clone())).or_default();
        let duplicate = parts
            .iter()
            .filter(|other| other.part != part && may_hold_overlap(other.part, &f))
            .flat_map(|other| &other.kept)
            .any(|&i| same_kind(&kept[i], &f) && lines_overlap(&kept[i], &f));
        if !duplicate {
            match parts.iter_mut().find(|p| p.part == part) {
                Some(p) => p.kept.push(kept.len()),
                None => parts.push(PartFindings {
                    part,
                    kept: vec![kept.len()],
                }),
            }
            kept.push(f);
        }
    }
    kept
}

/// The findings kept so far from one part of a file (positions in the kept list).
struct PartFindings {
    part: LineRange,
    kept: Vec<usize>,
}

/// Whether a finding of `part` can overlap `f`'s lines: a part's findings lie within
/// [`PART_TOLERANCE`] lines of it (see [`keep_inside_part`]).
fn may_hold_overlap(part: LineRange, f: &Finding) -> bool {
    let (Some(start), Some(end)) = (f.start_line, f.end_line) else {
        return false;
    };
    let lo = part.start_line.saturating_sub(PART_TOLERANCE);
    let hi = part.end_line.saturating_add(PART_TOLERANCE);
    lo <= end.saturating_add(1) && start <= hi.saturating_add(1)
}

fn same_kind(a: &Finding, b: &Finding) -> bool {
    match (a.cwe, b.cwe) {
        (Some(x), Some(y)) => x == y,
        _ => a.category == b.category,
    }
}

fn lines_overlap(a: &Finding, b: &Finding) -> bool {
    match (a.start_line.zip(a.end_line), b.start_line.zip(b.end_line)) {
        (Some((a0, a1)), Some((b0, b1))) => a0 <= b1 + 1 && b0 <= a1 + 1,
        _ => false,
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
fn usable_answer(record: &ResponseRecord) -> Result<crate::normalize::parse::Parsed, RunError> {
    let error = |stage: &str, kind: Option<String>, message: String| RunError {
        provider: record.provider.clone(),
        file: record.file.clone(),
        stage: stage.to_string(),
        kind,
        message: finding::shortened(&message, MAX_MESSAGE_CHARS),
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
    parse_findings(record.text.as_deref().unwrap_or("")).map_err(|e| error("parse", None, e.to_string()))
}

#[cfg(test)]
mod part_tests {
    use super::*;
    use crate::normalize::finding::{Category, Severity};

    fn finding(provider: &str, line: u32, cwe: u32, title: &str) -> Finding {
        Finding {
            provider: provider.into(),
            model: provider.into(),
            family: provider.into(),
            file: "big.go".into(),
            start_line: Some(line),
            end_line: Some(line),
            lines_clamped: false,
            function: None,
            severity: Severity::High,
            category: Category::from_cwe(cwe).unwrap_or(Category::Other),
            cwe: Some(cwe),
            title: title.into(),
            description: title.into(),
            suggestion: None,
            confidence: None,
        }
    }

    fn part(start_line: u32, end_line: u32) -> Option<LineRange> {
        Some(LineRange { start_line, end_line })
    }

    #[test]
    fn one_models_finding_in_an_overlap_counts_once() {
        let merged = merge_part_overlaps(vec![
            (part(1, 58), finding("a", 56, 89, "SQL injection in search")),
            (part(54, 110), finding("a", 56, 89, "Unsanitized parameter in query")),
            (part(54, 110), finding("b", 56, 89, "SQL injection")),
            (part(54, 110), finding("a", 57, 79, "Reflected XSS")),
        ]);
        let titles: Vec<&str> = merged.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(titles, ["SQL injection in search", "SQL injection", "Reflected XSS"]);
    }

    #[test]
    fn lines_outside_the_part_are_brought_inside_and_flagged() {
        let mut f = finding("a", 5, 89, "counted from 1");
        keep_inside_part(
            &mut f,
            LineRange {
                start_line: 54,
                end_line: 110,
            },
        );
        assert_eq!((f.start_line, f.lines_clamped), (Some(54), true));
        let mut g = finding("a", 111, 89, "just past the end");
        keep_inside_part(
            &mut g,
            LineRange {
                start_line: 54,
                end_line: 110,
            },
        );
        assert_eq!((g.start_line, g.lines_clamped), (Some(111), false), "within tolerance");
    }
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
