//! The end every run shares, `review` and `aggregate` alike: analyse the records, write
//! the reports, and tell the user what was found.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use anyhow::Result;

use crate::analysis::{self, Analysis};
use crate::commands::gate::{self, Gate, Outcome};
use crate::commands::terminal::{println_stdout, table_width};
use crate::consensus::Settings;
use crate::engine::Summary;
use crate::report::{self, Format};
use crate::sanitize::terminal_safe;
use crate::store::{ResponseRecord, RunFolder, RunMeta};
use crate::triage;

/// Which reports to write, and what goes into them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    pub formats: Vec<Format>,
    /// Report only issues at least this many independent models agree on.
    pub min_agree: Option<usize>,
    /// `--baseline`: report only issues this earlier `report.json` does not hold.
    pub baseline: Option<PathBuf>,
}

/// A run analysed and reported: what `review` and `aggregate` give back.
pub struct Finished {
    pub analysis: Analysis,
    /// The report files written.
    pub reports: Vec<PathBuf>,
    /// For `review`: what the engine did this run.
    pub summary: Option<Summary>,
}

/// The issues the records of a run make, less those suppressed or in the baseline (with
/// `--min-agree`, only those enough models agree on; Quorum's own issues are never
/// hidden by it).
pub(crate) fn analyze(
    meta: RunMeta,
    records: Vec<ResponseRecord>,
    texts: &HashMap<String, String>,
    settings: &Settings,
    options: &ReportOptions,
    decided: &triage::Inputs,
) -> Analysis {
    let mut analysis = analysis::analyze(meta, records, texts, settings);
    let sent: HashSet<&str> = analysis.meta.files.iter().map(|f| f.path.as_str()).collect();
    let (issues, triaged) = triage::apply(std::mem::take(&mut analysis.issues), &sent, texts, decided);
    analysis.issues = issues;
    analysis.triage = triaged;
    if let Some(min) = options.min_agree {
        // In the judge's `peers` mode a peer's confirmation counts as agreement.
        let judge = &analysis.judge;
        analysis
            .issues
            .retain(|i| i.source == crate::consensus::Source::Quorum || judge.agreement(i) >= min);
    }
    analysis
}

/// Writes the reports of `analysis` into `folder`; `texts` are the files as reviewed
/// (those unchanged since, for `aggregate`), which `report.html` quotes.
pub(crate) fn write_reports(
    folder: &RunFolder,
    analysis: Analysis,
    options: &ReportOptions,
    texts: &HashMap<String, String>,
) -> Result<Finished> {
    let mut reports = report::write_reports(folder.path(), &analysis, &options.formats, texts)?;
    reports.extend(super::compare::write_files(folder.path(), &analysis, &options.formats)?);
    Ok(Finished {
        analysis,
        reports,
        summary: None,
    })
}

/// The records of several run folders, warning about torn lines.
pub(crate) fn load_records(folders: &[RunFolder]) -> Result<Vec<ResponseRecord>> {
    let mut records = Vec::new();
    for folder in folders {
        let loaded = folder.read_records()?;
        if !loaded.unreadable_lines.is_empty() {
            let warning = format!(
                "warning: {} line(s) of {} could not be read and were ignored (lines {:?}); \
                 `quorum review --resume {}` asks those jobs again",
                loaded.unreadable_lines.len(),
                folder.responses_path().display(),
                loaded.unreadable_lines,
                folder.path().display()
            );
            eprintln!("{}", terminal_safe(&warning));
        }
        records.extend(loaded.records);
    }
    Ok(records)
}

impl Finished {
    /// How the run ends under `gate` (`--fail-on`), `allow_partial` accepting an
    /// incomplete run; prints why to stderr (the gate's verdict even with `--quiet`: it
    /// decides a build).
    pub fn judge(&self, gate: Option<&Gate>, allow_partial: bool) -> Outcome {
        let conclusion = gate::conclude(&self.analysis, gate, allow_partial);
        for line in &conclusion.lines {
            eprintln!("{}", terminal_safe(line));
        }
        conclusion.outcome
    }

    /// Prints the table (stdout) and a summary of the run (stderr), unless `quiet`.
    pub fn tell(&self, quiet: bool) -> Result<()> {
        if quiet {
            return Ok(());
        }
        println_stdout(&report::table(&self.analysis, table_width()))?;
        self.tell_summary();
        Ok(())
    }

    /// The summary of the run, the files written and how the run ended (stderr).
    pub fn tell_summary(&self) {
        let a = &self.analysis;
        let failed = a.errors.len();
        let pre_existing = a.pre_existing_issues().count();
        eprintln!(
            "{} issues{} from {} providers over {} of {} files{}.",
            a.issues.len(),
            match (pre_existing, &a.meta.since) {
                (0, None) => String::new(),
                (n, _) => format!(
                    " ({} new, {n} pre-existing outside the changed lines)",
                    a.issues.len() - n
                ),
            },
            a.providers.len(),
            a.files_reviewed,
            a.meta.files.len(),
            if failed > 0 {
                format!("; {failed} answers failed or were unusable (see the report's Errors)")
            } else {
                String::new()
            }
        );
        for line in a.triage.summary_lines() {
            eprintln!("{line}");
        }
        if let Some(line) = a.judge.summary_line() {
            eprintln!("{}", terminal_safe(&line));
        }
        if let Some(caution) = &a.judge.caution {
            eprintln!("{}", terminal_safe(caution));
        }
        for path in &self.reports {
            eprintln!("Wrote {}", terminal_safe(&path.display().to_string()));
        }
        if let Some(s) = &self.summary {
            eprintln!(
                "This run: {} answered, {} from the cache, {} failed, {} skipped (provider down){}.",
                s.ok,
                s.cached,
                s.failed,
                s.skipped,
                if s.not_started > 0 {
                    format!(", {} not started", s.not_started)
                } else {
                    String::new()
                }
            );
        }
        if let Some(why) = &a.meta.stopped_early {
            let folder = self
                .reports
                .first()
                .and_then(|p| p.parent())
                .map_or_else(|| "OUT_DIR".to_string(), |d| d.display().to_string());
            eprintln!(
                "{}",
                terminal_safe(&format!(
                    "The run stopped early ({why}); continue it with `quorum review --resume {folder}`."
                ))
            );
        }
    }
}
