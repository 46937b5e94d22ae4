//! Reasoning that a model wrote into its answer, told apart from the answer.
//!
//! Many local models think aloud inside `<think>…</think>` (or `<thinking>…</thinking>`)
//! in the answer itself, and some emit only the closing tag. The provider keeps that
//! reasoning apart from the answer it returns, and the findings parser removes whatever
//! is left before it looks for JSON: both read the text with [`split_reasoning`], so they
//! agree on what is reasoning.

/// Reasoning tags some models wrap their thinking in, as (opening, closing) pairs.
const REASONING_TAGS: [(&str, &str); 2] = [("<think>", "</think>"), ("<thinking>", "</thinking>")];

/// An answer with the reasoning written into it taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reasoned {
    /// The answer: trimmed when reasoning was taken out of it, otherwise the text as it
    /// came.
    pub answer: String,
    /// What was taken out, each part trimmed and the non-empty ones joined by a blank
    /// line; `None` when the text held no reasoning.
    pub reasoning: Option<String>,
}

/// Splits reasoning off an answer: the text up to a closing tag whose opening tag is
/// missing, every complete `<think>…</think>` / `<thinking>…</thinking>` block (tags in
/// any letter case) before the answer begins, and everything from an opening tag that is
/// never closed (the answer ran out inside it). Once JSON or a fenced block has begun
/// outside reasoning, the rest is answer, tags and all.
///
/// Reasoning comes before the answer, so an answer that starts as JSON (or a fenced
/// block) has none: a `</think>` inside it is content (a finding about LLM output
/// handling may well quote one) and the text is returned as it is.
pub fn split_reasoning(text: &str) -> Reasoned {
    let start = text.trim_start();
    if start.starts_with(['{', '[']) || start.starts_with("```") {
        return Reasoned {
            answer: text.to_string(),
            reasoning: None,
        };
    }
    let mut removed = Vec::new();
    let rest = drop_before_orphan_closers(text, &mut removed);
    let kept = remove_reasoning_blocks(rest, &mut removed);
    if removed.is_empty() {
        return Reasoned {
            answer: kept,
            reasoning: None,
        };
    }
    let parts: Vec<&str> = removed.iter().map(|part| part.trim()).collect();
    let reasoning = match parts.as_slice() {
        [only] => only.to_string(),
        many => many
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\n\n"),
    };
    Reasoned {
        answer: kept.trim().to_string(),
        reasoning: Some(reasoning),
    }
}

/// Drops everything up to and including a closing tag whose opening tag never appears,
/// adding what was dropped to `removed`.
fn drop_before_orphan_closers<'a>(text: &'a str, removed: &mut Vec<&'a str>) -> &'a str {
    let mut rest = text;
    for (open, close) in REASONING_TAGS {
        if find_ci(rest, open).is_some() {
            continue;
        }
        if let Some(at) = find_ci(rest, close) {
            removed.push(rest.get(..at).unwrap_or(""));
            rest = rest.get(at + close.len()..).unwrap_or("");
        }
    }
    rest
}

/// Removes complete reasoning blocks, and the tail after an unclosed opening tag, adding
/// what was inside them to `removed`.
fn remove_reasoning_blocks<'a>(text: &'a str, removed: &mut Vec<&'a str>) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, open, close)) = first_opening_tag(rest) {
        let before = rest.get(..at).unwrap_or("");
        if answer_has_begun(before) {
            // Reasoning comes before the answer: a tag inside the JSON (a finding that
            // quotes `<think>`) is content, and cutting there would lose the findings.
            break;
        }
        kept.push_str(before);
        let inside = rest.get(at + open.len()..).unwrap_or("");
        match find_ci(inside, close) {
            Some(end) => {
                removed.push(inside.get(..end).unwrap_or(""));
                rest = inside.get(end + close.len()..).unwrap_or("");
            }
            None => {
                removed.push(inside);
                return kept;
            }
        }
    }
    kept.push_str(rest);
    kept
}

/// Whether text outside reasoning already holds the start of an answer: JSON or a
/// fenced block.
fn answer_has_begun(text: &str) -> bool {
    text.contains(['{', '[']) || text.contains("```")
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

#[cfg(test)]
mod tests;
