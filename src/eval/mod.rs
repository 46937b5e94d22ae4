//! Evaluation: how well each model, and the consensus at each agreement threshold, find
//! the known problems of a codebase.
//!
//! Quorum's claim is that agreement between independent models separates real problems
//! from noise. `quorum eval OUT_DIR --truth FILE` measures that claim on a run whose
//! answers are known (a truth file such as `examples/vulnerable-app/truth.toml`), from
//! the same run folder `quorum aggregate` reads, through the same analysis. The
//! [`eyeballvul`] submodule measures the clustering itself on real multi-model data.
//!
//! Matching: a finding or issue matches a truth entry when it is about the same file,
//! its lines overlap the entry's within [`LINE_TOLERANCE`] lines, and, when both name a
//! CWE, the CWEs are of one family. A finding without lines matches on file and CWE
//! family alone (it needs a CWE on both sides). Counting: TP = truth entries matched,
//! FN = truth entries not matched, FP = reported items that match no entry; an item
//! matching an entry something else already matched is a duplicate, counted in neither.

pub mod eyeballvul;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::analysis::{self, Analysis};
use crate::consensus::{cwe_family, Issue, Settings};
use crate::normalize::finding::Finding;
use crate::store::{self, RunMeta};

/// How many lines apart a report and a truth entry may be and still match.
pub const LINE_TOLERANCE: u32 = 3;

/// The known problems of a codebase (`[[vuln]]` tables; paths relative to the review root).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Truth {
    #[serde(rename = "vuln", default)]
    pub entries: Vec<TruthEntry>,
}

/// One known problem.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TruthEntry {
    pub id: String,
    pub file: String,
    pub start_line: u32,
    /// Defaults to `start_line`.
    #[serde(default)]
    pub end_line: Option<u32>,
    #[serde(default)]
    pub cwe: Option<u32>,
    #[serde(default)]
    pub title: Option<String>,
}

impl Truth {
    /// Reads a truth file; errors name the file.
    pub fn load(path: &Path) -> Result<Truth> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{} is not a valid truth file", path.display()))
    }
}

/// The scores of one model, or of the consensus at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// The provider's name, or `consensus >= k`.
    pub name: String,
    /// For the consensus: the minimum number of agreeing families.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_agree: Option<usize>,
    /// Findings (for a model) or issues (for the consensus) reported.
    pub reported: usize,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    /// Items that matched an entry something else had already matched.
    pub duplicates: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// What `quorum eval` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub run_id: String,
    pub truth_entries: usize,
    pub line_tolerance: u32,
    pub models: Vec<Scores>,
    pub consensus: Vec<Scores>,
}

/// `quorum eval OUT_DIR --truth FILE`: analyses the run folder exactly as `aggregate`
/// does and scores it against the truth file.
pub fn run_eval(out_dir: &Path, truth_path: &Path, settings: &Settings) -> Result<EvalReport> {
    let truth = Truth::load(truth_path)?;
    let meta = RunMeta::read(out_dir)?;
    let loaded = store::read_records(out_dir)?;
    let analysis = analysis::analyze(meta, loaded.records, &HashMap::new(), settings);
    Ok(evaluate(&analysis, &truth))
}

/// Scores every provider's findings and the consensus at each threshold.
pub fn evaluate(analysis: &Analysis, truth: &Truth) -> EvalReport {
    let findings: Vec<&Finding> = analysis.issues.iter().flat_map(|i| &i.findings).collect();
    let models = analysis
        .providers
        .iter()
        .map(|p| {
            let own: Vec<Reported> = findings
                .iter()
                .filter(|f| f.provider == p.name)
                .map(|f| Reported::finding(f))
                .collect();
            score(p.name.clone(), None, &own, truth)
        })
        .collect();
    let families: BTreeSet<&str> = analysis.providers.iter().map(|p| p.family.as_str()).collect();
    let consensus = (1..=families.len().max(1))
        .map(|k| {
            let issues: Vec<Reported> = analysis
                .issues
                .iter()
                .filter(|i| i.agreement.count >= k)
                .map(Reported::issue)
                .collect();
            score(format!("consensus >= {k}"), Some(k), &issues, truth)
        })
        .collect();
    EvalReport {
        run_id: analysis.meta.run_id.clone(),
        truth_entries: truth.entries.len(),
        line_tolerance: LINE_TOLERANCE,
        models,
        consensus,
    }
}

impl EvalReport {
    /// A plain-text table: one row per model, then one per consensus threshold.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Run {} against {} known problems (a match: same file, lines within {}, same CWE family when both name one)\n",
            crate::sanitize::terminal_safe(&self.run_id),
            self.truth_entries,
            self.line_tolerance
        );
        let _ = writeln!(
            out,
            "{:<24} {:>8} {:>4} {:>4} {:>4} {:>4} {:>9} {:>7} {:>6}",
            "", "reported", "TP", "FP", "FN", "dup", "precision", "recall", "F1"
        );
        for s in self.models.iter().chain(&self.consensus) {
            let _ = writeln!(
                out,
                "{:<24} {:>8} {:>4} {:>4} {:>4} {:>4} {:>9.3} {:>7.3} {:>6.3}",
                crate::sanitize::terminal_safe(&s.name),
                s.reported,
                s.true_positives,
                s.false_positives,
                s.false_negatives,
                s.duplicates,
                s.precision,
                s.recall,
                s.f1
            );
        }
        out
    }
}

/// What matching needs of a finding or an issue.
struct Reported<'a> {
    file: &'a str,
    lines: Option<(u32, u32)>,
    cwe: Option<u32>,
}

impl<'a> Reported<'a> {
    fn finding(f: &'a Finding) -> Reported<'a> {
        Reported {
            file: &f.file,
            lines: f.start_line.zip(f.end_line),
            cwe: f.cwe,
        }
    }

    fn issue(i: &'a Issue) -> Reported<'a> {
        Reported {
            file: &i.file,
            lines: i.start_line.zip(i.end_line),
            cwe: i.cwe,
        }
    }

    fn matches(&self, entry: &TruthEntry) -> bool {
        if self.file != entry.file {
            return false;
        }
        let cwe_agrees = match (self.cwe, entry.cwe) {
            (Some(a), Some(b)) => cwe_family(a) == cwe_family(b),
            _ => true,
        };
        let entry_end = entry.end_line.unwrap_or(entry.start_line).max(entry.start_line);
        let near = match self.lines {
            Some((start, end)) => {
                start <= entry_end.saturating_add(LINE_TOLERANCE)
                    && end.saturating_add(LINE_TOLERANCE) >= entry.start_line
            }
            None => self.cwe.is_some() && entry.cwe.is_some(),
        };
        cwe_agrees && near
    }
}

fn score(name: String, min_agree: Option<usize>, reported: &[Reported], truth: &Truth) -> Scores {
    let candidates: Vec<Vec<usize>> = reported
        .iter()
        .map(|item| {
            (0..truth.entries.len())
                .filter(|&e| item.matches(&truth.entries[e]))
                .collect()
        })
        .collect();
    let assigned = maximum_matching(&candidates, truth.entries.len());
    let true_positives = assigned.iter().filter(|a| a.is_some()).count();
    let false_positives = candidates.iter().filter(|c| c.is_empty()).count();
    // Matched something, but every entry it could match went to another report.
    let duplicates = reported.len() - true_positives - false_positives;
    let false_negatives = truth.entries.len() - true_positives;
    let precision = ratio(true_positives, true_positives + false_positives);
    let recall = ratio(true_positives, truth.entries.len());
    Scores {
        name,
        min_agree,
        reported: reported.len(),
        true_positives,
        false_positives,
        false_negatives,
        duplicates,
        precision,
        recall,
        f1: f1(precision, recall),
    }
}

/// The largest one-to-one assignment of reports to truth entries (augmenting paths), so
/// that the count of true positives does not depend on the order reports come in. For
/// each report, the entry it was assigned, if any.
fn maximum_matching(candidates: &[Vec<usize>], entries: usize) -> Vec<Option<usize>> {
    fn augment(r: usize, candidates: &[Vec<usize>], owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
        for &e in &candidates[r] {
            if seen[e] {
                continue;
            }
            seen[e] = true;
            if owner[e].is_none_or(|other| augment(other, candidates, owner, seen)) {
                owner[e] = Some(r);
                return true;
            }
        }
        false
    }
    let mut owner: Vec<Option<usize>> = vec![None; entries];
    for r in 0..candidates.len() {
        augment(r, candidates, &mut owner, &mut vec![false; entries]);
    }
    let mut assigned = vec![None; candidates.len()];
    for (e, r) in owner.iter().enumerate() {
        if let Some(r) = r {
            assigned[*r] = Some(e);
        }
    }
    assigned
}

/// B-cubed precision, recall and F1 of predicted `groups` (positions into `gold`)
/// against the gold labels: for each item, the share of its predicted group that shares
/// its gold label, and the share of its gold cluster that shares its predicted group.
pub fn bcubed<G: Ord>(groups: &[Vec<usize>], gold: &[G]) -> (f64, f64, f64) {
    // Ordered maps: float sums in a fixed order give the same digits every run.
    let mut gold_size: std::collections::BTreeMap<&G, usize> = std::collections::BTreeMap::new();
    for g in gold {
        *gold_size.entry(g).or_default() += 1;
    }
    let (mut p, mut r) = (0.0, 0.0);
    for group in groups {
        let mut same: std::collections::BTreeMap<&G, usize> = std::collections::BTreeMap::new();
        for &i in group {
            *same.entry(&gold[i]).or_default() += 1;
        }
        for (g, inter) in same {
            let inter = inter as f64;
            p += inter * inter / group.len() as f64;
            r += inter * inter / gold_size[g] as f64;
        }
    }
    let n = gold.len().max(1) as f64;
    let (precision, recall) = (p / n, r / n);
    (precision, recall, f1(precision, recall))
}

/// `a / b`, or 0 when `b` is 0.
pub fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The harmonic mean of precision and recall (0 when both are 0).
pub fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn matching_is_maximal_whatever_the_order_of_reports() {
        // Report 0 could be either entry; report 1 only entry 0. Greedy in this order
        // would give report 0 entry 0 and leave report 1 a duplicate.
        let candidates = vec![vec![0, 1], vec![0]];
        let assigned = maximum_matching(&candidates, 2);
        assert_eq!(assigned, vec![Some(1), Some(0)]);
        let reversed = vec![vec![0], vec![0, 1]];
        assert_eq!(maximum_matching(&reversed, 2).iter().filter(|a| a.is_some()).count(), 2);
        assert_eq!(
            maximum_matching(&[vec![0], vec![0], vec![]], 1),
            vec![Some(0), None, None]
        );
    }

    use super::*;

    fn entry(file: &str, start: u32, end: u32, cwe: Option<u32>) -> TruthEntry {
        TruthEntry {
            id: "V".into(),
            file: file.into(),
            start_line: start,
            end_line: Some(end),
            cwe,
            title: None,
        }
    }

    fn place(file: &str, lines: Option<(u32, u32)>, cwe: Option<u32>) -> Reported<'_> {
        Reported { file, lines, cwe }
    }

    #[test]
    fn matching_needs_file_nearby_lines_and_a_related_cwe() {
        let e = entry("a.go", 30, 36, Some(330));
        assert!(place("a.go", Some((36, 40)), Some(338)).matches(&e));
        assert!(place("a.go", Some((39, 40)), None).matches(&e));
        assert!(!place("a.go", Some((40, 44)), Some(330)).matches(&e));
        assert!(!place("a.go", Some((30, 36)), Some(89)).matches(&e));
        assert!(!place("b.go", Some((30, 36)), Some(330)).matches(&e));
        assert!(place("a.go", None, Some(330)).matches(&e));
        assert!(!place("a.go", None, None).matches(&e));
    }

    #[test]
    fn bcubed_of_perfect_split_and_merged_groupings() {
        let gold = ["a", "a", "b"];
        assert_eq!(bcubed(&[vec![0, 1], vec![2]], &gold), (1.0, 1.0, 1.0));
        let (p, r, _) = bcubed(&[vec![0, 1, 2]], &gold);
        assert!((p - 5.0 / 9.0).abs() < 1e-9 && r == 1.0);
        let (p, r, _) = bcubed(&[vec![0], vec![1], vec![2]], &gold);
        assert!(p == 1.0 && (r - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn duplicates_are_neither_true_nor_false() {
        let truth = Truth {
            entries: vec![entry("a.go", 10, 12, Some(89)), entry("a.go", 50, 50, None)],
        };
        let items = [
            place("a.go", Some((10, 11)), Some(89)),
            place("a.go", Some((11, 12)), Some(89)),
            place("a.go", Some((90, 95)), None),
        ];
        let s = score("m".into(), None, &items, &truth);
        assert_eq!(
            (s.true_positives, s.false_positives, s.false_negatives, s.duplicates),
            (1, 1, 1, 1)
        );
        assert_eq!((s.precision, s.recall, s.f1), (0.5, 0.5, 0.5));
    }
}
