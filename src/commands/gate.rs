//! The CI gate and how a finished run ends: pure decisions over an [`Analysis`], printed
//! by `finish` and turned into an exit code by `main`.
//!
//! The gate counts only what is left to act on: `analysis.issues` after triage
//! (suppressed and baseline issues are already out), and of those only the issues a
//! `--since` change brought (`Issue::is_new`). Agreement is measured as `--min-agree`
//! measures it (distinct families, `consensus::filter_min_agree`), so Quorum's own
//! issues, which count no vote, are never below it.

use anyhow::{bail, Result};

use crate::analysis::Analysis;
use crate::consensus::{Issue, Source};
use crate::normalize::finding::Severity;

/// `--fail-on SEVERITY [--min-agree N]`: fail when an issue left to act on reaches
/// `severity` with at least `min_agree` agreeing families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    pub severity: Severity,
    /// At least 1: an issue has at least one family behind it.
    pub min_agree: usize,
}

impl Gate {
    /// The gate of `--fail-on` and `--min-agree` (none without `--fail-on`).
    pub fn new(fail_on: Option<Severity>, min_agree: Option<usize>) -> Option<Gate> {
        fail_on.map(|severity| Gate {
            severity,
            min_agree: min_agree.unwrap_or(1).max(1),
        })
    }

    /// Whether `issue` fails this gate (its newness aside), `agreement` being the families
    /// behind it (in the judge's `peers` mode, those that reported or confirmed it).
    fn trips(&self, issue: &Issue, agreement: usize) -> bool {
        issue.severity >= self.severity && (issue.source == Source::Quorum || agreement >= self.min_agree)
    }

    /// The issues of `analysis` that fail the gate, in report order. An issue the judge
    /// rejected stays listed, ranked last, and fails no build, for at most
    /// [`MAX_REJECTIONS_TRUSTED`] issues: past that, the rejections count.
    /// A judge under caution (it rejected everything it judged) keeps none out.
    pub fn failing<'a>(&self, analysis: &'a Analysis) -> Vec<&'a Issue> {
        let trusted = self.rejected(analysis).len() <= MAX_REJECTIONS_TRUSTED && analysis.judge.caution.is_none();
        self.tripping(analysis)
            .filter(|i| !(trusted && analysis.judge.is_rejected(&i.id)))
            .collect()
    }

    /// The issues left to act on that reach the gate, whatever the judge said.
    fn tripping<'a>(&self, analysis: &'a Analysis) -> impl Iterator<Item = &'a Issue> + 'a {
        let gate = *self;
        analysis
            .new_issues()
            .filter(move |i| gate.trips(i, analysis.judge.agreement(i)))
    }

    /// The issues that reach the gate and that the judge rejected.
    fn rejected<'a>(&self, analysis: &'a Analysis) -> Vec<&'a Issue> {
        self.tripping(analysis)
            .filter(|i| analysis.judge.is_rejected(&i.id))
            .collect()
    }
}

/// The most issues that would fail the gate that the judge's rejections keep out of it.
/// A judge can be too weak for the task (a small model rejects whatever it is shown) or
/// talked round by the code it reads; whatever it answers, it silences at most this many,
/// and past that its rejections count for the gate (they still rank last). An honest
/// judge that rejects more is told apart by a person, with `quorum suppress`.
pub const MAX_REJECTIONS_TRUSTED: usize = 2;

/// Reads `--fail-on`'s value: one of the severities, lower case.
pub fn parse_severity(word: &str) -> Result<Severity> {
    match Severity::ALL.into_iter().find(|s| s.as_str() == word) {
        Some(severity) => Ok(severity),
        None => bail!("a severity is one of critical, high, medium, low, info (not {word:?})"),
    }
}

/// How a finished run ends. When several apply, the first listed wins: with no usable
/// answer the gate means nothing; a failed gate is what CI must see even when the run
/// was incomplete (both are printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Files were sent and no model gave a usable answer on any of them (exit 3).
    NothingUsable,
    /// An issue left to act on failed the gate (exit 1).
    GateFailed,
    /// The run stopped early, or some provider did not review some file (exit 4, 0 with
    /// `--allow-partial`).
    Incomplete,
    /// Done (exit 0).
    Passed,
}

/// What a finished run tells about its end, and how it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conclusion {
    pub outcome: Outcome,
    /// One line per fact (the gate, an incomplete run), for stderr.
    pub lines: Vec<String>,
}

/// The most issue ids one gate line names.
const MAX_IDS_NAMED: usize = 20;

/// Decides how a run with `analysis` ends.
pub fn conclude(analysis: &Analysis, gate: Option<&Gate>, allow_partial: bool) -> Conclusion {
    if analysis.files_reviewed == 0 && !analysis.meta.files.is_empty() {
        return Conclusion {
            outcome: Outcome::NothingUsable,
            lines: vec!["No model produced a usable answer on any file: see the errors in the report.".into()],
        };
    }
    let mut lines = Vec::new();
    let failing = gate.map(|g| (g, g.failing(analysis)));
    if let Some(g) = gate {
        let rejected = g.rejected(analysis).len();
        if let (Some(_), 1..) = (&analysis.judge.caution, rejected) {
            lines.push(format!(
                "The judge is under caution (it rejected every issue it gave a verdict on): the {rejected} \
                 rejected issues that reach the gate count."
            ));
        } else if rejected > MAX_REJECTIONS_TRUSTED {
            lines.push(format!(
                "The judge rejected {rejected} issues that reach the gate: its rejections keep at most \
                 {MAX_REJECTIONS_TRUSTED} out of it (a judge too weak for the task, or talked round by the \
                 code it reads, rejects them all), so they count."
            ));
        }
    }
    if let Some((g, failing)) = &failing {
        lines.push(gate_line(g, failing));
    }
    let incomplete = incompleteness(analysis);
    if let Some(why) = &incomplete {
        lines.push(if allow_partial {
            format!("Incomplete run ({why}); accepted with --allow-partial.")
        } else {
            format!("Incomplete run ({why}): exit 4 (--allow-partial accepts it).")
        });
    }
    let outcome = match (
        failing.is_some_and(|(_, f)| !f.is_empty()),
        incomplete.is_some() && !allow_partial,
    ) {
        (true, _) => Outcome::GateFailed,
        (false, true) => Outcome::Incomplete,
        (false, false) => Outcome::Passed,
    };
    Conclusion { outcome, lines }
}

/// The gate's verdict, naming the issues that failed it.
fn gate_line(gate: &Gate, failing: &[&Issue]) -> String {
    let threshold = format!(
        "at {} or above with agreement ≥ {}",
        gate.severity.as_str(),
        gate.min_agree
    );
    if failing.is_empty() {
        return format!("Gate passed: no new issue {threshold}.");
    }
    let mut ids: Vec<&str> = failing.iter().take(MAX_IDS_NAMED).map(|i| i.id.as_str()).collect();
    if failing.len() > MAX_IDS_NAMED {
        ids.push("…");
    }
    format!(
        "Gate failed: {} issue{} {threshold}: {}",
        failing.len(),
        if failing.len() == 1 { "" } else { "s" },
        ids.join(", ")
    )
}

/// Why the run is incomplete: it stopped early, or some provider did not review some file
/// (a failed request, an unusable answer, a provider down). `None` when complete.
fn incompleteness(analysis: &Analysis) -> Option<String> {
    let mut why = Vec::new();
    if let Some(stopped) = &analysis.meta.stopped_early {
        why.push(format!("stopped early: {stopped}"));
    }
    if !analysis.errors.is_empty() {
        let mut providers: Vec<&str> = analysis.errors.iter().map(|e| e.provider.as_str()).collect();
        providers.sort_unstable();
        providers.dedup();
        let n = analysis.errors.len();
        let (answers, were) = if n == 1 { ("answer", "was") } else { ("answers", "were") };
        why.push(format!(
            "{n} {answers} failed or {were} unusable, from {}; the report's Errors say which",
            providers.join(", ")
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

#[cfg(test)]
mod tests;
