//! The cheap checks, before any code is sent: is the server there, does it take the key,
//! does it have the model. `providers check` shows them in its table (and goes on to a
//! real request); `review` runs them for every provider at once, with a short timeout,
//! and drops a provider that fails one, so a run does not spend minutes learning what a
//! model list tells in milliseconds.
//!
//! Only a definite answer drops a provider: nothing listening, a key refused (401), or a
//! model list that does not name the model. A server without a model list (404), one
//! that fails to list (403, 408, 429, 5xx), or one slower than the timeout is kept: the run's own health
//! rules deal with it if it really is broken.

use std::time::Duration;

use futures::future::join_all;
use providers::{same_model, ErrorKind, ModelInfo, Provider, ProviderError};

use crate::config::{ProviderConfig, ProviderKind};

/// How long `review` waits for a provider's cheap checks: a healthy server lists its
/// models in well under a second, and a provider that takes longer is kept (not judged),
/// so the wait only bounds how long a run can be held before it starts.
pub const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(5);

/// The status of a key that is valid but not allowed this request: OpenAI's restricted
/// keys without "Models: read" get it for the model list and still may chat, so it
/// drops nothing (a 401 does: the key itself is refused).
const FORBIDDEN: u16 = 403;

/// Model names shown when the configured one is missing from a list.
const MODELS_SHOWN: usize = 12;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Ok(String),
    Failed(String),
    /// The server does not say (e.g. it cannot list models).
    Unknown(String),
    /// Not checked, because an earlier check failed or it does not apply.
    Skipped,
}

impl Verdict {
    pub fn failed(&self) -> bool {
        matches!(self, Verdict::Failed(_))
    }
}

/// What a provider's model list tells: the cheap checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Cheap {
    pub reachable: Verdict,
    pub key: Verdict,
    pub model: Verdict,
    /// The context window the list states for the model.
    pub context_tokens: Option<u64>,
}

/// Whether `review` can go on with a provider.
#[derive(Debug, Clone, PartialEq)]
pub enum Preflight {
    Kept,
    /// Why it cannot be used, one line (from the configuration and the server: made safe
    /// for the terminal by whoever prints it).
    Dropped(String),
}

/// Every provider of a review failed its cheap checks: the run has no one to ask.
#[derive(Debug, thiserror::Error)]
#[error(
    "no provider can be used: each one was dropped by the checks before the run (see above); \
     `quorum providers check` tells more"
)]
pub struct NoProviderLeft;

/// Runs the cheap checks of `providers` (configuration, live provider) at once, each
/// within [`PREFLIGHT_TIMEOUT`], in the order given.
pub async fn preflight_all(providers: &[(&ProviderConfig, &dyn Provider)]) -> Vec<Preflight> {
    join_all(providers.iter().map(|(config, provider)| preflight(config, *provider))).await
}

/// The cheap checks of one provider, within [`PREFLIGHT_TIMEOUT`].
pub async fn preflight(config: &ProviderConfig, provider: &dyn Provider) -> Preflight {
    match tokio::time::timeout(PREFLIGHT_TIMEOUT, cheap_checks(config, provider)).await {
        Ok(cheap) => match drop_reason(config, &cheap) {
            Some(why) => Preflight::Dropped(why),
            None => Preflight::Kept,
        },
        Err(_) => {
            tracing::debug!(
                provider = %config.name,
                "preflight: no model list within {} s; kept",
                PREFLIGHT_TIMEOUT.as_secs()
            );
            Preflight::Kept
        }
    }
}

/// Lists the provider's models and reads from the answer whether the server is there,
/// the key accepted and the model present.
pub async fn cheap_checks(config: &ProviderConfig, provider: &dyn Provider) -> Cheap {
    let mut cheap = Cheap {
        reachable: Verdict::Skipped,
        key: Verdict::Skipped,
        model: Verdict::Skipped,
        context_tokens: None,
    };
    if config.kind == ProviderKind::Replay {
        cheap.reachable = Verdict::Ok("recorded answers loaded".into());
        return cheap;
    }
    let listed = provider.list_models().await;
    tracing::debug!(
        provider = %config.name,
        status = %listed.as_ref().map_or_else(status_text, |_| "ok".to_string()),
        "preflight: model list"
    );
    match listed {
        Ok(models) => {
            cheap.reachable = Verdict::Ok(String::new());
            cheap.key = key_verdict(config);
            cheap.model = model_verdict(&config.model, &models);
            cheap.context_tokens = find_model(&config.model, &models).and_then(|m| m.context_tokens);
        }
        // No HTTP answer at all: nothing listens, or nothing came in time. (A server
        // that answered, even 408, is there.)
        Err(e) if matches!(e.kind, ErrorKind::Connect | ErrorKind::Timeout) && e.status.is_none() => {
            cheap.reachable = Verdict::Failed(e.message);
        }
        Err(e) if e.kind == ErrorKind::Auth && e.status != Some(FORBIDDEN) => {
            cheap.reachable = Verdict::Ok(String::new());
            cheap.key = Verdict::Failed(e.message);
        }
        Err(e) if e.status == Some(FORBIDDEN) => {
            tracing::debug!(
                provider = %config.name,
                "preflight: the key may not list models (403); kept, as it may still be allowed to chat"
            );
            cheap.reachable = Verdict::Ok(String::new());
            cheap.key = Verdict::Unknown(format!("cannot list models: {}", short(&e.message)));
        }
        Err(e) => {
            cheap.reachable = Verdict::Ok(String::new());
            cheap.model = Verdict::Unknown(format!("cannot list models: {}", short(&e.message)));
        }
    }
    cheap
}

/// The HTTP status of a failed request, else why no answer came, in one word.
pub(crate) fn status_text(e: &ProviderError) -> String {
    match e.status {
        Some(status) => status.to_string(),
        None if refused(e) => "refused".into(),
        None => format!("{:?}", e.kind).to_ascii_lowercase(),
    }
}

/// Whether the server's machine refused the connection: nothing listens at the address,
/// which no retry within a run is likely to change. (The transport names the system's
/// cause: "Connection refused" on Unix, "actively refused it" on Windows.)
pub(crate) fn refused(e: &ProviderError) -> bool {
    e.kind == ErrorKind::Connect && says_refused(&e.message)
}

fn says_refused(message: &str) -> bool {
    message.to_ascii_lowercase().contains("refused")
}

/// Why a review cannot use the provider, from its cheap checks; `None` when nothing
/// definite is known against it.
fn drop_reason(config: &ProviderConfig, cheap: &Cheap) -> Option<String> {
    if let Verdict::Failed(why) = &cheap.reachable {
        let url = config.base_url.as_deref().unwrap_or_default();
        return Some(if says_refused(why) {
            format!(
                "nothing is listening at {url} (connection refused); start {}, or leave it out by naming the \
                 others with --provider",
                server_name(config)
            )
        } else {
            format!("{url} cannot be reached: {why}")
        });
    }
    if let Verdict::Failed(why) = &cheap.key {
        return Some(format!("the key was refused: {why}"));
    }
    if let Verdict::Failed(why) = &cheap.model {
        return Some(format!("the model is missing: {why}"));
    }
    None
}

/// What the user starts to make the provider's server listen.
fn server_name(config: &ProviderConfig) -> &'static str {
    match config.preset.as_deref() {
        Some("lmstudio") => "LM Studio's server",
        Some("ollama") => "Ollama (ollama serve)",
        Some("llamacpp") => "llama.cpp's llama-server",
        Some("vllm") => "the vLLM server",
        _ => "its server",
    }
}

/// The key was accepted (the server answered an authenticated request).
pub(crate) fn key_verdict(config: &ProviderConfig) -> Verdict {
    match &config.api_key_env {
        Some(var) => Verdict::Ok(format!("${var}")),
        None => Verdict::Ok("none needed".into()),
    }
}

/// The listed model the configuration names: the same name, else the same in another
/// case, else the same model by the providers crate's one rule (a dated build, a
/// `models/` prefix, `:latest`).
pub fn find_model<'a>(wanted: &str, models: &'a [ModelInfo]) -> Option<&'a ModelInfo> {
    models
        .iter()
        .find(|m| m.id == wanted)
        .or_else(|| models.iter().find(|m| m.id.eq_ignore_ascii_case(wanted)))
        .or_else(|| models.iter().find(|m| same_model(wanted, &m.id)))
}

/// Whether the list names the model. An empty list says nothing (some servers list
/// nothing until a model is loaded).
fn model_verdict(wanted: &str, models: &[ModelInfo]) -> Verdict {
    if models.is_empty() {
        return Verdict::Unknown("the server listed no models".into());
    }
    if find_model(wanted, models).is_some() {
        return Verdict::Ok(String::new());
    }
    let mut names: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    names.sort_unstable();
    let shown = names.iter().take(MODELS_SHOWN).copied().collect::<Vec<_>>().join(", ");
    let more = if names.len() > MODELS_SHOWN {
        format!(" and {} more", names.len() - MODELS_SHOWN)
    } else {
        String::new()
    };
    Verdict::Failed(format!(
        "{wanted:?} is not on the server; it has: {shown}{more} (some servers, LM Studio among them, \
         still answer with whatever model is loaded, so answers would not come from the model you named)"
    ))
}

pub(crate) fn short(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests;
