use super::*;

#[test]
fn whitespace_runs_collapse_to_one_space() {
    assert_eq!(excerpt("  a \n\n b\tc  ", 300), "a b c");
    assert_eq!(excerpt("no\n\n  json   here", 200), "no json here");
    assert_eq!(excerpt("short", 300), "short");
    assert_eq!(excerpt("", 300), "");
}

#[test]
fn a_long_text_is_cut_on_a_char_boundary_with_an_ellipsis() {
    let e = excerpt(&"é".repeat(1000), 300);
    assert_eq!(e.chars().count(), 301);
    assert!(e.ends_with('…'));
    let e = excerpt(&"word ".repeat(100), 200);
    assert_eq!(e.chars().count(), 201);
    assert!(e.ends_with('…'));
}

#[test]
fn a_cut_at_a_word_boundary_leaves_no_space_before_the_ellipsis() {
    assert_eq!(excerpt("abc def", 3), "abc…");
    assert_eq!(excerpt("abc def", 4), "abc …");
    assert_eq!(excerpt("abc", 3), "abc");
}
