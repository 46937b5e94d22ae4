//! The eyeballvul evaluation: does Quorum's clustering merge what the same bug is, and
//! does its ranking put real bugs first, on real answers of several models?
//!
//! The data (`../shared/datasets/eyeballvul/`, see its README) holds the findings of 7
//! LLMs on the same ~900 code revisions, with an LLM judge's label linking findings to
//! known CVEs: findings of one revision labelled with one CVE form a gold cluster. They
//! are loaded into Quorum's [`Finding`] (no lines; files and functions named), blocked
//! by revision, clustered and ranked by [`consensus::build_issues_at`] with given
//! [`Settings`], and scored the way the dataset's `baseline.py` scores its crude
//! grouping by (revision, CWE, first file), which is computed here on the same
//! revisions for a fair comparison.
//!
//! Revisions are split in two by a hash of their name: thresholds may be tuned on
//! [`Split::Tune`] only; [`Split::Holdout`] is what the numbers are reported on.
//!
//! The data has no licence to be redistributed, so it never enters the repository:
//! everything here finds it by path and says so when it is absent.

mod bound;
mod data;
mod priors;
mod ranking;

pub use bound::{merge_bounds, oracle_groups, render_merge_bounds, MergeBound, OracleJoin};
pub use data::{default_dir, load, locate, to_finding, to_place, Dataset, Record, Split};
pub use priors::{cwe_priors, render as render_priors, CwePrior, SHRINKAGE};
pub use ranking::{baseline_order, measure, Ranking, RankingMeasures, DISTINCT_TOP_N};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use super::{f1, ratio};
use crate::consensus::{self, Place, Ranked, Settings};
use crate::normalize::finding::Finding;

/// The dataset's numbers for the crude baseline on all revisions, for reference.
pub const PUBLISHED_BASELINE_C_F1: f64 = 0.739;
pub const PUBLISHED_BASELINE_C2_F1: f64 = 0.724;

/// Precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// One row of a precision-by-agreement table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgreementRow {
    /// Distinct models in the group.
    pub models: usize,
    pub groups: usize,
    pub findings: usize,
    /// Groups with at least one labelled finding.
    pub true_groups: usize,
    pub precision: f64,
    /// Groups with at least `models` models, and their precision.
    pub cumulative_groups: usize,
    pub cumulative_precision: f64,
}

/// Precision of the first `n` groups in rank order, Quorum and baseline side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopRow {
    pub n: usize,
    pub quorum: f64,
    pub quorum_weighted: Option<f64>,
    pub baseline: f64,
}

/// Everything the evaluation measures on one split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub split: Split,
    pub revisions: usize,
    pub findings: usize,
    pub judged: usize,
    pub labelled: usize,
    pub gold_clusters: usize,
    /// (c): B-cubed over labelled findings, Quorum clustering the judged findings.
    pub quorum_c: Prf,
    /// (c2): judged-unlabelled findings dilute the predicted clusters.
    pub quorum_c2: Prf,
    /// (c) and (c2) when Quorum clusters every finding, judged or not.
    pub quorum_all_c: Prf,
    pub quorum_all_c2: Prf,
    pub baseline_c: Prf,
    pub baseline_c2: Prf,
    /// (b1): groups of judged findings by number of models.
    pub quorum_b1: Vec<AgreementRow>,
    pub baseline_b1: Vec<AgreementRow>,
    /// (b2): groups of all findings (unjudged are never labelled: a lower bound).
    pub quorum_b2: Vec<AgreementRow>,
    pub baseline_b2: Vec<AgreementRow>,
    /// Precision of the top-ranked groups of judged findings.
    pub top: Vec<TopRow>,
    /// The mean of the precision at every cut-off from 1 to 100 (`n` = 100): a
    /// steadier summary of the top of the ranking than any single cut-off.
    pub top_mean: TopRow,
    /// Distinct CVEs in the top issues and average precision, of Quorum's ranking of
    /// the judged findings and of the baseline's.
    pub quorum_ranking: RankingMeasures,
    pub baseline_ranking: RankingMeasures,
}

/// The cut-offs of the top-ranked precision table.
const TOP_N: [usize; 6] = [10, 25, 50, 100, 200, 400];
/// The deepest cut-off of the mean-precision summary.
const TOP_MEAN_N: usize = 100;

/// Evaluates `settings` on one split. `weights` (per model) are used for the extra
/// weighted ranking column when given.
pub fn evaluate(
    data: &Dataset,
    split: Split,
    settings: &Settings,
    weights: Option<&BTreeMap<String, f64>>,
) -> Evaluation {
    let all: Vec<&Record> = data.records.iter().filter(|r| split.contains(&r.revision)).collect();
    let judged: Vec<&Record> = all.iter().copied().filter(|r| r.judge.is_some()).collect();
    let quorum_judged = rank(&judged, data, settings);
    let quorum_all = rank(&all, data, settings);
    let quorum_groups = groups_of(&quorum_judged);
    let baseline_judged = baseline_groups(&judged);
    let weighted = weights.map(|w| {
        let settings = Settings {
            provider_weights: w.clone(),
            ..settings.clone()
        };
        rank(&judged, data, &settings)
    });
    Evaluation {
        split,
        revisions: all.iter().map(|r| &r.revision).collect::<BTreeSet<_>>().len(),
        findings: all.len(),
        judged: judged.len(),
        labelled: judged.iter().filter(|r| r.label.is_some()).count(),
        gold_clusters: judged
            .iter()
            .filter_map(|r| r.label.as_ref().map(|l| (&r.revision, l)))
            .collect::<BTreeSet<_>>()
            .len(),
        quorum_c: bcubed(&judged, &quorum_groups, false),
        quorum_c2: bcubed(&judged, &quorum_groups, true),
        quorum_all_c: bcubed(&all, &groups_of(&quorum_all), false),
        quorum_all_c2: bcubed(&all, &groups_of(&quorum_all), true),
        baseline_c: bcubed(&judged, &baseline_judged, false),
        baseline_c2: bcubed(&judged, &baseline_judged, true),
        quorum_b1: agreement_rows(&judged, &quorum_groups),
        baseline_b1: agreement_rows(&judged, &baseline_judged),
        quorum_b2: agreement_rows(&all, &groups_of(&quorum_all)),
        baseline_b2: agreement_rows(&all, &baseline_groups(&all)),
        top: top_rows(&judged, &quorum_judged, weighted.as_ref(), &baseline_judged, &TOP_N),
        top_mean: mean_row(&top_rows(
            &judged,
            &quorum_judged,
            weighted.as_ref(),
            &baseline_judged,
            &(1..=TOP_MEAN_N).collect::<Vec<_>>(),
        )),
        quorum_ranking: measure(&judged, &ranking_of(&quorum_judged)),
        baseline_ranking: measure(&judged, &baseline_order(&judged, &baseline_judged)),
    }
}

/// The headline numbers on one split, cheaper than [`evaluate`] (one clustering of the
/// judged findings): what the test of this evaluation asserts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    pub quorum_c: Prf,
    pub quorum_c2: Prf,
    pub baseline_c: Prf,
    pub baseline_c2: Prf,
    /// Mean precision of the top 1..=100 groups.
    pub quorum_top_mean: f64,
    pub baseline_top_mean: f64,
    pub quorum_ranking: RankingMeasures,
    pub baseline_ranking: RankingMeasures,
}

/// Computes the [`Headline`] of `settings` on one split.
pub fn headline(data: &Dataset, split: Split, settings: &Settings) -> Headline {
    let judged = judged_records(data, split);
    let quorum = rank(&judged, data, settings);
    let baseline = baseline_groups(&judged);
    let top = mean_row(&top_rows(
        &judged,
        &quorum,
        None,
        &baseline,
        &(1..=TOP_MEAN_N).collect::<Vec<_>>(),
    ));
    Headline {
        quorum_c: bcubed(&judged, &quorum.members, false),
        quorum_c2: bcubed(&judged, &quorum.members, true),
        baseline_c: bcubed(&judged, &baseline, false),
        baseline_c2: bcubed(&judged, &baseline, true),
        quorum_top_mean: top.quorum,
        baseline_top_mean: top.baseline,
        quorum_ranking: measure(&judged, &ranking_of(&quorum)),
        baseline_ranking: measure(&judged, &baseline_order(&judged, &baseline)),
    }
}

/// The findings of one split that were shown to the dataset's judge (the ones labelled
/// or judged false), in file order.
pub fn judged_records(data: &Dataset, split: Split) -> Vec<&Record> {
    data.records
        .iter()
        .filter(|r| r.judge.is_some() && split.contains(&r.revision))
        .collect()
}

/// Per-model weights from a split: each model's precision (labelled ÷ judged) relative
/// to the mean over models, for the weighted ranking.
pub fn learned_weights(data: &Dataset, split: Split) -> BTreeMap<String, f64> {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in data
        .records
        .iter()
        .filter(|r| r.judge.is_some() && split.contains(&r.revision))
    {
        let c = counts.entry(&r.model).or_default();
        c.0 += usize::from(r.label.is_some());
        c.1 += 1;
    }
    let precision: BTreeMap<String, f64> = counts
        .iter()
        .map(|(m, (l, j))| (m.to_string(), ratio(*l, *j)))
        .collect();
    let mean = precision.values().sum::<f64>() / precision.len().max(1) as f64;
    precision
        .into_iter()
        .map(|(m, p)| (m, if mean > 0.0 { p / mean } else { 1.0 }))
        .collect()
}

/// Clusters and ranks `records` with Quorum, blocked by revision.
pub fn rank(records: &[&Record], data: &Dataset, settings: &Settings) -> Ranked {
    let findings: Vec<Finding> = records.iter().map(|r| to_finding(r)).collect();
    let places: Vec<Place> = records.iter().map(|r| to_place(r)).collect();
    consensus::build_issues_at(findings, &places, &data.attempted, &HashMap::new(), settings)
}

/// Quorum's issues as a [`Ranking`] of record positions.
pub fn ranking_of(ranked: &Ranked) -> Ranking {
    Ranking {
        groups: ranked.members.clone(),
        scores: ranked.issues.iter().map(|i| i.score).collect(),
    }
}

/// The group of each record, as lists of record positions.
fn groups_of(ranked: &Ranked) -> Vec<Vec<usize>> {
    ranked.members.clone()
}

/// The crude baseline: one group per (revision, CWE, first file), in first-seen order.
pub fn baseline_groups(records: &[&Record]) -> Vec<Vec<usize>> {
    let mut index: HashMap<(&str, Option<u32>, Option<&str>), usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let key = (r.revision.as_str(), r.cwe, r.files.first().map(String::as_str));
        let g = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

/// B-cubed precision, recall and F1 over the labelled records, against the gold
/// clusters (revision, CVE). Predicted clusters count their labelled members, and with
/// `dilute` also their judged-unlabelled members (variant (c2)); unjudged members never
/// count.
pub fn bcubed(records: &[&Record], groups: &[Vec<usize>], dilute: bool) -> Prf {
    let mut gold_size: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for r in records {
        if let Some(label) = &r.label {
            *gold_size.entry((&r.revision, label)).or_default() += 1;
        }
    }
    let (mut p, mut r, mut n) = (0.0, 0.0, 0usize);
    for group in groups {
        let counted = group
            .iter()
            .filter(|&&i| records[i].label.is_some() || (dilute && records[i].judge.is_some()))
            .count();
        let mut same: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for &i in group {
            if let Some(label) = &records[i].label {
                *same.entry((&records[i].revision, label)).or_default() += 1;
            }
        }
        for (key, inter) in same {
            p += inter as f64 * inter as f64 / counted as f64;
            r += inter as f64 * inter as f64 / gold_size[&key] as f64;
            n += inter;
        }
    }
    let (precision, recall) = if n == 0 {
        (0.0, 0.0)
    } else {
        (p / n as f64, r / n as f64)
    };
    Prf {
        precision,
        recall,
        f1: f1(precision, recall),
    }
}

/// Groups by number of distinct models: how many, and how many hold a labelled finding.
pub fn agreement_rows(records: &[&Record], groups: &[Vec<usize>]) -> Vec<AgreementRow> {
    let mut rows: BTreeMap<usize, (usize, usize, usize)> = BTreeMap::new();
    for group in groups {
        let models: BTreeSet<&str> = group.iter().map(|&i| records[i].model.as_str()).collect();
        let row = rows.entry(models.len()).or_default();
        row.0 += 1;
        row.1 += group.len();
        row.2 += usize::from(group.iter().any(|&i| records[i].label.is_some()));
    }
    rows.iter()
        .map(|(&k, &(groups, findings, true_groups))| {
            let (cg, ct) = rows.range(k..).fold((0, 0), |(g, t), (_, row)| (g + row.0, t + row.2));
            AgreementRow {
                models: k,
                groups,
                findings,
                true_groups,
                precision: ratio(true_groups, groups),
                cumulative_groups: cg,
                cumulative_precision: ratio(ct, cg),
            }
        })
        .collect()
}

fn top_rows(
    records: &[&Record],
    quorum: &Ranked,
    weighted: Option<&Ranked>,
    baseline: &[Vec<usize>],
    cut_offs: &[usize],
) -> Vec<TopRow> {
    let is_true = |group: &[usize]| group.iter().any(|&i| records[i].label.is_some());
    let scored = |ranked: &Ranked| -> Vec<(f64, bool)> {
        ranked
            .issues
            .iter()
            .zip(&ranked.members)
            .map(|(issue, members)| (issue.score, is_true(members)))
            .collect()
    };
    let quorum = scored(quorum);
    let weighted = weighted.map(scored);
    let baseline: Vec<(f64, bool)> = baseline
        .iter()
        .map(|g| {
            let models: BTreeSet<&str> = g.iter().map(|&i| records[i].model.as_str()).collect();
            (models.len() as f64, is_true(g))
        })
        .collect();
    cut_offs
        .iter()
        .map(|&n| TopRow {
            n,
            quorum: precision_at(&quorum, n),
            quorum_weighted: weighted.as_ref().map(|w| precision_at(w, n)),
            baseline: precision_at(&baseline, n),
        })
        .collect()
}

/// The column means of `rows`, as a row with the deepest cut-off as its `n`.
fn mean_row(rows: &[TopRow]) -> TopRow {
    let count = rows.len().max(1) as f64;
    let weighted: Option<Vec<f64>> = rows.iter().map(|r| r.quorum_weighted).collect();
    TopRow {
        n: rows.last().map_or(0, |r| r.n),
        quorum: rows.iter().map(|r| r.quorum).sum::<f64>() / count,
        quorum_weighted: weighted.map(|w| w.iter().sum::<f64>() / count),
        baseline: rows.iter().map(|r| r.baseline).sum::<f64>() / count,
    }
}

/// Precision of the `n` highest-scored items; items tied at the cut-off count by their
/// share (the expected precision under a random order of ties), so neither ranking
/// gains from how ties happen to be broken.
pub fn precision_at(items: &[(f64, bool)], n: usize) -> f64 {
    let mut sorted: Vec<(f64, bool)> = items.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let n = n.min(sorted.len());
    if n == 0 {
        return 0.0;
    }
    let cut = sorted[n - 1].0;
    let above: Vec<&(f64, bool)> = sorted.iter().filter(|x| x.0 > cut).collect();
    let tied: Vec<&(f64, bool)> = sorted.iter().filter(|x| x.0 == cut).collect();
    let true_above = above.iter().filter(|x| x.1).count() as f64;
    let true_tied = tied.iter().filter(|x| x.1).count() as f64;
    let taken = (n - above.len()) as f64;
    (true_above + taken * true_tied / tied.len() as f64) / n as f64
}

impl Evaluation {
    /// The report, in the layout of the dataset's `baseline.py`.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "== split {:?}: {} revisions, {} findings, {} judged, {} labelled in {} gold clusters\n",
            self.split, self.revisions, self.findings, self.judged, self.labelled, self.gold_clusters
        );
        let _ = writeln!(out, "B-cubed against gold clusters (revision, CVE)");
        let _ = writeln!(
            out,
            "  {:<52} {:>9} {:>7} {:>6}",
            "grouping", "precision", "recall", "F1"
        );
        let rows = [
            ("(c)  BASELINE crude: (revision, cwe, first file)", self.baseline_c),
            ("(c)  QUORUM, judged findings", self.quorum_c),
            ("(c)  QUORUM, all findings", self.quorum_all_c),
            ("(c2) BASELINE crude: (revision, cwe, first file)", self.baseline_c2),
            ("(c2) QUORUM, judged findings", self.quorum_c2),
            ("(c2) QUORUM, all findings", self.quorum_all_c2),
        ];
        for (name, prf) in rows {
            let _ = writeln!(
                out,
                "  {name:<52} {:>9.3} {:>7.3} {:>6.3}",
                prf.precision, prf.recall, prf.f1
            );
        }
        out.push('\n');
        agreement_table(&mut out, "(b1) judged findings", &self.quorum_b1, &self.baseline_b1);
        agreement_table(
            &mut out,
            "(b2) all findings (a lower bound)",
            &self.quorum_b2,
            &self.baseline_b2,
        );
        let _ = writeln!(
            out,
            "Precision of the top-ranked groups of judged findings (ties counted by share)"
        );
        let _ = writeln!(
            out,
            "  {:>10} {:>9} {:>17} {:>9}",
            "top", "QUORUM", "QUORUM weighted", "BASELINE"
        );
        for (label, row) in self
            .top
            .iter()
            .map(|r| (r.n.to_string(), r))
            .chain([(format!("mean 1-{}", self.top_mean.n), &self.top_mean)])
        {
            let weighted = row.quorum_weighted.map_or("-".to_string(), |w| format!("{w:.3}"));
            let _ = writeln!(
                out,
                "  {label:>10} {:>9.3} {:>17} {:>9.3}",
                row.quorum, weighted, row.baseline
            );
        }
        ranking_table(&mut out, &self.quorum_ranking, &self.baseline_ranking);
        out
    }
}

fn ranking_table(out: &mut String, quorum: &RankingMeasures, baseline: &RankingMeasures) {
    let _ = writeln!(
        out,
        "\nRanking measures neither splitting nor merging can inflate (judged findings; one CVE per issue; ties as one block)"
    );
    let _ = writeln!(out, "  {:<40} {:>9} {:>9}", "measure", "QUORUM", "BASELINE");
    let _ = writeln!(
        out,
        "  {:<40} {:>9} {:>9}",
        format!("distinct CVEs in the top {DISTINCT_TOP_N}"),
        quorum.distinct_top,
        baseline.distinct_top
    );
    let rows = [
        (
            "average precision (issues)",
            quorum.average_precision,
            baseline.average_precision,
        ),
        (
            "average precision over distinct CVEs",
            quorum.distinct_average_precision,
            baseline.distinct_average_precision,
        ),
    ];
    for (name, q, b) in rows {
        let _ = writeln!(out, "  {name:<40} {q:>9.3} {b:>9.3}");
    }
}

fn agreement_table(out: &mut String, title: &str, quorum: &[AgreementRow], baseline: &[AgreementRow]) {
    let _ = writeln!(out, "{title}: groups by number of models (QUORUM | BASELINE)");
    let _ = writeln!(
        out,
        "  {:>6} {:>7} {:>9} {:>10} {:>9} | {:>7} {:>9} {:>10} {:>9}",
        "models", "groups", "precision", "cum.groups", "cum.prec", "groups", "precision", "cum.groups", "cum.prec"
    );
    let ks: BTreeSet<usize> = quorum.iter().chain(baseline).map(|r| r.models).collect();
    for k in ks {
        let cell = |rows: &[AgreementRow]| match rows.iter().find(|r| r.models == k) {
            Some(r) => format!(
                "{:>7} {:>9.3} {:>10} {:>9.3}",
                r.groups, r.precision, r.cumulative_groups, r.cumulative_precision
            ),
            None => format!("{:>7} {:>9} {:>10} {:>9}", 0, "-", "-", "-"),
        };
        let _ = writeln!(out, "  {k:>6} {} | {}", cell(quorum), cell(baseline));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(revision: &str, model: &str, judged: bool, label: Option<&str>) -> Record {
        Record {
            judge: judged.then(|| "judge".into()),
            ..Record::judged(revision, model, label)
        }
    }

    #[test]
    fn bcubed_matches_the_definition() {
        let rs = [
            record("r", "a", true, Some("x")),
            record("r", "b", true, Some("x")),
            record("r", "c", true, Some("y")),
            record("r", "d", true, None),
        ];
        let refs: Vec<&Record> = rs.iter().collect();
        // {x, x, y, unlabelled}: labelled precision (2/3·2 + 1/3)/3 = 5/9, recall 1.
        let merged = bcubed(&refs, &[vec![0, 1, 2, 3]], false);
        assert!((merged.precision - 5.0 / 9.0).abs() < 1e-9 && merged.recall == 1.0);
        // Diluted: the unlabelled member counts in each cluster size: (2/4·2 + 1/4)/3.
        let diluted = bcubed(&refs, &[vec![0, 1, 2, 3]], true);
        assert!((diluted.precision - 5.0 / 12.0).abs() < 1e-9);
        let alone = bcubed(&refs, &[vec![0], vec![1], vec![2], vec![3]], true);
        assert_eq!(alone.precision, 1.0);
        assert!((alone.recall - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn ties_at_the_cut_off_count_by_share() {
        let items = [(2.0, true), (1.0, true), (1.0, false), (1.0, false), (1.0, false)];
        assert_eq!(precision_at(&items, 1), 1.0);
        // One sure hit, then one of four tied items of which one is true: 1 + 1/4.
        assert!((precision_at(&items, 2) - 1.25 / 2.0).abs() < 1e-9);
    }

    #[test]
    fn split_is_a_stable_half() {
        let names: Vec<String> = (0..400).map(|i| format!("owner/repo{i}@abc")).collect();
        let tune = names.iter().filter(|n| Split::Tune.contains(n)).count();
        assert!((150..250).contains(&tune), "{tune}");
        assert!(names
            .iter()
            .all(|n| Split::Tune.contains(n) != Split::Holdout.contains(n)));
    }

    #[test]
    fn agreement_rows_accumulate_from_the_top() {
        let rs = [
            record("r", "a", true, Some("x")),
            record("r", "b", true, Some("x")),
            record("r", "a", true, None),
        ];
        let refs: Vec<&Record> = rs.iter().collect();
        let rows = agreement_rows(&refs, &[vec![0, 1], vec![2]]);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].models, rows[0].cumulative_groups), (1, 2));
        assert_eq!(rows[0].cumulative_precision, 0.5);
        assert_eq!((rows[1].models, rows[1].precision), (2, 1.0));
    }
}
