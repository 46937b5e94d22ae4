//! Finding the JSON in an answer: the whole text, a Markdown fence, or a bracketed region
//! inside prose; parsed leniently (trailing commas are repaired).

use serde_json::Value;

use super::excerpt;
use super::locate::{locate, Located, Scope};
use super::strip_reasoning;
use super::ParseError;

/// How many times a JSON string holding JSON (a double-encoded answer) is unwrapped.
const MAX_ENCODED_DEPTH: usize = 2;

/// Bytes the bracket scanner may examine in one answer, so that pathological input
/// (thousands of unclosed brackets) cannot make parsing quadratic.
const SCAN_BUDGET: usize = 16 * 1024 * 1024;

/// Locates the list of findings in an answer with reasoning already removed: the whole
/// text as JSON, else fenced blocks, else bracketed regions inside prose.
pub(super) fn find_findings(answer: &str, depth: usize) -> Result<Vec<Value>, ParseError> {
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

/// The most JSON values [`json_values`] returns: a verdict is one small object, and an
/// answer scattering thousands of brackets must not cost more than a look at the first.
const MAX_JSON_VALUES: usize = 64;

/// The JSON values in an answer with reasoning removed, looked for as findings are: the
/// whole text, else each fenced block, else each bracketed region inside prose (a string
/// holding JSON is unwrapped). For answers that are not lists of findings (a verdict).
pub(super) fn json_values(answer: &str, depth: usize) -> Vec<Value> {
    if let Some(value) = parse_json_lenient(answer) {
        return match value {
            Value::String(inner) if depth < MAX_ENCODED_DEPTH => json_values(strip_reasoning(&inner).trim(), depth + 1),
            value => vec![value],
        };
    }
    let mut values: Vec<Value> = fenced_blocks(answer)
        .into_iter()
        .filter_map(parse_json_lenient)
        .collect();
    if values.is_empty() {
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
            if let Some(value) = answer.get(start..end).and_then(parse_json_lenient) {
                values.push(value);
                position = end;
            }
            if values.len() >= MAX_JSON_VALUES {
                break;
            }
        }
    }
    values.truncate(MAX_JSON_VALUES);
    values
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
pub(super) fn remove_trailing_commas(text: &str) -> Option<String> {
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
