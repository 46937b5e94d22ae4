//! The judge pass: a strong model checks the top issues, with the code around each one
//! and the related code from other files, and confirms or rejects it.
//!
//! Agreement fails when the models share a blind spot (a check that lives in another
//! file); a judge that sees the evidence catches that. The stage takes the ranked issues
//! and gives one question per issue chosen (`select`, `prompt`); the engine asks them as
//! jobs of their own kind, stored, cached and resumed like any answer. The analysis then
//! reads each stored verdict (`parse`, `verdicts`) and ranks by it (`rank`): a rejected
//! issue goes below every other, a confirmed one rises within its agreement level. A
//! judge that fails or answers nonsense leaves its issue unjudged, and says why: no issue
//! is ever hidden by a judge.

mod parse;
mod prompt;
mod rank;
mod select;
mod spend;
mod verdicts;

use serde::{Deserialize, Serialize};

pub use parse::{parse_verdict, VerdictError};
pub use prompt::{question, reask, Evidence};
pub use rank::rank_by_verdicts;
pub use select::{select, Selection, MAX_EXTRA};
pub use spend::{spend, spend_sentence, JudgeSpend};
pub use verdicts::{judge_issues, Judged, PeerCheck};

/// What a judge said about an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Confirmed,
    Rejected,
    Uncertain,
    /// Chosen for judging, but no usable verdict came (the reason says why).
    Unjudged,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Confirmed => "confirmed",
            Verdict::Rejected => "rejected",
            Verdict::Uncertain => "uncertain",
            Verdict::Unjudged => "unjudged",
        }
    }
}

/// One issue's verdict: `issues[].judge` in `report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    /// The provider that judged (or was to judge) the issue.
    pub provider: String,
    pub verdict: Verdict,
    /// The judge's reason, in its own words (untrusted text); for an unjudged issue, why
    /// no verdict came.
    pub reason: String,
}

/// What the judge pass of a run was asked to do, kept in `run.json` so `aggregate` can
/// tell an issue chosen but never answered (the run stopped first) from one not chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeRun {
    pub provider: String,
    pub mode: String,
    /// The ids of the issues chosen for judging.
    pub issues: Vec<String>,
    /// Single-family high or critical issues left unjudged by the cap ([`MAX_EXTRA`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub capped: usize,
    /// The named judge's prices (US dollars per million tokens), to price its requests
    /// when it is no reviewer of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_input_per_mtok: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_output_per_mtok: Option<f64>,
    /// Why the named judge failed its cheap checks before the run, when it did: it was
    /// asked nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The most characters of a judge's reason kept: as a finding's description.
pub const MAX_REASON_CHARS: usize = 2000;

#[cfg(test)]
mod tests;
