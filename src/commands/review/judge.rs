//! The judge pass of a review, after every review answer is in: the issues those answers
//! make (as the report will rank them before any verdict), the ones `[judge]` chooses,
//! one question each to the judge through the engine (stored, cached, resumed like any
//! answer). The verdicts are read back by the analysis, as `aggregate` reads them.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use tokio::sync::watch;

use crate::commands::finish::{self, load_records, ReportOptions};
use crate::config::{Config, JudgeSettings};
use crate::consensus::Settings;
use crate::engine::cache::Cache;
use crate::engine::{self, question_job, Job, Reviewer, Summary};
use crate::input::walk::SourceFile;
use crate::judge::{self, Evidence, JudgeRun};
use crate::related::{NoRelatedCode, RelatedCode};
use crate::store::seal::RunMac;
use crate::store::{ResponseRecord, RunFolder, RunMeta, StoreWriter};
use crate::triage;

/// Tokens of related code a judge gets when its context window is unknown.
const DEFAULT_RELATED_TOKENS: u64 = 2000;

/// The related code the judge is shown with each issue. Today none: the index of
/// related code (issue 10) replaces this one function when it lands.
pub(super) fn related_code_for_judge(_files: &[SourceFile]) -> Box<dyn RelatedCode> {
    Box::new(NoRelatedCode)
}

/// Everything the judge pass reads and writes.
pub(super) struct JudgePass<'a> {
    pub config: &'a Config,
    pub folder: &'a RunFolder,
    pub run_mac: &'a RunMac,
    pub meta: &'a mut RunMeta,
    pub files: &'a [SourceFile],
    pub texts: &'a HashMap<String, String>,
    pub settings: &'a Settings,
    pub report: &'a ReportOptions,
    pub decided: &'a triage::Inputs,
    pub store: &'a mut StoreWriter,
    pub cache: Option<&'a mut Cache>,
    pub prior: &'a HashMap<String, ResponseRecord>,
    pub options: &'a engine::Options,
    pub stop: watch::Receiver<bool>,
    pub quiet: bool,
}

/// Asks the judge about the chosen issues; `None` without `[judge]` or when the run was
/// stopped before it. The issues chosen are recorded in `meta.judge`.
pub(super) async fn judge_pass(pass: JudgePass<'_>) -> Result<Option<Summary>> {
    let Some(settings) = pass.config.judge.as_ref() else {
        return Ok(None);
    };
    if *pass.stop.borrow() {
        return Ok(None);
    }
    let judges = vec![build_judge(pass.config, settings)?];
    let jobs = jobs(&pass, &judges, settings)?;
    pass.meta.judge = Some(JudgeRun {
        provider: settings.provider.clone(),
        mode: settings.mode.as_str().to_string(),
        issues: jobs.iter().filter_map(|j| j.question.as_ref().map(|q| q.issue.clone())).collect(),
    });
    pass.folder.write_meta(pass.meta)?;
    if !pass.quiet {
        eprintln!(
            "Judging {} issues with {}",
            jobs.len(),
            crate::sanitize::terminal_safe(&settings.provider)
        );
    }
    let mut progress = crate::engine::progress::for_stderr(pass.quiet);
    let summary = engine::run(engine::RunInputs {
        files: pass.files,
        reviewers: &judges,
        jobs,
        store: pass.store,
        cache: pass.cache,
        prior: pass.prior,
        options: pass.options,
        stop: pass.stop,
        progress: progress.as_mut(),
    })
    .await?;
    Ok(Some(summary))
}

/// One question per chosen issue, about the issues the review answers make (verdicts
/// from a run being resumed left out, so the choice is the same as the first time).
fn jobs(pass: &JudgePass, judges: &[Reviewer], settings: &JudgeSettings) -> Result<Vec<Job>> {
    let mut records = load_records(std::slice::from_ref(pass.folder))?;
    records.retain(|r| r.kind.is_review() && r.verifies(pass.run_mac));
    let analysis = finish::analyze(
        pass.meta.clone(),
        records,
        pass.texts,
        pass.settings,
        pass.report,
        pass.decided,
    );
    let related = related_code_for_judge(pass.files);
    let budget = related_budget(&judges[0]);
    let by_path: HashMap<&str, usize> = pass.files.iter().enumerate().map(|(i, f)| (f.path.as_str(), i)).collect();
    Ok(judge::select(&analysis.issues, settings.top)
        .into_iter()
        .filter_map(|issue| {
            let file = *by_path.get(issue.file.as_str())?;
            let question = judge::question(&Evidence {
                issue,
                file: &pass.files[file],
                related: related.as_ref(),
                related_budget: budget,
            });
            Some(question_job(judges, 0, file, question))
        })
        .collect())
}

/// Tokens of related code the judge's window leaves room for (its code budget, which
/// already sets aside the answer and the prompt), or a default when it is unknown.
fn related_budget(judge: &Reviewer) -> u64 {
    judge.code_budget().map_or(DEFAULT_RELATED_TOKENS, |b| b / 2)
}

/// The judge's provider, ready to ask.
fn build_judge(config: &Config, settings: &JudgeSettings) -> Result<Reviewer> {
    let provider_config = config
        .providers
        .iter()
        .find(|p| p.name == settings.provider)
        .expect("the configuration checks that [judge] names a provider")
        .clone();
    let provider = crate::engine::backend::build(&provider_config, Path::new(&config.path))?;
    Ok(Reviewer {
        context_tokens: provider_config.context_tokens,
        config: provider_config,
        provider,
    })
}
