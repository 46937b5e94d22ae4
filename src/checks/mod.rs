//! Quorum's own findings: what it finds deterministically, without asking a model.
//!
//! Two things in the code under review concern the review itself. A secret sent to a
//! hosted model leaks it, so it is redacted first ([`redact`]); and since the models
//! then cannot see it, Quorum reports it (a hard-coded secret, CWE-798). Text addressed
//! to the AI reviewer ([`injection`]) may make a model stay silent, so Quorum reports it
//! too, and marks the models that reported nothing on such a file. These findings are
//! computed during `review`, stored in `run.json` (so `aggregate` reproduces them) and
//! become issues marked as Quorum's own: never counted as a model's vote.

pub mod injection;
pub mod redact;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ProviderConfig;
use crate::consensus::{Agreement, Issue, Source};
use crate::input::walk::SourceFile;
use crate::normalize::finding::{Category, Severity};

/// CWE-798: Use of Hard-coded Credentials.
pub const HARDCODED_SECRET_CWE: u32 = 798;
/// CWE-1427: Improper Neutralization of Input Used for LLM Prompting.
pub const PROMPT_INJECTION_CWE: u32 = 1427;

/// Marks a prompt-injection finding as found in the file's name (listed after the
/// patterns it matched).
pub const IN_FILE_NAME: &str = "in-file-name";

/// Which of Quorum's checks found something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// A secret-looking value, redacted before the code was sent.
    HardcodedSecret,
    /// Text addressed to an AI reviewer.
    PromptInjection,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::HardcodedSecret => "hardcoded-secret",
            CheckKind::PromptInjection => "prompt-injection",
        }
    }

    /// The SARIF rule id of its results.
    pub fn rule_id(self) -> String {
        format!("quorum/{}", self.as_str())
    }

    pub fn cwe(self) -> u32 {
        match self {
            CheckKind::HardcodedSecret => HARDCODED_SECRET_CWE,
            CheckKind::PromptInjection => PROMPT_INJECTION_CWE,
        }
    }

    pub fn category(self) -> Category {
        match self {
            CheckKind::HardcodedSecret => Category::Secrets,
            CheckKind::PromptInjection => Category::PromptInjection,
        }
    }

    /// The rule's description.
    pub fn description(self) -> &'static str {
        match self {
            CheckKind::HardcodedSecret => "Hard-coded secret (found by Quorum, redacted before the code was sent)",
            CheckKind::PromptInjection => "Text addressed to an AI reviewer (found by Quorum, not by a model)",
        }
    }
}

/// One finding of Quorum's own, as `run.json` keeps it. It never holds the secret
/// itself: only its kind and line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckFinding {
    pub check: CheckKind,
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// The secret's kind (`aws-access-key`), or the injection patterns that matched.
    pub what: Vec<String>,
    /// For a secret: the providers it was redacted for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redacted_for: Vec<String>,
}

/// What an issue of Quorum's own adds to the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckDetail {
    pub check: CheckKind,
    /// What was found and why it matters, in words (never the secret).
    pub description: String,
    /// For prompt injection: the providers that reviewed the file and reported nothing
    /// on it (they may have followed the injected instructions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub silent_providers: Vec<String>,
}

/// What the checks found in a review's files, and what redaction will do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checked {
    pub findings: Vec<CheckFinding>,
    /// Secret values to be replaced, per file, for `redacting` providers.
    pub redacted_values: usize,
    pub redacted_files: usize,
    /// The providers whose requests are redacted (all of them see the same text).
    pub redacting: Vec<String>,
}

impl Checked {
    /// The plan's sentence about redaction, when anything will be redacted.
    pub fn redaction_note(&self) -> Option<String> {
        (self.redacted_values > 0).then(|| self.to_string())
    }
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "Redacting {} in {} before sending to {} (each reported as a hard-coded secret)",
            plural(self.redacted_values, "secret-looking value", "secret-looking values"),
            plural(self.redacted_files, "file", "files"),
            crate::sanitize::terminal_safe(&self.redacting.join(", "))
        )
    }
}

/// Runs the checks on the files of a review: injection always, secrets where some
/// reviewer's requests are redacted.
pub fn run<'a>(files: &[SourceFile], providers: impl IntoIterator<Item = &'a ProviderConfig>) -> Checked {
    let redacting: Vec<String> = providers
        .into_iter()
        .filter(|p| redact::applies(p))
        .map(|p| p.name.clone())
        .collect();
    let mut checked = Checked {
        redacting,
        ..Checked::default()
    };
    for file in files {
        if !checked.redacting.is_empty() {
            let secrets = redact::redact(&file.text).secrets;
            checked.redacted_values += secrets.len();
            checked.redacted_files += usize::from(!secrets.is_empty());
            checked.findings.extend(secrets.into_iter().map(|s| CheckFinding {
                check: CheckKind::HardcodedSecret,
                file: file.path.clone(),
                line: s.line,
                what: vec![s.kind.name.to_string()],
                redacted_for: checked.redacting.clone(),
            }));
        }
        let in_name = injection::scan_name(&file.path);
        if !in_name.is_empty() {
            // Reported at line 1, marked as the name's: there is no line to point at.
            checked.findings.push(CheckFinding {
                check: CheckKind::PromptInjection,
                file: file.path.clone(),
                line: 1,
                what: in_name
                    .iter()
                    .map(|p| p.name.to_string())
                    .chain(std::iter::once(IN_FILE_NAME.to_string()))
                    .collect(),
                redacted_for: Vec::new(),
            });
        }
        checked
            .findings
            .extend(injection::scan(&file.text).into_iter().map(|hit| CheckFinding {
                check: CheckKind::PromptInjection,
                file: file.path.clone(),
                line: hit.line,
                what: hit.patterns.iter().map(|p| p.name.to_string()).collect(),
                redacted_for: Vec::new(),
            }));
    }
    checked
}

/// How the models fared on one file, for the issues of Quorum's own.
#[derive(Debug, Clone, Default)]
pub struct FileOutcome {
    /// Families that reviewed it successfully.
    pub families: BTreeSet<String>,
    /// Providers with a usable answer about it.
    pub answered: BTreeSet<String>,
    /// Providers that reported at least one finding in it.
    pub reported: BTreeSet<String>,
}

/// The issues of Quorum's own findings, in file and line order. Their score is the
/// highest (they are certain, and high severity), so they rank first.
pub fn issues(
    found: &[CheckFinding],
    outcomes: &BTreeMap<String, FileOutcome>,
    texts: &HashMap<String, String>,
) -> Vec<Issue> {
    let mut sorted: Vec<&CheckFinding> = found.iter().collect();
    sorted.sort_by(|a, b| (&a.file, a.line, a.check, &a.what).cmp(&(&b.file, b.line, b.check, &b.what)));
    sorted.dedup();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    sorted
        .into_iter()
        .map(|f| {
            let outcome = outcomes.get(&f.file);
            let silent: Vec<String> = match (f.check, outcome) {
                (CheckKind::PromptInjection, Some(o)) => o.answered.difference(&o.reported).cloned().collect(),
                _ => Vec::new(),
            };
            let base = fingerprint(f, texts);
            let n = seen_ids.entry(base.clone()).or_insert(0);
            *n += 1;
            let id = if *n == 1 { base } else { format!("{base}-{n}") };
            Issue {
                id,
                file: f.file.clone(),
                start_line: Some(f.line),
                end_line: Some(f.line),
                severity: Severity::High,
                category: f.check.category(),
                cwe: Some(f.check.cwe()),
                title: title(f),
                agreement: Agreement {
                    count: 0,
                    of: outcome.map_or(0, |o| o.families.len()),
                    providers: Vec::new(),
                },
                score: 1.0,
                findings: Vec::new(),
                source: Source::Quorum,
                check: Some(CheckDetail {
                    check: f.check,
                    description: description(f, &silent),
                    silent_providers: silent,
                }),
                pre_existing: false,
            }
        })
        .collect()
}

fn title(f: &CheckFinding) -> String {
    match f.check {
        CheckKind::HardcodedSecret => format!(
            "Hard-coded {} (redacted before sending to {})",
            f.what.first().map_or("secret", |w| secret_label(w)),
            f.redacted_for.join(", ")
        ),
        CheckKind::PromptInjection => {
            let first = f
                .what
                .first()
                .and_then(|w| pattern(w))
                .map_or("addresses the AI reviewer", |p| p.description);
            format!("Prompt injection: the code {first}")
        }
    }
}

fn description(f: &CheckFinding, silent: &[String]) -> String {
    match f.check {
        CheckKind::HardcodedSecret => format!(
            "A value that looks like a {} is written in the code. Quorum replaced it with a placeholder before \
             sending the file to {}, so those models did not see it; move it to a secret store or an environment \
             variable and rotate it.",
            f.what.first().map_or("secret", |w| secret_label(w)),
            f.redacted_for.join(", ")
        ),
        CheckKind::PromptInjection => {
            let what: Vec<&str> = f
                .what
                .iter()
                .filter_map(|w| pattern(w))
                .map(|p| p.description)
                .collect();
            let whose = if f.what.iter().any(|w| w == IN_FILE_NAME) {
                "The name of this file (not its text)"
            } else {
                "Text in this file"
            };
            let mut text = format!(
                "{whose} is addressed to an AI reviewer: it {}. Models may follow it and report less.",
                if what.is_empty() {
                    "addresses the reviewer".to_string()
                } else {
                    what.join("; it ")
                }
            );
            if !silent.is_empty() {
                text.push_str(&format!(
                    " {} reviewed this file and reported nothing in it: may have followed the injected instructions.",
                    silent.join(", ")
                ));
            }
            text
        }
    }
}

fn secret_label(name: &str) -> &str {
    redact::kind_by_name(name).map_or(name, |k| k.label)
}

fn pattern(name: &str) -> Option<&'static injection::InjectionPattern> {
    injection::INJECTION_PATTERNS.iter().find(|p| p.name == name)
}

/// Bytes of the hash an issue id shows (as hex, after `Q`): a report holds few of
/// Quorum's own issues, and a repeat gets a `-2` suffix anyway.
const ID_HASH_BYTES: usize = 4;

/// A stable id: the file, the check, what it found and the line's text (with any secret
/// replaced), so edits elsewhere in the file keep it. Never the secret itself.
fn fingerprint(f: &CheckFinding, texts: &HashMap<String, String>) -> String {
    let mut sha = Sha256::new();
    sha.update(b"quorum-check\0");
    sha.update(f.file.as_bytes());
    sha.update(b"\0");
    sha.update(f.check.as_str().as_bytes());
    for w in &f.what {
        sha.update(b"\0");
        sha.update(w.as_bytes());
    }
    let line = texts
        .get(&f.file)
        .and_then(|t| t.lines().nth(f.line.saturating_sub(1) as usize));
    match line {
        Some(line) => {
            sha.update(b"\0code\0");
            let line = redact::redact(line).text;
            for word in line.split_whitespace() {
                sha.update(word.as_bytes());
            }
        }
        None => {
            sha.update(b"\0line\0");
            sha.update(f.line.to_le_bytes());
        }
    }
    let digest = sha.finalize();
    let hex: String = digest[..ID_HASH_BYTES].iter().map(|b| format!("{b:02x}")).collect();
    format!("Q{hex}")
}
