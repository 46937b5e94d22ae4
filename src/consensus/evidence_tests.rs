//! Ranking by what an issue itself shows: its path and its CWE's prior.

use super::*;

fn at(provider: &str, file: &str, cwe: u32, title: &str) -> Finding {
    Finding {
        provider: provider.into(),
        model: provider.into(),
        family: provider.into(),
        file: file.into(),
        start_line: Some(10),
        end_line: Some(12),
        function: None,
        lines_clamped: false,
        severity: Severity::High,
        category: Category::from_cwe(cwe).unwrap_or(Category::Other),
        cwe: Some(cwe),
        title: title.into(),
        description: title.into(),
        suggestion: None,
        confidence: None,
    }
}

/// Every file reviewed by families `a` and `b`.
fn reviewed(files: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    files
        .iter()
        .map(|f| (f.to_string(), BTreeSet::from(["a".to_string(), "b".to_string()])))
        .collect()
}

fn files_in_order(findings: &[Finding], settings: &Settings) -> Vec<String> {
    let files: Vec<&str> = findings.iter().map(|f| f.file.as_str()).collect();
    build_issues(findings.to_vec(), &reviewed(&files), &HashMap::new(), settings)
        .into_iter()
        .map(|i| i.file)
        .collect()
}

#[test]
fn an_issue_in_a_test_or_docs_path_ranks_below_one_in_product_code() {
    // Equal otherwise; ties go to the first file by name, so the docs one would lead.
    let findings = [
        at("a", "src/app.go", 89, "SQL injection in search"),
        at("a", "docs/example.go", 89, "SQL injection in search"),
    ];
    let undemoted = Settings {
        demote_paths: vec![],
        ..Settings::default()
    };
    assert_eq!(files_in_order(&findings, &undemoted), ["docs/example.go", "src/app.go"]);
    assert_eq!(
        files_in_order(&findings, &Settings::default()),
        ["src/app.go", "docs/example.go"]
    );
    let custom = Settings {
        demote_paths: vec!["src/**".into()],
        ..Settings::default()
    };
    assert_eq!(files_in_order(&findings, &custom), ["docs/example.go", "src/app.go"]);
}

#[test]
fn vendored_code_and_build_tooling_are_demoted_too() {
    let findings = [
        at("a", "src/app.go", 89, "SQL injection in search"),
        at("a", "app/vendor/lib/db.go", 89, "SQL injection in search"),
        at("a", "Makefile", 89, "SQL injection in search"),
    ];
    let order = files_in_order(&findings, &Settings::default());
    assert_eq!(order[0], "src/app.go", "{order:?}");
}

#[test]
fn demotion_does_not_outweigh_a_second_model() {
    let findings = [
        at("a", "tests/api_test.go", 89, "SQL injection in search"),
        at("b", "tests/api_test.go", 89, "SQL injection in search"),
        at("a", "src/app.go", 89, "SQL injection in search"),
    ];
    let issues = build_issues(
        findings.to_vec(),
        &reviewed(&["tests/api_test.go", "src/app.go"]),
        &HashMap::new(),
        &Settings::default(),
    );
    assert_eq!(issues[0].file, "tests/api_test.go");
    assert_eq!(issues[0].agreement.count, 2);
}

#[test]
fn a_cwe_that_often_holds_up_ranks_above_one_that_rarely_does() {
    // Prototype pollution (1321) held up most often on eyeballvul's tuning half,
    // insecure randomness (330) least.
    let findings = [
        at("a", "a.js", 330, "Predictable token"),
        at("a", "b.js", 1321, "Prototype pollution in merge"),
    ];
    let no_prior = Settings {
        cwe_prior_weight: 0.0,
        ..Settings::default()
    };
    assert_eq!(files_in_order(&findings, &no_prior), ["a.js", "b.js"]);
    assert_eq!(files_in_order(&findings, &Settings::default()), ["b.js", "a.js"]);
}

#[test]
fn demote_paths_are_a_configuration_key_and_the_weights_are_not() {
    let s: Settings = toml::from_str("demote_paths = [\"qa/**\"]").expect("a key");
    assert_eq!(s.demote_paths, ["qa/**"]);
    assert!(toml::from_str::<Settings>("demote_weight = 0.5").is_err());
    assert!(toml::from_str::<Settings>("cwe_prior_weight = 0.5").is_err());
    let bad = Settings {
        demote_paths: vec!["src/[".into()],
        ..Settings::default()
    };
    assert!(bad.validate().unwrap_err().contains("demote_paths: \"src/[\""));
    let negative = Settings {
        demote_weight: -1.0,
        ..Settings::default()
    };
    assert!(negative.validate().unwrap_err().contains("demote_weight"));
}

#[test]
fn a_vote_is_as_firm_as_its_location_is_close() {
    // The same lines: a sibling CWE backs the issue as firmly as the same CWE.
    let same_cwe = [
        at("a", "a.go", 89, "SQL injection in search"),
        at("b", "a.go", 89, "SQL injection in search query"),
    ];
    let sibling_cwe = [
        at("a", "b.go", 89, "SQL injection in search"),
        at("b", "b.go", 564, "SQL injection in search query"),
    ];
    let mut nearby = [
        at("a", "c.go", 89, "SQL injection in search"),
        at("b", "c.go", 89, "SQL injection in search query"),
    ];
    nearby[1].start_line = Some(14);
    nearby[1].end_line = Some(15);
    let findings: Vec<Finding> = same_cwe.into_iter().chain(sibling_cwe).chain(nearby).collect();
    let issues = build_issues(
        findings,
        &reviewed(&["a.go", "b.go", "c.go"]),
        &HashMap::new(),
        &Settings::default(),
    );
    let score = |file: &str| issues.iter().find(|i| i.file == file).map(|i| i.score);
    assert!(issues.iter().all(|i| i.agreement.count == 2), "{issues:#?}");
    assert_eq!(score("a.go"), score("b.go"));
    assert!(score("c.go") < score("a.go"), "{issues:#?}");
}
