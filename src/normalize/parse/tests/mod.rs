//! Tests of reading answers: helpers and the whole answer here, each stage in its own file.

use super::fields::normalize_key;
use super::json::remove_trailing_commas;
use super::EXCERPT_CHARS;
use super::*;
use crate::normalize::finding::{MAX_DESCRIPTION_CHARS, MAX_LABEL_CHARS, MAX_TITLE_CHARS};

mod fields;
mod json;
mod limits;
mod lines;
mod locate;
mod reasoning;

/// Parses `text` and returns its only finding.
fn only(text: &str) -> RawFinding {
    let parsed = parse_findings(text).expect("answer should parse");
    assert_eq!(parsed.findings.len(), 1, "findings: {:?}", parsed.findings);
    parsed.findings.into_iter().next().unwrap_or_default()
}

/// A finding object with the given extra members, as one item of `{"findings": […]}`.
fn with_fields(members: &str) -> RawFinding {
    only(&format!(r#"{{"findings": [{{"title": "SQL injection", {members}}}]}}"#))
}

fn close(actual: Option<f32>, expected: f32) -> bool {
    actual.is_some_and(|value| (value - expected).abs() < 1e-6)
}

const SCHEMA_ANSWER: &str = r#"{
  "findings": [
{
  "file": "src/db.rs",
  "start_line": 40,
  "end_line": 44,
  "severity": "high",
  "category": "injection",
  "cwe": 89,
  "title": "SQL built by string formatting",
  "description": "The user id is interpolated into the query with format!, so a crafted id can change the statement.",
  "suggestion": "Use a parameterised query.",
  "confidence": 0.8
}
  ]
}"#;

// --- the whole answer

#[test]
fn schema_conformant_answer() {
    let finding = only(SCHEMA_ANSWER);
    assert_eq!(
        finding,
        RawFinding {
            file: Some("src/db.rs".into()),
            start_line: Some(40),
            end_line: Some(44),
            function: None,
            severity: Some("high".into()),
            category: Some("injection".into()),
            cwe: Some(89),
            title: Some("SQL built by string formatting".into()),
            description: Some(
                "The user id is interpolated into the query with format!, so a crafted id can change the statement."
                    .into()
            ),
            suggestion: Some("Use a parameterised query.".into()),
            confidence: Some(0.8),
        }
    );
}

#[test]
fn empty_answer_is_empty() {
    assert_eq!(parse_findings(""), Err(ParseError::Empty));
    assert_eq!(parse_findings("  \n\t "), Err(ParseError::Empty));
}

#[test]
fn prose_without_json_is_no_json() {
    let error = parse_findings("I reviewed the code and found no security issues.").unwrap_err();
    assert_eq!(
        error,
        ParseError::NoJson {
            excerpt: "I reviewed the code and found no security issues.".into()
        }
    );
}

#[test]
fn json_without_findings_list_is_no_findings_list() {
    let error = parse_findings(r#"{"status": "ok", "files_reviewed": 3}"#).unwrap_err();
    assert!(matches!(error, ParseError::NoFindingsList { ref excerpt } if excerpt.contains("files_reviewed")));
}

#[test]
fn embedded_json_without_findings_list_is_no_findings_list() {
    let text = "Summary of what I checked:\n```json\n{\"files_reviewed\": 3, \"status\": \"clean\"}\n```";
    assert!(matches!(parse_findings(text), Err(ParseError::NoFindingsList { .. })));
}

#[test]
fn excerpt_is_short_and_char_boundary_safe() {
    let text = "é".repeat(500) + " ünïcödé 🦀🦀🦀";
    let Err(ParseError::NoJson { excerpt }) = parse_findings(&text) else {
        panic!("expected NoJson");
    };
    assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1);
    assert!(excerpt.ends_with('…'));
}

#[test]
fn excerpt_collapses_whitespace() {
    assert_eq!(excerpt("no\n\n  json   here"), "no json here");
}
