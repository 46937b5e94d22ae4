//! The run store: everything a run learned, on disk the moment it is learned.
//!
//! `responses.jsonl` gets one line per model response (or failure), appended and
//! flushed to the operating system before the job counts as done, so an interrupted
//! run loses nothing it was told. `run.json` describes the run (root, providers, files
//! sent, files skipped). Together they are enough for `quorum aggregate` to rebuild
//! every report without asking any model again. No API key is ever written here.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use providers::{ErrorKind, FinishReason, Usage};
use serde::{Deserialize, Serialize};

use crate::walk::Skipped;

pub const RESPONSES_FILE: &str = "responses.jsonl";
pub const RUN_FILE: &str = "run.json";

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
    #[serde(default = "one")]
    pub v: u32,
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
    #[serde(default = "one")]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordedError>,
    /// For `split` records: the parts that replaced this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_into: Option<Vec<LineRange>>,
}

fn one() -> u32 {
    1
}

/// What `run.json` says about one provider (never its key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderMeta {
    pub name: String,
    pub kind: String,
    pub model: String,
    pub family: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// US dollars per million input tokens, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_input_per_mtok: Option<f64>,
    /// The context window the run planned parts for (so a resumed run splits files the
    /// same way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_output_per_mtok: Option<f64>,
}

/// What `run.json` says about one file that was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMeta {
    pub path: String,
    pub lines: u32,
    pub content_hash: String,
}

/// `run.json`: the run's description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub schema_version: u32,
    pub run_id: String,
    /// The review root as given on the command line.
    pub root: String,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    pub providers: Vec<ProviderMeta>,
    pub files: Vec<FileMeta>,
    pub skipped: Vec<Skipped>,
    /// The configuration file the run used, so `--resume` needs no other argument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// `K/N` when this run reviewed one shard of the files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Why the run stopped before asking everything (interrupted, budget reached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_early: Option<String>,
    /// Quorum's own findings (redacted secrets, prompt injection), found while walking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::checks::CheckFinding>,
}

impl RunMeta {
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(RUN_FILE);
        let json = serde_json::to_string_pretty(self)?;
        write_atomically(&path, json.as_bytes())
    }

    pub fn read(dir: &Path) -> Result<RunMeta> {
        let path = dir.join(RUN_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}: is {} the --out folder of a review?",
                path.display(),
                dir.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a valid run description", path.display()))
    }
}

/// Appends records to `responses.jsonl`, one flushed line each.
pub struct StoreWriter {
    file: File,
    path: PathBuf,
}

impl StoreWriter {
    pub fn open(dir: &Path) -> Result<StoreWriter> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the output folder {}", dir.display()))?;
        let path = dir.join(RESPONSES_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {} for appending", path.display()))?;
        end_torn_line(&path, &mut file)?;
        Ok(StoreWriter { file, path })
    }

    /// Writes one record as one line and hands it to the operating system, so it
    /// survives the process being killed.
    pub fn append(&mut self, record: &ResponseRecord) -> Result<()> {
        let mut line = serde_json::to_string(record)?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }
}

/// A run killed in the middle of a write leaves a last line without its newline; end it,
/// so the next record starts on a line of its own instead of joining the fragment.
pub fn end_torn_line(path: &Path, file: &mut File) -> Result<()> {
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Ok(());
    }
    let mut last = [0u8; 1];
    let mut reader = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    std::io::Seek::seek(&mut reader, std::io::SeekFrom::End(-1))?;
    std::io::Read::read_exact(&mut reader, &mut last)?;
    if last[0] != b'\n' {
        file.write_all(b"\n")
            .with_context(|| format!("cannot append to {}", path.display()))?;
    }
    Ok(())
}

/// The records of a store, and how many lines could not be read (a run killed in the
/// middle of a write leaves at most one torn last line).
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<ResponseRecord>,
    pub unreadable_lines: Vec<usize>,
}

/// Reads `responses.jsonl` (from a run folder, or the file itself).
pub fn read_records(path: &Path) -> Result<Loaded> {
    let path = if path.is_dir() {
        path.join(RESPONSES_FILE)
    } else {
        path.to_path_buf()
    };
    let file = File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut loaded = Loaded::default();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(record) => loaded.records.push(record),
            Err(_) => loaded.unreadable_lines.push(i + 1),
        }
    }
    Ok(loaded)
}

/// Writes a whole file so that readers see the old or the new contents, never half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The current UTC time as RFC 3339 (`2026-11-26T08:46:18Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

fn rfc3339(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(file: &str) -> ResponseRecord {
        ResponseRecord {
            v: 1,
            provider: "gemma".into(),
            model: "g".into(),
            family: None,
            file: file.into(),
            content_hash: Some("abc".into()),
            chunk: None,
            key: None,
            cached: false,
            status: Status::Ok,
            text: Some("{\"findings\":[]}".into()),
            reasoning: None,
            finish_reason: Some(FinishReason::Stop),
            served_model: None,
            usage: Usage {
                input_tokens: Some(10),
                output_tokens: Some(3),
            },
            latency_ms: 5,
            attempts: 1,
            error: None,
            split_into: None,
        }
    }

    #[test]
    fn appended_records_read_back_and_a_torn_line_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = StoreWriter::open(dir.path()).unwrap();
        w.append(&record("a.go")).unwrap();
        w.append(&record("b.go")).unwrap();
        drop(w);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(RESPONSES_FILE))
            .unwrap();
        f.write_all(b"{\"v\":1,\"provider\":\"gem").unwrap();
        let loaded = read_records(dir.path()).unwrap();
        assert_eq!(loaded.records, vec![record("a.go"), record("b.go")]);
        assert_eq!(loaded.unreadable_lines, vec![3]);
    }

    #[test]
    fn minimal_recorded_lines_are_accepted() {
        let r: ResponseRecord = serde_json::from_str(
            r#"{"provider":"p","model":"m","file":"f.go","status":"ok","text":"{}","finish_reason":"stop"}"#,
        )
        .unwrap();
        assert_eq!(r.attempts, 1);
        assert_eq!(r.usage, Usage::default());
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_682_778), "2026-11-26T08:46:18Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
