//! The one sanitiser for untrusted text (file names, configurations, server replies,
//! model answers) on its way to a terminal, a report or a prompt. Every printer uses it,
//! so a rule added here holds everywhere.

/// Makes untrusted text safe to print: every line break (`\n`, `\r`, U+2028, U+2029,
/// …) and tab becomes a space, so a string cannot forge a line of its own; control
/// characters (C0, DEL, C1: escape sequences) and invisible characters (bidirectional
/// overrides and isolates, zero-width characters, tags, fillers, which make text read
/// differently from what it is) are removed. The one sanitiser for everything from a
/// file name, a configuration, a server or a model that reaches a terminal.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| if is_break(c) { ' ' } else { c })
        .filter(|&c| !is_unsafe_char(c))
        .collect()
}

/// JSON text with every character [`is_unsafe_char`] flags written as a `\u` escape
/// (a surrogate pair beyond the BMP), for a terminal: the same JSON value, none of its
/// bidi controls or escape sequences acting on the screen. Raw, such a character can only
/// stand inside a string, where the escape means the same; the whitespace JSON allows
/// between tokens (line breaks, tabs) is kept, as serialisers escape it inside strings.
pub fn json_terminal_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(c),
            c if is_unsafe_char(c) => push_json_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Writes `c` as JSON `\uXXXX` escapes.
pub fn push_json_escape(out: &mut String, c: char) {
    use std::fmt::Write as _;
    for unit in c.encode_utf16(&mut [0; 2]) {
        let _ = write!(out, "\\u{unit:04x}");
    }
}

/// Line and paragraph breaks of every kind, and tabs.
fn is_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Characters that must not reach a terminal or a prompt as themselves: controls,
/// format characters (Unicode category Cf: bidi controls, zero-width characters, soft
/// hyphen, tags), line and paragraph separators, and characters drawn as nothing.
pub fn is_unsafe_char(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory};
    c.is_control()
        || matches!(
            get_general_category(c),
            GeneralCategory::Format | GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator
        )
        || is_invisible_filler(c)
}

/// Letters and marks that are drawn as nothing (Hangul fillers, the combining grapheme
/// joiner, Khmer inherent vowels) and variation selectors, which can hide text in plain
/// sight; none belongs in a file name or a finding.
fn is_invisible_filler(c: char) -> bool {
    matches!(
        c,
        '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_defused() {
        assert_eq!(terminal_safe("ok\u{1b}[31mred\u{7}"), "ok[31mred");
        assert_eq!(terminal_safe("admin\u{202E}txt.exe\u{200B}"), "admintxt.exe");
    }

    #[test]
    fn the_sanitiser_removes_every_dangerous_class() {
        let classes: &[(&str, &str)] = &[
            ("C0 controls", "\u{0}\u{1}\u{7}\u{8}\u{1F}"),
            ("ESC", "\u{1b}"),
            ("DEL", "\u{7F}"),
            ("C1 controls (CSI, OSC)", "\u{80}\u{9B}\u{9D}\u{9F}"),
            ("bidi overrides", "\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}"),
            ("bidi isolates", "\u{2066}\u{2067}\u{2068}\u{2069}"),
            ("bidi marks", "\u{200E}\u{200F}\u{061C}"),
            ("zero-width characters", "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}"),
            ("soft hyphen and invisible operators", "\u{AD}\u{2061}\u{2064}"),
            ("tag characters (ASCII smuggling)", "\u{E0001}\u{E0041}\u{E007F}"),
            ("fillers and variation selectors", "\u{3164}\u{115F}\u{FE0F}\u{E0100}"),
        ];
        for (class, chars) in classes {
            let text = format!("a{chars}b");
            assert_eq!(terminal_safe(&text), "ab", "{class} survived");
        }
        let breaks = "a\nb\rc\td\u{0B}e\u{0C}f\u{85}g\u{2028}h\u{2029}i";
        assert_eq!(
            terminal_safe(breaks),
            "a b c d e f g h i",
            "every line break becomes a space"
        );
        let kept = "café 名前 Ωmega — \"quoted\" `code` ✓";
        assert_eq!(terminal_safe(kept), kept, "ordinary text is untouched");
    }

    #[test]
    fn json_for_a_terminal_escapes_what_it_must_not_show() {
        let value = "a\u{202E}b\u{9B}c\u{1b}d\u{E0041}e\u{2028}f é";
        let json = serde_json::to_string_pretty(&serde_json::json!({ "file": value, "n": [1, 2] })).unwrap();
        let safe = json_terminal_safe(&json);
        assert!(
            !safe.chars().any(|c| is_unsafe_char(c) && !matches!(c, '\n' | ' ')),
            "{safe:?}"
        );
        assert!(
            safe.contains("a\\u202eb\\u009bc\\u001bd\\udb40\\udc41e\\u2028f é"),
            "{safe}"
        );
        assert!(safe.contains('\n'), "the layout is kept");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["file"], value);
    }
}
