//! Reports: the terminal table, `report.md`, `report.json`, `report.sarif` and
//! `report.html`, one file each; the cells they share and the formats live here.
//!
//! Everything a model wrote is untrusted text: control characters are removed before it
//! reaches a terminal (no escape-sequence injection), and Markdown metacharacters are
//! escaped so a finding cannot inject links, HTML or table cells into `report.md`.
//! `report.json` is the contract other tools read; its shape changes only with
//! `SCHEMA_VERSION`.

pub mod html;
mod json;
mod markdown;
pub mod sarif;
mod table;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

pub use json::json;
pub use markdown::{markdown, md_text};
pub use table::table;

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
}

impl Format {
    /// Every format, so code that handles a run folder's files misses none.
    pub const ALL: [Format; 4] = [Format::Markdown, Format::Json, Format::Sarif, Format::Html];

    /// Parses `--format md,json`.
    pub fn parse_list(list: &str) -> Result<Vec<Format>> {
        let mut formats = Vec::new();
        for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let format = match word.to_ascii_lowercase().as_str() {
                "md" | "markdown" => Format::Markdown,
                "json" => Format::Json,
                "sarif" => Format::Sarif,
                "html" => Format::Html,
                other => bail!("unknown report format {other:?}: use md, json, sarif, html, or a list (md,json,sarif)"),
            };
            if !formats.contains(&format) {
                formats.push(format);
            }
        }
        if formats.is_empty() {
            bail!("--format names no report format: use md, json, sarif, html, or a list (md,json,sarif)");
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
        }
    }
}

/// Writes the chosen report files into `out`; returns their paths.
pub fn write_reports(out: &Path, analysis: &Analysis, formats: &[Format]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for format in formats {
        let text = match format {
            Format::Markdown => markdown(analysis),
            Format::Json => json(analysis)?,
            Format::Sarif => crate::report::sarif::sarif(analysis)?,
            Format::Html => crate::report::html::html(analysis),
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
        assert!(Format::parse_list("pdf")
            .unwrap_err()
            .to_string()
            .contains("md, json, sarif, html"));
        assert!(Format::parse_list(" , ").is_err(), "an empty list is an error");
    }
}
