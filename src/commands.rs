//! The commands behind the CLI: `init`, `review` and `aggregate`.
//!
//! Each is a short sequence of the pipeline's stages. `review` ends by running exactly
//! what `aggregate` runs, from the files it just wrote, so the two can never disagree.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::analysis::{self, Analysis};
use crate::config::{Config, ProviderConfig};
use crate::consensus::Settings;
use crate::engine::{self, Backoff, Reviewer};
use crate::report::{self, Format};
use crate::store::{self, FileMeta, ProviderMeta, RunMeta, StoreWriter};
use crate::walk::{self, SourceFile};

/// Writes the commented example configuration to `path`.
pub fn init(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!("{} already exists: pass --force to overwrite it", path.display());
    }
    std::fs::write(path, crate::config::EXAMPLE_CONFIG).with_context(|| format!("cannot write {}", path.display()))
}

pub struct ReviewOptions {
    pub root: PathBuf,
    pub config: Option<PathBuf>,
    pub out: PathBuf,
    pub providers: Vec<String>,
    pub formats: Vec<Format>,
    pub quiet: bool,
}

/// What a finished command produced.
pub struct Outcome {
    pub analysis: Analysis,
    pub reports: Vec<PathBuf>,
}

/// Loads `--config FILE`, or `./quorum.toml`.
pub fn load_config(path: Option<&Path>) -> Result<Config> {
    let config_path = path.map_or_else(|| PathBuf::from("quorum.toml"), Path::to_path_buf);
    if path.is_none() && !config_path.exists() {
        bail!("no quorum.toml here: create one with `quorum init`, or pass --config FILE");
    }
    Ok(Config::load(&config_path)?)
}

/// `quorum providers list`: the resolved configuration, presets applied, keys hidden.
pub fn providers_list(config: Option<&Path>) -> Result<String> {
    let config = load_config(config)?;
    Ok(crate::check::list_text(&config.providers))
}

/// `quorum providers check`: returns the table, the problems found, and whether every
/// provider is usable.
pub async fn providers_check(config: Option<&Path>, names: &[String]) -> Result<(String, Vec<String>, bool)> {
    let config = load_config(config)?;
    let selected = config.select(names)?;
    let reports = crate::check::check_all(&config, &selected).await;
    let problems = reports.iter().flat_map(|r| r.problems()).collect();
    let all_usable = reports.iter().all(|r| r.usable());
    Ok((crate::check::check_table(&reports, table_width()), problems, all_usable))
}

/// `quorum review`: walk, fan out, store, then aggregate.
pub async fn review(opts: &ReviewOptions) -> Result<Outcome> {
    let config = load_config(opts.config.as_deref())?;
    let selected = config.select(&opts.providers)?;
    let reviewers = selected
        .iter()
        .map(|p| build_reviewer(p, &config.path))
        .collect::<Result<Vec<_>>>()?;
    let walked = walk::walk(&opts.root, &config.review)?;
    if walked.files.is_empty() {
        bail!(
            "nothing to review under {}: no file matched review.include {:?}{}",
            opts.root.display(),
            config.review.include,
            if walked.skipped.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} files were skipped, e.g. {}: {})",
                    walked.skipped.len(),
                    walked.skipped[0].path,
                    walked.skipped[0].reason
                )
            }
        );
    }
    let meta = run_meta(&opts.root, &selected, &walked);
    set_aside_previous_run(&opts.out)?;
    let mut writer = StoreWriter::open(&opts.out)?;
    meta.write(&opts.out)?;
    if !opts.quiet {
        eprintln!(
            "Reviewing {} files with {} providers ({} requests); answers go to {}",
            walked.files.len(),
            reviewers.len(),
            walked.files.len() * reviewers.len(),
            opts.out.join(store::RESPONSES_FILE).display()
        );
    }
    let quiet = opts.quiet;
    engine::run(
        &walked.files,
        &reviewers,
        &mut writer,
        Backoff::default(),
        |record, done, total| {
            if !quiet {
                eprintln!("{}", progress_line(record, done, total));
            }
        },
    )
    .await?;
    let mut meta = meta;
    meta.finished_at = Some(store::now_rfc3339());
    meta.write(&opts.out)?;
    let texts = walked.files.iter().map(|f| (f.path.clone(), f.text.clone())).collect();
    finish(&opts.out, meta, texts, &opts.formats)
}

/// `quorum aggregate`: rebuild every report from a run folder, asking no model.
pub fn aggregate(out: &Path, formats: &[Format]) -> Result<Outcome> {
    let meta = RunMeta::read(out)?;
    let texts = read_unchanged_files(&meta);
    finish(out, meta, texts, formats)
}

fn finish(out: &Path, meta: RunMeta, texts: HashMap<String, String>, formats: &[Format]) -> Result<Outcome> {
    let loaded = store::read_records(out)?;
    if !loaded.unreadable_lines.is_empty() {
        eprintln!(
            "warning: {} line(s) of {} could not be read and were ignored (lines {:?})",
            loaded.unreadable_lines.len(),
            out.join(store::RESPONSES_FILE).display(),
            loaded.unreadable_lines
        );
    }
    let analysis = analysis::analyze(meta, loaded.records, &texts, &Settings::default());
    let reports = report::write_reports(out, &analysis, formats)?;
    Ok(Outcome { analysis, reports })
}

/// Creates the provider a configuration describes. Reads its key from the environment.
fn build_reviewer(config: &ProviderConfig, config_path: &Path) -> Result<Reviewer> {
    Ok(Reviewer {
        config: config.clone(),
        provider: crate::backend::build(config, config_path)?,
    })
}

fn run_meta(root: &Path, selected: &[ProviderConfig], walked: &walk::Walked) -> RunMeta {
    let started_at = store::now_rfc3339();
    let files: Vec<FileMeta> = walked.files.iter().map(file_meta).collect();
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
        providers: selected
            .iter()
            .map(|p| ProviderMeta {
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
    }
}

fn file_meta(f: &SourceFile) -> FileMeta {
    FileMeta {
        path: f.path.clone(),
        lines: f.line_count(),
        content_hash: f.content_hash.clone(),
    }
}

/// Keeps an earlier run's answers in `out` under another name instead of mixing them
/// with this run's: nothing already paid for is lost.
fn set_aside_previous_run(out: &Path) -> Result<()> {
    let old = out.join(store::RESPONSES_FILE);
    if !old.exists() {
        return Ok(());
    }
    let label = RunMeta::read(out)
        .map(|m| m.run_id)
        .unwrap_or_else(|_| "previous".to_string());
    let mut target = out.join(format!("responses.{label}.jsonl"));
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = out.join(format!("responses.{label}.{n}.jsonl"));
    }
    std::fs::rename(&old, &target).with_context(|| format!("cannot move the previous run's {} aside", old.display()))
}

/// The texts of the run's files that are still unchanged on disk (for stable ids).
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
            let bytes = std::fs::read(base.join(&f.path)).ok()?;
            if crate::hash::sha256_hex(&bytes) != f.content_hash {
                return None;
            }
            String::from_utf8(bytes).ok().map(|text| (f.path.clone(), text))
        })
        .collect()
}

fn progress_line(record: &store::ResponseRecord, done: usize, total: usize) -> String {
    let what = match (&record.status, &record.error) {
        (store::Status::Ok, _) => format!("answered in {:.1} s", record.latency_ms as f64 / 1000.0),
        (_, Some(e)) => format!("failed: {}", report::terminal_safe(&e.message)),
        (_, None) => "failed".to_string(),
    };
    let retries = if record.attempts > 1 {
        format!(" after {} attempts", record.attempts)
    } else {
        String::new()
    };
    format!(
        "[{done}/{total}] {} · {} · {what}{retries}",
        record.provider, record.file
    )
}

/// The width to draw the table at: the terminal's, or a readable default when piped.
pub fn table_width() -> Option<u16> {
    if std::io::stdout().is_terminal() {
        None
    } else {
        Some(120)
    }
}
