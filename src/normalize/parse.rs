//! Turning a model's raw answer text into raw findings.
//!
//! Models are asked to answer with JSON matching `config/finding.schema.json`, but what
//! comes back varies a lot: reasoning wrapped in `<think>` tags (or only the closing tag
//! survives), JSON inside a Markdown fence or between sentences of prose, trailing
//! commas, `{"issues": [...]}` instead of `{"findings": [...]}`, `startLine` or
//! `"lines": "40-44"` instead of `start_line`, `"CWE-89: …"` instead of `89`, confidence
//! as `85` or `"high"`. A single strict `serde_json::from_str` would throw away most of
//! those answers, so this module accepts all of it without panicking and returns each
//! finding as the model wrote it ([`RawFinding`]). Mapping the vocabulary and deciding
//! what is usable is the normalizer's job. When nothing usable is found, [`ParseError`]
//! says why and quotes the start of the answer.

use serde_json::{Map, Number, Value};

use crate::normalize::finding::{
    shorten, MAX_DESCRIPTION_CHARS, MAX_LABEL_CHARS, MAX_PATH_CHARS, MAX_SUGGESTION_CHARS, MAX_TITLE_CHARS,
};

/// One finding as the model wrote it, before normalization. Every field optional: the
/// normalizer decides what is usable.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RawFinding {
    pub file: Option<String>,
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    /// The enclosing function, method or symbol, as written.
    pub function: Option<String>,
    /// Lower-cased and trimmed, as written (the normalizer maps the vocabulary).
    pub severity: Option<String>,
    /// Trimmed, as written (the normalizer maps the vocabulary).
    pub category: Option<String>,
    pub cwe: Option<u32>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub suggestion: Option<String>,
    /// 0..1; a value given as 0..100 (e.g. 85) becomes 0.85; "high"/"medium"/"low"
    /// become 0.9/0.6/0.3.
    pub confidence: Option<f32>,
}

/// The findings read from one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub findings: Vec<RawFinding>,
    /// items that were not objects or had no title/description/category at all
    pub skipped: usize,
    /// What of the answer went past the limits and was left out.
    pub cut: Cut,
}

/// The most findings read from one answer. A careful review of one file (or one part of
/// a file) rarely lists more than a few dozen; 200 leaves room for a thorough model on a
/// long file, while an answer listing thousands is flooding the report, and clustering
/// and every report would pay for each one.
pub const MAX_FINDINGS_PER_ANSWER: usize = 200;

/// What of one answer was left out because it went past a limit. The answer is still
/// used: its first [`MAX_FINDINGS_PER_ANSWER`] findings, each text field shortened to its
/// limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cut {
    /// Items of the findings list after the first [`MAX_FINDINGS_PER_ANSWER`] findings,
    /// not read.
    pub findings: usize,
    /// Text fields (title, description, suggestion, file, labels) shortened to their
    /// limit.
    pub fields: usize,
}

impl Cut {
    pub fn is_empty(&self) -> bool {
        *self == Cut::default()
    }
}

/// Why an answer yielded no list of findings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("the answer is empty")]
    Empty,
    #[error("no JSON found in the answer: {excerpt}")]
    NoJson { excerpt: String },
    #[error("the answer's JSON has no list of findings: {excerpt}")]
    NoFindingsList { excerpt: String },
    #[error(
        "none of the answer's {skipped} findings could be read (not objects, or no title, description or category)"
    )]
    NoReadableFindings { skipped: usize },
}

/// Reads the findings out of a model's answer: strips reasoning, finds the JSON (whole
/// text, fenced block, or a bracketed region inside prose), locates the list of findings
/// and reads each item's fields under their many spellings. Never panics.
pub fn parse_findings(text: &str) -> Result<Parsed, ParseError> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let answer = strip_reasoning(text);
    let answer = answer.trim();
    if answer.is_empty() {
        return Err(ParseError::NoJson { excerpt: excerpt(text) });
    }
    let items = find_findings(answer, 0)?;
    let parsed = collect_findings(items);
    // A list of which nothing could be read is not "no problems found".
    if parsed.findings.is_empty() && parsed.skipped > 0 {
        return Err(ParseError::NoReadableFindings {
            skipped: parsed.skipped,
        });
    }
    Ok(parsed)
}

// ---------------------------------------------------------------------------------------
// Reasoning

/// Reasoning tags some models wrap their thinking in, as (opening, closing) pairs.
const REASONING_TAGS: [(&str, &str); 2] = [("<think>", "</think>"), ("<thinking>", "</thinking>")];

/// Removes reasoning from an answer: text up to a closing tag whose opening tag is
/// missing, every complete `<think>…</think>` / `<thinking>…</thinking>` block, and
/// everything from an opening tag that is never closed (the answer ran out inside it).
pub fn strip_reasoning(text: &str) -> String {
    // Reasoning comes before the answer. An answer that starts as JSON (or a fenced
    // block) has none, and a `</think>` inside it is content: a finding about LLM output
    // handling may well quote one.
    let start = text.trim_start();
    if start.starts_with(['{', '[']) || start.starts_with("```") {
        return text.to_string();
    }
    let without_orphans = drop_before_orphan_closers(text);
    remove_reasoning_blocks(without_orphans)
}

/// Drops everything up to and including a closing tag whose opening tag never appears.
fn drop_before_orphan_closers(text: &str) -> &str {
    let mut rest = text;
    for (open, close) in REASONING_TAGS {
        if find_ci(rest, open).is_some() {
            continue;
        }
        if let Some(at) = find_ci(rest, close) {
            rest = rest.get(at + close.len()..).unwrap_or("");
        }
    }
    rest
}

/// Removes complete reasoning blocks, and the tail after an unclosed opening tag.
fn remove_reasoning_blocks(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, open, close)) = first_opening_tag(rest) {
        kept.push_str(rest.get(..at).unwrap_or(""));
        let inside = rest.get(at + open.len()..).unwrap_or("");
        match find_ci(inside, close) {
            Some(end) => rest = inside.get(end + close.len()..).unwrap_or(""),
            None => return kept,
        }
    }
    kept.push_str(rest);
    kept
}

/// The earliest reasoning opening tag in `text`, with its position and closing tag.
/// Looks at each `<` once: searching for every tag from the start on each call would
/// make an answer of many short reasoning blocks quadratic.
fn first_opening_tag(text: &str) -> Option<(usize, &'static str, &'static str)> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(offset) = bytes.get(from..)?.iter().position(|&b| b == b'<') {
        let at = from + offset;
        let rest = bytes.get(at..)?;
        let tag = REASONING_TAGS.iter().find(|(open, _)| {
            rest.get(..open.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(open.as_bytes()))
        });
        if let Some(&(open, close)) = tag {
            return Some((at, open, close));
        }
        from = at + 1;
    }
    None
}

/// Byte position of an ASCII `needle` in `haystack`, ignoring ASCII case. The position
/// is a char boundary because the needle starts with an ASCII byte.
fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

// ---------------------------------------------------------------------------------------
// Finding the JSON

/// Characters of the answer quoted in errors.
const EXCERPT_CHARS: usize = 200;

/// How many times a JSON string holding JSON (a double-encoded answer) is unwrapped.
const MAX_ENCODED_DEPTH: usize = 2;

/// Bytes the bracket scanner may examine in one answer, so that pathological input
/// (thousands of unclosed brackets) cannot make parsing quadratic.
const SCAN_BUDGET: usize = 16 * 1024 * 1024;

/// The first ~200 characters of `text` with whitespace runs collapsed to single spaces,
/// cut on a char boundary, with `…` when something was left off.
pub fn excerpt(text: &str) -> String {
    let mut words = text.split_whitespace();
    let mut out = String::new();
    let mut count = 0;
    let mut truncated = false;
    'words: for (index, word) in words.by_ref().enumerate() {
        let separator = if index == 0 { None } else { Some(' ') };
        for ch in separator.into_iter().chain(word.chars()) {
            if count == EXCERPT_CHARS {
                truncated = true;
                break 'words;
            }
            out.push(ch);
            count += 1;
        }
    }
    if truncated {
        out.push('…');
    }
    out
}

/// Locates the list of findings in an answer with reasoning already removed: the whole
/// text as JSON, else fenced blocks, else bracketed regions inside prose.
fn find_findings(answer: &str, depth: usize) -> Result<Vec<Value>, ParseError> {
    if let Some(value) = parse_json_lenient(answer) {
        return findings_in_whole(value, answer, depth);
    }
    let mut harvest = Harvest::default();
    if let Some(items) = search_fences(answer, &mut harvest) {
        return Ok(items);
    }
    if let Some(items) = search_regions(answer, &mut harvest) {
        return Ok(items);
    }
    Err(harvest.into_error(answer))
}

/// The findings when the whole answer is JSON: there is nothing else to look at, so a
/// value with no list is an error rather than a reason to keep searching.
fn findings_in_whole(value: Value, answer: &str, depth: usize) -> Result<Vec<Value>, ParseError> {
    if let Value::String(inner) = &value {
        if depth < MAX_ENCODED_DEPTH {
            let inner = strip_reasoning(inner);
            return find_findings(inner.trim(), depth + 1);
        }
    }
    match locate(value, Scope::Whole) {
        Located::List(items) => Ok(items),
        Located::Single(item) => Ok(vec![item]),
        Located::Nothing => Err(ParseError::NoFindingsList {
            excerpt: excerpt(answer),
        }),
    }
}

/// What the JSON candidates of one search stage have yielded so far.
#[derive(Default)]
struct Harvest {
    singles: Vec<Value>,
    saw_empty_list: bool,
    /// Excerpt of the first JSON that held no findings, for the error.
    json_without_list: Option<String>,
}

impl Harvest {
    /// Records one JSON value found in the answer; returns the findings when this value
    /// settles the search (a non-empty list).
    fn offer(&mut self, value: Value, source: &str) -> Option<Vec<Value>> {
        match locate(value, Scope::Embedded) {
            Located::List(items) if !items.is_empty() => return Some(items),
            Located::List(_) => self.saw_empty_list = true,
            Located::Single(item) => self.singles.push(item),
            Located::Nothing => {
                self.json_without_list.get_or_insert_with(|| excerpt(source));
            }
        }
        None
    }

    /// Ends a stage: separate single-finding objects win over an empty list; with
    /// neither, the search goes on to the next stage.
    fn finish_stage(&mut self) -> Option<Vec<Value>> {
        if !self.singles.is_empty() {
            return Some(std::mem::take(&mut self.singles));
        }
        self.saw_empty_list.then(Vec::new)
    }

    fn into_error(self, answer: &str) -> ParseError {
        match self.json_without_list {
            Some(excerpt) => ParseError::NoFindingsList { excerpt },
            None => ParseError::NoJson {
                excerpt: excerpt(answer),
            },
        }
    }
}

/// Tries the content of each Markdown code fence, in order.
fn search_fences(answer: &str, harvest: &mut Harvest) -> Option<Vec<Value>> {
    for block in fenced_blocks(answer) {
        if let Some(value) = parse_json_lenient(block) {
            if let Some(items) = harvest.offer(value, block) {
                return Some(items);
            }
        }
    }
    harvest.finish_stage()
}

/// The contents of the ```` ``` ```` fences in `text` (language tag removed); a fence
/// left open runs to the end of the text.
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after_ticks = rest.get(open..).unwrap_or("").trim_start_matches('`');
        let body = after_ticks.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+'));
        match body.find("```") {
            Some(close) => {
                blocks.push(body.get(..close).unwrap_or(""));
                rest = body.get(close..).unwrap_or("").trim_start_matches('`');
            }
            None => {
                blocks.push(body);
                break;
            }
        }
    }
    blocks
}

/// Scans for balanced `{…}` / `[…]` regions from each candidate start position in turn;
/// a region that parses is skipped over as a whole, one that does not is retried from
/// the next bracket.
fn search_regions(answer: &str, harvest: &mut Harvest) -> Option<Vec<Value>> {
    let bytes = answer.as_bytes();
    let mut budget = SCAN_BUDGET;
    let mut position = 0;
    while let Some(start) = next_opening_bracket(bytes, position) {
        position = start + 1;
        let Some(end) = balanced_end(bytes, start, &mut budget) else {
            if budget == 0 {
                break;
            }
            continue;
        };
        let Some(region) = answer.get(start..end) else {
            continue;
        };
        if let Some(value) = parse_json_lenient(region) {
            if let Some(items) = harvest.offer(value, region) {
                return Some(items);
            }
            position = end;
        }
    }
    harvest.finish_stage()
}

fn next_opening_bracket(bytes: &[u8], from: usize) -> Option<usize> {
    let offset = bytes.get(from..)?.iter().position(|&b| b == b'{' || b == b'[')?;
    Some(from + offset)
}

/// One past the bracket closing the one at `start`, skipping brackets inside JSON
/// strings; `None` when brackets are mismatched, never closed, or the budget runs out.
/// Working on bytes is safe: every byte it looks at is ASCII, and UTF-8 continuation
/// bytes are never ASCII.
fn balanced_end(bytes: &[u8], start: usize, budget: &mut usize) -> Option<usize> {
    let mut closers = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &byte) in bytes.get(start..)?.iter().enumerate() {
        *budget = budget.checked_sub(1)?;
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => closers.push(b'}'),
            b'[' => closers.push(b']'),
            b'}' | b']' => {
                if closers.pop() != Some(byte) {
                    return None;
                }
                if closers.is_empty() {
                    return Some(start + offset + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses an object, array or string; if that fails, retries with trailing commas
/// before `]`/`}` removed.
fn parse_json_lenient(text: &str) -> Option<Value> {
    let text = text.trim();
    if !text.starts_with(['{', '[', '"']) {
        return None;
    }
    if let Ok(value) = serde_json::from_str(text) {
        return Some(value);
    }
    let repaired = remove_trailing_commas(text)?;
    serde_json::from_str(&repaired).ok()
}

/// `text` without commas that directly precede `]` or `}` (outside strings), or `None`
/// when there were none.
fn remove_trailing_commas(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut changed = false;
    for (at, ch) in text.char_indices() {
        if in_string {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if ch == '"' {
            in_string = true;
        } else if ch == ',' && closes_next(text.get(at + 1..).unwrap_or("")) {
            changed = true;
            continue;
        }
        out.push(ch);
    }
    changed.then_some(out)
}

fn closes_next(rest: &str) -> bool {
    matches!(rest.trim_start().chars().next(), Some(']' | '}'))
}

// ---------------------------------------------------------------------------------------
// Locating the list of findings

/// Keys (normalized) under which models put their list of findings, in priority order.
const LIST_KEYS: &[&str] = &["findings", "issues", "vulnerabilities", "results", "problems"];

/// How deep inside wrapper objects (`{"review": {"findings": …}}`) the list is sought.
const MAX_WRAPPER_DEPTH: usize = 2;

/// Where a JSON value came from, which decides how much a bare array is trusted.
#[derive(Clone, Copy, PartialEq)]
enum Scope {
    /// The whole answer: any top-level array is the list of findings.
    Whole,
    /// Found inside prose or a fence: an array counts only if it is empty or holds an
    /// object, so that `[1]` in a sentence is not taken for the answer.
    Embedded,
}

enum Located {
    List(Vec<Value>),
    Single(Value),
    Nothing,
}

fn locate(value: Value, scope: Scope) -> Located {
    match value {
        Value::Array(items) if scope == Scope::Whole || is_plausible_list(&items) => Located::List(items),
        Value::Object(map) => locate_in_object(map),
        _ => Located::Nothing,
    }
}

fn is_plausible_list(items: &[Value]) -> bool {
    items.is_empty() || items.iter().any(Value::is_object)
}

/// A list under a known key (here or in a wrapper object), else the object itself when
/// it looks like one finding, else a wrapped object that looks like one finding.
fn locate_in_object(map: Map<String, Value>) -> Located {
    if let Some(items) = list_in_object(&map, 0) {
        return Located::List(items);
    }
    if looks_like_finding(&map) {
        return Located::Single(Value::Object(map));
    }
    map.into_iter()
        .find_map(|(_, value)| match value {
            Value::Object(inner) if looks_like_finding(&inner) => Some(Value::Object(inner)),
            _ => None,
        })
        .map_or(Located::Nothing, Located::Single)
}

/// The array under a list key of `map` or of an object nested in it.
fn list_in_object(map: &Map<String, Value>, depth: usize) -> Option<Vec<Value>> {
    if let Some(items) = list_under_key(map) {
        return Some(items);
    }
    if depth >= MAX_WRAPPER_DEPTH {
        return None;
    }
    map.values()
        .filter_map(Value::as_object)
        .find_map(|inner| list_in_object(inner, depth + 1))
}

/// The value of the first list key (case-insensitive) holding an array; `null` counts
/// as an empty list and a lone finding object as a list of one.
fn list_under_key(map: &Map<String, Value>) -> Option<Vec<Value>> {
    let fields = Fields::new(map);
    fields
        .first(LIST_KEYS, |value| match value {
            Value::Array(items) => Some(items.clone()),
            Value::Object(inner) if looks_like_finding(inner) => Some(vec![value.clone()]),
            _ => None,
        })
        .or_else(|| fields.has_null(LIST_KEYS).then(Vec::new))
}

fn looks_like_finding(map: &Map<String, Value>) -> bool {
    let fields = Fields::new(map);
    fields.first(TITLE_KEYS, prose_text).is_some() || fields.first(DESCRIPTION_KEYS, prose_text).is_some()
}

// ---------------------------------------------------------------------------------------
// Reading one finding

const FILE_KEYS: &[&str] = &["file", "path", "filename", "filepath", "sourcefile", "uri"];
const LOCATION_KEYS: &[&str] = &["location", "loc"];
const START_KEYS: &[&str] = &["startline", "linestart", "start", "beginline", "fromline", "firstline"];
const END_KEYS: &[&str] = &["endline", "lineend", "end", "lastline", "toline"];
/// Keys holding a line, a range or a location, tried when no start/end key is present.
const LINE_KEYS: &[&str] = &[
    "line",
    "linenumber",
    "lineno",
    "lines",
    "linerange",
    "location",
    "loc",
    "region",
];
const SEVERITY_KEYS: &[&str] = &[
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
const TITLE_KEYS: &[&str] = &["title", "issue", "name", "summary", "headline", "vulnerability"];
const DESCRIPTION_KEYS: &[&str] = &[
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

/// Severity read from a key other than `severity` (`impact`, `risk`…) must be a short
/// label; a sentence there is a description of the impact, not a severity.
const MAX_SEVERITY_LABEL_CHARS: usize = 24;

/// How deep nested location objects are followed.
const MAX_LOCATION_DEPTH: usize = 3;

/// Turns the items of the findings list into findings, counting the unusable ones; the
/// items after the first [`MAX_FINDINGS_PER_ANSWER`] findings are counted, not read.
fn collect_findings(items: Vec<Value>) -> Parsed {
    let total = items.len();
    let mut findings = Vec::with_capacity(total.min(MAX_FINDINGS_PER_ANSWER));
    let mut skipped = 0;
    let mut cut = Cut::default();
    for item in items {
        if findings.len() == MAX_FINDINGS_PER_ANSWER {
            break;
        }
        match item.as_object().map(read_finding) {
            Some((finding, shortened)) if has_substance(&finding) => {
                cut.fields += shortened;
                findings.push(finding);
            }
            _ => skipped += 1,
        }
    }
    cut.findings = total - findings.len() - skipped;
    Parsed { findings, skipped, cut }
}

fn has_substance(finding: &RawFinding) -> bool {
    finding.title.is_some() || finding.description.is_some() || finding.category.is_some()
}

/// Reads every field of one finding object under its known spellings, each text field
/// shortened to its limit.
pub fn finding_from_object(map: &Map<String, Value>) -> RawFinding {
    read_finding(map).0
}

/// [`finding_from_object`], and how many text fields were shortened.
fn read_finding(map: &Map<String, Value>) -> (RawFinding, usize) {
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
struct Fields<'a> {
    entries: Vec<(String, &'a Value)>,
}

impl<'a> Fields<'a> {
    fn new(map: &'a Map<String, Value>) -> Self {
        let entries = map.iter().map(|(key, value)| (normalize_key(key), value)).collect();
        Fields { entries }
    }

    /// The first non-null value under `aliases` (in alias order) that `read` accepts.
    fn first<T>(&self, aliases: &[&str], mut read: impl FnMut(&'a Value) -> Option<T>) -> Option<T> {
        self.first_with_alias(aliases, |_, value| read(value))
    }

    /// Like [`Fields::first`], also telling `read` which alias matched.
    fn first_with_alias<T>(&self, aliases: &[&str], mut read: impl FnMut(&str, &'a Value) -> Option<T>) -> Option<T> {
        aliases.iter().find_map(|alias| {
            self.entries
                .iter()
                .filter(|(key, value)| key == alias && !value.is_null())
                .find_map(|(_, value)| read(alias, value))
        })
    }

    fn has_null(&self, aliases: &[&str]) -> bool {
        self.entries
            .iter()
            .any(|(key, value)| value.is_null() && aliases.contains(&key.as_str()))
    }
}

/// `startLine`, `start_line`, `start-line`, `Start Line` → `startline`.
fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

// --- text fields

/// A trimmed, non-empty string; an array of strings is joined with newlines (models
/// sometimes give a suggestion as a list of steps).
fn prose_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => non_empty(text),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|item| item.as_str().and_then(non_empty))
                .collect();
            (!parts.is_empty()).then(|| parts.join("\n"))
        }
        _ => None,
    }
}

/// A trimmed, non-empty string, or the first such string of an array.
fn label_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => non_empty(text),
        Value::Array(items) => items.iter().find_map(|item| item.as_str().and_then(non_empty)),
        _ => None,
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Severity as a lower-cased label; numbers (a priority of 1, a CVSS score) are kept as
/// written for the normalizer.
fn severity_in(fields: &Fields) -> Option<String> {
    fields.first_with_alias(SEVERITY_KEYS, |alias, value| {
        let label = match value {
            Value::Number(number) => number.to_string(),
            _ => label_text(value)?,
        };
        let is_short = label.chars().count() <= MAX_SEVERITY_LABEL_CHARS;
        (alias == "severity" || is_short).then(|| label.to_lowercase())
    })
}

// --- CWE

/// A CWE number from `89`, `"89"`, `"CWE-89"`, `"cwe 89"`, `"CWE-89: Improper…"`, or the
/// first parsable entry of an array.
fn cwe_of(value: &Value) -> Option<u32> {
    match value {
        Value::Number(number) => positive(number.as_u64()?),
        Value::String(text) => cwe_from_text(text),
        Value::Array(items) => items.iter().find_map(cwe_of),
        _ => None,
    }
}

pub fn cwe_from_text(text: &str) -> Option<u32> {
    let text = text.trim();
    if let Some((number, rest)) = leading_number(text) {
        return if rest.trim().is_empty() { positive(number) } else { None };
    }
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("cwe") {
        rest = rest.get(at + 3..).unwrap_or("");
        let digits = rest.trim_start_matches(['-', '_', ':', '#', ' ']);
        if let Some((number, _)) = leading_number(digits) {
            return positive(number);
        }
    }
    None
}

// --- confidence

/// Confidence in 0..1 from a fraction, a percentage (85 or "85%"), or a word.
fn confidence_of(value: &Value) -> Option<f32> {
    match value {
        Value::Number(number) => scale_confidence(number.as_f64()?),
        Value::String(text) => confidence_from_text(text),
        _ => None,
    }
}

fn confidence_from_text(text: &str) -> Option<f32> {
    let text = text.trim().to_ascii_lowercase();
    match text.as_str() {
        "high" => Some(0.9),
        "medium" | "med" | "moderate" => Some(0.6),
        "low" => Some(0.3),
        _ => match text.strip_suffix('%') {
            Some(percent) => percent_confidence(percent.trim().parse().ok()?),
            None => scale_confidence(text.parse().ok()?),
        },
    }
}

/// A fraction in 0..1 as is; a number in (1, 100] as a percentage; anything else none.
fn scale_confidence(value: f64) -> Option<f32> {
    if !value.is_finite() || value < 0.0 {
        None
    } else if value <= 1.0 {
        Some(value as f32)
    } else {
        percent_confidence(value)
    }
}

fn percent_confidence(percent: f64) -> Option<f32> {
    (percent.is_finite() && (0.0..=100.0).contains(&percent)).then(|| (percent / 100.0) as f32)
}

// --- file and lines

/// A line range as written; either end may be missing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Lines {
    start: Option<u32>,
    end: Option<u32>,
}

impl Lines {
    fn single(line: Option<u32>) -> Option<Lines> {
        line.map(|line| Lines {
            start: Some(line),
            end: Some(line),
        })
    }

    fn is_empty(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }
}

/// The file, from a file key or a location; a `path:40-44` or `path#L40` suffix is cut
/// off and its lines returned for use when no line field is present.
fn file_in(fields: &Fields, depth: usize) -> (Option<String>, Option<Lines>) {
    if let Some(found) = fields.first(FILE_KEYS, |value| value.as_str().and_then(file_with_lines)) {
        return (Some(found.0), found.1);
    }
    if depth >= MAX_LOCATION_DEPTH {
        return (None, None);
    }
    fields
        .first(LOCATION_KEYS, |value| match value {
            Value::Object(inner) => match file_in(&Fields::new(inner), depth + 1) {
                (Some(file), lines) => Some((file, lines)),
                (None, _) => None,
            },
            Value::String(text) => location_from_text(text).0.map(|file| (file, None)),
            _ => None,
        })
        .map_or((None, None), |(file, lines)| (Some(file), lines))
}

/// Splits `src/db.rs:42` or `src/db.rs#L40-L44` into file and lines; a plain path comes
/// back whole.
fn file_with_lines(text: &str) -> Option<(String, Option<Lines>)> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match split_line_suffix(text) {
        Some((file, lines)) => Some((file.to_string(), Some(lines))),
        None => Some((text.to_string(), None)),
    }
}

/// The first `:` or `#` after which a line spec follows, as (file, lines).
fn split_line_suffix(text: &str) -> Option<(&str, Lines)> {
    text.char_indices()
        .filter(|&(_, ch)| ch == ':' || ch == '#')
        .find_map(|(at, _)| {
            let file = text.get(..at)?.trim_end();
            let lines = parse_line_spec(text.get(at + 1..)?)?;
            (!file.is_empty()).then_some((file, lines))
        })
}

/// A location string: `"40-44"` / `"line 42"` (lines only), `"src/db.rs:42"` (both) or
/// `"src/db.rs"` (file only; anything with spaces is not taken for a path).
fn location_from_text(text: &str) -> (Option<String>, Option<Lines>) {
    let text = text.trim();
    if let Some(lines) = parse_line_spec(text) {
        return (None, Some(lines));
    }
    if let Some((file, lines)) = split_line_suffix(text) {
        return (Some(file.to_string()), Some(lines));
    }
    let is_path = !text.is_empty() && !text.contains(char::is_whitespace);
    (is_path.then(|| text.to_string()), None)
}

/// Lines from explicit start/end keys if either is present, else from the first line,
/// range or location key that yields any.
fn lines_in(fields: &Fields, depth: usize) -> Option<Lines> {
    let start = fields.first(START_KEYS, line_of);
    let end = fields.first(END_KEYS, line_of);
    if start.is_some() || end.is_some() {
        return Some(Lines { start, end });
    }
    if depth >= MAX_LOCATION_DEPTH {
        return None;
    }
    fields.first(LINE_KEYS, |value| range_of(value, depth))
}

/// A range from a number (start = end), a string (`"40-44"`, `"L40-L44"`, `"40"`,
/// `"src/db.rs:42"`), an array (`[40, 44]`) or a location object.
fn range_of(value: &Value, depth: usize) -> Option<Lines> {
    let lines = match value {
        Value::Number(number) => Lines::single(line_of_number(number))?,
        Value::String(text) => location_from_text(text).1?,
        Value::Array(items) => {
            let numbers: Vec<u32> = items.iter().filter_map(line_of).collect();
            Lines {
                start: Some(*numbers.first()?),
                end: numbers.last().copied(),
            }
        }
        Value::Object(inner) => lines_in(&Fields::new(inner), depth + 1)?,
        _ => return None,
    };
    (!lines.is_empty()).then_some(lines)
}

/// One line number from a number, a numeric string (`"42"`, `"L42"`) or an object with
/// a `line` key (`{"line": 40, "column": 3}`).
fn line_of(value: &Value) -> Option<u32> {
    match value {
        Value::Number(number) => line_of_number(number),
        Value::String(text) => parse_line_spec(text)?.start,
        Value::Object(inner) => Fields::new(inner).first(&["line", "linenumber"], |line| match line {
            Value::Number(number) => line_of_number(number),
            Value::String(text) => parse_line_spec(text)?.start,
            _ => None,
        }),
        _ => None,
    }
}

/// A positive whole number; 0, negatives and fractions are none.
fn line_of_number(number: &Number) -> Option<u32> {
    if let Some(whole) = number.as_u64() {
        return positive(whole);
    }
    let float = number.as_f64()?;
    let is_whole = float.is_finite() && float >= 1.0 && float.fract() == 0.0 && float <= f64::from(u32::MAX);
    is_whole.then_some(float as u32)
}

fn positive(number: u64) -> Option<u32> {
    u32::try_from(number).ok().filter(|&n| n > 0)
}

/// Range separators accepted between two line numbers.
const RANGE_SEPARATORS: &[&str] = &["..", "-", "–", "—", "to", "~"];

/// Parses `40`, `40-44`, `40–44`, `L40-L44`, `line 42`, `lines 40 to 44`, `40:7`
/// (line:column). A single number gives start = end. Text running on into letters
/// (`123abc.rs`) is not a line spec; 0 or a negative number gives no line.
fn parse_line_spec(text: &str) -> Option<Lines> {
    let (start, rest) = leading_number(strip_line_word(text.trim()))?;
    let rest = rest.trim_start();
    let (end, rest) = match RANGE_SEPARATORS.iter().find_map(|sep| strip_prefix_ci(rest, sep)) {
        Some(after) => match leading_number(strip_line_word(after.trim_start())) {
            Some((end, rest)) => (Some(end), rest),
            None => (None, after),
        },
        None => (Some(start), rest),
    };
    if !ends_number(rest) {
        return None;
    }
    let lines = Lines {
        start: positive(start),
        end: end.and_then(positive),
    };
    (!lines.is_empty()).then_some(lines)
}

/// Whether what follows a number lets it stand as a line number.
fn ends_number(rest: &str) -> bool {
    match rest.chars().next() {
        None => true,
        Some(ch) => ch.is_whitespace() || matches!(ch, ',' | ';' | ':' | ')' | ']' | '('),
    }
}

/// Drops a leading `lines`, `line`, `ln` or `L` (and a following `.`, `:`, `#` or
/// spaces).
fn strip_line_word(text: &str) -> &str {
    ["lines", "line", "ln", "l"]
        .iter()
        .find_map(|word| strip_prefix_ci(text, word))
        .map_or(text, |rest| {
            rest.trim_start_matches(|c: char| matches!(c, '.' | ':' | '#') || c.is_whitespace())
        })
}

fn strip_prefix_ci<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// The run of ASCII digits at the start of `text` as a number, and what follows.
fn leading_number(text: &str) -> Option<(u64, &str)> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let number = text.get(..digits)?.parse().ok()?;
    Some((number, text.get(digits..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `text` and returns its only finding.
    fn only(text: &str) -> RawFinding {
        let parsed = parse_findings(text).expect("answer should parse");
        assert_eq!(parsed.findings.len(), 1, "findings: {:?}", parsed.findings);
        parsed.findings.into_iter().next().unwrap_or_default()
    }

    /// A finding object with the given extra members, as one item of `{"findings": […]}`.
    fn with_fields(members: &str) -> RawFinding {
        only(&format!(r#"{{"findings": [{{"title": "SQL injection", {members}}}]}}"#))
    }

    fn close(actual: Option<f32>, expected: f32) -> bool {
        actual.is_some_and(|value| (value - expected).abs() < 1e-6)
    }

    const SCHEMA_ANSWER: &str = r#"{
  "findings": [
    {
      "file": "src/db.rs",
      "start_line": 40,
      "end_line": 44,
      "severity": "high",
      "category": "injection",
      "cwe": 89,
      "title": "SQL built by string formatting",
      "description": "The user id is interpolated into the query with format!, so a crafted id can change the statement.",
      "suggestion": "Use a parameterised query.",
      "confidence": 0.8
    }
  ]
}"#;

    // --- the whole answer

    #[test]
    fn schema_conformant_answer() {
        let finding = only(SCHEMA_ANSWER);
        assert_eq!(
            finding,
            RawFinding {
                file: Some("src/db.rs".into()),
                start_line: Some(40),
                end_line: Some(44),
                function: None,
                severity: Some("high".into()),
                category: Some("injection".into()),
                cwe: Some(89),
                title: Some("SQL built by string formatting".into()),
                description: Some(
                    "The user id is interpolated into the query with format!, so a crafted id can change the statement."
                        .into()
                ),
                suggestion: Some("Use a parameterised query.".into()),
                confidence: Some(0.8),
            }
        );
    }

    #[test]
    fn empty_answer_is_empty() {
        assert_eq!(parse_findings(""), Err(ParseError::Empty));
        assert_eq!(parse_findings("  \n\t "), Err(ParseError::Empty));
    }

    #[test]
    fn prose_without_json_is_no_json() {
        let error = parse_findings("I reviewed the code and found no security issues.").unwrap_err();
        assert_eq!(
            error,
            ParseError::NoJson {
                excerpt: "I reviewed the code and found no security issues.".into()
            }
        );
    }

    #[test]
    fn json_without_findings_list_is_no_findings_list() {
        let error = parse_findings(r#"{"status": "ok", "files_reviewed": 3}"#).unwrap_err();
        assert!(matches!(error, ParseError::NoFindingsList { ref excerpt } if excerpt.contains("files_reviewed")));
    }

    #[test]
    fn embedded_json_without_findings_list_is_no_findings_list() {
        let text = "Summary of what I checked:\n```json\n{\"files_reviewed\": 3, \"status\": \"clean\"}\n```";
        assert!(matches!(parse_findings(text), Err(ParseError::NoFindingsList { .. })));
    }

    #[test]
    fn excerpt_is_short_and_char_boundary_safe() {
        let text = "é".repeat(500) + " ünïcödé 🦀🦀🦀";
        let Err(ParseError::NoJson { excerpt }) = parse_findings(&text) else {
            panic!("expected NoJson");
        };
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1);
        assert!(excerpt.ends_with('…'));
    }

    #[test]
    fn excerpt_collapses_whitespace() {
        assert_eq!(excerpt("no\n\n  json   here"), "no json here");
    }

    // --- reasoning

    #[test]
    fn think_tags_inside_a_json_answer_are_content() {
        let text = r#"{"findings":[{"title":"model output containing </think> is trusted","description":"The <think> block is echoed to users.","start_line":3}]}"#;
        let parsed = parse_findings(text).unwrap();
        assert_eq!(parsed.findings.len(), 1);
        assert!(parsed.findings[0].title.as_deref().unwrap().contains("</think>"));
    }

    #[test]
    fn leading_think_block_is_stripped() {
        let text = "<think>\nThe query on line 40 uses format!, so {user} ends up in SQL. \
                    Let me write [the] JSON: {\"draft\": true}\n</think>\n\n"
            .to_string()
            + SCHEMA_ANSWER;
        assert_eq!(only(&text).cwe, Some(89));
    }

    #[test]
    fn lone_closing_think_tag_drops_reasoning_before_it() {
        let text = "Okay, the user wants a review. Maybe {\"findings\": []} is right? No, line 40 is bad.\n</think>\n\n"
            .to_string() + SCHEMA_ANSWER;
        assert_eq!(only(&text).start_line, Some(40));
    }

    #[test]
    fn thinking_block_is_stripped() {
        let text = "<thinking>I should check the SQL [findings: none yet]</thinking>\n".to_string() + SCHEMA_ANSWER;
        assert_eq!(only(&text).title.as_deref(), Some("SQL built by string formatting"));
    }

    #[test]
    fn think_tags_are_case_insensitive() {
        let text = "<THINK>hmm {\"findings\": []}</Think>".to_string() + SCHEMA_ANSWER;
        assert_eq!(only(&text).end_line, Some(44));
    }

    #[test]
    fn unclosed_think_is_no_json() {
        let text = "<think>\nLet me look at src/db.rs. The function builds {\"query\": ";
        assert!(matches!(parse_findings(text), Err(ParseError::NoJson { .. })));
        assert!(matches!(parse_findings("<think>"), Err(ParseError::NoJson { .. })));
    }

    #[test]
    fn strip_reasoning_keeps_text_around_blocks() {
        assert_eq!(strip_reasoning("a<think>b</think>c"), "ac");
        assert_eq!(strip_reasoning("reasoning</think>answer"), "answer");
        assert_eq!(strip_reasoning("answer<think>cut off"), "answer");
    }

    // --- finding the JSON

    #[test]
    fn json_fence() {
        let text = format!("Here are my findings:\n\n```json\n{SCHEMA_ANSWER}\n```\n\nLet me know if you need more.");
        assert_eq!(only(&text).severity.as_deref(), Some("high"));
    }

    #[test]
    fn plain_fence() {
        let text = format!("```\n{SCHEMA_ANSWER}\n```");
        assert_eq!(only(&text).file.as_deref(), Some("src/db.rs"));
    }

    #[test]
    fn inline_fence_on_one_line() {
        let text = r#"```json {"findings": [{"title": "Hard-coded key", "file": "src/config.rs"}]}```"#;
        assert_eq!(only(text).title.as_deref(), Some("Hard-coded key"));
    }

    #[test]
    fn later_fence_when_first_is_code() {
        let text = format!(
            "The vulnerable code:\n```rust\nlet q = format!(\"SELECT * FROM users WHERE id = {{}}\", id);\n```\n\
             My findings:\n```json\n{SCHEMA_ANSWER}\n```"
        );
        assert_eq!(only(&text).cwe, Some(89));
    }

    #[test]
    fn unterminated_fence_runs_to_end() {
        let text = format!("```json\n{SCHEMA_ANSWER}\n");
        assert_eq!(only(&text).cwe, Some(89));
    }

    #[test]
    fn object_between_prose() {
        let text = r#"Here is my review: {"findings": [{"title": "Path traversal in download", "file": "src/files.rs", "line": 12}]} Let me know if you want fixes."#;
        let finding = only(text);
        assert_eq!(finding.file.as_deref(), Some("src/files.rs"));
        assert_eq!((finding.start_line, finding.end_line), (Some(12), Some(12)));
    }

    #[test]
    fn array_between_prose() {
        let text = "I found these problems:\n[{\"title\": \"Unbounded read\", \"severity\": \"Medium\"}]\nThat is all.";
        assert_eq!(only(text).severity.as_deref(), Some("medium"));
    }

    #[test]
    fn brackets_and_quotes_inside_strings_do_not_confuse_scanner() {
        let text = r#"Result: {"findings": [{"title": "Format string with } and ] inside", "description": "The template \"{id}]\" is built from input; see [docs]."}]} -- end"#;
        let finding = only(text);
        assert_eq!(finding.title.as_deref(), Some("Format string with } and ] inside"));
        assert_eq!(
            finding.description.as_deref(),
            Some("The template \"{id}]\" is built from input; see [docs].")
        );
    }

    #[test]
    fn earlier_non_json_brackets_are_skipped() {
        let text = "In `fn load(path: &str) { read(path) }` and items[0] I found one problem [1]:\n\
                    {\"issues\": [{\"title\": \"Path traversal\", \"file\": \"src/load.rs\"}]}";
        assert_eq!(only(text).title.as_deref(), Some("Path traversal"));
    }

    #[test]
    fn list_later_in_prose_wins_over_empty_array() {
        let text = "Initially I thought the answer was [] but then: {\"findings\": [{\"title\": \"Race on counter\"}]}";
        assert_eq!(only(text).title.as_deref(), Some("Race on counter"));
    }

    #[test]
    fn broken_outer_object_salvages_inner_list() {
        let text = r#"{"findings": [{"title": "Weak hash", "cwe": "CWE-328"}], "note": "MD5 is "broken""}"#;
        assert_eq!(only(text).cwe, Some(328));
    }

    #[test]
    fn truncated_answer_salvages_complete_items() {
        let text =
            r#"{"findings": [{"title": "First", "file": "a.rs"}, {"title": "Second", "file": "b.rs"}, {"title": "Thi"#;
        let parsed = parse_findings(text).expect("complete items should be salvaged");
        let titles: Vec<_> = parsed.findings.iter().filter_map(|f| f.title.as_deref()).collect();
        assert_eq!(titles, ["First", "Second"]);
    }

    #[test]
    fn trailing_commas_are_repaired() {
        let text =
            "{\n  \"findings\": [\n    {\"title\": \"Missing auth check\", \"severity\": \"critical\",},\n  ],\n}";
        assert_eq!(only(text).severity.as_deref(), Some("critical"));
    }

    #[test]
    fn trailing_comma_repair_leaves_strings_alone() {
        assert_eq!(
            remove_trailing_commas(r#"{"a": ",]", "b": [1,],}"#).as_deref(),
            Some(r#"{"a": ",]", "b": [1]}"#)
        );
        assert_eq!(remove_trailing_commas(r#"{"a": [1, 2]}"#), None);
    }

    #[test]
    fn double_encoded_answer() {
        let inner = r#"{"findings": [{"title": "Open redirect"}]}"#;
        let text = serde_json::to_string(inner).unwrap_or_default();
        assert_eq!(only(&text).title.as_deref(), Some("Open redirect"));
    }

    #[test]
    fn pathological_brackets_finish_quickly() {
        let text = "[".repeat(200_000) + &"{\"a".repeat(50_000);
        let started = std::time::Instant::now();
        assert!(parse_findings(&text).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    // --- locating the list

    #[test]
    fn top_level_array() {
        let text =
            r#"[{"title": "Secret in repo", "category": "secrets"}, {"title": "Debug mode on", "category": "config"}]"#;
        let parsed = parse_findings(text).expect("array should parse");
        assert_eq!(parsed.findings.len(), 2);
        assert_eq!(parsed.findings[1].category.as_deref(), Some("config"));
    }

    #[test]
    fn list_keys_are_case_insensitive() {
        let text = r#"{"Issues": [{"title": "Integer overflow in length"}]}"#;
        assert_eq!(only(text).title.as_deref(), Some("Integer overflow in length"));
    }

    #[test]
    fn alternative_list_keys() {
        for key in ["vulnerabilities", "results", "problems", "FINDINGS"] {
            let text = format!(r#"{{"{key}": [{{"title": "Weak TLS config"}}]}}"#);
            assert_eq!(only(&text).title.as_deref(), Some("Weak TLS config"), "key {key}");
        }
    }

    #[test]
    fn findings_key_wins_over_title_like_summary() {
        let text = r#"{"summary": "Two issues found", "findings": [{"title": "A"}, {"title": "B"}]}"#;
        assert_eq!(parse_findings(text).map(|p| p.findings.len()), Ok(2));
    }

    #[test]
    fn wrapped_list() {
        let text = r#"{"review": {"model": "x", "findings": [{"title": "SSRF via webhook URL"}]}}"#;
        assert_eq!(only(text).title.as_deref(), Some("SSRF via webhook URL"));
    }

    #[test]
    fn single_finding_object() {
        let text = r#"{"title": "Unsafe deserialization", "file": "src/api.rs", "line": 88, "severity": "high"}"#;
        let finding = only(text);
        assert_eq!(finding.title.as_deref(), Some("Unsafe deserialization"));
        assert_eq!(finding.start_line, Some(88));
    }

    #[test]
    fn empty_findings_list_is_ok() {
        assert_eq!(
            parse_findings(r#"{"findings": []}"#),
            Ok(Parsed {
                findings: vec![],
                skipped: 0,
                cut: Cut::default(),
            })
        );
        assert_eq!(
            parse_findings("No problems found.\n```json\n{\"findings\": []}\n```").map(|p| p.findings.len()),
            Ok(0)
        );
    }

    #[test]
    fn null_findings_list_is_empty() {
        assert_eq!(parse_findings(r#"{"findings": null}"#).map(|p| p.findings.len()), Ok(0));
    }

    #[test]
    fn unusable_items_are_skipped() {
        let text = r#"{"findings": [
            "SQL injection in src/db.rs",
            42,
            {"file": "src/db.rs", "line": 40},
            {"category": "injection"},
            {"description": "Token compared with ==, leaking timing."}
        ]}"#;
        let parsed = parse_findings(text).expect("should parse");
        assert_eq!(parsed.findings.len(), 2);
        assert_eq!(parsed.skipped, 3);
    }

    #[test]
    fn a_list_of_which_nothing_is_readable_is_an_error() {
        let e = parse_findings(r#"{"findings": ["SQL injection on line 2", {"foo": 1}]}"#).unwrap_err();
        assert_eq!(e, ParseError::NoReadableFindings { skipped: 2 });
    }

    // --- lines

    #[test]
    fn camel_case_lines() {
        let finding = with_fields(r#""startLine": 10, "endLine": 14"#);
        assert_eq!((finding.start_line, finding.end_line), (Some(10), Some(14)));
    }

    #[test]
    fn line_start_line_end() {
        let finding = with_fields(r#""line_start": 7, "line_end": 9"#);
        assert_eq!((finding.start_line, finding.end_line), (Some(7), Some(9)));
    }

    #[test]
    fn kebab_case_lines() {
        let finding = with_fields(r#""start-line": 3, "end-line": 5"#);
        assert_eq!((finding.start_line, finding.end_line), (Some(3), Some(5)));
    }

    #[test]
    fn lines_as_strings() {
        let finding = with_fields(r#""start_line": "42", "end_line": " 45 ""#);
        assert_eq!((finding.start_line, finding.end_line), (Some(42), Some(45)));
    }

    #[test]
    fn start_line_alone_leaves_end_open() {
        let finding = with_fields(r#""start_line": 42"#);
        assert_eq!((finding.start_line, finding.end_line), (Some(42), None));
    }

    #[test]
    fn single_line_number() {
        let finding = with_fields(r#""line": 42"#);
        assert_eq!((finding.start_line, finding.end_line), (Some(42), Some(42)));
    }

    #[test]
    fn single_line_string() {
        let finding = with_fields(r#""line": "42""#);
        assert_eq!((finding.start_line, finding.end_line), (Some(42), Some(42)));
    }

    #[test]
    fn line_number_alias() {
        let finding = with_fields(r#""line_number": 17"#);
        assert_eq!((finding.start_line, finding.end_line), (Some(17), Some(17)));
    }

    #[test]
    fn lines_range_with_hyphen() {
        let finding = with_fields(r#""lines": "40-44""#);
        assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
    }

    #[test]
    fn lines_range_with_en_dash() {
        let finding = with_fields(r#""lines": "40–44""#);
        assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
    }

    #[test]
    fn lines_github_style() {
        let finding = with_fields(r#""lines": "L40-L44""#);
        assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
    }

    #[test]
    fn lines_in_words() {
        let finding = with_fields(r#""lines": "lines 40 to 44""#);
        assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
    }

    #[test]
    fn lines_single_string() {
        let finding = with_fields(r#""lines": "40""#);
        assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(40)));
    }

    #[test]
    fn lines_array() {
        let finding = with_fields(r#""lines": [40, 44]"#);
        assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
    }

    #[test]
    fn lines_number() {
        let finding = with_fields(r#""lines": 40"#);
        assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(40)));
    }

    #[test]
    fn zero_and_negative_lines_are_none() {
        let finding = with_fields(r#""start_line": 0, "end_line": -3"#);
        assert_eq!((finding.start_line, finding.end_line), (None, None));
        let finding = with_fields(r#""line": "-5""#);
        assert_eq!((finding.start_line, finding.end_line), (None, None));
    }

    #[test]
    fn location_object_with_file_and_lines() {
        let finding = with_fields(r#""location": {"file": "src/auth.rs", "start_line": 20, "end_line": 31}"#);
        assert_eq!(finding.file.as_deref(), Some("src/auth.rs"));
        assert_eq!((finding.start_line, finding.end_line), (Some(20), Some(31)));
    }

    #[test]
    fn location_object_with_path_and_line() {
        let finding = with_fields(r#""location": {"path": "src/auth.rs", "line": 20}"#);
        assert_eq!(finding.file.as_deref(), Some("src/auth.rs"));
        assert_eq!((finding.start_line, finding.end_line), (Some(20), Some(20)));
    }

    #[test]
    fn location_with_start_and_end_objects() {
        let finding =
            with_fields(r#""location": {"file": "a.rs", "start": {"line": 5, "column": 1}, "end": {"line": 8}}"#);
        assert_eq!((finding.start_line, finding.end_line), (Some(5), Some(8)));
    }

    #[test]
    fn location_string_with_file_and_line() {
        let finding = with_fields(r#""location": "src/db.rs:42""#);
        assert_eq!(finding.file.as_deref(), Some("src/db.rs"));
        assert_eq!((finding.start_line, finding.end_line), (Some(42), Some(42)));
    }

    #[test]
    fn location_string_with_lines_only() {
        let finding = with_fields(r#""file": "src/db.rs", "location": "lines 40-44""#);
        assert_eq!(finding.file.as_deref(), Some("src/db.rs"));
        assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
    }

    #[test]
    fn file_with_line_suffix_is_split() {
        let finding = with_fields(r#""file": "src/db.rs:40-44""#);
        assert_eq!(finding.file.as_deref(), Some("src/db.rs"));
        assert_eq!((finding.start_line, finding.end_line), (Some(40), Some(44)));
        let finding = with_fields(r#""file": "src/db.rs#L7", "line": 9"#);
        assert_eq!(finding.file.as_deref(), Some("src/db.rs"));
        assert_eq!(
            finding.start_line,
            Some(9),
            "an explicit line field wins over the suffix"
        );
    }

    #[test]
    fn numeric_file_names_are_not_lines() {
        let finding = with_fields(r#""file": "migrations/2024_01_init.sql:12""#);
        assert_eq!(finding.file.as_deref(), Some("migrations/2024_01_init.sql"));
        assert_eq!(finding.start_line, Some(12));
    }

    // --- other fields

    #[test]
    fn file_aliases() {
        for key in ["path", "filename", "file_path", "filePath", "File"] {
            let finding = with_fields(&format!(r#""{key}": " src/x.rs ""#));
            assert_eq!(finding.file.as_deref(), Some("src/x.rs"), "key {key}");
        }
    }

    #[test]
    fn severity_aliases_are_lower_cased() {
        for key in ["severity", "risk", "level", "impact", "priority", "Severity"] {
            let finding = with_fields(&format!(r#""{key}": " HIGH ""#));
            assert_eq!(finding.severity.as_deref(), Some("high"), "key {key}");
        }
    }

    #[test]
    fn impact_sentence_is_not_a_severity() {
        let finding = with_fields(r#""impact": "An attacker can read every row of the users table""#);
        assert_eq!(finding.severity, None);
        let finding = with_fields(r#""impact": "An attacker can read every row", "risk": "Critical""#);
        assert_eq!(finding.severity.as_deref(), Some("critical"));
    }

    #[test]
    fn category_aliases() {
        for key in [
            "category",
            "type",
            "kind",
            "vulnerability_type",
            "vulnerabilityType",
            "class",
        ] {
            let finding = with_fields(&format!(r#""{key}": " SQL Injection ""#));
            assert_eq!(finding.category.as_deref(), Some("SQL Injection"), "key {key}");
        }
    }

    #[test]
    fn cwe_as_integer() {
        assert_eq!(with_fields(r#""cwe": 89"#).cwe, Some(89));
    }

    #[test]
    fn cwe_as_numeric_string() {
        assert_eq!(with_fields(r#""cwe": "89""#).cwe, Some(89));
    }

    #[test]
    fn cwe_with_prefix() {
        assert_eq!(with_fields(r#""cwe_id": "CWE-89""#).cwe, Some(89));
        assert_eq!(with_fields(r#""cweId": "cwe 22""#).cwe, Some(22));
    }

    #[test]
    fn cwe_with_name() {
        let finding =
            with_fields(r#""cwe": "CWE-89: Improper Neutralization of Special Elements used in an SQL Command""#);
        assert_eq!(finding.cwe, Some(89));
    }

    #[test]
    fn cwe_array_takes_first_parsable() {
        assert_eq!(with_fields(r#""cwe": ["n/a", "CWE-79", 80]"#).cwe, Some(79));
    }

    #[test]
    fn cwe_unparsable_is_none() {
        for value in [r#""N/A""#, r#""none""#, r#""OWASP A03:2021""#, "0", "-89", "{}"] {
            assert_eq!(with_fields(&format!(r#""cwe": {value}"#)).cwe, None, "value {value}");
        }
    }

    #[test]
    fn title_aliases() {
        for key in ["issue", "name", "summary", "headline", "vulnerability"] {
            let text = format!(r#"[{{"{key}": "Command injection"}}]"#);
            assert_eq!(only(&text).title.as_deref(), Some("Command injection"), "key {key}");
        }
    }

    #[test]
    fn description_aliases() {
        for key in ["details", "detail", "message", "explanation", "analysis", "reason"] {
            let finding = with_fields(&format!(r#""{key}": "Input reaches sh -c.""#));
            assert_eq!(
                finding.description.as_deref(),
                Some("Input reaches sh -c."),
                "key {key}"
            );
        }
    }

    #[test]
    fn suggestion_aliases() {
        for key in ["fix", "recommendation", "remediation", "mitigation", "Suggestion"] {
            let finding = with_fields(&format!(r#""{key}": "Pass arguments as a list.""#));
            assert_eq!(
                finding.suggestion.as_deref(),
                Some("Pass arguments as a list."),
                "key {key}"
            );
        }
    }

    #[test]
    fn suggestion_steps_are_joined() {
        let finding = with_fields(r#""fix": ["Validate the path.", "Reject `..` components."]"#);
        assert_eq!(
            finding.suggestion.as_deref(),
            Some("Validate the path.\nReject `..` components.")
        );
    }

    #[test]
    fn confidence_fraction() {
        assert!(close(with_fields(r#""confidence": 0.75"#).confidence, 0.75));
    }

    #[test]
    fn confidence_percentage() {
        assert!(close(with_fields(r#""confidence": 85"#).confidence, 0.85));
        assert!(close(with_fields(r#""confidence": "85%""#).confidence, 0.85));
        assert!(close(with_fields(r#""confidence": "0.4""#).confidence, 0.4));
    }

    #[test]
    fn confidence_words() {
        assert!(close(with_fields(r#""confidence": "High""#).confidence, 0.9));
        assert!(close(with_fields(r#""confidence": "medium""#).confidence, 0.6));
        assert!(close(with_fields(r#""confidence": " low ""#).confidence, 0.3));
    }

    #[test]
    fn confidence_out_of_range_is_none() {
        assert_eq!(with_fields(r#""confidence": 150"#).confidence, None);
        assert_eq!(with_fields(r#""confidence": -0.5"#).confidence, None);
        assert_eq!(with_fields(r#""confidence": "sure""#).confidence, None);
    }

    #[test]
    fn nulls_and_empty_strings_are_none() {
        let finding = with_fields(
            r#""file": "", "start_line": null, "severity": "  ", "category": null, "cwe": null, "description": "", "suggestion": null, "confidence": null"#,
        );
        assert_eq!(
            finding,
            RawFinding {
                title: Some("SQL injection".into()),
                ..RawFinding::default()
            }
        );
    }

    #[test]
    fn null_alias_falls_through_to_next() {
        let finding = only(
            r#"[{"title": null, "name": "Hard-coded password", "description": "   ", "message": "Found in config."}]"#,
        );
        assert_eq!(finding.title.as_deref(), Some("Hard-coded password"));
        assert_eq!(finding.description.as_deref(), Some("Found in config."));
    }

    #[test]
    fn function_aliases() {
        for members in [
            r#""function": "lookupUser""#,
            r#""function_name": "lookupUser""#,
            r#""method": " lookupUser ""#,
            r#""symbol": "lookupUser""#,
            r#""functions": ["lookupUser", "other"]"#,
        ] {
            assert_eq!(
                with_fields(members).function.as_deref(),
                Some("lookupUser"),
                "{members}"
            );
        }
        assert_eq!(with_fields(r#""function": "  ""#).function, None);
    }

    #[test]
    fn key_normalization() {
        assert_eq!(normalize_key("startLine"), "startline");
        assert_eq!(normalize_key("line_start"), "linestart");
        assert_eq!(normalize_key("start-line"), "startline");
        assert_eq!(normalize_key("Start Line"), "startline");
    }

    // --- limits: hostile answers

    /// An answer of `count` findings numbered in their titles.
    fn numbered_findings(count: usize) -> String {
        let items: Vec<String> = (0..count)
            .map(|i| format!(r#"{{"title": "Finding {i}", "start_line": 3, "cwe": 89}}"#))
            .collect();
        format!(r#"{{"findings": [{}]}}"#, items.join(","))
    }

    #[test]
    fn an_answer_past_the_findings_limit_keeps_its_first_findings_and_counts_the_rest() {
        let parsed = parse_findings(&numbered_findings(10_000)).expect("should parse");
        assert_eq!(parsed.findings.len(), MAX_FINDINGS_PER_ANSWER);
        assert_eq!(parsed.findings[0].title.as_deref(), Some("Finding 0"));
        assert_eq!(
            parsed.findings[MAX_FINDINGS_PER_ANSWER - 1].title.as_deref(),
            Some(format!("Finding {}", MAX_FINDINGS_PER_ANSWER - 1).as_str())
        );
        assert_eq!(
            parsed.cut,
            Cut {
                findings: 10_000 - MAX_FINDINGS_PER_ANSWER,
                fields: 0
            }
        );
        let within = parse_findings(&numbered_findings(MAX_FINDINGS_PER_ANSWER)).expect("should parse");
        assert!(within.cut.is_empty(), "an answer at the limit loses nothing");
    }

    #[test]
    fn unreadable_items_do_not_count_as_cut() {
        let mut items = vec!["42".to_string(); 3];
        items.extend((0..MAX_FINDINGS_PER_ANSWER + 5).map(|i| format!(r#"{{"title": "F{i}"}}"#)));
        let parsed = parse_findings(&format!("[{}]", items.join(","))).expect("should parse");
        assert_eq!((parsed.findings.len(), parsed.skipped), (MAX_FINDINGS_PER_ANSWER, 3));
        assert_eq!(parsed.cut.findings, 5);
    }

    #[test]
    fn long_fields_are_shortened_on_a_char_boundary_and_counted() {
        let title = "é".repeat(10_000);
        let description = "x ".repeat(1_000_000);
        let text = serde_json::json!({"findings": [{
            "title": title, "description": description, "suggestion": "Use a prepared statement.",
            "function": "f".repeat(MAX_LABEL_CHARS)
        }]})
        .to_string();
        let parsed = parse_findings(&text).expect("should parse");
        let finding = &parsed.findings[0];
        let title = finding.title.as_deref().unwrap_or_default();
        assert_eq!(title.chars().count(), MAX_TITLE_CHARS);
        assert!(title.ends_with("é…"), "{title}");
        assert_eq!(
            finding.description.as_deref().map(|d| d.chars().count()),
            Some(MAX_DESCRIPTION_CHARS)
        );
        assert_eq!(finding.suggestion.as_deref(), Some("Use a prepared statement."));
        assert_eq!(
            finding.function.as_deref().map(str::len),
            Some(MAX_LABEL_CHARS),
            "a field at its limit is kept whole"
        );
        assert_eq!(parsed.cut, Cut { findings: 0, fields: 2 });
    }

    /// Bytes of the hostile bodies below: the providers' default limit on a body read.
    const HOSTILE_BODY_BYTES: usize = 4 * 1024 * 1024;

    #[test]
    fn a_body_of_unclosed_brackets_fails_cleanly() {
        for bracket in ["{", "[", "[{", "{\"a\":["] {
            let body = bracket.repeat(HOSTILE_BODY_BYTES / bracket.len());
            let error = parse_findings(&body).expect_err("nothing to read");
            assert!(matches!(error, ParseError::NoJson { .. }), "{bracket}: {error}");
            assert!(error.to_string().chars().count() < 300, "the error quotes an excerpt");
        }
    }

    #[test]
    fn a_body_of_deeply_nested_brackets_fails_cleanly() {
        let depth = HOSTILE_BODY_BYTES / 2;
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let body = format!(
                "Here: {}{}",
                open.repeat(depth / open.len()),
                close.repeat(depth / open.len())
            );
            assert!(parse_findings(&body).is_err(), "{open}: too deep to be a findings list");
        }
    }

    #[test]
    fn many_reasoning_blocks_are_removed_in_one_pass() {
        let blocks = "<think>a</think>".repeat(HOSTILE_BODY_BYTES / 16);
        let text = format!("{blocks} {}", numbered_findings(2));
        assert_eq!(parse_findings(&text).map(|p| p.findings.len()), Ok(2));
        let unclosed = "<thinking>".repeat(HOSTILE_BODY_BYTES / 10);
        assert_eq!(parse_findings(&unclosed).map(|p| p.findings.len()).ok(), None);
    }
}
