//! Ranking by verdict, after consensus ranked by agreement: within each agreement level
//! the confirmed issues take the level's first places (in their order), and every
//! rejected issue goes below every issue not rejected. Nothing is dropped.

use std::collections::BTreeMap;

use super::{Judgement, PeerCheck, Verdict};
use crate::consensus::Issue;

/// Reorders `issues` (ranked best first) by their verdicts; an issue's agreement level is
/// the families that reported it, or in `peers` mode reported or confirmed it.
pub fn rank_by_verdicts(
    issues: &mut Vec<Issue>,
    verdicts: &BTreeMap<String, Judgement>,
    peers: &BTreeMap<String, PeerCheck>,
) {
    let verdict = |i: &Issue| verdicts.get(&i.id).map(|j| j.verdict);
    let level = |i: &Issue| peers.get(&i.id).map_or(i.agreement.count, |p| p.count);
    confirmed_first_within_levels(issues, &verdict, &level);
    let (kept, rejected): (Vec<Issue>, Vec<Issue>) = std::mem::take(issues)
        .into_iter()
        .partition(|i| verdict(i) != Some(Verdict::Rejected));
    issues.extend(kept);
    issues.extend(rejected);
}

/// Within the places the issues of one agreement level hold, puts the confirmed ones
/// first; each level keeps its places, so no issue moves past another level's.
fn confirmed_first_within_levels(
    issues: &mut [Issue],
    verdict: &dyn Fn(&Issue) -> Option<Verdict>,
    level: &dyn Fn(&Issue) -> usize,
) {
    let mut levels: BTreeMap<(bool, usize), Vec<usize>> = BTreeMap::new();
    for (place, issue) in issues.iter().enumerate() {
        let key = (issue.source == crate::consensus::Source::Quorum, level(issue));
        levels.entry(key).or_default().push(place);
    }
    let mut order: Vec<usize> = (0..issues.len()).collect();
    for places in levels.values() {
        let mut members = places.clone();
        // Stable: the confirmed keep their order among themselves, as do the others.
        members.sort_by_key(|&p| verdict(&issues[p]) != Some(Verdict::Confirmed));
        for (&place, &member) in places.iter().zip(&members) {
            order[place] = member;
        }
    }
    let original = issues.to_vec();
    for (place, member) in order.into_iter().enumerate() {
        issues[place] = original[member].clone();
    }
}
