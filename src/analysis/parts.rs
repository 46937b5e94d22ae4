//! Files reviewed in parts: findings brought back inside their part, and one model's
//! same finding from two overlapping parts counted once.

use std::collections::HashMap;

use crate::normalize::finding::Finding;
use crate::store::LineRange;

/// Lines a finding may lie outside the part it was found in before it is brought inside.
const PART_TOLERANCE: u32 = 3;

/// Lines a model gave outside the part it was sent (it counted from 1, say) are put at
/// the nearest line of the part and flagged.
pub(super) fn keep_inside_part(f: &mut Finding, part: LineRange) {
    let (Some(start), Some(end)) = (f.start_line, f.end_line) else {
        return;
    };
    let lo = part.start_line.saturating_sub(PART_TOLERANCE);
    let hi = part.end_line + PART_TOLERANCE;
    if start < lo || end > hi {
        f.start_line = Some(start.clamp(part.start_line, part.end_line));
        f.end_line = Some(end.clamp(part.start_line, part.end_line));
        f.lines_clamped = true;
    }
}

/// One model reviewing two overlapping parts of a file may report one problem twice, in
/// different words. Such pairs (same provider, same file, different parts, overlapping
/// lines, same kind of weakness) keep the first. Findings within one part are left to
/// clustering, which never merges a model's two different findings.
pub(super) fn merge_part_overlaps(findings: Vec<(Option<LineRange>, Finding)>) -> Vec<Finding> {
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    // Parts' findings kept so far, by (provider, file) and part: only those can be
    // duplicates, and only those of parts near the finding's lines, so a file split in
    // many parts is not compared finding by finding across all of them.
    let mut by_job: HashMap<(String, String), Vec<PartFindings>> = HashMap::new();
    for (part, f) in findings {
        let Some(part) = part else {
            kept.push(f);
            continue;
        };
        let parts = by_job.entry((f.provider.clone(), f.file.clone())).or_default();
        let duplicate = parts
            .iter()
            .filter(|other| other.part != part && may_hold_overlap(other.part, &f))
            .flat_map(|other| &other.kept)
            .any(|&i| same_kind(&kept[i], &f) && lines_overlap(&kept[i], &f));
        if !duplicate {
            match parts.iter_mut().find(|p| p.part == part) {
                Some(p) => p.kept.push(kept.len()),
                None => parts.push(PartFindings {
                    part,
                    kept: vec![kept.len()],
                }),
            }
            kept.push(f);
        }
    }
    kept
}

/// The findings kept so far from one part of a file (positions in the kept list).
struct PartFindings {
    part: LineRange,
    kept: Vec<usize>,
}

/// Whether a finding of `part` can overlap `f`'s lines: a part's findings lie within
/// [`PART_TOLERANCE`] lines of it (see [`keep_inside_part`]).
fn may_hold_overlap(part: LineRange, f: &Finding) -> bool {
    let (Some(start), Some(end)) = (f.start_line, f.end_line) else {
        return false;
    };
    let lo = part.start_line.saturating_sub(PART_TOLERANCE);
    let hi = part.end_line.saturating_add(PART_TOLERANCE);
    lo <= end.saturating_add(1) && start <= hi.saturating_add(1)
}

fn same_kind(a: &Finding, b: &Finding) -> bool {
    match (a.cwe, b.cwe) {
        (Some(x), Some(y)) => x == y,
        _ => a.category == b.category,
    }
}

fn lines_overlap(a: &Finding, b: &Finding) -> bool {
    match (a.start_line.zip(a.end_line), b.start_line.zip(b.end_line)) {
        (Some((a0, a1)), Some((b0, b1))) => a0 <= b1 + 1 && b0 <= a1 + 1,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::finding::{Category, Severity};

    fn finding(provider: &str, line: u32, cwe: u32, title: &str) -> Finding {
        Finding {
            provider: provider.into(),
            model: provider.into(),
            family: provider.into(),
            file: "big.go".into(),
            start_line: Some(line),
            end_line: Some(line),
            lines_clamped: false,
            function: None,
            severity: Severity::High,
            category: Category::from_cwe(cwe).unwrap_or(Category::Other),
            cwe: Some(cwe),
            title: title.into(),
            description: title.into(),
            suggestion: None,
            confidence: None,
        }
    }

    fn part(start_line: u32, end_line: u32) -> Option<LineRange> {
        Some(LineRange { start_line, end_line })
    }

    #[test]
    fn one_models_finding_in_an_overlap_counts_once() {
        let merged = merge_part_overlaps(vec![
            (part(1, 58), finding("a", 56, 89, "SQL injection in search")),
            (part(54, 110), finding("a", 56, 89, "Unsanitized parameter in query")),
            (part(54, 110), finding("b", 56, 89, "SQL injection")),
            (part(54, 110), finding("a", 57, 79, "Reflected XSS")),
        ]);
        let titles: Vec<&str> = merged.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(titles, ["SQL injection in search", "SQL injection", "Reflected XSS"]);
    }

    #[test]
    fn lines_outside_the_part_are_brought_inside_and_flagged() {
        let mut f = finding("a", 5, 89, "counted from 1");
        keep_inside_part(
            &mut f,
            LineRange {
                start_line: 54,
                end_line: 110,
            },
        );
        assert_eq!((f.start_line, f.lines_clamped), (Some(54), true));
        let mut g = finding("a", 111, 89, "just past the end");
        keep_inside_part(
            &mut g,
            LineRange {
                start_line: 54,
                end_line: 110,
            },
        );
        assert_eq!((g.start_line, g.lines_clamped), (Some(111), false), "within tolerance");
    }
}
