//! The canonical order: any permutation of the same findings is processed identically.

use std::cmp::Ordering;

use super::block_of;
use super::hashing::hash;
use super::profile::Profile;
use super::Place;
use crate::normalize::finding::Finding;

/// The ranges of `order` that share a block (`order` is sorted by block first).
pub(super) fn block_ranges(
    order: &[usize],
    findings: &[Finding],
    places: Option<&[Place]>,
) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let block = block_of(findings, places, order[start]);
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| block_of(findings, places, i) == block)
                .count();
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// Input positions sorted by block, then by a hash of everything a finding says (the
/// full comparison breaks the rare ties), so that any permutation of the same findings
/// is processed identically.
pub(super) fn canonical_order(findings: &[Finding], places: Option<&[Place]>, profiles: &[Profile]) -> Vec<usize> {
    let content: Vec<u64> = findings.iter().map(content_hash).collect();
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&i, &j| {
        profiles[i]
            .block
            .cmp(&profiles[j].block)
            .then_with(|| block_of(findings, places, i).cmp(block_of(findings, places, j)))
            .then(content[i].cmp(&content[j]))
            .then_with(|| compare_findings(&findings[i], &findings[j]))
            .then_with(|| match places {
                Some(p) => (&p[i].files, &p[i].functions).cmp(&(&p[j].files, &p[j].functions)),
                None => Ordering::Equal,
            })
            .then(i.cmp(&j))
    });
    order
}

/// A hash of every field of a finding.
fn content_hash(f: &Finding) -> u64 {
    let texts = [
        f.file.as_str(),
        &f.provider,
        &f.model,
        &f.family,
        &f.title,
        &f.description,
        f.function.as_deref().unwrap_or("\u{0}"),
        f.suggestion.as_deref().unwrap_or("\u{0}"),
    ];
    let numbers = [
        f.start_line.map_or(0, |l| u64::from(l) + 1),
        f.end_line.map_or(0, |l| u64::from(l) + 1),
        f.cwe.map_or(0, |c| u64::from(c) + 1),
        f.severity as u64,
        f.category as u64,
        f.confidence.map_or(0, |c| u64::from(c.to_bits()) + 1),
        u64::from(f.lines_clamped),
    ];
    let h = texts
        .iter()
        .fold(0u64, |h, t| (h.rotate_left(7) ^ hash(t.as_bytes())).wrapping_mul(K_MIX));
    numbers
        .iter()
        .fold(h, |h, n| (h.rotate_left(7) ^ n).wrapping_mul(K_MIX))
}

const K_MIX: u64 = 0x9e37_79b9_7f4a_7c15;

/// Every field, in a fixed order.
fn compare_findings(a: &Finding, b: &Finding) -> Ordering {
    a.file
        .cmp(&b.file)
        .then(a.start_line.cmp(&b.start_line))
        .then(a.end_line.cmp(&b.end_line))
        .then_with(|| a.provider.cmp(&b.provider))
        .then_with(|| a.title.cmp(&b.title))
        .then_with(|| a.description.cmp(&b.description))
        .then(a.cwe.cmp(&b.cwe))
        .then_with(|| a.function.cmp(&b.function))
        .then(a.severity.cmp(&b.severity))
        .then(a.category.cmp(&b.category))
        .then_with(|| a.model.cmp(&b.model))
        .then_with(|| a.family.cmp(&b.family))
        .then_with(|| a.suggestion.cmp(&b.suggestion))
        .then(a.confidence.map(f32::to_bits).cmp(&b.confidence.map(f32::to_bits)))
        .then(a.lines_clamped.cmp(&b.lines_clamped))
}
