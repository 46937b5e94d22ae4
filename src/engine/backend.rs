//! Turns a provider's configuration into a live provider.
//!
//! The one place that knows both Quorum's configuration vocabulary and the provider
//! crate's settings types, so neither has to know the other. API keys are read from the
//! environment here, at the last moment, and handed only to the provider.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use providers::{Anthropic, AnthropicOutput, AnthropicSettings, Gemini, GeminiOutput, GeminiSettings, Provider};

use crate::config::{ProviderConfig, ProviderKind, StructuredOutputMode, TokenLimitFieldName};
use crate::engine::replay::Replay;

/// How long to wait for a TCP connection before calling a server unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the provider `config` describes, reading its key from the environment.
pub fn build(config: &ProviderConfig, config_path: &Path) -> Result<Arc<dyn Provider>> {
    build_with(config, config_path, true)
}

/// Builds the provider without reading its key (for planning: `--dry-run` sends nothing,
/// so it must not require keys to be set).
pub fn build_without_key(config: &ProviderConfig, config_path: &Path) -> Result<Arc<dyn Provider>> {
    build_with(config, config_path, false)
}

fn build_with(config: &ProviderConfig, config_path: &Path, with_key: bool) -> Result<Arc<dyn Provider>> {
    let key = || -> Result<Option<String>> {
        if with_key {
            Ok(config.api_key(config_path)?)
        } else {
            Ok(None)
        }
    };
    let timeout = Duration::from_secs(config.timeout_secs);
    let base_url = || {
        config
            .base_url
            .clone()
            .expect("validated: network kinds have a base_url")
    };
    // Where the model lives and how to reach it: the same for every network kind.
    let endpoint = || -> Result<providers::Endpoint> {
        Ok(providers::Endpoint {
            base_url: base_url(),
            model: config.model.clone(),
            api_key: key()?,
            api_key_env: config.api_key_env.clone(),
            timeout,
            max_response_bytes: config.max_response_bytes,
        })
    };
    Ok(match config.kind {
        ProviderKind::Replay => {
            let file = config
                .replay_file
                .as_ref()
                .expect("validated: replay has a replay_file");
            Arc::new(Replay::load(file, &config.name).with_context(|| format!("provider {}", config.name))?)
        }
        ProviderKind::Openai => Arc::new(providers::OpenAiCompatible::new(
            providers::OpenAiSettings {
                endpoint: endpoint()?,
                token_limit_field: match config.token_limit_field {
                    TokenLimitFieldName::MaxTokens => providers::TokenLimitField::MaxTokens,
                    TokenLimitFieldName::MaxCompletionTokens => providers::TokenLimitField::MaxCompletionTokens,
                },
                structured_output: match config.structured_output {
                    StructuredOutputMode::JsonSchema => providers::StructuredOutput::JsonSchema,
                    StructuredOutputMode::JsonObject => providers::StructuredOutput::JsonObject,
                    StructuredOutputMode::Tool | StructuredOutputMode::None => providers::StructuredOutput::None,
                },
                extra_body: config.extra_body.clone(),
            },
            providers::client(CONNECT_TIMEOUT),
        )),
        ProviderKind::Anthropic => Arc::new(Anthropic::new(
            AnthropicSettings {
                endpoint: endpoint()?,
                structured_output: match config.structured_output {
                    StructuredOutputMode::None => AnthropicOutput::None,
                    _ => AnthropicOutput::Tool,
                },
            },
            providers::client(CONNECT_TIMEOUT),
        )),
        ProviderKind::Gemini => Arc::new(Gemini::new(
            GeminiSettings {
                endpoint: endpoint()?,
                structured_output: match config.structured_output {
                    StructuredOutputMode::None => GeminiOutput::None,
                    _ => GeminiOutput::JsonSchema,
                },
            },
            providers::client(CONNECT_TIMEOUT),
        )),
    })
}
