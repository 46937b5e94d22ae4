//! Words: the content words of a title or description, stemmed and hashed, with code
//! identifiers split into their parts.

use super::hashing::hash;
use super::stop_words::is_stop_stem;

/// Calls `emit` with each content word of `text` and its hash: lower-cased, folded to a
/// crude stem, stop words dropped (a word whose stem is a stop word's stem is one).
/// Code identifiers are split into their parts (`getUserById` → get, user, id;
/// `user_id` → user, id) and also kept whole, so the same identifier named by two
/// models counts, and so do its parts.
pub(super) fn content_words(text: &str, scratch: &mut Scratch, emit: &mut impl FnMut(&str, u64)) {
    for_each_run(text, |run, class| {
        if class & (UPPER | UNDERSCORE | OTHER) == 0 {
            emit_lower_case(run, emit);
            return;
        }
        if class & (UNDERSCORE | OTHER) == 0 && is_one_ascii_word(run) {
            emit_word(run, emit);
            return;
        }
        identifier_parts(run, &mut scratch.chars, &mut scratch.parts);
        scratch.whole.clear();
        for &(start, end) in &scratch.parts {
            emit_word(&run[start..end], emit);
            scratch.whole.push_str(&run[start..end]);
        }
        if scratch.parts.len() > 1 {
            emit_word(&scratch.whole, emit);
        }
    });
}

/// Buffers reused across the words of one finding.
#[derive(Default)]
pub(super) struct Scratch {
    chars: Vec<(usize, char)>,
    parts: Vec<(usize, usize)>,
    whole: String,
}

/// Byte classes of word characters (0: not part of a word).
const LOWER: u8 = 1;
const DIGIT: u8 = 2;
const UPPER: u8 = 4;
const UNDERSCORE: u8 = 8;
/// A letter or digit outside ASCII.
const OTHER: u8 = 16;

/// The class of each ASCII byte.
const BYTE_CLASS: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = match b as u8 {
            b'a'..=b'z' => LOWER,
            b'A'..=b'Z' => UPPER,
            b'0'..=b'9' => DIGIT,
            b'_' => UNDERSCORE,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// Calls `f` with each maximal run of letters, digits and `_`, and the union of the
/// classes of its characters (one table-driven byte scan for ASCII text, which is
/// nearly all of it).
fn for_each_run(text: &str, mut f: impl FnMut(&str, u8)) {
    if !text.is_ascii() {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|run| !run.is_empty())
            .for_each(|run| f(run, OTHER));
        return;
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && BYTE_CLASS[usize::from(bytes[i])] == 0 {
            i += 1;
        }
        let start = i;
        let mut class = 0;
        while i < bytes.len() && BYTE_CLASS[usize::from(bytes[i])] != 0 {
            class |= BYTE_CLASS[usize::from(bytes[i])];
            i += 1;
        }
        if start < i {
            f(&text[start..i], class);
        }
    }
}

/// `The`, `SQL`, `MD5`: ASCII letters and digits with no inner boundary (a capital
/// followed only by lower case, or all capitals).
fn is_one_ascii_word(run: &str) -> bool {
    let rest = &run.as_bytes()[1..];
    run.as_bytes()[0].is_ascii_alphanumeric()
        && (rest.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            || rest.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
}

/// Emits a word that is already lower case, unless it is too short or a stop word.
fn emit_lower_case(word: &str, emit: &mut impl FnMut(&str, u64)) {
    if word.len() < 2 {
        return;
    }
    let stemmed = stem(word);
    let h = hash(stemmed.as_bytes());
    if !is_stop_stem(h) {
        emit(stemmed, h);
    }
}

/// Emits a word in lower case (short ASCII words are lowered on the stack).
fn emit_word(word: &str, emit: &mut impl FnMut(&str, u64)) {
    let mut stack = [0u8; 64];
    if word.is_ascii() && word.len() <= stack.len() {
        let lower = &mut stack[..word.len()];
        lower.copy_from_slice(word.as_bytes());
        lower.make_ascii_lowercase();
        if let Ok(lower) = std::str::from_utf8(lower) {
            emit_lower_case(lower, emit);
        }
        return;
    }
    let lower: String = word.chars().flat_map(char::to_lowercase).collect();
    if lower.chars().count() >= 2 {
        emit_lower_case(&lower, emit);
    }
}

/// Splits an identifier at `_`, at a lower-case letter or digit followed by an upper-case
/// one (`userId`), and before the last capital of a run of capitals followed by a
/// lower-case letter (`HTTPServer` → HTTP, Server). Digits stay attached (`md5`, `sha256`).
/// The parts go into `parts` as byte ranges; `chars` is scratch space.
fn identifier_parts(run: &str, chars: &mut Vec<(usize, char)>, parts: &mut Vec<(usize, usize)>) {
    chars.clear();
    if run.is_ascii() {
        chars.extend(run.bytes().enumerate().map(|(i, b)| (i, char::from(b))));
    } else {
        chars.extend(run.char_indices());
    }
    parts.clear();
    let mut start = 0;
    for (k, &(at, c)) in chars.iter().enumerate() {
        if c == '_' {
            if start < at {
                parts.push((start, at));
            }
            start = at + 1;
            continue;
        }
        if at == start || !c.is_uppercase() {
            continue;
        }
        let prev = chars[k - 1].1;
        let next_lower = chars.get(k + 1).is_some_and(|(_, n)| n.is_lowercase());
        if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
            parts.push((start, at));
            start = at;
        }
    }
    if start < run.len() {
        parts.push((start, run.len()));
    }
}

/// A crude stemmer: drop a plural `s`, then `ing`/`ed`, then a final `e`, then keep at
/// most six letters (truncation stemming), so injection/injected/inject, validate/
/// validation and sanitize/sanitizing meet.
pub(super) fn stem(word: &str) -> &str {
    const STEM_LEN: usize = 6;
    let mut w = word;
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w = &w[..w.len() - 1];
    }
    for suffix in ["ing", "ed"] {
        if w.len() >= suffix.len() + 4 && w.ends_with(suffix) {
            w = &w[..w.len() - suffix.len()];
            break;
        }
    }
    if w.len() > 4 && w.ends_with('e') {
        w = &w[..w.len() - 1];
    }
    if w.len() <= STEM_LEN {
        return w;
    }
    w.char_indices().nth(STEM_LEN).map_or(w, |(cut, _)| &w[..cut])
}
