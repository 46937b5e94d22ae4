//! The jobs of a run: each file (split where a reviewer's context window requires) for
//! each reviewer, each with the key that identifies its exact question.

use crate::config::ProviderConfig;
use crate::engine::Reviewer;
use crate::input::chunk;
use crate::input::prompt;
use crate::input::walk::SourceFile;
use crate::related::{CodeExcerpt, Region};
use crate::store::LineRange;

/// One request to make: a file, or a part of it, for one reviewer.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub file: usize,
    pub reviewer: usize,
    pub range: Option<LineRange>,
    /// Identity of the question (see `cache`): equal keys, equal questions.
    pub key: String,
    pub input_tokens: u64,
    /// A question other than a review of the file (a judge's), asked instead.
    pub question: Option<std::sync::Arc<crate::engine::Question>>,
}

/// Plans every job: each file (split where a reviewer's context window requires) for
/// each reviewer.
pub fn plan(files: &[SourceFile], reviewers: &[Reviewer]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for (r, reviewer) in reviewers.iter().enumerate() {
            match chunk::plan(&file.text, reviewer.code_budget()) {
                None => jobs.push(job(files, reviewers, f, r, None)),
                Some(ranges) => jobs.extend(ranges.into_iter().map(|range| job(files, reviewers, f, r, Some(range)))),
            }
        }
    }
    jobs
}

/// Describes one job (computing its key from the exact prompt it will send).
pub(super) fn job(
    files: &[SourceFile],
    reviewers: &[Reviewer],
    file: usize,
    reviewer: usize,
    range: Option<LineRange>,
) -> Job {
    let user = user_prompt(&files[file], &reviewers[reviewer], range);
    Job {
        file,
        reviewer,
        range,
        key: job_key(&reviewers[reviewer].config, &prompt::system_prompt(), &user),
        input_tokens: chunk::estimate_tokens(&user) + chunk::estimate_tokens(&prompt::system_prompt()),
        question: None,
    }
}

/// The user prompt as `reviewer` receives it: for a provider off the local network
/// (or one set to `redact = "always"`), secret-looking values are replaced on their
/// own lines, so line numbers, parts and findings stay the same. A provider with
/// `context = "related"` gets the related code after the file, redacted the same way.
pub(super) fn user_prompt(file: &SourceFile, reviewer: &Reviewer, range: Option<LineRange>) -> String {
    let redacting = crate::checks::redact::applies(&reviewer.config);
    let related = related_code(file, reviewer, range, redacting);
    if !redacting {
        return prompt::review_prompt(file, range, &related);
    }
    let redacted = crate::checks::redact::redact(&file.text);
    if redacted.secrets.is_empty() {
        return prompt::review_prompt(file, range, &related);
    }
    let file = SourceFile {
        text: redacted.text,
        ..file.clone()
    };
    prompt::review_prompt(&file, range, &related)
}

/// The related code of the lines sent, within the reviewer's budget (none without one).
/// A redacting reviewer's comes cut from redacted files (`related::RedactedIndex`);
/// each excerpt is redacted again here, in case another source answers.
fn related_code(file: &SourceFile, reviewer: &Reviewer, range: Option<LineRange>, redacting: bool) -> Vec<CodeExcerpt> {
    let (Some(budget), Some(related)) = (reviewer.related_budget(), &reviewer.related) else {
        return Vec::new();
    };
    let region = Region {
        path: &file.path,
        start_line: range.map_or(1, |r| r.start_line),
        end_line: range.map_or(file.line_count(), |r| r.end_line),
    };
    let mut excerpts = related.related(region, budget);
    if redacting {
        for e in &mut excerpts {
            e.text = crate::checks::redact::redact(&e.text).text;
        }
    }
    excerpts
}

/// Hashes everything that can change an answer.
pub(super) fn job_key(c: &ProviderConfig, system: &str, user_prompt: &str) -> String {
    let identity = serde_json::json!({
        "provider": c.name, "kind": c.kind.as_str(), "base_url": c.base_url, "model": c.model,
        "temperature": c.temperature, "max_output_tokens": c.max_output_tokens,
        "structured_output": c.structured_output.as_str(), "token_limit_field": c.token_limit_field.as_str(),
        "extra_body": c.extra_body, "system": system, "user": user_prompt,
    });
    crate::hash::sha256_hex(identity.to_string().as_bytes())
}
