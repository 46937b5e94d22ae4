//! Locating the list of findings inside the JSON of an answer.

use serde_json::{Map, Value};

use super::fields::{Fields, DESCRIPTION_KEYS, TITLE_KEYS};
use super::values::prose_text;

/// Keys (normalized) under which models put their list of findings, in priority order.
const LIST_KEYS: &[&str] = &["findings", "issues", "vulnerabilities", "results", "problems"];

/// How deep inside wrapper objects (`{"review": {"findings": …}}`) the list is sought.
const MAX_WRAPPER_DEPTH: usize = 2;

/// Where a JSON value came from, which decides how much a bare array is trusted.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Scope {
    /// The whole answer: any top-level array is the list of findings.
    Whole,
    /// Found inside prose or a fence: an array counts only if it is empty or holds an
    /// object, so that `[1]` in a sentence is not taken for the answer.
    Embedded,
}

pub(super) enum Located {
    List(Vec<Value>),
    Single(Value),
    Nothing,
}

pub(super) fn locate(value: Value, scope: Scope) -> Located {
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
