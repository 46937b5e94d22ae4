//! The eyeballvul data: where it is, how it is read, which half of the revisions a
//! revision belongs to, and how a record becomes a Quorum finding at a place.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::consensus::Place;
use crate::normalize::finding::{Category, Finding, Severity};

/// One line of `findings.jsonl`.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    pub revision: String,
    pub model: String,
    pub headline: String,
    pub analysis: String,
    pub cwe: Option<u32>,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub functions: Vec<String>,
    pub classification: String,
    /// Set when the finding was shown to the judge ("very promising" ones only).
    pub judge: Option<String>,
    /// `cve:CVE-…` when the judge linked the finding to a known CVE.
    pub label: Option<String>,
}

#[cfg(test)]
impl Record {
    /// A judged finding of `model` on `revision`, labelled `label`, naming nothing else.
    pub fn judged(revision: &str, model: &str, label: Option<&str>) -> Record {
        Record {
            revision: revision.into(),
            model: model.into(),
            headline: "h".into(),
            analysis: "a".into(),
            cwe: None,
            files: vec![],
            functions: vec![],
            classification: "very promising".into(),
            judge: Some("judge".into()),
            label: label.map(String::from),
        }
    }
}

/// One line of `revisions.jsonl`: which models attempted the revision.
#[derive(Debug, Clone, Deserialize)]
struct RevisionLine {
    revision: String,
    #[serde(default)]
    models: Vec<String>,
}

/// The dataset in memory.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub records: Vec<Record>,
    /// Revision → models that made an attempt (the families that "reviewed" it).
    pub attempted: BTreeMap<String, BTreeSet<String>>,
}

/// Where the data is expected when no path is given: next to the repository.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/eyeballvul")
}

/// The data folder to use, or why the evaluation must be skipped.
pub fn locate(dir: Option<&Path>) -> std::result::Result<PathBuf, String> {
    let dir = dir.map_or_else(default_dir, Path::to_path_buf);
    if dir.join("findings.jsonl").is_file() && dir.join("revisions.jsonl").is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "skipping the eyeballvul evaluation: no findings.jsonl and revisions.jsonl in {} \
             (the data is not redistributable and is not part of the repository)",
            dir.display()
        ))
    }
}

/// Reads `findings.jsonl` and `revisions.jsonl` from `dir`.
pub fn load(dir: &Path) -> Result<Dataset> {
    let records = read_lines::<Record>(&dir.join("findings.jsonl"))?;
    let attempted = read_lines::<RevisionLine>(&dir.join("revisions.jsonl"))?
        .into_iter()
        .map(|r| (r.revision, r.models.into_iter().collect()))
        .collect();
    Ok(Dataset { records, attempted })
}

fn read_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).with_context(|| format!("{} line {}", path.display(), n + 1))?);
    }
    Ok(out)
}

/// Which half of the revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Thresholds may be tuned here.
    Tune,
    /// Numbers are reported here.
    Holdout,
    All,
}

impl Split {
    /// Whether `revision` belongs to this split (by the first hex digit of its SHA-256).
    pub fn contains(self, revision: &str) -> bool {
        let tune = crate::hash::sha256_hex(revision.as_bytes()).as_bytes()[0] < b'8';
        match self {
            Split::Tune => tune,
            Split::Holdout => !tune,
            Split::All => true,
        }
    }
}

/// A record as a Quorum finding: the model is provider and family, the first file and
/// function name its location (no lines), the model's own classification its severity.
pub fn to_finding(r: &Record) -> Finding {
    let category = r
        .cwe
        .and_then(Category::from_cwe)
        .or_else(|| Category::from_text(&r.headline))
        .unwrap_or(Category::Other);
    Finding {
        provider: r.model.clone(),
        model: r.model.clone(),
        family: r.model.clone(),
        file: r.files.first().cloned().unwrap_or_else(|| "(no file)".to_string()),
        start_line: None,
        end_line: None,
        function: r.functions.first().cloned(),
        lines_clamped: false,
        severity: match r.classification.as_str() {
            "very promising" => Severity::High,
            "slightly promising" => Severity::Medium,
            "not promising" => Severity::Low,
            _ => Severity::Medium,
        },
        category,
        cwe: r.cwe,
        title: r.headline.clone(),
        description: r.analysis.clone(),
        suggestion: None,
        confidence: None,
    }
}

/// Blocked by revision; every file and function the model named counts for location,
/// and the first function named stands for the enclosing one (the data has no lines to
/// find it from).
pub fn to_place(r: &Record) -> Place {
    Place {
        block: r.revision.clone(),
        files: r.files.clone(),
        functions: r.functions.clone(),
        function: r.functions.first().cloned(),
    }
}
