//! Reading one finding object: the aliases each field goes by, and the object's entries
//! under a spelling-blind key.

use serde_json::{Map, Value};

use super::lines::{file_in, lines_in};
use super::values::{confidence_of, cwe_of, label_text, prose_text, severity_in};
use super::RawFinding;
use crate::normalize::finding::{
    shorten, MAX_DESCRIPTION_CHARS, MAX_LABEL_CHARS, MAX_PATH_CHARS, MAX_SUGGESTION_CHARS, MAX_TITLE_CHARS,
};

pub(super) const FILE_KEYS: &[&str] = &["file", "path", "filename", "filepath", "sourcefile", "uri"];
pub(super) const LOCATION_KEYS: &[&str] = &["location", "loc"];
pub(super) const START_KEYS: &[&str] = &["startline", "linestart", "start", "beginline", "fromline", "firstline"];
pub(super) const END_KEYS: &[&str] = &["endline", "lineend", "end", "lastline", "toline"];
/// Keys holding a line, a range or a location, tried when no start/end key is present.
pub(super) const LINE_KEYS: &[&str] = &[
    "line",
    "linenumber",
    "lineno",
    "lines",
    "linerange",
    "location",
    "loc",
    "region",
];
pub(super) const SEVERITY_KEYS: &[&str] = &[
    "severity",
    "risk",
    "level",
    "impact",
    "priority",
    "risklevel",
    "severitylevel",
];
const CATEGORY_KEYS: &[&str] = &["category", "type", "kind", "vulnerabilitytype", "class", "issuetype"];
/// The enclosing function; a list (`"functions": ["a", "b"]`) gives its first entry.
const FUNCTION_KEYS: &[&str] = &[
    "function",
    "functionname",
    "method",
    "methodname",
    "symbol",
    "functions",
    "functionnames",
];
const CWE_KEYS: &[&str] = &["cwe", "cweid", "cwes", "cweids"];
pub(super) const TITLE_KEYS: &[&str] = &["title", "issue", "name", "summary", "headline", "vulnerability"];
pub(super) const DESCRIPTION_KEYS: &[&str] = &[
    "description",
    "details",
    "detail",
    "message",
    "explanation",
    "analysis",
    "reason",
    "desc",
];
const SUGGESTION_KEYS: &[&str] = &[
    "suggestion",
    "fix",
    "recommendation",
    "remediation",
    "mitigation",
    "suggestedfix",
    "solution",
];
const CONFIDENCE_KEYS: &[&str] = &["confidence", "confidencescore", "certainty"];

/// Reads every field of one finding object under its known spellings, each text field
/// shortened to its limit.
pub fn finding_from_object(map: &Map<String, Value>) -> RawFinding {
    read_finding(map).0
}

/// [`finding_from_object`], and how many text fields were shortened.
pub(super) fn read_finding(map: &Map<String, Value>) -> (RawFinding, usize) {
    let mut finding = finding_as_written(map);
    let shortened = shorten_fields(&mut finding);
    (finding, shortened)
}

/// Shortens each text field of `finding` to its limit; returns how many were.
fn shorten_fields(finding: &mut RawFinding) -> usize {
    let limits = [
        (&mut finding.title, MAX_TITLE_CHARS),
        (&mut finding.description, MAX_DESCRIPTION_CHARS),
        (&mut finding.suggestion, MAX_SUGGESTION_CHARS),
        (&mut finding.file, MAX_PATH_CHARS),
        (&mut finding.function, MAX_LABEL_CHARS),
        (&mut finding.severity, MAX_LABEL_CHARS),
        (&mut finding.category, MAX_LABEL_CHARS),
    ];
    limits
        .into_iter()
        .filter_map(|(field, max)| field.as_mut().map(|text| shorten(text, max)))
        .filter(|&was_shortened| was_shortened)
        .count()
}

/// Every field of one finding object, at the length the model wrote it.
fn finding_as_written(map: &Map<String, Value>) -> RawFinding {
    let fields = Fields::new(map);
    let (file, lines_in_file) = file_in(&fields, 0);
    let lines = lines_in(&fields, 0).or(lines_in_file).unwrap_or_default();
    RawFinding {
        file,
        start_line: lines.start,
        end_line: lines.end,
        function: fields.first(FUNCTION_KEYS, label_text),
        severity: severity_in(&fields),
        category: fields.first(CATEGORY_KEYS, label_text),
        cwe: fields.first(CWE_KEYS, cwe_of),
        title: fields.first(TITLE_KEYS, prose_text),
        description: fields.first(DESCRIPTION_KEYS, prose_text),
        suggestion: fields.first(SUGGESTION_KEYS, prose_text),
        confidence: fields.first(CONFIDENCE_KEYS, confidence_of),
    }
}

/// An object's entries keyed by normalized name (lower case, without `_`, `-`, spaces
/// and dots), so that `start_line`, `startLine` and `start-line` are one key.
pub(super) struct Fields<'a> {
    entries: Vec<(String, &'a Value)>,
}

impl<'a> Fields<'a> {
    pub(super) fn new(map: &'a Map<String, Value>) -> Self {
        let entries = map.iter().map(|(key, value)| (normalize_key(key), value)).collect();
        Fields { entries }
    }

    /// The first non-null value under `aliases` (in alias order) that `read` accepts.
    pub(super) fn first<T>(&self, aliases: &[&str], mut read: impl FnMut(&'a Value) -> Option<T>) -> Option<T> {
        self.first_with_alias(aliases, |_, value| read(value))
    }

    /// Like [`Fields::first`], also telling `read` which alias matched.
    pub(super) fn first_with_alias<T>(
        &self,
        aliases: &[&str],
        mut read: impl FnMut(&str, &'a Value) -> Option<T>,
    ) -> Option<T> {
        aliases.iter().find_map(|alias| {
            self.entries
                .iter()
                .filter(|(key, value)| key == alias && !value.is_null())
                .find_map(|(_, value)| read(alias, value))
        })
    }

    pub(super) fn has_null(&self, aliases: &[&str]) -> bool {
        self.entries
            .iter()
            .any(|(key, value)| value.is_null() && aliases.contains(&key.as_str()))
    }
}

/// `startLine`, `start_line`, `start-line`, `Start Line` → `startline`.
pub(super) fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}
