//! The judge's verdict as every report shows it: one line per judged issue, and the run's
//! counts. The reason is the judge's own words (untrusted): each report escapes it.

use crate::analysis::Analysis;
use crate::consensus::Issue;
use crate::judge::Judgement;

/// The most characters of a reason in the terminal table, which must stay readable.
const TABLE_REASON_CHARS: usize = 120;

/// The judge's verdict on `issue`, if it was judged.
pub fn judgement<'a>(a: &'a Analysis, issue: &Issue) -> Option<&'a Judgement> {
    a.judge.of(&issue.id)
}

/// `judge gpt: rejected: the id is checked in middleware.go` (plain text).
pub fn verdict_line(j: &Judgement) -> String {
    let reason = j.reason.trim();
    match reason.is_empty() {
        true => format!("judge {}: {}", j.provider, j.verdict.as_str()),
        false => format!("judge {}: {}: {reason}", j.provider, j.verdict.as_str()),
    }
}

/// The verdict line shortened for a table cell.
pub fn verdict_cell(j: &Judgement) -> String {
    crate::normalize::finding::shortened(&verdict_line(j), TABLE_REASON_CHARS)
}

/// The run's judge counts, for the top of a report (none without a judge pass).
pub fn judge_summary(a: &Analysis) -> Option<String> {
    a.judge.summary_line()
}
