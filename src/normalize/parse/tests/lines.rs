//! Files and lines.

use super::*;

#[test]
fn camel_case_lines() {
    let finding = with_fields(r#""startLine": 10, "endLine": 14"#);
    assert_eq!((finding.start_line, finding.end_line), (Some(10), Some(14)));
}

#[test]
fn line_start_line_end() {
    let finding = with_fields(r#""line_start": 7, "line_end": 9"#);
    assert_eq!((finding.start_line, finding.end_line), (Some(7), Some(9)));
}

#[test]
fn kebab_case_lines() {
    let finding = with_fields(r#""start-line": 3, "end-line": 5"#);
    assert_eq!((finding.start_line, finding.end_line), (Some(3), Some(5)));
}

#[test]
fn lines_as_strings() {
    let finding = with_fields(r#""start_line": "42", "end_line": " 45 ""#);
    assert_eq!((finding.start_line, finding.end_line), (Some(42), Some(45)));
}

#[test]
fn start_line_alone_leaves_end_open() {
    let finding = with_fields(r#""start_line": 42"#);
    assert_eq!((finding.start_line, finding.end_line), (Some(42), None));
}

#[test]
fn single_line_number() {
    let finding = with_fields(r#""line": 42"#);
    assert_eq!((finding.start_line, finding.end_line), (Some(42), Some(42)));
}

#[test]
fn single_line_string() {
    let finding = with_fields(r#""line": "42""#);
    assert_eq!((finding.start_line, finding.end_line), (Some(42), Some(42)));
}

#[test]
fn line_number_alias() {
    let finding = with_fields(r#""line_number": 17"#);
    assert_eq!((finding.start_line, finding.end_line), (Some(17), Some(17)));
}

#[test]
fn lines_range_with_hyphen() {
    let finding = with_fields(r#""lines": "40-44""#);
    assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
}

#[test]
fn lines_range_with_en_dash() {
    let finding = with_fields(r#""lines": "40–44""#);
    assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
}

#[test]
fn lines_github_style() {
    let finding = with_fields(r#""lines": "L40-L44""#);
    assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
}

#[test]
fn lines_in_words() {
    let finding = with_fields(r#""lines": "lines 40 to 44""#);
    assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
}

#[test]
fn lines_single_string() {
    let finding = with_fields(r#""lines": "40""#);
    assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(40)));
}

#[test]
fn lines_array() {
    let finding = with_fields(r#""lines": [40, 44]"#);
    assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
}

#[test]
fn lines_number() {
    let finding = with_fields(r#""lines": 40"#);
    assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(40)));
}

#[test]
fn zero_and_negative_lines_are_none() {
    let finding = with_fields(r#""start_line": 0, "end_line": -3"#);
    assert_eq!((finding.start_line, finding.end_line), (None, None));
    let finding = with_fields(r#""line": "-5""#);
    assert_eq!((finding.start_line, finding.end_line), (None, None));
}

#[test]
fn location_object_with_file_and_lines() {
    let finding = with_fields(r#""location": {"file": "src/auth.rs", "start_line": 20, "end_line": 31}"#);
    assert_eq!(finding.file.as_deref(), Some("src/auth.rs"));
    assert_eq!((finding.start_line, finding.end_line), (Some(20), Some(31)));
}

#[test]
fn location_object_with_path_and_line() {
    let finding = with_fields(r#""location": {"path": "src/auth.rs", "line": 20}"#);
    assert_eq!(finding.file.as_deref(), Some("src/auth.rs"));
    assert_eq!((finding.start_line, finding.end_line), (Some(20), Some(20)));
}

#[test]
fn location_with_start_and_end_objects() {
    let finding = with_fields(r#""location": {"file": "a.rs", "start": {"line": 5, "column": 1}, "end": {"line": 8}}"#);
    assert_eq!((finding.start_line, finding.end_line), (Some(5), Some(8)));
}

#[test]
fn location_string_with_file_and_line() {
    let finding = with_fields(r#""location": "src/db.rs:42""#);
    assert_eq!(finding.file.as_deref(), Some("src/db.rs"));
    assert_eq!((finding.start_line, finding.end_line), (Some(42), Some(42)));
}

#[test]
fn location_string_with_lines_only() {
    let finding = with_fields(r#""file": "src/db.rs", "location": "lines 40-44""#);
    assert_eq!(finding.file.as_deref(), Some("src/db.rs"));
    assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
}

#[test]
fn file_with_line_suffix_is_split() {
    let finding = with_fields(r#""file": "src/db.rs:40-44""#);
    assert_eq!(finding.file.as_deref(), Some("src/db.rs"));
    assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
    let finding = with_fields(r#""file": "src/db.rs#L7", "line": 9"#);
    assert_eq!(finding.file.as_deref(), Some("src/db.rs"));
    assert_eq!(
        finding.start_line,
        Some(9),
        "an explicit line field wins over the suffix"
    );
}

#[test]
fn numeric_file_names_are_not_lines() {
    let finding = with_fields(r#""file": "migrations/2024_01_init.sql:12""#);
    assert_eq!(finding.file.as_deref(), Some("migrations/2024_01_init.sql"));
    assert_eq!(finding.start_line, Some(12));
}
