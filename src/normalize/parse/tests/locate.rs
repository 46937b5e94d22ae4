//! Locating the list of findings.

use super::*;

#[test]
fn top_level_array() {
    let text =
        r#"[{"title": "Secret in repo", "category": "secrets"}, {"title": "Debug mode on", "category": "config"}]"#;
    let parsed = parse_findings(text).expect("array should parse");
    assert_eq!(parsed.findings.len(), 2);
    assert_eq!(parsed.findings[1].category.as_deref(), Some("config"));
}

#[test]
fn list_keys_are_case_insensitive() {
    let text = r#"{"Issues": [{"title": "Integer overflow in length"}]}"#;
    assert_eq!(only(text).title.as_deref(), Some("Integer overflow in length"));
}

#[test]
fn alternative_list_keys() {
    for key in ["vulnerabilities", "results", "problems", "FINDINGS"] {
        let text = format!(r#"{{"{key}": [{{"title": "Weak TLS config"}}]}}"#);
        assert_eq!(only(&text).title.as_deref(), Some("Weak TLS config"), "key {key}");
    }
}

#[test]
fn findings_key_wins_over_title_like_summary() {
    let text = r#"{"summary": "Two issues found", "findings": [{"title": "A"}, {"title": "B"}]}"#;
    assert_eq!(parse_findings(text).map(|p| p.findings.len()), Ok(2));
}

#[test]
fn wrapped_list() {
    let text = r#"{"review": {"model": "x", "findings": [{"title": "SSRF via webhook URL"}]}}"#;
    assert_eq!(only(text).title.as_deref(), Some("SSRF via webhook URL"));
}

#[test]
fn single_finding_object() {
    let text = r#"{"title": "Unsafe deserialization", "file": "src/api.rs", "line": 88, "severity": "high"}"#;
    let finding = only(text);
    assert_eq!(finding.title.as_deref(), Some("Unsafe deserialization"));
    assert_eq!(finding.start_line, Some(88));
}

#[test]
fn empty_findings_list_is_ok() {
    assert_eq!(
        parse_findings(r#"{"findings": []}"#),
        Ok(Parsed {
            findings: vec![],
            skipped: 0,
            cut: Cut::default(),
        })
    );
    assert_eq!(
        parse_findings("No problems found.\n```json\n{\"findings\": []}\n```").map(|p| p.findings.len()),
        Ok(0)
    );
}

#[test]
fn null_findings_list_is_empty() {
    assert_eq!(parse_findings(r#"{"findings": null}"#).map(|p| p.findings.len()), Ok(0));
}

#[test]
fn unusable_items_are_skipped() {
    let text = r#"{"findings": [
        "SQL injection in src/db.rs",
        42,
        {"file": "src/db.rs", "line": 40},
        {"category": "injection"},
        {"description": "Token compared with ==, leaking timing."}
    ]}"#;
    let parsed = parse_findings(text).expect("should parse");
    assert_eq!(parsed.findings.len(), 2);
    assert_eq!(parsed.skipped, 3);
}

#[test]
fn a_list_of_which_nothing_is_readable_is_an_error() {
    let e = parse_findings(r#"{"findings": ["SQL injection on line 2", {"foo": 1}]}"#).unwrap_err();
    assert_eq!(e, ParseError::NoReadableFindings { skipped: 2 });
}
