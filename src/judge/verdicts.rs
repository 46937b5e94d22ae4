//! The stored verdicts of a run, read back (by `review` and `aggregate` alike): the last
//! judge record of each issue, its answer read as a verdict, or the issue left unjudged
//! with the reason; then the issues ranked by them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{parse_verdict, rank_by_verdicts, JudgeRun, Judgement, Verdict};
use crate::consensus::{Issue, Source};
use crate::store::ResponseRecord;

/// What the judge pass decided, for the reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Judged {
    /// Each judged (or unjudged) issue's verdict, by issue id.
    #[serde(skip)]
    pub verdicts: BTreeMap<String, Judgement>,
    /// In `peers` mode: each checked issue's peer checks, by issue id.
    #[serde(skip)]
    pub peers: BTreeMap<String, PeerCheck>,
    pub confirmed: usize,
    pub rejected: usize,
    pub uncertain: usize,
    /// Issues chosen for judging with no usable verdict: each says why in its `judge`.
    pub unjudged: usize,
}

/// `peers` mode: what the families that did not report an issue said of it. The issue is
/// "reported or confirmed by `count` of `of`": both counts are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerCheck {
    /// Families that reported it (the consensus agreement).
    pub reported: usize,
    /// Peers that confirmed it.
    pub confirmed: usize,
    /// `reported + confirmed`.
    pub count: usize,
    /// Families that reviewed the file.
    pub of: usize,
    /// Each peer's verdict (unjudged ones say why).
    pub checks: Vec<Judgement>,
}

impl Judged {
    pub fn of(&self, issue: &str) -> Option<&Judgement> {
        self.verdicts.get(issue)
    }

    pub fn peers_of(&self, issue: &str) -> Option<&PeerCheck> {
        self.peers.get(issue)
    }

    /// The families behind an issue: those that reported it, and in `peers` mode those
    /// that confirmed it. What `--min-agree` and the gate count.
    pub fn agreement(&self, issue: &Issue) -> usize {
        self.peers_of(&issue.id).map_or(issue.agreement.count, |p| p.count)
    }

    pub fn is_rejected(&self, issue: &str) -> bool {
        self.of(issue).is_some_and(|j| j.verdict == Verdict::Rejected)
    }

    /// Whether the run had a judge pass at all.
    pub fn ran(&self) -> bool {
        !self.verdicts.is_empty() || !self.peers.is_empty()
    }

    /// Every verdict: the judge's, and each peer's.
    fn all(&self) -> impl Iterator<Item = &Judgement> {
        self.verdicts
            .values()
            .chain(self.peers.values().flat_map(|p| &p.checks))
    }

    /// One line for the terminal: the counts, and why issues went unjudged.
    pub fn summary_line(&self) -> Option<String> {
        if !self.ran() {
            return None;
        }
        let mut why: Vec<&str> = self
            .all()
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
/// In `peers` mode a verdict from a reviewer of the run (`reviewers`) whose family did not
/// report the issue is a peer check; any other is the named judge's.
pub fn judge_issues(
    issues: &mut Vec<Issue>,
    records: Vec<ResponseRecord>,
    run: Option<&JudgeRun>,
    reviewers: &BTreeSet<String>,
) -> Judged {
    let peers_mode = run.is_some_and(|r| r.mode == "peers");
    let mut latest: BTreeMap<String, BTreeMap<String, ResponseRecord>> = BTreeMap::new();
    for record in records {
        if let Some(issue) = record.issue.clone() {
            latest.entry(issue).or_default().insert(record.provider.clone(), record);
        }
    }
    let mut verdicts = BTreeMap::new();
    let mut peers = BTreeMap::new();
    for issue in issues.iter() {
        let reporters: BTreeSet<&str> = issue.findings.iter().map(|f| f.family.as_str()).collect();
        let mut checks = Vec::new();
        for record in latest.get(&issue.id).into_iter().flat_map(|r| r.values()) {
            let family = record.family.as_deref().unwrap_or(&record.model);
            let judgement = judgement(record);
            if peers_mode && reviewers.contains(&record.provider) && !reporters.contains(family) {
                checks.push(judgement);
            } else {
                verdicts.insert(issue.id.clone(), judgement);
            }
        }
        let asked = !checks.is_empty() || verdicts.contains_key(&issue.id);
        if let (false, Some(run)) = (asked, run) {
            if run.issues.contains(&issue.id) {
                verdicts.insert(issue.id.clone(), never_asked(run));
            }
        }
        if !checks.is_empty() {
            let confirmed = checks.iter().filter(|j| j.verdict == Verdict::Confirmed).count();
            peers.insert(
                issue.id.clone(),
                PeerCheck {
                    reported: issue.agreement.count,
                    confirmed,
                    count: issue.agreement.count + confirmed,
                    of: issue.agreement.of,
                    checks,
                },
            );
        }
    }
    rank_by_peers(issues, &peers);
    rank_by_verdicts(issues, &verdicts, &peers);
    let mut judged = Judged {
        verdicts,
        peers,
        ..Judged::default()
    };
    let count = |v: Verdict| judged.all().filter(|j| j.verdict == v).count();
    (judged.confirmed, judged.rejected, judged.uncertain, judged.unjudged) = (
        count(Verdict::Confirmed),
        count(Verdict::Rejected),
        count(Verdict::Uncertain),
        count(Verdict::Unjudged),
    );
    judged
}

/// The verdict of an issue chosen but never asked about.
fn never_asked(run: &JudgeRun) -> Judgement {
    Judgement {
        provider: run.provider.clone(),
        verdict: Verdict::Unjudged,
        reason: "not asked: the run stopped before the judge answered; `quorum review --resume` asks it".to_string(),
    }
}

/// `peers` mode: the models' issues ranked by how many families reported or confirmed
/// them (stable, so consensus order holds within a count); Quorum's own stay first.
fn rank_by_peers(issues: &mut [Issue], peers: &BTreeMap<String, PeerCheck>) {
    if peers.is_empty() {
        return;
    }
    let count = |i: &Issue| peers.get(&i.id).map_or(i.agreement.count, |p| p.count);
    issues.sort_by_key(|i| (i.source != Source::Quorum, std::cmp::Reverse(count(i))));
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
