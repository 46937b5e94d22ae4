//! The other fields, under their aliases.

use super::*;

#[test]
fn file_aliases() {
    for key in ["path", "filename", "file_path", "filePath", "File"] {
        let finding = with_fields(&format!(r#""{key}": " src/x.rs ""#));
        assert_eq!(finding.file.as_deref(), Some("src/x.rs"), "key {key}");
    }
}

#[test]
fn severity_aliases_are_lower_cased() {
    for key in ["severity", "risk", "level", "impact", "priority", "Severity"] {
        let finding = with_fields(&format!(r#""{key}": " HIGH ""#));
        assert_eq!(finding.severity.as_deref(), Some("high"), "key {key}");
    }
}

#[test]
fn impact_sentence_is_not_a_severity() {
    let finding = with_fields(r#""impact": "An attacker can read every row of the users table""#);
    assert_eq!(finding.severity, None);
    let finding = with_fields(r#""impact": "An attacker can read every row", "risk": "Critical""#);
    assert_eq!(finding.severity.as_deref(), Some("critical"));
}

#[test]
fn category_aliases() {
    for key in [
        "category",
        "type",
        "kind",
        "vulnerability_type",
        "vulnerabilityType",
        "class",
    ] {
        let finding = with_fields(&format!(r#""{key}": " SQL Injection ""#));
        assert_eq!(finding.category.as_deref(), Some("SQL Injection"), "key {key}");
    }
}

#[test]
fn cwe_as_integer() {
    assert_eq!(with_fields(r#""cwe": 89"#).cwe, Some(89));
}

#[test]
fn cwe_as_numeric_string() {
    assert_eq!(with_fields(r#""cwe": "89""#).cwe, Some(89));
}

#[test]
fn cwe_with_prefix() {
    assert_eq!(with_fields(r#""cwe_id": "CWE-89""#).cwe, Some(89));
    assert_eq!(with_fields(r#""cweId": "cwe 22""#).cwe, Some(22));
}

#[test]
fn cwe_with_name() {
    let finding = with_fields(r#""cwe": "CWE-89: Improper Neutralization of Special Elements used in an SQL Command""#);
    assert_eq!(finding.cwe, Some(89));
}

#[test]
fn cwe_array_takes_first_parsable() {
    assert_eq!(with_fields(r#""cwe": ["n/a", "CWE-79", 80]"#).cwe, Some(79));
}

#[test]
fn cwe_unparsable_is_none() {
    for value in [r#""N/A""#, r#""none""#, r#""OWASP A03:2021""#, "0", "-89", "{}"] {
        assert_eq!(with_fields(&format!(r#""cwe": {value}"#)).cwe, None, "value {value}");
    }
}

#[test]
fn title_aliases() {
    for key in ["issue", "name", "summary", "headline", "vulnerability"] {
        let text = format!(r#"[{{"{key}": "Command injection"}}]"#);
        assert_eq!(only(&text).title.as_deref(), Some("Command injection"), "key {key}");
    }
}

#[test]
fn description_aliases() {
    for key in ["details", "detail", "message", "explanation", "analysis", "reason"] {
        let finding = with_fields(&format!(r#""{key}": "Input reaches sh -c.""#));
        assert_eq!(
            finding.description.as_deref(),
            Some("Input reaches sh -c."),
            "key {key}"
        );
    }
}

#[test]
fn suggestion_aliases() {
    for key in ["fix", "recommendation", "remediation", "mitigation", "Suggestion"] {
        let finding = with_fields(&format!(r#""{key}": "Pass arguments as a list.""#));
        assert_eq!(
            finding.suggestion.as_deref(),
            Some("Pass arguments as a list."),
            "key {key}"
        );
    }
}

#[test]
fn suggestion_steps_are_joined() {
    let finding = with_fields(r#""fix": ["Validate the path.", "Reject `..` components."]"#);
    assert_eq!(
        finding.suggestion.as_deref(),
        Some("Validate the path.\nReject `..` components.")
    );
}

#[test]
fn confidence_fraction() {
    assert!(close(with_fields(r#""confidence": 0.75"#).confidence, 0.75));
}

#[test]
fn confidence_percentage() {
    assert!(close(with_fields(r#""confidence": 85"#).confidence, 0.85));
    assert!(close(with_fields(r#""confidence": "85%""#).confidence, 0.85));
    assert!(close(with_fields(r#""confidence": "0.4""#).confidence, 0.4));
}

#[test]
fn confidence_words() {
    assert!(close(with_fields(r#""confidence": "High""#).confidence, 0.9));
    assert!(close(with_fields(r#""confidence": "medium""#).confidence, 0.6));
    assert!(close(with_fields(r#""confidence": " low ""#).confidence, 0.3));
}

#[test]
fn confidence_out_of_range_is_none() {
    assert_eq!(with_fields(r#""confidence": 150"#).confidence, None);
    assert_eq!(with_fields(r#""confidence": -0.5"#).confidence, None);
    assert_eq!(with_fields(r#""confidence": "sure""#).confidence, None);
}

#[test]
fn nulls_and_empty_strings_are_none() {
    let finding = with_fields(
        r#""file": "", "start_line": null, "severity": "  ", "category": null, "cwe": null, "description": "", "suggestion": null, "confidence": null"#,
    );
    assert_eq!(
        finding,
        RawFinding {
            title: Some("SQL injection".into()),
            ..RawFinding::default()
        }
    );
}

#[test]
fn null_alias_falls_through_to_next() {
    let finding = only(
        r#"[{"title": null, "name": "Hard-coded password", "description": "   ", "message": "Found in config."}]"#,
    );
    assert_eq!(finding.title.as_deref(), Some("Hard-coded password"));
    assert_eq!(finding.description.as_deref(), Some("Found in config."));
}

#[test]
fn function_aliases() {
    for members in [
        r#""function": "lookupUser""#,
        r#""function_name": "lookupUser""#,
        r#""method": " lookupUser ""#,
        r#""symbol": "lookupUser""#,
        r#""functions": ["lookupUser", "other"]"#,
    ] {
        assert_eq!(
            with_fields(members).function.as_deref(),
            Some("lookupUser"),
            "{members}"
        );
    }
    assert_eq!(with_fields(r#""function": "  ""#).function, None);
}

#[test]
fn key_normalization() {
    assert_eq!(normalize_key("startLine"), "startline");
    assert_eq!(normalize_key("line_start"), "linestart");
    assert_eq!(normalize_key("start-line"), "startline");
    assert_eq!(normalize_key("Start Line"), "startline");
}
