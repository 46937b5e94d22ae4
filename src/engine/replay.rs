//! The `replay` provider kind: answers from a recorded `responses.jsonl`.
//!
//! It lets the whole pipeline (prompting, engine, store, parsing, consensus, reports)
//! run with no model server: for the offline demo, for reproducing a report from
//! someone else's recording, and for tests. Answers are matched by provider name and
//! file path; the last successful answer wins when a file was recorded more than once.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Result};
use futures::future::BoxFuture;
use providers::{Completion, ErrorKind, FinishReason, Provider, ProviderError, Request};

use crate::store::{read_records, ResponseRecord, Status};

pub struct Replay {
    provider: String,
    source: String,
    /// The recorded answer for each file, keyed by path.
    answers: HashMap<String, ResponseRecord>,
}

impl Replay {
    /// Loads the answers recorded for `provider` from `path`.
    pub fn load(path: &Path, provider: &str) -> Result<Replay> {
        let loaded = read_records(path)?;
        if let Some(line) = loaded.unreadable_lines.first() {
            bail!("{}:{line}: not a valid recorded response", path.display());
        }
        let mut answers: HashMap<String, ResponseRecord> = HashMap::new();
        for record in loaded
            .records
            .into_iter()
            .filter(|r| r.provider == provider && r.kind.is_review())
        {
            let keep_old = answers
                .get(&record.file)
                .is_some_and(|old| old.status == Status::Ok && record.status != Status::Ok);
            if !keep_old {
                answers.insert(record.file.clone(), record);
            }
        }
        if answers.is_empty() {
            bail!(
                "{} holds no answers recorded for provider {provider:?}: check the provider's name and replay_file",
                path.display()
            );
        }
        Ok(Replay {
            provider: provider.to_string(),
            source: path.display().to_string(),
            answers,
        })
    }

    fn answer(&self, file: &str) -> Result<Completion, ProviderError> {
        let Some(record) = self.answers.get(file) else {
            return Err(ProviderError::new(
                ErrorKind::NotFound,
                format!("{} has no answer recorded by {} for {file}", self.source, self.provider),
            ));
        };
        if record.status == Status::Error {
            let (kind, message) = match &record.error {
                Some(e) => (e.kind, format!("recorded failure: {}", e.message)),
                None => (ErrorKind::Server, "recorded failure".to_string()),
            };
            return Err(ProviderError::new(kind, message));
        }
        Ok(Completion {
            text: record.text.clone().unwrap_or_default(),
            reasoning: record.reasoning.clone(),
            usage: record.usage,
            finish: record.finish_reason.clone().unwrap_or(FinishReason::Unknown),
            model: Some(record.model.clone()),
        })
    }
}

impl Provider for Replay {
    fn complete<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(async move { self.answer(&request.id) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MAX_RECORD_LINE_BYTES;

    fn line(text: &str) -> String {
        let record = serde_json::json!({"provider": "p", "model": "m", "file": "a.go", "status": "ok", "text": text});
        format!("{record}\n")
    }

    #[test]
    fn a_recorded_line_longer_than_the_cap_is_refused_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recorded.jsonl");
        std::fs::write(&path, line("{}")).unwrap();
        assert!(Replay::load(&path, "p").is_ok());
        std::fs::write(&path, line(&"x".repeat(MAX_RECORD_LINE_BYTES))).unwrap();
        let err = format!("{:#}", Replay::load(&path, "p").err().unwrap());
        assert!(err.contains("recorded.jsonl:1: not a valid recorded response"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_replay_file_linked_to_a_device_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recorded.jsonl");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let err = format!("{:#}", Replay::load(&path, "p").err().unwrap());
        assert!(err.contains("symbolic link"), "{err}");
    }
}
