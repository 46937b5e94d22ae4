//! A `--since` review's issues, told apart: an issue outside the lines the change
//! touched (plus a margin) was there before it, and is marked pre-existing. The changed
//! lines come from `run.json`, so `aggregate` marks exactly what `review` marked.

use std::collections::HashMap;

use crate::consensus::Issue;
use crate::store::{FileMeta, LineRange};

/// Lines on either side of a change within which an issue still counts as the change's:
/// models cite the line of a call or a check next to the line that changed.
pub const CHANGE_MARGIN_LINES: u32 = 3;

/// Marks each issue of a file reviewed as a change that lies outside its changed lines
/// and their margin. An issue without lines cannot be placed, so it stays new: a gate
/// must not pass a change on a guess.
pub(super) fn mark_pre_existing(issues: &mut [Issue], files: &[FileMeta]) {
    let changed: HashMap<&str, &[LineRange]> = files
        .iter()
        .filter_map(|f| Some((f.path.as_str(), f.changed.as_deref()?)))
        .collect();
    for issue in issues {
        let (Some(ranges), Some(start)) = (changed.get(issue.file.as_str()), issue.start_line) else {
            continue;
        };
        let end = issue.end_line.unwrap_or(start).max(start);
        issue.pre_existing = !ranges.iter().any(|r| near(r, start, end));
    }
}

/// Whether lines `start..=end` meet the range `r` widened by the margin.
fn near(r: &LineRange, start: u32, end: u32) -> bool {
    start <= r.end_line.saturating_add(CHANGE_MARGIN_LINES) && end.saturating_add(CHANGE_MARGIN_LINES) >= r.start_line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(file: &str, lines: Option<(u32, u32)>) -> Issue {
        serde_json::from_value(serde_json::json!({
            "id": "Q1", "file": file, "start_line": lines.map(|l| l.0), "end_line": lines.map(|l| l.1),
            "severity": "high", "category": "injection", "cwe": 89, "title": "t",
            "agreement": {"count": 1, "of": 1, "providers": ["a"]}, "score": 0.5, "findings": []
        }))
        .unwrap()
    }

    fn file(path: &str, changed: Option<Vec<(u32, u32)>>) -> FileMeta {
        FileMeta {
            path: path.into(),
            lines: 100,
            content_hash: "h".into(),
            changed: changed.map(|c| {
                c.into_iter()
                    .map(|(start_line, end_line)| LineRange { start_line, end_line })
                    .collect()
            }),
        }
    }

    #[test]
    fn issues_outside_the_changed_lines_and_their_margin_are_pre_existing() {
        let files = [
            file("a.go", Some(vec![(20, 22)])),
            file("b.go", None),
            file("c.go", Some(vec![])),
        ];
        let mut issues = vec![
            issue("a.go", Some((21, 21))),
            issue("a.go", Some((25, 25))),
            issue("a.go", Some((26, 30))),
            issue("a.go", Some((10, 17))),
            issue("a.go", Some((10, 16))),
            issue("a.go", Some((5, 40))),
            issue("a.go", None),
            issue("b.go", Some((1, 1))),
            issue("c.go", Some((1, 1))),
        ];
        mark_pre_existing(&mut issues, &files);
        let marks: Vec<bool> = issues.iter().map(|i| i.pre_existing).collect();
        assert_eq!(
            marks,
            [false, false, true, false, true, false, false, false, true],
            "within 3 lines of 20-22 is new; no lines is new; a whole-file review has no pre-existing; \
             a renamed file with no line changed has only pre-existing issues"
        );
        assert!(issues[0].is_new() && !issues[2].is_new());
        let json = serde_json::to_value(&issues[2]).unwrap();
        assert_eq!(json["pre_existing"], true);
        assert!(serde_json::to_value(&issues[0]).unwrap().get("pre_existing").is_none());
    }
}
