//! Reasoning: what a model thought aloud before (or instead of) answering.

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
