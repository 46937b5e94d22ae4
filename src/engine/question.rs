//! A question other than a file review (today: a judge's verdict on one issue), asked
//! through the same lanes, limits, retries, store and cache as every review job.

use std::sync::Arc;

use crate::engine::{Job, Reviewer};
use crate::input::chunk;

/// What a judge job asks: the prompts are built by `judge`, the engine only sends them.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The id of the issue asked about, recorded with the answer.
    pub issue: String,
    pub system: String,
    pub user: String,
    /// The answer's JSON schema, sent where the provider takes structured output.
    pub schema: serde_json::Value,
}

impl Question {
    /// Why `answer` is not a usable verdict, if it is not.
    pub(super) fn problem(&self, answer: &str) -> Option<String> {
        crate::judge::parse_verdict(answer).err().map(|e| e.to_string())
    }

    /// The prompt asked again after an unusable answer, quoting why.
    pub(super) fn reask(&self, user: &str, problem: &str) -> String {
        crate::judge::reask(user, problem)
    }
}

/// The job that asks `question` of `reviewers[reviewer]` about `files[file]`; its key
/// covers the provider's answer-changing settings and the whole prompt, as a review
/// job's does, so a cached or resumed verdict is one to the very same question.
pub fn question_job(reviewers: &[Reviewer], reviewer: usize, file: usize, question: Question) -> Job {
    let key = super::plan::job_key(&reviewers[reviewer].config, &question.system, &question.user);
    Job {
        file,
        reviewer,
        range: None,
        key,
        input_tokens: chunk::estimate_tokens(&question.user) + chunk::estimate_tokens(&question.system),
        question: Some(Arc::new(question)),
        related: None,
    }
}
