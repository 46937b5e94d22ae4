use std::path::Path;

use super::keys::VENDOR_KEYS;
use super::presets::PRESETS;
use super::validate::{valid_provider_name, MAX_MODEL_NAME_CHARS, MAX_PROVIDER_NAME};
use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("quorum.toml"), text)
}

const GOOD: &str = r#"
[review]
include = ["**/*.go"]

[providers.gemma]
kind = "openai"
base_url = "http://127.0.0.1:1234/v1/"
model = "google/gemma-3-12b"

[providers.gpt]
kind = "openai"
base_url = "https://api.openai.com/v1"
model = "gpt-4.1"
api_key_env = "OPENAI_API_KEY"
family = "openai"
max_concurrency = 4
"#;

#[test]
fn provider_names_follow_one_rule() {
    for ok in ["a", "gpt-4.1_mini", "Claude3", &"a".repeat(MAX_PROVIDER_NAME)] {
        assert!(valid_provider_name(ok), "{ok}");
    }
    for bad in [
        "",
        ".x",
        "-x",
        "a b",
        "a/b",
        "a\nb",
        "é",
        &"a".repeat(MAX_PROVIDER_NAME + 1),
    ] {
        assert!(!valid_provider_name(bad), "{bad:?}");
    }
}

#[test]
fn valid_config_applies_defaults() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.review.include, vec!["**/*.go"]);
    assert_eq!(c.review.max_file_bytes, 200_000);
    let gemma = &c.providers[0];
    assert_eq!(gemma.name, "gemma");
    assert_eq!(gemma.base_url.as_deref(), Some("http://127.0.0.1:1234/v1"));
    assert_eq!(gemma.family, "google/gemma-3-12b");
    assert_eq!(gemma.max_concurrency, 1);
    assert_eq!(gemma.token_limit_field, TokenLimitFieldName::MaxTokens);
    let gpt = &c.providers[1];
    assert_eq!(gpt.family, "openai");
    assert_eq!(gpt.max_concurrency, 4);
    assert_eq!(gpt.token_limit_field, TokenLimitFieldName::MaxCompletionTokens);
}

#[test]
fn unknown_key_names_line_and_key() {
    let e = parse("[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\nmodle = \"m\"\n")
        .unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("modle"), "{e}");
}

#[test]
fn wrong_type_names_line_key_and_what_is_expected() {
    let e = parse(
        "[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\nmax_concurrency = \"four\"\n",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.starts_with("providers.a.max_concurrency: "), "{e}");
    assert!(e.message.contains("expected a whole number"), "{e}");
    let e = parse("[review]\nmax_file_bytes = \"big\"\n").unwrap_err();
    assert!(e.message.starts_with("review.max_file_bytes: "), "{e}");
}

#[test]
fn duplicate_provider_is_an_error() {
    let e = parse("[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\n[providers.a]\nkind = \"openai\"\n")
        .unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("duplicate") || e.message.contains("redefin"), "{e}");
}

#[test]
fn missing_model_points_at_table() {
    let e = parse("\n[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\n").unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("providers.a.model is missing"), "{e}");
}

#[test]
fn missing_key_variable_names_variable_and_line() {
    let c = parse("[providers.a]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1234/v1\"\nmodel = \"m\"\napi_key_env = \"QUORUM_TEST_SURELY_UNSET_VAR\"\n").unwrap();
    let e = c.providers[0].api_key(&c.path).unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("QUORUM_TEST_SURELY_UNSET_VAR"), "{e}");
}

#[test]
fn api_key_env_that_looks_like_a_key_is_rejected() {
    let e = parse(
        "[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\napi_key_env = \"sk-abc.def\"\n",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(5));
    assert!(e.message.contains("NAME of an environment variable"), "{e}");
}

#[test]
fn zero_concurrency_and_bad_url_and_bad_glob_are_errors() {
    let e = parse("[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\nmax_concurrency = 0\n")
        .unwrap_err();
    assert_eq!(e.line, Some(5));
    let e = parse("[providers.a]\nkind = \"openai\"\nbase_url = \"localhost:1234\"\nmodel = \"m\"\n").unwrap_err();
    assert_eq!(e.line, Some(3));
    for url in ["https://#/v1", "https://:443/v1", "http://exa mple.com/v1"] {
        let e = parse(&format!(
            "[providers.a]\nkind = \"openai\"\nbase_url = \"{url}\"\nmodel = \"m\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.line, Some(3), "{url}");
        assert!(e.message.contains("is not a URL with a host"), "{url}: {e}");
    }
    let e = parse("[review]\ninclude = [\"src/[\"]\n").unwrap_err();
    assert_eq!(e.line, Some(2));
    let e = parse("[review]\nmax_file_bytes = 10\nsecret_files = [\"*.pem\", \"keys/[\"]\n").unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(
        e.message
            .starts_with("review.secret_files: \"keys/[\" is not a valid pattern"),
        "{e}"
    );
}

#[test]
fn secret_files_default_to_the_named_list_and_can_be_replaced() {
    let c = parse("[review]\n").unwrap();
    assert_eq!(c.review.secret_files, DEFAULT_SECRET_FILES);
    let c = parse("[review]\nsecret_files = []\n").unwrap();
    assert!(c.review.secret_files.is_empty());
    let c = parse("[review]\nsecret_files = [\"*.pem\"]\n").unwrap();
    assert_eq!(c.review.secret_files, ["*.pem"]);
}

#[test]
fn unknown_kind_and_structured_output_are_errors() {
    let e = parse("[providers.a]\nkind = \"bard\"\n").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    let e = parse(
        "[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\nstructured_output = \"yaml\"\n",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
}

#[test]
fn select_restricts_and_rejects_unknown_names() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.select(&[]).unwrap().len(), 2);
    assert_eq!(c.select(&["gpt".into()]).unwrap()[0].name, "gpt");
    let e = c.select(&["claude".into()]).unwrap_err();
    assert!(e.message.contains("gemma, gpt"), "{e}");
}

#[test]
fn preset_fills_fields_and_the_table_wins() {
    let c = parse("[providers.local]\npreset = \"lmstudio\"\nmodel = \"google/gemma-3-12b\"\nmax_concurrency = 2\n")
        .unwrap();
    let p = &c.providers[0];
    assert_eq!(p.kind, ProviderKind::Openai);
    assert_eq!(p.base_url.as_deref(), Some("http://127.0.0.1:1234/v1"));
    assert_eq!(p.structured_output, StructuredOutputMode::JsonSchema);
    assert_eq!(p.timeout_secs, 900);
    assert_eq!(p.max_concurrency, 2, "the table wins");
    assert_eq!(p.preset.as_deref(), Some("lmstudio"));
    let c = parse("[providers.or]\npreset = \"openrouter\"\nmodel = \"x/y\"\n").unwrap();
    assert_eq!(c.providers[0].api_key_env.as_deref(), Some("OPENROUTER_API_KEY"));
    assert_eq!(
        c.providers[0].extra_body,
        Some(serde_json::json!({"provider": {"require_parameters": true}}))
    );
    let c = parse("[providers.claude]\npreset = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\n").unwrap();
    assert_eq!(c.providers[0].kind, ProviderKind::Anthropic);
    assert_eq!(c.providers[0].structured_output, StructuredOutputMode::Tool);
}

#[test]
fn extra_body_adds_to_the_presets_and_credentials_in_urls_are_refused() {
    let c = parse("[providers.or]\npreset = \"openrouter\"\nmodel = \"x/y\"\nextra_body = { reasoning = { effort = \"none\" }, provider = { order = [\"a\"] } }\n").unwrap();
    assert_eq!(
        c.providers[0].extra_body,
        Some(
            serde_json::json!({"provider": {"require_parameters": true, "order": ["a"]}, "reasoning": {"effort": "none"}})
        )
    );
    for url in ["http://user:pass@host/v1", "https://api.x.com/v1?key=abc"] {
        let e = parse(&format!(
            "[providers.a]\nkind = \"openai\"\nbase_url = \"{url}\"\nmodel = \"m\"\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("must not carry credentials"), "{e}");
    }
}

#[test]
fn base_url_with_a_fragment_or_query_is_refused() {
    for url in [
        "http://127.0.0.1:11434/api/pull#",
        "http://127.0.0.1:11434/api/pull#x/v1",
    ] {
        let e = parse(&format!(
            "[providers.a]\nkind = \"openai\"\nbase_url = \"{url}\"\nmodel = \"m\"\n"
        ))
        .unwrap_err();
        assert_eq!(e.line, Some(3), "{url}");
        assert!(e.message.contains("must not contain a fragment"), "{url}: {e}");
    }
    for url in [
        "http://127.0.0.1:11434/api/pull?",
        "http://127.0.0.1:11434/api/pull?a=b",
    ] {
        let e = parse(&format!(
            "[providers.a]\nkind = \"openai\"\nbase_url = \"{url}\"\nmodel = \"m\"\n"
        ))
        .unwrap_err();
        assert!(e.message.contains("or a query"), "{url}: {e}");
    }
}

#[test]
fn every_preset_parses_and_validates() {
    for (name, _) in PRESETS {
        let c = parse(&format!("[providers.p]\npreset = \"{name}\"\nmodel = \"m\"\n"));
        assert!(c.is_ok(), "{name}: {}", c.unwrap_err());
    }
}

#[test]
fn preset_errors_point_at_the_users_file() {
    let e = parse("[providers.local]\npreset = \"lmstudoi\"\nmodel = \"m\"\n").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("lmstudio, ollama"), "{e}");
    let e = parse("\n[providers.local]\npreset = \"lmstudio\"\n").unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("providers.local.model is missing"), "{e}");
    let e = parse("[providers.local]\nmodel = \"m\"\n").unwrap_err();
    assert!(e.message.contains("providers.local.kind is missing"), "{e}");
}

#[test]
fn structured_output_must_suit_the_api() {
    let e = parse("[providers.c]\npreset = \"anthropic\"\nmodel = \"m\"\nstructured_output = \"json_object\"\n")
        .unwrap_err();
    assert!(e.message.contains("anthropic takes tool"), "{e}");
    let e = parse("[providers.g]\npreset = \"lmstudio\"\nmodel = \"m\"\nstructured_output = \"tool\"\n").unwrap_err();
    assert!(e.message.contains("openai servers take"), "{e}");
}

#[test]
fn prices_must_be_non_negative() {
    let e = parse("[providers.g]\npreset = \"openai\"\nmodel = \"m\"\nprice_input_per_mtok = -1.0\n").unwrap_err();
    assert_eq!(e.line, Some(4));
    let c = parse(
        "[providers.g]\npreset = \"openai\"\nmodel = \"m\"\nprice_input_per_mtok = 0.4\nprice_output_per_mtok = 1.6\n",
    )
    .unwrap();
    assert_eq!(c.providers[0].price_output_per_mtok, Some(1.6));
}

#[test]
fn consensus_settings_and_weights_are_read_and_checked() {
    let c = parse(
        "[consensus]\nmerge_threshold = 0.6\n[providers.a]\npreset = \"lmstudio\"\nmodel = \"m\"\nweight = 2.0\n",
    )
    .unwrap();
    assert_eq!(c.consensus.merge_threshold, 0.6);
    assert_eq!(c.consensus.provider_weights.get("a"), Some(&2.0));
    let e = parse("[consensus]\nmerge_threshold = 1.5\n").unwrap_err();
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.message.contains("merge_threshold must be between 0 and 1"), "{e}");
    let e = parse("[consensus]\nmerge_treshold = 0.5\n").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    let c = parse("[consensus]\ndemote_paths = [\"qa/**\"]\n").unwrap();
    assert_eq!(c.consensus.demote_paths, ["qa/**"]);
    let e = parse("[consensus]\ndemote_paths = [\"src/[\"]\n").unwrap_err();
    assert!(
        e.message
            .contains("consensus: demote_paths: \"src/[\" is not a valid glob"),
        "{e}"
    );
}

/// A provider table with `base_url`, and `extra` lines after it.
fn provider_at(base_url: &str, extra: &str) -> Result<Config, ConfigError> {
    parse(&format!(
        "[providers.p]\nkind = \"openai\"\nbase_url = \"{base_url}\"\nmodel = \"m\"\n{extra}"
    ))
}

#[test]
fn a_well_known_key_goes_only_to_its_vendor() {
    for vendor in VENDOR_KEYS {
        let var = vendor.env;
        let e = provider_at("https://evil.example/v1", &format!("api_key_env = \"{var}\"\n")).unwrap_err();
        assert_eq!(e.line, Some(3), "points at base_url: {e}");
        assert_eq!(
            e.message,
            format!(
                "providers.p: {var} is {}'s key, but base_url sends it to evil.example; to send it there on \
                 purpose, add `send_key_to = \"evil.example\"`",
                vendor.vendor
            )
        );
        let home = format!("https://{}/v1", vendor.host);
        assert!(
            provider_at(&home, &format!("api_key_env = \"{var}\"\n")).is_ok(),
            "{var}"
        );
    }
    // A look-alike host is another host.
    let e = provider_at(
        "https://api.openai.com.evil.example/v1",
        "api_key_env = \"OPENAI_API_KEY\"\n",
    )
    .unwrap_err();
    assert!(e.message.contains("sends it to api.openai.com.evil.example;"), "{e}");
    // A preset's variable counts like one written in the table.
    let e = parse("[providers.p]\npreset = \"anthropic\"\nmodel = \"m\"\nbase_url = \"https://proxy.example\"\n")
        .unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert!(
        e.message
            .starts_with("providers.p: ANTHROPIC_API_KEY is Anthropic's key"),
        "{e}"
    );
}

#[test]
fn send_key_to_must_name_the_base_urls_host() {
    let c = provider_at(
        "https://proxy.example/v1",
        "api_key_env = \"OPENAI_API_KEY\"\nsend_key_to = \"proxy.example\"\n",
    )
    .unwrap();
    assert_eq!(c.providers[0].send_key_to.as_deref(), Some("proxy.example"));
    let c = parse(
        "[providers.p]\npreset = \"gemini\"\nmodel = \"m\"\nbase_url = \"http://127.0.0.1:9/v1beta\"\n\
         send_key_to = \"127.0.0.1\"\n",
    )
    .unwrap();
    assert_eq!(c.providers[0].destination_host().as_deref(), Some("127.0.0.1"));
    let e = provider_at(
        "https://evil.example/v1",
        "api_key_env = \"OPENAI_API_KEY\"\nsend_key_to = \"proxy.example\"\n",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(6), "{e}");
    assert_eq!(
        e.message,
        "providers.p.send_key_to is \"proxy.example\", but base_url sends requests to \"evil.example\": they \
         must name the same host"
    );
}

#[test]
fn a_key_is_never_sent_over_plain_http_beyond_the_private_network() {
    let key = "api_key_env = \"LM_API_TOKEN\"\n";
    let e = provider_at("http://gpu.example.com:1234/v1", key).unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(
        e.message.starts_with(
            "providers.p: base_url would send the key from $LM_API_TOKEN over plain http:// to gpu.example.com, \
             where anyone on the way can read it; use https://"
        ),
        "{e}"
    );
    // Even when send_key_to names the host: it is the wire, not the host, that leaks.
    let e = provider_at(
        "http://8.8.8.8/v1",
        "api_key_env = \"OPENAI_API_KEY\"\nsend_key_to = \"8.8.8.8\"\n",
    )
    .unwrap_err();
    assert!(e.message.contains("over plain http://"), "{e}");
    for url in [
        "http://127.0.0.1:1234/v1",
        "http://localhost:1234/v1",
        "http://192.168.1.20:1234/v1",
        "http://10.0.0.5/v1",
        "http://[::1]:1234/v1",
        "https://gpu.example.com/v1",
    ] {
        assert!(provider_at(url, key).is_ok(), "{url}");
    }
    assert!(
        provider_at("http://gpu.example.com:1234/v1", "").is_ok(),
        "no key, nothing to leak"
    );
}

#[test]
fn max_response_bytes_defaults_to_4_mib_and_must_be_positive() {
    let c = provider_at("http://127.0.0.1/v1", "").unwrap();
    assert_eq!(c.providers[0].max_response_bytes, 4 * 1024 * 1024);
    let c = provider_at("http://127.0.0.1/v1", "max_response_bytes = 1000\n").unwrap();
    assert_eq!(c.providers[0].max_response_bytes, 1000);
    let e = provider_at("http://127.0.0.1/v1", "max_response_bytes = 0\n").unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    assert_eq!(e.message, "providers.p.max_response_bytes must be at least 1 (bytes)");
    let e = provider_at("http://127.0.0.1/v1", "max_response_bytes = -1\n").unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
}

#[test]
fn example_config_is_valid() {
    let c = parse(EXAMPLE_CONFIG).unwrap();
    assert!(c.providers.len() >= 2);
}

#[test]
fn a_judge_only_provider_is_no_reviewer_and_names_what_to_do() {
    let text = r#"
[providers.a]
kind = "openai"
base_url = "http://127.0.0.1:1/v1"
model = "m"

[providers.big]
kind = "openai"
base_url = "http://127.0.0.1:1/v1"
model = "big"
review = false

[judge]
provider = "big"
"#;
    let c = parse(text).unwrap();
    let judge = c.judge.as_ref().unwrap();
    assert_eq!(
        (judge.provider.as_str(), judge.top, judge.mode),
        ("big", 20, JudgeMode::Single)
    );
    let names = |v: Vec<ProviderConfig>| v.into_iter().map(|p| p.name).collect::<Vec<_>>();
    assert_eq!(names(c.select_reviewers(&[]).unwrap()), ["a"]);
    assert_eq!(
        names(c.select(&[]).unwrap()),
        ["a", "big"],
        "providers check still checks the judge"
    );
    let e = c.select_reviewers(&["big".to_string()]).unwrap_err();
    assert!(e.message.contains("review = false (it only judges)"), "{e}");

    let e = parse(&text.replace("[judge]\nprovider = \"big\"\n", "")).unwrap_err();
    assert_eq!(e.line, Some(7), "points at the judge-only table: {e}");
    let e = parse(&text.replace("provider = \"big\"", "provider = \"a\"\nmode = \"peers\"")).unwrap_err();
    assert!(
        e.message
            .contains("providers.big.review = false, but no [judge] names it"),
        "{e}"
    );
    let only_judges = text.replace("model = \"m\"\n", "model = \"m\"\nreview = false\n");
    let e = parse(&only_judges).unwrap_err();
    assert!(e.message.contains("review = false"), "{e}");
}

#[test]
fn related_context_is_off_by_default_and_its_budget_is_checked() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.providers[0].context, ContextMode::None);
    assert_eq!(c.providers[0].related_tokens, 2000);
    let provider = "[providers.a]\npreset = \"lmstudio\"\nmodel = \"m\"\ncontext_tokens = 16000\n";
    let c = parse(&format!("{provider}context = \"related\"\nrelated_tokens = 3000\n")).unwrap();
    assert_eq!(c.providers[0].context, ContextMode::Related);
    assert_eq!(c.providers[0].related_tokens, 3000);
    assert_eq!(
        c.providers[0].context_tokens,
        Some(16000),
        "the window is a setting apart"
    );
    let small = parse(&format!("{provider}context = \"related\"\nrelated_tokens = 10\n")).unwrap_err();
    assert!(
        small.to_string().contains("related_tokens must be at least 100 tokens"),
        "{small}"
    );
    assert!(
        small.to_string().contains("quorum.toml:6:"),
        "points at the line: {small}"
    );
    let unknown = parse(&format!("{provider}context = \"everything\"\n")).unwrap_err();
    assert!(unknown.to_string().contains("related"), "{unknown}");
}

#[test]
fn a_model_or_family_name_longer_than_any_real_one_is_refused() {
    let long = "m".repeat(MAX_MODEL_NAME_CHARS + 1);
    let e = parse(&format!(
        "[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"{long}\"\n"
    ))
    .unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert!(
        e.message.contains("providers.a.model is longer than 256 characters"),
        "{e}"
    );
    let e = parse(&format!(
        "[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\nfamily = \"{long}\"\n"
    ))
    .unwrap_err();
    assert!(
        e.message.contains("providers.a.family is longer than 256 characters"),
        "{e}"
    );
    let fits = "m".repeat(MAX_MODEL_NAME_CHARS);
    assert!(parse(&format!(
        "[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"{fits}\"\n"
    ))
    .is_ok());
}

#[test]
fn more_providers_than_a_run_may_have_are_refused() {
    let table = |n: usize| format!("[providers.p{n}]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\n");
    let most: String = (0..crate::config::MAX_PROVIDERS).map(table).collect();
    assert!(parse(&most).is_ok());
    let e = parse(&(most + &table(999))).unwrap_err();
    assert!(e.message.starts_with("65 providers are configured: at most 64"), "{e}");
}
