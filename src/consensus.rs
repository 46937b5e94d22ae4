//! Consensus: group findings that describe the same problem, and rank the groups by how
//! many independent models reported them.
//!
//! This is the product. Two wordings of one bug that stay apart undercount agreement;
//! two different bugs merged let a false one borrow credibility. Clustering therefore
//! looks at location, weakness (CWE, or category) and wording together, never merges
//! two different findings of one model, and is deterministic: the same findings in any
//! order give the same issues and ids. Agreement counts distinct *families* (two servers
//! running one model are one voice) out of the families that reviewed the file
//! successfully: a model that failed on a file is not counted as disagreeing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::finding::{Category, Finding, Severity};

/// Tunable thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Findings further apart than this many lines are never the same issue.
    pub line_tolerance: u32,
    /// Minimum similarity for two findings of different models to merge.
    pub merge_threshold: f64,
    /// Minimum similarity for two findings of the same model to merge (near-duplicates).
    pub same_provider_threshold: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            line_tolerance: 3,
            merge_threshold: 0.55,
            same_provider_threshold: 0.9,
        }
    }
}

/// How many independent models reported an issue, out of how many reviewed its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Distinct families that reported it.
    pub count: usize,
    /// Families that successfully reviewed the file.
    pub of: usize,
    /// The providers that reported it, sorted.
    pub providers: Vec<String>,
}

/// One problem, as reported by one or more models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// Stable fingerprint: the same issue gets the same id on the next run.
    pub id: String,
    pub file: String,
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    pub severity: Severity,
    pub category: Category,
    pub cwe: Option<u32>,
    pub title: String,
    pub agreement: Agreement,
    pub score: f64,
    /// Every member, with each model's own wording.
    pub findings: Vec<Finding>,
}

/// Clusters `findings` and ranks the clusters.
///
/// `reviewed` maps each file to the families that reviewed it successfully; `texts`
/// maps files to their contents, used to anchor ids to code rather than line numbers.
pub fn build_issues(
    findings: Vec<Finding>,
    reviewed: &BTreeMap<String, BTreeSet<String>>,
    texts: &HashMap<String, String>,
    settings: &Settings,
) -> Vec<Issue> {
    let mut issues: Vec<Issue> = cluster(findings, settings)
        .into_iter()
        .map(|members| summarize(members, reviewed))
        .collect();
    issues.sort_by(|a, b| {
        b.agreement
            .count
            .cmp(&a.agreement.count)
            .then(b.score.total_cmp(&a.score))
            .then(b.severity.cmp(&a.severity))
            .then(a.file.cmp(&b.file))
            .then(a.start_line.cmp(&b.start_line))
            .then(a.title.cmp(&b.title))
    });
    assign_ids(&mut issues, texts);
    issues
}

/// Groups findings that describe the same problem. Deterministic in input order.
pub fn cluster(mut findings: Vec<Finding>, settings: &Settings) -> Vec<Vec<Finding>> {
    findings.sort_by(|a, b| {
        a.file
            .cmp(&b.file)
            .then(a.start_line.cmp(&b.start_line))
            .then(a.end_line.cmp(&b.end_line))
            .then(a.provider.cmp(&b.provider))
            .then(a.title.cmp(&b.title))
            .then(a.description.cmp(&b.description))
    });
    let mut clusters: Vec<Vec<Finding>> = Vec::new();
    let mut file_start = 0;
    for finding in findings {
        if clusters.get(file_start).is_some_and(|c| c[0].file != finding.file) {
            file_start = clusters.len();
        }
        let best = clusters[file_start..]
            .iter()
            .enumerate()
            .filter_map(|(i, c)| affinity(&finding, c, settings).map(|s| (i, s)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        match best {
            Some((i, _)) => clusters[file_start + i].push(finding),
            None => clusters.push(vec![finding]),
        }
    }
    clusters
}

/// How well `f` fits cluster `c` (single link), or `None` if it must not join it.
fn affinity(f: &Finding, c: &[Finding], settings: &Settings) -> Option<f64> {
    let mut best: Option<f64> = None;
    for m in c {
        let s = similarity(f, m, settings);
        let needed = if m.provider == f.provider {
            settings.same_provider_threshold
        } else {
            settings.merge_threshold
        };
        if m.provider == f.provider && s < needed {
            // A model that lists two problems near each other meant two problems.
            return None;
        }
        if s >= needed {
            best = Some(best.map_or(s, |b: f64| b.max(s)));
        }
    }
    best
}

/// Similarity of two findings in the same file, 0..1.
pub fn similarity(a: &Finding, b: &Finding, settings: &Settings) -> f64 {
    let Some(location) = location_similarity(a, b, settings.line_tolerance) else {
        return 0.0;
    };
    0.35 * location + 0.25 * weakness_similarity(a, b) + 0.4 * text_similarity(a, b)
}

fn location_similarity(a: &Finding, b: &Finding, tolerance: u32) -> Option<f64> {
    match (a.start_line.zip(a.end_line), b.start_line.zip(b.end_line)) {
        (Some((a0, a1)), Some((b0, b1))) => {
            let gap = a0.max(b0).saturating_sub(a1.min(b1));
            let overlaps = a0 <= b1 && b0 <= a1;
            if overlaps {
                Some(1.0)
            } else if gap <= tolerance {
                Some(1.0 - f64::from(gap) / f64::from(tolerance + 1))
            } else {
                None
            }
        }
        // Without lines we only know they are in the same file.
        _ => Some(0.5),
    }
}

fn weakness_similarity(a: &Finding, b: &Finding) -> f64 {
    match (a.cwe, b.cwe) {
        (Some(x), Some(y)) if x == y => 1.0,
        (Some(x), Some(y)) if cwe_family(x) == cwe_family(y) => 0.8,
        (Some(_), Some(_)) if a.category == b.category && a.category != Category::Other => 0.5,
        (Some(_), Some(_)) => 0.0,
        _ if a.category == b.category => 1.0,
        _ if a.category == Category::Other || b.category == Category::Other => 0.3,
        _ => 0.0,
    }
}

/// CWEs that name the same weakness at different levels of detail share a family.
pub fn cwe_family(cwe: u32) -> u32 {
    const FAMILIES: &[&[u32]] = &[
        &[400, 770, 409, 789, 1333],
        &[89, 564, 943],
        &[22, 23, 36, 73],
        &[327, 328, 916, 759, 760],
        &[77, 78, 88],
        &[79, 80, 83],
        &[798, 259, 321],
        &[330, 338, 331],
        &[284, 285, 862, 863, 639],
        &[287, 306, 288],
        &[20, 1284],
    ];
    FAMILIES.iter().find(|f| f.contains(&cwe)).map_or(cwe, |f| f[0])
}

fn text_similarity(a: &Finding, b: &Finding) -> f64 {
    let title = strsim::sorensen_dice(&a.title.to_lowercase(), &b.title.to_lowercase());
    let words_a = words(&format!("{} {}", a.title, a.description));
    let words_b = words(&format!("{} {}", b.title, b.description));
    let inter = words_a.intersection(&words_b).count() as f64;
    let dice = if words_a.is_empty() || words_b.is_empty() {
        0.0
    } else {
        2.0 * inter / (words_a.len() + words_b.len()) as f64
    };
    title.max(dice)
}

/// Content words of a text: lower-cased, stop words dropped, crude plural folding.
fn words(text: &str) -> BTreeSet<String> {
    const STOP: &[&str] = &[
        "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "is", "are", "be", "by", "this", "that",
        "it", "its", "as", "at", "from", "can", "could", "may", "might", "which", "when", "into", "not", "no",
        "without", "allows", "allow", "via", "user", "code", "function", "file", "an",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1)
        .map(|w| w.to_lowercase())
        .filter(|w| !STOP.contains(&w.as_str()))
        .map(|w| {
            if w.len() > 4 && w.ends_with('s') {
                w[..w.len() - 1].to_string()
            } else {
                w
            }
        })
        .collect()
}

/// One issue from its members.
fn summarize(members: Vec<Finding>, reviewed: &BTreeMap<String, BTreeSet<String>>) -> Issue {
    let families: BTreeSet<&str> = members.iter().map(|f| f.family.as_str()).collect();
    let providers: BTreeSet<String> = members.iter().map(|f| f.provider.clone()).collect();
    let file = members[0].file.clone();
    let count = families.len();
    let of = reviewed.get(&file).map_or(count, |r| r.len().max(count)).max(1);
    let severity = median_severity(&members);
    let representative = medoid(&members);
    let confidence = mean(members.iter().filter_map(|f| f.confidence.map(f64::from))).unwrap_or(0.5);
    let ratio = count as f64 / of as f64;
    let score = 0.7 * ratio + 0.2 * (severity as u8 as f64 / 4.0) + 0.1 * confidence;
    Issue {
        id: String::new(),
        start_line: median(members.iter().filter_map(|f| f.start_line)),
        end_line: median(members.iter().filter_map(|f| f.end_line)),
        severity,
        category: mode(members.iter().map(|f| f.category)).unwrap_or(Category::Other),
        cwe: mode(members.iter().filter_map(|f| f.cwe)),
        title: members[representative].title.clone(),
        agreement: Agreement {
            count,
            of,
            providers: providers.into_iter().collect(),
        },
        score: (score * 1000.0).round() / 1000.0,
        file,
        findings: members,
    }
}

/// The severity half the models put at or above: one alarmist model cannot raise it.
fn median_severity(members: &[Finding]) -> Severity {
    let mut votes: Vec<Severity> = members.iter().map(|f| f.severity).collect();
    votes.sort();
    votes[(votes.len() - 1) / 2]
}

/// The member most similar to the others: its title speaks for the issue.
fn medoid(members: &[Finding]) -> usize {
    (0..members.len())
        .map(|i| {
            let total: f64 = members.iter().map(|m| text_similarity(&members[i], m)).sum();
            (i, total + 0.001 * f64::from(members[i].severity as u8))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map_or(0, |(i, _)| i)
}

fn median(values: impl Iterator<Item = u32>) -> Option<u32> {
    let mut v: Vec<u32> = values.collect();
    v.sort_unstable();
    v.get((v.len().max(1) - 1) / 2).copied()
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The most frequent value; ties go to the smallest.
fn mode<T: Ord + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(v, _)| v)
}

/// Gives each issue an id from its file, its kind of weakness and the code at its first
/// line (whitespace-insensitive), so edits elsewhere in the file do not change it.
fn assign_ids(issues: &mut [Issue], texts: &HashMap<String, String>) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for issue in issues.iter_mut() {
        let kind = issue.cwe.map_or_else(
            || issue.category.as_str().to_string(),
            |c| format!("cwe-{}", cwe_family(c)),
        );
        let anchor = match (texts.get(&issue.file), issue.start_line) {
            (Some(text), Some(line)) => text
                .lines()
                .nth(line as usize - 1)
                .map(|l| l.split_whitespace().collect::<String>())
                .unwrap_or_default(),
            (None, Some(line)) => format!("line {line}"),
            (_, None) => issue.title.to_lowercase(),
        };
        let digest = crate::hash::sha256_hex(format!("{}\0{kind}\0{anchor}", issue.file).as_bytes());
        let base = format!("Q{}", &digest[..8]);
        let n = seen.entry(base.clone()).or_default();
        *n += 1;
        issue.id = if *n == 1 { base } else { format!("{base}-{n}") };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(provider: &str, line: u32, cwe: Option<u32>, title: &str) -> Finding {
        Finding {
            provider: provider.into(),
            model: provider.into(),
            family: provider.into(),
            file: "app.go".into(),
            start_line: Some(line),
            end_line: Some(line + 2),
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

    fn reviewed(families: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
        BTreeMap::from([("app.go".to_string(), families.iter().map(|s| s.to_string()).collect())])
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
        assert_eq!(cluster(findings, &Settings::default()).len(), 2);
    }

    #[test]
    fn different_weaknesses_on_the_same_lines_stay_apart() {
        let findings = vec![
            f("a", 10, Some(89), "SQL injection in delete handler"),
            f("b", 10, Some(862), "Missing authorization check on delete"),
        ];
        assert_eq!(cluster(findings, &Settings::default()).len(), 2);
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
}
