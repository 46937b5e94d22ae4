//! The terminal table of ranked issues.

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use super::{agreement, cwe_suffix, location, reported_by};
use crate::analysis::Analysis;
use crate::sanitize::terminal_safe;

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
