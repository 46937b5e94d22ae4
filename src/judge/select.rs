//! Which issues the judge is asked about: the `top` highest ranked of the models' issues,
//! and the issues a single family reported at high or critical severity (where one
//! model's blind spot does the most harm), at most [`MAX_EXTRA`] of those beyond the top:
//! a run of one model that reports hundreds of critical issues must not ask hundreds of
//! questions. Quorum's own issues are certain: never judged.

use crate::consensus::{Issue, Source};
use crate::normalize::finding::Severity;

/// The most single-family high or critical issues judged beyond the `top`: so a pass
/// asks about at most `top + MAX_EXTRA` issues.
pub const MAX_EXTRA: usize = 20;

/// The issues chosen, and how many more would have been without [`MAX_EXTRA`].
#[derive(Debug, Default)]
pub struct Selection<'a> {
    pub chosen: Vec<&'a Issue>,
    /// Single-family high or critical issues left unjudged by the cap.
    pub capped: usize,
}

/// The issues to judge, in rank order, each once.
pub fn select(issues: &[Issue], top: usize) -> Selection<'_> {
    let mut selection = Selection::default();
    let mut extra = 0;
    let models = issues.iter().filter(|i| i.source == Source::Models);
    for (rank, issue) in models.enumerate() {
        if rank < top {
            selection.chosen.push(issue);
        } else if issue.agreement.count == 1 && issue.severity >= Severity::High {
            if extra < MAX_EXTRA {
                extra += 1;
                selection.chosen.push(issue);
            } else {
                selection.capped += 1;
            }
        }
    }
    selection
}
