//! The judge pass of a review, after every review answer is in: the issues those answers
//! make (as the report will rank them before any verdict), the ones `[judge]` chooses,
//! one question each to the judge through the engine (stored, cached, resumed like any
//! answer). The verdicts are read back by the analysis, as `aggregate` reads them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use tokio::sync::watch;

use crate::analysis::Analysis;
use crate::commands::finish::{self, load_records, ReportOptions};
use crate::config::{Config, JudgeMode, JudgeSettings};
use crate::consensus::Settings;
use crate::engine::cache::Cache;
use crate::engine::{self, question_job, Job, Reviewer, Summary};
use crate::input::walk::SourceFile;
use crate::judge::{self, Evidence, JudgeRun};
use crate::related::{RedactedIndex, RelatedCode};

use super::run_index::RunIndex;
use crate::store::seal::RunMac;
use crate::store::{ResponseRecord, RunFolder, RunMeta, StoreWriter};
use crate::triage;

/// The most peers asked about one issue in `peers` mode: with the cap on issues
/// (`top` + [`judge::MAX_EXTRA`]), a pass sends at most `(top + MAX_EXTRA) *
/// MAX_PEERS_PER_ISSUE` requests however many reviewers the run has.
pub(super) const MAX_PEERS_PER_ISSUE: usize = 4;

/// Tokens of related code a judge gets when its context window is unknown.
const DEFAULT_RELATED_TOKENS: u64 = 2000;

/// Everything the judge pass reads and writes.
pub(super) struct JudgePass<'a> {
    pub config: &'a Config,
    /// The run's reviewers: in `peers` mode, the judges of the issues they did not report.
    pub reviewers: &'a [Reviewer],
    pub folder: &'a RunFolder,
    pub run_mac: &'a RunMac,
    pub meta: &'a mut RunMeta,
    pub files: &'a [SourceFile],
    /// The run's index of related code (see `plan::attach_related`), built here if
    /// not yet and an issue is asked about. The judge always gets related code: a
    /// cross-file trap is exactly what it is there to see through.
    pub related: &'a RunIndex,
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
    /// The review stopped early (interrupted, budget spent): no judging then; a resumed
    /// run judges once every review answer is in.
    pub review_stopped: bool,
    /// Why the named judge failed its cheap checks: it is asked nothing (peers still are),
    /// and the issues it was to judge are recorded as not asked, with why.
    pub judge_dropped: Option<&'a str>,
}

/// Asks the judge about the chosen issues; `None` without `[judge]` or when the run was
/// stopped before it. The issues chosen are recorded in `meta.judge`.
pub(super) async fn judge_pass(pass: JudgePass<'_>) -> Result<Option<Summary>> {
    let Some(settings) = pass.config.judge.as_ref() else {
        return Ok(None);
    };
    if pass.review_stopped || *pass.stop.borrow() {
        return Ok(None);
    }
    let judges = judges(&pass, settings)?;
    let Planned { jobs, chosen, capped } = jobs(&pass, &judges, settings)?;
    let named = &judges[judges.len() - 1].config;
    pass.meta.judge = Some(JudgeRun {
        capped,
        price_input_per_mtok: named.price_input_per_mtok,
        price_output_per_mtok: named.price_output_per_mtok,
        provider: settings.provider.clone(),
        mode: settings.mode.as_str().to_string(),
        issues: chosen,
        dropped: pass
            .judge_dropped
            .map(|why| crate::normalize::finding::shortened(why, judge::MAX_REASON_CHARS)),
    });
    pass.folder.write_meta(pass.meta)?;
    // Nothing to ask: no issue was chosen (said by the report: no verdict), or only the
    // dropped judge could have been asked (said when it was dropped; its issues read
    // "not asked", with why).
    if jobs.is_empty() {
        return Ok(None);
    }
    if !pass.quiet {
        let who = match settings.mode {
            JudgeMode::Single => settings.provider.clone(),
            JudgeMode::Peers => "the families that did not report them".to_string(),
        };
        let capped = match capped {
            0 => String::new(),
            n => format!(
                " ({n} more single-family high or critical issues left unjudged: at most {} beyond the top)",
                judge::MAX_EXTRA
            ),
        };
        eprintln!(
            "Judging {} issues with {}: {} requests{capped}",
            pass.meta.judge.as_ref().map_or(0, |j| j.issues.len()),
            crate::sanitize::terminal_safe(&who),
            jobs.len()
        );
    }
    let mut progress = crate::engine::progress::for_stderr(pass.quiet, &pass.stop);
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

/// The judge pass's requests, the issues chosen (sorted ids; a dropped judge's too,
/// though nobody is asked about them), and the issues the cap left unjudged.
struct Planned {
    jobs: Vec<Job>,
    chosen: Vec<String>,
    capped: usize,
}

/// One question per chosen issue, about the issues the review answers make (verdicts
/// from a run being resumed left out, so the choice is the same as the first time).
fn jobs(pass: &JudgePass, judges: &[Reviewer], settings: &JudgeSettings) -> Result<Planned> {
    let mut records = load_records(std::slice::from_ref(pass.folder))?;
    records.retain(|r| r.kind.is_review() && r.verifies(pass.run_mac));
    // Chosen before --min-agree filters: in `peers` mode a peer's confirmation may lift
    // an issue over it.
    let report = ReportOptions {
        min_agree: None,
        ..pass.report.clone()
    };
    let analysis = finish::analyze(
        pass.meta.clone(),
        records,
        pass.texts,
        pass.settings,
        &report,
        pass.decided,
    );
    // The named judge's window sets the budget: the question is the same for every judge.
    let budget = related_budget(&judges[judges.len() - 1]);
    let by_path: HashMap<&str, usize> = pass
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.as_str(), i))
        .collect();
    let mut jobs = Vec::new();
    let mut chosen = BTreeSet::new();
    let selection = judge::select(&analysis.issues, settings.top);
    // Built when a first question needs it (a dropped judge with no peer asks none).
    let mut sources: Option<RelatedSources> = None;
    let named = judges.len() - 1;
    for issue in selection.chosen {
        let Some(&file) = by_path.get(issue.file.as_str()) else {
            continue;
        };
        chosen.insert(issue.id.clone());
        let asked: Vec<usize> = asked_about(issue, &analysis, judges, settings)
            .into_iter()
            .filter(|&judge| !(judge == named && pass.judge_dropped.is_some()))
            .collect();
        if asked.is_empty() {
            continue;
        }
        let (related, redacted_related) = match &mut sources {
            Some(built) => (&built.plain, &built.redacted),
            none => {
                let index = pass.related.get(pass.files)?;
                let built = none.insert(RelatedSources {
                    plain: index.clone(),
                    // A redacting judge's related code is cut from redacted files, as the
                    // reviewers' is.
                    redacted: RedactedIndex::new(index),
                });
                (&built.plain, &built.redacted)
            }
        };
        // Each judge gets the question as the review prompt reaches its provider: redacted
        // or not by the same policy (asked once per policy).
        let mut by_policy: BTreeMap<bool, crate::engine::Question> = BTreeMap::new();
        for judge in asked {
            let redact = crate::checks::redact::applies(&judges[judge].config);
            let question = by_policy.entry(redact).or_insert_with(|| {
                judge::question(&Evidence {
                    issue,
                    file: &pass.files[file],
                    related: match redact {
                        true => redacted_related,
                        false => related.as_ref(),
                    },
                    related_budget: budget,
                    redact,
                })
            });
            jobs.push(question_job(judges, judge, file, question.clone()));
        }
    }
    Ok(Planned {
        jobs,
        chosen: chosen.into_iter().collect(),
        capped: selection.capped,
    })
}

/// Where the judge's related code comes from: the run's index, plain and redacted.
struct RelatedSources {
    plain: Arc<dyn RelatedCode + Send + Sync>,
    redacted: RedactedIndex,
}

/// Who is asked about `issue`, as indexes into `judges`: the named judge (the last); in
/// `peers` mode one provider of each family that reviewed the file without failing and
/// did not report the issue (the named judge never among them, even when it reviews),
/// and the named judge only when there is no such family.
fn asked_about(
    issue: &crate::consensus::Issue,
    analysis: &Analysis,
    judges: &[Reviewer],
    settings: &JudgeSettings,
) -> Vec<usize> {
    let named = judges.len() - 1;
    if settings.mode == JudgeMode::Single {
        return vec![named];
    }
    let reporters: BTreeSet<&str> = issue.findings.iter().map(|f| f.family.as_str()).collect();
    let failed: BTreeSet<&str> = analysis
        .errors
        .iter()
        .filter(|e| e.file == issue.file)
        .map(|e| e.provider.as_str())
        .collect();
    let mut families = BTreeSet::new();
    let peers: Vec<usize> = judges[..named]
        .iter()
        .enumerate()
        .filter(|(_, j)| {
            let family = j.config.family.as_str();
            // The named judge's answer is its verdict, never a peer's vote.
            j.config.name != settings.provider
                && !reporters.contains(family)
                && !failed.contains(j.config.name.as_str())
                && families.insert(family)
        })
        .map(|(i, _)| i)
        .take(MAX_PEERS_PER_ISSUE)
        .collect();
    if peers.is_empty() {
        vec![named]
    } else {
        peers
    }
}

/// The judges: in `peers` mode the run's reviewers, then (always, last) the named judge.
fn judges(pass: &JudgePass, settings: &JudgeSettings) -> Result<Vec<Reviewer>> {
    let mut judges: Vec<Reviewer> = match settings.mode {
        JudgeMode::Single => Vec::new(),
        JudgeMode::Peers => pass
            .reviewers
            .iter()
            .map(|r| Reviewer {
                config: r.config.clone(),
                provider: r.provider.clone(),
                context_tokens: r.context_tokens,
                // The question carries the related code; the judge's own budget is its window.
                related: None,
            })
            .collect(),
    };
    judges.push(build_judge(pass.config, settings)?);
    Ok(judges)
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
        related: None,
    })
}
