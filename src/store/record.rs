//! One line of `responses.jsonl`: what one request to one model produced.

use anyhow::Result;
use providers::{ErrorKind, FinishReason, Usage};
use serde::{Deserialize, Serialize};

use crate::store::seal::RunMac;

/// The format of a record (`v`): read as this when a line does not say.
pub const RECORD_VERSION: u32 = 1;

/// Whether a request produced an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Error,
    /// Never sent: the provider had been marked down (see the error message).
    Skipped,
    /// Too long for the model (the prompt did not fit, or the answer was cut off at the
    /// output limit): the part was reviewed as the two parts in `split_into` instead.
    Split,
}

/// What a request asked: a review of a file (part), or a judge's verdict on one issue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    #[default]
    Review,
    /// A judge's verdict on the issue named by the record's `issue`.
    Judge,
}

impl RecordKind {
    pub fn is_review(&self) -> bool {
        *self == RecordKind::Review
    }
}

/// The lines of a file one request covered, when the file was split to fit a context
/// window. Absent when the request covered the whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LineRange {
    pub start_line: u32,
    pub end_line: u32,
}

/// A failed request, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedError {
    pub kind: ErrorKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub message: String,
}

/// One line of `responses.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseRecord {
    #[serde(default = "record_version")]
    pub v: u32,
    /// `judge` for a judge's verdict; absent for a review answer.
    #[serde(default, skip_serializing_if = "RecordKind::is_review")]
    pub kind: RecordKind,
    /// For a judge's verdict: the id of the issue judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    pub provider: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// The part of the file this request covered; `None` for the whole file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk: Option<LineRange>,
    /// The job's identity (provider, model, answer-changing settings, prompt): two
    /// records with the same key asked the same question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// True when the answer came from the cache of an earlier run (no request was sent,
    /// no tokens were spent this run).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    pub status: Status,
    /// The answer text, as the model wrote it (reasoning split off).
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub reasoning: Option<String>,
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// The model the server says answered, when it differs from the one configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_model: Option<String>,
    #[serde(default)]
    pub usage: Usage,
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default = "one_attempt")]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordedError>,
    /// For `split` records: the parts that replaced this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_into: Option<Vec<LineRange>>,
    /// This user's MAC of the record in its run (see `seal::RunMac`), set as the record
    /// is appended: `--resume` takes only records whose MAC verifies as already asked,
    /// since `responses.jsonl` can be replaced by one that comes with the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

impl ResponseRecord {
    /// The bytes a record's MAC covers: its JSON without the MAC. Serialising the same
    /// struct is deterministic, so a record read back gives the bytes it was signed as.
    fn mac_input(&self) -> Result<Vec<u8>> {
        let unsigned = ResponseRecord {
            mac: None,
            ..self.clone()
        };
        Ok(serde_json::to_vec(&unsigned)?)
    }

    /// This record, carrying `run_mac`'s MAC of it.
    pub fn signed(&self, run_mac: &RunMac) -> Result<ResponseRecord> {
        let mac = run_mac.sign(&self.mac_input()?);
        Ok(ResponseRecord {
            mac: Some(mac),
            ..self.clone()
        })
    }

    /// Whether this record carries `run_mac`'s MAC of it: written by this user's Quorum
    /// for this run, and unchanged since.
    pub fn verifies(&self, run_mac: &RunMac) -> bool {
        match (&self.mac, self.mac_input()) {
            (Some(tag), Ok(bytes)) => run_mac.verifies(&bytes, tag),
            _ => false,
        }
    }
}

fn record_version() -> u32 {
    RECORD_VERSION
}

/// A record that does not say how many attempts it took was asked once.
fn one_attempt() -> u32 {
    1
}
