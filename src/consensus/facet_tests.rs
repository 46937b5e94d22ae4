//! One model's two findings in one function: facets of one problem, or two problems.

use super::similarity::FACET_MAX_LINES;
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
    issues_in_with(findings, functions, Settings::default().same_function_threshold)
}

/// [`issues_in`] with another `same_function_threshold`.
fn issues_in_with(findings: &[Finding], functions: &[Option<&str>], threshold: f64) -> usize {
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
        &Settings {
            same_function_threshold: threshold,
            ..Settings::default()
        },
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
    let convert = [Some("convert"), Some("Converter.convert")];
    assert_eq!(issues_in(&findings, &convert), 1);
    // The same two wordings, one moved out of reach: one function and family alone are
    // not enough, whatever same_function_threshold says.
    let mut far = two_facets();
    far[1].start_line = Some(20 + FACET_MAX_LINES + 10);
    far[1].end_line = far[1].start_line.map(|l| l + 1);
    assert_eq!(issues_in(&far, &convert), 2);
    assert_eq!(issues_in_with(&far, &convert, 0.0), 2);
    // The threshold decides between facets in reach: above their similarity they part.
    assert_eq!(issues_in_with(&findings, &convert, 0.95), 2);
}

#[test]
fn two_distant_sql_injections_in_one_long_function_stay_apart() {
    let findings = [
        at(
            20,
            89,
            "SQL injection in the user lookup",
            "The user id from the query string is formatted into SELECT.",
        ),
        at(
            400,
            89,
            "SQL injection in the report export",
            "The report name is concatenated into a DELETE statement.",
        ),
    ];
    assert_eq!(issues_in(&findings, &[Some("main"), Some("main")]), 2);
}

#[test]
fn without_lines_one_function_and_family_join_only_with_shared_wording() {
    let lineless = |mut f: Finding| {
        f.start_line = None;
        f.end_line = None;
        f
    };
    let lookup = lineless(at(
        0,
        89,
        "SQL injection in the user lookup",
        "The user id from the query string is formatted into the SELECT statement.",
    ));
    let facet = lineless(at(
        0,
        89,
        "Unescaped user id reaches the SELECT statement",
        "The user id is formatted into the query string without escaping.",
    ));
    let other = lineless(at(
        0,
        89,
        "Report export deletes by name",
        "The report name is concatenated into a DELETE.",
    ));
    let main = [Some("main"), Some("main")];
    assert_eq!(issues_in(&[lookup.clone(), facet], &main), 1);
    assert_eq!(issues_in(&[lookup, other], &main), 2);
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

/// How many issues two models' findings without lines become, each in `(file, function)`
/// of one block (as in the evaluation, where a block is a revision).
fn issues_of_two_models(at_places: [(&str, &str); 2]) -> usize {
    let findings: Vec<Finding> = at_places
        .iter()
        .zip(["a", "b"])
        .zip([
            ("Command injection in the build step", "The tag is passed to a shell."),
            ("Unsanitised argument reaches os.system", "A user value is run."),
        ])
        .map(|(((file, _), provider), (title, description))| Finding {
            provider: provider.into(),
            family: provider.into(),
            file: file.to_string(),
            start_line: None,
            end_line: None,
            ..at(0, 78, title, description)
        })
        .collect();
    let places: Vec<Place> = at_places
        .iter()
        .map(|(file, function)| Place {
            block: "revision".into(),
            files: vec![file.to_string()],
            functions: vec![function.to_string()],
            function: Some(function.to_string()),
        })
        .collect();
    build_issues_at(
        findings,
        &places,
        &BTreeMap::new(),
        &HashMap::new(),
        &Settings::default(),
    )
    .issues
    .len()
}

#[test]
fn a_function_name_shared_by_two_files_or_a_placeholder_is_no_shared_function() {
    assert_eq!(issues_of_two_models([("build.py", "main"), ("build.py", "main")]), 1);
    assert_eq!(issues_of_two_models([("build.py", "main"), ("serve.py", "main")]), 2);
    assert_eq!(issues_of_two_models([("build.py", "N/A"), ("build.py", "N/A")]), 2);
    assert_eq!(
        issues_of_two_models([("ci/deploy-docs.sh", "deploy-docs.sh"), ("ci/publish.sh", "publish.sh")]),
        2
    );
}
