//! The quote of an answer that an error shows.

/// Characters of the answer quoted in errors.
pub(super) const EXCERPT_CHARS: usize = 200;

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
