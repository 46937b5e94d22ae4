//! `--out -`: one report printed to stdout, for a pipe (`quorum review --format json
//! --out - | jq …`), and nothing else there: the table is not printed, progress and the
//! summary stay on stderr.
//!
//! The run still needs a folder: `responses.jsonl` is what `--resume` continues and
//! `aggregate` rebuilds from, `run.json` what `suppress` trusts. So the run is written
//! to the folder `--out` defaults to, `quorum-report`, with the same report files as
//! `--out quorum-report` would write, and stderr says where it is.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::commands::finish::Finished;
use crate::commands::terminal::print_stdout;
use crate::report::Format;
use crate::sanitize::terminal_safe;

/// The `--out` value that means stdout.
const STDOUT: &str = "-";

/// Where a run whose report goes to stdout is kept: `--out`'s default.
const RUN_FOLDER: &str = "quorum-report";

/// The report `--out -` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdoutReport {
    format: Format,
}

impl StdoutReport {
    /// Whether `--out` names stdout.
    pub fn means_stdout(out: &Path) -> bool {
        out.as_os_str() == STDOUT
    }

    /// `Some` when `out` is `-`; then `formats` must name exactly one report.
    pub fn asked(out: &Path, formats: &[Format]) -> Result<Option<StdoutReport>> {
        if !Self::means_stdout(out) {
            return Ok(None);
        }
        match formats {
            [format] => Ok(Some(StdoutReport { format: *format })),
            _ => bail!(
                "--out - prints one report to stdout: name it with --format (json, md, sarif, html, rdjson or rdjsonl)"
            ),
        }
    }

    /// On `aggregate`: one run folder, whose reports are written there. Several would
    /// need a folder to be merged into, and `-` is none: say how to merge, then print.
    pub fn check_one_folder(&self, dirs: &[PathBuf]) -> Result<()> {
        if dirs.len() <= 1 {
            return Ok(());
        }
        let named: Vec<String> = dirs.iter().map(|d| terminal_safe(&d.display().to_string())).collect();
        bail!(
            "--out - prints the report of one run folder, and {} folders need one to be merged into: merge them first (quorum aggregate {} --out DIR), then print the merged report (quorum aggregate DIR --format {} --out -)",
            dirs.len(),
            named.join(" "),
            // Each report's file extension is also its --format word.
            self.format.file_name().trim_start_matches("report.")
        )
    }

    /// The run folder to write instead of `-`.
    pub fn run_folder() -> PathBuf {
        PathBuf::from(RUN_FOLDER)
    }

    /// The report as the run folder holds it: stdout gets the very bytes `--out DIR`
    /// would have written (the HTML's quoted code included).
    fn written(&self, finished: &Finished) -> Result<String> {
        let name = self.format.file_name();
        let Some(path) = finished
            .reports
            .iter()
            .find(|p| p.file_name().is_some_and(|n| n == name))
        else {
            bail!("{name} was not written, so it cannot be printed");
        };
        let mut text = String::new();
        crate::store::open_for_reading(path)?
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read back {}", path.display()))?;
        Ok(text)
    }

    /// What stdout gets of the report: its bytes, but on a terminal a JSON report's
    /// bidi controls, C1 controls and the like (which only a file name or a model's text
    /// can carry, inside strings) as `\u` escapes, so the same JSON value cannot act on
    /// the screen. The file keeps the exact data. (Markdown and HTML text is sanitised
    /// where it is written.)
    fn for_stdout(&self, report: String, terminal: bool) -> String {
        let is_json = matches!(
            self.format,
            Format::Json | Format::Sarif | Format::Rdjson | Format::Rdjsonl
        );
        match terminal && is_json {
            true => crate::sanitize::json_terminal_safe(&report),
            false => report,
        }
    }

    /// Prints the report to stdout and says on stderr where the run folder is; then,
    /// unless `quiet`, the run's summary (stderr).
    pub fn tell(&self, finished: &Finished, quiet: bool) -> Result<()> {
        print_stdout(&self.for_stdout(self.written(finished)?, std::io::stdout().is_terminal()))?;
        if quiet {
            return Ok(());
        }
        finished.tell_summary();
        if let Some(folder) = finished.reports.first().and_then(|p| p.parent()) {
            eprintln!(
                "{}",
                terminal_safe(&format!(
                    "{} went to stdout; the run is kept in {} (for --resume, aggregate and suppress).",
                    self.format.file_name(),
                    folder.display()
                ))
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_dash_with_one_format_prints_to_stdout() {
        let json = [Format::Json];
        assert_eq!(StdoutReport::asked(Path::new("out"), &json).unwrap(), None);
        assert_eq!(
            StdoutReport::asked(Path::new("-"), &json).unwrap(),
            Some(StdoutReport { format: Format::Json })
        );
        let err = StdoutReport::asked(Path::new("-"), &[Format::Json, Format::Sarif]).unwrap_err();
        assert!(err.to_string().contains("--format"), "{err}");
    }
}
