//! Measures of a ranking that neither splitting nor merging can inflate.
//!
//! Precision of the top k counts issues: one true problem split into three issues counts
//! three times, and pushes other problems out of the top. These measures count distinct
//! gold clusters (revision, CVE) instead, each issue crediting one: its majority CVE
//! (the label most of its labelled findings carry). A split CVE is credited once, by the
//! first of its issues; an issue that merges two CVEs is credited with one, so merging
//! unrelated problems gains nothing either.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use super::Record;

/// The cut-off of the distinct-CVE count.
pub const DISTINCT_TOP_N: usize = 100;

/// The ranking measures of one grouping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RankingMeasures {
    /// Distinct gold clusters (revision, CVE) credited to the first [`DISTINCT_TOP_N`]
    /// issues, one (the majority CVE) per issue.
    pub distinct_top: usize,
    /// Average precision over the whole ranking, an issue being a hit when it holds a
    /// labelled finding: the mean, over the hits, of the precision at each hit's rank.
    pub average_precision: f64,
    /// Average precision over distinct CVEs: an issue is a hit only when its majority
    /// CVE was credited to no earlier issue; the sum of the precision at each hit,
    /// divided by the gold clusters the labelled records name (every (revision, CVE)
    /// some judged finding of the split was linked to), so a CVE never reached costs too.
    pub distinct_average_precision: f64,
}

/// Groups of record positions in rank order (best first), with their scores: equal
/// scores are ties, which the measures take as one block.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    pub groups: Vec<Vec<usize>>,
    pub scores: Vec<f64>,
}

/// Whether an issue holds a labelled finding, and the gold cluster it is credited with:
/// the label most of its labelled findings carry (ties to the smallest).
struct IssueLabel<'a> {
    labelled: bool,
    credited: Option<(&'a str, &'a str)>,
}

fn label_of<'a>(records: &[&'a Record], group: &[usize]) -> IssueLabel<'a> {
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for &i in group {
        if let Some(label) = records[i].label.as_deref() {
            *counts.entry((records[i].revision.as_str(), label)).or_default() += 1;
        }
    }
    let top = counts.values().max().copied();
    IssueLabel {
        labelled: !counts.is_empty(),
        credited: counts.into_iter().find(|(_, n)| Some(*n) == top).map(|(cve, _)| cve),
    }
}

/// Measures `ranking` against the labels of `records`.
///
/// Both average precisions are taken the way `sklearn.metrics.average_precision_score`
/// takes them, a block of tied scores at a time (every hit of the block gets the
/// precision at the block's end), so no ranking gains from how its ties happen to be
/// broken: the sum over blocks of the recall the block adds times the precision after it.
pub fn measure(records: &[&Record], ranking: &Ranking) -> RankingMeasures {
    let gold: HashSet<(&str, &str)> = records
        .iter()
        .filter_map(|r| r.label.as_deref().map(|l| (r.revision.as_str(), l)))
        .collect();
    let labels: Vec<IssueLabel> = ranking.groups.iter().map(|g| label_of(records, g)).collect();
    let true_issues = labels.iter().filter(|l| l.labelled).count();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let (mut hits, mut ap, mut distinct_ap) = (0usize, 0.0, 0.0);
    let mut distinct_top = 0;
    let mut start = 0;
    while start < labels.len() {
        let end = block_end(&ranking.scores, start);
        let (hits_before, seen_before) = (hits, seen.len());
        for (k, issue) in labels.iter().enumerate().take(end).skip(start) {
            hits += usize::from(issue.labelled);
            seen.extend(issue.credited);
            if k + 1 == DISTINCT_TOP_N {
                distinct_top = seen.len();
            }
        }
        ap += (hits - hits_before) as f64 * hits as f64 / end as f64;
        // A distinct hit is a CVE credited for the first time (at most one per issue).
        distinct_ap += (seen.len() - seen_before) as f64 * seen.len() as f64 / end as f64;
        start = end;
    }
    if labels.len() < DISTINCT_TOP_N {
        distinct_top = seen.len();
    }
    RankingMeasures {
        distinct_top,
        average_precision: if true_issues == 0 { 0.0 } else { ap / true_issues as f64 },
        distinct_average_precision: if gold.is_empty() {
            0.0
        } else {
            distinct_ap / gold.len() as f64
        },
    }
}

/// The end (exclusive) of the block of scores tied with `scores[start]`.
fn block_end(scores: &[f64], start: usize) -> usize {
    scores[start..]
        .iter()
        .position(|s| *s != scores[start])
        .map_or(scores.len(), |n| start + n)
}

/// The baseline's groups in its rank order, scored by their number of models (first
/// seen first among ties).
pub fn baseline_order(records: &[&Record], groups: &[Vec<usize>]) -> Ranking {
    let mut ordered: Vec<(usize, &Vec<usize>)> = groups
        .iter()
        .map(|g| {
            let models: BTreeSet<&str> = g.iter().map(|&i| records[i].model.as_str()).collect();
            (models.len(), g)
        })
        .collect();
    ordered.sort_by_key(|(models, _)| std::cmp::Reverse(*models));
    Ranking {
        scores: ordered.iter().map(|(n, _)| *n as f64).collect(),
        groups: ordered.into_iter().map(|(_, g)| g.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(model: &str, label: Option<&str>) -> Record {
        Record::judged("r", model, label)
    }

    #[test]
    fn a_split_cve_is_a_hit_once() {
        let rs = [
            record("a", Some("x")),
            record("b", Some("x")),
            record("c", None),
            record("d", Some("y")),
        ];
        let refs: Vec<&Record> = rs.iter().collect();
        // x split in two issues, then a false one, then y.
        let m = measure(
            &refs,
            &ranking(&[vec![0], vec![1], vec![2], vec![3]], &[4.0, 3.0, 2.0, 1.0]),
        );
        assert_eq!(m.distinct_top, 2);
        // Hits at 1, 2, 4: (1 + 1 + 3/4) / 3.
        assert!((m.average_precision - 2.75 / 3.0).abs() < 1e-9, "{m:?}");
        // Distinct hits at 1 and 4: (1 + 2/4) / 2 gold clusters.
        assert!((m.distinct_average_precision - 0.75).abs() < 1e-9, "{m:?}");
        // Merged, x counts once and y comes second.
        let merged = measure(&refs, &ranking(&[vec![0, 1], vec![3], vec![2]], &[3.0, 2.0, 1.0]));
        assert_eq!(merged.distinct_average_precision, 1.0);
    }

    #[test]
    fn an_issue_merging_two_cves_is_credited_with_one() {
        let rs = [
            record("a", Some("x")),
            record("b", Some("y")),
            record("c", Some("y")),
            record("d", None),
        ];
        let refs: Vec<&Record> = rs.iter().collect();
        // Everything merged into one issue: its majority CVE, y, is the only one reached.
        let merged = measure(&refs, &ranking(&[vec![0, 1, 2, 3]], &[1.0]));
        assert_eq!(merged.distinct_top, 1);
        assert_eq!(merged.distinct_average_precision, 0.5);
        assert_eq!(merged.average_precision, 1.0);
        // Kept apart, both CVEs are reached: merging cannot do better than that.
        let apart = measure(&refs, &ranking(&[vec![1, 2], vec![0], vec![3]], &[3.0, 2.0, 1.0]));
        assert_eq!((apart.distinct_top, apart.distinct_average_precision), (2, 1.0));
    }

    #[test]
    fn an_unreached_cve_costs_distinct_precision() {
        let rs = [record("a", Some("x")), record("b", Some("y"))];
        let refs: Vec<&Record> = rs.iter().collect();
        let m = measure(&refs, &ranking(&[vec![0]], &[1.0]));
        assert_eq!((m.distinct_top, m.distinct_average_precision), (1, 0.5));
    }

    #[test]
    fn tied_issues_share_the_precision_at_the_end_of_their_block() {
        let rs = [record("a", Some("x")), record("b", None), record("c", Some("y"))];
        let refs: Vec<&Record> = rs.iter().collect();
        // One hit alone on top, then a tie of a false issue and a hit: 1, then 2/3.
        let m = measure(&refs, &ranking(&[vec![0], vec![1], vec![2]], &[2.0, 1.0, 1.0]));
        assert!((m.average_precision - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-9, "{m:?}");
        let swapped = measure(&refs, &ranking(&[vec![0], vec![2], vec![1]], &[2.0, 1.0, 1.0]));
        assert_eq!(m, swapped);
    }

    #[test]
    fn the_baseline_ranks_by_models_then_first_seen() {
        let rs = [record("a", None), record("a", None), record("b", None)];
        let refs: Vec<&Record> = rs.iter().collect();
        let order = baseline_order(&refs, &[vec![0], vec![1, 2]]);
        assert_eq!(order, ranking(&[vec![1, 2], vec![0]], &[2.0, 1.0]));
    }

    fn ranking(groups: &[Vec<usize>], scores: &[f64]) -> Ranking {
        Ranking {
            groups: groups.to_vec(),
            scores: scores.to_vec(),
        }
    }
}
