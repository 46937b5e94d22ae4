//! Measures of a ranking that splitting cannot inflate.
//!
//! Precision of the top k counts issues: one true problem split into three issues counts
//! three times, and pushes other problems out of the top. These measures count distinct
//! gold clusters (revision, CVE) instead: how many of them the top issues reach, and the
//! average precision when an issue is a hit only the first time one of its CVEs appears.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use super::Record;

/// The cut-off of the distinct-CVE count.
pub const DISTINCT_TOP_N: usize = 100;

/// The ranking measures of one grouping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RankingMeasures {
    /// Distinct gold clusters (revision, CVE) among the first [`DISTINCT_TOP_N`] issues.
    pub distinct_top: usize,
    /// Average precision over the whole ranking, an issue being a hit when it holds a
    /// labelled finding: the mean, over the hits, of the precision at each hit's rank.
    pub average_precision: f64,
    /// Average precision over distinct CVEs: an issue is a hit only when it brings a
    /// CVE no earlier issue held; the sum of the (distinct) precision at each hit,
    /// divided by the gold clusters of the records, so a CVE never reached costs too.
    pub distinct_average_precision: f64,
}

/// Groups of record positions in rank order (best first), with their scores: equal
/// scores are ties, which the measures take as one block.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    pub groups: Vec<Vec<usize>>,
    pub scores: Vec<f64>,
}

/// The gold clusters an issue holds.
fn labels_of<'a>(records: &[&'a Record], group: &[usize]) -> BTreeSet<(&'a str, &'a str)> {
    group
        .iter()
        .filter_map(|&i| records[i].label.as_deref().map(|l| (records[i].revision.as_str(), l)))
        .collect()
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
    let labels: Vec<BTreeSet<(&str, &str)>> = ranking.groups.iter().map(|g| labels_of(records, g)).collect();
    let true_issues = labels.iter().filter(|l| !l.is_empty()).count();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let (mut hits, mut ap, mut distinct_ap) = (0usize, 0.0, 0.0);
    let mut distinct_top = 0;
    let mut start = 0;
    while start < labels.len() {
        let end = block_end(&ranking.scores, start);
        let (hits_before, seen_before) = (hits, seen.len());
        for (k, issue) in labels.iter().enumerate().take(end).skip(start) {
            hits += usize::from(!issue.is_empty());
            seen.extend(issue.iter().copied());
            if k + 1 == DISTINCT_TOP_N {
                distinct_top = seen.len();
            }
        }
        ap += (hits - hits_before) as f64 * hits as f64 / end as f64;
        // A distinct hit is a CVE reached for the first time; precision counts them
        // against the issues so far (at most one per issue in all but merged issues).
        distinct_ap += (seen.len() - seen_before) as f64 * (seen.len() as f64 / end as f64).min(1.0);
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
        Record {
            revision: "r".into(),
            model: model.into(),
            headline: "h".into(),
            analysis: "a".into(),
            cwe: None,
            files: vec![],
            functions: vec![],
            classification: "very promising".into(),
            judge: Some("judge".into()),
            label: label.map(String::from),
        }
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
