//! A judge's answer read as tolerantly as findings are: reasoning stripped, the JSON
//! found in fences or prose (`normalize::parse::json_values`), the verdict and reason
//! under the names and spellings models use.

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
}

/// Reads `{"verdict": "confirmed" | "rejected" | "uncertain", "reason": "…"}` out of an
/// answer, whatever surrounds it. Never panics.
pub fn parse_verdict(text: &str) -> Result<ParsedVerdict, VerdictError> {
    if text.trim().is_empty() {
        return Err(VerdictError::Empty);
    }
    let values = json_values(text);
    let Some((object, raw)) = values.iter().find_map(verdict_object) else {
        return Err(VerdictError::NoVerdict { excerpt: excerpt(text) });
    };
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

/// The first object (the value itself, or one inside a list or under one key) with a
/// verdict field, and that field.
fn verdict_object(value: &Value) -> Option<(&Map<String, Value>, &Value)> {
    match value {
        Value::Object(object) => match VERDICT_KEYS
            .iter()
            .find_map(|k| field(object, k))
            .filter(|v| matches!(v, Value::String(_) | Value::Bool(_)))
        {
            Some(raw) => Some((object, raw)),
            None => object.values().find_map(|v| match v {
                Value::Object(_) => verdict_object(v),
                _ => None,
            }),
        },
        Value::Array(items) => items.iter().find_map(verdict_object),
        _ => None,
    }
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

/// The verdict a word means: `confirmed`, `Confirm`, `true positive`, `REJECTED`,
/// `false_positive`, `unsure`, … (a boolean reads as "is it real?").
fn verdict_word(raw: &Value) -> Option<Verdict> {
    if let Value::Bool(real) = raw {
        return Some(if *real { Verdict::Confirmed } else { Verdict::Rejected });
    }
    let text = value_text(raw).to_ascii_lowercase();
    let words: String = text
        .chars()
        .map(|c| if c.is_ascii_alphabetic() { c } else { ' ' })
        .collect();
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| words.starts_with(p));
    if starts(&[
        "false positive",
        "not real",
        "not a",
        "invalid",
        "reject",
        "refute",
        "dismiss",
    ]) {
        Some(Verdict::Rejected)
    } else if starts(&["true positive", "confirm", "valid", "real", "accept"]) {
        Some(Verdict::Confirmed)
    } else if starts(&[
        "uncertain",
        "unsure",
        "unknown",
        "unclear",
        "inconclusive",
        "undecided",
        "cannot",
    ]) {
        Some(Verdict::Uncertain)
    } else {
        None
    }
}
