//! `quorum review`: plan → run → analyze → report.
//!
//! The plan decides everything before a request is sent (configuration and trust, the
//! run resumed, files, reviewers, jobs, the lock); the run asks the models, every answer
//! stored as it arrives; analysis and reports are exactly what `aggregate` does with the
//! run folder, so the two cannot disagree.

mod dry_run;
mod interrupt;
mod judge;
mod meta;
mod plan;
mod resume;
mod run_index;
mod target;

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Result;

use self::plan::{Plan, Start};
use crate::analysis::Analysis;
use crate::commands::finish::{self, load_records, Finished, ReportOptions};
use crate::commands::Shard;
use crate::consensus::Settings;
use crate::engine::{self, Summary};
use crate::store::seal::RunMac;
use crate::store::{self, OutLock, RunFolder, RunMeta, StoreWriter};
use crate::triage;

/// What `quorum review` was asked to do.
pub struct ReviewOptions {
    /// The paths given (at least one): the one path is the root; several are reviewed
    /// under the folder that holds them all.
    pub paths: Vec<PathBuf>,
    /// `--files-from`: a file (or `-`, stdin) naming the paths to review, one a line.
    pub files_from: Option<PathBuf>,
    /// `--since REF`: review only what changed since that commit.
    pub since: Option<String>,
    pub config: Option<PathBuf>,
    pub out: PathBuf,
    pub providers: Vec<String>,
    pub quiet: bool,
    pub no_cache: bool,
    /// Continue the run in `out` instead of starting a new one.
    pub resume: bool,
    pub dry_run: bool,
    pub max_cost_usd: Option<f64>,
    pub shard: Option<Shard>,
    pub report: ReportOptions,
}

/// What `review` produced.
pub enum Reviewed {
    /// A finished run, analysed and reported.
    Run(Box<Finished>),
    /// With `--dry-run`: the plan, as text.
    Plan(String),
    /// Nothing to review (no change since the commit, an empty list): why, to tell.
    Nothing(String),
    /// The user quit with a second Ctrl-C: the answers so far are stored, the run can be
    /// resumed, and no report was written.
    Interrupted,
}

/// `quorum review`: walk, plan, fan out (or answer from the cache), store, aggregate.
pub async fn review(opts: &ReviewOptions) -> Result<Reviewed> {
    let plan = match plan::plan(opts).await {
        Ok(plan) => plan,
        Err(err) => {
            return match err.downcast::<plan::NothingToReview>() {
                Ok(nothing) => Ok(Reviewed::Nothing(nothing.0)),
                Err(err) => Err(err),
            }
        }
    };
    // Read before any code is sent: a malformed suppressions file or a baseline that is
    // not a report stops the run here, not after minutes of answers.
    let decided = triage::Inputs::load(&plan.start.root, opts.report.baseline.as_deref())?;
    // Before anything is sent (and in a dry run): a budget that cannot count a provider.
    if let Some(warning) = engine::unpriced_warning(opts.max_cost_usd, plan.reviewers.iter().map(|r| &r.config)) {
        eprintln!("{}", crate::sanitize::terminal_safe(&warning));
    }
    if opts.dry_run {
        return Ok(Reviewed::Plan(dry_run::text(plan)));
    }
    let (stop, mut quit) = interrupt::watch_ctrl_c();
    let Some(ran) = run(opts, plan, decided, stop, &mut quit).await? else {
        return Ok(Reviewed::Interrupted);
    };
    // Analysing and writing a large run takes a while: a second Ctrl-C still quits then,
    // so that work runs apart from the listener.
    let options = opts.report.clone();
    let reporting = tokio::task::spawn_blocking(move || report(analyze(ran, &options)?, &options));
    match quit.unless_quit(reporting).await {
        None => Ok(Reviewed::Interrupted),
        Some(joined) => Ok(Reviewed::Run(Box::new(joined??))),
    }
}

/// A run that has asked everything it could.
struct Ran {
    folder: RunFolder,
    /// Held until the reports are written.
    lock: Option<OutLock>,
    meta: RunMeta,
    /// Signs (and so tells) the records this user's Quorum wrote for this run.
    run_mac: RunMac,
    /// The text of each file sent, by path.
    texts: HashMap<String, String>,
    settings: Settings,
    summary: Summary,
    /// The suppressions and baseline the issues are triaged with.
    decided: triage::Inputs,
}

/// Writes the run's description, asks every job of the plan, and stores each answer as
/// it arrives. `None` when the user quits with a second Ctrl-C.
async fn run(
    opts: &ReviewOptions,
    mut plan: Plan,
    decided: triage::Inputs,
    stop: tokio::sync::watch::Receiver<bool>,
    quit: &mut interrupt::Quit,
) -> Result<Option<Ran>> {
    let (mut meta, mut writer, run_mac) = begin(&mut plan)?;
    if !opts.quiet {
        eprintln!("{}", announcement(opts, &plan));
    }
    let Plan {
        folder,
        lock,
        start: Start { config, .. },
        walked,
        reviewers,
        related,
        jobs,
        prior,
        mut cache,
        judge_dropped,
        ..
    } = plan;
    let options = engine::Options {
        max_cost_usd: opts.max_cost_usd,
        ..engine::Options::default()
    };
    let mut progress = crate::engine::progress::for_stderr(opts.quiet, &stop);
    let asked = quit.unless_quit(engine::run(engine::RunInputs {
        files: &walked.files,
        reviewers: &reviewers,
        jobs: left_to_ask(jobs, &prior),
        store: &mut writer,
        cache: cache.as_mut(),
        prior: &prior,
        options: &options,
        stop: stop.clone(),
        progress: progress.as_mut(),
    }));
    let Some(summary) = asked.await else {
        return Ok(None);
    };
    let mut summary = summary?;
    drop(progress);
    let texts: HashMap<String, String> = walked.files.iter().map(|f| (f.path.clone(), f.text.clone())).collect();
    // The judge pass shares the --max-cost budget: it gets what the review left.
    let judge_options = engine::Options {
        max_cost_usd: opts
            .max_cost_usd
            .map(|limit| (limit - summary.spent_micro_usd as f64 / 1e6).max(0.0)),
        ..engine::Options::default()
    };
    let judged = quit.unless_quit(judge::judge_pass(judge::JudgePass {
        config: &config,
        reviewers: &reviewers,
        folder: &folder,
        run_mac: &run_mac,
        meta: &mut meta,
        files: &walked.files,
        related: &related,
        texts: &texts,
        settings: &config.consensus,
        report: &opts.report,
        decided: &decided,
        store: &mut writer,
        cache: cache.as_mut(),
        prior: &prior,
        options: &judge_options,
        stop,
        quiet: opts.quiet,
        review_stopped: summary.stopped_early.is_some(),
        judge_dropped: judge_dropped.as_deref(),
    }));
    let Some(judged) = judged.await else {
        return Ok(None);
    };
    if let Some(judge_summary) = judged? {
        add_summary(&mut summary, judge_summary);
    }
    meta.finished_at = Some(store::now_rfc3339());
    meta.stopped_early = summary.stopped_early.clone();
    folder.write_meta(&meta)?;
    Ok(Some(Ran {
        folder,
        lock,
        meta,
        run_mac,
        texts,
        settings: config.consensus,
        summary,
        decided,
    }))
}

/// Adds the judge pass's counts to the review's.
fn add_summary(total: &mut Summary, more: Summary) {
    total.ok += more.ok;
    total.failed += more.failed;
    total.skipped += more.skipped;
    total.cached += more.cached;
    total.not_started += more.not_started;
    total.stopped_early = total.stopped_early.take().or(more.stopped_early);
    total.spent_micro_usd += more.spent_micro_usd;
}

/// Starts the run in its folder: sets an earlier run aside (or continues the one
/// resumed), writes its sealed description, and opens the store its answers are signed
/// into.
fn begin(plan: &mut Plan) -> Result<(RunMeta, StoreWriter, RunMac)> {
    let start = &plan.start;
    let mut meta = meta::run_meta(
        &start.root,
        &plan.reviewers,
        &plan.walked,
        &start.config.path,
        start.shard,
    );
    meta.checks = std::mem::take(&mut plan.checks);
    meta.since = plan.since.clone();
    meta.selection = start.selection.as_ref().map(|s| s.paths()).unwrap_or_default();
    match &start.previous {
        Some(previous) => meta::continue_run(&mut meta, previous)?,
        None => plan.folder.set_aside_previous_run()?,
    }
    let mut writer = plan.folder.append_records()?;
    let run_mac = plan.folder.run_mac(&meta.run_id)?;
    meta.seal = Some(run_mac.seal());
    writer.sign_with(run_mac.clone());
    plan.folder.write_meta(&meta)?;
    Ok((meta, writer, run_mac))
}

/// The jobs a resumed run has no answer for. A split one stays: the engine follows it
/// to its parts and counts only those still to ask, so that progress and the
/// announcement both count [`engine::requests_left`].
fn left_to_ask(jobs: Vec<engine::Job>, prior: &HashMap<String, store::ResponseRecord>) -> Vec<engine::Job> {
    jobs.into_iter()
        .filter(|j| !prior.get(&j.key).is_some_and(|r| r.status == store::Status::Ok))
        .collect()
}

/// The line that tells what the run is about to ask, and where the answers go.
fn announcement(opts: &ReviewOptions, plan: &Plan) -> String {
    let to_ask = engine::requests_left(&plan.walked.files, &plan.reviewers, &plan.jobs, &plan.prior);
    let secrets = plan.walked.skipped.iter().filter(|s| s.is_secret()).count();
    format!(
        "Reviewing {} files{} in {} with {} providers: {to_ask} requests{} (fewer if cached); answers go to {}{}{}",
        plan.walked.files.len(),
        plan.since.as_ref().map_or_else(String::new, |s| format!(
            " changed since {}",
            crate::sanitize::terminal_safe(&s.reference)
        )),
        crate::sanitize::terminal_safe(&plan.start.root.display().to_string()),
        plan.reviewers.len(),
        if opts.resume { " left to make" } else { "" },
        crate::sanitize::terminal_safe(&plan.folder.responses_path().display().to_string()),
        if secrets > 0 {
            format!("; {secrets} secret files not sent (listed in the report)")
        } else {
            String::new()
        },
        plan.redaction_note
    )
}

/// A run's issues, with what is still needed to report them.
struct Analyzed {
    folder: RunFolder,
    /// Held until the reports are written.
    _lock: Option<OutLock>,
    analysis: Analysis,
    summary: Summary,
    /// The files as sent, for the code `report.html` quotes.
    texts: HashMap<String, String>,
}

/// The issues of the run, from what its folder now holds.
fn analyze(ran: Ran, options: &ReportOptions) -> Result<Analyzed> {
    // Only what this user's Quorum asked for this run is reported: an answer planted in
    // the store was asked again above, and must not stand beside the real one.
    let mut records = load_records(std::slice::from_ref(&ran.folder))?;
    records.retain(|r| r.verifies(&ran.run_mac));
    let analysis = finish::analyze(ran.meta, records, &ran.texts, &ran.settings, options, &ran.decided);
    Ok(Analyzed {
        folder: ran.folder,
        _lock: ran.lock,
        analysis,
        summary: ran.summary,
        texts: ran.texts,
    })
}

/// Writes the reports into the run folder.
fn report(analyzed: Analyzed, options: &ReportOptions) -> Result<Finished> {
    let mut finished = finish::write_reports(&analyzed.folder, analyzed.analysis, options, &analyzed.texts)?;
    finished.summary = Some(analyzed.summary);
    Ok(finished)
}
