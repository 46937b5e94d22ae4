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
    /// The related code found when the job was planned (`context = "related"`), sent as
    /// it was keyed: the lookup runs once per job, not again when the request is made.
    pub related: Option<std::sync::Arc<[CodeExcerpt]>>,
}

/// Plans every job: each file (split where a reviewer's context window requires) for
/// each reviewer.
pub fn plan(files: &[SourceFile], reviewers: &[Reviewer]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (f, file) in files.iter().enumerate() {
        // A redacting reviewer's parts are measured on the text it is sent: a placeholder
        // can be longer than the secret it hides. Redaction keeps every line, so the
        // parts' line numbers hold for the file as it is. Redacted once per file.
        let redacted = std::cell::OnceCell::new();
        for (r, reviewer) in reviewers.iter().enumerate() {
            let text = match crate::checks::redact::applies(&reviewer.config) {
                true => redacted.get_or_init(|| crate::checks::redact::redact(&file.text).text),
                false => &file.text,
            };
            match chunk::plan(text, reviewer.code_budget()) {
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
    let (file_, reviewer_) = (&files[file], &reviewers[reviewer]);
    let related = related_code(
        file_,
        reviewer_,
        range,
        crate::checks::redact::applies(&reviewer_.config),
    );
    let user = user_prompt(file_, reviewer_, range, &related);
    Job {
        file,
        reviewer,
        range,
        key: job_key(&reviewers[reviewer].config, &prompt::system_prompt(), &user),
        input_tokens: chunk::estimate_tokens(&user) + chunk::estimate_tokens(&prompt::system_prompt()),
        question: None,
        related: (!related.is_empty()).then(|| related.into()),
    }
}

/// The user prompt as `reviewer` receives it: for a provider off the local network
/// (or one set to `redact = "always"`), secret-looking values are replaced on their
/// own lines, so line numbers, parts and findings stay the same. A provider with
/// `context = "related"` gets the `related` code (the job's, see [`related_code`])
/// after the file.
pub(super) fn user_prompt(
    file: &SourceFile,
    reviewer: &Reviewer,
    range: Option<LineRange>,
    related: &[CodeExcerpt],
) -> String {
    if !crate::checks::redact::applies(&reviewer.config) {
        return prompt::review_prompt(file, range, related);
    }
    let redacted = crate::checks::redact::redact(&file.text);
    if redacted.secrets.is_empty() {
        return prompt::review_prompt(file, range, related);
    }
    let file = SourceFile {
        text: redacted.text,
        ..file.clone()
    };
    prompt::review_prompt(&file, range, related)
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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::related::RelatedCode;

    /// Related code that counts how often it is asked.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl RelatedCode for Counting {
        fn related(&self, region: Region<'_>, _budget: u64) -> Vec<CodeExcerpt> {
            self.0.fetch_add(1, Ordering::SeqCst);
            vec![CodeExcerpt {
                path: "lib.py".into(),
                start_line: 1,
                end_line: 1,
                text: format!("def helper(): pass  # for {}\n", region.path),
                why: "definition of `helper`".into(),
            }]
        }
    }

    fn reviewer(extra: &str, related: Arc<Counting>) -> Reviewer {
        let toml = format!(
            "[providers.p]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1234/v1\"\nmodel = \"m\"\n\
             context = \"related\"\n{extra}\n"
        );
        let config = crate::config::Config::parse(Path::new("quorum.toml"), &toml)
            .unwrap()
            .providers
            .remove(0);
        Reviewer {
            provider: crate::engine::backend::build_without_key(&config, Path::new("quorum.toml")).unwrap(),
            context_tokens: config.context_tokens,
            config,
            related: Some(related),
        }
    }

    fn file() -> SourceFile {
        SourceFile::new("main.py", "def main():\n    helper()\n")
    }

    #[test]
    fn a_job_carries_the_related_code_it_was_keyed_with_found_once() {
        let counting = Arc::new(Counting::default());
        let reviewers = [reviewer("", counting.clone())];
        let files = [file()];
        let jobs = plan(&files, &reviewers);
        assert_eq!(jobs.len(), 1);
        assert_eq!(counting.0.load(Ordering::SeqCst), 1);
        let related = jobs[0].related.as_deref().expect("the job carries its related code");
        let sent = user_prompt(&files[0], &reviewers[0], None, related);
        assert!(sent.contains("def helper(): pass  # for main.py"), "{sent}");
        assert_eq!(
            jobs[0].key,
            job_key(&reviewers[0].config, &prompt::system_prompt(), &sent)
        );
        assert_eq!(counting.0.load(Ordering::SeqCst), 1, "sending asks no second lookup");
    }

    #[test]
    fn related_tokens_past_the_window_is_capped_to_half_the_room_and_the_code_keeps_the_rest() {
        let small = reviewer(
            "context_tokens = 4096\nmax_output_tokens = 1024\nrelated_tokens = 8000",
            Arc::default(),
        );
        let related = small.related_budget().unwrap();
        assert_eq!(small.related_capped(), Some(related));
        let code = small.code_budget().unwrap();
        assert!(code >= related, "{code} {related}");
        let system = crate::input::chunk::estimate_tokens(&prompt::system_prompt());
        assert!(code + related + prompt::related_frame_tokens() + system + 1024 <= 4096);
        let roomy = reviewer(
            "context_tokens = 128000\nmax_output_tokens = 1024\nrelated_tokens = 8000",
            Arc::default(),
        );
        assert_eq!((roomy.related_budget(), roomy.related_capped()), (Some(8000), None));
    }

    #[test]
    fn a_redacting_reviewers_parts_fit_its_window_as_sent_with_placeholders() {
        // 6-character passwords, each sent as a placeholder three times as long.
        let text: String = (0..400)
            .map(|i| format!("user{i}_password = \"Zq9x{:02}\"\n", i % 100))
            .collect();
        let file = SourceFile::new("settings.py", text);
        let window = "context_tokens = 4096\nmax_output_tokens = 512\nredact = \"always\"";
        let redacting = reviewer(window, Arc::default());
        let budget = redacting.code_budget().unwrap();
        let files = [file];
        let jobs = plan(&files, &[redacting]);
        assert!(jobs.len() > 1, "the file is split");
        let reviewers = [reviewer(window, Arc::default())];
        for job in &jobs {
            let sent = user_prompt(&files[0], &reviewers[0], job.range, &[]);
            assert!(sent.contains("«redacted:"), "{sent}");
            let code = crate::input::chunk::estimate_tokens(&sent);
            // The prompt's own lines (heading, markers) besides the code are few.
            assert!(code <= budget + 100, "{code} tokens sent for a code budget of {budget}");
        }
    }
}
