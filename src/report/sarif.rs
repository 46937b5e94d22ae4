//! `report.sarif`: the consensus as SARIF 2.1.0, the format code-scanning tools read.
//!
//! Uploading it to GitHub code scanning (or opening it in an IDE's SARIF viewer) puts
//! each issue on its lines. One result per issue: its level from the median severity,
//! its rank from the consensus score, its agreement (how many independent models, which
//! ones) in the message and the properties, and its stable id as a partial fingerprint,
//! so a viewer tracks the same issue across runs. Rules are the weaknesses (CWE, or
//! Quorum's category when no CWE was given), tagged the way GitHub reads CWE tags.
//!
//! For GitHub code scanning: paths are relative to the repository root (`%SRCROOT%`),
//! even when a subfolder or one file was reviewed (see [`RepoPath`]); each rule has a
//! `security-severity` (the highest of its issues, on CodeQL's scale) and a `precision`
//! (the best agreement among its issues: see [`precision`]); the message carries the
//! explanation and the fix, not only the title.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag, Region,
    ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use super::{cwe_url, explanation, fix, RepoPath};
use crate::analysis::Analysis;
use crate::consensus::Issue;
use crate::normalize::finding::Severity;

/// Where the SARIF 2.1.0 schema lives, as the log's `$schema`.
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The base every artifact URI is relative to: the repository root.
const SRCROOT: &str = "%SRCROOT%";

/// CodeQL's `security-severity` scale (GitHub shows ≥ 9.0 as critical, ≥ 7.0 high,
/// ≥ 4.0 medium, above 0 low): each severity at a point inside its band.
const SECURITY_SEVERITY_CRITICAL: &str = "9.5";
const SECURITY_SEVERITY_HIGH: &str = "8.0";
const SECURITY_SEVERITY_MEDIUM: &str = "5.5";
const SECURITY_SEVERITY_LOW: &str = "3.0";
/// An informational issue is not a vulnerability: GitHub reads 0.0 as no severity.
const SECURITY_SEVERITY_INFO: &str = "0.0";

/// The SARIF log of an analysis, pretty-printed, with paths relative to the review root.
pub fn sarif(a: &Analysis) -> Result<String> {
    sarif_in(a, &RepoPath::default())
}

/// The SARIF log of an analysis, its paths relative to the repository root `repo` gives.
pub fn sarif_in(a: &Analysis, repo: &RepoPath) -> Result<String> {
    let listed = listed(a);
    let issues: Vec<&Issue> = listed.iter().map(|l| l.issue).collect();
    let rules = rules(issues.iter().copied());
    let rule_index: BTreeMap<String, i64> = rules.keys().enumerate().map(|(i, id)| (id.clone(), i as i64)).collect();
    let results = listed
        .iter()
        .map(|l| triaged(result(l.issue, &rule_index, repo, &super::judge_lines(a, l.issue)), l))
        .collect::<Result<Vec<SarifResult>>>()?;
    let srcroot = ArtifactLocation::builder()
        .description(
            Message::builder()
                .text("The root of the git repository reviewed (outside git: the folder reviewed).")
                .build(),
        )
        .build();
    let driver = ToolComponent::builder()
        .name("quorum")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/quorum-review/quorum")
        .rules(rules.into_values().collect::<Vec<_>>())
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .original_uri_base_ids(BTreeMap::from([(SRCROOT.to_string(), srcroot)]))
        .properties(
            PropertyBag::builder()
                .additional_properties(BTreeMap::from([
                    ("runId".to_string(), json!(a.meta.run_id)),
                    (
                        "providers".to_string(),
                        json!(a.providers.iter().map(|p| &p.name).collect::<Vec<_>>()),
                    ),
                ]))
                .build(),
        )
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    Ok(serde_json::to_string_pretty(&log)? + "\n")
}

/// The rule an issue reports under: Quorum's own check, else its CWE, else its category.
fn rule_id(issue: &Issue) -> String {
    if let Some(check) = &issue.check {
        return check.check.rule_id();
    }
    match issue.cwe {
        Some(cwe) => format!("CWE-{cwe}"),
        None => format!("quorum/{}", issue.category.as_str()),
    }
}

/// GitHub's `security-severity` of a severity.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => SECURITY_SEVERITY_CRITICAL,
        Severity::High => SECURITY_SEVERITY_HIGH,
        Severity::Medium => SECURITY_SEVERITY_MEDIUM,
        Severity::Low => SECURITY_SEVERITY_LOW,
        Severity::Info => SECURITY_SEVERITY_INFO,
    }
}

/// How often an issue is right, in SARIF's words, from how many independent model
/// families agree on it: `very-high` when every family that reviewed the file reported
/// it (and for Quorum's own deterministic checks), `high` for two or more, `medium` for
/// one alone. Ranked so a rule takes its best issue's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precision {
    Medium,
    High,
    VeryHigh,
}

impl Precision {
    fn of(issue: &Issue) -> Precision {
        let agreement = &issue.agreement;
        match (&issue.check, agreement.count) {
            (Some(_), _) => Precision::VeryHigh,
            (None, n) if n >= 2 && n >= agreement.of => Precision::VeryHigh,
            (None, n) if n >= 2 => Precision::High,
            _ => Precision::Medium,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Precision::Medium => "medium",
            Precision::High => "high",
            Precision::VeryHigh => "very-high",
        }
    }
}

/// The highest severity and the best precision among a rule's issues.
#[derive(Clone, Copy)]
struct RuleStrength {
    severity: Severity,
    precision: Precision,
}

fn rules<'a>(issues: impl Iterator<Item = &'a Issue> + Clone) -> BTreeMap<String, ReportingDescriptor> {
    let mut strength: BTreeMap<String, RuleStrength> = BTreeMap::new();
    for issue in issues.clone() {
        let seen = RuleStrength {
            severity: issue.severity,
            precision: Precision::of(issue),
        };
        strength
            .entry(rule_id(issue))
            .and_modify(|s| {
                s.severity = s.severity.max(seen.severity);
                s.precision = s.precision.max(seen.precision);
            })
            .or_insert(seen);
    }
    let mut rules = BTreeMap::new();
    for issue in issues {
        let id = rule_id(issue);
        rules.entry(id.clone()).or_insert_with(|| {
            let mut tags = vec!["security".to_string(), issue.category.as_str().to_string()];
            if let Some(cwe) = issue.cwe {
                tags.push(format!("external/cwe/cwe-{cwe}"));
            }
            let described = match (&issue.check, issue.cwe) {
                (Some(check), _) => check.check.description().to_string(),
                (None, Some(cwe)) => format!("CWE-{cwe} ({})", issue.category.as_str()),
                (None, None) => format!("{} (no CWE given)", issue.category.as_str()),
            };
            let strongest = strength[&id];
            let graded = BTreeMap::from([
                (
                    "security-severity".to_string(),
                    json!(security_severity(strongest.severity)),
                ),
                ("precision".to_string(), json!(strongest.precision.as_str())),
            ]);
            let builder = ReportingDescriptor::builder()
                .id(id.clone())
                .short_description(MultiformatMessageString::builder().text(described).build())
                .properties(PropertyBag::builder().tags(tags).additional_properties(graded).build());
            match issue.cwe {
                Some(cwe) => builder.help_uri(cwe_url(cwe)).build(),
                None => builder.build(),
            }
        });
    }
    rules
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
    }
}

fn result(issue: &Issue, rule_index: &BTreeMap<String, i64>, repo: &RepoPath, judge_lines: &[String]) -> SarifResult {
    let id = rule_id(issue);
    let agreement = &issue.agreement;
    let mut text = match &issue.check {
        Some(check) => format!(
            "{} (found by Quorum's own check, not by a model). {}",
            issue.title, check.description
        ),
        None => format!(
            "{} (agreed by {} of {} independent models: {})",
            issue.title,
            agreement.count,
            agreement.of,
            agreement.providers.join(", ")
        ),
    };
    if let (None, Some(why)) = (&issue.check, explanation(issue)) {
        text.push_str(&format!("\n\n{why}"));
    }
    if let Some(fix) = fix(issue) {
        text.push_str(&format!("\n\nFix: {fix}"));
    }
    for line in judge_lines {
        text.push_str(&format!("\n\n{line}"));
    }
    let region = match (issue.start_line, issue.end_line) {
        (Some(start), end) => Some(
            Region::builder()
                .start_line(i64::from(start))
                .end_line(i64::from(end.unwrap_or(start).max(start)))
                .build(),
        ),
        _ => None,
    };
    let artifact = ArtifactLocation::builder()
        .uri(uri_path(&repo.of(&issue.file)))
        .uri_base_id(SRCROOT)
        .build();
    let physical = match region {
        Some(region) => PhysicalLocation::builder()
            .artifact_location(artifact)
            .region(region)
            .build(),
        None => PhysicalLocation::builder().artifact_location(artifact).build(),
    };
    let mut properties = BTreeMap::from([
        ("quorumId".to_string(), json!(issue.id)),
        ("severity".to_string(), json!(issue.severity.as_str())),
        ("agreement".to_string(), json!(agreement)),
        ("score".to_string(), json!(issue.score)),
        ("precision".to_string(), json!(Precision::of(issue).as_str())),
        ("source".to_string(), json!(issue.source)),
        (
            "findings".to_string(),
            json!(issue
                .findings
                .iter()
                .map(|f| json!({"provider": f.provider, "title": f.title}))
                .collect::<Vec<_>>()),
        ),
    ]);
    if let Some(check) = &issue.check {
        properties.insert("check".to_string(), json!(check));
    }
    SarifResult::builder()
        .rule_id(id.clone())
        .rule_index(rule_index[&id])
        .level(level(issue.severity))
        .message(Message::builder().text(text).build())
        .locations(vec![Location::builder().physical_location(physical).build()])
        .partial_fingerprints(BTreeMap::from([("quorumIssueId/v1".to_string(), issue.id.clone())]))
        .rank((issue.score * 100.0).clamp(0.0, 100.0))
        .properties(PropertyBag::builder().additional_properties(properties).build())
        .build()
}

/// An issue as SARIF lists it: what the triage decided about it.
struct Listed<'a> {
    issue: &'a Issue,
    /// `new`, `unchanged` or `absent`, with `--baseline`.
    baseline_state: Option<&'static str>,
    /// Why it was suppressed, for a suppressed issue.
    justification: Option<&'a str>,
}

/// Every issue SARIF carries: those reported; with `--baseline`, those left out as
/// unchanged and those of the baseline no longer found (`absent`); and the suppressed
/// ones, as dismissed results, so code scanning shows them closed with their reason.
fn listed(a: &Analysis) -> Vec<Listed<'_>> {
    let baseline = a.triage.baseline.as_ref();
    let state = |known: bool| baseline.map(|_| if known { "unchanged" } else { "new" });
    let mut listed: Vec<Listed> = a
        .issues
        .iter()
        .map(|issue| Listed {
            issue,
            baseline_state: state(false),
            justification: None,
        })
        .collect();
    for s in &a.triage.suppressed {
        listed.push(Listed {
            issue: &s.issue,
            baseline_state: state(s.in_baseline),
            justification: Some(&s.reason),
        });
    }
    if let Some(b) = baseline {
        let unchanged = b.unchanged.iter().map(|issue| (issue, "unchanged"));
        for (issue, state) in unchanged.chain(b.absent.iter().map(|issue| (issue, "absent"))) {
            listed.push(Listed {
                issue,
                baseline_state: Some(state),
                justification: None,
            });
        }
    }
    listed
}

/// `result` with its `baselineState` and, when suppressed, its external suppression.
fn triaged(result: SarifResult, listed: &Listed) -> Result<SarifResult> {
    let mut value = serde_json::to_value(result)?;
    if let Some(state) = listed.baseline_state {
        value["baselineState"] = json!(state);
    }
    if let Some(reason) = listed.justification {
        value["suppressions"] = json!([{"kind": "external", "status": "accepted", "justification": reason}]);
    }
    Ok(serde_json::from_value(value)?)
}

/// A relative path as a URI reference: `/` separators, and characters that are not
/// allowed in a URI path percent-encoded.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri_path("src/db.go"), "src/db.go");
        assert_eq!(uri_path("my dir/ü#1.go"), "my%20dir/%C3%BC%231.go");
    }

    #[test]
    fn security_severity_follows_codeqls_bands() {
        let score = |s: Severity| security_severity(s).parse::<f64>().unwrap();
        assert!(score(Severity::Critical) >= 9.0);
        assert!((7.0..9.0).contains(&score(Severity::High)));
        assert!((4.0..7.0).contains(&score(Severity::Medium)));
        assert!((0.1..4.0).contains(&score(Severity::Low)));
        assert_eq!(score(Severity::Info), 0.0);
    }

    #[test]
    fn severities_map_to_levels() {
        assert!(matches!(level(Severity::Critical), ResultLevel::Error));
        assert!(matches!(level(Severity::Medium), ResultLevel::Warning));
        assert!(matches!(level(Severity::Info), ResultLevel::Note));
    }
}
