//! Consensus: group findings that describe the same problem, and rank the groups by how
//! many independent models reported them.
//!
//! This is the product. Two wordings of one bug that stay apart undercount agreement;
//! two different bugs merged let a false one borrow credibility. Clustering therefore
//! looks at location, weakness (CWE, or category) and wording together, never merges
//! two different findings of one model, and is deterministic: the same findings in any
//! order give the same issues and ids. Agreement counts distinct *families* (two servers
//! running one model are one voice) out of the families that reviewed the file
//! successfully: a model that failed on a file is not counted as disagreeing.
//!
//! How it stays fast on large runs: every finding is turned once into a profile
//! (hashed, stemmed content words, CWE family, location); findings are only compared
//! within a block (the file) and only when they are near in lines, share a function, or
//! one of them has no lines. Candidate pairs are merged best-first (single link), and two
//! groups join only when the mean similarity between all their members is high enough,
//! which stops chains of merely similar findings from swallowing unrelated ones.
//!
//! One file per step: `profile` (with `words`, `stop_words`, `hashing`),
//! `similarity` (with `cwe`), `cluster` (with `order`, `pairs`), `rank` and
//! `id`; [`Settings`] holds every threshold and weight. Nothing here does I/O. The small
//! helpers called per pair or per word from a sibling file are `#[inline]`: they were one
//! file before, and the 100k-finding benchmark must not pay for the split.

mod cluster;
mod cwe;
mod hashing;
mod id;
mod order;
mod pairs;
mod prior;
mod profile;
mod rank;
mod settings;
mod similarity;
mod stop_words;
mod words;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::normalize::finding::{Category, Finding, Severity};

pub use cluster::cluster_indices;
#[doc(hidden)]
pub use cluster::cluster_indices_naive;
pub use cwe::cwe_family;
pub use id::nearby_ids;
pub use prior::DEFAULT_DEMOTE_PATHS;
pub use settings::Settings;

use rank::rank;

/// How many independent models reported an issue, out of how many reviewed its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Distinct families that reported it.
    pub count: usize,
    /// Families that successfully reviewed the file.
    pub of: usize,
    /// The providers that reported it, sorted.
    pub providers: Vec<String>,
}

/// One problem, as reported by one or more models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Stable fingerprint: the same issue gets the same id on the next run.
    pub id: String,
    pub file: String,
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    pub severity: Severity,
    pub category: Category,
    pub cwe: Option<u32>,
    pub title: String,
    pub agreement: Agreement,
    pub score: f64,
    /// Every member, with each model's own wording.
    pub findings: Vec<Finding>,
    /// Who found it: the models, or Quorum's own checks (then `findings` is empty and
    /// `agreement` counts no vote).
    #[serde(default)]
    pub source: Source,
    /// For Quorum's own issues: which check, and what it found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<crate::checks::CheckDetail>,
    /// In a `--since` review: the issue lies outside the changed lines (and their
    /// margin), so the change did not bring it. Set by `analysis`; absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pre_existing: bool,
}

impl Issue {
    /// Whether the issue is the change's own (always, outside a `--since` review): what
    /// a gate on a change counts.
    pub fn is_new(&self) -> bool {
        !self.pre_existing
    }
}

/// Who found an issue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// One or more models (clustered findings).
    #[default]
    Models,
    /// Quorum's own deterministic checks (a redacted secret, prompt injection).
    Quorum,
}

/// Where a finding is, as clustering sees it.
///
/// Findings are compared only within one `block`. A review blocks by file and names
/// that one file; data without lines (a whole-repository review) can block by
/// something larger and name several files and functions per finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub block: String,
    pub files: Vec<String>,
    /// Functions the model named (a model may name several, or a wrong one).
    pub functions: Vec<String>,
    /// The function the finding's lines are in, as the code shows it (a review fills it
    /// from the related-code index), when known. Two findings of one model in the same
    /// function and CWE family are facets of one problem and may join; in different
    /// functions they stay apart. `None` leaves clustering as it was without it.
    pub function: Option<String>,
}

impl Place {
    /// A review's place: blocked by the finding's file, with its function if named.
    pub fn of(finding: &Finding) -> Place {
        Place {
            block: finding.file.clone(),
            files: vec![finding.file.clone()],
            functions: finding.function.iter().cloned().collect(),
            function: None,
        }
    }
}

/// Issues in ranked order, with the input positions of each issue's members.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub issues: Vec<Issue>,
    /// `members[i]` are the positions (in the input) of `issues[i].findings`, in order.
    pub members: Vec<Vec<usize>>,
}

/// Clusters `findings` and ranks the clusters.
///
/// `reviewed` maps each file to the families that reviewed it successfully; `texts`
/// maps files to their contents, used to anchor ids to code rather than line numbers.
pub fn build_issues(
    findings: Vec<Finding>,
    reviewed: &BTreeMap<String, BTreeSet<String>>,
    texts: &HashMap<String, String>,
    settings: &Settings,
) -> Vec<Issue> {
    rank(findings, None, reviewed, texts, settings).issues
}

/// [`build_issues`] with explicit places; `reviewed` is keyed by block.
///
/// Panics if `places` does not hold exactly one place per finding.
pub fn build_issues_at(
    findings: Vec<Finding>,
    places: &[Place],
    reviewed: &BTreeMap<String, BTreeSet<String>>,
    texts: &HashMap<String, String>,
    settings: &Settings,
) -> Ranked {
    assert_eq!(findings.len(), places.len(), "one place per finding");
    rank(findings, Some(places), reviewed, texts, settings)
}

/// Keeps the issues at least `min` families reported (`--min-agree`); order unchanged.
pub fn filter_min_agree(issues: Vec<Issue>, min: usize) -> Vec<Issue> {
    // Quorum's own issues are certain, not voted on: no threshold hides them.
    issues
        .into_iter()
        .filter(|i| i.source == Source::Quorum || i.agreement.count >= min)
        .collect()
}

/// The block of finding `i`: its place's, or (in a review) its file.
#[inline]
fn block_of<'a>(findings: &'a [Finding], places: Option<&'a [Place]>, i: usize) -> &'a str {
    places.map_or(findings[i].file.as_str(), |p| p[i].block.as_str())
}

#[cfg(test)]
mod evidence_tests;
#[cfg(test)]
mod facet_tests;
#[cfg(test)]
mod tests;
