//! The report files of the offline demo: `report.sarif` validates against the official
//! SARIF 2.1.0 schema (tests/fixtures/sarif-schema-2.1.0.json, from OASIS) and carries
//! every ranked issue with its location, level, agreement and stable fingerprint;
//! `report.html` lists every issue and escapes what models wrote.

mod support;

use serde_json::Value;
use support::fixture::{demo_review, load, sarif_validator};

#[test]
fn demo_sarif_is_valid_and_matches_the_json_report() {
    let out = tempfile::tempdir().unwrap();
    support::ok(&demo_review(out.path(), &["--quiet", "--format", "json,sarif,html"]));
    let sarif = load(&out.path().join("report.sarif"));
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report.sarif is not valid SARIF 2.1.0:\n{}",
        errors.join("\n")
    );

    let report = load(&out.path().join("report.json"));
    let issues = report["issues"].as_array().unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(results.len(), issues.len());
    for (issue, result) in issues.iter().zip(results) {
        assert_eq!(result["partialFingerprints"]["quorumIssueId/v1"], issue["id"]);
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], issue["file"]);
        assert_eq!(location["region"]["startLine"], issue["start_line"]);
        let count = issue["agreement"]["count"].as_u64().unwrap();
        assert!(result["message"]["text"]
            .as_str()
            .unwrap()
            .contains(&format!("agreed by {count} of")));
        let rule = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"][index]["id"], rule);
        let expected_level = match issue["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(result["level"], expected_level);
    }
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    for issue in issues {
        assert!(html.contains(&format!("id=\"{}\"", issue["id"].as_str().unwrap())));
    }
    assert!(
        html.contains("&#39;") || html.contains("&quot;"),
        "model text is escaped"
    );
    assert!(!html.contains("<script"));
    // The invalid case is caught: the validator is not a no-op.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("catastrophic");
    assert!(!validator.is_valid(&broken));
}
