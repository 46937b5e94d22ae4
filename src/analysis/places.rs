//! Where each finding is, for clustering: its file, and the function its first line is
//! in as the code shows it (not as the model named it). Two findings of one model in
//! one function and CWE family are facets of one problem and may join; in different
//! functions they stay apart (`consensus::Place::function`).

use std::collections::HashMap;

use crate::consensus::Place;
use crate::normalize::finding::Finding;
use crate::related::{self, FileFacts};

/// One place per finding, in order. Each file with a finding on a line is read once (by
/// its grammar, else lexically, bounded as the index reads it); a file whose text is
/// not at hand, or a finding with no line, gets no function: clustering as before.
pub fn places(findings: &[Finding], texts: &HashMap<String, String>) -> Vec<Place> {
    let mut facts: HashMap<&str, Option<FileFacts>> = HashMap::new();
    findings
        .iter()
        .map(|finding| Place {
            function: finding
                .start_line
                .and_then(|line| enclosing_function(&mut facts, texts, &finding.file, line)),
            ..Place::of(finding)
        })
        .collect()
}

fn enclosing_function<'a>(
    facts: &mut HashMap<&'a str, Option<FileFacts>>,
    texts: &HashMap<String, String>,
    file: &'a str,
    line: u32,
) -> Option<String> {
    let read = facts
        .entry(file)
        .or_insert_with(|| texts.get(file).map(|text| related::read_file(file, text)))
        .as_ref()?;
    read.enclosing_function(line).map(|i| read.defs[i].name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::finding::{Category, Severity};

    fn finding(file: &str, line: Option<u32>) -> Finding {
        Finding {
            provider: "a".into(),
            model: "a".into(),
            family: "a".into(),
            file: file.into(),
            start_line: line,
            end_line: line,
            lines_clamped: false,
            function: None,
            severity: Severity::High,
            category: Category::Injection,
            cwe: Some(89),
            title: "SQL injection".into(),
            description: "SQL injection".into(),
            suggestion: None,
            confidence: None,
        }
    }

    #[test]
    fn a_finding_gets_the_function_its_line_is_in_as_the_code_shows_it() {
        let go = "package p\n\nfunc first() {\n\tx := 1\n}\n\nfunc second() {\n\ty := 2\n}\n";
        let texts = HashMap::from([("a.go".to_string(), go.to_string())]);
        let found = places(
            &[
                finding("a.go", Some(4)),
                finding("a.go", Some(8)),
                finding("a.go", Some(1)),
                finding("a.go", None),
                finding("gone.go", Some(4)),
            ],
            &texts,
        );
        let functions: Vec<Option<&str>> = found.iter().map(|p| p.function.as_deref()).collect();
        assert_eq!(functions, [Some("first"), Some("second"), None, None, None]);
        assert_eq!(found[0].block, "a.go");
    }
}
