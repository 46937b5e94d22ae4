//! The stored verdicts of a run, read back (by `review` and `aggregate` alike): the last
//! judge record of each issue, its answer read as a verdict, or the issue left unjudged
//! with the reason; then the issues ranked by them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{parse_verdict, rank_by_verdicts, JudgeRun, Judgement, Verdict};
use crate::consensus::Issue;
use crate::store::ResponseRecord;

/// What the judge pass decided, for the reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Judged {
    /// Each judged (or unjudged) issue's verdict, by issue id.
    #[serde(skip)]
    pub verdicts: BTreeMap<String, Judgement>,
    pub confirmed: usize,
    pub rejected: usize,
    pub uncertain: usize,
    /// Issues chosen for judging with no usable verdict: each says why in its `judge`.
    pub unjudged: usize,
}

impl Judged {
    pub fn of(&self, issue: &str) -> Option<&Judgement> {
        self.verdicts.get(issue)
    }

    pub fn is_rejected(&self, issue: &str) -> bool {
        self.of(issue).is_some_and(|j| j.verdict == Verdict::Rejected)
    }

    /// Whether the run had a judge pass at all.
    pub fn ran(&self) -> bool {
        !self.verdicts.is_empty()
    }

    /// One line for the terminal: the counts, and why issues went unjudged.
    pub fn summary_line(&self) -> Option<String> {
        if !self.ran() {
            return None;
        }
        let mut why: Vec<&str> = self
            .verdicts
            .values()
            .filter(|j| j.verdict == Verdict::Unjudged)
            .map(|j| j.reason.as_str())
            .collect();
        why.sort();
        why.dedup();
        let unjudged = match self.unjudged {
            0 => String::new(),
            n => format!("; {n} unjudged (still listed): {}", why.join("; ")),
        };
        Some(format!(
            "Judge: {} confirmed, {} rejected (ranked last, not gated), {} uncertain{unjudged}.",
            self.confirmed, self.rejected, self.uncertain
        ))
    }
}

/// Reads the judge records into verdicts for `issues` (ids no longer found are left out),
/// marks the issues `run` chose but no answer came for, and ranks `issues` by verdict.
pub fn judge_issues(issues: &mut Vec<Issue>, records: Vec<ResponseRecord>, run: Option<&JudgeRun>) -> Judged {
    let mut latest: BTreeMap<String, ResponseRecord> = BTreeMap::new();
    for record in records {
        if let Some(issue) = record.issue.clone() {
            latest.insert(issue, record);
        }
    }
    let mut verdicts = BTreeMap::new();
    for issue in issues.iter() {
        let judgement = match (latest.get(&issue.id), run) {
            (Some(record), _) => judgement(record),
            (None, Some(run)) if run.issues.contains(&issue.id) => Judgement {
                provider: run.provider.clone(),
                verdict: Verdict::Unjudged,
                reason: "not asked: the run stopped before the judge answered; `quorum review --resume` asks it"
                    .to_string(),
            },
            (None, _) => continue,
        };
        verdicts.insert(issue.id.clone(), judgement);
    }
    rank_by_verdicts(issues, &verdicts);
    let count = |v: Verdict| verdicts.values().filter(|j| j.verdict == v).count();
    Judged {
        confirmed: count(Verdict::Confirmed),
        rejected: count(Verdict::Rejected),
        uncertain: count(Verdict::Uncertain),
        unjudged: count(Verdict::Unjudged),
        verdicts,
    }
}

/// A judge record's verdict, or the issue unjudged with why.
fn judgement(record: &ResponseRecord) -> Judgement {
    let unjudged = |reason: String| Judgement {
        provider: record.provider.clone(),
        verdict: Verdict::Unjudged,
        reason,
    };
    let text = match crate::analysis::usable_text(record) {
        Ok(text) => text,
        Err(e) => return unjudged(format!("the judge gave no answer ({}): {}", e.stage, e.message)),
    };
    match parse_verdict(text) {
        Ok(v) => Judgement {
            provider: record.provider.clone(),
            verdict: v.verdict,
            reason: v.reason,
        },
        Err(e) => unjudged(format!("the judge's answer is not a verdict: {e}")),
    }
}
