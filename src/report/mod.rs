//! Reports: the terminal table, `report.md`, `report.json`, `report.sarif`,
//! `report.html`, and for reviewdog `report.rdjson` / `report.rdjsonl`, one file each;
//! the cells they share and the formats live here.
//!
//! Everything a model wrote is untrusted text: control characters are removed before it
//! reaches a terminal (no escape-sequence injection), and Markdown metacharacters are
//! escaped so a finding cannot inject links, HTML or table cells into `report.md`.
//! `report.json` is the contract other tools read; its shape changes only with
//! `SCHEMA_VERSION`.

pub mod html;
mod inline;
mod json;
mod markdown;
pub mod rdjson;
mod repo_path;
pub mod sarif;
mod table;
mod table_layout;
mod verdict;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

pub use json::json;
pub use markdown::{markdown, md_text};
pub use repo_path::RepoPath;
pub use table::table;
pub use verdict::{judge_lines, judge_summary, judgement, peers_line, table_line, verdict_line};

use crate::analysis::Analysis;
use crate::consensus::{Issue, Source};

/// Version of the `report.json` shape.
pub const SCHEMA_VERSION: u32 = 1;

/// A report file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
    Sarif,
    Html,
    /// reviewdog's Diagnostic Format, one JSON document (`reviewdog -f=rdjson`).
    Rdjson,
    /// reviewdog's Diagnostic Format, one diagnostic per line (`reviewdog -f=rdjsonl`).
    Rdjsonl,
}

impl Format {
    /// Every format, so code that handles a run folder's files misses none.
    pub const ALL: [Format; 6] = [
        Format::Markdown,
        Format::Json,
        Format::Sarif,
        Format::Html,
        Format::Rdjson,
        Format::Rdjsonl,
    ];

    /// Parses `--format md,json`.
    pub fn parse_list(list: &str) -> Result<Vec<Format>> {
        let mut formats = Vec::new();
        for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let format = match word.to_ascii_lowercase().as_str() {
                "md" | "markdown" => Format::Markdown,
                "json" => Format::Json,
                "sarif" => Format::Sarif,
                "html" => Format::Html,
                "rdjson" => Format::Rdjson,
                "rdjsonl" => Format::Rdjsonl,
                other => bail!(
                    "unknown report format {other:?}: use md, json, sarif, html, rdjson, rdjsonl, or a list (md,json,sarif)"
                ),
            };
            if !formats.contains(&format) {
                formats.push(format);
            }
        }
        if formats.is_empty() {
            bail!(
                "--format names no report format: use md, json, sarif, html, rdjson, rdjsonl, or a list (md,json,sarif)"
            );
        }
        Ok(formats)
    }

    /// The report's file name in a run folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Markdown => "report.md",
            Format::Json => "report.json",
            Format::Sarif => "report.sarif",
            Format::Html => "report.html",
            Format::Rdjson => "report.rdjson",
            Format::Rdjsonl => "report.rdjsonl",
        }
    }
}

/// Writes the chosen report files into `out`; returns their paths. SARIF and rdjson
/// name files relative to the repository root (see [`RepoPath`]), so git is asked
/// once, and only when one of them is written. `texts` are the reviewed files as the run
/// holds them, unchanged since the review: `report.html` quotes the code around each
/// issue from them.
pub fn write_reports(
    out: &Path,
    analysis: &Analysis,
    formats: &[Format],
    texts: &HashMap<String, String>,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let needs_repo = formats
        .iter()
        .any(|f| matches!(f, Format::Sarif | Format::Rdjson | Format::Rdjsonl));
    let repo = match needs_repo {
        true => RepoPath::of_root(Path::new(&analysis.meta.root)),
        false => RepoPath::default(),
    };
    for format in formats {
        let text = match format {
            Format::Markdown => markdown(analysis),
            Format::Json => json(analysis)?,
            Format::Sarif => sarif::sarif_in(analysis, &repo)?,
            Format::Html => html::html(analysis, texts),
            Format::Rdjson => rdjson::rdjson(analysis, &repo)?,
            Format::Rdjsonl => rdjson::rdjsonl(analysis, &repo)?,
        };
        let path = out.join(format.file_name());
        crate::store::write_atomically(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// The "agreed" cell: `count/of` for the models' issues, `check` for Quorum's own.
pub fn agreement(issue: &Issue) -> String {
    match issue.source {
        Source::Quorum => "check".to_string(),
        Source::Models => format!("{}/{}", issue.agreement.count, issue.agreement.of),
    }
}

/// The "reported by" cell: the models, or `quorum` (with the models that reported
/// nothing on a file that addresses them).
pub fn reported_by(issue: &Issue) -> String {
    match (&issue.source, &issue.check) {
        (Source::Quorum, Some(check)) if !check.silent_providers.is_empty() => format!(
            "quorum; no findings from {} (may have followed the injected instructions)",
            check.silent_providers.join(", ")
        ),
        (Source::Quorum, _) => "quorum".to_string(),
        (Source::Models, _) => issue.agreement.providers.join(", "),
    }
}

fn location(issue: &Issue) -> String {
    match (issue.start_line, issue.end_line) {
        (Some(s), Some(e)) if s != e => format!("{}:{s}-{e}", issue.file),
        (Some(s), _) => format!("{}:{s}", issue.file),
        _ => issue.file.clone(),
    }
}

fn cwe_suffix(cwe: Option<u32>) -> String {
    cwe.map(|c| format!(" (CWE-{c})")).unwrap_or_default()
}

/// What is wrong, in the words of the first model that explained it (Quorum's own
/// check: its description).
fn explanation(issue: &Issue) -> Option<&str> {
    if let Some(check) = &issue.check {
        return Some(check.description.as_str());
    }
    issue
        .findings
        .iter()
        .map(|f| f.description.trim())
        .find(|d| !d.is_empty())
}

/// How to fix it, in the words of the first model that said (free text: models give no
/// replacement for exact lines).
fn fix(issue: &Issue) -> Option<&str> {
    issue
        .findings
        .iter()
        .filter_map(|f| f.suggestion.as_deref().map(str::trim))
        .find(|s| !s.is_empty())
}

/// MITRE's page about a CWE.
fn cwe_url(cwe: u32) -> String {
    format!("https://cwe.mitre.org/data/definitions/{cwe}.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_list_parses_and_rejects_unknown() {
        assert_eq!(
            Format::parse_list("md,json").unwrap(),
            vec![Format::Markdown, Format::Json]
        );
        assert_eq!(
            Format::parse_list("json, md ,json").unwrap(),
            vec![Format::Json, Format::Markdown]
        );
        assert_eq!(
            Format::parse_list("sarif,html").unwrap(),
            vec![Format::Sarif, Format::Html]
        );
        assert_eq!(
            Format::parse_list("rdjson,RDJSONL").unwrap(),
            vec![Format::Rdjson, Format::Rdjsonl]
        );
        assert_eq!(Format::Rdjsonl.file_name(), "report.rdjsonl");
        assert!(Format::parse_list("pdf")
            .unwrap_err()
            .to_string()
            .contains("md, json, sarif, html"));
        assert!(Format::parse_list(" , ").is_err(), "an empty list is an error");
    }
}
