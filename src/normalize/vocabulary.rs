//! The vocabulary findings are compared in: one severity scale and one category list,
//! and how a model's wording (a label, a CVSS score, a CWE, a phrase) maps into them.

use serde::{Deserialize, Serialize};

/// Where the CVSS v3 qualitative ratings start (a score of 0 is "none", above it "low").
const CVSS_CRITICAL_FROM: f32 = 9.0;
const CVSS_HIGH_FROM: f32 = 7.0;
const CVSS_MEDIUM_FROM: f32 = 4.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The CVSS v3 qualitative rating of a score.
    fn from_cvss(score: f32) -> Severity {
        match score {
            s if s >= CVSS_CRITICAL_FROM => Severity::Critical,
            s if s >= CVSS_HIGH_FROM => Severity::High,
            s if s >= CVSS_MEDIUM_FROM => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Info,
        }
    }

    /// Maps a model's wording; `None` when the word means nothing on this scale.
    pub fn from_word(word: &str) -> Option<Severity> {
        let text = word.trim().to_ascii_lowercase();
        // A CVSS score ("9.8", "CVSS 7.5") maps by its standard bands.
        let number = text.trim_start_matches("cvss").trim_start_matches(':').trim();
        if let Ok(score) = number.split_whitespace().next().unwrap_or("").parse::<f32>() {
            return Some(Severity::from_cvss(score));
        }
        // "Critical (9.8)", "High risk": the first word says it.
        let word = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .find(|w| !w.is_empty())
            .unwrap_or("");
        Some(match word {
            "critical" | "crit" | "blocker" | "p0" => Severity::Critical,
            "high" | "severe" | "major" | "error" | "important" | "p1" => Severity::High,
            "medium" | "moderate" | "med" | "warning" | "warn" | "p2" => Severity::Medium,
            "low" | "minor" | "p3" => Severity::Low,
            "info" | "informational" | "information" | "note" | "none" | "trivial" => Severity::Info,
            _ => return None,
        })
    }
}

/// The fixed category vocabulary (ARCHITECTURE.md, "The report.json contract").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Injection,
    Auth,
    AccessControl,
    Crypto,
    Secrets,
    Dos,
    PathTraversal,
    Ssrf,
    Deserialization,
    Memory,
    Concurrency,
    ErrorHandling,
    Logic,
    Config,
    /// Text in the code addressed to an AI reviewer (CWE-1427).
    PromptInjection,
    Other,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Injection => "injection",
            Category::Auth => "auth",
            Category::AccessControl => "access-control",
            Category::Crypto => "crypto",
            Category::Secrets => "secrets",
            Category::Dos => "dos",
            Category::PathTraversal => "path-traversal",
            Category::Ssrf => "ssrf",
            Category::Deserialization => "deserialization",
            Category::Memory => "memory",
            Category::Concurrency => "concurrency",
            Category::ErrorHandling => "error-handling",
            Category::Logic => "logic",
            Category::Config => "config",
            Category::PromptInjection => "prompt-injection",
            Category::Other => "other",
        }
    }

    /// The category a CWE belongs to, for the weaknesses models name most.
    pub fn from_cwe(cwe: u32) -> Option<Category> {
        Some(match cwe {
            74 | 77 | 78 | 79 | 88 | 89 | 90 | 91 | 94 | 95 | 117 | 564 | 643 | 917 | 1336 => Category::Injection,
            22 | 23 | 24 | 35 | 36 | 73 | 59 => Category::PathTraversal,
            918 => Category::Ssrf,
            259 | 321 | 798 | 312 | 522 | 532 => Category::Secrets,
            261 | 295 | 310 | 326 | 327 | 328 | 329 | 330 | 331 | 338 | 759 | 760 | 916 => Category::Crypto,
            287 | 288 | 290 | 294 | 304 | 306 | 307 | 352 | 384 | 521 | 613 | 620 | 640 | 1391 => Category::Auth,
            269 | 276 | 284 | 285 | 639 | 732 | 862 | 863 | 915 => Category::AccessControl,
            400 | 401 | 404 | 409 | 770 | 789 | 834 | 835 | 1333 => Category::Dos,
            502 => Category::Deserialization,
            119 | 120 | 121 | 122 | 125 | 190 | 415 | 416 | 476 | 787 | 824 => Category::Memory,
            362 | 366 | 367 | 667 | 833 => Category::Concurrency,
            209 | 248 | 252 | 390 | 391 | 703 | 754 | 755 => Category::ErrorHandling,
            16 | 614 | 693 | 942 | 1004 | 1021 => Category::Config,
            20 | 601 | 840 | 1284 => Category::Logic,
            1427 => Category::PromptInjection,
            _ => return None,
        })
    }

    /// Maps free text ("SQL Injection", "Hard-coded credentials") to a category by keyword.
    pub fn from_text(text: &str) -> Option<Category> {
        let t = text.trim().to_ascii_lowercase();
        let exact = [
            Category::Injection,
            Category::Auth,
            Category::AccessControl,
            Category::Crypto,
            Category::Secrets,
            Category::Dos,
            Category::PathTraversal,
            Category::Ssrf,
            Category::Deserialization,
            Category::Memory,
            Category::Concurrency,
            Category::ErrorHandling,
            Category::Logic,
            Category::Config,
            Category::PromptInjection,
            Category::Other,
        ];
        if let Some(c) = exact.iter().find(|c| c.as_str() == t.replace([' ', '_'], "-")) {
            return Some(*c);
        }
        // Checked in order, each keyword at the start of a word ("rce" must not match
        // "resource"); injection before path traversal ("LDAP directory injection").
        const KEYWORDS: &[(&[&str], Category)] = &[
            (&["ssrf", "server-side request", "server side request"], Category::Ssrf),
            (
                &[
                    "inject",
                    "sqli",
                    "xss",
                    "cross-site scripting",
                    "cross site scripting",
                    "command exec",
                    "rce",
                    "remote code execution",
                    "template",
                ],
                Category::Injection,
            ),
            (
                &[
                    "traversal",
                    "directory",
                    "path manipulation",
                    "file inclusion",
                    "zip slip",
                ],
                Category::PathTraversal,
            ),
            (&["deserializ", "unpickl", "unmarshal"], Category::Deserialization),
            (
                &[
                    "hard-coded",
                    "hardcoded",
                    "hard coded",
                    "secret",
                    "credential",
                    "api key",
                    "password in",
                ],
                Category::Secrets,
            ),
            (
                &[
                    "authoriz",
                    "access control",
                    "access-control",
                    "idor",
                    "privilege",
                    "permission",
                    "insecure direct",
                ],
                Category::AccessControl,
            ),
            (
                &[
                    "csrf", "authent", "session", "login", "password", "brute", "jwt", "token",
                ],
                Category::Auth,
            ),
            (
                &[
                    "crypt",
                    "encrypt",
                    "decrypt",
                    "unencrypt",
                    "hash",
                    "md5",
                    "sha1",
                    "random",
                    "tls",
                    "certificate",
                    "cipher",
                ],
                Category::Crypto,
            ),
            (
                &["denial", "dos", "resource", "exhaust", "unbounded", "redos"],
                Category::Dos,
            ),
            (
                &[
                    "buffer",
                    "overflow",
                    "memory",
                    "use after free",
                    "use-after-free",
                    "null pointer",
                    "out-of-bounds",
                ],
                Category::Memory,
            ),
            (
                &["race", "concurren", "deadlock", "toctou", "thread"],
                Category::Concurrency,
            ),
            (&["error", "exception", "panic", "unchecked"], Category::ErrorHandling),
            (
                &["config", "cors", "header", "debug", "cookie", "misconfig"],
                Category::Config,
            ),
            (&["logic", "validation", "redirect"], Category::Logic),
        ];
        KEYWORDS
            .iter()
            .find(|(words, _)| words.iter().any(|w| at_word_start(&t, w)))
            .map(|(_, c)| *c)
    }
}

/// Whether `word` occurs in `text` at the start of a word.
fn at_word_start(text: &str, word: &str) -> bool {
    text.match_indices(word)
        .any(|(i, _)| i == 0 || !text[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_whole_word_starts_and_injection_wins_over_directory() {
        assert_eq!(Category::from_text("Resource exhaustion"), Some(Category::Dos));
        assert_eq!(Category::from_text("Brute force on login"), Some(Category::Auth));
        assert_eq!(Category::from_text("Source of randomness"), Some(Category::Crypto));
        assert_eq!(
            Category::from_text("LDAP directory injection"),
            Some(Category::Injection)
        );
        assert_eq!(Category::from_text("RCE via eval"), Some(Category::Injection));
        assert_eq!(Category::from_text("Unencrypted transport"), Some(Category::Crypto));
        assert_eq!(Category::from_text("Windows path handling"), None);
    }

    #[test]
    fn severity_labels_and_cvss_scores_are_read() {
        assert_eq!(Severity::from_word("Critical (9.8)"), Some(Severity::Critical));
        assert_eq!(Severity::from_word("High risk"), Some(Severity::High));
        assert_eq!(Severity::from_word("9.8"), Some(Severity::Critical));
        assert_eq!(Severity::from_word("CVSS: 5.3"), Some(Severity::Medium));
        assert_eq!(Severity::from_word("0"), Some(Severity::Info));
        assert_eq!(Severity::from_word("spicy"), None);
    }
}
