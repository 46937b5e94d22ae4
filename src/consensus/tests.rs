use super::cluster::MAX_ISSUE_MEMBERS;
use super::pairs::{candidate_pairs, MAX_NEIGHBOURS, MAX_UNPLACED_NEIGHBOURS};
use super::profile::{profile_all, TitleGrams};
use super::rank::issue_cwe;
use super::stop_words::STOP_WORDS;
use super::words::{content_words, stem, Scratch};
use super::*;

fn f(provider: &str, line: u32, cwe: Option<u32>, title: &str) -> Finding {
    Finding {
        provider: provider.into(),
        model: provider.into(),
        family: provider.into(),
        file: "app.go".into(),
        start_line: Some(line),
        end_line: Some(line + 2),
        function: None,
        lines_clamped: false,
        severity: Severity::High,
        category: cwe.and_then(Category::from_cwe).unwrap_or(Category::Other),
        cwe,
        title: title.into(),
        description: title.into(),
        suggestion: None,
        confidence: None,
    }
}

fn lineless(provider: &str, function: Option<&str>, cwe: Option<u32>, title: &str) -> Finding {
    Finding {
        start_line: None,
        end_line: None,
        function: function.map(String::from),
        ..f(provider, 1, cwe, title)
    }
}

/// The findings of each issue, clustered the way a review clusters them.
fn groups(findings: Vec<Finding>) -> Vec<Vec<Finding>> {
    build_issues(findings, &BTreeMap::new(), &HashMap::new(), &Settings::default())
        .into_iter()
        .map(|issue| issue.findings)
        .collect()
}

fn reviewed(families: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    BTreeMap::from([("app.go".to_string(), families.iter().map(|s| s.to_string()).collect())])
}

#[test]
fn a_cwe_tie_goes_to_a_specific_cwe_not_a_generic_one() {
    let members = [
        f("a", 10, Some(20), "Improper input validation"),
        f("b", 10, Some(89), "SQL injection"),
    ];
    assert_eq!(issue_cwe(&members, 0), Some(20), "the representative's CWE wins a tie");
    assert_eq!(
        issue_cwe(&members, 5),
        Some(89),
        "otherwise a specific CWE beats a generic one"
    );
}

#[test]
fn a_heavy_provider_cannot_push_agreement_past_unanimity() {
    let mut settings = Settings::default();
    settings.provider_weights.insert("a".into(), 4.0);
    let lone = build_issues(
        vec![f("a", 10, Some(89), "SQLi")],
        &reviewed(&["a", "b", "c"]),
        &HashMap::new(),
        &settings,
    );
    let all = build_issues(
        vec![
            f("a", 10, Some(89), "SQLi"),
            f("b", 10, Some(89), "SQLi"),
            f("c", 10, Some(89), "SQLi"),
        ],
        &reviewed(&["a", "b", "c"]),
        &HashMap::new(),
        &Settings::default(),
    );
    assert!(lone[0].score <= all[0].score, "{} > {}", lone[0].score, all[0].score);
}

fn words_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    content_words(text, &mut Scratch::default(), &mut |w, _| out.push(w.to_string()));
    out
}

#[test]
fn paraphrases_of_one_bug_merge_and_count_each_family_once() {
    let findings = vec![
        f("a", 40, Some(89), "SQL injection in note search"),
        f("b", 41, Some(89), "Unsanitized input concatenated into SQL query"),
        f("c", 39, Some(564), "Query built with string concatenation"),
        f("d", 90, Some(22), "Path traversal in download"),
    ];
    let issues = build_issues(
        findings,
        &reviewed(&["a", "b", "c", "d"]),
        &HashMap::new(),
        &Settings::default(),
    );
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0].agreement.count, 3);
    assert_eq!(issues[0].agreement.of, 4);
    assert_eq!(issues[0].cwe, Some(89));
    assert_eq!(issues[1].agreement.count, 1);
}

#[test]
fn two_problems_of_one_model_on_nearby_lines_stay_apart() {
    let findings = vec![
        f("a", 10, Some(89), "SQL injection in login"),
        f("a", 11, Some(327), "Password hashed with MD5"),
    ];
    assert_eq!(groups(findings).len(), 2);
}

#[test]
fn a_model_repeating_itself_is_one_voice() {
    let findings = vec![
        f("a", 10, Some(89), "SQL injection in login query"),
        f("a", 10, Some(89), "SQL injection in login query"),
    ];
    assert_eq!(groups(findings).len(), 1);
}

#[test]
fn another_model_cannot_bridge_two_findings_of_one_model() {
    // b resembles both of a's findings; a's two findings must still stay apart.
    let findings = vec![
        f("a", 10, Some(89), "SQL injection in login"),
        f("a", 12, Some(89), "SQL injection in report export"),
        f("b", 11, Some(89), "SQL injection in login and report export"),
    ];
    let groups = groups(findings);
    assert_eq!(groups.len(), 2);
    assert!(groups
        .iter()
        .all(|g| g.iter().filter(|m| m.provider == "a").count() == 1));
}

#[test]
fn different_weaknesses_on_the_same_lines_stay_apart() {
    let findings = vec![
        f("a", 10, Some(89), "SQL injection in delete handler"),
        f("b", 10, Some(862), "Missing authorization check on delete"),
    ];
    assert_eq!(groups(findings).len(), 2);
}

#[test]
fn far_apart_findings_join_only_through_a_shared_function() {
    let mut a = f("a", 10, Some(78), "Command injection in export");
    let mut b = f("b", 60, Some(78), "Command injection in export");
    assert_eq!(groups(vec![a.clone(), b.clone()]).len(), 2);
    a.function = Some("Handlers.exportNote".into());
    b.function = Some("exportNote()".into());
    assert_eq!(groups(vec![a, b]).len(), 1);
}

#[test]
fn findings_without_lines_are_compared_within_their_file() {
    let findings = vec![
        lineless("a", None, Some(22), "Path traversal in attachment download"),
        f("b", 70, Some(22), "Directory traversal through attachment name"),
        Finding {
            file: "other.go".into(),
            ..lineless("c", None, Some(22), "Path traversal in attachment download")
        },
    ];
    let groups = groups(findings);
    assert_eq!(groups.len(), 2);
    assert!(groups
        .iter()
        .any(|g| g.len() == 2 && g.iter().all(|m| m.file == "app.go")));
}

#[test]
fn related_cwes_share_a_family() {
    for (x, y) in [
        (400, 770),
        (89, 564),
        (22, 36),
        (327, 916),
        (77, 78),
        (79, 116),
        (1321, 915),
    ] {
        assert_eq!(cwe_family(x), cwe_family(y), "{x} {y}");
    }
    assert_ne!(cwe_family(89), cwe_family(79));
    assert_eq!(cwe_family(4242), 4242);
}

#[test]
fn identifiers_are_split_and_kept_whole() {
    assert_eq!(words_of("getUserById"), ["get", "user", "id", "getuse"]);
    assert_eq!(
        words_of("user_id HTTPServer"),
        ["user", "id", "userid", "http", "server", "httpse"]
    );
    assert_eq!(words_of("The MD5 hash of the sha256"), ["md5", "hash", "sha256"]);
}

#[test]
fn stems_meet_across_inflections() {
    for group in [
        &["injection", "injected", "injects"][..],
        &["validate", "validation", "validated"],
        &["sanitize", "sanitizing", "sanitization"],
        &["passwords", "password"],
    ] {
        let stems: BTreeSet<&str> = group.iter().map(|w| stem(w)).collect();
        assert_eq!(stems.len(), 1, "{group:?} → {stems:?}");
    }
    assert_ne!(stem("serialize"), stem("deserialize"));
}

#[test]
fn title_bigram_dice_is_strsims_sorensen_dice() {
    let titles = [
        "sql inject login",
        "sql inject logout",
        "path travers filenam",
        "path travers file nam",
        "aa aa aa",
        "aaa",
        "x",
    ];
    for a in titles {
        for b in titles {
            let ours = TitleGrams::of(a).dice(&TitleGrams::of(b));
            assert!((ours - strsim::sorensen_dice(a, b)).abs() < 1e-12, "{a:?} {b:?}");
        }
    }
}

#[test]
fn stop_words_are_dropped() {
    assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]), "keep the list sorted");
    assert!(
        STOP_WORDS.iter().all(|w| words_of(w).is_empty()),
        "every stop word is dropped"
    );
    assert_eq!(words_of("the injection"), ["inject"]);
}

#[test]
fn blocking_finds_the_same_groups_as_comparing_every_pair() {
    let mut findings = Vec::new();
    let titles = [
        "SQL injection in search",
        "Query built from user input",
        "Path traversal in download",
        "Hard-coded secret key",
    ];
    for i in 0..60u32 {
        let mut x = f(
            ["a", "b", "c"][(i % 3) as usize],
            1 + (i * 7) % 40,
            [Some(89), Some(22), None, Some(798)][(i % 4) as usize],
            titles[(i % 4) as usize],
        );
        x.file = format!("f{}.go", i % 2);
        if i % 9 == 0 {
            x.start_line = None;
            x.end_line = None;
        }
        if i % 5 == 0 {
            x.function = Some(format!("fn{}", i % 3));
        }
        findings.push(x);
    }
    let places: Vec<Place> = findings.iter().map(Place::of).collect();
    let settings = Settings::default();
    assert_eq!(
        cluster_indices(&findings, &places, &settings),
        cluster_indices_naive(&findings, &places, &settings)
    );
}

#[test]
fn a_flood_of_alike_findings_is_compared_a_bounded_number_of_times() {
    let count = 3_000;
    let title = |i: u32| format!("SQL injection in handler {}", i % 50);
    let on_lines: Vec<Finding> = (0..count).map(|i| f("a", 10 + i % 5, Some(89), &title(i))).collect();
    let without_lines: Vec<Finding> = (0..count).map(|i| lineless("a", None, Some(89), &title(i))).collect();
    let in_one_function: Vec<Finding> = (0..count)
        .map(|i| lineless("a", Some("handler"), Some(89), &title(i)))
        .collect();
    for (flood, per_finding) in [
        (on_lines, MAX_NEIGHBOURS),
        (without_lines, MAX_UNPLACED_NEIGHBOURS),
        (in_one_function, MAX_NEIGHBOURS + MAX_UNPLACED_NEIGHBOURS),
    ] {
        let profiles = profile_all(&flood, None);
        let members: Vec<usize> = (0..flood.len()).collect();
        let pairs = candidate_pairs(&members, &profiles, Settings::default().line_tolerance);
        assert!(pairs.len() <= flood.len() * per_finding, "{} pairs", pairs.len());
        let issues = build_issues(flood.clone(), &reviewed(&["a"]), &HashMap::new(), &Settings::default());
        assert!(issues.iter().all(|i| i.findings.len() <= MAX_ISSUE_MEMBERS));
        assert_eq!(
            issues.iter().map(|i| i.findings.len()).sum::<usize>(),
            flood.len(),
            "every finding is in one issue"
        );
    }
}

#[test]
fn order_of_input_does_not_change_clusters_or_ids() {
    let findings = vec![
        f("a", 40, Some(89), "SQL injection in note search"),
        f("b", 41, Some(89), "Unsanitized input concatenated into SQL"),
        f("c", 90, Some(22), "Path traversal in download"),
        f("b", 92, Some(22), "Directory traversal via filename"),
    ];
    let mut reversed = findings.clone();
    reversed.reverse();
    let r = reviewed(&["a", "b", "c"]);
    let one = build_issues(findings, &r, &HashMap::new(), &Settings::default());
    let two = build_issues(reversed, &r, &HashMap::new(), &Settings::default());
    assert_eq!(one, two);
}

#[test]
fn ids_survive_reordering_and_tell_colliding_issues_apart() {
    let text = "package a\n}\nfunc q() {\n}\n}\n";
    let texts = HashMap::from([("app.go".to_string(), text.to_string())]);
    let findings = vec![
        f("a", 2, Some(89), "SQL injection one"),
        f("a", 20, Some(89), "SQL injection two"),
        f("b", 40, Some(22), "Path traversal"),
        lineless("c", Some("q"), None, "Weak hashing"),
    ];
    let r = reviewed(&["a", "b", "c"]);
    let ids = |input: Vec<Finding>| {
        let mut v: Vec<(String, String)> = build_issues(input, &r, &texts, &Settings::default())
            .into_iter()
            .map(|i| (i.title, i.id))
            .collect();
        v.sort();
        v
    };
    let first = ids(findings.clone());
    for rotation in 1..findings.len() {
        let mut rotated = findings.clone();
        rotated.rotate_left(rotation);
        assert_eq!(ids(rotated), first);
    }
    let distinct: BTreeSet<&String> = first.iter().map(|(_, id)| id).collect();
    assert_eq!(distinct.len(), first.len(), "{first:?}");
}

#[test]
fn ids_survive_edits_elsewhere_in_the_file() {
    let before = "package a\n\nfunc q(x string) {\n  db.Query(\"SELECT \" + x)\n}\n";
    let after = "package a\n\nimport \"fmt\"\n\nfunc q(x string) {\n  db.Query(\"SELECT \" + x)\n}\n";
    let r = reviewed(&["a"]);
    let id = |text: &str, line: u32| {
        let texts = HashMap::from([("app.go".to_string(), text.to_string())]);
        build_issues(vec![f("a", line, Some(89), "SQLi")], &r, &texts, &Settings::default())[0]
            .id
            .clone()
    };
    assert_eq!(id(before, 4), id(after, 6));
    assert_ne!(id(before, 4), id(before, 3));
}

#[test]
fn severity_is_the_median_vote() {
    let mut a = f("a", 1, Some(89), "SQLi");
    let mut b = f("b", 1, Some(89), "SQLi");
    let mut c = f("c", 1, Some(89), "SQLi");
    a.severity = Severity::Critical;
    b.severity = Severity::Medium;
    c.severity = Severity::Low;
    let issues = build_issues(
        vec![a, b, c],
        &reviewed(&["a", "b", "c"]),
        &HashMap::new(),
        &Settings::default(),
    );
    assert_eq!(issues[0].severity, Severity::Medium);
}

#[test]
fn agreement_outranks_severity() {
    let mut lone = f("a", 100, Some(78), "Command injection");
    lone.severity = Severity::Critical;
    let mut shared_a = f("a", 10, Some(330), "Predictable session token");
    let mut shared_b = f("b", 10, Some(330), "Session token uses math/rand");
    shared_a.severity = Severity::Medium;
    shared_b.severity = Severity::Medium;
    let issues = build_issues(
        vec![lone, shared_a, shared_b],
        &reviewed(&["a", "b"]),
        &HashMap::new(),
        &Settings::default(),
    );
    assert_eq!(issues[0].agreement.count, 2);
    assert_eq!(issues[1].severity, Severity::Critical);
}

#[test]
fn provider_weights_reorder_equal_agreement() {
    let findings = vec![
        f("a", 10, Some(89), "SQL injection"),
        f("b", 80, Some(22), "Path traversal"),
    ];
    let r = reviewed(&["a", "b"]);
    // Without the CWE prior, which would rank path traversal above SQL injection.
    let mut settings = Settings {
        cwe_prior_weight: 0.0,
        ..Settings::default()
    };
    let top = |s: &Settings| {
        build_issues(findings.clone(), &r, &HashMap::new(), s)[0]
            .agreement
            .providers
            .clone()
    };
    assert_eq!(top(&settings), ["a"]);
    settings.provider_weights.insert("b".into(), 2.0);
    assert_eq!(top(&settings), ["b"]);
}

#[test]
fn min_agree_filters_only_when_asked() {
    let findings = vec![
        f("a", 10, Some(89), "SQL injection in search"),
        f("b", 10, Some(89), "SQL injection in search"),
        f("a", 80, Some(22), "Path traversal"),
    ];
    let issues = build_issues(findings, &reviewed(&["a", "b"]), &HashMap::new(), &Settings::default());
    assert_eq!(issues.len(), 2);
    let kept = filter_min_agree(issues, 2);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].agreement.count, 2);
}

#[test]
fn settings_are_validated_and_read_from_toml() {
    assert_eq!(Settings::default().validate(), Ok(()));
    let s: Settings = toml::from_str("merge_threshold = 0.6\nline_tolerance = 5").unwrap();
    assert_eq!((s.merge_threshold, s.line_tolerance), (0.6, 5));
    assert!(toml::from_str::<Settings>("merge_treshold = 0.6").is_err());
    let bad = Settings {
        merge_threshold: 1.5,
        ..Settings::default()
    };
    assert!(bad.validate().unwrap_err().contains("merge_threshold"));
}

#[test]
fn score_weights_are_settings_but_not_configuration_keys() {
    let mut lone = f("a", 100, Some(78), "Command injection");
    lone.severity = Severity::Critical;
    let shared = [
        f("a", 10, Some(330), "Predictable session token"),
        f("b", 10, Some(330), "Predictable session token"),
    ];
    let mut findings = vec![lone];
    findings.extend(shared);
    let top_severity = |settings: &Settings| {
        build_issues(findings.clone(), &reviewed(&["a", "b"]), &HashMap::new(), settings)[0].severity
    };
    assert_eq!(top_severity(&Settings::default()), Severity::High, "agreement first");
    let severity_first = Settings {
        agreement_weight: 0.0,
        ..Settings::default()
    };
    assert_eq!(top_severity(&severity_first), Severity::Critical);
    assert!(toml::from_str::<Settings>("agreement_weight = 0.5").is_err());
    let bad = Settings {
        confidence_weight: -0.1,
        ..Settings::default()
    };
    assert!(bad.validate().unwrap_err().contains("confidence_weight"));
}
