//! The proxies the environment names carry traffic to hosted APIs, never to this machine:
//! a request to a local server, its key included, must not leave the machine through a
//! proxy set up for the internet.

mod support;

use std::path::Path;
use std::process::Output;

use support::fixture::{openai_provider, project};
use support::server::{answering, requests as requests_to};
use wiremock::{MockServer, ResponseTemplate};

const LOCAL_KEY: &str = "local-e2e-SECRET-7d1b";

/// A server that counts what it receives and answers nothing useful.
async fn listener() -> MockServer {
    answering(ResponseTemplate::new(200)).await
}

/// `quorum providers check` in `dir`, with every proxy variable pointing at `proxy`.
async fn providers_check_behind(proxy: &MockServer, dir: &Path) -> Output {
    let proxy = proxy.uri();
    let mut env: Vec<(&str, &str)> = [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .map(|var| (var, proxy.as_str()))
    .into();
    // No NO_PROXY exempts a host, and no REQUEST_METHOD makes it a CGI request (which
    // ignores HTTP_PROXY): every run of the binary has them removed.
    env.push(("LOCAL_KEY", LOCAL_KEY));
    support::quorum_async(dir, &["providers", "check", "--config", "quorum.toml"], &env).await
}

/// A project whose one provider is at `base_url`; `extra` is added to its table.
fn local_project(base_url: &str, extra: &str) -> tempfile::TempDir {
    project(
        &[],
        &openai_provider("local", base_url, "m", &format!("timeout_secs = 10\n{extra}")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_from_the_environment_never_carries_loopback_traffic() {
    let proxy = listener().await;
    let server = listener().await;
    let port = server.address().port();
    for base_url in [
        format!("http://127.0.0.1:{port}/v1"),
        format!("http://localhost:{port}/v1"),
    ] {
        let before = requests_to(&server).await;
        let dir = local_project(&base_url, "api_key_env = \"LOCAL_KEY\"\n");
        let out = providers_check_behind(&proxy, dir.path()).await;
        let stderr = support::stderr(&out);
        assert!(
            requests_to(&server).await > before,
            "{base_url}: the local server was not reached directly\n{stderr}"
        );
        assert_eq!(requests_to(&proxy).await, 0, "{base_url}: the proxy received a request");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_from_the_environment_still_carries_traffic_to_other_hosts() {
    let proxy = listener().await;
    // `.invalid` never resolves: only the proxy can have answered.
    let dir = local_project("http://api.quorum-proxy-test.invalid/v1", "");
    let out = providers_check_behind(&proxy, dir.path()).await;
    let stderr = support::stderr(&out);
    let seen = proxy.received_requests().await.expect("recording is on");
    assert!(!seen.is_empty(), "the proxy was not used\n{stderr}");
    assert!(
        seen.iter().any(|r| r.url.path() == "/v1/chat/completions"),
        "{:?}",
        seen.iter().map(|r| r.url.to_string()).collect::<Vec<_>>()
    );
}
