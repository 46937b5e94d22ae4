//! The terminal table of ranked issues.

use comfy_table::{presets::UTF8_FULL_CONDENSED, ColumnConstraint, ContentArrangement, Table, Width};

use super::table_layout::{self, display_width, Needed};
use super::{agreement, cwe_suffix, location, reported_by};
use crate::analysis::Analysis;
use crate::sanitize::terminal_safe;
use crate::triage::Triage;

/// The width a table is laid out at when none is given.
const DEFAULT_WIDTH: u16 = 120;

/// The terminal table of ranked issues, `width` columns wide at most (default 120;
/// wider only when even the narrowest columns do not fit); in a `--since` review, those
/// outside the changed lines follow in a table of their own.
pub fn table(a: &Analysis, width: Option<u16>) -> String {
    let width = width.unwrap_or(DEFAULT_WIDTH);
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
fn ranked_tables(a: &Analysis, width: u16) -> String {
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

/// The columns of the issue table, in order.
const HEADER: [&str; 6] = ["#", "agreed", "severity", "location", "issue", "reported by"];

/// Where the columns that never shrink are.
const FIXED: [usize; 3] = [0, 1, 2];

/// Where the columns that may shrink are.
const LOCATION: usize = 3;
const TITLE: usize = 4;
const REPORTED_BY: usize = 5;

/// The space each side of a cell, which comfy-table counts in a column's width.
const CELL_PADDING: usize = 2;

/// The issues that are (or are not) pre-existing, numbered by rank: the title column
/// shrinks to fit `width`, a location is never wrapped (see `table_layout`).
fn issues_table(a: &Analysis, width: u16, pre_existing: bool) -> String {
    let rows: Vec<[String; 6]> = a
        .issues
        .iter()
        .enumerate()
        .filter(|(_, i)| i.pre_existing == pre_existing)
        .map(|(i, issue)| {
            [
                (i + 1).to_string(),
                agreement(issue),
                issue.severity.as_str().to_string(),
                terminal_safe(&location(issue)),
                issue_cell(a, issue),
                terminal_safe(&reported_by(issue)),
            ]
        })
        .collect();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(HEADER);
    let widths = table_layout::widths(needed(&rows), usize::from(width));
    for mut row in rows {
        if let Some(w) = widths {
            row[LOCATION] = table_layout::shorten_location(&row[LOCATION], w.location);
        }
        t.add_row(row);
    }
    // `#`, `agreed` and `severity` are short and never squeezed: with them at their
    // content's width and the other columns at the widths chosen, a terminal too narrow
    // for even the minimums gets a table that overflows rather than one that breaks
    // every word.
    for column in FIXED {
        if let Some(c) = t.column_mut(column) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    if let Some(w) = widths {
        for (column, chosen) in [(LOCATION, w.location), (TITLE, w.title), (REPORTED_BY, w.reported_by)] {
            let chosen = u16::try_from(chosen + CELL_PADDING).unwrap_or(u16::MAX);
            if let Some(c) = t.column_mut(column) {
                c.set_constraint(ColumnConstraint::Absolute(Width::Fixed(chosen)));
            }
        }
    }
    t.to_string()
}

/// The widest cell (or header) of each column group.
/// A cell of several lines (a title with the judge's verdict under it) needs its
/// widest line.
fn needed(rows: &[[String; 6]]) -> Needed {
    let widest = |column: usize| {
        rows.iter()
            .flat_map(|r| r[column].lines().map(display_width))
            .chain([display_width(HEADER[column])])
            .max()
            .unwrap_or(0)
    };
    Needed {
        fixed: FIXED.iter().map(|&c| widest(c)).sum(),
        location: widest(LOCATION),
        title: widest(TITLE),
        reported_by: widest(REPORTED_BY),
    }
}
