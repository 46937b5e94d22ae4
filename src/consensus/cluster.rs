//! Clustering: findings are compared only within a block and with their near
//! neighbours, and candidate pairs merge best-first into groups.

use std::collections::HashMap;

use super::hashing::{fnv_extend, FNV_OFFSET};
use super::order::{block_ranges, canonical_order};
use super::pairs::{candidate_pairs, ordered};
use super::profile::{profile_all, Profile};
use super::similarity::{full_similarity, mergeable_similarity, pair_similarity, pair_threshold};
use super::{Place, Settings};
use crate::normalize::finding::Finding;

/// The most findings one issue holds. A real issue has one finding per model, and a few
/// near-duplicates at most; checking a merge costs the product of the two groups' sizes,
/// so a flood of near-identical findings must not become one growing issue.
pub(super) const MAX_ISSUE_MEMBERS: usize = 64;

/// One cluster: input positions in canonical order, and which of them is the medoid
/// (the member most similar to the others).
pub(super) struct Group {
    pub(super) members: Vec<usize>,
    pub(super) medoid: usize,
}

/// Groups findings at the given places; returns input positions, each group in
/// canonical order and the groups ordered by their first member.
///
/// Panics if `places` does not hold exactly one place per finding.
pub fn cluster_indices(findings: &[Finding], places: &[Place], settings: &Settings) -> Vec<Vec<usize>> {
    assert_eq!(findings.len(), places.len(), "one place per finding");
    let profiles = profile_all(findings, Some(places));
    cluster_profiles(findings, Some(places), &profiles, settings)
        .into_iter()
        .map(|g| g.members)
        .collect()
}

pub(super) fn cluster_profiles(
    findings: &[Finding],
    places: Option<&[Place]>,
    profiles: &[Profile],
    settings: &Settings,
) -> Vec<Group> {
    let order = canonical_order(findings, places, profiles);
    let mut groups = Vec::new();
    for range in block_ranges(&order, findings, places) {
        let members = &order[range];
        let pairs = candidate_pairs(members, profiles, settings.line_tolerance)
            .into_iter()
            .filter_map(|(x, y)| {
                let s = mergeable_similarity(&profiles[members[x]], &profiles[members[y]], settings)?;
                Some((s, x, y))
            });
        groups.extend(merge_block(members, pairs, findings, profiles, settings));
    }
    groups
}

/// [`cluster_indices`] without blocking: every pair of the whole input is scored in
/// full. Gives the same groups, slowly; kept to measure what blocking saves.
#[doc(hidden)]
pub fn cluster_indices_naive(findings: &[Finding], places: &[Place], settings: &Settings) -> Vec<Vec<usize>> {
    let profiles = profile_all(findings, Some(places));
    let order = canonical_order(findings, Some(places), &profiles);
    let mut all_pairs = Vec::new();
    for x in 0..order.len() {
        for y in x + 1..order.len() {
            if let Some((s, true)) = full_similarity(&profiles[order[x]], &profiles[order[y]], settings) {
                all_pairs.push((s, x, y));
            }
        }
    }
    let mut groups = Vec::new();
    for range in block_ranges(&order, findings, Some(places)) {
        let (start, end) = (range.start, range.end);
        let members = &order[range];
        let pairs = all_pairs
            .iter()
            .filter(|(_, x, y)| (start..end).contains(x) && (start..end).contains(y))
            .map(|&(s, x, y)| (s, x - start, y - start));
        groups.extend(
            merge_block(members, pairs, findings, &profiles, settings)
                .into_iter()
                .map(|g| g.members),
        );
    }
    groups
}

/// Clusters one block (`members` in canonical order) from its scored pairs (block-local
/// positions): best pair first, each merging two groups unless a model would end up
/// with two different findings in one issue or the groups are, on average, not alike
/// enough.
fn merge_block(
    members: &[usize],
    pairs: impl Iterator<Item = (f64, usize, usize)>,
    findings: &[Finding],
    profiles: &[Profile],
    settings: &Settings,
) -> Vec<Group> {
    let mut pairs: Vec<(f64, usize, usize)> = pairs.collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut sims = BlockSimilarities {
        members,
        profiles,
        settings,
        known: pairs.iter().map(|&(s, x, y)| ((x, y), s)).collect(),
    };
    let mut groups = Partition::new(members.len());
    let (mut x_members, mut y_members) = (Vec::new(), Vec::new());
    for (_, x, y) in pairs {
        let (gx, gy) = (groups.group_of[x], groups.group_of[y]);
        if gx == gy {
            continue;
        }
        groups.collect(gx, &mut x_members);
        groups.collect(gy, &mut y_members);
        if x_members.len() + y_members.len() <= MAX_ISSUE_MEMBERS && sims.can_merge(&x_members, &y_members) {
            groups.join(gx, gy);
        }
    }
    (0..members.len())
        .filter(|&k| groups.group_of[k] == k)
        .map(|head| {
            let mut g = Vec::new();
            groups.collect(head, &mut g);
            g.sort_unstable();
            let medoid = sims.medoid(&g, findings);
            Group {
                members: g.into_iter().map(|k| members[k]).collect(),
                medoid,
            }
        })
        .collect()
}

/// Groups of block-local positions as linked lists: joining two groups relabels the
/// members of one and links the lists, with no allocation per member.
struct Partition {
    /// The group (its first member) each position belongs to.
    group_of: Vec<usize>,
    /// The next member of the same group, or `usize::MAX`.
    next: Vec<usize>,
    /// Each group's last member (valid for group heads).
    tail: Vec<usize>,
}

impl Partition {
    fn new(n: usize) -> Partition {
        Partition {
            group_of: (0..n).collect(),
            next: vec![usize::MAX; n],
            tail: (0..n).collect(),
        }
    }

    /// The members of group `head`, into `out`.
    fn collect(&self, head: usize, out: &mut Vec<usize>) {
        out.clear();
        let mut k = head;
        while k != usize::MAX {
            out.push(k);
            k = self.next[k];
        }
    }

    /// Joins two groups under the smaller head.
    fn join(&mut self, a: usize, b: usize) {
        let (keep, gone) = (a.min(b), a.max(b));
        let mut k = gone;
        while k != usize::MAX {
            self.group_of[k] = keep;
            k = self.next[k];
        }
        self.next[self.tail[keep]] = gone;
        self.tail[keep] = self.tail[gone];
    }
}

/// Similarities within one block, each computed at most once.
struct BlockSimilarities<'a> {
    members: &'a [usize],
    profiles: &'a [Profile<'a>],
    settings: &'a Settings,
    known: HashMap<(usize, usize), f64, PairHash>,
}

/// A multiplicative hash for small integer pairs: the similarity cache is looked up for
/// every cross pair of every attempted merge, and SipHash showed in profiles.
#[derive(Default, Clone, Copy)]
struct PairHash;

impl std::hash::BuildHasher for PairHash {
    type Hasher = PairHasher;

    fn build_hasher(&self) -> PairHasher {
        PairHasher(0)
    }
}

struct PairHasher(u64);

impl std::hash::Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv_extend(self.0 ^ FNV_OFFSET, bytes);
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(32) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

impl BlockSimilarities<'_> {
    fn get(&mut self, x: usize, y: usize) -> f64 {
        let key = ordered(x, y);
        if let Some(&s) = self.known.get(&key) {
            return s;
        }
        let (a, b) = (&self.profiles[self.members[x]], &self.profiles[self.members[y]]);
        let s = pair_similarity(a, b, self.settings).map_or(0.0, |(s, _)| s);
        self.known.insert(key, s);
        s
    }

    /// The similarity one model's two findings need to share an issue (`None` for two
    /// models' findings, which the group's mean decides).
    fn same_provider_floor(&self, x: usize, y: usize) -> Option<f64> {
        let (a, b) = (&self.profiles[self.members[x]], &self.profiles[self.members[y]]);
        (a.provider == b.provider).then(|| pair_threshold(a, b, self.settings))
    }

    /// The position in `group` of the member most similar to the others (every pair of
    /// a group was compared when the group formed); the more severe on a tie.
    fn medoid(&mut self, group: &[usize], findings: &[Finding]) -> usize {
        let severity = |k: usize| 0.001 * f64::from(findings[self.members[k]].severity as u8);
        (0..group.len())
            .map(|a| {
                let total: f64 = (0..group.len())
                    .filter(|&b| b != a)
                    .map(|b| self.get(group[a], group[b]))
                    .sum();
                (a, total + severity(group[a]))
            })
            .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
            .map_or(0, |(a, _)| a)
    }

    /// Whether two groups may become one issue: no model gets two findings that are not
    /// near-duplicates (or facets of one problem in one function), and the mean
    /// similarity over all cross pairs is high enough.
    fn can_merge(&mut self, x: &[usize], y: &[usize]) -> bool {
        let mut total = 0.0;
        for &i in x {
            for &j in y {
                let s = self.get(i, j);
                if self.same_provider_floor(i, j).is_some_and(|floor| s < floor) {
                    return false;
                }
                total += s;
            }
        }
        total / (x.len() * y.len()) as f64 >= self.settings.group_threshold
    }
}
