//! The one TOML file that configures a review: which files, which providers, how.
//!
//! Configuration errors are the first thing a new user meets, so every error names the
//! file, the line and the key, and says what is expected. API keys are never in the
//! file: a provider names the environment variable that holds its key, and the key is
//! read from there only when a review needs it.
//!
//! The file is read here ([`Config::load`]). Each `[providers.NAME]` table is checked
//! key by key in `validate` (the numeric keys in `validate/limits`), over the defaults
//! of a named preset (`presets`), with the rules for where an API key may go (`keys`).
//! `[review]` is `review`, the provider types are `provider`, and every error points at
//! its line (`error`). Whether a file found by itself may be used at all is [`trust`]'s
//! question.

mod error;
mod judge;
mod keys;
mod presets;
mod provider;
mod review;
pub mod trust;
mod validate;
pub(crate) use validate::{valid_provider_name, MAX_MODEL_NAME_CHARS};

/// The most providers one configuration (and so one run) has: the comparison of models
/// is made pair by pair, so a run folder naming thousands (run.json is untrusted when
/// read back) would cost their square.
pub const MAX_PROVIDERS: usize = 64;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub use error::ConfigError;
pub use judge::{JudgeMode, JudgeSettings, DEFAULT_JUDGE_TOP};
pub use provider::{ContextMode, ProviderConfig, ProviderKind, RedactMode, StructuredOutputMode, TokenLimitFieldName};
pub use review::{ReviewSettings, DEFAULT_SECRET_FILES};

use error::{find_line, toml_error, Locator};
use provider::RawProvider;
use review::validate_globs;
use validate::validate_provider;

/// The commented configuration `quorum init` writes, also the reference for every key.
pub const EXAMPLE_CONFIG: &str = include_str!("../../config/quorum.example.toml");

/// The largest configuration file read: far more than any real one, and a file named by
/// a run folder (which anyone could have written) cannot make Quorum read without end.
pub(crate) const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Reads a configuration file's bytes: a regular file (a link to one is fine) of at most
/// [`MAX_CONFIG_BYTES`]. A FIFO or device is refused without blocking on it.
pub(crate) fn read_config_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    use std::io::Read;
    let error = |message: String| ConfigError {
        path: path.to_path_buf(),
        line: None,
        message,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Opening a FIFO for reading waits for a writer; non-blocking, it returns at once and
    // the type check below refuses it. Reads of a regular file ignore the flag.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|e| {
        error(format!(
            "cannot read the configuration ({e}); create one with `quorum init` or pass --config FILE"
        ))
    })?;
    let is_file = file.metadata().map(|m| m.is_file()).unwrap_or(false);
    if !is_file {
        return Err(error(
            "is not a regular file (a folder, FIFO or device cannot be a configuration); pass --config FILE".into(),
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| error(format!("cannot read the configuration ({e})")))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(error(format!(
            "is larger than {MAX_CONFIG_BYTES} bytes, the most a configuration may be"
        )));
    }
    Ok(bytes)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    review: ReviewSettings,
    #[serde(default)]
    consensus: crate::consensus::Settings,
    #[serde(default)]
    providers: BTreeMap<String, Spanned<RawProvider>>,
    judge: Option<Spanned<judge::RawJudge>>,
}

/// A whole configuration file, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub review: ReviewSettings,
    /// How findings are grouped and ranked (`[consensus]`), with provider weights.
    pub consensus: crate::consensus::Settings,
    /// Sorted by name, so runs are deterministic.
    pub providers: Vec<ProviderConfig>,
    /// `[judge]`: who checks the top issues (`None`: no judge pass).
    pub judge: Option<JudgeSettings>,
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = read_config_file(path)?;
        let text = String::from_utf8(bytes).map_err(|_| ConfigError {
            path: path.to_path_buf(),
            line: None,
            message: "the configuration is not UTF-8 text".into(),
        })?;
        Config::parse(path, &text)
    }

    /// Validates configuration text; `path` is used in messages and to resolve
    /// relative paths in the file.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
        let at = Locator { path, text };
        validate_globs(path, text, &raw.review)?;
        if raw.review.max_file_bytes == 0 {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: find_line(text, "max_file_bytes"),
                message: "review.max_file_bytes must be greater than 0".into(),
            });
        }
        if raw.providers.len() > MAX_PROVIDERS {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: None,
                message: format!(
                    "{} providers are configured: at most {MAX_PROVIDERS} (the comparison of models is \
                     made pair by pair); split them over several configurations",
                    raw.providers.len()
                ),
            });
        }
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let mut providers = Vec::new();
        for (name, p) in raw.providers {
            providers.push(validate_provider(name, p, base_dir, &at)?);
        }
        let judge = judge::validate_judge(raw.judge, &providers, &at)?;
        let mut consensus = raw.consensus;
        consensus.provider_weights = providers.iter().map(|p| (p.name.clone(), p.weight)).collect();
        if let Err(why) = consensus.validate() {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: text.lines().position(|l| l.trim() == "[consensus]").map(|i| i + 1),
                message: format!("consensus: {why}"),
            });
        }
        Ok(Config {
            path: path.to_path_buf(),
            review: raw.review,
            consensus,
            providers,
            judge,
        })
    }

    /// The providers that review: those [`select`](Config::select) gives, less the ones
    /// with `review = false` (they only judge); naming one of those is an error.
    pub fn select_reviewers(&self, names: &[String]) -> Result<Vec<ProviderConfig>, ConfigError> {
        let selected = self.select(names)?;
        if let Some(judge_only) = selected.iter().find(|p| !p.review && !names.is_empty()) {
            return Err(ConfigError {
                path: self.path.clone(),
                line: None,
                message: format!(
                    "--provider {}: it has review = false (it only judges); name a provider that reviews",
                    judge_only.name
                ),
            });
        }
        Ok(selected.into_iter().filter(|p| p.review).collect())
    }

    /// The providers to run: all of them, or those named (each name must exist).
    pub fn select(&self, names: &[String]) -> Result<Vec<ProviderConfig>, ConfigError> {
        if self.providers.is_empty() {
            return Err(ConfigError {
                path: self.path.clone(),
                line: None,
                message: "no providers are configured: add a [providers.NAME] table (see `quorum init`)".into(),
            });
        }
        if names.is_empty() {
            return Ok(self.providers.clone());
        }
        let mut chosen = Vec::new();
        for name in names {
            match self.providers.iter().find(|p| &p.name == name) {
                Some(p) if !chosen.contains(p) => chosen.push(p.clone()),
                Some(_) => {}
                None => {
                    let known: Vec<&str> = self.providers.iter().map(|p| p.name.as_str()).collect();
                    return Err(ConfigError {
                        path: self.path.clone(),
                        line: None,
                        message: format!("--provider {name}: no such provider; configured: {}", known.join(", ")),
                    });
                }
            }
        }
        Ok(chosen)
    }
}

#[cfg(test)]
mod tests;
