//! The terminal table of ranked issues.

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use super::{agreement, cwe_suffix, location, reported_by};
use crate::analysis::Analysis;
use crate::sanitize::terminal_safe;
use crate::triage::Triage;

/// The terminal table of ranked issues; in a `--since` review, those outside the
/// changed lines follow in a table of their own.
pub fn table(a: &Analysis, width: Option<u16>) -> String {
    let listed = ranked_tables(a, width);
    match triage_footer(&a.triage) {
        Some(footer) => format!("{listed}\n{footer}"),
        None => listed,
    }
}

/// The lines under the table naming the issues left out as suppressed, and stale
/// suppressions (the counts are in the summary).
fn triage_footer(t: &Triage) -> Option<String> {
    let mut lines: Vec<String> = t
        .suppressed
        .iter()
        .map(|s| format!("suppressed {} {} ({}): {}", s.id, location(&s.issue), s.title, s.reason))
        .collect();
    lines.extend(
        t.stale
            .iter()
            .map(|s| format!("stale suppression {} ({}): no longer found", s.id, s.title)),
    );
    (!lines.is_empty()).then(|| lines.iter().map(|l| terminal_safe(l)).collect::<Vec<_>>().join("\n"))
}

/// The ranked issues: new ones first, then the pre-existing ones apart.
fn ranked_tables(a: &Analysis, width: Option<u16>) -> String {
    if a.issues.is_empty() {
        return "No issues reported.".to_string();
    }
    let new = a.new_issues().next().is_some();
    let old = a.pre_existing_issues().next().is_some();
    match (new, old) {
        (_, false) => issues_table(a, width, false),
        (false, true) => format!(
            "No new issues.\n\n{PRE_EXISTING_HEADING}\n{}",
            issues_table(a, width, true)
        ),
        (true, true) => format!(
            "{}\n\n{PRE_EXISTING_HEADING}\n{}",
            issues_table(a, width, false),
            issues_table(a, width, true)
        ),
    }
}

/// What the second table of a `--since` review holds.
const PRE_EXISTING_HEADING: &str = "Pre-existing (outside the changed lines):";

/// The issue's title, and under it the judge's verdict when it was judged (each line
/// made safe on its own, so the verdict keeps a line of its own).
fn issue_cell(a: &Analysis, issue: &crate::consensus::Issue) -> String {
    let mut cell = terminal_safe(&format!("{}{}", issue.title, cwe_suffix(issue.cwe)));
    for line in super::judge_lines(a, issue) {
        cell.push('\n');
        cell.push_str(&terminal_safe(&super::table_line(&line)));
    }
    cell
}

/// The issues that are (or are not) pre-existing, numbered by rank.
fn issues_table(a: &Analysis, width: Option<u16>, pre_existing: bool) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["#", "agreed", "severity", "location", "issue", "reported by"]);
    if let Some(w) = width {
        t.set_width(w);
    }
    let chosen = a
        .issues
        .iter()
        .enumerate()
        .filter(|(_, i)| i.pre_existing == pre_existing);
    for (i, issue) in chosen {
        t.add_row([
            (i + 1).to_string(),
            agreement(issue),
            issue.severity.as_str().to_string(),
            terminal_safe(&location(issue)),
            issue_cell(a, issue),
            terminal_safe(&reported_by(issue)),
        ]);
    }
    t.to_string()
}
