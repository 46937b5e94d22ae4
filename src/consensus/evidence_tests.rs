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
    assert!(toml::from_str::<Settings>("unplaced_weight = 0.5").is_err());
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
    let negative = Settings {
        unplaced_weight: -0.1,
        ..Settings::default()
    };
    assert!(negative.validate().unwrap_err().contains("unplaced_weight"));
}

#[test]
fn an_issue_that_says_nowhere_in_its_file_ranks_below_one_that_points_at_its_place() {
    // Equal otherwise; ties go to the first file by name, so a.go would lead.
    let nowhere = |function: Option<&str>| Finding {
        start_line: None,
        end_line: None,
        function: function.map(String::from),
        ..at("a", "a.go", 89, "SQL injection in search")
    };
    let placed = at("a", "b.go", 89, "SQL injection in search");
    for unplaced in [nowhere(None), nowhere(Some("N/A")), nowhere(Some("a.go"))] {
        let findings = [unplaced, placed.clone()];
        assert_eq!(files_in_order(&findings, &Settings::default()), ["b.go", "a.go"]);
        let off = Settings {
            unplaced_weight: 0.0,
            ..Settings::default()
        };
        assert_eq!(files_in_order(&findings, &off), ["a.go", "b.go"]);
    }
    // A function is a place, lines or not.
    let in_function = [nowhere(Some("search")), placed.clone()];
    assert_eq!(files_in_order(&in_function, &Settings::default()), ["a.go", "b.go"]);
}

#[test]
fn every_family_an_issue_counts_adds_to_its_score() {
    // One wording on lines 10, 14, 18 and 22: a chain (plain single link) whose ends are
    // beyond line_tolerance of the representative in the middle, and share no function.
    let chain = |file: &str, providers: &[&str]| -> Vec<Finding> {
        providers
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let mut f = at(p, file, 89, "SQL injection in search");
                f.start_line = Some(10 + 4 * k as u32);
                f.end_line = f.start_line.map(|l| l + 1);
                f
            })
            .collect()
    };
    let four: Vec<Finding> = chain("four.go", &["a", "b", "c", "d"])
        .into_iter()
        .chain(chain("three.go", &["a", "b", "c"]))
        .collect();
    let families = BTreeSet::from(["a", "b", "c", "d"].map(String::from));
    let reviewed = BTreeMap::from([
        ("four.go".to_string(), families.clone()),
        ("three.go".to_string(), families),
    ]);
    let single_link = Settings {
        group_threshold: 0.0,
        ..Settings::default()
    };
    let issues = build_issues(four, &reviewed, &HashMap::new(), &single_link);
    let issue = |file: &str| issues.iter().find(|i| i.file == file).expect(file);
    assert_eq!(issue("four.go").agreement.count, 4, "{issues:#?}");
    assert_eq!(issue("three.go").agreement.count, 3, "{issues:#?}");
    // The fourth family is counted, so it backs the issue: no vote of 0.
    assert!(issue("four.go").score > issue("three.go").score, "{issues:#?}");
}

#[test]
fn scores_stay_within_0_and_1_whatever_the_weights() {
    let extreme = Settings {
        agreement_weight: 5.0,
        severity_weight: 5.0,
        confidence_weight: 5.0,
        cwe_prior_weight: 50.0,
        demote_weight: 50.0,
        provider_weights: BTreeMap::from([("a".to_string(), 100.0), ("b".to_string(), 100.0)]),
        ..Settings::default()
    };
    let mut best = [
        at("a", "src/app.go", 1321, "Prototype pollution in merge"),
        at("b", "src/app.go", 1321, "Prototype pollution in merge"),
    ];
    for f in &mut best {
        f.severity = Severity::Critical;
        f.confidence = Some(1.0);
    }
    let worst = at("a", "tests/app_test.go", 330, "Weak random number");
    let findings: Vec<Finding> = best.into_iter().chain([worst]).collect();
    for settings in [Settings::default(), extreme] {
        let issues = build_issues(
            findings.clone(),
            &reviewed(&["src/app.go", "tests/app_test.go"]),
            &HashMap::new(),
            &settings,
        );
        assert_eq!(issues.len(), 2);
        assert!(issues.iter().all(|i| (0.0..=1.0).contains(&i.score)), "{issues:#?}");
        assert_eq!(issues[0].file, "src/app.go");
    }
}
