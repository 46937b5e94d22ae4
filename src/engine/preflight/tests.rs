use std::path::Path;

use futures::future::BoxFuture;
use providers::{Completion, ErrorKind, ModelInfo, Provider, ProviderError, Request};

use super::*;
use crate::config::{Config, ProviderConfig};

/// A provider whose model list is `listed` (or never comes), and which is never asked.
struct Listing(Option<Result<Vec<ModelInfo>, ProviderError>>);

impl Provider for Listing {
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>> {
        Box::pin(async move {
            match &self.0 {
                Some(listed) => listed.clone(),
                None => futures::future::pending().await,
            }
        })
    }

    fn complete<'a>(&'a self, _: &'a Request) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        unreachable!("the cheap checks send no chat request")
    }
}

fn config(extra: &str) -> ProviderConfig {
    let toml = format!(
        "[providers.p]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1234/v1\"\nmodel = \"qwen/qwen3\"\n{extra}\n"
    );
    Config::parse(Path::new("quorum.toml"), &toml)
        .unwrap()
        .providers
        .remove(0)
}

fn models(ids: &[&str]) -> Vec<ModelInfo> {
    ids.iter()
        .map(|id| ModelInfo {
            id: id.to_string(),
            context_tokens: None,
        })
        .collect()
}

async fn verdict(listed: Result<Vec<ModelInfo>, ProviderError>) -> Preflight {
    preflight(&config(""), &Listing(Some(listed))).await
}

#[tokio::test]
async fn nothing_listening_is_dropped_with_what_to_do() {
    let refused = ProviderError::new(
        ErrorKind::Connect,
        "the server at http://127.0.0.1:1234/v1/models could not be reached (Connection refused (os error 111))",
    );
    assert_eq!(
        preflight(&config("preset = \"lmstudio\""), &Listing(Some(Err(refused)))).await,
        Preflight::Dropped(
            "nothing is listening at http://127.0.0.1:1234/v1 (connection refused); start LM Studio's server, \
             or leave it out by naming the others with --provider"
                .into()
        )
    );
}

#[tokio::test]
async fn a_refused_key_or_a_missing_model_is_dropped() {
    let auth = ProviderError::new(ErrorKind::Auth, "the key in $K was refused");
    assert_eq!(
        verdict(Err(auth)).await,
        Preflight::Dropped("the key was refused: the key in $K was refused".into())
    );
    let Preflight::Dropped(why) = verdict(Ok(models(&["google/gemma-3-12b"]))).await else {
        panic!("a list without the model drops it");
    };
    assert!(why.starts_with("the model is missing: \"qwen/qwen3\" is not on the server; it has: google/gemma-3-12b"));
}

#[tokio::test]
async fn only_a_definite_answer_drops_a_provider() {
    for kind in [
        ErrorKind::NotFound,
        ErrorKind::Server,
        ErrorKind::InvalidRequest,
        ErrorKind::BadResponse,
    ] {
        assert_eq!(
            verdict(Err(ProviderError::new(kind, "no list"))).await,
            Preflight::Kept,
            "{kind:?}"
        );
    }
    assert_eq!(verdict(Ok(vec![])).await, Preflight::Kept, "an empty list says nothing");
    // The same model under another spelling: a dated build, another case, `:latest`.
    for listed in ["qwen/qwen3-20250101", "Qwen/Qwen3", "qwen/qwen3:latest"] {
        assert_eq!(
            verdict(Ok(models(&["other", listed]))).await,
            Preflight::Kept,
            "{listed}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_server_slower_than_the_timeout_is_kept_once_it_passes() {
    let started = tokio::time::Instant::now();
    assert_eq!(preflight(&config(""), &Listing(None)).await, Preflight::Kept);
    assert_eq!(started.elapsed(), PREFLIGHT_TIMEOUT);
}

#[test]
fn a_refusal_is_a_connect_error_that_says_refused() {
    let connect = |message: &str| ProviderError::new(ErrorKind::Connect, message);
    assert!(refused(&connect("(Connection refused (os error 111))")));
    assert!(refused(&connect(
        "(No connection could be made because the target machine actively refused it.)"
    )));
    assert!(!refused(&connect(
        "the connection failed while reading the answer (connection reset)"
    )));
    assert!(!refused(&ProviderError::new(ErrorKind::Server, "refused")));
    assert_eq!(status_text(&connect("Connection refused")), "refused");
    assert_eq!(status_text(&connect("connection reset")), "connect");
    let mut server = ProviderError::new(ErrorKind::Server, "x");
    server.status = Some(503);
    assert_eq!(status_text(&server), "503");
}
