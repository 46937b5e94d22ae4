//! The run loop: keeps every lane busy, gathers outcomes as they come, and stops (after
//! a bounded grace) when asked to.

use std::collections::HashMap;

use anyhow::Result;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::watch;

use crate::engine::budget::Budget;
use crate::engine::cache::Cache;
use crate::engine::dispatch::Dispatch;
use crate::engine::execute::{Ctx, JobOutcome};
use crate::engine::lane::Lane;
use crate::engine::progress::Planned;
use crate::engine::wait::sleep_until;
use crate::engine::{Job, Options, Progress, Reviewer};
use crate::input::walk::SourceFile;
use crate::store::{ResponseRecord, StoreWriter};

/// Everything one engine run reads, writes and listens to.
pub struct RunInputs<'a> {
    pub files: &'a [SourceFile],
    pub reviewers: &'a [Reviewer],
    /// The jobs to do (see [`plan`](crate::engine::plan)).
    pub jobs: Vec<Job>,
    /// Where every outcome is appended the moment it is known.
    pub store: &'a mut StoreWriter,
    /// Answers to reuse instead of asking again, and where usable new ones go.
    pub cache: Option<&'a mut Cache>,
    /// The records a resumed run already has, by job key: their answers are not asked
    /// again, and their splits are followed.
    pub prior: &'a HashMap<String, ResponseRecord>,
    pub options: &'a Options,
    /// Turns true when the user asks to stop.
    pub stop: watch::Receiver<bool>,
    pub progress: &'a mut dyn Progress,
}

const MICRO_USD_PER_USD: f64 = 1e6;

/// Totals of one engine run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub ok: usize,
    pub failed: usize,
    pub skipped: usize,
    pub cached: usize,
    /// Parts too long for a model, reviewed as two smaller parts.
    pub split: usize,
    /// Jobs never started because the run was stopped or the budget reached.
    pub not_started: usize,
    pub stopped_early: Option<String>,
    /// Under `--max-cost`: millionths of a dollar spent, so a later pass (the judge's)
    /// gets only what is left.
    pub spent_micro_usd: u64,
}

/// Runs the jobs, appending every outcome to the store and usable answers to the cache.
pub async fn run(inputs: RunInputs<'_>) -> Result<Summary> {
    let RunInputs {
        files,
        reviewers,
        jobs,
        store,
        cache,
        prior,
        options,
        mut stop,
        progress,
    } = inputs;
    let per_provider: Vec<Planned> = reviewers
        .iter()
        .enumerate()
        .map(|(r, rev)| Planned {
            provider: rev.config.name.clone(),
            jobs: jobs.iter().filter(|j| j.reviewer == r).count(),
        })
        .collect();
    progress.planned(&per_provider);
    let lanes: Vec<Lane> = reviewers.iter().map(Lane::new).collect();
    let budget = Budget::new(options.max_cost_usd);
    let ctx = Ctx {
        files,
        reviewers,
        lanes: &lanes,
        budget: &budget,
        options,
        stop: stop.clone(),
    };
    let mut dispatch = Dispatch {
        files,
        reviewers,
        store,
        cache,
        prior,
        summary: Summary::default(),
        ready: Vec::new(),
    };
    for job in jobs {
        dispatch.route(job, progress)?;
    }
    let mut running: FuturesUnordered<BoxFuture<'_, (Job, JobOutcome)>> = FuturesUnordered::new();
    for job in dispatch.ready.drain(..) {
        running.push(Box::pin(ctx.execute(job)));
    }
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut stop_closed = false;
    loop {
        let next = tokio::select! {
            next = running.next() => next,
            changed = stop.changed(), if deadline.is_none() && !stop_closed => {
                match changed {
                    Ok(()) if *stop.borrow() => {
                        deadline = Some(tokio::time::Instant::now() + options.grace);
                        progress.note("stopping: no new requests; waiting for the ones in flight");
                    }
                    Ok(()) => {}
                    Err(_) => stop_closed = true,
                }
                continue;
            }
            _ = sleep_until(deadline) => {
                progress.note("gave up waiting for the requests still in flight");
                dispatch.summary.not_started += running.len();
                break;
            }
        };
        let Some((job, outcome)) = next else { break };
        match outcome {
            JobOutcome::Done { record, parsed } => {
                lanes[job.reviewer].observe(&record, options, progress);
                dispatch.finished(&job, *record, parsed, progress)?;
                for job in dispatch.ready.drain(..) {
                    running.push(Box::pin(ctx.execute(job)));
                }
            }
            JobOutcome::NotStarted => dispatch.summary.not_started += 1,
        }
    }
    if let Some(cache) = dispatch.cache.as_deref_mut() {
        if let Err(err) = cache.flush() {
            progress.note(&format!("the answer cache could not be saved: {err:#}"));
        }
    }
    let mut summary = dispatch.summary;
    summary.stopped_early = if *stop.borrow() {
        Some("interrupted".to_string())
    } else if budget.exhausted() {
        Some(format!(
            "the --max-cost budget of ${:.2} was reached",
            options.max_cost_usd.unwrap_or(0.0)
        ))
    } else {
        None
    };
    summary.spent_micro_usd = (budget.spent() * MICRO_USD_PER_USD).round() as u64;
    progress.finish(summary.stopped_early.as_deref());
    Ok(summary)
}
