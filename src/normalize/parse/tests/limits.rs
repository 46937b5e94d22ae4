//! Limits: hostile answers.

use super::*;

/// An answer of `count` findings numbered in their titles.
fn numbered_findings(count: usize) -> String {
    let items: Vec<String> = (0..count)
        .map(|i| format!(r#"{{"title": "Finding {i}", "start_line": 3, "cwe": 89}}"#))
        .collect();
    format!(r#"{{"findings": [{}]}}"#, items.join(","))
}

#[test]
fn an_answer_past_the_findings_limit_keeps_its_first_findings_and_counts_the_rest() {
    let parsed = parse_findings(&numbered_findings(10_000)).expect("should parse");
    assert_eq!(parsed.findings.len(), MAX_FINDINGS_PER_ANSWER);
    assert_eq!(parsed.findings[0].title.as_deref(), Some("Finding 0"));
    assert_eq!(
        parsed.findings[MAX_FINDINGS_PER_ANSWER - 1].title.as_deref(),
        Some(format!("Finding {}", MAX_FINDINGS_PER_ANSWER - 1).as_str())
    );
    assert_eq!(
        parsed.cut,
        Cut {
            findings: 10_000 - MAX_FINDINGS_PER_ANSWER,
            fields: 0
        }
    );
    let within = parse_findings(&numbered_findings(MAX_FINDINGS_PER_ANSWER)).expect("should parse");
    assert!(within.cut.is_empty(), "an answer at the limit loses nothing");
}

#[test]
fn unreadable_items_do_not_count_as_cut() {
    let mut items = vec!["42".to_string(); 3];
    items.extend((0..MAX_FINDINGS_PER_ANSWER + 5).map(|i| format!(r#"{{"title": "F{i}"}}"#)));
    let parsed = parse_findings(&format!("[{}]", items.join(","))).expect("should parse");
    assert_eq!((parsed.findings.len(), parsed.skipped), (MAX_FINDINGS_PER_ANSWER, 3));
    assert_eq!(parsed.cut.findings, 5);
}

#[test]
fn long_fields_are_shortened_on_a_char_boundary_and_counted() {
    let title = "é".repeat(10_000);
    let description = "x ".repeat(1_000_000);
    let text = serde_json::json!({"findings": [{
        "title": title, "description": description, "suggestion": "Use a prepared statement.",
        "function": "f".repeat(MAX_LABEL_CHARS)
    }]})
    .to_string();
    let parsed = parse_findings(&text).expect("should parse");
    let finding = &parsed.findings[0];
    let title = finding.title.as_deref().unwrap_or_default();
    assert_eq!(title.chars().count(), MAX_TITLE_CHARS);
    assert!(title.ends_with("é…"), "{title}");
    assert_eq!(
        finding.description.as_deref().map(|d| d.chars().count()),
        Some(MAX_DESCRIPTION_CHARS)
    );
    assert_eq!(finding.suggestion.as_deref(), Some("Use a prepared statement."));
    assert_eq!(
        finding.function.as_deref().map(str::len),
        Some(MAX_LABEL_CHARS),
        "a field at its limit is kept whole"
    );
    assert_eq!(parsed.cut, Cut { findings: 0, fields: 2 });
}

/// Bytes of the hostile bodies below: the providers' default limit on a body read.
const HOSTILE_BODY_BYTES: usize = 4 * 1024 * 1024;

#[test]
fn a_body_of_unclosed_brackets_fails_cleanly() {
    for bracket in ["{", "[", "[{", "{\"a\":["] {
        let body = bracket.repeat(HOSTILE_BODY_BYTES / bracket.len());
        let error = parse_findings(&body).expect_err("nothing to read");
        assert!(matches!(error, ParseError::NoJson { .. }), "{bracket}: {error}");
        assert!(error.to_string().chars().count() < 300, "the error quotes an excerpt");
    }
}

#[test]
fn a_body_of_deeply_nested_brackets_fails_cleanly() {
    let depth = HOSTILE_BODY_BYTES / 2;
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let body = format!(
            "Here: {}{}",
            open.repeat(depth / open.len()),
            close.repeat(depth / open.len())
        );
        assert!(parse_findings(&body).is_err(), "{open}: too deep to be a findings list");
    }
}

#[test]
fn many_reasoning_blocks_are_removed_in_one_pass() {
    let blocks = "<think>a</think>".repeat(HOSTILE_BODY_BYTES / 16);
    let text = format!("{blocks} {}", numbered_findings(2));
    assert_eq!(parse_findings(&text).map(|p| p.findings.len()), Ok(2));
    let unclosed = "<thinking>".repeat(HOSTILE_BODY_BYTES / 10);
    assert_eq!(parse_findings(&unclosed).map(|p| p.findings.len()).ok(), None);
}
