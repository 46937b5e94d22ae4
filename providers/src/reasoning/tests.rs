use super::*;

/// The answer and reasoning of `text`, as a pair.
fn split(text: &str) -> (String, Option<String>) {
    let Reasoned { answer, reasoning } = split_reasoning(text);
    (answer, reasoning)
}

#[test]
fn think_block_is_split_from_answer() {
    let (a, r) = split("<think>hmm\nok</think>\n{\"findings\":[]}");
    assert_eq!(a, "{\"findings\":[]}");
    assert_eq!(r.as_deref(), Some("hmm\nok"));
}

#[test]
fn missing_opening_tag_drops_everything_before_close() {
    let (a, r) = split("reasoning here</think>{\"findings\":[]}");
    assert_eq!(a, "{\"findings\":[]}");
    assert_eq!(r.as_deref(), Some("reasoning here"));
}

#[test]
fn a_closing_tag_inside_a_json_answer_is_content() {
    let json = r#"{"findings":[{"title":"echoes </think> to users"}]}"#;
    assert_eq!(split(json), (json.to_string(), None));
    let fenced = "```json\n{\"title\":\"echoes </think>\"}\n```";
    assert_eq!(split(fenced), (fenced.to_string(), None));
}

#[test]
fn text_without_think_is_untouched() {
    let (a, r) = split("{\"findings\":[]}");
    assert_eq!(a, "{\"findings\":[]}");
    assert_eq!(r, None);
    assert_eq!(
        split("  prose, then JSON  "),
        ("  prose, then JSON  ".to_string(), None)
    );
}

#[test]
fn unclosed_think_is_all_reasoning() {
    let (a, r) = split("<think>still going");
    assert_eq!(a, "");
    assert_eq!(r.as_deref(), Some("still going"));
}

#[test]
fn text_around_blocks_is_kept() {
    assert_eq!(split("a<think>b</think>c").0, "ac");
    assert_eq!(split("reasoning</think>answer").0, "answer");
    assert_eq!(split("answer<think>cut off").0, "answer");
}

#[test]
fn thinking_tags_in_any_case_are_reasoning_too() {
    let (a, r) = split("<THINK>one</Think> <thinking>two</thinking>{}");
    assert_eq!(a, "{}");
    assert_eq!(r.as_deref(), Some("one\n\ntwo"));
}

#[test]
fn an_empty_block_is_reasoning_that_says_nothing() {
    assert_eq!(split("<think></think>{}"), ("{}".to_string(), Some(String::new())));
}

#[test]
fn many_short_blocks_are_read_in_linear_time() {
    let text = "<think>a</think>".repeat(50_000) + "{}";
    let started = std::time::Instant::now();
    assert_eq!(split(&text).0, "{}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_tag_inside_the_json_after_reasoning_is_content() {
    let json = r#"{"findings":[{"title":"Prompt injection via <think> tag","description":"a <think>x</think> in user text"}]}"#;
    let (a, r) = split(&format!("<think>plan</think>\n{json}"));
    assert_eq!(a, json, "the findings survive whole");
    assert_eq!(r.as_deref(), Some("plan"));
    let prose = format!("Here is the review: {json}");
    assert_eq!(split(&prose), (prose.clone(), None));
}
