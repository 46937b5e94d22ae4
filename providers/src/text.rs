//! Quoting text in messages.

/// The first `max_chars` characters of `text`, whitespace runs collapsed to one space,
/// cut on a character boundary, with `…` when something was left off (the space between
/// two words counts as a character).
///
/// Servers' error bodies and models' answers are quoted this way, so that one message
/// stays one short line whatever came back.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for (index, word) in text.split_whitespace().enumerate() {
        let separator = (index > 0).then_some(' ');
        for ch in separator.into_iter().chain(word.chars()) {
            if count == max_chars {
                out.push('…');
                return out;
            }
            out.push(ch);
            count += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests;
