//! Per job: already answered in this run's store, answered from the cache, replaced by
//! its parts, or to be sent; and, once sent, its record stored and cached.

use std::collections::HashMap;

use anyhow::Result;
use providers::{FinishReason, Usage};

use crate::config::{ProviderConfig, ProviderKind};
use crate::engine::cache::Cache;
use crate::engine::plan;
use crate::engine::{Job, Progress, Reviewer, Summary};
use crate::input::walk::SourceFile;
use crate::store::{LineRange, RecordKind, ResponseRecord, Status, StoreWriter};

/// Decides, for each job, whether it is already answered, answered from the cache,
/// replaced by its parts, or to be sent; and records what comes back.
pub(super) struct Dispatch<'a, 'c> {
    pub(super) files: &'a [SourceFile],
    pub(super) reviewers: &'a [Reviewer],
    pub(super) store: &'a mut StoreWriter,
    pub(super) cache: Option<&'c mut Cache>,
    pub(super) prior: &'a HashMap<String, ResponseRecord>,
    pub(super) summary: Summary,
    /// Jobs to send.
    pub(super) ready: Vec<Job>,
}

impl Dispatch<'_, '_> {
    pub(super) fn route(&mut self, job: Job, progress: &mut dyn Progress) -> Result<()> {
        if let Some(known) = self.prior.get(&job.key) {
            match known.status {
                // Already in this run's store: nothing to do (see `answered`).
                Status::Ok => return Ok(()),
                Status::Split => return self.expand(&job, known.split_into.as_deref(), progress),
                _ => {}
            }
        }
        let cacheable = self.reviewers[job.reviewer].config.kind != ProviderKind::Replay;
        let cached = self
            .cache
            .as_deref()
            .filter(|_| cacheable)
            .and_then(|c| c.get(&job.key))
            .cloned();
        match cached {
            Some(answer) => {
                let record = cached_record(
                    &answer,
                    &self.files[job.file],
                    &self.reviewers[job.reviewer].config,
                    &job,
                );
                self.store.append(&record)?;
                progress.done(&record);
                if record.status == Status::Split {
                    self.summary.split += 1;
                    self.expand(&job, record.split_into.as_deref(), progress)
                } else {
                    self.summary.cached += 1;
                    Ok(())
                }
            }
            None => {
                self.ready.push(job);
                Ok(())
            }
        }
    }

    /// Routes the parts that replace `job`. Progress counts only the parts still to ask:
    /// a part a resumed run already has an answer for is never done again.
    fn expand(&mut self, job: &Job, parts: Option<&[LineRange]>, progress: &mut dyn Progress) -> Result<()> {
        let parts = parts_of(self.files, self.reviewers, job, parts);
        let to_ask = parts.iter().filter(|part| !answered(self.prior, part)).count();
        progress.grew(&self.reviewers[job.reviewer].config.name, to_ask);
        for part in parts {
            self.route(part, progress)?;
        }
        Ok(())
    }

    /// Stores a finished job's record, caches it if reusable, and follows a split.
    pub(super) fn finished(
        &mut self,
        job: &Job,
        record: ResponseRecord,
        parsed: Option<bool>,
        progress: &mut dyn Progress,
    ) -> Result<()> {
        self.store.append(&record)?;
        let cacheable = self.reviewers[job.reviewer].config.kind != ProviderKind::Replay;
        if let (Some(cache), true) = (
            self.cache.as_deref_mut(),
            cacheable && is_reusable(job, &record, parsed),
        ) {
            if let Err(err) = cache.put(&job.key, &record) {
                progress.note(&format!("the answer cache is off for the rest of this run: {err:#}"));
                self.cache = None;
            }
        }
        progress.done(&record);
        match record.status {
            // An answer from another model is discarded (the report lists it as an
            // error): it is not counted as answered.
            Status::Ok if record.served_model.is_some() => self.summary.failed += 1,
            Status::Ok => self.summary.ok += 1,
            Status::Error => self.summary.failed += 1,
            Status::Skipped => self.summary.skipped += 1,
            Status::Split => {
                self.summary.split += 1;
                self.expand(job, record.split_into.as_deref(), progress)?;
            }
        }
        Ok(())
    }
}

/// Whether this run's store already has an answer to `job` (its route ends there).
fn answered(prior: &HashMap<String, ResponseRecord>, job: &Job) -> bool {
    prior.get(&job.key).is_some_and(|r| r.status == Status::Ok)
}

/// The requests `jobs` still take in a run that already has the records `prior`: none
/// for an answered job, the parts still to ask of a split one (followed down), one for
/// any other. What a resumed run announces, and what its progress counts.
pub fn requests_left(
    files: &[SourceFile],
    reviewers: &[Reviewer],
    jobs: &[Job],
    prior: &HashMap<String, ResponseRecord>,
) -> usize {
    jobs.iter()
        .map(|job| match prior.get(&job.key) {
            Some(r) if r.status == Status::Ok => 0,
            Some(r) if r.status == Status::Split => {
                let parts = parts_of(files, reviewers, job, r.split_into.as_deref());
                requests_left(files, reviewers, &parts, prior)
            }
            _ => 1,
        })
        .sum()
}

/// The jobs of the parts that replace `job`.
fn parts_of(files: &[SourceFile], reviewers: &[Reviewer], job: &Job, ranges: Option<&[LineRange]>) -> Vec<Job> {
    ranges
        .unwrap_or_default()
        .iter()
        .map(|range| plan::job(files, reviewers, job.file, job.reviewer, Some(*range)))
        .collect()
}

/// Whether an answer may be reused instead of asking again: a complete, parsable answer
/// from the model that was asked for (or a split decision).
fn is_reusable(job: &Job, record: &ResponseRecord, parsed: Option<bool>) -> bool {
    if record.status == Status::Split {
        return true;
    }
    let text = record.text.as_deref().unwrap_or("");
    let parses = || {
        parsed.unwrap_or_else(|| match &job.question {
            Some(question) => question.problem(text).is_none(),
            None => crate::normalize::parse::parse_findings(text).is_ok(),
        })
    };
    record.status == Status::Ok
        && record.served_model.is_none()
        && matches!(
            record.finish_reason,
            Some(FinishReason::Stop) | Some(FinishReason::Unknown) | None
        )
        && parses()
}

/// A cached answer, relabelled for this run. It cost nothing this run, so its token
/// counts and latency are not carried over.
fn cached_record(answer: &ResponseRecord, file: &SourceFile, config: &ProviderConfig, job: &Job) -> ResponseRecord {
    ResponseRecord {
        provider: config.name.clone(),
        family: Some(config.family.clone()),
        file: file.path.clone(),
        content_hash: Some(file.content_hash.clone()),
        chunk: job.range,
        key: Some(job.key.clone()),
        kind: if job.question.is_some() {
            RecordKind::Judge
        } else {
            RecordKind::Review
        },
        issue: job.question.as_ref().map(|q| q.issue.clone()),
        cached: true,
        usage: Usage::default(),
        latency_ms: 0,
        ..answer.clone()
    }
}
