//! The common finding schema, and the normalizer that maps what each model wrote into it.
//!
//! Models disagree on vocabulary ("HIGH", "severe", "SQL Injection", "CWE-89") and are
//! sometimes wrong about lines. Normalization makes their findings comparable: one
//! severity scale, one category vocabulary, lines clamped into the file (and flagged
//! when they had to be), and findings about files that were never sent dropped.

use serde::{Deserialize, Serialize};

use crate::normalize::parse::RawFinding;
pub use crate::normalize::vocabulary::{Category, Severity};

/// Limits on the text of one finding, in characters. A model's answer is untrusted: a
/// 10 MB title would otherwise be copied into every report. Each limit is well above
/// what a useful finding needs, so only flooding is cut.
///
/// A title is a one-line summary.
pub const MAX_TITLE_CHARS: usize = 200;
/// A description explains the problem in a paragraph or two.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// A suggested fix, possibly with a short code change.
pub const MAX_SUGGESTION_CHARS: usize = 2_000;
/// A file path as the model named it (the longest path Linux accepts).
pub const MAX_PATH_CHARS: usize = 4_096;
/// A name or a word: function, severity, category.
pub const MAX_LABEL_CHARS: usize = 200;

/// Shortens `text` to at most `max` characters, cut on a character boundary and ending in
/// `…` (which counts as one of them); returns whether it was shortened.
pub fn shorten(text: &mut String, max: usize) -> bool {
    let Some((past_limit, _)) = text.char_indices().nth(max) else {
        return false;
    };
    let keep = text[..past_limit]
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(past_limit, |(at, _)| at);
    text.truncate(keep);
    text.push('…');
    true
}

/// `text` shortened to at most `max` characters (see [`shorten`]).
pub fn shortened(text: &str, max: usize) -> String {
    let mut text = text.to_string();
    shorten(&mut text, max);
    text
}

/// One model's finding, in the common schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The configured provider name.
    pub provider: String,
    pub model: String,
    /// The independence group agreement is counted by.
    pub family: String,
    /// Relative to the review root; always one of the files sent.
    pub file: String,
    /// 1-based, inside the file; `None` when the model gave no usable line.
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    /// The enclosing function, method or symbol, when the model named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// True when the model's lines fell outside the file and were clamped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lines_clamped: bool,
    pub severity: Severity,
    pub category: Category,
    pub cwe: Option<u32>,
    pub title: String,
    pub description: String,
    pub suggestion: Option<String>,
    pub confidence: Option<f32>,
}

/// Who answered, about which file, and how long that file is.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub provider: &'a str,
    pub model: &'a str,
    pub family: &'a str,
    /// The file that was sent.
    pub file: &'a str,
    pub line_count: u32,
}

/// Why a raw finding was not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped {
    /// It named a file other than the one sent.
    ForeignFile(String),
    /// It says there is nothing to report ("No issues found"), in a finding's shape.
    NotAFinding,
}

/// Maps one raw finding into the common schema.
pub fn normalize(raw: &RawFinding, ctx: Context<'_>) -> Result<Finding, Dropped> {
    if says_nothing_found(raw) {
        return Err(Dropped::NotAFinding);
    }
    if let Some(named) = raw.file.as_deref() {
        // A model may name the file as the prompt wrote it: escaped, for a name with
        // control characters (whose `\` then reads as a separator, as in `named`).
        let as_prompted = crate::input::prompt::prompt_path(ctx.file).replace('\\', "/");
        if !same_file(named, ctx.file) && !same_file(named, &as_prompted) {
            return Err(Dropped::ForeignFile(named.to_string()));
        }
    }
    let lines = clamp_lines(raw.start_line, raw.end_line, ctx.line_count);
    let cwe = raw.cwe.filter(|&c| c > 0);
    let category = raw
        .category
        .as_deref()
        .and_then(Category::from_text)
        .or_else(|| cwe.and_then(Category::from_cwe))
        .or_else(|| raw.title.as_deref().and_then(Category::from_text))
        .unwrap_or(Category::Other);
    let description = clean(raw.description.as_deref(), MAX_DESCRIPTION_CHARS).unwrap_or_default();
    let title = clean(raw.title.as_deref(), MAX_TITLE_CHARS)
        .or_else(|| first_sentence(&description))
        .unwrap_or_else(|| category.as_str().to_string());
    Ok(Finding {
        provider: ctx.provider.to_string(),
        model: ctx.model.to_string(),
        family: ctx.family.to_string(),
        file: ctx.file.to_string(),
        start_line: lines.start,
        end_line: lines.end,
        function: clean(raw.function.as_deref(), MAX_LABEL_CHARS),
        lines_clamped: lines.clamped,
        severity: raw
            .severity
            .as_deref()
            .and_then(Severity::from_word)
            .unwrap_or(Severity::Medium),
        category,
        cwe,
        description: if description.is_empty() {
            title.clone()
        } else {
            description
        },
        title,
        suggestion: clean(raw.suggestion.as_deref(), MAX_SUGGESTION_CHARS),
        confidence: raw.confidence.filter(|c| c.is_finite()).map(|c| c.clamp(0.0, 1.0)),
    })
}

/// The most words (title and description together) a statement that nothing was found
/// has: "No security issues were found in this file" is short, while a longer text that
/// happens to contain "no issues" is describing something.
const MAX_NOTHING_FOUND_WORDS: usize = 12;

/// How many words from "no"/"none" the subject ("issues", "findings") may come, counting
/// "no" itself: "no security issues", "none of the findings".
const NOTHING_FOUND_REACH: usize = 4;

/// A model that found nothing sometimes says so in a finding's shape:
/// `{"summary": "No issues found"}`. Without a line, a CWE or a severity, such text is
/// not a finding.
fn says_nothing_found(raw: &RawFinding) -> bool {
    if raw.start_line.is_some() || raw.cwe.is_some() || raw.severity.is_some() {
        return false;
    }
    let text = format!(
        "{} {}",
        raw.title.as_deref().unwrap_or(""),
        raw.description.as_deref().unwrap_or("")
    )
    .to_ascii_lowercase();
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let nothing = |i: usize| matches!(words.get(i).copied(), Some("no" | "none" | "zero" | "nothing"));
    let subject = [
        "issue",
        "issues",
        "vulnerability",
        "vulnerabilities",
        "problem",
        "problems",
        "finding",
        "findings",
    ];
    words.len() <= MAX_NOTHING_FOUND_WORDS
        && (0..words.len())
            .any(|i| nothing(i) && words[i..].iter().take(NOTHING_FOUND_REACH).any(|w| subject.contains(w)))
}

/// Whether the path a model named is the file it was sent. Models echo the path with
/// or without a leading `./`, with backslashes, or with only the base name.
fn same_file(named: &str, sent: &str) -> bool {
    let named = named.trim().replace('\\', "/");
    let named = named.trim_start_matches("./").trim_start_matches('/');
    if named.is_empty() || named == sent {
        return true;
    }
    let ends_with_component =
        |long: &str, short: &str| long.ends_with(short) && long[..long.len() - short.len()].ends_with('/');
    ends_with_component(named, sent) || ends_with_component(sent, named)
}

/// A finding's lines once inside the file.
struct ClampedLines {
    start: Option<u32>,
    end: Option<u32>,
    /// Whether either line had to be moved into the file.
    clamped: bool,
}

/// Puts lines inside `1..=line_count`, in order.
fn clamp_lines(start: Option<u32>, end: Option<u32>, line_count: u32) -> ClampedLines {
    let Some(start) = start.or(end) else {
        return ClampedLines {
            start: None,
            end: None,
            clamped: false,
        };
    };
    let end = end.unwrap_or(start);
    let (lo, hi) = (start.min(end), start.max(end));
    let max = line_count.max(1);
    let (clo, chi) = (lo.clamp(1, max), hi.clamp(1, max));
    ClampedLines {
        start: Some(clo),
        end: Some(chi),
        clamped: clo != lo || chi != hi,
    }
}

/// Whitespace runs collapsed to one space, at most `max` characters (the parser has
/// already shortened what came from an answer; this holds for every other source).
fn clean(text: Option<&str>, max: usize) -> Option<String> {
    text.map(|t| {
        let mut text = t.split_whitespace().collect::<Vec<_>>().join(" ");
        shorten(&mut text, max);
        text
    })
    .filter(|t| !t.is_empty())
}

/// The most characters of a description's first sentence that stand in for a missing
/// title: a title is one short line in every report.
const MAX_DERIVED_TITLE_CHARS: usize = 80;

/// The first sentence of `text`, cut to [`MAX_DERIVED_TITLE_CHARS`] (then ending in `…`).
fn first_sentence(text: &str) -> Option<String> {
    let sentence = text.split(['.', '\n']).next()?.trim();
    if sentence.is_empty() {
        return None;
    }
    Some(match sentence.char_indices().nth(MAX_DERIVED_TITLE_CHARS) {
        Some((cut, _)) => format!("{}…", &sentence[..cut]),
        None => sentence.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            provider: "gemma",
            model: "google/gemma-3-12b",
            family: "gemma",
            file: "internal/db/users.go",
            line_count: 50,
        }
    }

    fn raw() -> RawFinding {
        RawFinding {
            start_line: Some(10),
            end_line: Some(12),
            severity: Some("high".into()),
            category: Some("SQL Injection".into()),
            title: Some("SQL injection in lookup".into()),
            description: Some("User input is concatenated into the query.".into()),
            ..RawFinding::default()
        }
    }

    #[test]
    fn maps_vocabulary() {
        let f = normalize(&raw(), ctx()).unwrap();
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.category, Category::Injection);
        assert_eq!((f.start_line, f.end_line, f.lines_clamped), (Some(10), Some(12), false));
        assert_eq!(f.file, "internal/db/users.go");
    }

    #[test]
    fn category_falls_back_to_cwe_then_title() {
        let mut r = raw();
        r.category = None;
        r.cwe = Some(22);
        assert_eq!(normalize(&r, ctx()).unwrap().category, Category::PathTraversal);
        r.cwe = None;
        r.title = Some("Hard-coded JWT secret".into());
        assert_eq!(normalize(&r, ctx()).unwrap().category, Category::Secrets);
        r.title = Some("Odd thing".into());
        assert_eq!(normalize(&r, ctx()).unwrap().category, Category::Other);
    }

    #[test]
    fn lines_outside_the_file_are_clamped_and_flagged() {
        let mut r = raw();
        r.start_line = Some(48);
        r.end_line = Some(75);
        let f = normalize(&r, ctx()).unwrap();
        assert_eq!((f.start_line, f.end_line, f.lines_clamped), (Some(48), Some(50), true));
        r.start_line = Some(9);
        r.end_line = Some(4);
        let f = normalize(&r, ctx()).unwrap();
        assert_eq!((f.start_line, f.end_line, f.lines_clamped), (Some(4), Some(9), false));
        r.start_line = None;
        r.end_line = None;
        let f = normalize(&r, ctx()).unwrap();
        assert_eq!((f.start_line, f.end_line), (None, None));
    }

    #[test]
    fn foreign_files_are_dropped_but_path_variants_are_kept() {
        for named in [
            "internal/db/users.go",
            "./internal/db/users.go",
            "users.go",
            "app/internal/db/users.go",
            "internal\\db\\users.go",
        ] {
            let mut r = raw();
            r.file = Some(named.into());
            assert!(normalize(&r, ctx()).is_ok(), "{named}");
        }
        let mut r = raw();
        r.file = Some("internal/db/admin.go".into());
        assert_eq!(
            normalize(&r, ctx()),
            Err(Dropped::ForeignFile("internal/db/admin.go".into()))
        );
        r.file = Some("sers.go".into());
        assert!(normalize(&r, ctx()).is_err());
    }

    #[test]
    fn a_file_named_as_the_prompt_escaped_it_is_the_same_file() {
        let mut c = ctx();
        c.file = "src/evil\tname.py";
        let mut r = raw();
        r.file = Some("src/evil\\tname.py".into());
        assert!(normalize(&r, c).is_ok());
        r.file = Some("src/other.py".into());
        assert!(normalize(&r, c).is_err());
    }

    #[test]
    fn a_statement_that_nothing_was_found_is_not_a_finding() {
        let said = |title: &str| RawFinding {
            title: Some(title.into()),
            ..RawFinding::default()
        };
        assert_eq!(normalize(&said("No issues found"), ctx()), Err(Dropped::NotAFinding));
        assert_eq!(
            normalize(&said("No security vulnerabilities were identified."), ctx()),
            Err(Dropped::NotAFinding)
        );
        assert!(normalize(&said("No rate limiting on login"), ctx()).is_ok());
        let mut with_line = said("No issues found");
        with_line.start_line = Some(3);
        assert!(normalize(&with_line, ctx()).is_ok());
    }

    #[test]
    fn unknown_severity_is_medium_and_confidence_is_bounded() {
        let mut r = raw();
        r.severity = Some("spicy".into());
        r.confidence = Some(3.0);
        let f = normalize(&r, ctx()).unwrap();
        assert_eq!(f.severity, Severity::Medium);
        assert_eq!(f.confidence, Some(1.0));
    }

    #[test]
    fn shorten_cuts_on_a_char_boundary_and_keeps_text_at_the_limit() {
        let mut text = "añb€c".to_string();
        assert!(shorten(&mut text, 3));
        assert_eq!(text, "añ…");
        assert!(!shorten(&mut text, 3), "shortening is idempotent");
        let mut exact = "abc".to_string();
        assert!(!shorten(&mut exact, 3));
        assert_eq!(exact, "abc");
        assert_eq!(shortened("🦀🦀🦀🦀", 2), "🦀…");
    }

    #[test]
    fn normalized_text_fields_never_pass_their_limits() {
        let mut r = raw();
        r.title = Some("t".repeat(MAX_TITLE_CHARS * 10));
        r.description = Some("d ".repeat(MAX_DESCRIPTION_CHARS * 10));
        r.suggestion = Some("s".repeat(MAX_SUGGESTION_CHARS + 1));
        r.function = Some("f".repeat(MAX_LABEL_CHARS * 3));
        let f = normalize(&r, ctx()).unwrap();
        assert_eq!(f.title.chars().count(), MAX_TITLE_CHARS);
        assert_eq!(f.description.chars().count(), MAX_DESCRIPTION_CHARS);
        assert_eq!(f.suggestion.map(|s| s.chars().count()), Some(MAX_SUGGESTION_CHARS));
        assert_eq!(f.function.map(|s| s.chars().count()), Some(MAX_LABEL_CHARS));
    }

    #[test]
    fn missing_title_comes_from_description() {
        let mut r = raw();
        r.title = None;
        assert_eq!(
            normalize(&r, ctx()).unwrap().title,
            "User input is concatenated into the query"
        );
    }
}
