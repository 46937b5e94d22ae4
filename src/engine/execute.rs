//! One job, from its lane to its record: skipped when its provider is down, replaced by
//! two parts when it proves too long for the model, else recorded as asked.

use std::time::Instant;

use providers::{Completion, ErrorKind, FinishReason, ProviderError};
use tokio::sync::watch;

use crate::engine::ask::Asked;
use crate::engine::budget::Budget;
use crate::engine::lane::{Down, Lane};
use crate::engine::record::{record, skipped_record, split_record};
use crate::engine::{Job, Options, Reviewer};
use crate::input::chunk;
use crate::input::walk::SourceFile;
use crate::store::ResponseRecord;

/// An answer cut off at the output limit was still writing findings (so a smaller part
/// would help) when its visible text fills at least 1/this of the limit; with less, a
/// reasoning model spent the limit thinking, and smaller input would not help.
const CUT_OFF_FINDINGS_DIVISOR: u64 = 2;

/// Everything a job needs, shared by all jobs of a run.
pub(super) struct Ctx<'a> {
    pub(super) files: &'a [SourceFile],
    pub(super) reviewers: &'a [Reviewer],
    pub(super) lanes: &'a [Lane],
    pub(super) budget: &'a Budget,
    pub(super) options: &'a Options,
    pub(super) stop: watch::Receiver<bool>,
}

/// How a job ended.
pub(super) enum JobOutcome {
    /// The record, and whether its answer parsed (when the job already checked).
    Done {
        record: Box<ResponseRecord>,
        parsed: Option<bool>,
    },
    /// Not started (or abandoned before any answer): the run was stopped or the budget
    /// reached. Nothing recorded, so a resumed run asks it.
    NotStarted,
}

impl Ctx<'_> {
    pub(super) async fn execute(&self, job: Job) -> (Job, JobOutcome) {
        let outcome = self.outcome(&job).await;
        (job, outcome)
    }

    async fn outcome(&self, job: &Job) -> JobOutcome {
        let lane = &self.lanes[job.reviewer];
        let reviewer = &self.reviewers[job.reviewer];
        let file = &self.files[job.file];
        let _active = lane.active.acquire().await.expect("lane semaphores are never closed");
        if *self.stop.borrow() {
            return JobOutcome::NotStarted;
        }
        if let Some(down) = lane.down() {
            return JobOutcome::Done {
                record: Box::new(skipped_record(file, reviewer, job, &down)),
                parsed: None,
            };
        }
        let started = Instant::now();
        let finished = match self.ask(job, reviewer, lane).await {
            Asked::Finished(finished) => finished,
            Asked::Abandoned => return JobOutcome::NotStarted,
            Asked::Down => {
                let down = lane.down().unwrap_or(Down {
                    kind: ErrorKind::Server,
                    why: "it failed".to_string(),
                });
                return JobOutcome::Done {
                    record: Box::new(skipped_record(file, reviewer, job, &down)),
                    parsed: None,
                };
            }
        };
        let latency = started.elapsed();
        // A judge's question is one issue and its evidence: there is nothing to split.
        if job.question.is_none() && too_long(&finished.result, reviewer) {
            if let Some(parts) = chunk::split(&file.text, job.range) {
                return JobOutcome::Done {
                    record: Box::new(split_record(file, reviewer, job, &finished, latency, parts)),
                    parsed: None,
                };
            }
        }
        let parsed = finished.parsed;
        JobOutcome::Done {
            record: Box::new(record(file, reviewer, job, finished, latency)),
            parsed,
        }
    }
}

/// Whether the part was too long for the model: the server said the prompt does not
/// fit, or the answer was cut off while writing findings. An answer cut off with
/// little visible text means a reasoning model spent its budget thinking; smaller
/// input would not help, so that is recorded as truncated instead.
fn too_long(result: &Result<Completion, ProviderError>, reviewer: &Reviewer) -> bool {
    match result {
        Err(e) => e.kind == ErrorKind::ContextOverflow,
        Ok(c) => {
            c.finish == FinishReason::Length
                && chunk::estimate_tokens(&c.text) * CUT_OFF_FINDINGS_DIVISOR
                    >= u64::from(reviewer.config.max_output_tokens)
        }
    }
}
