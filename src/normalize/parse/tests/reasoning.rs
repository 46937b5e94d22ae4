//! Stripping reasoning.

use super::*;

#[test]
fn think_tags_inside_a_json_answer_are_content() {
    let text = r#"{"findings":[{"title":"model output containing </think> is trusted","description":"The <think> block is echoed to users.","start_line":3}]}"#;
    let parsed = parse_findings(text).unwrap();
    assert_eq!(parsed.findings.len(), 1);
    assert!(parsed.findings[0].title.as_deref().unwrap().contains("</think>"));
}

#[test]
fn leading_think_block_is_stripped() {
    let text = "<think>\nThe query on line 40 uses format!, so {user} ends up in SQL. \
                Let me write [the] JSON: {\"draft\": true}\n</think>\n\n"
        .to_string()
        + SCHEMA_ANSWER;
    assert_eq!(only(&text).cwe, Some(89));
}

#[test]
fn lone_closing_think_tag_drops_reasoning_before_it() {
    let text = "Okay, the user wants a review. Maybe {\"findings\": []} is right? No, line 40 is bad.\n</think>\n\n"
        .to_string()
        + SCHEMA_ANSWER;
    assert_eq!(only(&text).start_line, Some(40));
}

#[test]
fn thinking_block_is_stripped() {
    let text = "<thinking>I should check the SQL [findings: none yet]</thinking>\n".to_string() + SCHEMA_ANSWER;
    assert_eq!(only(&text).title.as_deref(), Some("SQL built by string formatting"));
}

#[test]
fn think_tags_are_case_insensitive() {
    let text = "<THINK>hmm {\"findings\": []}</Think>".to_string() + SCHEMA_ANSWER;
    assert_eq!(only(&text).end_line, Some(44));
}

#[test]
fn unclosed_think_is_no_json() {
    let text = "<think>\nLet me look at src/db.rs. The function builds {\"query\": ";
    assert!(matches!(parse_findings(text), Err(ParseError::NoJson { .. })));
    assert!(matches!(parse_findings("<think>"), Err(ParseError::NoJson { .. })));
}

#[test]
fn strip_reasoning_keeps_text_around_blocks() {
    assert_eq!(strip_reasoning("a<think>b</think>c"), "ac");
    assert_eq!(strip_reasoning("reasoning</think>answer"), "answer");
    assert_eq!(strip_reasoning("answer<think>cut off"), "answer");
}
