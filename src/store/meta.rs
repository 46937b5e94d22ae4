//! `run.json`: the description of a run (root, providers, files sent and skipped), read
//! back with every field a path could come from checked, since the folder may have come
//! with the code.

use std::io::Read;
use std::path::{Component, Path};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::input::walk::Skipped;
use crate::store::fs::{open_for_reading, write_atomically};
use crate::store::RUN_FILE;

/// The format of `run.json` this Quorum writes (`schema_version`).
pub const RUN_SCHEMA_VERSION: u32 = 1;
/// The length of the run ids Quorum writes: that many hex digits of a hash.
pub const RUN_ID_LEN: usize = 12;
/// The longest run id accepted from `run.json` (Quorum writes 12 characters).
const MAX_RUN_ID_LEN: usize = 64;
/// The largest `run.json` read: it lists the files of a run (a path and a hash each), so
/// even a huge tree stays far below this; anything larger was not written by Quorum.
pub const MAX_RUN_FILE_BYTES: u64 = 64 * 1024 * 1024;

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
    /// With `--since`: the lines changed since that commit; findings outside them (and
    /// their margin) are pre-existing. Absent for a whole-file review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<Vec<crate::store::LineRange>>,
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
    /// With `--since`: the commit the review compared with (a resumed run compares with
    /// the same commit, wherever the reference has moved since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<crate::input::changes::Since>,
    /// The paths under the root the review was restricted to (several paths,
    /// `--files-from`), relative to it; empty for the whole root.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selection: Vec<String>,
    /// The judge pass's provider, mode and the issues it chose (absent without `[judge]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<crate::judge::JudgeRun>,
    /// Proof that this user's Quorum wrote the run folder (see `seal`): `--resume`
    /// refuses a folder without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

impl RunMeta {
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(RUN_FILE);
        let json = serde_json::to_string_pretty(self)?;
        write_atomically(&path, json.as_bytes())
    }

    /// Reads `dir/run.json`, refusing one Quorum could not have written: its run id and
    /// file paths become paths, so a planted `"../../x"` must not reach the file system.
    pub fn read(dir: &Path) -> Result<RunMeta> {
        let path = dir.join(RUN_FILE);
        let cannot_read = || {
            format!(
                "cannot read {}: is {} the --out folder of a review?",
                path.display(),
                dir.display()
            )
        };
        let file = open_for_reading(&path).with_context(cannot_read)?;
        let mut text = String::new();
        file.take(MAX_RUN_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .with_context(cannot_read)?;
        if text.len() as u64 > MAX_RUN_FILE_BYTES {
            bail!(
                "{} is larger than {} MiB, far more than any run description Quorum writes: not a run folder \
                 Quorum wrote; review into a new --out folder",
                path.display(),
                MAX_RUN_FILE_BYTES / (1024 * 1024)
            );
        }
        let meta: RunMeta = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid run description", path.display()))?;
        meta.check().map_err(|problem| {
            anyhow::anyhow!(
                "{}: {problem}: not a run folder Quorum wrote; review into a new --out folder",
                path.display()
            )
        })?;
        Ok(meta)
    }

    /// What makes this description one Quorum could not have written, if anything.
    fn check(&self) -> std::result::Result<(), String> {
        if !is_valid_run_id(&self.run_id) {
            return Err(format!(
                "run_id {:?} is not 1 to {MAX_RUN_ID_LEN} letters, digits, '-' or '_'",
                self.run_id
            ));
        }
        let times = std::iter::once(self.started_at.as_str()).chain(self.finished_at.as_deref());
        if let Some(bad) = times.into_iter().find(|t| !is_rfc3339(t)) {
            return Err(format!(
                "time {bad:?} is not an RFC 3339 UTC time such as 2026-12-01T08:46:18Z"
            ));
        }
        if let Some(since) = self.since.as_ref().filter(|s| !is_commit_id(&s.commit)) {
            return Err(format!("since.commit {:?} is not a commit id", since.commit));
        }
        // Provider names are printed in every table and report, and the judge's is copied
        // into each issue it was to judge: they follow the configuration's rule.
        let names = self
            .providers
            .iter()
            .map(|p| &p.name)
            .chain(self.judge.as_ref().map(|j| &j.provider));
        if let Some(bad) = names.into_iter().find(|n| !crate::config::valid_provider_name(n)) {
            return Err(format!(
                "provider name {:?} is not 1 to 64 letters, digits, '_', '.' or '-'",
                crate::normalize::finding::shortened(bad, 80)
            ));
        }
        if self.providers.len() > crate::config::MAX_PROVIDERS {
            return Err(format!(
                "{} providers, more than a configuration may have ({})",
                self.providers.len(),
                crate::config::MAX_PROVIDERS
            ));
        }
        // Each finding carries its provider's model and family.
        let models = self.providers.iter().flat_map(|p| [&p.model, &p.family]);
        if models
            .into_iter()
            .any(|m| m.chars().count() > crate::config::MAX_MODEL_NAME_CHARS)
        {
            return Err(format!(
                "a provider's model or family is longer than {} characters",
                crate::config::MAX_MODEL_NAME_CHARS
            ));
        }
        // Quoted in the reason of every issue the judge was to judge: a planted run.json
        // may not make that cost its own length times the issues.
        let dropped = self.judge.as_ref().and_then(|j| j.dropped.as_deref());
        if dropped.is_some_and(|why| why.chars().count() > crate::judge::MAX_REASON_CHARS) {
            return Err(format!(
                "judge.dropped is longer than {} characters",
                crate::judge::MAX_REASON_CHARS
            ));
        }
        let paths = self.files.iter().map(|f| &f.path).chain(&self.selection);
        // Each finding carries its file's path: no longer than a system opens.
        if let Some(p) = paths.clone().find(|p| p.chars().count() > MAX_PATH_CHARS) {
            return Err(format!(
                "file path {:?} is longer than {MAX_PATH_CHARS} characters",
                crate::normalize::finding::shortened(p, 80)
            ));
        }
        match paths.into_iter().find(|p| !is_plain_relative(p)) {
            Some(p) => Err(format!("file path {p:?} leaves the review root")),
            None => Ok(()),
        }
    }
}

/// The longest file path a run.json may name: Linux's `PATH_MAX`, so no run Quorum wrote
/// is refused.
const MAX_PATH_CHARS: usize = 4096;

/// Whether `text` is a time as [`now_rfc3339`](crate::store::now_rfc3339) writes it (`2026-12-01T08:46:18Z`, or with
/// fractional seconds or an offset): reports print it as it is, so nothing else may pass.
pub(super) fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    let offset = rest.as_bytes();
    rest == "Z"
        || (offset.len() == 6
            && matches!(offset[0], b'+' | b'-')
            && offset[1..3].iter().all(u8::is_ascii_digit)
            && offset[3] == b':'
            && offset[4..6].iter().all(u8::is_ascii_digit))
}

/// A commit id as git writes it: 40 (SHA-1) or 64 (SHA-256) hex digits.
fn is_commit_id(id: &str) -> bool {
    matches!(id.len(), 40 | 64) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_valid_run_id(id: &str) -> bool {
    (1..=MAX_RUN_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A path below its base: not absolute, and no `..` or `.` in it.
/// Written one way only (no `//`, no trailing `/`), so one file cannot be listed under
/// many spellings (each of which `aggregate` would read again).
fn is_plain_relative(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|part| !part.is_empty())
        && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)))
}
