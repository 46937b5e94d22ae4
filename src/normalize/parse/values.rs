//! Coercing one field's value, however the model typed it: text, severity, CWE,
//! confidence.

use serde_json::Value;

use super::fields::{Fields, SEVERITY_KEYS};
use super::lines::{leading_number, positive};

/// Severity read from a key other than `severity` (`impact`, `risk`…) must be a short
/// label; a sentence there is a description of the impact, not a severity.
const MAX_SEVERITY_LABEL_CHARS: usize = 24;

/// A trimmed, non-empty string; an array of strings is joined with newlines (models
/// sometimes give a suggestion as a list of steps).
pub(super) fn prose_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => non_empty(text),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|item| item.as_str().and_then(non_empty))
                .collect();
            (!parts.is_empty()).then(|| parts.join("\n"))
        }
        _ => None,
    }
}

/// A trimmed, non-empty string, or the first such string of an array.
pub(super) fn label_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => non_empty(text),
        Value::Array(items) => items.iter().find_map(|item| item.as_str().and_then(non_empty)),
        _ => None,
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Severity as a lower-cased label; numbers (a priority of 1, a CVSS score) are kept as
/// written for the normalizer.
pub(super) fn severity_in(fields: &Fields) -> Option<String> {
    fields.first_with_alias(SEVERITY_KEYS, |alias, value| {
        let label = match value {
            Value::Number(number) => number.to_string(),
            _ => label_text(value)?,
        };
        let is_short = label.chars().count() <= MAX_SEVERITY_LABEL_CHARS;
        (alias == "severity" || is_short).then(|| label.to_lowercase())
    })
}

// --- CWE

/// A CWE number from `89`, `"89"`, `"CWE-89"`, `"cwe 89"`, `"CWE-89: Improper…"`, or the
/// first parsable entry of an array.
pub(super) fn cwe_of(value: &Value) -> Option<u32> {
    match value {
        Value::Number(number) => positive(number.as_u64()?),
        Value::String(text) => cwe_from_text(text),
        Value::Array(items) => items.iter().find_map(cwe_of),
        _ => None,
    }
}

pub fn cwe_from_text(text: &str) -> Option<u32> {
    let text = text.trim();
    if let Some((number, rest)) = leading_number(text) {
        return if rest.trim().is_empty() { positive(number) } else { None };
    }
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("cwe") {
        rest = rest.get(at + 3..).unwrap_or("");
        let digits = rest.trim_start_matches(['-', '_', ':', '#', ' ']);
        if let Some((number, _)) = leading_number(digits) {
            return positive(number);
        }
    }
    None
}

// --- confidence

/// Confidence in 0..1 from a fraction, a percentage (85 or "85%"), or a word.
pub(super) fn confidence_of(value: &Value) -> Option<f32> {
    match value {
        Value::Number(number) => scale_confidence(number.as_f64()?),
        Value::String(text) => confidence_from_text(text),
        _ => None,
    }
}

fn confidence_from_text(text: &str) -> Option<f32> {
    let text = text.trim().to_ascii_lowercase();
    match text.as_str() {
        "high" => Some(0.9),
        "medium" | "med" | "moderate" => Some(0.6),
        "low" => Some(0.3),
        _ => match text.strip_suffix('%') {
            Some(percent) => percent_confidence(percent.trim().parse().ok()?),
            None => scale_confidence(text.parse().ok()?),
        },
    }
}

/// A fraction in 0..1 as is; a number in (1, 100] as a percentage; anything else none.
fn scale_confidence(value: f64) -> Option<f32> {
    if !value.is_finite() || value < 0.0 {
        None
    } else if value <= 1.0 {
        Some(value as f32)
    } else {
        percent_confidence(value)
    }
}

fn percent_confidence(percent: f64) -> Option<f32> {
    (percent.is_finite() && (0.0..=100.0).contains(&percent)).then(|| (percent / 100.0) as f32)
}
