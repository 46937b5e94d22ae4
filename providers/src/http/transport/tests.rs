use super::*;

#[test]
fn printable_replaces_control_and_reordering_characters() {
    assert_eq!(printable("http://h/\u{1b}[31mred\u{7}\n"), "http://h/?[31mred??");
    assert_eq!(printable("a\u{202e}b\u{2066}c"), "a?b?c");
    assert_eq!(printable("https://h:1/p"), "https://h:1/p");
}
