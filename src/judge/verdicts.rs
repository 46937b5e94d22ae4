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
    /// Single-family high or critical issues not asked about: over the cap (in
    /// `report.json` as the run's `capped`).
    #[serde(skip)]
    pub capped: usize,
    /// What the judge pass sent and cost, per provider.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<super::JudgeSpend>,
    /// A warning about the verdicts as a whole, when they look like a judge too weak for
    /// the task (it rejected everything it judged): said on the terminal and at the top
    /// of the Markdown and HTML reports. (The gate has its own bound on what rejections
    /// keep out of it: `commands::gate::MAX_REJECTIONS_TRUSTED`.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caution: Option<String>,
}

/// The fewest verdicts, all rejections, that earn the judge a [`Judged::caution`]: one
/// or two rejected issues are an ordinary outcome, every one of three or more is how a
/// small model answers whatever it is shown (a tiny local model rejected all six issues
/// of the demo).
pub const ALL_REJECTED_CAUTION_MIN: usize = 3;

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
        let unjudged = match self.unjudged {
            0 => String::new(),
            n => format!("; {n} unjudged (still listed): {}", self.unjudged_kinds()),
        };
        let capped = match self.capped {
            0 => String::new(),
            n => format!(
                "; {n} more single-family high or critical issues not judged (at most {} beyond the top are)",
                super::MAX_EXTRA
            ),
        };
        let spend = super::spend_sentence(&self.usage)
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        Some(format!(
            "Judge: {} confirmed, {} rejected (ranked last), {} uncertain{unjudged}{capped}.{spend}",
            self.confirmed, self.rejected, self.uncertain
        ))
    }
}

/// The caution a judge earns by rejecting every issue it gave a verdict on (at least
/// [`ALL_REJECTED_CAUTION_MIN`]); peers' checks do not count: they are the reviewers.
fn caution(verdicts: &BTreeMap<String, Judgement>) -> Option<String> {
    let given: Vec<Verdict> = verdicts
        .values()
        .map(|j| j.verdict)
        .filter(|v| *v != Verdict::Unjudged)
        .collect();
    let all_rejected = given.len() >= ALL_REJECTED_CAUTION_MIN && given.iter().all(|v| *v == Verdict::Rejected);
    all_rejected.then(|| {
        format!(
            "Caution: the judge rejected all {} issues it gave a verdict on, as a model too weak \
             to judge tends to; they rank last only because of it: read its reasons, or judge with \
             a stronger model.",
            given.len()
        )
    })
}

/// The most kinds of unjudged reason the summary names, and the characters of the
/// example quoted for each: a judge answering nonsense to 150 questions gives one short
/// line, not 150 excerpts.
const SUMMARY_KINDS: usize = 3;
const SUMMARY_EXAMPLE_CHARS: usize = 60;

impl Judged {
    /// Why issues went unjudged, by kind, most frequent first: each with its count and
    /// one example; at most [`SUMMARY_KINDS`] kinds, then how many more.
    fn unjudged_kinds(&self) -> String {
        let mut kinds: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
        for j in self.all().filter(|j| j.verdict == Verdict::Unjudged) {
            let (kind, detail) = reason_kind(&j.reason);
            kinds.entry(kind).or_insert((0, detail)).0 += 1;
        }
        let mut kinds: Vec<(&str, (usize, &str))> = kinds.into_iter().collect();
        kinds.sort_by_key(|(kind, (count, _))| (std::cmp::Reverse(*count), *kind));
        let mut parts: Vec<String> = kinds
            .iter()
            .take(SUMMARY_KINDS)
            .map(|(kind, (count, detail))| {
                let example = crate::normalize::finding::shortened(detail.trim(), SUMMARY_EXAMPLE_CHARS);
                match example.is_empty() {
                    true => format!("{count} × {kind}"),
                    false => format!("{count} × {kind} (e.g. {example})"),
                }
            })
            .collect();
        if kinds.len() > SUMMARY_KINDS {
            parts.push(format!("{} more kinds (see each issue)", kinds.len() - SUMMARY_KINDS));
        }
        parts.join("; ")
    }
}

/// An unjudged reason's kind (Quorum's own words) and its detail (the judge's answer or
/// the server's error, which vary from issue to issue).
fn reason_kind(reason: &str) -> (&str, &str) {
    const NOT_A_VERDICT: &str = "the judge's answer is not a verdict: ";
    const UNKNOWN_WORD: &str = "the verdict ";
    // The kind runs to the first ": " after Quorum's own prefix.
    let split_after = |prefix_len: usize| match reason[prefix_len..].find(": ") {
        Some(i) => (&reason[..prefix_len + i], &reason[prefix_len + i + 2..]),
        None => (reason, ""),
    };
    match reason.strip_prefix(NOT_A_VERDICT) {
        Some(rest) if rest.starts_with(UNKNOWN_WORD) => (
            "the judge's answer is not a verdict: a word none of confirmed, rejected, uncertain",
            rest,
        ),
        Some(_) => split_after(NOT_A_VERDICT.len()),
        None => split_after(0),
    }
}

/// Reads the judge records into verdicts for `issues` (ids no longer found are left out),
/// marks the issues `run` chose but no answer came for, and ranks `issues` by verdict.
/// Only a record of `run`'s judge provider is the judge's verdict; in `peers` mode a
/// record of another reviewer of the run (`reviewers`) whose family did not report the
/// issue is a peer check; any other record counts for nothing (a run without a judge
/// pass has no verdicts).
pub fn judge_issues(
    issues: &mut Vec<Issue>,
    records: Vec<ResponseRecord>,
    run: Option<&JudgeRun>,
    reviewers: &BTreeSet<String>,
) -> Judged {
    let Some(run) = run else {
        return Judged::default();
    };
    let peers_mode = run.mode == "peers";
    // Each issue's records by provider, in the order they were stored.
    let mut stored: BTreeMap<String, BTreeMap<String, Vec<ResponseRecord>>> = BTreeMap::new();
    for record in records {
        if let Some(issue) = record.issue.clone() {
            let by_provider = stored.entry(issue).or_default();
            by_provider.entry(record.provider.clone()).or_default().push(record);
        }
    }
    let mut verdicts = BTreeMap::new();
    let mut peers = BTreeMap::new();
    for issue in issues.iter() {
        let reporters: BTreeSet<&str> = issue.findings.iter().map(|f| f.family.as_str()).collect();
        let mut checks = Vec::new();
        for (provider, records) in stored.get(&issue.id).into_iter().flatten() {
            let family = records[0].family.as_deref().unwrap_or(&records[0].model);
            if *provider == run.provider {
                verdicts.insert(issue.id.clone(), settled(records));
            } else if peers_mode && reviewers.contains(provider) && !reporters.contains(family) {
                checks.push(settled(records));
            }
        }
        let asked = !checks.is_empty() || verdicts.contains_key(&issue.id);
        if !asked && run.issues.contains(&issue.id) {
            verdicts.insert(issue.id.clone(), never_asked(run));
        }
        if !checks.is_empty() {
            peers.insert(issue.id.clone(), peer_check(issue, checks));
        }
    }
    rank_by_peers(issues, &peers);
    rank_by_verdicts(issues, &verdicts, &peers);
    let mut judged = Judged {
        caution: caution(&verdicts),
        verdicts,
        peers,
        capped: run.capped,
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

/// The peer checks of `issue`: never more families than reviewed its file, whatever the
/// records hold.
fn peer_check(issue: &Issue, checks: Vec<Judgement>) -> PeerCheck {
    let of = issue.agreement.of;
    let reported = issue.agreement.count.min(of);
    let confirmed = checks
        .iter()
        .filter(|j| j.verdict == Verdict::Confirmed)
        .count()
        .min(of - reported);
    PeerCheck {
        reported,
        confirmed,
        count: reported + confirmed,
        of,
        checks,
    }
}

/// One provider's verdict on one issue from all it stored (a resumed run adds a record
/// after a failed one; merged folders may each hold one): its verdict when every usable
/// one agrees, whatever order the folders came in; unjudged when they disagree; else
/// the newest record's reason for having none.
fn settled(records: &[ResponseRecord]) -> Judgement {
    let all: Vec<Judgement> = records.iter().map(judgement).collect();
    let usable: Vec<&Judgement> = all.iter().filter(|j| j.verdict != Verdict::Unjudged).collect();
    match usable.last() {
        None => all.last().expect("a provider's records are never empty").clone(),
        Some(newest) if usable.iter().all(|j| j.verdict == newest.verdict) => (*newest).clone(),
        Some(newest) => Judgement {
            provider: newest.provider.clone(),
            verdict: Verdict::Unjudged,
            reason: "the judge's stored verdicts on this issue disagree (run folders merged from different runs?)"
                .to_string(),
        },
    }
}

/// The verdict of an issue chosen but never asked about.
fn never_asked(run: &JudgeRun) -> Judgement {
    let reason = match &run.dropped {
        Some(why) => format!(
            "not asked: the judge failed its checks before the run ({why}); once it works, \
             `quorum review --resume` asks it"
        ),
        None => "not asked: the run stopped before the judge answered; `quorum review --resume` asks it".to_string(),
    };
    Judgement {
        provider: run.provider.clone(),
        verdict: Verdict::Unjudged,
        reason,
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
