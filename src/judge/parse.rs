//! A judge's answer: reasoning stripped, the JSON found in fences or prose
//! (`normalize::parse::json_values`), read as findings are; but the verdict only from a
//! top-level object, only as one of the schema's words, and only when every verdict in
//! the answer agrees (an answer can quote untrusted text holding a verdict).

use serde_json::{Map, Value};

use super::{Verdict, MAX_REASON_CHARS};
use crate::normalize::finding::shortened;
use crate::normalize::parse::{excerpt, json_values};

/// The names models give the verdict.
const VERDICT_KEYS: &[&str] = &["verdict", "decision", "judgement", "judgment", "result", "assessment"];
/// The names models give the reason.
const REASON_KEYS: &[&str] = &[
    "reason",
    "reasoning",
    "explanation",
    "rationale",
    "justification",
    "why",
];

/// A verdict and its reason, as the judge gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedVerdict {
    pub verdict: Verdict,
    pub reason: String,
}

/// Why an answer is not a verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerdictError {
    #[error("the answer is empty")]
    Empty,
    #[error("no JSON with a verdict found in the answer: {excerpt}")]
    NoVerdict { excerpt: String },
    #[error("the verdict {value:?} is none of confirmed, rejected, uncertain")]
    UnknownVerdict { value: String },
    #[error("the answer holds conflicting verdicts: {excerpt}")]
    Conflicting { excerpt: String },
}

/// Reads `{"verdict": "confirmed" | "rejected" | "uncertain", "reason": "…"}` out of an
/// answer, whatever surrounds it. Only a top-level JSON value counts (a verdict nested in
/// another value may be one the judge quotes), and an answer whose verdict objects
/// disagree is no verdict: a judge that quotes a planted `{"verdict": "rejected"}` before
/// its own is never read as rejecting. Never panics.
pub fn parse_verdict(text: &str) -> Result<ParsedVerdict, VerdictError> {
    if text.trim().is_empty() {
        return Err(VerdictError::Empty);
    }
    let values = json_values(text);
    let found: Vec<(&Map<String, Value>, &Value)> = values.iter().filter_map(verdict_object).collect();
    let Some(&(object, raw)) = found.first() else {
        return Err(VerdictError::NoVerdict { excerpt: excerpt(text) });
    };
    if found.iter().any(|(_, other)| verdict_word(other) != verdict_word(raw)) {
        return Err(VerdictError::Conflicting { excerpt: excerpt(text) });
    }
    let verdict = verdict_word(raw).ok_or_else(|| VerdictError::UnknownVerdict {
        value: shortened(&value_text(raw), 100),
    })?;
    let reason = REASON_KEYS
        .iter()
        .find_map(|k| field(object, k))
        .map(value_text)
        .unwrap_or_default();
    Ok(ParsedVerdict {
        verdict,
        reason: shortened(reason.trim(), MAX_REASON_CHARS),
    })
}

/// A top-level object with a verdict field, and that field (objects inside it, or inside
/// a list, are never looked into).
fn verdict_object(value: &Value) -> Option<(&Map<String, Value>, &Value)> {
    let Value::Object(object) = value else {
        return None;
    };
    VERDICT_KEYS
        .iter()
        .find_map(|k| field(object, k))
        .filter(|v| !matches!(v, Value::Object(_) | Value::Array(_) | Value::Null))
        .map(|raw| (object, raw))
}

/// A field by name, ignoring case.
fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The verdict a word means: exactly one of the schema's words, whatever its case. Any
/// other word is read as nothing ("not a false positive", "cannot be exploited" and the
/// like say too little to be sure which way they go).
fn verdict_word(raw: &Value) -> Option<Verdict> {
    let Value::String(word) = raw else {
        return None;
    };
    [Verdict::Confirmed, Verdict::Rejected, Verdict::Uncertain]
        .into_iter()
        .find(|v| word.trim().eq_ignore_ascii_case(v.as_str()))
}
