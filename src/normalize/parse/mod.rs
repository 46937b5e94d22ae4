//! Turning a model's raw answer text into raw findings.
//!
//! Models are asked to answer with JSON matching `config/finding.schema.json`, but what
//! comes back varies a lot: reasoning wrapped in `<think>` tags (or only the closing tag
//! survives), JSON inside a Markdown fence or between sentences of prose, trailing
//! commas, `{"issues": [...]}` instead of `{"findings": [...]}`, `startLine` or
//! `"lines": "40-44"` instead of `start_line`, `"CWE-89: …"` instead of `89`, confidence
//! as `85` or `"high"`. A single strict `serde_json::from_str` would throw away most of
//! those answers, so this module accepts all of it without panicking and returns each
//! finding as the model wrote it ([`RawFinding`]). Mapping the vocabulary and deciding
//! what is usable is the normalizer's job. When nothing usable is found, [`ParseError`]
//! says why and quotes the start of the answer.
//!
//! One stage per file: `reasoning` strips what the model thought aloud, `json` finds
//! (and repairs) the JSON in what is left, `locate` finds the list of findings in that
//! JSON, and `fields` reads each item under its many spellings, with `values` coercing
//! each value and `lines` reading the file and line range.

mod fields;
mod json;
mod lines;
mod locate;
mod values;

use serde_json::Value;

pub use fields::finding_from_object;
pub use values::cwe_from_text;

/// Characters of the answer quoted in errors.
const EXCERPT_CHARS: usize = 200;

/// The answer with the reasoning a model wrote into it (`<think>`, `<thinking>`, …)
/// taken out: the one rule, shared with the providers that record it apart.
pub fn strip_reasoning(text: &str) -> String {
    providers::split_reasoning(text).answer
}

/// The first [`EXCERPT_CHARS`] characters of an answer on one line, for an error.
pub fn excerpt(text: &str) -> String {
    providers::excerpt(text, EXCERPT_CHARS)
}

/// One finding as the model wrote it, before normalization. Every field optional: the
/// normalizer decides what is usable.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RawFinding {
    pub file: Option<String>,
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    /// The enclosing function, method or symbol, as written.
    pub function: Option<String>,
    /// Lower-cased and trimmed, as written (the normalizer maps the vocabulary).
    pub severity: Option<String>,
    /// Trimmed, as written (the normalizer maps the vocabulary).
    pub category: Option<String>,
    pub cwe: Option<u32>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub suggestion: Option<String>,
    /// 0..1; a value given as 0..100 (e.g. 85) becomes 0.85; "high"/"medium"/"low"
    /// become 0.9/0.6/0.3.
    pub confidence: Option<f32>,
}

/// The findings read from one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub findings: Vec<RawFinding>,
    /// items that were not objects or had no title/description/category at all
    pub skipped: usize,
    /// What of the answer went past the limits and was left out.
    pub cut: Cut,
}

/// The most findings read from one answer. A careful review of one file (or one part of
/// a file) rarely lists more than a few dozen; 200 leaves room for a thorough model on a
/// long file, while an answer listing thousands is flooding the report, and clustering
/// and every report would pay for each one.
pub const MAX_FINDINGS_PER_ANSWER: usize = 200;

/// What of one answer was left out because it went past a limit. The answer is still
/// used: its first [`MAX_FINDINGS_PER_ANSWER`] findings, each text field shortened to its
/// limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cut {
    /// Items of the findings list after the first [`MAX_FINDINGS_PER_ANSWER`] findings,
    /// not read.
    pub findings: usize,
    /// Text fields (title, description, suggestion, file, labels) shortened to their
    /// limit.
    pub fields: usize,
}

impl Cut {
    pub fn is_empty(&self) -> bool {
        *self == Cut::default()
    }
}

/// Why an answer yielded no list of findings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("the answer is empty")]
    Empty,
    #[error("no JSON found in the answer: {excerpt}")]
    NoJson { excerpt: String },
    #[error("the answer's JSON has no list of findings: {excerpt}")]
    NoFindingsList { excerpt: String },
    #[error(
        "none of the answer's {skipped} findings could be read (not objects, or no title, description or category)"
    )]
    NoReadableFindings { skipped: usize },
}

/// The JSON values in an answer that is not a list of findings (a judge's verdict),
/// found with the same tolerance: reasoning stripped, the whole text, fenced blocks, or
/// bracketed regions in prose, trailing commas repaired. Empty when there is none.
pub fn json_values(text: &str) -> Vec<Value> {
    let answer = strip_reasoning(text.trim_start_matches('\u{feff}'));
    json::json_values(answer.trim(), 0)
}

/// Reads the findings out of a model's answer: strips reasoning, finds the JSON (whole
/// text, fenced block, or a bracketed region inside prose), locates the list of findings
/// and reads each item's fields under their many spellings. Never panics.
pub fn parse_findings(text: &str) -> Result<Parsed, ParseError> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let answer = strip_reasoning(text);
    let answer = answer.trim();
    if answer.is_empty() {
        return Err(ParseError::NoJson { excerpt: excerpt(text) });
    }
    let items = json::find_findings(answer, 0)?;
    let parsed = collect_findings(items);
    // A list of which nothing could be read is not "no problems found".
    if parsed.findings.is_empty() && parsed.skipped > 0 {
        return Err(ParseError::NoReadableFindings {
            skipped: parsed.skipped,
        });
    }
    Ok(parsed)
}

/// Turns the items of the findings list into findings, counting the unusable ones; the
/// items after the first [`MAX_FINDINGS_PER_ANSWER`] findings are counted, not read.
fn collect_findings(items: Vec<Value>) -> Parsed {
    let total = items.len();
    let mut findings = Vec::with_capacity(total.min(MAX_FINDINGS_PER_ANSWER));
    let mut skipped = 0;
    let mut cut = Cut::default();
    for item in items {
        if findings.len() == MAX_FINDINGS_PER_ANSWER {
            break;
        }
        match item.as_object().map(fields::read_finding) {
            Some((finding, shortened)) if has_substance(&finding) => {
                cut.fields += shortened;
                findings.push(finding);
            }
            _ => skipped += 1,
        }
    }
    cut.findings = total - findings.len() - skipped;
    Parsed { findings, skipped, cut }
}

fn has_substance(finding: &RawFinding) -> bool {
    finding.title.is_some() || finding.description.is_some() || finding.category.is_some()
}

#[cfg(test)]
mod tests;
