//! The proxies the environment names carry traffic to hosted APIs, never to this machine:
//! a request to a local server, its key included, must not leave the machine through a
//! proxy set up for the internet.

mod support;

use std::path::Path;
use std::process::Output;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const LOCAL_KEY: &str = "local-e2e-SECRET-7d1b";

/// A server that counts what it receives and answers nothing useful.
async fn listener() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

async fn requests_to(server: &MockServer) -> usize {
    server.received_requests().await.expect("recording is on").len()
}

/// `quorum providers check` in `dir`, with every proxy variable pointing at `proxy`.
async fn providers_check_behind(proxy: &MockServer, dir: &Path) -> Output {
    let dir = dir.to_path_buf();
    let proxy = proxy.uri();
    tokio::task::spawn_blocking(move || {
        let mut cmd = support::quorum_cmd(&dir);
        for var in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env(var, &proxy);
        }
        for var in ["NO_PROXY", "no_proxy", "REQUEST_METHOD"] {
            cmd.env_remove(var);
        }
        cmd.args(["providers", "check", "--config", "quorum.toml"])
            .env("LOCAL_KEY", LOCAL_KEY)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// A project whose one provider is at `base_url`; `extra` is added to its table.
fn project(base_url: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("quorum.toml"),
        format!("[providers.local]\nkind = \"openai\"\nbase_url = \"{base_url}\"\nmodel = \"m\"\ntimeout_secs = 10\n{extra}"),
    )
    .unwrap();
    dir
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
        let dir = project(&base_url, "api_key_env = \"LOCAL_KEY\"\n");
        let out = providers_check_behind(&proxy, dir.path()).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
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
    let dir = project("http://api.quorum-proxy-test.invalid/v1", "");
    let out = providers_check_behind(&proxy, dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let seen = proxy.received_requests().await.expect("recording is on");
    assert!(!seen.is_empty(), "the proxy was not used\n{stderr}");
    assert!(
        seen.iter().any(|r| r.url.path() == "/v1/chat/completions"),
        "{:?}",
        seen.iter().map(|r| r.url.to_string()).collect::<Vec<_>>()
    );
}
