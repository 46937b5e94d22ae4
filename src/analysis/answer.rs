//! The run's records as answers: the last record of each job, whether its answer can be
//! used, and the jobs never asked. This is the boundary where the providers crate's
//! types (a record's finish reason and error kind) become the analysis's own strings:
//! nothing the analysis returns carries them.

use std::collections::{BTreeMap, BTreeSet};

use providers::FinishReason;

use super::{RunError, MAX_MESSAGE_CHARS};
use crate::normalize::finding;
use crate::normalize::parse::{parse_findings, Parsed};
use crate::store::{LineRange, ResponseRecord, RunMeta, Status};

/// The last record of each (provider, file, part): a later answer supersedes an earlier
/// one (a resumed run's answer replaces the failure before it).
pub(super) fn latest_per_job(records: Vec<ResponseRecord>) -> Vec<ResponseRecord> {
    type JobId = (String, String, Option<LineRange>);
    let mut latest: BTreeMap<JobId, ResponseRecord> = BTreeMap::new();
    for record in records {
        latest.insert((record.provider.clone(), record.file.clone(), record.chunk), record);
    }
    latest.into_values().collect()
}

/// The findings of a usable answer, or why the answer cannot be used.
pub(super) fn usable_answer(record: &ResponseRecord) -> Result<Parsed, RunError> {
    let text = usable_text(record)?;
    parse_findings(text).map_err(|e| record_error(record, "parse", None, e.to_string()))
}

fn record_error(record: &ResponseRecord, stage: &str, kind: Option<String>, message: String) -> RunError {
    RunError {
        provider: record.provider.clone(),
        file: record.file.clone(),
        stage: stage.to_string(),
        kind,
        message: finding::shortened(&message, MAX_MESSAGE_CHARS),
    }
}

/// The text of a complete answer from the model asked for, or why there is none (the
/// request failed or was skipped, the answer was cut off, withheld or from another
/// model): the checks every answer passes before it is read, a verdict as a review.
pub(crate) fn usable_text(record: &ResponseRecord) -> Result<&str, RunError> {
    let error = |stage: &str, kind: Option<String>, message: String| record_error(record, stage, kind, message);
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
    Ok(record.text.as_deref().unwrap_or(""))
}

/// A job with no record at all: the run stopped before asking it.
pub(super) fn missing_jobs(meta: &RunMeta, answered: &BTreeSet<(String, String)>) -> Vec<RunError> {
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
