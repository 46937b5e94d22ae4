//! The file and lines of a finding, from whichever keys and spellings the model used
//! (`start_line`, `"lines": "40-44"`, `"src/db.rs#L40"`, a location object…).

use serde_json::{Number, Value};

use super::fields::{Fields, END_KEYS, FILE_KEYS, LINE_KEYS, LOCATION_KEYS, START_KEYS};

/// How deep nested location objects are followed.
const MAX_LOCATION_DEPTH: usize = 3;

/// A line range as written; either end may be missing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Lines {
    pub(super) start: Option<u32>,
    pub(super) end: Option<u32>,
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
pub(super) fn file_in(fields: &Fields, depth: usize) -> (Option<String>, Option<Lines>) {
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
pub(super) fn lines_in(fields: &Fields, depth: usize) -> Option<Lines> {
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

pub(super) fn positive(number: u64) -> Option<u32> {
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
pub(super) fn leading_number(text: &str) -> Option<(u64, &str)> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let number = text.get(..digits)?.parse().ok()?;
    Some((number, text.get(digits..)?))
}
