//! The records a job leaves in the store: an answer or an error, a split into two
//! parts, or a job skipped because its provider is down.

use std::time::Duration;

use providers::{ErrorKind, Usage};

use crate::config::ProviderConfig;
use crate::engine::ask::Finished;
use crate::engine::lane::Down;
use crate::engine::{Job, Reviewer};
use crate::input::walk::SourceFile;
use crate::store::{LineRange, RecordKind, RecordedError, ResponseRecord, Status, RECORD_VERSION};
use providers::same_model;

fn base_record(file: &SourceFile, config: &ProviderConfig, job: &Job) -> ResponseRecord {
    ResponseRecord {
        v: RECORD_VERSION,
        kind: if job.question.is_some() {
            RecordKind::Judge
        } else {
            RecordKind::Review
        },
        issue: job.question.as_ref().map(|q| q.issue.clone()),
        provider: config.name.clone(),
        model: config.model.clone(),
        family: Some(config.family.clone()),
        file: file.path.clone(),
        content_hash: Some(file.content_hash.clone()),
        chunk: job.range,
        key: Some(job.key.clone()),
        cached: false,
        status: Status::Ok,
        text: None,
        reasoning: None,
        finish_reason: None,
        served_model: None,
        usage: Usage::default(),
        latency_ms: 0,
        attempts: 0,
        error: None,
        split_into: None,
        mac: None,
    }
}

/// The record of an answer or an error.
pub(super) fn record(
    file: &SourceFile,
    reviewer: &Reviewer,
    job: &Job,
    finished: Finished,
    latency: Duration,
) -> ResponseRecord {
    let config = &reviewer.config;
    let mut rec = base_record(file, config, job);
    rec.latency_ms = latency.as_millis() as u64;
    rec.attempts = finished.attempts;
    rec.usage = finished.usage;
    match finished.result {
        Ok(done) => {
            rec.text = Some(done.text);
            rec.reasoning = done.reasoning;
            rec.finish_reason = Some(done.finish);
            rec.served_model = done.model.filter(|m| !same_model(&config.model, m));
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

/// The record of a part that was too long: why, what it cost, and the two parts that
/// replace it.
pub(super) fn split_record(
    file: &SourceFile,
    reviewer: &Reviewer,
    job: &Job,
    finished: &Finished,
    latency: Duration,
    parts: [LineRange; 2],
) -> ResponseRecord {
    let result = &finished.result;
    let mut rec = base_record(file, &reviewer.config, job);
    rec.status = Status::Split;
    rec.usage = finished.usage;
    rec.latency_ms = latency.as_millis() as u64;
    rec.attempts = finished.attempts;
    let why = match result {
        Err(e) => e.message.clone(),
        Ok(_) => format!(
            "the answer was cut off at max_output_tokens = {} while listing findings",
            reviewer.config.max_output_tokens
        ),
    };
    rec.error = Some(RecordedError {
        kind: ErrorKind::ContextOverflow,
        status: result.as_ref().err().and_then(|e| e.status),
        message: format!(
            "too long for the model ({why}); reviewed as lines {}-{} and {}-{}",
            parts[0].start_line, parts[0].end_line, parts[1].start_line, parts[1].end_line
        ),
    });
    rec.split_into = Some(parts.to_vec());
    rec
}

/// The record of a job not sent because its provider was marked down.
pub(super) fn skipped_record(file: &SourceFile, reviewer: &Reviewer, job: &Job, down: &Down) -> ResponseRecord {
    let mut rec = base_record(file, &reviewer.config, job);
    rec.status = Status::Skipped;
    rec.error = Some(RecordedError {
        kind: down.kind,
        status: None,
        message: format!(
            "not sent: {} was marked down because {}",
            reviewer.config.name, down.why
        ),
    });
    rec
}
