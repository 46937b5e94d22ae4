use std::path::Path;

use super::store::STORE_FILE;
use super::*;

fn config(providers: &str) -> Config {
    Config::parse(Path::new("quorum.toml"), providers).unwrap()
}

/// Whether `text` needs no trust, judged as [`Loaded::verdict`] judges it.
fn local(text: &str) -> bool {
    stays_local(&config(text), &settings_beyond_allowlist(text))
}

const LOCAL: &str = "[providers.a]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1234/v1\"\nmodel = \"m\"\n";

#[test]
fn loopback_without_keys_stays_local() {
    assert!(local(LOCAL));
    for url in ["http://localhost:1234/v1", "http://[::1]:8080", "http://127.1:9/v1"] {
        let text = LOCAL.replace("http://127.0.0.1:1234/v1", url);
        assert!(local(&text), "{url}");
    }
    assert!(local("[providers.l]\npreset = \"lmstudio\"\nmodel = \"m\"\n"));
}

#[test]
fn a_remote_host_or_any_key_variable_needs_trust() {
    for url in [
        "https://api.openai.com/v1",
        "http://127.0.0.1.evil.example/v1",
        "http://localhost.evil.example",
        "http://10.0.0.1",
    ] {
        let text = LOCAL.replace("http://127.0.0.1:1234/v1", url);
        assert!(!local(&text), "{url}");
    }
    assert!(!local(&format!("{LOCAL}api_key_env = \"HOME\"\n")));
    // An IPv4-mapped loopback address connects to this machine.
    assert!(local(&LOCAL.replace("127.0.0.1:1234", "[::ffff:127.0.0.1]:1234")));
    // The key variable may come from the preset.
    let preset = "[providers.o]\npreset = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\n\
                  send_key_to = \"127.0.0.1\"\n";
    assert!(!local(preset));
}

#[test]
fn recorded_answers_or_a_cache_dir_need_trust_even_on_loopback() {
    let replay = "[providers.r]\nkind = \"replay\"\nreplay_file = \"a.jsonl\"\nmodel = \"m\"\n";
    assert!(!local(replay));
    assert!(!local(&format!("[review]\ncache_dir = \"c\"\n\n{LOCAL}")));
}

#[test]
fn any_setting_beyond_the_harmless_provider_keys_needs_trust() {
    for extra in [
        "[review]\nexclude = [\"src/backdoor.rs\"]\n",
        "[review]\ninclude = [\"*.py\"]\n",
        "[review]\nsecret_files = []\n",
        "[review]\nmax_file_bytes = 10\n",
        "[consensus]\nmerge_threshold = 0.6\n",
    ] {
        assert!(!local(&format!("{extra}\n{LOCAL}")), "{extra}");
    }
    for key in [
        "redact = \"never\"",
        "extra_body = { tools = [] }",
        "weight = 5.0",
        "family = \"x\"",
        "send_key_to = \"127.0.0.1\"",
        "max_response_bytes = 99999999",
        "price_input_per_mtok = 1.0",
        // Sends code of other files with each file.
        "context = \"related\"",
        "related_tokens = 9000",
    ] {
        assert!(!local(&format!("{LOCAL}{key}\n")), "{key}");
    }
    let harmless = format!(
        "{LOCAL}max_concurrency = 2\ntimeout_secs = 60\nmax_attempts = 2\ntemperature = 0.1\n\
         max_output_tokens = 900\ncontext_tokens = 8000\nrequests_per_minute = 5\ntokens_per_minute = 9000\n\
         structured_output = \"json_schema\"\ntoken_limit_field = \"max_tokens\"\n"
    );
    assert!(local(&harmless));
}

#[test]
fn settings_beyond_the_allowlist_are_listed_safe_and_short() {
    let text = format!(
        "[review]\nexclude = [\"a\\u001b[2J\"]\n[consensus]\nmerge_threshold = 0.6\n\n{LOCAL}redact = \"never\"\n\
         extra_body = {{ x = \"{}\" }}\n",
        "y".repeat(500)
    );
    let lines = settings_beyond_allowlist(&text);
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(
        lines.contains(&"consensus.merge_threshold = 0.6".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"providers.a.redact = \"never\"".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|l| !l.contains('\u{1b}') && l.chars().count() < 200),
        "{lines:?}"
    );
    assert!(settings_beyond_allowlist(LOCAL).is_empty());
}

#[test]
fn destination_names_scheme_host_port_and_key_after_presets() {
    let c = config("[providers.o]\npreset = \"openai\"\nmodel = \"m\"\n");
    let d = Destination::of(&c.providers[0]);
    assert_eq!(d.host.as_deref(), Some("https://api.openai.com:443"));
    assert_eq!(d.key_env.as_deref(), Some("OPENAI_API_KEY"));
    assert_eq!(
        d.line(),
        "o: openai, sends $OPENAI_API_KEY to https://api.openai.com:443"
    );
}

#[test]
fn destination_lines_are_safe_for_the_terminal() {
    // The parser refuses such a name; the line is safe even so.
    let bad = LOCAL.replace("providers.a", "providers.\"a\\u001b[2Jb\"");
    assert!(Config::parse(Path::new("quorum.toml"), &bad).is_err());
    let mut c = config(LOCAL);
    c.providers[0].name = "a\u{1b}[2Jb".into();
    assert!(!Destination::of(&c.providers[0]).line().contains('\u{1b}'));
}

#[test]
fn the_store_trusts_exact_content_and_notices_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q").join(STORE_FILE);
    let file = Path::new("/x/quorum.toml");
    TrustStore::update(&path, |s| s.trust(file, "aa", "2026-01-01T00:00:00Z")).unwrap();
    let store = TrustStore::open(&path).unwrap();
    assert_eq!(store.lookup(file, "aa"), Lookup::Trusted("2026-01-01T00:00:00Z".into()));
    assert_eq!(store.lookup(file, "bb"), Lookup::Changed("2026-01-01T00:00:00Z".into()));
    assert_eq!(store.lookup(Path::new("/y/quorum.toml"), "aa"), Lookup::Unknown);
    TrustStore::update(&path, |s| assert!(s.forget(file))).unwrap();
    assert_eq!(TrustStore::open(&path).unwrap().lookup(file, "aa"), Lookup::Unknown);
}

#[test]
fn a_corrupt_store_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    std::fs::write(&path, "trusted = 3\n").unwrap();
    let err = TrustStore::open(&path).unwrap_err().to_string();
    assert!(
        err.contains(&path.display().to_string()) && err.contains("delete it"),
        "{err}"
    );
}
