//! Reports: the terminal table, `report.md` and `report.json`.
//!
//! Everything a model wrote is untrusted text: control characters are removed before it
//! reaches a terminal (no escape-sequence injection), and Markdown metacharacters are
//! escaped so a finding cannot inject links, HTML or table cells into `report.md`.
//! `report.json` is the contract other tools read; its shape changes only with
//! `SCHEMA_VERSION`.

pub mod html;
pub mod sarif;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;

use crate::analysis::{Analysis, AnswerCut, ProviderTotals, RunError};
use crate::consensus::{Issue, Source};
use crate::input::walk::Skipped;
use crate::sanitize::terminal_safe;

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

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    run: JsonRun<'a>,
    issues: &'a [Issue],
    errors: &'a [RunError],
    /// Answers used only in part (past the limits on findings or field lengths).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    cut: &'a [AnswerCut],
    skipped: &'a [Skipped],
}

#[derive(Serialize)]
struct JsonRun<'a> {
    /// Where the token and cost figures come from: `measured` (servers' reported usage
    /// of this run's requests). Estimates appear only in `--dry-run` output.
    token_figures: &'static str,
    run_id: &'a str,
    root: &'a str,
    started_at: &'a str,
    finished_at: Option<&'a str>,
    files_sent: usize,
    files_reviewed: usize,
    files_skipped: usize,
    /// Why the run stopped before asking everything (absent when it finished).
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped_early: Option<&'a str>,
    providers: &'a [ProviderTotals],
}

/// `report.json`.
pub fn json(a: &Analysis) -> Result<String> {
    let report = JsonReport {
        schema_version: SCHEMA_VERSION,
        run: JsonRun {
            token_figures: "measured",
            run_id: &a.meta.run_id,
            root: &a.meta.root,
            started_at: &a.meta.started_at,
            finished_at: a.meta.finished_at.as_deref(),
            files_sent: a.meta.files.len(),
            files_reviewed: a.files_reviewed,
            files_skipped: a.meta.skipped.len(),
            stopped_early: a.meta.stopped_early.as_deref(),
            providers: &a.providers,
        },
        issues: &a.issues,
        errors: &a.errors,
        cut: &a.cuts,
        skipped: &a.meta.skipped,
    };
    Ok(serde_json::to_string_pretty(&report)? + "\n")
}

/// The terminal table of ranked issues.
pub fn table(a: &Analysis, width: Option<u16>) -> String {
    if a.issues.is_empty() {
        return "No issues reported.".to_string();
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["#", "agreed", "severity", "location", "issue", "reported by"]);
    if let Some(w) = width {
        t.set_width(w);
    }
    for (i, issue) in a.issues.iter().enumerate() {
        t.add_row([
            (i + 1).to_string(),
            agreement(issue),
            issue.severity.as_str().to_string(),
            terminal_safe(&location(issue)),
            terminal_safe(&format!("{}{}", issue.title, cwe_suffix(issue.cwe))),
            terminal_safe(&reported_by(issue)),
        ]);
    }
    t.to_string()
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

/// `report.md`.
pub fn markdown(a: &Analysis) -> String {
    let mut md = String::new();
    let m = &a.meta;
    let _ = writeln!(md, "# Quorum review of `{}`\n", code_span(&m.root));
    let _ = writeln!(
        md,
        "Run `{}`, started {}. {} files sent, {} reviewed by at least one model, {} skipped. \
         {} issues, ranked by how many independent models reported them.\n",
        m.run_id,
        md_text(&m.started_at),
        m.files.len(),
        a.files_reviewed,
        m.skipped.len(),
        a.issues.len()
    );
    if let Some(why) = &m.stopped_early {
        let _ = writeln!(
            md,
            "**This run stopped early ({}): some requests were never made, so this report is partial.** \
             Continue it with `quorum review --resume`.\n",
            md_text(why)
        );
    }
    markdown_summary(&mut md, a);
    markdown_issues(&mut md, a);
    markdown_providers(&mut md, &a.providers);
    if !a.errors.is_empty() {
        let _ = writeln!(
            md,
            "## Errors\n\n| provider | file | what failed | message |\n|---|---|---|---|"
        );
        for e in &a.errors {
            let stage = match &e.kind {
                Some(kind) => format!("{} ({kind})", e.stage),
                None => e.stage.clone(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                md_text(&e.provider),
                md_text(&e.file),
                stage,
                md_text(&e.message)
            );
        }
        md.push('\n');
    }
    markdown_cuts(&mut md, &a.cuts);
    if !m.skipped.is_empty() {
        let _ = writeln!(md, "## Files not reviewed\n\n| file | reason |\n|---|---|");
        for s in &m.skipped {
            let _ = writeln!(md, "| {} | {} |", md_text(&s.path), md_text(&s.reason));
        }
        md.push('\n');
    }
    md
}

fn markdown_summary(md: &mut String, a: &Analysis) {
    if a.issues.is_empty() {
        md.push_str("No issues reported.\n\n");
        return;
    }
    md.push_str("| # | id | agreed | severity | location | issue | reported by |\n|---|---|---|---|---|---|---|\n");
    for (i, issue) in a.issues.iter().enumerate() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            issue.id,
            agreement(issue),
            issue.severity.as_str(),
            md_text(&location(issue)),
            md_text(&format!("{}{}", issue.title, cwe_suffix(issue.cwe))),
            md_text(&reported_by(issue))
        );
    }
    md.push('\n');
}

fn markdown_issues(md: &mut String, a: &Analysis) {
    if a.issues.is_empty() {
        return;
    }
    md.push_str("## Issues\n\n");
    for (i, issue) in a.issues.iter().enumerate() {
        let _ = writeln!(
            md,
            "### {}. {} ({})\n\n**{}** · {} · agreed by {} · `{}`{}\n",
            i + 1,
            md_text(&issue.title),
            issue.id,
            issue.severity.as_str(),
            issue.category.as_str(),
            agreement(issue),
            code_span(&location(issue)),
            cwe_suffix(issue.cwe)
        );
        if let Some(check) = &issue.check {
            let _ = writeln!(
                md,
                "- **quorum** (its own check, not a model's vote): {}",
                md_text(&check.description)
            );
        }
        for f in &issue.findings {
            let lines = match (f.start_line, f.end_line) {
                (Some(s), Some(e)) => format!(" (lines {s}-{e}{})", if f.lines_clamped { ", clamped" } else { "" }),
                _ => String::new(),
            };
            let _ = writeln!(
                md,
                "- **{}**{}, {}: {} — {}",
                md_text(&f.provider),
                lines,
                f.severity.as_str(),
                md_text(&f.title),
                md_text(&f.description)
            );
            if let Some(s) = &f.suggestion {
                let _ = writeln!(md, "  - Fix: {}", md_text(s));
            }
        }
        md.push('\n');
    }
}

fn markdown_cuts(md: &mut String, cuts: &[AnswerCut]) {
    if cuts.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "## Answers cut\n\nThese answers went past Quorum's limits ({} findings per answer; {} characters per \
         title, {} per description or fix). Their first findings were used, shortened; the rest was left \
         out.\n\n| provider | file | findings left out | fields shortened |\n|---|---|---|---|",
        crate::normalize::parse::MAX_FINDINGS_PER_ANSWER,
        crate::normalize::finding::MAX_TITLE_CHARS,
        crate::normalize::finding::MAX_DESCRIPTION_CHARS,
    );
    for c in cuts {
        let part = c
            .chunk
            .map(|p| format!(" (lines {}-{})", p.start_line, p.end_line))
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "| {} | {}{part} | {} | {} |",
            md_text(&c.provider),
            md_text(&c.file),
            c.cut.findings,
            c.cut.fields
        );
    }
    md.push('\n');
}

fn markdown_providers(md: &mut String, providers: &[ProviderTotals]) {
    md.push_str(
        "## Providers\n\nToken counts are **measured**: summed from the token usage each server reported for \
         this run's requests (answers from the cache cost nothing and are not counted). Cost is computed from \
         them and the configured prices.\n\n\
         | provider | model | family | files answered | from cache | failed | unusable answers | findings | dropped \
         | input tokens | output tokens | cost | median latency |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for p in providers {
        let unreported = if p.answers_without_usage > 0 {
            format!(" (+{} answers with no usage reported)", p.answers_without_usage)
        } else {
            String::new()
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {}{unreported} | {}{unreported} | {} | {:.1} s |",
            md_text(&p.name),
            md_text(&p.model),
            md_text(&p.family),
            p.requests,
            p.cached_answers,
            p.failures,
            p.unusable_answers,
            p.findings,
            p.dropped_findings,
            p.input_tokens,
            p.output_tokens,
            p.cost_usd.map_or_else(|| "–".to_string(), |c| format!("${c:.4}")),
            p.median_latency_ms as f64 / 1000.0
        );
    }
    md.push('\n');
}

/// Escapes untrusted text for a Markdown paragraph or table cell.
pub fn md_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in terminal_safe(text).chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text for inside a `code span`: backticks cannot close it early.
fn code_span(text: &str) -> String {
    terminal_safe(text).replace('`', "'")
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

    #[test]
    fn markdown_text_is_escaped() {
        assert_eq!(
            md_text("<img src=x onerror=alert(1)> | [a](b)"),
            "\\<img src=x onerror=alert(1)\\> \\| \\[a\\](b)"
        );
    }
}
