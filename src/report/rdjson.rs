//! `report.rdjson` and `report.rdjsonl`: the issues in reviewdog's Diagnostic Format, so
//! `reviewdog -f=rdjson` (or `-f=rdjsonl`) comments on a pull request's lines.
//!
//! One diagnostic per reported issue (after triage: suppressed issues and those of the
//! `--baseline` are left out, as in the table), at its lines (start and end, linewise),
//! with its severity, a message that carries the agreement and each model's words, the
//! CWE as its code, and `quorum` as its source. No `suggestions`: a model's fix is free
//! text with no exact lines to replace (`Finding::suggestion`), and reviewdog would apply a
//! suggestion verbatim, so the fix goes in the message instead.
//!
//! reviewdog posts the message as Markdown in a pull request comment: what models wrote
//! is escaped (`md_text`), so an answer cannot add links, images or HTML there.

use anyhow::Result;
use serde_json::{json, Value};

use super::{cwe_url, explanation, fix, md_text, RepoPath};
use crate::analysis::Analysis;
use crate::consensus::Issue;
use crate::normalize::finding::Severity;

/// The diagnostics' source, as reviewdog names it in its comments.
const SOURCE_NAME: &str = "quorum";
const SOURCE_URL: &str = "https://github.com/quorum-review/quorum";
/// The most characters of one model's words in a message: a comment stays readable
/// with four models.
const MAX_MODEL_WORDS: usize = 240;

/// reviewdog's severities (`reviewdog.rdf.Severity`).
const ERROR: &str = "ERROR";
const WARNING: &str = "WARNING";
const INFO: &str = "INFO";

/// The rdjson document (a `DiagnosticResult`), pretty-printed.
pub fn rdjson(a: &Analysis, repo: &RepoPath) -> Result<String> {
    let result = json!({
        "source": {"name": SOURCE_NAME, "url": SOURCE_URL},
        "diagnostics": a.issues.iter().map(|i| judged(diagnostic(i, repo), a, i)).collect::<Vec<_>>(),
    });
    Ok(serde_json::to_string_pretty(&result)? + "\n")
}

/// The rdjsonl stream: one `Diagnostic` per line.
pub fn rdjsonl(a: &Analysis, repo: &RepoPath) -> Result<String> {
    let mut out = String::new();
    for issue in &a.issues {
        out.push_str(&serde_json::to_string(&judged(diagnostic(issue, repo), a, issue))?);
        out.push('\n');
    }
    Ok(out)
}

/// The diagnostic with the judge's verdict at the end of its message, if judged.
fn judged(mut diagnostic: Value, a: &Analysis, issue: &Issue) -> Value {
    if let Some(Value::String(message)) = diagnostic.get_mut("message") {
        for line in super::judge_lines(a, issue) {
            message.push_str(&format!("\n\n{}", md_text(&line)));
        }
    }
    diagnostic
}

/// reviewdog's severity of an issue: the same split as SARIF's levels.
fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => ERROR,
        Severity::Medium => WARNING,
        Severity::Low | Severity::Info => INFO,
    }
}

fn diagnostic(issue: &Issue, repo: &RepoPath) -> Value {
    let mut location = json!({"path": repo.of(&issue.file)});
    if let Some(start) = issue.start_line {
        let end = issue.end_line.unwrap_or(start).max(start);
        // Lines without columns: reviewdog reads the range linewise, end line included.
        location["range"] = json!({"start": {"line": start}, "end": {"line": end}});
    }
    let mut diagnostic = json!({
        "message": message(issue),
        "location": location,
        "severity": severity(issue.severity),
        "source": {"name": SOURCE_NAME, "url": SOURCE_URL},
    });
    if let Some(cwe) = issue.cwe {
        diagnostic["code"] = json!({"value": format!("CWE-{cwe}"), "url": cwe_url(cwe)});
    }
    diagnostic
}

/// The title, severity and agreement; the explanation and fix; then each model's words.
fn message(issue: &Issue) -> String {
    let who = match &issue.check {
        Some(_) => "found by Quorum's own check, not by a model".to_string(),
        None => format!(
            "agreed by {} of {} independent models: {}",
            issue.agreement.count,
            issue.agreement.of,
            issue.agreement.providers.join(", ")
        ),
    };
    let mut text = format!(
        "{} ({} severity; {})",
        md_text(&issue.title),
        issue.severity.as_str(),
        md_text(&who)
    );
    if let Some(why) = explanation(issue) {
        text.push_str(&format!("\n\n{}", md_text(&shortened(why))));
    }
    if let Some(fix) = fix(issue) {
        text.push_str(&format!("\n\nFix: {}", md_text(&shortened(fix))));
    }
    if issue.findings.len() > 1 {
        text.push('\n');
        for finding in &issue.findings {
            let words = format!("{}: {}", finding.title.trim(), finding.description.trim());
            text.push_str(&format!(
                "\n- {}: {}",
                md_text(&finding.provider),
                md_text(&shortened(&words))
            ));
        }
    }
    text
}

/// `text` cut to [`MAX_MODEL_WORDS`] characters, with an ellipsis when cut.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(MAX_MODEL_WORDS) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_map_to_reviewdogs() {
        assert_eq!(severity(Severity::Critical), ERROR);
        assert_eq!(severity(Severity::High), ERROR);
        assert_eq!(severity(Severity::Medium), WARNING);
        assert_eq!(severity(Severity::Low), INFO);
        assert_eq!(severity(Severity::Info), INFO);
    }

    #[test]
    fn long_words_are_shortened_on_a_character_boundary() {
        let long = "é".repeat(MAX_MODEL_WORDS + 5);
        let cut = shortened(&long);
        assert_eq!(cut.chars().count(), MAX_MODEL_WORDS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(shortened("short"), "short");
    }
}
