//! The tunable thresholds and weights of consensus.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::prior::{check_globs, DEFAULT_DEMOTE_PATHS};

/// Tunable thresholds and weights; the clustering ones are the `[consensus]` table of the
/// configuration.
///
/// The defaults were tuned on one half of the eyeballvul revisions (see
/// `examples/eyeballvul.rs`) and checked on the other half and on the labelled set in
/// `examples/labelled/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Findings in one file whose line ranges are further apart than this are compared
    /// only when they name the same function.
    pub line_tolerance: u32,
    /// Minimum similarity (0..1) for two findings of different models to merge.
    pub merge_threshold: f64,
    /// Minimum similarity for two findings of the same model to merge: only
    /// near-duplicates. A model that lists two problems meant two problems.
    pub same_provider_threshold: f64,
    /// Minimum similarity for two findings of the same model to merge when they are in
    /// the same enclosing function (known from the code, scoped to the file) and CWE
    /// family, and near (within 30 lines) or, without lines, share some wording: facets
    /// of one problem. One model's findings in different functions never merge; far
    /// apart in one function they merge only as near-duplicates.
    pub same_function_threshold: f64,
    /// Minimum mean similarity between every member of two groups for the groups to
    /// become one (0 = plain single link).
    pub group_threshold: f64,
    /// Relative weight of location (lines, function, file) in the similarity.
    pub location_weight: f64,
    /// Relative weight of the weakness (CWE and its family, category).
    pub weakness_weight: f64,
    /// Relative weight of the wording (titles and descriptions).
    pub text_weight: f64,
    /// Per-provider weight of a vote in the score (default 1.0), filled from each
    /// provider's `weight`; not part of `[consensus]`.
    #[serde(skip)]
    pub provider_weights: BTreeMap<String, f64>,
    /// Weight of agreement (0..1: the share of the families that reviewed the file) in
    /// an issue's score. The three score weights are not part of `[consensus]`: they are
    /// fixed for users (ARCHITECTURE.md states the formula), and named here so the
    /// evaluation can vary them.
    #[serde(skip)]
    pub agreement_weight: f64,
    /// Weight of the median severity (0..1, info to critical) in the score.
    #[serde(skip)]
    pub severity_weight: f64,
    /// Weight of the models' mean confidence (0..1) in the score.
    #[serde(skip)]
    pub confidence_weight: f64,
    /// Globs (globset syntax, `**` for any folders; relative to the review root) of
    /// test, fixture, example, documentation, vendored and build-script files: an issue
    /// in such a file ranks `demote_weight` lower. Case is ignored unless the glob holds
    /// a capital letter (`**/*Test.java`).
    /// Setting it replaces the default list; `[]` demotes nothing.
    pub demote_paths: Vec<String>,
    /// How much an issue in a `demote_paths` file loses from its score. Like the other
    /// score weights, not part of `[consensus]`.
    #[serde(skip)]
    pub demote_weight: f64,
    /// Weight of the CWE prior in the score: an issue's score moves this times |its CWE
    /// family's relative precision − 1| of the way towards 1 (a family above average) or
    /// 0 (below), the relative precision being the shipped table's (1 for a family it
    /// lacks, at most 2). Not part of `[consensus]`.
    #[serde(skip)]
    pub cwe_prior_weight: f64,
    /// An issue loses this times the share of its findings that say nowhere in their file
    /// (no lines, no function): "the app lacks input validation" is less often a real
    /// problem than a report that points at its place. Tuned on eyeballvul, whose findings
    /// never have lines: what was measured is "no function named".
    /// Like the other score weights, not part of `[consensus]`.
    #[serde(skip)]
    pub unplaced_weight: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            line_tolerance: 3,
            merge_threshold: 0.5,
            same_provider_threshold: 0.85,
            // Low: one function and one CWE family are most of the evidence, and two
            // facets are worded differently by nature (0.3 to 0.5 cluster eyeballvul's
            // tuning half alike; 0.85 loses 0.005 of (c2) F1).
            same_function_threshold: 0.3,
            group_threshold: 0.3,
            location_weight: 0.3,
            weakness_weight: 0.2,
            text_weight: 0.5,
            provider_weights: BTreeMap::new(),
            // Agreement outweighs severity and confidence together.
            agreement_weight: 0.7,
            severity_weight: 0.2,
            confidence_weight: 0.1,
            demote_paths: DEFAULT_DEMOTE_PATHS.iter().map(|g| g.to_string()).collect(),
            // Tuned on eyeballvul's tuning half (`--tune-rank`, distinct-CVE AP 0.286;
            // 0.15 and 0.15 gave 0.283; with `unplaced_weight` 0.05, 0.289, and demote 0.3
            // only 0.0002 more, so it stays): a demoted issue loses about what two of seven
            // models add; the best CWE family moves a score a fifth of the way to 1, the
            // worst about an eighth of the way to 0.
            demote_weight: 0.2,
            cwe_prior_weight: 0.2,
            // Tuned on eyeballvul's tuning half (`--tune-rank`, with the two above): 0.05
            // gave distinct-CVE AP 0.2890 (0.2857 without; 0.1: 0.2883, 0.15: 0.2879).
            unplaced_weight: 0.05,
        }
    }
}

impl Settings {
    /// Why these settings cannot be used, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        let unit = [
            ("merge_threshold", self.merge_threshold),
            ("same_provider_threshold", self.same_provider_threshold),
            ("same_function_threshold", self.same_function_threshold),
            ("group_threshold", self.group_threshold),
        ];
        for (name, value) in unit {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{name} must be between 0 and 1, not {value}"));
            }
        }
        let weights = [
            ("location_weight", self.location_weight),
            ("weakness_weight", self.weakness_weight),
            ("text_weight", self.text_weight),
        ];
        non_negative(&weights)?;
        if weights.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
            return Err("location_weight, weakness_weight and text_weight cannot all be 0".into());
        }
        let score_weights = [
            ("agreement_weight", self.agreement_weight),
            ("severity_weight", self.severity_weight),
            ("confidence_weight", self.confidence_weight),
            ("demote_weight", self.demote_weight),
            ("cwe_prior_weight", self.cwe_prior_weight),
            ("unplaced_weight", self.unplaced_weight),
        ];
        non_negative(&score_weights)?;
        check_globs(&self.demote_paths)?;
        match self.provider_weights.iter().find(|(_, w)| !w.is_finite() || **w < 0.0) {
            Some((name, w)) => Err(format!("the weight of provider {name} must be at least 0, not {w}")),
            None => Ok(()),
        }
    }

    pub(super) fn provider_weight(&self, provider: &str) -> f64 {
        self.provider_weights.get(provider).copied().unwrap_or(1.0)
    }
}

/// Why one of the named weights cannot be used, if one cannot.
fn non_negative(weights: &[(&str, f64)]) -> Result<(), String> {
    match weights.iter().find(|(_, w)| !w.is_finite() || *w < 0.0) {
        Some((name, value)) => Err(format!("{name} must be a number of at least 0, not {value}")),
        None => Ok(()),
    }
}
