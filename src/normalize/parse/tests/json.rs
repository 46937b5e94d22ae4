//! Finding the JSON in an answer.

use super::*;

#[test]
fn json_fence() {
    let text = format!("Here are my findings:\n\n```json\n{SCHEMA_ANSWER}\n```\n\nLet me know if you need more.");
    assert_eq!(only(&text).severity.as_deref(), Some("high"));
}

#[test]
fn plain_fence() {
    let text = format!("```\n{SCHEMA_ANSWER}\n```");
    assert_eq!(only(&text).file.as_deref(), Some("src/db.rs"));
}

#[test]
fn inline_fence_on_one_line() {
    let text = r#"```json {"findings": [{"title": "Hard-coded key", "file": "src/config.rs"}]}```"#;
    assert_eq!(only(text).title.as_deref(), Some("Hard-coded key"));
}

#[test]
fn later_fence_when_first_is_code() {
    let text = format!(
        "The vulnerable code:\n```rust\nlet q = format!(\"SELECT * FROM users WHERE id = {{}}\", id);\n```\n\
         My findings:\n```json\n{SCHEMA_ANSWER}\n```"
    );
    assert_eq!(only(&text).cwe, Some(89));
}

#[test]
fn unterminated_fence_runs_to_end() {
    let text = format!("```json\n{SCHEMA_ANSWER}\n");
    assert_eq!(only(&text).cwe, Some(89));
}

#[test]
fn object_between_prose() {
    let text = r#"Here is my review: {"findings": [{"title": "Path traversal in download", "file": "src/files.rs", "line": 12}]} Let me know if you want fixes."#;
    let finding = only(text);
    assert_eq!(finding.file.as_deref(), Some("src/files.rs"));
    assert_eq!((finding.start_line, finding.end_line), (Some(12), Some(12)));
}

#[test]
fn array_between_prose() {
    let text = "I found these problems:\n[{\"title\": \"Unbounded read\", \"severity\": \"Medium\"}]\nThat is all.";
    assert_eq!(only(text).severity.as_deref(), Some("medium"));
}

#[test]
fn brackets_and_quotes_inside_strings_do_not_confuse_scanner() {
    let text = r#"Result: {"findings": [{"title": "Format string with } and ] inside", "description": "The template \"{id}]\" is built from input; see [docs]."}]} -- end"#;
    let finding = only(text);
    assert_eq!(finding.title.as_deref(), Some("Format string with } and ] inside"));
    assert_eq!(
        finding.description.as_deref(),
        Some("The template \"{id}]\" is built from input; see [docs].")
    );
}

#[test]
fn earlier_non_json_brackets_are_skipped() {
    let text = "In `fn load(path: &str) { read(path) }` and items[0] I found one problem [1]:\n\
                {\"issues\": [{\"title\": \"Path traversal\", \"file\": \"src/load.rs\"}]}";
    assert_eq!(only(text).title.as_deref(), Some("Path traversal"));
}

#[test]
fn list_later_in_prose_wins_over_empty_array() {
    let text = "Initially I thought the answer was [] but then: {\"findings\": [{\"title\": \"Race on counter\"}]}";
    assert_eq!(only(text).title.as_deref(), Some("Race on counter"));
}

#[test]
fn broken_outer_object_salvages_inner_list() {
    let text = r#"{"findings": [{"title": "Weak hash", "cwe": "CWE-328"}], "note": "MD5 is "broken""}"#;
    assert_eq!(only(text).cwe, Some(328));
}

#[test]
fn truncated_answer_salvages_complete_items() {
    let text =
        r#"{"findings": [{"title": "First", "file": "a.rs"}, {"title": "Second", "file": "b.rs"}, {"title": "Thi"#;
    let parsed = parse_findings(text).expect("complete items should be salvaged");
    let titles: Vec<_> = parsed.findings.iter().filter_map(|f| f.title.as_deref()).collect();
    assert_eq!(titles, ["First", "Second"]);
}

#[test]
fn trailing_commas_are_repaired() {
    let text = "{\n  \"findings\": [\n    {\"title\": \"Missing auth check\", \"severity\": \"critical\",},\n  ],\n}";
    assert_eq!(only(text).severity.as_deref(), Some("critical"));
}

#[test]
fn trailing_comma_repair_leaves_strings_alone() {
    assert_eq!(
        remove_trailing_commas(r#"{"a": ",]", "b": [1,],}"#).as_deref(),
        Some(r#"{"a": ",]", "b": [1]}"#)
    );
    assert_eq!(remove_trailing_commas(r#"{"a": [1, 2]}"#), None);
}

#[test]
fn double_encoded_answer() {
    let inner = r#"{"findings": [{"title": "Open redirect"}]}"#;
    let text = serde_json::to_string(inner).unwrap_or_default();
    assert_eq!(only(&text).title.as_deref(), Some("Open redirect"));
}

#[test]
fn pathological_brackets_finish_quickly() {
    let text = "[".repeat(200_000) + &"{\"a".repeat(50_000);
    let started = std::time::Instant::now();
    assert!(parse_findings(&text).is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
