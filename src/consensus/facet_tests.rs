//! One model's two findings in one function: facets of one problem, or two problems.

use super::*;

fn at(line: u32, cwe: u32, title: &str, description: &str) -> Finding {
    Finding {
        provider: "a".into(),
        model: "a".into(),
        family: "a".into(),
        file: "app.py".into(),
        start_line: Some(line),
        end_line: Some(line + 1),
        function: None,
        lines_clamped: false,
        severity: Severity::High,
        category: Category::from_cwe(cwe).unwrap_or(Category::Other),
        cwe: Some(cwe),
        title: title.into(),
        description: description.into(),
        suggestion: None,
        confidence: None,
    }
}

/// How many issues the findings become when each is in the given enclosing function.
fn issues_in(findings: &[Finding], functions: &[Option<&str>]) -> usize {
    let places: Vec<Place> = findings
        .iter()
        .zip(functions)
        .map(|(f, function)| Place {
            function: function.map(String::from),
            ..Place::of(f)
        })
        .collect();
    build_issues_at(
        findings.to_vec(),
        &places,
        &BTreeMap::new(),
        &HashMap::new(),
        &Settings::default(),
    )
    .issues
    .len()
}

fn two_facets() -> [Finding; 2] {
    [
        at(
            12,
            78,
            "Command injection through the filename",
            "The filename is passed to os.system.",
        ),
        at(
            20,
            77,
            "Shell metacharacters are not escaped",
            "subprocess is called with shell=True on user text.",
        ),
    ]
}

#[test]
fn one_model_s_facets_of_one_problem_in_one_function_join() {
    let findings = two_facets();
    assert_eq!(issues_in(&findings, &[Some("convert"), Some("Converter.convert")]), 1);
}

#[test]
fn without_an_enclosing_function_one_model_s_two_wordings_stay_apart() {
    let findings = two_facets();
    assert_eq!(issues_in(&findings, &[None, None]), 2);
    assert_eq!(issues_in(&findings, &[Some("convert"), None]), 2);
}

#[test]
fn one_model_s_findings_in_different_functions_stay_apart_even_on_nearby_lines() {
    // Near-identical wording on adjacent lines would merge, were the functions unknown.
    let findings = [
        at(
            10,
            89,
            "SQL injection in the query",
            "User input is concatenated into SQL.",
        ),
        at(
            11,
            89,
            "SQL injection in the query",
            "User input is concatenated into SQL!",
        ),
    ];
    assert_eq!(issues_in(&findings, &[None, None]), 1);
    assert_eq!(issues_in(&findings, &[Some("search"), Some("login")]), 2);
}

#[test]
fn conflicting_weaknesses_in_one_function_stay_apart() {
    let findings = [
        at(10, 89, "SQL injection in search", "The query is built from input."),
        at(12, 862, "Search lacks an authorization check", "Anyone may search."),
    ];
    assert_eq!(issues_in(&findings, &[Some("search"), Some("search")]), 2);
}

#[test]
fn the_facet_threshold_is_a_checked_setting() {
    let s: Settings = toml::from_str("same_function_threshold = 0.6").expect("a key");
    assert_eq!(s.same_function_threshold, 0.6);
    let bad = Settings {
        same_function_threshold: 1.2,
        ..Settings::default()
    };
    assert!(bad.validate().unwrap_err().contains("same_function_threshold"));
}
