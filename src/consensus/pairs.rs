//! Candidate pairs: which findings of a block are worth comparing at all.

use std::collections::HashMap;

use super::profile::Profile;

/// The most findings each finding is compared with in each way two findings can be
/// near: the next ones in line order within reach, the next ones naming its function.
/// A review has a handful of findings near any one line, so this never binds on real
/// answers; a flood of findings on a few lines would otherwise be compared pair by pair,
/// and clustering would grow with the square of the findings.
pub(super) const MAX_NEIGHBOURS: usize = 64;

/// The most findings a finding without lines is compared with: all of its block while
/// the block is no larger, else this many nearest in canonical order. A file reviewed
/// whole has a few dozen findings; only a file split into many parts, or a flood, has
/// more.
pub(super) const MAX_UNPLACED_NEIGHBOURS: usize = 256;

/// The pairs (block-local positions, first < second) worth comparing: near in lines in
/// one file, sharing a function, or involving a finding without lines; at most
/// [`MAX_NEIGHBOURS`] (or [`MAX_UNPLACED_NEIGHBOURS`]) per finding and way, so the pairs
/// grow linearly with the block.
pub(super) fn candidate_pairs(members: &[usize], profiles: &[Profile], tolerance: u32) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut lined: Vec<(u64, u32, u32, usize)> = Vec::new();
    let mut lineless = Vec::new();
    let mut by_function: HashMap<u64, Vec<usize>> = HashMap::new();
    for (k, &i) in members.iter().enumerate() {
        let profile = &profiles[i];
        match profile.lines {
            Some((s, e)) => lined.push((profile.file, s, e, k)),
            None => lineless.push(k),
        }
        for &f in &profile.functions {
            by_function.entry(f.bucket()).or_default().push(k);
        }
    }
    lined.sort_unstable();
    for (n, &(file, _, end, k)) in lined.iter().enumerate() {
        let reach = end.saturating_add(tolerance);
        for &(other_file, start, _, j) in lined[n + 1..].iter().take(MAX_NEIGHBOURS) {
            if other_file != file || start > reach {
                break;
            }
            pairs.push(ordered(k, j));
        }
    }
    for &k in &lineless {
        let reach = unplaced_reach(k, members.len());
        pairs.extend(reach.filter(|&j| j != k).map(|j| ordered(k, j)));
    }
    for group in by_function.values() {
        for (n, &k) in group.iter().enumerate() {
            pairs.extend(group[n + 1..].iter().take(MAX_NEIGHBOURS).map(|&j| ordered(k, j)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// The block-local positions a finding without lines at `k` is compared with: the whole
/// block, or the [`MAX_UNPLACED_NEIGHBOURS`] positions around `k`.
fn unplaced_reach(k: usize, len: usize) -> std::ops::Range<usize> {
    let width = MAX_UNPLACED_NEIGHBOURS + 1;
    if len <= width {
        return 0..len;
    }
    let start = k.saturating_sub(width / 2).min(len - width);
    start..start + width
}

#[inline]
pub(super) fn ordered(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}
