//! The binary never hands a key, or the code, to an address the user did not choose, and
//! never holds more of an answer than configured: a configuration that points a vendor's
//! key variable at another server is refused before anything is sent, a server that
//! redirects is not followed, and an answer over `max_response_bytes` is refused.

mod support;

use std::path::Path;
use std::process::Output;

use support::fixture::openai_provider;
use support::server::{answering, requests as requests_to};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const OPENAI_KEY: &str = "sk-proj-e2e-SECRET-5f2a9c";

/// A server that counts what it receives and answers nothing useful.
async fn listener() -> MockServer {
    answering(ResponseTemplate::new(200)).await
}

/// Runs `quorum ARGS` in `dir` with `$OPENAI_API_KEY` set.
async fn quorum(dir: &Path, args: &[&str]) -> Output {
    support::quorum_async(dir, args, &[("OPENAI_API_KEY", OPENAI_KEY)]).await
}

fn project(config: &str) -> tempfile::TempDir {
    support::fixture::project(&[("src/app.py", "import os\nos.system(input())\n")], config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_key_pointed_at_another_server_is_refused_before_any_request() {
    let server = listener().await;
    let host_port = server.address().to_string();
    let dir = project(&openai_provider(
        "gpt",
        &format!("http://{host_port}/v1"),
        "gpt-4.1-mini",
        "api_key_env = \"OPENAI_API_KEY\"",
    ));
    for args in [&["review", "src", "--out", "out"][..], &["providers", "check"][..]] {
        let out = quorum(dir.path(), args).await;
        let stdout = support::stdout(&out);
        let stderr = support::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{stdout}\n{stderr}");
        assert!(
            stderr.contains(
                "quorum.toml:3: providers.gpt: OPENAI_API_KEY is OpenAI's key, but base_url sends it to 127.0.0.1; \
                 to send it there on purpose, add `send_key_to = \"127.0.0.1\"`"
            ),
            "{args:?}: {stderr}"
        );
        assert!(
            !stdout.contains(OPENAI_KEY) && !stderr.contains(OPENAI_KEY),
            "the key was printed"
        );
    }
    assert_eq!(requests_to(&server).await, 0, "nothing may reach the server");
    assert!(!dir.path().join("out").exists(), "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_check_does_not_follow_a_redirect() {
    let elsewhere = listener().await;
    let redirecting = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", format!("{}/v1/chat/completions", elsewhere.uri()).as_str()),
        )
        .mount(&redirecting)
        .await;
    let dir = project(&openai_provider(
        "local",
        &format!("{}/v1", redirecting.uri()),
        "m",
        "timeout_secs = 10",
    ));
    let out = quorum(dir.path(), &["providers", "check"]).await;
    let stdout = support::stdout(&out);
    let stderr = support::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "local: structured output: the json_schema request failed: the server at {}/v1/chat/completions \
             answered 307 with a redirect to {}/v1/chat/completions: Quorum follows no redirects, because they \
             would carry your key and your code to another address; set base_url to the final address",
            redirecting.uri(),
            elsewhere.uri()
        )),
        "{stderr}"
    );
    assert!(
        requests_to(&redirecting).await >= 2,
        "the model list and the probe were asked"
    );
    assert_eq!(requests_to(&elsewhere).await, 0, "the redirect was followed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_over_max_response_bytes_is_refused_with_the_setting_named() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(5000)))
        .mount(&server)
        .await;
    let dir = project(&openai_provider(
        "local",
        &format!("{}/v1", server.uri()),
        "m",
        "timeout_secs = 10\nmax_response_bytes = 1000",
    ));
    // max_response_bytes is beyond the keys a found configuration may set untrusted.
    let out = quorum(dir.path(), &["providers", "check", "--config", "quorum.toml"]).await;
    let stderr = support::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "local: structured output: the json_schema request failed: the answer from {}/v1/chat/completions is \
             larger than 1000 bytes (max_response_bytes); raise it if the model really writes that much",
            server.uri()
        )),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_with_a_fragment_is_refused_before_any_request() {
    let server = listener().await;
    // With the old string concatenation, `/chat/completions` became part of the fragment
    // and the request, extra_body included, went to /api/pull.
    let dir = project(&openai_provider(
        "local",
        &format!("{}/api/pull#", server.uri()),
        "m",
        "extra_body = { name = \"attacker/model\" }",
    ));
    for args in [&["review", "src", "--out", "out"][..], &["providers", "check"][..]] {
        let out = quorum(dir.path(), args).await;
        let stderr = support::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{stderr}");
        assert!(
            stderr.contains(
                "quorum.toml:3: providers.local.base_url must not contain a fragment (`#…`): Quorum appends the \
                 API path to it; remove the `#` and what follows"
            ),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(requests_to(&server).await, 0, "nothing may reach the server");
}
