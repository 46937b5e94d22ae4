//! Ranking: each group of findings becomes an [`Issue`] with a score, and the issues are
//! put in order.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::cluster::{cluster_profiles, Group};
use super::cwe::is_generic_cwe;
use super::hashing::function_key;
use super::id::assign_ids;
use super::prior::{cwe_prior, DemotedPaths, NEUTRAL_PRIOR};
use super::profile::{profile_all, Profile};
use super::similarity::{location_similarity, weakness_similarity};
use super::{block_of, Agreement, Issue, Place, Ranked, Settings, Source};
use crate::normalize::finding::{Category, Finding, Severity};

/// Clusters the findings, makes each group an issue, orders the issues and gives them ids.
pub(super) fn rank(
    findings: Vec<Finding>,
    places: Option<&[Place]>,
    reviewed: &BTreeMap<String, BTreeSet<String>>,
    texts: &HashMap<String, String>,
    settings: &Settings,
) -> Ranked {
    let groups = {
        let profiles = profile_all(&findings, places);
        let groups = cluster_profiles(&findings, places, &profiles, settings);
        let mut of = ReviewedCount::default();
        groups
            .into_iter()
            .map(|g| {
                let votes = votes(&g, &profiles, settings);
                let of = of.get(reviewed, block_of(&findings, places, g.members[0]));
                (g, votes, of)
            })
            .collect::<Vec<_>>()
    };
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    // Validated settings always compile (check_globs); unvalidated ones demote nothing.
    let demoted = DemotedPaths::new(&settings.demote_paths).unwrap_or_else(|_| DemotedPaths::none());
    let mut ranked: Vec<(Issue, Vec<usize>)> = groups
        .into_iter()
        .map(|(group, votes, of)| {
            let mut issue = summarize(&mut slots, &group, &votes, of, settings);
            issue.score = with_evidence(issue.score, &issue, &demoted, settings);
            (issue, group.members)
        })
        .collect();
    ranked.sort_by(|(a, _), (b, _)| rank_order(a, b));
    let (mut issues, members): (Vec<Issue>, Vec<Vec<usize>>) = ranked.into_iter().unzip();
    assign_ids(&mut issues, texts);
    Ranked { issues, members }
}

/// How many families reviewed a block, remembered for the block looked up last (the
/// groups of one block come together).
#[derive(Default)]
struct ReviewedCount {
    last: Option<(String, usize)>,
}

impl ReviewedCount {
    fn get(&mut self, reviewed: &BTreeMap<String, BTreeSet<String>>, block: &str) -> usize {
        match &self.last {
            Some((b, n)) if b == block => *n,
            _ => {
                let n = reviewed.get(block).map_or(0, BTreeSet::len);
                self.last = Some((block.to_string(), n));
                n
            }
        }
    }
}

/// Higher score first; then more families, higher severity, and position for ties.
fn rank_order(a: &Issue, b: &Issue) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then(b.agreement.count.cmp(&a.agreement.count))
        .then(b.severity.cmp(&a.severity))
        .then_with(|| a.file.cmp(&b.file))
        .then(a.start_line.cmp(&b.start_line))
        .then_with(|| a.title.cmp(&b.title))
}

/// One issue from its members (taken out of `slots`); `votes` are how firmly each
/// backs it, `of` how many families reviewed the block successfully.
fn summarize(slots: &mut [Option<Finding>], group: &Group, votes: &[f64], of: usize, settings: &Settings) -> Issue {
    let members: Vec<Finding> = group.members.iter().filter_map(|&i| slots[i].take()).collect();
    let representative = group.medoid;
    let mut families: Vec<&str> = members.iter().map(|f| f.family.as_str()).collect();
    families.sort_unstable();
    families.dedup();
    let mut providers: Vec<String> = members.iter().map(|f| f.provider.clone()).collect();
    providers.sort_unstable();
    providers.dedup();
    let count = families.len();
    let of = of.max(count).max(1);
    let severity = median_severity(&members);
    let file = members[representative].file.clone();
    let score = score(&members, votes, of, severity, settings);
    Issue {
        id: String::new(),
        // The line most members name (the id is anchored there, so one model moving by a
        // line does not move it), ties to the earliest.
        start_line: mode(members.iter().filter(|f| f.file == file).filter_map(|f| f.start_line)),
        end_line: median(members.iter().filter(|f| f.file == file).filter_map(|f| f.end_line)),
        severity,
        category: mode(members.iter().map(|f| f.category)).unwrap_or(Category::Other),
        cwe: issue_cwe(&members, representative),
        title: members[representative].title.clone(),
        agreement: Agreement { count, of, providers },
        score,
        file,
        findings: members,
        source: Source::Models,
        check: None,
        pre_existing: false,
    }
}

/// The severity that scores 1: the highest.
const SEVERITY_SCALE: f64 = Severity::Critical as u8 as f64;

/// The confidence of an issue no model gave one for: neither sure nor unsure.
const UNKNOWN_CONFIDENCE: f64 = 0.5;

/// Scores are rounded to thousandths, so that reports do not show float noise and
/// issues that differ only in it tie (and are then ordered by their other keys).
const SCORE_PRECISION: f64 = 1000.0;

/// The weighted mean (the score weights of [`Settings`], divided by their sum when it
/// is above 1, so the score stays within 0..1) of agreement, the share of the families
/// that reviewed the file, each family counted by its firmest vote times its provider's
/// weight; the median severity; and the models' mean confidence (0.5 when none gave
/// one). By default agreement dominates.
fn score(members: &[Finding], votes: &[f64], of: usize, severity: Severity, settings: &Settings) -> f64 {
    let mut family_votes: Vec<(&str, f64)> = members
        .iter()
        .zip(votes)
        .map(|(f, vote)| (f.family.as_str(), settings.provider_weight(&f.provider) * vote))
        .collect();
    family_votes.sort_by(|a, b| a.0.cmp(b.0).then(b.1.total_cmp(&a.1)));
    family_votes.dedup_by(|later, first| later.0 == first.0);
    // Weights above 1 may not make one family outvote unanimity.
    let agreement = (family_votes.iter().map(|(_, v)| v).sum::<f64>() / of as f64).min(1.0);
    let confidence = mean(members.iter().filter_map(|f| f.confidence.map(f64::from)))
        .unwrap_or(UNKNOWN_CONFIDENCE)
        .clamp(0.0, 1.0);
    let severity = f64::from(severity as u8) / SEVERITY_SCALE;
    let weights = (settings.agreement_weight + settings.severity_weight + settings.confidence_weight).max(1.0);
    let score = (settings.agreement_weight * agreement
        + settings.severity_weight * severity
        + settings.confidence_weight * confidence)
        / weights;
    (score * SCORE_PRECISION).round() / SCORE_PRECISION
}

/// `score` moved by what the issue itself shows: its CWE family's prior moves it towards
/// 1 (a family that holds up more often than average) or towards 0 (less often) by
/// `cwe_prior_weight` × |prior − 1| of the way, at most all of it; a test, fixture,
/// example or docs path takes `demote_weight` off, and findings that say nowhere in their
/// file take `unplaced_weight` times their share, down to 0. A score within 0..1 stays
/// within 0..1 however large the weights, so no model's issue outranks Quorum's own
/// (scored 1); rounded like the score.
fn with_evidence(score: f64, issue: &Issue, demoted: &DemotedPaths, settings: &Settings) -> f64 {
    let pull = (settings.cwe_prior_weight * (cwe_prior(issue.cwe) - NEUTRAL_PRIOR)).clamp(-1.0, 1.0);
    let moved = if pull >= 0.0 {
        score + pull * (1.0 - score)
    } else {
        score + pull * score
    };
    let demotion = if demoted.contains(&issue.file) {
        settings.demote_weight
    } else {
        0.0
    };
    let unplaced = settings.unplaced_weight * unplaced_share(&issue.findings);
    ((moved - demotion - unplaced).clamp(0.0, 1.0) * SCORE_PRECISION).round() / SCORE_PRECISION
}

/// The share of `findings` that say nowhere in their file: no lines, and no function (or
/// a placeholder such as `N/A`, or the file's own name).
fn unplaced_share(findings: &[Finding]) -> f64 {
    if findings.is_empty() {
        return 0.0;
    }
    let unplaced = findings
        .iter()
        .filter(|f| {
            f.start_line.is_none()
                && f.function
                    .as_deref()
                    .is_none_or(|name| function_key(&f.file, name).is_none())
        })
        .count();
    unplaced as f64 / findings.len() as f64
}

/// How firmly each member backs the issue: the mean of its location and weakness
/// similarity to the representative member (1 for the representative). Two models that
/// name the same lines or function and the same weakness agree more firmly than two
/// whose wordings merely merged; on eyeballvul this ranks real problems higher.
fn votes(group: &Group, profiles: &[Profile], settings: &Settings) -> Vec<f64> {
    let anchor = &profiles[group.members[group.medoid]];
    group
        .members
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            if k == group.medoid {
                return 1.0;
            }
            let p = &profiles[i];
            let location = location_similarity(p, anchor, settings.line_tolerance).unwrap_or(0.0);
            (location + weakness_similarity(p, anchor)) / 2.0
        })
        .collect()
}

/// The severity half the models put at or above: one alarmist model cannot raise it.
fn median_severity(members: &[Finding]) -> Severity {
    let mut votes: Vec<Severity> = members.iter().map(|f| f.severity).collect();
    votes.sort();
    votes[(votes.len() - 1) / 2]
}

fn median(values: impl Iterator<Item = u32>) -> Option<u32> {
    let mut v: Vec<u32> = values.collect();
    v.sort_unstable();
    v.get((v.len().max(1) - 1) / 2).copied()
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The CWE most members name. A tie goes to the representative's CWE, else to a
/// specific CWE over a generic one (20, 74, …), else to the smallest.
pub(super) fn issue_cwe(members: &[Finding], representative: usize) -> Option<u32> {
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for cwe in members.iter().filter_map(|f| f.cwe) {
        *counts.entry(cwe).or_default() += 1;
    }
    let top = *counts.values().max()?;
    let tied: Vec<u32> = counts.iter().filter(|(_, n)| **n == top).map(|(c, _)| *c).collect();
    let own = members.get(representative).and_then(|f| f.cwe);
    own.filter(|c| tied.contains(c))
        .or_else(|| tied.iter().copied().find(|c| !is_generic_cwe(*c)))
        .or_else(|| tied.first().copied())
}

/// The most frequent value; ties go to the smallest.
fn mode<T: Ord + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut v: Vec<T> = values.collect();
    v.sort_unstable();
    let mut best: Option<(T, usize)> = None;
    for run in v.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(_, n)| run.len() > n) {
            best = Some((run[0], run.len()));
        }
    }
    best.map(|(value, _)| value)
}
