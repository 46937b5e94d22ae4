//! The records added up one at a time: per-provider totals, the errors, the cut answers,
//! who reviewed each file, and the findings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::answer::usable_answer;
use super::parts::keep_inside_part;
use super::{cost, AnswerCut, ProviderTotals, RunError};
use crate::checks::FileOutcome;
use crate::normalize::finding::{self, Finding};
use crate::normalize::parse::Parsed;
use crate::store::{LineRange, ResponseRecord, RunMeta, Status};

/// What a run's records add up to so far.
pub(super) struct Tally<'a> {
    /// Lines of each file sent.
    lines: HashMap<&'a str, u32>,
    pub(super) totals: Vec<ProviderTotals>,
    /// Each provider's request latencies, in milliseconds.
    latencies: Vec<Vec<u64>>,
    /// Every finding kept, with the part of its file it was found in.
    pub(super) findings: Vec<(Option<LineRange>, Finding)>,
    pub(super) errors: Vec<RunError>,
    pub(super) cuts: Vec<AnswerCut>,
    /// The families that reviewed each file successfully.
    pub(super) reviewed: BTreeMap<String, BTreeSet<String>>,
    /// Who answered about each file, and who found something in it, for Quorum's own
    /// issues.
    pub(super) outcomes: BTreeMap<String, FileOutcome>,
    /// The (provider, file) jobs with a record.
    pub(super) answered_jobs: BTreeSet<(String, String)>,
}

impl<'a> Tally<'a> {
    pub(super) fn new(meta: &'a RunMeta) -> Tally<'a> {
        let totals: Vec<ProviderTotals> = meta
            .providers
            .iter()
            .map(|p| ProviderTotals {
                name: p.name.clone(),
                model: p.model.clone(),
                family: p.family.clone(),
                ..Default::default()
            })
            .collect();
        Tally {
            lines: meta.files.iter().map(|f| (f.path.as_str(), f.lines)).collect(),
            latencies: vec![Vec::new(); totals.len()],
            totals,
            findings: Vec::new(),
            errors: Vec::new(),
            cuts: Vec::new(),
            reviewed: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            answered_jobs: BTreeSet::new(),
        }
    }

    /// An answer about an earlier version of a file: its tokens were spent, nothing else
    /// counts.
    pub(super) fn add_stale(&mut self, record: &ResponseRecord) {
        if let Some(t) = self.totals.iter_mut().find(|t| t.name == record.provider) {
            t.input_tokens += record.usage.input_tokens.unwrap_or(0);
            t.output_tokens += record.usage.output_tokens.unwrap_or(0);
        }
    }

    /// The latest record of one job.
    pub(super) fn add(&mut self, record: ResponseRecord) {
        let Some(index) = self.totals.iter().position(|t| t.name == record.provider) else {
            return;
        };
        self.answered_jobs
            .insert((record.provider.clone(), record.file.clone()));
        let Some(&line_count) = self.lines.get(record.file.as_str()) else {
            return;
        };
        let t = &mut self.totals[index];
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
            return;
        }
        self.latencies[index].push(record.latency_ms);
        match usable_answer(&record) {
            Err(error) => {
                if error.stage == "request" || error.stage == "skipped" {
                    t.failures += 1;
                } else {
                    t.unusable_answers += 1;
                }
                self.errors.push(error);
            }
            Ok(parsed) => self.add_answer(index, &record, parsed, line_count),
        }
    }

    /// A usable answer: its cut, who reviewed the file, and its findings.
    fn add_answer(&mut self, index: usize, record: &ResponseRecord, parsed: Parsed, line_count: u32) {
        let t = &mut self.totals[index];
        if !parsed.cut.is_empty() {
            t.cut_findings += parsed.cut.findings;
            t.cut_fields += parsed.cut.fields;
            self.cuts.push(AnswerCut {
                provider: record.provider.clone(),
                file: record.file.clone(),
                chunk: record.chunk,
                cut: parsed.cut,
            });
        }
        self.reviewed
            .entry(record.file.clone())
            .or_default()
            .insert(t.family.clone());
        let outcome = self.outcomes.entry(record.file.clone()).or_default();
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
                    self.outcomes
                        .entry(f.file.clone())
                        .or_default()
                        .reported
                        .insert(t.name.clone());
                    self.findings.push((record.chunk, f));
                }
                Err(finding::Dropped::NotAFinding) => {}
                Err(finding::Dropped::ForeignFile(_)) => t.dropped_findings += 1,
            }
        }
    }

    /// Each provider's median and p95 latency and cost, once every record is in.
    pub(super) fn finish_totals(&mut self, meta: &RunMeta) {
        let latencies = std::mem::take(&mut self.latencies);
        for ((t, mut l), p) in self.totals.iter_mut().zip(latencies).zip(&meta.providers) {
            l.sort_unstable();
            t.median_latency_ms = l.get(l.len().saturating_sub(1) / 2).copied().unwrap_or(0);
            t.p95_latency_ms = super::compare::p95(&l);
            t.cost_usd = cost(
                t.input_tokens,
                t.output_tokens,
                p.price_input_per_mtok,
                p.price_output_per_mtok,
            );
        }
    }
}
