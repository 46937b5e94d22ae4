//! `quorum aggregate`: rebuild every report from run folders, asking no model.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::commands::finish::{self, load_records, Finished, ReportOptions};
use crate::commands::out_dir::check_out_dir;
use crate::config::Config;
use crate::consensus::Settings;
use crate::input::walk;
use crate::judge::JudgeRun;
use crate::sanitize::terminal_safe;
use crate::store::{self, FileMeta, ResponseRecord, RunFolder, RunMeta, RUN_ID_LEN};
use crate::triage;

/// `quorum aggregate DIR…`: rebuild every report from one run folder, or merge several
/// (the shards of one review) into `out`, asking no model.
pub fn aggregate(
    dirs: &[PathBuf],
    out: Option<&Path>,
    config: Option<&Path>,
    report: &ReportOptions,
) -> Result<Finished> {
    let out = match (dirs, out) {
        ([], _) => bail!("name at least one run folder"),
        (_, Some(out)) => RunFolder::new(out),
        ([one], None) => RunFolder::new(one),
        (_, None) => bail!(
            "merging {} run folders needs --out DIR for the merged report",
            dirs.len()
        ),
    };
    let folders: Vec<RunFolder> = dirs.iter().map(RunFolder::new).collect();
    let Loaded { meta, records } = load_runs(&folders)?;
    check_out_dir(out.path(), Path::new(&meta.root))?;
    let decided = triage::Inputs::load(Path::new(&meta.root), report.baseline.as_deref())?;
    let _lock = out.lock()?;
    if folders.len() > 1 || !folders.contains(&out) {
        out.write_meta(&meta)?;
        out.write_records(&records)?;
    }
    let texts = read_unchanged_files(&meta, &secret_files(config, &meta)?);
    let settings = consensus_settings(config, &meta)?;
    let analysis = finish::analyze(meta, records, &texts, &settings, report, &decided);
    finish::write_reports(&out, analysis, report, &texts)
}

/// Run folders read as one run (the shards of one review, or runs of one tree).
pub(crate) struct Loaded {
    pub meta: RunMeta,
    pub records: Vec<ResponseRecord>,
}

/// Reads every folder's `run.json` (checked by [`RunMeta::read`]) and records, and merges
/// them into one run: what `aggregate` and `compare` both analyse.
pub(crate) fn load_runs(folders: &[RunFolder]) -> Result<Loaded> {
    let metas = folders.iter().map(RunFolder::read_meta).collect::<Result<Vec<_>>>()?;
    let records = load_records(folders)?;
    Ok(Loaded {
        meta: merge_metas(metas)?,
        records,
    })
}

/// The consensus settings to rebuild a run's report with: those of `--config`, else of
/// the configuration the run recorded (if it is still readable), else the defaults.
pub(crate) fn consensus_settings(config: Option<&Path>, meta: &RunMeta) -> Result<Settings> {
    Ok(run_config(config, meta)?.map(|c| c.consensus).unwrap_or_default())
}

/// The `review.secret_files` patterns of the same configuration (else the defaults): the
/// files read again from the tree obey them as the walk did.
pub(crate) fn secret_files(config: Option<&Path>, meta: &RunMeta) -> Result<Vec<String>> {
    Ok(run_config(config, meta)?
        .map(|c| c.review.secret_files)
        .unwrap_or_else(|| crate::config::ReviewSettings::default().secret_files))
}

/// `--config`'s configuration, else the one the run recorded if it is still readable.
fn run_config(config: Option<&Path>, meta: &RunMeta) -> Result<Option<Config>> {
    if let Some(path) = config {
        return Ok(Some(Config::load(path)?));
    }
    let recorded = meta.config.as_deref().map(Path::new).filter(|p| p.exists());
    Ok(recorded.map(Config::load).and_then(Result::ok))
}

/// One run description for several shards of a review.
fn merge_metas(metas: Vec<RunMeta>) -> Result<RunMeta> {
    let judge = merge_judges(&metas)?;
    let mut iter = metas.into_iter();
    let mut merged = iter.next().expect("at least one run");
    if merged.shard.is_none() && iter.len() == 0 {
        return Ok(merged);
    }
    merged.judge = judge;
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
    // Each folder has at most a configuration's providers; together they may not have
    // more (the comparison of models is made pair by pair, and the merged folder must
    // stay readable).
    if merged.providers.len() > crate::config::MAX_PROVIDERS {
        bail!(
            "the run folders together name {} providers, more than a configuration may have ({}): \
             name fewer run folders at once",
            merged.providers.len(),
            crate::config::MAX_PROVIDERS
        );
    }
    merged.run_id = crate::hash::sha256_hex(ids.join(",").as_bytes())[..RUN_ID_LEN].to_string();
    merged.files = files.into_values().collect();
    merged.skipped = skipped.into_values().collect();
    merged.shard = None;
    // A merged folder is no run this user's Quorum started: it cannot be resumed.
    merged.seal = None;
    Ok(merged)
}

/// The judge pass of the merged runs: every run's chosen issues under the one judge and
/// mode they all had (whichever folder comes first); runs judged by another provider or
/// in another mode cannot be read as one.
fn merge_judges(metas: &[RunMeta]) -> Result<Option<JudgeRun>> {
    let mut merged: Option<JudgeRun> = None;
    for run in metas.iter().filter_map(|m| m.judge.as_ref()) {
        let Some(into) = merged.as_mut() else {
            merged = Some(run.clone());
            continue;
        };
        if (&into.provider, &into.mode) != (&run.provider, &run.mode) {
            bail!(
                "the run folders were judged differently ({} in {} mode, and {} in {} mode), so their verdicts cannot be merged: \
                 aggregate the runs of each [judge] setting separately",
                terminal_safe(&into.provider),
                terminal_safe(&into.mode),
                terminal_safe(&run.provider),
                terminal_safe(&run.mode)
            );
        }
        into.issues.extend(run.issues.iter().cloned());
        // Why the judge asked nothing holds for the merge only when it holds for every
        // run (else an issue of a run that merely stopped early would be said dropped).
        if run.dropped.is_none() {
            into.dropped = None;
        }
        into.issues.sort();
        into.issues.dedup();
    }
    Ok(merged)
}

/// The texts of the run's files that are still unchanged on disk (for stable ids, and
/// the code `report.html` quotes).
///
/// `run.json` may come from anywhere, so its root and paths are followed only to regular
/// files (no link, pipe or device), each read up to [`MAX_REREAD_FILE_BYTES`]: a planted
/// `"root": "/"` with a file `dev/zero` costs nothing. A file the walk would keep home
/// (`secret_files`, by name before it is read, or by its content) is left out even when
/// `run.json` lists it with the right hash.
pub(crate) fn read_unchanged_files(meta: &RunMeta, secret_files: &[String]) -> HashMap<String, String> {
    let root = Path::new(&meta.root);
    let base = if root.is_file() {
        root.parent().unwrap_or(Path::new("."))
    } else {
        root
    };
    let Ok(secrets) = walk::SecretRule::new(secret_files, root) else {
        // Patterns the walk itself would refuse: quote nothing rather than guess.
        return HashMap::new();
    };
    meta.files
        .iter()
        .filter(|f| !secrets.by_name(Path::new(&f.path)))
        .filter_map(|f| {
            let bytes = read_bounded(&base.join(&f.path), MAX_REREAD_FILE_BYTES)?;
            if crate::hash::sha256_hex(&bytes) != f.content_hash {
                return None;
            }
            let text = String::from_utf8(bytes).ok()?;
            (!secrets.by_content(Path::new(&f.path), &text)).then(|| (f.path.clone(), text))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A `run.json` listing `files` under `root` with their true hashes.
    fn meta_listing(root: &Path, files: &[(&str, &str)]) -> RunMeta {
        let files: Vec<_> = files
            .iter()
            .map(|(path, text)| {
                std::fs::write(root.join(path), text).unwrap();
                serde_json::json!({"path": path, "lines": 1, "content_hash": crate::hash::sha256_hex(text.as_bytes())})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "schema_version": 1, "run_id": "r", "root": root.to_str().unwrap(),
            "started_at": "2026-01-01T00:00:00Z", "providers": [], "files": files, "skipped": []
        }))
        .unwrap()
    }

    #[test]
    fn files_the_walk_keeps_home_are_not_read_back_whatever_run_json_lists() {
        let dir = tempfile::tempdir().unwrap();
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAv7d2VfakeKeyDataForTheTest0123456789\n-----END RSA PRIVATE KEY-----\n";
        let meta = meta_listing(
            dir.path(),
            &[
                ("main.go", "package main\n"),
                (".env", "TOKEN=s3cr3t\n"),
                ("deploy_key", key),
            ],
        );
        let defaults = crate::config::ReviewSettings::default().secret_files;
        let texts = read_unchanged_files(&meta, &defaults);
        assert_eq!(texts.keys().collect::<Vec<_>>(), ["main.go"], "{texts:?}");
        // `secret_files = []` sends everything, so the run may have reviewed them.
        assert_eq!(read_unchanged_files(&meta, &[]).len(), 3);
    }

    /// A run judged by `judge`, choosing `issues`, its judge dropped for `dropped`.
    fn judged_run(issues: &[&str], dropped: Option<&str>) -> RunMeta {
        let mut meta = meta_listing(Path::new("."), &[]);
        meta.judge = Some(JudgeRun {
            provider: "judge".into(),
            mode: "single".into(),
            issues: issues.iter().map(|i| i.to_string()).collect(),
            capped: 0,
            price_input_per_mtok: None,
            price_output_per_mtok: None,
            dropped: dropped.map(String::from),
        });
        meta
    }

    #[test]
    fn why_the_judge_was_dropped_survives_a_merge_only_when_every_judged_run_says_it() {
        let dropped = |metas: &[RunMeta]| merge_judges(metas).unwrap().unwrap().dropped;
        let (a, b) = (judged_run(&["Q1"], Some("no model")), judged_run(&["Q2"], Some("401")));
        let unjudged = meta_listing(Path::new("."), &[]);
        assert_eq!(dropped(&[a.clone(), b.clone(), unjudged]), Some("no model".into()));
        for order in [[a.clone(), judged_run(&["Q3"], None)], [judged_run(&["Q3"], None), a]] {
            let merged = merge_judges(&order).unwrap().unwrap();
            assert_eq!(
                merged.dropped, None,
                "a run that asked its judge has issues merely unasked"
            );
            assert_eq!(merged.issues, ["Q1", "Q3"]);
        }
    }
}
