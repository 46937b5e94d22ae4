use super::*;

#[test]
fn served_model_names_that_mean_the_same_model() {
    assert!(same_model("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"));
    assert!(same_model("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"));
    assert!(same_model("gemma3:12b", "gemma3:12b"));
    assert!(same_model("llama3.1", "llama3.1:latest"));
    assert!(
        !same_model("gpt-4o", "gpt-4o-mini-2024-07-18"),
        "a different model that shares a prefix"
    );
    assert!(!same_model("gpt-4.1-mini", "gpt-4"));
    assert!(!same_model("llama3.1", "llama3.1:70b"));
    assert!(same_model("gpt-4", "gpt-4-0613"));
    assert!(same_model("grok-4", "grok-4-0709"));
    assert!(same_model("gemini-1.5-flash", "gemini-1.5-flash-002"));
    assert!(same_model("x/y-instruct:free", "x/y-instruct"));
    assert!(!same_model("gpt-4", "gpt-4.1"));
    assert!(!same_model("claude-sonnet-4", "claude-sonnet-4-5-20250929"));
    assert!(!same_model("claude-opus-4", "claude-opus-4-1-20250805"));
    assert!(same_model("claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219"));
    assert!(same_model("o3-mini", "o3-mini-2025-01-31"));
    assert!(!same_model("x/y:thinking", "x/y"));
    assert!(same_model("claude-sonnet-4-0", "claude-sonnet-4-20250514"));
    assert!(same_model("claude-opus-4-0", "claude-opus-4-20250514"));
    assert!(same_model("gemini-2.5-flash", "models/gemini-2.5-flash"));
    assert!(same_model("google/gemma-3-12b", "google/gemma-3-12b"));
    assert!(!same_model("qwen/qwen3-coder-30b", "google/gemma-3-12b"));
    assert!(!same_model("gpt-4.1", ""));
}

#[test]
fn openrouter_routing_variants_and_its_router_answer_as_the_model() {
    for variant in [":nitro", ":floor", ":online", ":exacto"] {
        let requested = format!("anthropic/claude-sonnet-4.5{variant}");
        assert!(same_model(&requested, "anthropic/claude-sonnet-4.5"), "{variant}");
        assert!(!same_model(&requested, "openai/gpt-5"), "{variant}: another model");
    }
    assert!(
        !same_model("x/y:thinking", "x/y"),
        "a thinking variant is another model"
    );
    assert!(same_model("openrouter/auto", "anthropic/claude-sonnet-4.5"));
    assert!(same_model("OpenRouter/auto", "openai/gpt-5-mini"));
    assert!(!same_model("openrouter/auto", ""), "no name is never the model");
    assert!(!same_model("anthropic/claude-sonnet-4.5", "openrouter/auto"));
}
