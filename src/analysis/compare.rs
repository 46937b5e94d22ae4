//! `quorum compare`: the models of a run side by side, computed from its [`Analysis`] alone
//! (no I/O here), so `compare`, `review` and `aggregate` show the same numbers.
//!
//! An issue "of" a model is one holding at least one of its findings. Without a truth
//! file, the share of a model's findings that land in issues at least two families agree
//! on stands in for precision; with one, `eval` scores each model.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Analysis;
use crate::consensus::{Issue, Source};
use crate::eval::{self, Truth};

/// The files `review` and `aggregate` write beside their reports (Markdown, JSON); a new
/// run sets them aside with the rest of the earlier run.
pub const COMPARE_FILES: [&str; 2] = ["compare.md", "compare.json"];

/// The agreement (distinct families) an issue needs to count as agreed.
pub const AGREED: usize = 2;

/// The percentile of latency shown beside the median.
const TAIL_PERCENTILE: usize = 95;

/// One model's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRow {
    pub name: String,
    pub model: String,
    pub family: String,
    pub files_answered: usize,
    pub failures: usize,
    pub unusable_answers: usize,
    pub findings: usize,
    /// Issues no other model reported.
    pub alone: usize,
    /// Issues a model of another family reported too.
    pub shared_with_other_family: usize,
    /// The share of its findings in issues of agreement ≥ [`AGREED`]; `None` without findings.
    pub agreed_share: Option<f64>,
    /// Its issues of agreement ≥ [`AGREED`].
    pub agreed_issues: usize,
    pub median_latency_ms: u64,
    pub p95_latency_ms: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: Option<f64>,
    /// Cost divided by its agreed issues; `None` without a price or an agreed issue.
    pub cost_per_agreed_issue: Option<f64>,
    /// The model that reports the largest share of this model's issues too.
    pub most_confirmed_by: Option<String>,
    /// With `--truth`: this model's scores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truth: Option<eval::Scores>,
}

/// Two models: how far their issues overlap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    /// Issues both reported.
    pub both: usize,
    /// Issues either reported.
    pub either: usize,
    /// `both ÷ either`; `None` when neither reported any.
    pub jaccard: Option<f64>,
    /// The share of `a`'s issues that `b` reported too.
    pub b_confirms_a: Option<f64>,
    /// The share of `b`'s issues that `a` reported too.
    pub a_confirms_b: Option<f64>,
}

/// What `quorum compare` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub run_id: String,
    /// Issues reported by models (Quorum's own checks left out).
    pub issues: usize,
    pub models: Vec<ModelRow>,
    pub pairs: Vec<Pair>,
}

/// Compares the models of `analysis`, scoring each against `truth` when given.
pub fn compare(analysis: &Analysis, truth: Option<&Truth>) -> Comparison {
    let issues: Vec<&Issue> = analysis.issues.iter().filter(|i| i.source == Source::Models).collect();
    let family: BTreeMap<&str, &str> = analysis
        .providers
        .iter()
        .map(|p| (p.name.as_str(), p.family.as_str()))
        .collect();
    let of: BTreeMap<&str, BTreeSet<usize>> = analysis
        .providers
        .iter()
        .map(|p| (p.name.as_str(), issues_of(&issues, &p.name)))
        .collect();
    let scores = truth.map(|t| eval::evaluate(analysis, t).models);
    let pairs = pairs(analysis, &of);
    let models = analysis
        .providers
        .iter()
        .map(|p| {
            let mine = &of[p.name.as_str()];
            let reporters = |i: usize| reporters(issues[i]);
            let alone = mine.iter().filter(|&&i| reporters(i).len() == 1).count();
            let shared = mine
                .iter()
                .filter(|&&i| {
                    reporters(i)
                        .iter()
                        .any(|r| family.get(r.as_str()).is_some_and(|f| *f != p.family))
                })
                .count();
            let agreed_issues = mine.iter().filter(|&&i| issues[i].agreement.count >= AGREED).count();
            let (findings, agreed_findings) = findings_in_agreed(&issues, &p.name);
            ModelRow {
                name: p.name.clone(),
                model: p.model.clone(),
                family: p.family.clone(),
                files_answered: p.requests,
                failures: p.failures,
                unusable_answers: p.unusable_answers,
                findings: p.findings,
                alone,
                shared_with_other_family: shared,
                agreed_share: ratio(agreed_findings, findings),
                agreed_issues,
                median_latency_ms: p.median_latency_ms,
                p95_latency_ms: p.p95_latency_ms,
                input_tokens: p.input_tokens,
                output_tokens: p.output_tokens,
                cost_usd: p.cost_usd,
                cost_per_agreed_issue: p
                    .cost_usd
                    .filter(|_| agreed_issues > 0)
                    .map(|c| c / agreed_issues as f64),
                most_confirmed_by: most_confirmed_by(&p.name, &pairs),
                truth: scores
                    .as_ref()
                    .and_then(|s| s.iter().find(|s| s.name == p.name).cloned()),
            }
        })
        .collect();
    Comparison {
        run_id: analysis.meta.run_id.clone(),
        issues: issues.len(),
        models,
        pairs,
    }
}

/// The 95th-percentile value of sorted `values` (nearest rank), 0 for none.
pub fn p95(sorted: &[u64]) -> u64 {
    let rank = (sorted.len() * TAIL_PERCENTILE).div_ceil(100);
    sorted.get(rank.saturating_sub(1)).copied().unwrap_or(0)
}

/// The providers with a finding in `issue`.
fn reporters(issue: &Issue) -> BTreeSet<String> {
    issue.findings.iter().map(|f| f.provider.clone()).collect()
}

/// The indexes of the issues holding a finding of `provider`.
fn issues_of(issues: &[&Issue], provider: &str) -> BTreeSet<usize> {
    issues
        .iter()
        .enumerate()
        .filter(|(_, i)| i.findings.iter().any(|f| f.provider == provider))
        .map(|(n, _)| n)
        .collect()
}

/// `provider`'s findings in issues, and those of them in issues of agreement ≥ [`AGREED`].
fn findings_in_agreed(issues: &[&Issue], provider: &str) -> (usize, usize) {
    let mut all = 0;
    let mut agreed = 0;
    for issue in issues {
        let mine = issue.findings.iter().filter(|f| f.provider == provider).count();
        all += mine;
        if issue.agreement.count >= AGREED {
            agreed += mine;
        }
    }
    (all, agreed)
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Every pair of providers, in the run's order.
fn pairs(analysis: &Analysis, of: &BTreeMap<&str, BTreeSet<usize>>) -> Vec<Pair> {
    let names: Vec<&str> = analysis.providers.iter().map(|p| p.name.as_str()).collect();
    let mut out = Vec::new();
    for (n, a) in names.iter().enumerate() {
        for b in &names[n + 1..] {
            let (sa, sb) = (&of[a], &of[b]);
            let both = sa.intersection(sb).count();
            let either = sa.union(sb).count();
            out.push(Pair {
                a: a.to_string(),
                b: b.to_string(),
                both,
                either,
                jaccard: ratio(both, either),
                b_confirms_a: ratio(both, sa.len()),
                a_confirms_b: ratio(both, sb.len()),
            });
        }
    }
    out
}

/// The other model confirming the largest share of `name`'s issues (first on a tie).
fn most_confirmed_by(name: &str, pairs: &[Pair]) -> Option<String> {
    let shares = pairs.iter().filter_map(|p| match () {
        _ if p.a == name => p.b_confirms_a.map(|s| (s, &p.b)),
        _ if p.b == name => p.a_confirms_b.map(|s| (s, &p.a)),
        _ => None,
    });
    let mut best: Option<(f64, &String)> = None;
    for (share, other) in shares {
        if share > 0.0 && best.is_none_or(|(b, _)| share > b) {
            best = Some((share, other));
        }
    }
    best.map(|(_, other)| other.clone())
}

#[cfg(test)]
#[path = "compare/tests.rs"]
mod tests;
