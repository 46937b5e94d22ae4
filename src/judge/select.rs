//! Which issues the judge is asked about: the `top` highest ranked of the models' issues,
//! and every issue a single family reported at high or critical severity (where one
//! model's blind spot does the most harm). Quorum's own issues are certain: never judged.

use crate::consensus::{Issue, Source};
use crate::normalize::finding::Severity;

/// The issues to judge, in rank order, each once.
pub fn select(issues: &[Issue], top: usize) -> Vec<&Issue> {
    issues
        .iter()
        .filter(|i| i.source == Source::Models)
        .enumerate()
        .filter(|(rank, i)| *rank < top || (i.agreement.count == 1 && i.severity >= Severity::High))
        .map(|(_, i)| i)
        .collect()
}
