//! The fan-out engine: every (file, provider) job, concurrently, each provider under its
//! own concurrency limit.
//!
//! A slow local model must never hold the fast hosted ones back, and one provider
//! failing must never stop the others, so each job waits only for its own provider's
//! semaphore. Retryable failures (429, 5xx, timeouts) are retried with exponential
//! backoff and jitter, honouring the server's `Retry-After`. Every outcome, answer or
//! failure, is appended to the store the moment it is known.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::stream::{FuturesUnordered, StreamExt};
use providers::{Completion, Provider, ProviderError, Request};
use tokio::sync::Semaphore;

use crate::config::{ProviderConfig, StructuredOutputMode};
use crate::prompt;
use crate::store::{RecordedError, ResponseRecord, Status, StoreWriter};
use crate::walk::SourceFile;

/// A configured provider, ready to take requests.
pub struct Reviewer {
    pub config: ProviderConfig,
    pub provider: Arc<dyn Provider>,
}

/// How long to wait between attempts when the server does not say.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt + 1` (attempt counts from 1): the server's
    /// `Retry-After` when given (capped), else `base · 2^(attempt-1)` with up to 50%
    /// jitter so that parallel jobs do not retry in lockstep.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter_seed: u64) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.cap);
        }
        let exp = self.base.saturating_mul(1u32 << (attempt - 1).min(16));
        let jitter = exp.mul_f64((jitter_seed % 1000) as f64 / 2000.0);
        (exp + jitter).min(self.cap)
    }
}

/// Totals of one engine run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunCounts {
    pub ok: usize,
    pub failed: usize,
}

/// Runs every file past every reviewer, appending each outcome to `store` and
/// reporting it to `on_done` as it completes.
pub async fn run(
    files: &[SourceFile],
    reviewers: &[Reviewer],
    store: &mut StoreWriter,
    backoff: Backoff,
    mut on_done: impl FnMut(&ResponseRecord, usize, usize),
) -> Result<RunCounts> {
    let system = prompt::system_prompt();
    let schema = prompt::finding_schema();
    let limits: Vec<Arc<Semaphore>> = reviewers
        .iter()
        .map(|r| Arc::new(Semaphore::new(r.config.max_concurrency)))
        .collect();
    let mut jobs = FuturesUnordered::new();
    for file in files {
        for (reviewer, limit) in reviewers.iter().zip(&limits) {
            let request = Request {
                id: file.path.clone(),
                system: system.clone(),
                user: prompt::user_prompt(file),
                schema: (reviewer.config.structured_output != StructuredOutputMode::None).then(|| schema.clone()),
                max_output_tokens: reviewer.config.max_output_tokens,
                temperature: reviewer.config.temperature,
                seed: Some(42),
            };
            jobs.push(run_job(file, reviewer, limit.clone(), request, backoff));
        }
    }
    let total = jobs.len();
    let mut counts = RunCounts::default();
    while let Some(record) = jobs.next().await {
        store.append(&record)?;
        match record.status {
            Status::Ok => counts.ok += 1,
            Status::Error => counts.failed += 1,
        }
        on_done(&record, counts.ok + counts.failed, total);
    }
    Ok(counts)
}

/// One job: wait for a slot at this provider, then ask, retrying what may succeed later.
async fn run_job(
    file: &SourceFile,
    reviewer: &Reviewer,
    limit: Arc<Semaphore>,
    request: Request,
    backoff: Backoff,
) -> ResponseRecord {
    let _permit = limit.acquire_owned().await.expect("semaphores are never closed");
    let started = Instant::now();
    let max_attempts = reviewer.config.max_attempts.max(1);
    let mut attempt = 1;
    let outcome = loop {
        match reviewer.provider.complete(&request).await {
            Err(err) if err.is_retryable() && attempt < max_attempts => {
                let seed = jitter_seed(&reviewer.config.name, &file.path, attempt);
                tokio::time::sleep(backoff.delay(attempt, err.retry_after, seed)).await;
                attempt += 1;
            }
            other => break other,
        }
    };
    record(file, &reviewer.config, outcome, started.elapsed(), attempt)
}

fn record(
    file: &SourceFile,
    config: &ProviderConfig,
    outcome: Result<Completion, ProviderError>,
    latency: Duration,
    attempts: u32,
) -> ResponseRecord {
    let mut rec = ResponseRecord {
        v: 1,
        provider: config.name.clone(),
        model: config.model.clone(),
        family: Some(config.family.clone()),
        file: file.path.clone(),
        content_hash: Some(file.content_hash.clone()),
        status: Status::Ok,
        text: None,
        reasoning: None,
        finish_reason: None,
        served_model: None,
        usage: Default::default(),
        latency_ms: latency.as_millis() as u64,
        attempts,
        error: None,
    };
    match outcome {
        Ok(done) => {
            rec.text = Some(done.text);
            rec.reasoning = done.reasoning;
            rec.finish_reason = Some(done.finish);
            rec.served_model = done.model.filter(|m| m != &config.model);
            rec.usage = done.usage;
        }
        Err(err) => {
            rec.status = Status::Error;
            rec.error = Some(RecordedError {
                kind: err.kind,
                status: err.status,
                message: err.message,
            });
        }
    }
    rec
}

/// A cheap, deterministic per-job number for jitter.
fn jitter_seed(provider: &str, file: &str, attempt: u32) -> u64 {
    let digest = crate::hash::sha256_hex(format!("{provider}\0{file}\0{attempt}").as_bytes());
    u64::from_str_radix(&digest[..12], 16).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_prefers_retry_after_and_grows_otherwise() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, Some(Duration::from_secs(7)), 0), Duration::from_secs(7));
        assert_eq!(b.delay(1, Some(Duration::from_secs(3600)), 0), Duration::from_secs(60));
        assert_eq!(b.delay(1, None, 0), Duration::from_secs(1));
        assert_eq!(b.delay(3, None, 0), Duration::from_secs(4));
        assert!(b.delay(3, None, 999) < Duration::from_secs(6));
        assert_eq!(b.delay(30, None, 0), Duration::from_secs(60));
    }
}
