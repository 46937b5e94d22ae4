//! The first stage of a review: everything decided before a request is sent. Which
//! configuration may be used, which run is continued, what is walked and who reviews it,
//! which jobs are asked, what is already answered, and the lock on the run folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};

use super::resume::{answered, resumed_root};
use super::run_index::RunIndex;
use super::target::{root_of, target};
use super::ReviewOptions;
use crate::checks::CheckFinding;
use crate::commands::cache_location::locate_cache;
use crate::commands::out_dir::check_out_dir;
use crate::commands::paths::review_tree;
use crate::commands::providers::load_config;
use crate::commands::Shard;
use crate::config::trust;
use crate::config::{Config, ContextMode, ProviderConfig, ProviderKind};
use crate::engine::cache::Cache;
use crate::engine::preflight::{self, NoProviderLeft, Preflight};
use crate::engine::{self, Job, Reviewer};
use crate::input::changes::{changes_since, ChangeSet, Since};
use crate::input::walk::{self, Selection};
use crate::related::{RedactedIndex, RelatedCode};
use crate::store::{OutLock, ResponseRecord, RunFolder, RunMeta};

/// How long a local server may take to say its context window.
const CONTEXT_WINDOW_PROBE: Duration = Duration::from_secs(10);
/// The fewest tokens of a context window left for code once the answer's reserve is set
/// aside: less, and every request would overflow however the files were cut.
const MIN_CODE_TOKENS: u64 = 1024;

/// Everything a review decided before sending anything.
pub(super) struct Plan {
    pub folder: RunFolder,
    /// Held until the run ends (`None` for a dry run, which writes nothing).
    pub lock: Option<OutLock>,
    pub start: Start,
    pub walked: walk::Walked,
    /// With `--since`: the commit compared with.
    pub since: Option<Since>,
    pub reviewers: Vec<Reviewer>,
    /// The index of related code, when a reviewer (`context = "related"`) or the judge
    /// wants one: over the whole tree, whatever part of it is reviewed.
    pub related: RunIndex,
    pub jobs: Vec<Job>,
    pub checks: Vec<CheckFinding>,
    /// What the checks tell about redacted requests (empty, or a line of its own).
    pub redaction_note: String,
    /// Answers (and splits) of the run being resumed, by job key: not asked again.
    pub prior: HashMap<String, ResponseRecord>,
    pub cache: Option<Cache>,
    /// Why the judge failed its cheap checks (the judge pass then asks it nothing).
    pub judge_dropped: Option<String>,
}

/// The configuration a review may use, and what it reviews with it.
pub(super) struct Start {
    /// The run being resumed.
    pub previous: Option<RunMeta>,
    pub root: PathBuf,
    pub config: Config,
    /// Which configuration is used, and whether it is trusted.
    pub config_line: String,
    /// Why a real run would stop here: a dry run shows the plan of an untrusted
    /// configuration, and says so.
    pub untrusted: Option<String>,
    pub selected: Vec<ProviderConfig>,
    pub shard: Option<Shard>,
    /// The part of the root to review (`None`: all of it).
    pub selection: Option<Selection>,
    /// With `--since`: what to compare with.
    pub since: Option<SinceAsked>,
}

/// The commit a `--since` review compares with, before git resolves it.
pub(super) struct SinceAsked {
    /// As the user named it.
    reference: String,
    /// What git resolves: the name, or on a resume the commit the run recorded.
    resolve: String,
}

/// A review with nothing to send (no change since the commit, an empty list): not an
/// error, so the command ends with this message and success.
#[derive(Debug)]
pub struct NothingToReview(pub String);

impl std::fmt::Display for NothingToReview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NothingToReview {}

/// Plans the review `opts` asks for (see [`Plan`]).
pub(super) async fn plan(opts: &ReviewOptions) -> Result<Plan> {
    let folder = RunFolder::new(&opts.out);
    let mut start = start(opts, &folder)?;
    // The lock is held until the run ends. An existing folder is locked at once, so a
    // second run into it stops before doing anything; a new one is made only when the
    // run is ready to write, so a run that cannot start leaves nothing behind.
    let mut early_lock = None;
    if !opts.dry_run {
        check_out_dir(folder.path(), &start.root)?;
        if folder.path().is_dir() {
            early_lock = Some(folder.lock()?);
        }
    }
    let cache_location = locate_cache(&start.config, &start.root);
    if !opts.no_cache {
        cache_location.tell(opts.quiet);
    }
    // The output folder is walked: only its Quorum files are left out (see `walk`), so
    // code planted in a committed `quorum-report/` is still reviewed.
    let mut never = vec![folder.lock_path(), start.config.path.clone()];
    never.extend(cache_location.dir.clone());
    // Quorum's own record of decisions, not code: asking models about it would re-ask
    // the file each time a suppression is added.
    never.push(crate::triage::suppressions_path(&start.root));
    let (walked, since) = walk_files(&start, &never)?;
    // After the trust check (in `start`): an untrusted configuration sends nothing, not
    // even a model-list request. A dry run sends nothing at all.
    let mut judge_dropped = None;
    if !opts.dry_run {
        let checked = preflight(&start.selected, judge_config(&start.config), &start.config.path).await?;
        start.selected = checked.kept;
        judge_dropped = checked.judge_dropped;
    }
    let ask_servers = start.untrusted.is_none();
    let mut reviewers = build_reviewers(
        &start.selected,
        &start.config.path,
        &known_windows(start.previous.as_ref()),
        opts,
        ask_servers,
    )
    .await?;
    let related = attach_related(&start, &never, &walked, &mut reviewers, opts.quiet)?;
    let jobs = engine::plan(&walked.files, &reviewers);
    let lock = match early_lock {
        None if !opts.dry_run => Some(folder.lock()?),
        lock => lock,
    };
    let checked = crate::checks::run(&walked.files, providers_sent_code(&start.config, &reviewers));
    let redaction_note = checked.redaction_note().map(|n| format!("\n{n}.")).unwrap_or_default();
    let prior = prior_answers(&folder, start.previous.as_ref())?;
    let cache = match (&cache_location.dir, opts.no_cache) {
        (Some(dir), false) => Some(Cache::open(dir)?),
        _ => None,
    };
    Ok(Plan {
        folder,
        lock,
        start,
        walked,
        since,
        reviewers,
        related,
        jobs,
        checks: checked.findings,
        redaction_note,
        prior,
        cache,
        judge_dropped,
    })
}

/// Every provider the run sends code to: the reviewers, and the judge (which is shown
/// the code around each issue, redacted by the same policy), each once.
fn providers_sent_code<'a>(config: &'a Config, reviewers: &'a [Reviewer]) -> Vec<&'a ProviderConfig> {
    let mut providers: Vec<&ProviderConfig> = reviewers.iter().map(|r| &r.config).collect();
    let judge = config
        .judge
        .as_ref()
        .and_then(|j| config.providers.iter().find(|p| p.name == j.provider));
    if let Some(judge) = judge.filter(|j| !providers.iter().any(|p| p.name == j.name)) {
        providers.push(judge);
    }
    providers
}

/// The files to review (of this shard; with `--since`, those changed, each with its
/// changed lines), each one not sent named with the reason. No file to review is an
/// error, unless the shard is empty or nothing was to be reviewed ([`NothingToReview`]).
fn walk_files(start: &Start, never: &[PathBuf]) -> Result<(walk::Walked, Option<Since>)> {
    let changes = match &start.since {
        Some(asked) => Some(changes_since(review_tree(&start.root), &asked.resolve)?),
        None => None,
    };
    let selection = match &changes {
        Some(changes) => Some(changed_selection(changes, start.selection.as_ref())),
        None => start.selection.clone(),
    };
    if let Some(why) = nothing_selected(start, selection.as_ref(), changes.as_ref()) {
        return Err(NothingToReview(why).into());
    }
    let mut walked = walk::walk_selected(&start.root, &start.config.review, never, selection.as_ref())?;
    if let Some(changes) = &changes {
        mark_changes(&mut walked, changes);
        if walked.files.is_empty() {
            return Err(NothingToReview(nothing_sent(start, &walked)).into());
        }
    }
    if let Some(shard) = start.shard {
        walked.files.retain(|f| shard.contains(&f.path));
    }
    if walked.files.is_empty() && start.shard.is_none() {
        bail!("{}", nothing_to_review(&start.root, &start.config, &walked));
    }
    let since = changes.map(|c| Since {
        reference: start.since.as_ref().map_or_else(String::new, |s| s.reference.clone()),
        commit: c.since.commit,
    });
    Ok((walked, since))
}

/// The changed files, within the selection if there is one.
fn changed_selection(changes: &ChangeSet, selection: Option<&Selection>) -> Selection {
    let within = |path: &&String| selection.is_none_or(|s| s.covers(path));
    Selection::new(changes.files.keys().filter(within).cloned())
}

/// Why nothing is to be reviewed before walking, if so.
fn nothing_selected(start: &Start, selection: Option<&Selection>, changes: Option<&ChangeSet>) -> Option<String> {
    if !selection.is_some_and(Selection::is_empty) {
        return None;
    }
    Some(match changes {
        Some(changes) => format!("{}.", nothing_changed(start, changes)),
        None => "Nothing to review: the list of paths is empty.".to_string(),
    })
}

fn nothing_changed(start: &Start, changes: &ChangeSet) -> String {
    crate::sanitize::terminal_safe(&format!(
        "Nothing to review: no file under {} changed since {} ({})",
        start.root.display(),
        start.since.as_ref().map_or("", |s| s.reference.as_str()),
        &changes.since.commit[..changes.since.commit.len().min(SHORT_COMMIT)]
    ))
}

/// Why a change whose every file was skipped sends nothing.
fn nothing_sent(start: &Start, walked: &walk::Walked) -> String {
    let example = walked
        .skipped
        .first()
        .map(|s| format!(" (e.g. {}: {})", s.path, s.reason))
        .unwrap_or_default();
    crate::sanitize::terminal_safe(&format!(
        "Nothing to review: none of the {} files changed under {} since {} is sent{example}",
        walked.skipped.len(),
        start.root.display(),
        start.since.as_ref().map_or("", |s| s.reference.as_str()),
    ))
}

/// Hex digits of a commit id shown to people.
const SHORT_COMMIT: usize = 12;

/// Keeps the walked files that changed (a single-file root is walked whatever changed
/// beside it), each with its changed lines.
fn mark_changes(walked: &mut walk::Walked, changes: &ChangeSet) {
    walked.files.retain(|f| changes.files.contains_key(&f.path));
    walked.skipped.retain(|s| changes.files.contains_key(&s.path));
    for file in &mut walked.files {
        file.changed = changes.files.get(&file.path).map(|c| c.ranges(file.line_count()));
    }
}

/// What the cheap checks left.
struct Checked {
    /// The reviewers that passed, in the configuration's order.
    kept: Vec<ProviderConfig>,
    /// Why the judge failed, when it did.
    judge_dropped: Option<String>,
}

/// The `[judge]`'s provider, when there is one.
fn judge_config(config: &Config) -> Option<&ProviderConfig> {
    let judge = config.judge.as_ref()?;
    config.providers.iter().find(|p| p.name == judge.provider)
}

/// The reviewers and the judge that pass the cheap checks (`engine::preflight`), all
/// checked at once; each one dropped is said in one line, and no reviewer left is
/// [`NoProviderLeft`]. A judge that fails is named as the judge, said before the review
/// spends anything rather than learnt when every verdict fails after it; the review goes
/// on without it. Recorded answers (`replay`) are not checked: there is no server to ask.
async fn preflight(selected: &[ProviderConfig], judge: Option<&ProviderConfig>, config_path: &Path) -> Result<Checked> {
    let (recorded, mut served): (Vec<&ProviderConfig>, Vec<&ProviderConfig>) =
        selected.iter().partition(|c| c.kind == ProviderKind::Replay);
    // A judge that reviews nothing is checked with the reviewers (one that reviews is
    // among them already).
    let judge = judge.filter(|j| j.kind != ProviderKind::Replay);
    let judge_only = judge.filter(|j| !selected.iter().any(|p| p.name == j.name));
    served.extend(judge_only);
    let built = served
        .iter()
        .map(|config| crate::engine::backend::build(config, config_path))
        .collect::<Result<Vec<_>>>()?;
    let pairs: Vec<_> = served.iter().zip(&built).map(|(c, p)| (*c, p.as_ref())).collect();
    let verdicts = preflight::preflight_all(&pairs).await;
    let mut kept: Vec<ProviderConfig> = recorded.into_iter().cloned().collect();
    let mut judge_dropped = None;
    for (config, verdict) in served.into_iter().zip(verdicts) {
        let is_judge = judge.is_some_and(|j| j.name == config.name);
        match verdict {
            Preflight::Kept if judge_only.is_some() && is_judge => {}
            Preflight::Kept => kept.push(config.clone()),
            Preflight::Dropped(why) => {
                let name = crate::sanitize::terminal_safe(&config.name);
                eprintln!("{name}: dropped: {}", crate::sanitize::terminal_safe(&why));
                if is_judge {
                    eprintln!(
                        "{name} is the judge: it is asked nothing, and the issues it was to judge are left \
                         unjudged; once it works, `quorum review --resume` asks it about them."
                    );
                    judge_dropped = Some(why);
                }
            }
        }
    }
    if kept.is_empty() {
        return Err(NoProviderLeft.into());
    }
    // In the configuration's order, as without the checks.
    kept.sort_by_key(|k| selected.iter().position(|c| c.name == k.name));
    Ok(Checked { kept, judge_dropped })
}

/// The context windows the run being resumed planned with, by provider.
fn known_windows(previous: Option<&RunMeta>) -> HashMap<String, u64> {
    previous
        .iter()
        .flat_map(|m| &m.providers)
        .filter_map(|p| Some((p.name.clone(), p.context_tokens?)))
        .collect()
}

/// The answers of the run being resumed that this user's Quorum wrote for it, by job key.
fn prior_answers(folder: &RunFolder, previous: Option<&RunMeta>) -> Result<HashMap<String, ResponseRecord>> {
    let Some(m) = previous else {
        return Ok(HashMap::new());
    };
    let prior = answered(folder, &folder.run_mac(&m.run_id)?)?;
    if let Some(note) = prior.ignored_note(folder.path()) {
        eprintln!("{note}");
    }
    Ok(prior.records)
}

/// The run being resumed (if any), the tree to review, and the configuration, which is
/// refused here, before anything is sent, unless it may be used.
fn start(opts: &ReviewOptions, folder: &RunFolder) -> Result<Start> {
    let previous = if opts.resume { Some(folder.read_meta()?) } else { None };
    // A run folder can come with the code: only one this user's Quorum sealed is
    // resumed, and only the part of it inside the folder given on the command line.
    let (root, selection, since) = match &previous {
        Some(m) => {
            folder.verify_seal(m)?;
            let given = root_of(&opts.paths, &std::env::current_dir()?)?;
            let selection = (!m.selection.is_empty()).then(|| Selection::new(m.selection.iter().cloned()));
            // The commit the run compared with, wherever the reference has moved since.
            let since = m.since.as_ref().map(|s| SinceAsked {
                reference: s.reference.clone(),
                resolve: s.commit.clone(),
            });
            (resumed_root(m, &given, folder.path())?, selection, since)
        }
        None => {
            let target = target(&opts.paths, opts.files_from.as_deref())?;
            let since = opts.since.as_ref().map(|r| SinceAsked {
                reference: r.clone(),
                resolve: r.clone(),
            });
            (target.root, target.selection, since)
        }
    };
    let recorded = previous.as_ref().and_then(|m| m.config.as_deref()).map(Path::new);
    let loaded = load_config(&trust::Search {
        flag: opts.config.as_deref(),
        recorded: recorded.map(|path| (path, folder.path())),
        review_root: Some(&root),
    })?;
    // Decided before anything is sent, context-window probes included. A dry run sends
    // nothing, so it may show the plan of an untrusted configuration, and says so.
    let verdict = loaded.verdict()?;
    let config_line = loaded.status_line(&verdict);
    let untrusted = match verdict {
        trust::Verdict::Untrusted { changed_since } if opts.dry_run => Some(loaded.refusal(changed_since.as_deref())),
        trust::Verdict::Untrusted { changed_since } => bail!("{}", loaded.refusal(changed_since.as_deref())),
        _ => None,
    };
    if !opts.quiet && !opts.dry_run {
        eprintln!("{config_line}");
    }
    let config = loaded.config;
    let names = match (&previous, opts.providers.is_empty()) {
        (Some(m), true) => m.providers.iter().map(|p| p.name.clone()).collect(),
        _ => opts.providers.clone(),
    };
    let shard = match &previous {
        Some(m) => m.shard.as_deref().map(Shard::parse).transpose()?,
        None => opts.shard,
    };
    let selected = config.select_reviewers(&names)?;
    Ok(Start {
        previous,
        root,
        config,
        config_line,
        untrusted,
        selected,
        shard,
        selection,
        since,
    })
}

/// Builds the providers, and learns unknown context windows from local servers (or
/// from the run being resumed, so its files are split the same way). With
/// `ask_servers` false (a dry run of an untrusted configuration) no server is asked.
async fn build_reviewers(
    selected: &[ProviderConfig],
    config_path: &Path,
    known_windows: &HashMap<String, u64>,
    opts: &ReviewOptions,
    ask_servers: bool,
) -> Result<Vec<Reviewer>> {
    let mut reviewers = Vec::new();
    for config in selected {
        let provider = if opts.dry_run {
            crate::engine::backend::build_without_key(config, config_path)?
        } else {
            crate::engine::backend::build(config, config_path)?
        };
        let mut context_tokens = config
            .context_tokens
            .or_else(|| known_windows.get(&config.name).copied());
        if ask_servers && context_tokens.is_none() && config.kind == ProviderKind::Openai {
            context_tokens = tokio::time::timeout(CONTEXT_WINDOW_PROBE, provider.context_window())
                .await
                .ok()
                .flatten();
            if let (Some(n), false) = (context_tokens, opts.quiet) {
                eprintln!(
                    "{}: the server runs the model with a context window of {n} tokens",
                    crate::sanitize::terminal_safe(&config.name)
                );
            }
        }
        let reviewer = Reviewer {
            config: config.clone(),
            provider,
            context_tokens,
            related: None,
        };
        check_window(&reviewer)?;
        reviewers.push(reviewer);
    }
    Ok(reviewers)
}

/// The run's index of related code: built now if a provider wants related code
/// (`context = "related"`) and handed to those providers; else left for the judge pass
/// to build if it asks about an issue. The index covers the whole tree under the root
/// (walked by the same rules), not only the files reviewed: in a `--since`, `--shard` or
/// path-limited review the middleware that makes a changed handler safe usually did not
/// change.
fn attach_related(
    start: &Start,
    never: &[PathBuf],
    walked: &walk::Walked,
    reviewers: &mut [Reviewer],
    quiet: bool,
) -> Result<RunIndex> {
    let partial = start.since.is_some() || start.selection.is_some() || start.shard.is_some();
    let index = RunIndex::new(start.root.clone(), start.config.review.clone(), never, partial, quiet);
    if reviewers.iter().any(|r| r.config.context == ContextMode::Related) {
        let built = index.get(&walked.files)?;
        // A redacting provider's related code is cut from redacted files (see
        // `related::RedactedIndex`), one shared view for all of them.
        let redacted: Arc<dyn RelatedCode + Send + Sync> = Arc::new(RedactedIndex::new(built.clone()));
        for reviewer in reviewers
            .iter_mut()
            .filter(|r| r.config.context == ContextMode::Related)
        {
            reviewer.related = Some(match crate::checks::redact::applies(&reviewer.config) {
                true => redacted.clone(),
                false => built.clone(),
            });
            if let (Some(capped), false) = (reviewer.related_capped(), quiet) {
                eprintln!("{}", related_capped_notice(reviewer, capped));
            }
        }
    }
    Ok(index)
}

/// Says that `related_tokens` does not fit the provider's window and what it gets.
fn related_capped_notice(reviewer: &Reviewer, capped: u64) -> String {
    format!(
        "{}: related_tokens = {} does not fit a context window of {} tokens with max_output_tokens = {}; \
         related code gets at most {capped} tokens per request so the file's code keeps the rest \
         (set related_tokens = {capped} or less to silence this, or load the model with a larger context)",
        crate::sanitize::terminal_safe(&reviewer.config.name),
        reviewer.config.related_tokens,
        reviewer.context_tokens.unwrap_or_default(),
        reviewer.config.max_output_tokens,
    )
}

/// Refuses a context window too small for the answer's reserve: every request would
/// overflow, however the files were cut.
fn check_window(reviewer: &Reviewer) -> Result<()> {
    let Some(window) = reviewer.context_tokens else {
        return Ok(());
    };
    let reserve = u64::from(reviewer.config.max_output_tokens);
    if reserve + MIN_CODE_TOKENS > window {
        bail!(
            "{}: max_output_tokens = {reserve} leaves no room for code in a context window of {window} tokens; \
             lower max_output_tokens (to about a quarter of the window) or load the model with a larger context",
            crate::sanitize::terminal_safe(&reviewer.config.name)
        );
    }
    Ok(())
}

/// Why nothing is to be reviewed, and what to do.
fn nothing_to_review(root: &Path, config: &Config, walked: &walk::Walked) -> String {
    let root = root.display();
    let why = match walked.skipped.first() {
        Some(first) => format!(
            "nothing to review under {root}: every matching file was skipped ({} files; e.g. {}: {})",
            walked.skipped.len(),
            first.path,
            first.reason
        ),
        None => format!(
            "nothing to review under {root}: no file matched review.include {:?} (or the shard is empty)",
            config.review.include
        ),
    };
    crate::sanitize::terminal_safe(&why)
}
