//! The judge's verdict as every report shows it: one line per judged issue, and the run's
//! counts. The reason is the judge's own words (untrusted): each report escapes it.

use crate::analysis::Analysis;
use crate::consensus::Issue;
use crate::judge::{Judgement, PeerCheck};

/// The most characters of a reason in the terminal table, which must stay readable.
const TABLE_REASON_CHARS: usize = 120;

/// The judge's verdict on `issue`, if it was judged.
pub fn judgement<'a>(a: &'a Analysis, issue: &Issue) -> Option<&'a Judgement> {
    a.judge.of(&issue.id)
}

/// Every line the judge pass has about `issue`: the judge's verdict, and in `peers` mode
/// the count of families that reported or confirmed it with each peer's verdict.
pub fn judge_lines(a: &Analysis, issue: &Issue) -> Vec<String> {
    let mut lines: Vec<String> = judgement(a, issue).map(verdict_line).into_iter().collect();
    if let Some(p) = a.judge.peers_of(&issue.id) {
        lines.push(peers_line(p));
    }
    lines
}

/// `reported or confirmed by 3 of 4 (2 reported, 1 confirmed): peers gemma: confirmed: …; …`.
pub fn peers_line(p: &PeerCheck) -> String {
    let checks: Vec<String> = p.checks.iter().map(verdict_line).collect();
    format!(
        "reported or confirmed by {} of {} ({} reported, {} confirmed by peers): {}",
        p.count,
        p.of,
        p.reported,
        p.confirmed,
        checks.join("; ")
    )
}

/// `judge gpt: rejected: the id is checked in middleware.go` (plain text).
pub fn verdict_line(j: &Judgement) -> String {
    let reason = j.reason.trim();
    match reason.is_empty() {
        true => format!("judge {}: {}", j.provider, j.verdict.as_str()),
        false => format!("judge {}: {}: {reason}", j.provider, j.verdict.as_str()),
    }
}

/// A line shortened for a table cell.
pub fn table_line(line: &str) -> String {
    crate::normalize::finding::shortened(line, TABLE_REASON_CHARS)
}

/// The run's judge counts, for the top of a report (none without a judge pass).
pub fn judge_summary(a: &Analysis) -> Option<String> {
    a.judge.summary_line()
}
