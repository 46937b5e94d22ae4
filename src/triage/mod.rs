//! What a team already decided about the issues of a run: the issues dismissed in
//! `.quorum/suppressions.toml`, and with `--baseline`, the issues an earlier report
//! already held. Both are taken out of `Analysis::issues` (what reports list and what a
//! gate counts) and kept apart in [`Triage`], so every report can say how many were left
//! out and which.
//!
//! Takes the ranked issues, the files the run sent, and [`Inputs`]; gives the issues
//! still to report and the [`Triage`]. No I/O here but loading the inputs.

mod baseline;
mod locate;
mod suppressions;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

pub use baseline::{Baseline, MAX_BASELINE_BYTES};
pub use locate::suppressions_path;
pub use suppressions::{is_issue_id, Suppression, Suppressions, MAX_REASON_CHARS, MAX_SUPPRESSIONS_BYTES};

use crate::consensus::{nearby_ids, Issue};
use crate::sanitize::terminal_safe;

/// What a run is triaged with: read before anything is sent, so a malformed file stops
/// the run at once.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub suppressions: Suppressions,
    pub baseline: Option<Baseline>,
}

impl Inputs {
    /// The suppressions of the repository `root` is in, and the old report `baseline`.
    pub fn load(root: &Path, baseline: Option<&Path>) -> Result<Inputs> {
        Ok(Inputs {
            suppressions: Suppressions::load(root)?,
            baseline: baseline.map(Baseline::load).transpose()?,
        })
    }
}

/// The issues taken out of a run's report, and why.
#[derive(Debug, Clone, Default)]
pub struct Triage {
    /// The suppressions file that applied, when it has entries.
    pub suppressions_file: Option<String>,
    /// Issues found again and dismissed in the suppressions file.
    pub suppressed: Vec<SuppressedIssue>,
    /// Suppressions whose file this run reviewed without finding their issue: the code
    /// was fixed (or changed), and the entry can go.
    pub stale: Vec<Suppression>,
    pub baseline: Option<BaselineTriage>,
}

/// An issue found again, with the decision that dismissed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuppressedIssue {
    /// The suppression's id (the issue's own, unless a model's moved line moved it:
    /// `issue.id` is then the one nearby).
    pub id: String,
    pub file: String,
    pub title: String,
    pub reason: String,
    pub date: String,
    /// The whole issue, for SARIF (where it is a dismissed result); not in report.json.
    #[serde(skip)]
    pub issue: Issue,
    /// Whether the baseline held it (for SARIF's `baselineState`).
    #[serde(skip)]
    pub in_baseline: bool,
}

/// The issues of this run compared with an earlier report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BaselineTriage {
    /// The old report, as the user named it.
    pub report: String,
    /// Issues the old report already held: left out of the report's list.
    pub unchanged: Vec<Issue>,
    /// Issues of the old report in files this run reviewed, no longer found.
    pub absent: Vec<Issue>,
}

/// Takes the suppressed issues, then those the baseline already held, out of `issues`.
///
/// An id matches exactly first; a suppression or baseline id that matches no issue
/// exactly then matches one issue among its [`nearby_ids`] (a model that named the next
/// line moved it; `texts` are the files' texts the ids were made from). A suppression or
/// baseline issue counts as gone only if this run sent its file (a review of part of the
/// tree says nothing of the rest).
pub fn apply(
    issues: Vec<Issue>,
    files_sent: &HashSet<&str>,
    texts: &HashMap<String, String>,
    inputs: &Inputs,
) -> (Vec<Issue>, Triage) {
    let found: HashSet<String> = issues.iter().map(|i| i.id.clone()).collect();
    let entries = &inputs.suppressions.entries;
    let old_ids = inputs.baseline.as_ref().map(|b| &b.ids);
    // Ids that matched no issue exactly, each free to match one issue nearby.
    let mut loose_suppressions: HashSet<&str> = entries
        .iter()
        .map(|s| s.id.as_str())
        .filter(|id| !found.contains(*id))
        .collect();
    let mut loose_old: HashSet<&str> = old_ids
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|id| !found.contains(*id))
        .collect();
    let mut triage = Triage {
        suppressions_file: (!entries.is_empty()).then(|| inputs.suppressions.path.display().to_string()),
        ..Triage::default()
    };
    let mut kept = Vec::with_capacity(issues.len());
    let mut unchanged = Vec::new();
    for issue in issues {
        let near = if loose_suppressions.is_empty() && loose_old.is_empty() {
            Vec::new()
        } else {
            nearby_ids(&issue, texts)
        };
        let in_baseline =
            old_ids.is_some_and(|ids| ids.contains(&issue.id)) || take_one(&mut loose_old, &near).is_some();
        let suppression = match inputs.suppressions.find(&issue.id) {
            Some(s) => Some(s),
            None => take_one(&mut loose_suppressions, &near).and_then(|id| inputs.suppressions.find(id)),
        };
        match suppression {
            Some(s) => triage.suppressed.push(SuppressedIssue {
                id: s.id.clone(),
                file: issue.file.clone(),
                title: issue.title.clone(),
                reason: s.reason.clone(),
                date: s.date.clone(),
                in_baseline,
                issue,
            }),
            None if in_baseline => unchanged.push(issue),
            None => kept.push(issue),
        }
    }
    let reviewed = |file: Option<&str>| file.is_none_or(|f| files_sent.contains(f));
    triage.stale = entries
        .iter()
        .filter(|s| loose_suppressions.contains(s.id.as_str()) && reviewed(s.file.as_deref()))
        .cloned()
        .collect();
    triage.baseline = inputs.baseline.as_ref().map(|b| BaselineTriage {
        report: b.report.clone(),
        unchanged,
        absent: b
            .issues
            .iter()
            .filter(|old| loose_old.contains(old.id.as_str()) && reviewed(Some(&old.file)))
            .cloned()
            .collect(),
    });
    (kept, triage)
}

/// Takes out of `loose` the first of `near` it holds, and gives it.
fn take_one<'a>(loose: &mut HashSet<&str>, near: &'a [String]) -> Option<&'a str> {
    near.iter().map(String::as_str).find(|id| loose.remove(*id))
}

impl Triage {
    /// The summary's lines about what was left out (none when nothing was), each safe
    /// for a terminal.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let file = self.suppressions_file.as_deref().unwrap_or_default();
        if !self.suppressed.is_empty() {
            lines.push(format!("{} suppressed by {file}.", self.suppressed.len()));
        }
        if !self.stale.is_empty() {
            let ids: Vec<String> = self.stale.iter().map(|s| format!("{} ({})", s.id, s.title)).collect();
            lines.push(format!(
                "{} stale suppressions (their issue is no longer found; remove them from {file}): {}.",
                self.stale.len(),
                ids.join(", ")
            ));
        }
        if let Some(b) = &self.baseline {
            lines.push(format!(
                "{} in the baseline {}, left out; {} baseline issues no longer found.",
                b.unchanged.len(),
                b.report,
                b.absent.len()
            ));
        }
        lines.iter().map(|l| terminal_safe(l)).collect()
    }
}

#[cfg(test)]
mod tests;
