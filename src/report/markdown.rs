//! `report.md`. Markdown metacharacters in what a model wrote are escaped, so a finding
//! cannot inject links, HTML or table cells; its `code spans` stay code (`inline`).

use std::fmt::Write as _;

use super::{agreement, cwe_suffix, inline, location, reported_by};
use crate::analysis::{Analysis, AnswerCut, ProviderTotals};
use crate::sanitize::terminal_safe;
use crate::triage::Triage;

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
    if let Some(since) = &m.since {
        let _ = writeln!(
            md,
            "Changes since `{}` (`{}`): {} new issues, {} pre-existing (outside the changed lines and {} lines \
             around them), listed apart.\n",
            code_span(&since.reference),
            code_span(&since.commit),
            a.new_issues().count(),
            a.pre_existing_issues().count(),
            crate::analysis::CHANGE_MARGIN_LINES
        );
    }
    if let Some(why) = &m.stopped_early {
        let _ = writeln!(
            md,
            "**This run stopped early ({}): some requests were never made, so this report is partial.** \
             Continue it with `quorum review --resume`.\n",
            md_text(why)
        );
    }
    if let Some(caution) = &a.judge.caution {
        let _ = writeln!(md, "**{}**\n", md_text(caution));
    }
    markdown_summary(&mut md, a);
    markdown_issues(&mut md, a);
    markdown_triage(&mut md, &a.triage);
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
    summary_table(md, a, false);
    if a.pre_existing_issues().next().is_some() {
        md.push_str("## Pre-existing (outside the changed lines)\n\n");
        summary_table(md, a, true);
    }
}

/// The summary rows of the new issues, or of the pre-existing ones, numbered by rank.
fn summary_table(md: &mut String, a: &Analysis, pre_existing: bool) {
    md.push_str("| # | id | agreed | severity | location | issue | reported by |\n|---|---|---|---|---|---|---|\n");
    let chosen = a
        .issues
        .iter()
        .enumerate()
        .filter(|(_, i)| i.pre_existing == pre_existing);
    for (i, issue) in chosen {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {}{} | {} |",
            i + 1,
            issue.id,
            agreement(issue),
            issue.severity.as_str(),
            md_text(&location(issue)),
            inline::markdown_cell(&issue.title),
            md_text(&cwe_suffix(issue.cwe)),
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
    if let Some(summary) = super::judge_summary(a) {
        let _ = writeln!(md, "{}\n", md_text(&summary));
    }
    for (i, issue) in a.issues.iter().enumerate() {
        let _ = writeln!(
            md,
            "### {}. {} ({})\n\n**{}** · {} · agreed by {} · `{}`{}{}\n",
            i + 1,
            inline::markdown(&issue.title),
            issue.id,
            issue.severity.as_str(),
            issue.category.as_str(),
            agreement(issue),
            code_span(&location(issue)),
            cwe_suffix(issue.cwe),
            if issue.pre_existing { " · pre-existing" } else { "" }
        );
        for line in super::judge_lines(a, issue) {
            let _ = writeln!(md, "- **{}**", md_text(&line));
        }
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
                inline::markdown(&f.title),
                inline::markdown(&f.description)
            );
            if let Some(s) = &f.suggestion {
                let _ = writeln!(md, "  - Fix: {}", inline::markdown(s));
            }
        }
        md.push('\n');
    }
}

/// What was left out as already decided: suppressed issues with their reasons, stale
/// suppressions, and the baseline's count.
fn markdown_triage(md: &mut String, t: &Triage) {
    if t.suppressed.is_empty() && t.stale.is_empty() && t.baseline.is_none() {
        return;
    }
    md.push_str(
        "## Left out

",
    );
    let file = code_span(t.suppressions_file.as_deref().unwrap_or_default());
    if !t.suppressed.is_empty() {
        let _ = writeln!(
            md,
            "{} suppressed by `{file}`:\n\n| id | location | issue | reason | since |\n|---|---|---|---|---|",
            t.suppressed.len()
        );
        for s in &t.suppressed {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                s.id,
                md_text(&location(&s.issue)),
                md_text(&s.title),
                md_text(&s.reason),
                md_text(&s.date)
            );
        }
        md.push('\n');
    }
    if !t.stale.is_empty() {
        let _ = writeln!(
            md,
            "{} stale suppressions: their issue is no longer found in a file this run reviewed; remove them from \
             `{file}`.\n\n| id | issue | reason | since |\n|---|---|---|---|",
            t.stale.len()
        );
        for s in &t.stale {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                md_text(&s.id),
                md_text(&s.title),
                md_text(&s.reason),
                md_text(&s.date)
            );
        }
        md.push('\n');
    }
    if let Some(b) = &t.baseline {
        let gone: Vec<&str> = b.absent.iter().map(|i| i.id.as_str()).collect();
        let _ = writeln!(
            md,
            "{} in the baseline `{}`, left out; {} baseline issues no longer found{}.\n",
            b.unchanged.len(),
            code_span(&b.report),
            b.absent.len(),
            if gone.is_empty() {
                String::new()
            } else {
                format!(": {}", md_text(&gone.join(", ")))
            }
        );
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
///
/// GFM's extended autolinks (`http://`, `https://`, `ftp://`, `www.`) run on to the next
/// space or `<`, so a link written right before a code span would swallow its opening
/// backtick and make the span's body live Markdown: the `:` of every `://` and the `.`
/// after every `www` are escaped, which GFM shows as themselves and never links. Email
/// and `mailto:` autolinks are found only inside plain text, after code spans are read,
/// so they cannot reach into one.
pub fn md_text(text: &str) -> String {
    let safe = terminal_safe(text);
    let mut out = String::with_capacity(safe.len());
    for (at, c) in safe.char_indices() {
        let escaped = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&' => true,
            ':' => safe[at + 1..].starts_with("//"),
            '.' => at >= 3 && safe.as_bytes()[at - 3..at].eq_ignore_ascii_case(b"www"),
            _ => false,
        };
        if escaped {
            out.push('\\');
        }
        out.push(c);
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
    fn markdown_text_is_escaped() {
        assert_eq!(
            md_text("<img src=x onerror=alert(1)> | [a](b)"),
            "\\<img src=x onerror=alert(1)\\> \\| \\[a\\](b)"
        );
    }
}
