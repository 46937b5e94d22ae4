//! The records a job leaves in the store: an answer or an error, a split into two
//! parts, or a job skipped because its provider is down.

use std::time::Duration;

use providers::{ErrorKind, Usage};

use crate::config::ProviderConfig;
use crate::engine::ask::Finished;
use crate::engine::lane::Down;
use crate::engine::{Job, Reviewer};
use crate::input::walk::SourceFile;
use crate::store::{LineRange, RecordedError, ResponseRecord, Status};

/// The version of the record format this engine writes.
const RECORD_VERSION: u32 = 1;

/// Digits a dated or numbered build has at least (`-0613`, `-002`, `-20250929`): a
/// shorter number is a model version (`claude-sonnet-4` vs `claude-sonnet-4-5`).
const MIN_BUILD_DIGITS: usize = 3;

fn base_record(file: &SourceFile, config: &ProviderConfig, job: &Job) -> ResponseRecord {
    ResponseRecord {
        v: RECORD_VERSION,
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

/// Whether the model a server says answered is the one asked for. Servers name the
/// same model differently: OpenAI answers `gpt-4.1-mini-2025-04-14` for `gpt-4.1-mini`,
/// Gemini `models/gemini-2.5-flash`, Ollama `gemma3:12b` for `gemma3:12b`. LM Studio
/// answers with whatever is loaded, which is a different model altogether.
pub(super) fn same_model(requested: &str, served: &str) -> bool {
    let norm = |m: &str| {
        let mut m = m.trim().to_ascii_lowercase();
        if let Some(rest) = m.strip_prefix("models/") {
            m = rest.to_string();
        }
        // `-latest`, `:latest`, OpenRouter's `:free`, and Anthropic's `-0` (as in
        // `claude-sonnet-4-0`) name the current build of a model.
        for alias in [":latest", "-latest", ":free", "-0"] {
            if let Some(rest) = m.strip_suffix(alias) {
                m = rest.to_string();
            }
        }
        m
    };
    let (requested, served) = (norm(requested), norm(served));
    if served.is_empty() {
        return false;
    }
    // One name is the other plus only a dated or numbered build: `-2025-04-14`,
    // `-20250929`, `-0613`, `-002`. A first group of fewer than 3 digits is a model
    // version (`claude-sonnet-4` vs `-4-5`), and a suffix with letters another model.
    let version_only = |long: &str, short: &str| {
        long.strip_prefix(short).is_some_and(|rest| {
            let groups: Vec<&str> = rest
                .strip_prefix('-')
                .map(|r| r.split('-').collect())
                .unwrap_or_default();
            rest.is_empty()
                || (groups.first().is_some_and(|g| g.len() >= MIN_BUILD_DIGITS)
                    && groups
                        .iter()
                        .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit())))
        })
    };
    version_only(&served, &requested) || version_only(&requested, &served)
}
