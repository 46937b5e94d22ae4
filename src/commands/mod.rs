//! The commands behind the CLI: `init`, `review`, `aggregate` and `providers`.
//!
//! Each is a short sequence of the pipeline's stages. `review` ends by running exactly
//! what `aggregate` runs, from the files it just wrote, so the two cannot disagree.

pub mod check;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::sync::watch;

use crate::analysis::{self, Analysis};
use crate::config::trust;
use crate::config::{Config, ProviderConfig, ProviderKind};
use crate::consensus::Settings;
use crate::engine::cache::Cache;
use crate::engine::{self, Job, Reviewer, Summary};
use crate::input::walk::{self, SourceFile};
use crate::report::{self, Format};
use crate::store::seal::RunMac;
use crate::store::{self, FileMeta, ProviderMeta, ResponseRecord, RunMeta, Status, StoreWriter};

/// Writes the commented example configuration to `path`, and trusts it: the user asked
/// for this file, and Quorum wrote every byte of it.
/// A link at `path` (planted as `quorum.toml`, say) is refused: writing through it
/// would create or overwrite whatever it points at.
pub fn init(path: &Path, force: bool) -> Result<()> {
    let shown = trust::safe_path(path);
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => bail!(
            "{shown} is a symbolic link: Quorum does not write through it (it could point anywhere); \
             delete it, or pass another path"
        ),
        Ok(_) if !force => bail!("{shown} already exists: pass --force to overwrite it"),
        _ => {}
    }
    if force {
        // A temp file renamed over the path: the rename replaces a link planted in the
        // meantime instead of following it.
        store::write_atomically(path, crate::config::EXAMPLE_CONFIG.as_bytes())?;
    } else {
        use std::io::Write;
        // `create_new` fails on anything at the path, a link included.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut file| file.write_all(crate::config::EXAMPLE_CONFIG.as_bytes()))
            .with_context(|| format!("cannot write {shown}"))?;
    }
    trust::record(&trust::inspect(path)?)
        .with_context(|| format!("wrote {}, but could not record it as trusted", path.display()))
}

/// Finds and reads the configuration (see [`trust::locate`] for where it is looked for).
/// Whether it may be used is decided by the caller, before any request.
pub fn load_config(search: &trust::Search) -> Result<trust::Loaded> {
    trust::load(trust::locate(search)?)
}

/// `quorum providers list`: the resolved configuration, presets applied, keys hidden,
/// where each provider sends what, and whether the configuration is trusted.
pub fn providers_list(config: Option<&Path>) -> Result<String> {
    let loaded = load_config(&trust::Search {
        flag: config,
        ..trust::Search::default()
    })?;
    let status = format!("{}\n\n", loaded.status_line(&loaded.verdict()?));
    Ok(status + &crate::commands::check::list_text(&loaded.config.providers))
}

/// `quorum providers check`: returns the table, the problems found, and whether every
/// provider is usable. An untrusted configuration is refused before any request.
pub async fn providers_check(config: Option<&Path>, names: &[String]) -> Result<(String, Vec<String>, bool)> {
    let loaded = load_config(&trust::Search {
        flag: config,
        ..trust::Search::default()
    })?;
    loaded.require_trust()?;
    let config = loaded.config;
    let selected = config.select(names)?;
    let reports = crate::commands::check::check_all(&config, &selected).await;
    let problems = reports.iter().flat_map(|r| r.problems()).collect();
    let all_usable = reports.iter().all(|r| r.usable());
    Ok((
        crate::commands::check::check_table(&reports, table_width()),
        problems,
        all_usable,
    ))
}

/// `--shard K/N`: this run reviews the K-th of N deterministic parts of the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard> {
        let parsed = text
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)));
        match parsed {
            Some((k, n)) if n >= 1 && (1..=n).contains(&k) => Ok(Shard { k, n }),
            _ => bail!("--shard {text:?}: expected K/N with 1 ≤ K ≤ N, e.g. --shard 2/4"),
        }
    }

    /// Whether `path` belongs to this shard (by a hash of the path, so the split does
    /// not change when unrelated files are added).
    pub fn contains(&self, path: &str) -> bool {
        let digest = crate::hash::sha256_hex(path.as_bytes());
        u64::from_str_radix(&digest[..12], 16).unwrap_or(0) % u64::from(self.n) == u64::from(self.k - 1)
    }

    fn label(&self) -> String {
        format!("{}/{}", self.k, self.n)
    }
}

pub struct ReviewOptions {
    pub root: PathBuf,
    pub config: Option<PathBuf>,
    pub out: PathBuf,
    pub providers: Vec<String>,
    pub formats: Vec<Format>,
    pub quiet: bool,
    pub no_cache: bool,
    /// Continue the run in `out` instead of starting a new one.
    pub resume: bool,
    pub dry_run: bool,
    pub max_cost_usd: Option<f64>,
    pub shard: Option<Shard>,
    /// Report only issues at least this many independent models agree on.
    pub min_agree: Option<usize>,
}

/// What a finished command produced.
pub struct Outcome {
    pub analysis: Analysis,
    pub reports: Vec<PathBuf>,
    /// For `review`: what the engine did this run.
    pub summary: Option<Summary>,
}

/// What `review` produced: a finished run, or (with `--dry-run`) a plan.
pub enum Reviewed {
    Run(Box<Outcome>),
    Plan(String),
}

/// `quorum review`: walk, plan, fan out (or answer from the cache), store, aggregate.
pub async fn review(opts: &ReviewOptions) -> Result<Reviewed> {
    let previous = if opts.resume {
        Some(RunMeta::read(&opts.out)?)
    } else {
        None
    };
    // A run folder can come with the code: only one this user's Quorum sealed is
    // resumed, and only the part of it inside the folder given on the command line.
    let root = match &previous {
        Some(m) => {
            crate::store::seal::verify(&opts.out, &m.run_id, m.seal.as_deref())?;
            resumed_root(m, &opts.root, &opts.out)?
        }
        None => opts.root.clone(),
    };
    let recorded = previous.as_ref().and_then(|m| m.config.as_deref()).map(Path::new);
    let loaded = load_config(&trust::Search {
        flag: opts.config.as_deref(),
        recorded: recorded.map(|path| (path, opts.out.as_path())),
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
    let selected = config.select(&names)?;
    // The lock is held until the run ends. An existing folder is locked at once, so a
    // second run into it stops before doing anything; a new one is made only when the
    // run is ready to write, so a run that cannot start leaves nothing behind.
    let mut early_lock = None;
    if !opts.dry_run {
        check_out_dir(&opts.out, &root)?;
        if opts.out.is_dir() {
            early_lock = Some(claim_out_dir(&opts.out)?);
        }
    }
    let cache_location = locate_cache(&config, &root);
    if !opts.no_cache {
        cache_location.tell(opts.quiet);
    }
    // The output folder is walked: only its Quorum files are left out (see `walk`), so
    // code planted in a committed `quorum-report/` is still reviewed.
    let mut never = vec![opts.out.join(store::LOCK_FILE), config.path.clone()];
    never.extend(cache_location.dir.clone());
    let mut walked = walk::walk(&root, &config.review, &never)?;
    if let Some(shard) = shard {
        walked.files.retain(|f| shard.contains(&f.path));
    }
    if walked.files.is_empty() && shard.is_none() {
        bail!("{}", nothing_to_review(&root, &config, &walked));
    }
    let known_windows: HashMap<String, u64> = previous
        .iter()
        .flat_map(|m| &m.providers)
        .filter_map(|p| Some((p.name.clone(), p.context_tokens?)))
        .collect();
    let ask_servers = untrusted.is_none();
    let reviewers = build_reviewers(&selected, &config.path, &known_windows, opts, ask_servers).await?;
    let jobs = engine::plan(&walked.files, &reviewers);
    let _lock = match early_lock {
        None if !opts.dry_run => Some(claim_out_dir(&opts.out)?),
        lock => lock,
    };
    let checked = crate::checks::run(&walked.files, &reviewers);
    let redaction_note = checked.redaction_note().map(|n| format!("\n{n}.")).unwrap_or_default();
    let prior = match &previous {
        Some(m) => {
            let prior = answered(&opts.out, &RunMac::for_run(&opts.out, &m.run_id)?)?;
            if let Some(note) = prior.ignored_note(&opts.out) {
                eprintln!("{note}");
            }
            prior.records
        }
        None => HashMap::new(),
    };
    let cache = match (&cache_location.dir, opts.no_cache) {
        (Some(dir), false) => Some(Cache::open(dir)?),
        _ => None,
    };
    if opts.dry_run {
        let jobs: Vec<Job> = jobs.into_iter().filter(|j| !prior.contains_key(&j.key)).collect();
        let plan = format!(
            "{config_line}\n{}",
            dry_run_table(&walked, &reviewers, &jobs, cache.as_ref())
        );
        return Ok(Reviewed::Plan(match untrusted {
            Some(refusal) => format!("{plan}{redaction_note}\nA real run would stop here: {refusal}"),
            None => plan + &redaction_note,
        }));
    }
    let mut meta = run_meta(&root, &reviewers, &walked, &config.path, shard);
    meta.checks = checked.findings;
    match &previous {
        Some(previous) => {
            meta.run_id = previous.run_id.clone();
            meta.started_at = previous.started_at.clone();
            // Providers of the first run that this resume leaves out keep their answers.
            for p in &previous.providers {
                if !meta.providers.iter().any(|q| q.name == p.name) {
                    meta.providers.push(p.clone());
                }
            }
        }
        None => set_aside_previous_run(&opts.out)?,
    }
    let mut writer = StoreWriter::open(&opts.out)?;
    let run_mac = RunMac::for_run(&opts.out, &meta.run_id)?;
    meta.seal = Some(run_mac.seal());
    writer.sign_with(run_mac.clone());
    meta.write(&opts.out)?;
    if !opts.quiet {
        let to_ask = jobs.iter().filter(|j| !prior.contains_key(&j.key)).count();
        let secrets = walked.skipped.iter().filter(|s| s.is_secret()).count();
        eprintln!(
            "Reviewing {} files in {} with {} providers: {to_ask} requests{} (fewer if cached); answers go to {}{}{redaction_note}",
            walked.files.len(),
            crate::sanitize::terminal_safe(&root.display().to_string()),
            reviewers.len(),
            if opts.resume { " left to make" } else { "" },
            crate::sanitize::terminal_safe(&opts.out.join(store::RESPONSES_FILE).display().to_string()),
            if secrets > 0 {
                format!("; {secrets} secret files not sent (listed in the report)")
            } else {
                String::new()
            }
        );
    }
    let options = engine::Options {
        max_cost_usd: opts.max_cost_usd,
        ..engine::Options::default()
    };
    let stop = stop_on_ctrl_c();
    let mut progress = crate::engine::progress::for_stderr(opts.quiet);
    let mut cache = cache;
    let summary = engine::run(engine::RunInputs {
        files: &walked.files,
        reviewers: &reviewers,
        jobs,
        store: &mut writer,
        cache: cache.as_mut(),
        prior: &prior,
        options: &options,
        stop,
        progress: progress.as_mut(),
    })
    .await?;
    meta.finished_at = Some(store::now_rfc3339());
    meta.stopped_early = summary.stopped_early.clone();
    meta.write(&opts.out)?;
    let texts = walked.files.iter().map(|f| (f.path.clone(), f.text.clone())).collect();
    let report = ReportOptions {
        settings: &config.consensus,
        formats: &opts.formats,
        min_agree: opts.min_agree,
    };
    // Only what this user's Quorum asked for this run is reported: an answer planted in
    // the store was asked again above, and must not stand beside the real one.
    let mut records = load_records(std::slice::from_ref(&opts.out))?;
    records.retain(|r| r.verifies(&run_mac));
    let mut outcome = finish(&opts.out, meta, records, texts, &report)?;
    outcome.summary = Some(summary);
    Ok(Reviewed::Run(Box::new(outcome)))
}

/// `quorum aggregate DIR…`: rebuild every report from one run folder, or merge several
/// (the shards of one review) into `out`, asking no model.
pub fn aggregate(
    dirs: &[PathBuf],
    out: Option<&Path>,
    config: Option<&Path>,
    formats: &[Format],
    min_agree: Option<usize>,
) -> Result<Outcome> {
    let out = match (dirs, out) {
        ([], _) => bail!("name at least one run folder"),
        (_, Some(out)) => out.to_path_buf(),
        ([one], None) => one.clone(),
        (_, None) => bail!(
            "merging {} run folders needs --out DIR for the merged report",
            dirs.len()
        ),
    };
    let metas = dirs.iter().map(|d| RunMeta::read(d)).collect::<Result<Vec<_>>>()?;
    let records = load_records(dirs)?;
    let meta = merge_metas(metas);
    check_out_dir(&out, Path::new(&meta.root))?;
    let _lock = claim_out_dir(&out)?;
    if dirs.len() > 1 || !dirs.contains(&out) {
        meta.write(&out)?;
        let mut lines = String::new();
        for r in &records {
            lines.push_str(&serde_json::to_string(r)?);
            lines.push('\n');
        }
        store::write_atomically(&out.join(store::RESPONSES_FILE), lines.as_bytes())?;
    }
    let texts = read_unchanged_files(&meta);
    let settings = consensus_settings(config, &meta)?;
    let report = ReportOptions {
        settings: &settings,
        formats,
        min_agree,
    };
    finish(&out, meta, records, texts, &report)
}

/// `quorum eval`: scores a run against a truth file, with the consensus settings of
/// `--config` (or of the configuration the run used).
pub fn eval(out: &Path, truth: &Path, config: Option<&Path>) -> Result<crate::eval::EvalReport> {
    let meta = RunMeta::read(out)?;
    let settings = consensus_settings(config, &meta)?;
    crate::eval::run_eval(out, truth, &settings)
}

/// The consensus settings to rebuild a run's report with: those of `--config`, else of
/// the configuration the run recorded (if it is still readable), else the defaults.
fn consensus_settings(config: Option<&Path>, meta: &RunMeta) -> Result<Settings> {
    if let Some(path) = config {
        return Ok(Config::load(path)?.consensus);
    }
    let recorded = meta.config.as_deref().map(Path::new).filter(|p| p.exists());
    Ok(match recorded.map(Config::load) {
        Some(Ok(config)) => config.consensus,
        _ => Settings::default(),
    })
}

/// How to turn an analysis into reports.
struct ReportOptions<'a> {
    settings: &'a Settings,
    formats: &'a [Format],
    min_agree: Option<usize>,
}

fn finish(
    out: &Path,
    meta: RunMeta,
    records: Vec<ResponseRecord>,
    texts: HashMap<String, String>,
    options: &ReportOptions,
) -> Result<Outcome> {
    let mut analysis = analysis::analyze(meta, records, &texts, options.settings);
    if let Some(min) = options.min_agree {
        analysis.issues = crate::consensus::filter_min_agree(analysis.issues, min);
    }
    let reports = report::write_reports(out, &analysis, options.formats)?;
    Ok(Outcome {
        analysis,
        reports,
        summary: None,
    })
}

/// The records of several run folders, warning about torn lines.
fn load_records(dirs: &[PathBuf]) -> Result<Vec<ResponseRecord>> {
    let mut records = Vec::new();
    for dir in dirs {
        let loaded = store::read_records(dir)?;
        if !loaded.unreadable_lines.is_empty() {
            let warning = format!(
                "warning: {} line(s) of {} could not be read and were ignored (lines {:?}); \
                 `quorum review --resume {}` asks those jobs again",
                loaded.unreadable_lines.len(),
                dir.join(store::RESPONSES_FILE).display(),
                loaded.unreadable_lines,
                dir.display()
            );
            eprintln!("{}", crate::sanitize::terminal_safe(&warning));
        }
        records.extend(loaded.records);
    }
    Ok(records)
}

/// One run description for several shards of a review.
fn merge_metas(metas: Vec<RunMeta>) -> RunMeta {
    let mut iter = metas.into_iter();
    let mut merged = iter.next().expect("at least one run");
    if merged.shard.is_none() && iter.len() == 0 {
        return merged;
    }
    let mut files: BTreeMap<String, FileMeta> = merged.files.drain(..).map(|f| (f.path.clone(), f)).collect();
    let mut skipped: BTreeMap<String, walk::Skipped> = merged.skipped.drain(..).map(|s| (s.path.clone(), s)).collect();
    let mut ids = vec![merged.run_id.clone()];
    for m in iter {
        ids.push(m.run_id);
        files.extend(m.files.into_iter().map(|f| (f.path.clone(), f)));
        skipped.extend(m.skipped.into_iter().map(|s| (s.path.clone(), s)));
        for p in m.providers {
            if !merged.providers.iter().any(|q| q.name == p.name) {
                merged.providers.push(p);
            }
        }
        merged.started_at = merged.started_at.min(m.started_at);
        merged.finished_at = merged.finished_at.max(m.finished_at);
        merged.stopped_early = merged.stopped_early.or(m.stopped_early);
        merged.checks.extend(m.checks);
    }
    merged.run_id = crate::hash::sha256_hex(ids.join(",").as_bytes())[..12].to_string();
    merged.files = files.into_values().collect();
    merged.skipped = skipped.into_values().collect();
    merged.shard = None;
    // A merged folder is no run this user's Quorum started: it cannot be resumed.
    merged.seal = None;
    merged
}

/// The folder a resumed run reviews: the one it recorded, which must lie inside the
/// folder given on the command line (a run folder shipped with the code could name the
/// user's home).
fn resumed_root(meta: &RunMeta, given: &Path, out: &Path) -> Result<PathBuf> {
    let recorded = Path::new(&meta.root);
    let shown = crate::sanitize::terminal_safe(&meta.root);
    let recorded_canonical = recorded.canonicalize().with_context(|| {
        format!(
            "the run in {} reviewed {shown}, which cannot be resolved",
            out.display()
        )
    })?;
    let given_canonical = given.canonicalize().with_context(|| {
        format!(
            "cannot resolve {}",
            crate::sanitize::terminal_safe(&given.display().to_string())
        )
    })?;
    if !recorded_canonical.starts_with(&given_canonical) {
        bail!(
            "{}",
            crate::sanitize::terminal_safe(&format!(
                "the run in {out} reviewed {shown}, which is not inside {given}: nothing was sent. To resume it, \
                 run `quorum review {shown} --resume {out}`",
                out = out.display(),
                given = given.display(),
            ))
        );
    }
    Ok(recorded_canonical)
}

/// What a resumed run takes from its folder as already asked.
struct Answered {
    /// Answers (not asked again) and splits (followed to their parts), by job key.
    records: HashMap<String, ResponseRecord>,
    /// Jobs whose only answers (or splits) were left out because their MAC does not verify.
    ignored: usize,
}

impl Answered {
    /// Tells the user that answers in `out` are asked again, when some were ignored.
    fn ignored_note(&self, out: &Path) -> Option<String> {
        let (answers, were, are) = match self.ignored {
            0 => return None,
            1 => ("answer", "was", "is"),
            _ => ("answers", "were", "are"),
        };
        Some(crate::sanitize::terminal_safe(&format!(
            "{} {answers} in {} {were} not written by Quorum for you and {are} asked again",
            self.ignored,
            out.display()
        )))
    }
}

/// What a run folder already has, as far as this user's Quorum wrote it for this run:
/// `responses.jsonl` may have been replaced (a checkout overwrites an ignored file), so
/// a record whose MAC does not verify under `run_mac` is asked again.
fn answered(out: &Path, run_mac: &RunMac) -> Result<Answered> {
    let mut records = HashMap::new();
    let mut ignored = HashSet::new();
    let loaded = store::read_records(out)?.records.into_iter();
    for r in loaded.filter(|r| matches!(r.status, Status::Ok | Status::Split)) {
        let Some(key) = r.key.clone() else { continue };
        if r.verifies(run_mac) {
            records.insert(key, r);
        } else {
            ignored.insert(key);
        }
    }
    // A planted record stays in the file; once its job has been asked again it is
    // superseded (see `analysis`) and no longer worth a word.
    ignored.retain(|key| !records.contains_key(key));
    Ok(Answered {
        records,
        ignored: ignored.len(),
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
            context_tokens = tokio::time::timeout(Duration::from_secs(10), provider.context_window())
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
        };
        check_window(&reviewer)?;
        reviewers.push(reviewer);
    }
    Ok(reviewers)
}

/// Refuses a context window too small for the answer's reserve: every request would
/// overflow, however the files were cut.
fn check_window(reviewer: &Reviewer) -> Result<()> {
    let Some(window) = reviewer.context_tokens else {
        return Ok(());
    };
    let reserve = u64::from(reviewer.config.max_output_tokens);
    if reserve + 1024 > window {
        bail!(
            "{}: max_output_tokens = {reserve} leaves no room for code in a context window of {window} tokens; \
             lower max_output_tokens (to about a quarter of the window) or load the model with a larger context",
            crate::sanitize::terminal_safe(&reviewer.config.name)
        );
    }
    Ok(())
}

/// The plan `--dry-run` prints: requests, tokens and cost per provider (all estimated),
/// then what will be sent and every file that will not, with the reason.
fn dry_run_table(walked: &walk::Walked, reviewers: &[Reviewer], jobs: &[Job], cache: Option<&Cache>) -> String {
    let files = &walked.files;
    use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "provider",
        "files",
        "requests",
        "cached",
        "to send",
        "input tokens (est.)",
        "output tokens (est.)",
        "cost (est.)",
    ]);
    let mut total_cost = 0.0;
    for (r, reviewer) in reviewers.iter().enumerate() {
        let mine: Vec<&Job> = jobs.iter().filter(|j| j.reviewer == r).collect();
        let replay = reviewer.config.kind == ProviderKind::Replay;
        let to_send: Vec<&&Job> = mine
            .iter()
            .filter(|j| replay || cache.is_none_or(|c| c.get(&j.key).is_none()))
            .collect();
        let input: u64 = to_send.iter().map(|j| j.input_tokens).sum();
        let output = to_send.len() as u64 * reviewer.expected_output_tokens();
        let priced = reviewer.config.price_input_per_mtok.is_some() || reviewer.config.price_output_per_mtok.is_some();
        let cost = reviewer.cost(input, output);
        total_cost += cost;
        t.add_row([
            crate::sanitize::terminal_safe(&reviewer.config.name),
            files.len().to_string(),
            mine.len().to_string(),
            (mine.len() - to_send.len()).to_string(),
            to_send.len().to_string(),
            input.to_string(),
            output.to_string(),
            if priced {
                format!("${cost:.4}")
            } else {
                "no price set".into()
            },
        ]);
    }
    format!(
        "{t}\n{}Dry run: nothing was sent. Token counts are estimates (about 3.5 characters a token; \
         output at most 1000 tokens an answer); estimated total cost ${total_cost:.4}.",
        not_sent(walked)
    )
}

/// How many files a review sends, and each file it does not, with the reason: secret
/// files first (what is kept home), then the rest. One line a file, terminal-safe.
fn not_sent(walked: &walk::Walked) -> String {
    let mut text = format!("Files to send: {}.\n", walked.files.len());
    let (secrets, others): (Vec<_>, Vec<_>) = walked.skipped.iter().partition(|s| s.is_secret());
    for (heading, list) in [("Secret files kept home", secrets), ("Other files not sent", others)] {
        if list.is_empty() {
            continue;
        }
        text.push_str(&format!("{heading} ({}):\n", list.len()));
        for s in list {
            text.push_str(&format!(
                "  {}: {}\n",
                crate::sanitize::terminal_safe(&s.path),
                crate::sanitize::terminal_safe(&s.reason)
            ));
        }
    }
    text
}

/// Refuses an `--out` that is a symbolic link or is reached through one inside the
/// project (a link committed in a repository would send the run's files wherever it
/// points), or a folder that holds something other than Quorum runs (reports there would
/// overwrite files). `root` is the tree under review.
fn check_out_dir(out: &Path, root: &Path) -> Result<()> {
    // Without its trailing `/`, so the link itself is examined, not its target.
    let named: PathBuf = out.components().collect();
    let shown = crate::sanitize::terminal_safe(&out.display().to_string());
    if let Some(parent) = named.parent() {
        refuse_linked_folder(parent, root, &shown)?;
    }
    match std::fs::symlink_metadata(&named) {
        Err(_) => return Ok(()),
        Ok(meta) if meta.file_type().is_symlink() => {
            let target = std::fs::read_link(&named)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            bail!(
                "--out {shown} is a symbolic link (to {}): Quorum writes only into a real folder, so that a link \
                 planted in a repository cannot send its files elsewhere; pass the folder itself as --out, or \
                 remove the link",
                crate::sanitize::terminal_safe(&target)
            );
        }
        Ok(meta) if !meta.is_dir() => bail!("--out {shown} is not a folder: choose another --out"),
        Ok(_) => {}
    }
    let entries = std::fs::read_dir(out).with_context(|| format!("cannot read the --out folder {shown}"))?;
    let only_quorums = entries.filter_map(|e| e.ok()).all(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        store::is_own_file_name(&name) || name == store::PREVIOUS_DIR
    });
    if only_quorums {
        return Ok(());
    }
    // Foreign files beside a run are allowed (a user's notes), but only beside a run
    // Quorum could have written: any file merely named `run.json` is not one.
    match RunMeta::read(out) {
        Ok(_) => Ok(()),
        Err(err) if std::fs::symlink_metadata(out.join(store::RUN_FILE)).is_ok() => bail!(
            "--out {shown} holds files other than Quorum's, and its {} is not one Quorum wrote ({}); \
             choose another --out (reports there would overwrite files)",
            store::RUN_FILE,
            crate::sanitize::terminal_safe(&format!("{err:#}"))
        ),
        Err(_) => bail!(
            "--out {shown} is a folder that holds something other than a Quorum run; \
             choose another --out (reports there would overwrite files)"
        ),
    }
}

/// Refuses a `folder` (the part of `--out` above its last name) that passes through a
/// symbolic link inside the current folder or the tree under review: with `build ->
/// /elsewhere` committed in a repository, `--out build/q` would write into
/// `/elsewhere/q`. Links outside both (a system's `/tmp -> /private/tmp`) are the user's
/// own, and followed.
fn refuse_linked_folder(folder: &Path, root: &Path, shown: &str) -> Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let trees = [
        cwd.clone(),
        lexical_absolute(&cwd, review_tree(root)),
        resolve(review_tree(root)),
    ];
    let mut prefix = PathBuf::new();
    for component in folder.components() {
        prefix.push(component);
        if !matches!(component, Component::Normal(_)) {
            continue;
        }
        let place = lexical_absolute(&cwd, &prefix);
        if !trees.iter().any(|tree| place.starts_with(tree)) {
            continue;
        }
        match std::fs::symlink_metadata(&prefix) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&prefix)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                bail!(
                    "--out {shown} goes through {}, a symbolic link (to {}): Quorum writes only into real \
                     folders, so that a link planted in a repository cannot send its files elsewhere; pass the \
                     real path as --out, or remove the link",
                    crate::sanitize::terminal_safe(&prefix.display().to_string()),
                    crate::sanitize::terminal_safe(&target)
                );
            }
            Ok(_) => {}
            // The rest does not exist yet: it will be made as real folders.
            Err(_) => break,
        }
    }
    Ok(())
}

/// `path` made absolute against `cwd`, with `.` and `..` applied by name (no link is
/// resolved: the caller examines each component itself).
fn lexical_absolute(cwd: &Path, path: &Path) -> PathBuf {
    let mut absolute = PathBuf::new();
    for component in cwd.join(path).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                absolute.pop();
            }
            other => absolute.push(other),
        }
    }
    absolute
}

/// Creates `out` and locks it for this run.
fn claim_out_dir(out: &Path) -> Result<store::OutLock> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create the output folder {}", out.display()))?;
    store::OutLock::acquire(out)
}

/// Where answers are cached this run, and what the user should be told about it.
struct CacheLocation {
    /// `None` when the user has no cache folder (no home): answers are not cached.
    dir: Option<PathBuf>,
    /// Why a configured `cache_dir` was not used.
    ignored: Option<String>,
    /// In-tree caches of earlier versions, no longer read.
    stale: Vec<PathBuf>,
}

impl CacheLocation {
    fn tell(&self, quiet: bool) {
        // Always said: a setting of the user's is not being followed.
        if let Some(why) = &self.ignored {
            eprintln!("note: {why}");
        }
        if quiet {
            return;
        }
        let now = self.dir.as_ref().map_or_else(
            || "nowhere (no user cache folder is known)".to_string(),
            |d| d.display().to_string(),
        );
        for old in &self.stale {
            eprintln!(
                "note: {} is no longer read: answers are now cached in {}; delete it",
                crate::sanitize::terminal_safe(&old.display().to_string()),
                crate::sanitize::terminal_safe(&now)
            );
        }
    }
}

/// The cache folder of earlier versions, beside the configuration.
const LEGACY_CACHE_DIR: &str = ".quorum-cache";
/// The answer cache's folder inside the user's cache folder.
const USER_CACHE_SUBDIR: &str = "quorum";

/// Chooses the answer cache: the user's own (`$XDG_CACHE_HOME/quorum`), or a configured
/// `review.cache_dir` (a team's shared cache) unless it lies inside the tree under
/// review, where the code's authors could have prepared its answers.
fn locate_cache(config: &Config, root: &Path) -> CacheLocation {
    let config_dir = config.path.parent().unwrap_or(Path::new("."));
    let tree = review_tree(root);
    let user = dirs::cache_dir().map(|d| d.join(USER_CACHE_SUBDIR));
    let mut ignored = None;
    let dir = match &config.review.cache_dir {
        Some(configured) => {
            let dir = config_dir.join(configured);
            if is_inside(&dir, tree) {
                ignored = Some(format!(
                    "review.cache_dir = {:?} in {} is inside the tree under review ({}), where a cache could hold \
                     answers planted with the code: it is not read; answers are cached in {}",
                    crate::sanitize::terminal_safe(configured),
                    crate::sanitize::terminal_safe(&config.path.display().to_string()),
                    crate::sanitize::terminal_safe(&tree.display().to_string()),
                    user.as_ref()
                        .map_or_else(|| "no folder".to_string(), |d| d.display().to_string()),
                ));
                user
            } else {
                Some(dir)
            }
        }
        None => user,
    };
    let mut stale: Vec<PathBuf> = Vec::new();
    for old in [config_dir.join(LEGACY_CACHE_DIR), tree.join(LEGACY_CACHE_DIR)] {
        let is_chosen = dir.as_ref().is_some_and(|d| same_place(d, &old));
        if old.is_dir() && !is_chosen && !stale.iter().any(|s| same_place(s, &old)) {
            stale.push(old);
        }
    }
    CacheLocation { dir, ignored, stale }
}

/// The folder whose contents are under review (a single file's folder counts whole: a
/// configuration beside the file may have come with it).
fn review_tree(root: &Path) -> &Path {
    if root.is_file() {
        root.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    } else {
        root
    }
}

/// Whether `path` is `dir` or lies below it, links resolved (as far as they exist).
fn is_inside(path: &Path, dir: &Path) -> bool {
    resolve(path).starts_with(resolve(dir))
}

fn same_place(a: &Path, b: &Path) -> bool {
    resolve(a) == resolve(b)
}

/// `path` made absolute with its links resolved, for the part that exists; the rest
/// (which cannot contain links yet) is added with `..` applied by name.
fn resolve(path: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut existing = path;
    let mut base = loop {
        if let Ok(canonical) = existing.canonicalize() {
            break canonical;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name.to_os_string());
                existing = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
            }
            // `..` or a root that does not resolve: keep it as given.
            _ => break std::env::current_dir().unwrap_or_default().join(existing),
        }
    };
    for part in missing.into_iter().rev() {
        base.push(part);
    }
    base
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

/// A watch that turns true on the first Ctrl-C. A second Ctrl-C exits at once: every
/// answer received so far is already on disk.
fn stop_on_ctrl_c() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nStopping: waiting for the requests in flight (Ctrl-C again to quit now)…");
            let _ = tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("Quit. Continue later with `quorum review --resume OUT_DIR`.");
                std::process::exit(130);
            }
        }
    });
    rx
}

fn run_meta(
    root: &Path,
    reviewers: &[Reviewer],
    walked: &walk::Walked,
    config_path: &Path,
    shard: Option<Shard>,
) -> RunMeta {
    let started_at = store::now_rfc3339();
    let files: Vec<FileMeta> = walked.files.iter().map(file_meta).collect();
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let id_source = format!(
        "{started_at}{}{:?}",
        root.display(),
        files.first().map(|f| &f.content_hash)
    );
    RunMeta {
        schema_version: 1,
        run_id: crate::hash::sha256_hex(id_source.as_bytes())[..12].to_string(),
        root: root.display().to_string(),
        started_at,
        finished_at: None,
        providers: reviewers
            .iter()
            .map(|r| (&r.config, r.context_tokens))
            .map(|(p, context_tokens)| ProviderMeta {
                context_tokens,
                name: p.name.clone(),
                kind: p.kind.as_str().to_string(),
                model: p.model.clone(),
                family: p.family.clone(),
                base_url: p.base_url.clone(),
                price_input_per_mtok: p.price_input_per_mtok,
                price_output_per_mtok: p.price_output_per_mtok,
            })
            .collect(),
        files,
        skipped: walked.skipped.clone(),
        config: Some(
            config_path
                .canonicalize()
                .unwrap_or_else(|_| config_path.to_path_buf())
                .display()
                .to_string(),
        ),
        shard: shard.map(|s| s.label()),
        stopped_early: None,
        checks: Vec::new(),
        seal: None,
    }
}

fn file_meta(f: &SourceFile) -> FileMeta {
    FileMeta {
        path: f.path.clone(),
        lines: f.line_count(),
        content_hash: f.content_hash.clone(),
    }
}

/// Keeps the earlier run in `out` (its answers and every report) as `out/previous/`,
/// replacing the one kept there before: what was paid for survives the next run, and
/// earlier runs do not pile up.
fn set_aside_previous_run(out: &Path) -> Result<()> {
    let names = [store::RESPONSES_FILE, store::RUN_FILE]
        .into_iter()
        .chain(Format::ALL.map(Format::file_name));
    // `symlink_metadata`: a link is moved as a link, never followed.
    let present: Vec<&str> = names
        .filter(|name| std::fs::symlink_metadata(out.join(name)).is_ok())
        .collect();
    if !present.contains(&store::RESPONSES_FILE) && !present.contains(&store::RUN_FILE) {
        return Ok(());
    }
    let folder = out.join(store::PREVIOUS_DIR);
    match std::fs::symlink_metadata(&folder) {
        // Not followed: a linked folder's contents are left alone.
        Ok(meta) if meta.is_dir() => remove_kept_run(&folder)?,
        Ok(_) => bail!(
            "{} is not a folder Quorum made (a symbolic link or a file); delete it and run again",
            folder.display()
        ),
        Err(_) => {}
    }
    std::fs::create_dir(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
    for name in present {
        let path = out.join(name);
        std::fs::rename(&path, folder.join(name))
            .with_context(|| format!("cannot move the previous run's {} aside", path.display()))?;
    }
    Ok(())
}

/// Removes the run kept in `folder` (`OUT/previous/`), file by file: only names Quorum
/// writes are deleted, and anything else there stops the run before any is, since the
/// folder may have come with the repository and its other files are not Quorum's to delete.
fn remove_kept_run(folder: &Path) -> Result<()> {
    let cannot_read = || format!("cannot read {}", folder.display());
    let mut own = Vec::new();
    for entry in std::fs::read_dir(folder).with_context(cannot_read)? {
        let entry = entry.with_context(cannot_read)?;
        let name = entry.file_name();
        // `file_type` does not follow links: a link is removed as a link.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        match name.to_str() {
            Some(own_name) if !is_dir && store::is_own_file_name(own_name) => own.push(entry.path()),
            _ => bail!(
                "{} holds {}, which Quorum did not write: a new review replaces the run kept there, so move \
                 the file out of that folder (or choose another --out) and run again",
                crate::sanitize::terminal_safe(&folder.display().to_string()),
                crate::sanitize::terminal_safe(&name.to_string_lossy())
            ),
        }
    }
    for path in own {
        std::fs::remove_file(&path)
            .with_context(|| format!("cannot remove the run kept before: {}", path.display()))?;
    }
    std::fs::remove_dir(folder).with_context(|| format!("cannot remove the run kept before in {}", folder.display()))
}

/// The texts of the run's files that are still unchanged on disk (for stable ids).
///
/// `run.json` may come from anywhere, so its root and paths are followed only to regular
/// files (no link, pipe or device), each read up to [`MAX_REREAD_FILE_BYTES`]: a planted
/// `"root": "/"` with a file `dev/zero` costs nothing.
fn read_unchanged_files(meta: &RunMeta) -> HashMap<String, String> {
    let root = Path::new(&meta.root);
    let base = if root.is_file() {
        root.parent().unwrap_or(Path::new("."))
    } else {
        root
    };
    meta.files
        .iter()
        .filter_map(|f| {
            let bytes = read_bounded(&base.join(&f.path), MAX_REREAD_FILE_BYTES)?;
            if crate::hash::sha256_hex(&bytes) != f.content_hash {
                return None;
            }
            String::from_utf8(bytes).ok().map(|text| (f.path.clone(), text))
        })
        .collect()
}

/// The most of one reviewed file read again to rebuild a report: far above what any model's
/// context window takes, so only a file that was never sent is cut off.
const MAX_REREAD_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The bytes of the regular file at `path`, or `None` if it is not one, cannot be read, or
/// is larger than `max`.
fn read_bounded(path: &Path, max: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let file = store::open_for_reading(path).ok()?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= max).then_some(bytes)
}

/// The width to draw tables at: the terminal's, or a readable default when piped.
pub fn table_width() -> Option<u16> {
    if std::io::stdout().is_terminal() {
        None
    } else {
        Some(120)
    }
}
