//! `quorum suppress ISSUE_ID --reason "…"`: record that an issue of the last run was
//! reviewed and is not a problem, in `.quorum/suppressions.toml` at the repository root
//! (committed, and reviewed like code). `--list` shows what is suppressed.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::report::{Format, SCHEMA_VERSION};
use crate::sanitize::terminal_safe;
use crate::store::RunFolder;
use crate::triage::{is_issue_id, Suppression, Suppressions, MAX_BASELINE_BYTES, MAX_REASON_CHARS};

/// What `quorum suppress` was asked to do.
pub struct SuppressOptions {
    /// The issue to suppress (`None` with `--list`).
    pub id: Option<String>,
    pub reason: Option<String>,
    /// The run folder whose `report.json` names the issue.
    pub out: PathBuf,
    /// List the suppressions instead.
    pub list: bool,
}

/// The parts of `report.json` a suppression needs (not its root: see [`sealed_root`]).
#[derive(Deserialize)]
struct Report {
    schema_version: u32,
    #[serde(default)]
    issues: Vec<ReportIssue>,
    #[serde(default)]
    baseline: Option<ReportBaseline>,
    #[serde(default)]
    suppressed: Vec<ReportIssue>,
}

#[derive(Deserialize)]
struct ReportBaseline {
    #[serde(default)]
    unchanged: Vec<ReportIssue>,
}

#[derive(Deserialize)]
struct ReportIssue {
    id: String,
    file: String,
    title: String,
}

/// `quorum suppress`: the text to print.
pub fn suppress(opts: &SuppressOptions) -> Result<String> {
    let report = read_report(&opts.out)?;
    // The root decides where `.quorum/` is written: it is taken from the run this user's
    // Quorum sealed, never from `report.json`, which anyone can ship with the code.
    let root = sealed_root(&opts.out)?;
    let mut suppressions = Suppressions::load(Path::new(&root))?;
    if opts.list {
        return Ok(list(&suppressions));
    }
    let (Some(id), Some(reason)) = (opts.id.as_deref(), opts.reason.as_deref()) else {
        bail!("name the issue and say why: quorum suppress ISSUE_ID --reason \"…\" (or --list)");
    };
    let reason = reason.trim();
    if reason.is_empty() {
        bail!(
            "--reason is empty: say why the issue is not a problem (the reason is kept for whoever reviews the file)"
        );
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        bail!("--reason is longer than {MAX_REASON_CHARS} characters: keep it to a sentence or a paragraph");
    }
    if let Some(existing) = suppressions.find(id) {
        return Ok(terminal_safe(&format!(
            "{id} is already suppressed in {} ({}: {}); edit the file to change the reason.",
            suppressions.path.display(),
            existing.date,
            existing.reason
        )));
    }
    let issue = find_issue(&report, id, &opts.out)?;
    let entry = Suppression {
        id: id.to_string(),
        file: Some(issue.file.clone()),
        title: issue.title.clone(),
        reason: reason.to_string(),
        date: crate::store::now_rfc3339()[..DATE_LEN].to_string(),
    };
    suppressions.add(entry)?;
    // One line: a title or a file name with a line break cannot forge a line of its own.
    Ok(terminal_safe(&format!(
        "Suppressed {id} ({} in {}) in {}; commit the file so the decision is reviewed like code.",
        issue.title,
        issue.file,
        suppressions.path.display()
    )))
}

/// Report and file text (titles models wrote, reasons from the tree) made safe for a
/// terminal, line by line.
fn safe(text: String) -> String {
    text.lines().map(terminal_safe).collect::<Vec<_>>().join("\n")
}

/// The length of `YYYY-MM-DD`, the start of an RFC 3339 time.
const DATE_LEN: usize = 10;

/// The issue `id` of the report, wherever the report put it.
fn find_issue<'a>(report: &'a Report, id: &str, out: &Path) -> Result<&'a ReportIssue> {
    if !is_issue_id(id) {
        bail!("{id:?} is not a Quorum issue id: use one of the ids report.md or report.json list (Q and 8 hex digits)");
    }
    let unchanged = report.baseline.iter().flat_map(|b| &b.unchanged);
    report
        .issues
        .iter()
        .chain(unchanged)
        .chain(&report.suppressed)
        .find(|i| i.id == id)
        .with_context(|| {
            format!(
                "no issue {id} in {}: use an id of that run's report (or --out DIR for another run)",
                out.join(Format::Json.file_name()).display()
            )
        })
}

/// The suppressions, one a line.
fn list(suppressions: &Suppressions) -> String {
    if suppressions.entries.is_empty() {
        return format!("No suppressions in {}.", suppressions.path.display());
    }
    let mut text = format!(
        "{} suppressions in {}:",
        suppressions.entries.len(),
        suppressions.path.display()
    );
    for s in &suppressions.entries {
        let file = s.file.as_deref().map(|f| format!(" in {f}")).unwrap_or_default();
        text.push_str(&format!(
            "\n{} {}{file} ({}): {}",
            s.id,
            terminal_safe(&s.title),
            s.date,
            terminal_safe(&s.reason)
        ));
    }
    safe(text)
}

/// The review root of the run in `out`, from its `run.json` once its seal shows this
/// user's Quorum wrote it there; a folder that came with the code is refused.
fn sealed_root(out: &Path) -> Result<String> {
    let folder = RunFolder::new(out);
    let foreign = || {
        anyhow::anyhow!(
            "{}",
            terminal_safe(&format!(
                "the run in {} was not written by your Quorum (a run folder can come with the code): review again, \
                 then suppress",
                out.display()
            ))
        )
    };
    let meta = folder.read_meta().map_err(|_| foreign())?;
    folder.verify_seal(&meta).map_err(|_| foreign())?;
    Ok(meta.root)
}

/// The run's `report.json`, read bounded and checked to be one.
fn read_report(out: &Path) -> Result<Report> {
    let path = out.join(Format::Json.file_name());
    let file = crate::store::open_for_reading(&path).with_context(|| {
        format!(
            "no report to suppress from: run `quorum review --out {}` first",
            out.display()
        )
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_BASELINE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_BASELINE_BYTES {
        bail!("{} is larger than {} MiB", path.display(), MAX_BASELINE_BYTES >> 20);
    }
    let report: Report =
        serde_json::from_slice(&bytes).with_context(|| format!("{} is not a Quorum report.json", path.display()))?;
    if report.schema_version != SCHEMA_VERSION {
        bail!(
            "{} has schema_version {}; this Quorum reads {SCHEMA_VERSION}: review again",
            path.display(),
            report.schema_version
        );
    }
    Ok(report)
}
