//! The one TOML file that configures a review: which files, which providers, how.
//!
//! Configuration errors are the first thing a new user meets, so every error names the
//! file, the line and the key, and says what is expected. API keys are never in the
//! file: a provider names the environment variable that holds its key, and the key is
//! read from there only when a review needs it.

pub mod trust;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::sanitize::terminal_safe;

/// The commented configuration `quorum init` writes, also the reference for every key.
pub const EXAMPLE_CONFIG: &str = include_str!("../../config/quorum.example.toml");

/// A configuration error, pointing at the place in the file to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line, when the error belongs to one place in the file.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    /// One line, whatever the file put in the values it quotes: a quoted key or glob
    /// must not print a line of its own on the terminal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = terminal_safe(&self.path.display().to_string());
        let message = terminal_safe(&self.message);
        match self.line {
            Some(line) => write!(f, "{path}:{line}: {message}"),
            None => write!(f, "{path}: {message}"),
        }
    }
}

/// The largest configuration file read: far more than any real one, and a file named by
/// a run folder (which anyone could have written) cannot make Quorum read without end.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Reads a configuration file's bytes: a regular file (a link to one is fine) of at most
/// [`MAX_CONFIG_BYTES`]. A FIFO or device is refused without blocking on it.
pub fn read_config_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
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

/// The longest provider name: it appears in every report, table and file name.
const MAX_PROVIDER_NAME: usize = 64;

/// A provider name is 1 to 64 ASCII letters, digits, `_`, `.` or `-`, starting with a
/// letter or digit: it is printed in tables, reports and errors, where anything else
/// could draw on the terminal or forge a line.
fn valid_provider_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= MAX_PROVIDER_NAME
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl std::error::Error for ConfigError {}

/// Which files to review.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewSettings {
    /// Globs (relative to the review root) a file must match to be reviewed.
    pub include: Vec<String>,
    /// Globs that remove files again, after `.gitignore` rules.
    pub exclude: Vec<String>,
    /// Files larger than this are skipped with a reason.
    pub max_file_bytes: u64,
    /// Where answers are cached (absolute, or relative to the configuration file);
    /// by default the user's cache folder. Ignored when inside the tree under review.
    pub cache_dir: Option<String>,
    /// Files never sent to any model (gitignore syntax, `!` to exempt), listed in the
    /// plan and the report. Replaces [`DEFAULT_SECRET_FILES`]; `[]` sends everything.
    pub secret_files: Vec<String>,
}

/// The files kept home unless `review.secret_files` says otherwise: environment files,
/// private keys and keystores, cloud and package-registry credentials. Gitignore syntax,
/// matched without regard to case: a name without `/` matches at any depth, a trailing
/// `/` a whole folder (also when the review root is inside it). Private keys and
/// service-account keys are recognised by their content as well.
///
/// The `!.env.example`-style exemptions come last (the last matching pattern wins):
/// those files are committed on purpose, as templates with placeholder values, and show
/// which settings the code reads, so they are worth reviewing.
pub const DEFAULT_SECRET_FILES: &[&str] = &[
    ".env*",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".aws/",
    ".ssh/",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".pgpass",
    ".htpasswd",
    ".git-credentials",
    "*credentials*",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "*.p8",
    ".kube/",
    "**/.docker/config.json",
    "*.tfstate",
    "*.tfstate.*",
    // Tool credentials and secret stores that carry no telling extension.
    ".vault-token",
    ".s3cfg",
    ".boto",
    ".dockercfg",
    "secrets.yml",
    "secrets.yaml",
    "secrets.json",
    "*.tfvars",
    "kubeconfig",
    "!.env.example",
    "!.env.sample",
    "!.env.template",
    "!.env.dist",
];

impl Default for ReviewSettings {
    fn default() -> Self {
        ReviewSettings {
            include: vec!["**/*".to_string()],
            exclude: Vec::new(),
            max_file_bytes: 200_000,
            cache_dir: None,
            secret_files: DEFAULT_SECRET_FILES.iter().map(|p| p.to_string()).collect(),
        }
    }
}

/// The API family a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Any OpenAI-compatible chat-completions server (OpenAI, LM Studio, Ollama, vLLM,
    /// llama.cpp, OpenRouter).
    Openai,
    /// Anthropic's native Messages API.
    Anthropic,
    /// Google Gemini's native `generateContent` API.
    Gemini,
    /// Answers from a recorded `responses.jsonl`: runs the pipeline with no model server.
    Replay,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Replay => "replay",
        }
    }
}

/// Whether secret-looking values are replaced by placeholders before code is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactMode {
    /// By the provider's host: redact unless it is this machine or a private network
    /// (loopback, RFC 1918, link-local, `localhost`, fc00::/7); `replay` never sends.
    #[default]
    Auto,
    /// Always redact, wherever the server is.
    Always,
    /// Never redact (the server is trusted with the secrets in the code).
    Never,
}

/// How the answer is constrained to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutputMode {
    /// A JSON Schema the server enforces (OpenAI-compatible servers, Gemini).
    JsonSchema,
    /// Plain JSON mode, no schema (OpenAI-compatible servers; not LM Studio).
    JsonObject,
    /// A forced tool call whose input schema is the finding schema (Anthropic).
    Tool,
    /// Ask in the prompt only.
    None,
}

impl StructuredOutputMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StructuredOutputMode::JsonSchema => "json_schema",
            StructuredOutputMode::JsonObject => "json_object",
            StructuredOutputMode::Tool => "tool",
            StructuredOutputMode::None => "none",
        }
    }
}

/// Which request field carries the output limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenLimitFieldName {
    MaxTokens,
    MaxCompletionTokens,
}

impl TokenLimitFieldName {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenLimitFieldName::MaxTokens => "max_tokens",
            TokenLimitFieldName::MaxCompletionTokens => "max_completion_tokens",
        }
    }
}

/// The presets `preset = "NAME"` can name, embedded in the binary.
pub const PRESETS: &[(&str, &str)] = &[
    ("lmstudio", include_str!("../../config/presets/lmstudio.toml")),
    ("ollama", include_str!("../../config/presets/ollama.toml")),
    ("llamacpp", include_str!("../../config/presets/llamacpp.toml")),
    ("vllm", include_str!("../../config/presets/vllm.toml")),
    ("openai", include_str!("../../config/presets/openai.toml")),
    ("openrouter", include_str!("../../config/presets/openrouter.toml")),
    ("anthropic", include_str!("../../config/presets/anthropic.toml")),
    ("gemini", include_str!("../../config/presets/gemini.toml")),
];

/// One `[providers.NAME]` table as written (or a preset's fields).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    preset: Option<Spanned<String>>,
    kind: Option<Spanned<ProviderKind>>,
    base_url: Option<Spanned<String>>,
    model: Option<Spanned<String>>,
    api_key_env: Option<Spanned<String>>,
    family: Option<String>,
    max_concurrency: Option<Spanned<u32>>,
    timeout_secs: Option<Spanned<u64>>,
    max_output_tokens: Option<u32>,
    temperature: Option<Spanned<f32>>,
    structured_output: Option<StructuredOutputMode>,
    token_limit_field: Option<TokenLimitFieldName>,
    max_attempts: Option<Spanned<u32>>,
    replay_file: Option<Spanned<String>>,
    price_input_per_mtok: Option<Spanned<f64>>,
    price_output_per_mtok: Option<Spanned<f64>>,
    extra_body: Option<toml::Table>,
    requests_per_minute: Option<u32>,
    tokens_per_minute: Option<u64>,
    context_tokens: Option<Spanned<u64>>,
    weight: Option<Spanned<f64>>,
    send_key_to: Option<Spanned<String>>,
    max_response_bytes: Option<Spanned<u64>>,
    redact: Option<RedactMode>,
}

impl RawProvider {
    /// Fills what the table leaves out from `preset`. A preset's values take the span
    /// of the table's `preset = …` line, so errors about them point there.
    fn with_preset(self, preset: RawProvider, at: Span) -> RawProvider {
        fn pick<T>(own: Option<Spanned<T>>, preset: Option<Spanned<T>>, at: &Span) -> Option<Spanned<T>> {
            own.or_else(|| preset.map(|v| Spanned::new(at.clone(), v.into_inner())))
        }
        RawProvider {
            preset: self.preset,
            kind: pick(self.kind, preset.kind, &at),
            base_url: pick(self.base_url, preset.base_url, &at),
            model: pick(self.model, preset.model, &at),
            api_key_env: pick(self.api_key_env, preset.api_key_env, &at),
            family: self.family.or(preset.family),
            max_concurrency: pick(self.max_concurrency, preset.max_concurrency, &at),
            timeout_secs: pick(self.timeout_secs, preset.timeout_secs, &at),
            max_output_tokens: self.max_output_tokens.or(preset.max_output_tokens),
            temperature: pick(self.temperature, preset.temperature, &at),
            structured_output: self.structured_output.or(preset.structured_output),
            token_limit_field: self.token_limit_field.or(preset.token_limit_field),
            max_attempts: pick(self.max_attempts, preset.max_attempts, &at),
            replay_file: pick(self.replay_file, preset.replay_file, &at),
            price_input_per_mtok: pick(self.price_input_per_mtok, preset.price_input_per_mtok, &at),
            price_output_per_mtok: pick(self.price_output_per_mtok, preset.price_output_per_mtok, &at),
            extra_body: merge_tables(preset.extra_body, self.extra_body),
            requests_per_minute: self.requests_per_minute.or(preset.requests_per_minute),
            tokens_per_minute: self.tokens_per_minute.or(preset.tokens_per_minute),
            context_tokens: pick(self.context_tokens, preset.context_tokens, &at),
            weight: self.weight,
            // Never from a preset: naming the host is the user's own explicit choice.
            send_key_to: self.send_key_to,
            max_response_bytes: pick(self.max_response_bytes, preset.max_response_bytes, &at),
            redact: self.redact.or(preset.redact),
        }
    }
}

/// `own` over `base`, table by table: a user's `extra_body` adds to a preset's instead
/// of silently dropping what the preset needs (OpenRouter's `require_parameters`).
fn merge_tables(base: Option<toml::Table>, own: Option<toml::Table>) -> Option<toml::Table> {
    match (base, own) {
        (Some(mut base), Some(own)) => {
            for (key, value) in own {
                let merged = match (base.remove(&key), value) {
                    (Some(toml::Value::Table(b)), toml::Value::Table(o)) => {
                        toml::Value::Table(merge_tables(Some(b), Some(o)).unwrap_or_default())
                    }
                    (_, value) => value,
                };
                base.insert(key, merged);
            }
            Some(base)
        }
        (base, own) => own.or(base),
    }
}

/// Reads an embedded preset.
fn preset(name: &str) -> Option<RawProvider> {
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| toml::from_str(text).expect("embedded presets are valid"))
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
}

/// A provider, validated, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    /// The table name: the provider's name in every report.
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: Option<String>,
    pub model: String,
    /// The environment variable holding the key (never the key itself).
    pub api_key_env: Option<String>,
    /// Providers serving the same model share a family and count as one voice.
    pub family: String,
    pub max_concurrency: usize,
    pub timeout_secs: u64,
    pub max_output_tokens: u32,
    pub temperature: f32,
    pub structured_output: StructuredOutputMode,
    pub token_limit_field: TokenLimitFieldName,
    /// Attempts per request, the first included, for retryable failures.
    pub max_attempts: u32,
    /// For `replay`: the recorded answers, resolved against the config file's folder.
    pub replay_file: Option<PathBuf>,
    /// US dollars per million input tokens, for cost figures.
    pub price_input_per_mtok: Option<f64>,
    /// US dollars per million output tokens.
    pub price_output_per_mtok: Option<f64>,
    /// Extra top-level fields merged into every request body (OpenAI-compatible
    /// servers), e.g. OpenRouter's `provider.require_parameters`.
    pub extra_body: Option<serde_json::Value>,
    /// The preset the table named, if any.
    pub preset: Option<String>,
    /// At most this many requests in any minute (`None`: unlimited).
    pub requests_per_minute: Option<u32>,
    /// At most this many tokens (estimated input + expected output) in any minute.
    pub tokens_per_minute: Option<u64>,
    /// The model's context window; files that do not fit are split. `None`: ask the
    /// server (local servers tell), else send whole files.
    pub context_tokens: Option<u64>,
    /// How much this provider's vote counts in the consensus score (default 1).
    pub weight: f64,
    /// The host the user explicitly allows a well-known vendor key to go to, other than
    /// the vendor's own (`OPENAI_API_KEY` and the like); always equal to the `base_url`'s host.
    pub send_key_to: Option<String>,
    /// The most bytes of one answer read; a larger answer fails the request.
    pub max_response_bytes: u64,
    /// Whether secrets in the code are redacted before it is sent (`redact`).
    pub redact: RedactMode,
    /// Line of `api_key_env` in the file, to point at when its variable is missing.
    api_key_env_line: Option<usize>,
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
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let mut providers = Vec::new();
        for (name, p) in raw.providers {
            providers.push(validate_provider(name, p, base_dir, &at)?);
        }
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
        })
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

impl ProviderConfig {
    /// The host this provider's requests, and its key, go to (as `base_url` names it,
    /// e.g. `api.openai.com` or `127.0.0.1`); `None` for a replay, which sends nothing.
    pub fn destination_host(&self) -> Option<String> {
        self.base_url
            .as_deref()
            .and_then(providers::Destination::of)
            .map(|d| d.host)
    }

    /// Reads this provider's API key from its environment variable. `Ok(None)` when the
    /// provider needs no key.
    pub fn api_key(&self, config_path: &Path) -> Result<Option<String>, ConfigError> {
        let Some(var) = &self.api_key_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(key) if !key.trim().is_empty() => Ok(Some(key.trim().to_string())),
            _ => Err(ConfigError {
                path: config_path.to_path_buf(),
                line: self.api_key_env_line,
                message: format!(
                    "providers.{}.api_key_env: the environment variable {var} is not set (or is empty); \
                     export it with the key, or remove api_key_env if the server needs none",
                    self.name
                ),
            }),
        }
    }
}

/// Points errors at a place in the configuration text.
struct Locator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Locator<'_> {
    fn line(&self, span: Span) -> usize {
        line_of(self.text, span.start)
    }

    fn error(&self, span: Span, message: String) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            line: Some(self.line(span)),
            message,
        }
    }
}

type Span = std::ops::Range<usize>;

fn validate_provider(
    name: String,
    table: Spanned<RawProvider>,
    base_dir: &Path,
    loc: &Locator,
) -> Result<ProviderConfig, ConfigError> {
    let at = |span: Span, message: String| loc.error(span, message);
    let table_span = table.span();
    // First, so every message below may quote the name.
    if !valid_provider_name(&name) {
        return Err(at(
            table_span,
            format!(
                "provider name {name:?} is not allowed: use 1 to {MAX_PROVIDER_NAME} letters, digits, '_', '.' or '-', \
                 starting with a letter or digit"
            ),
        ));
    }
    let key = |k: &str| format!("providers.{name}.{k}");
    let mut p = table.into_inner();
    let preset_name = p.preset.as_ref().map(|s| s.get_ref().clone());
    if let Some(preset_field) = p.preset.clone() {
        let Some(defaults) = preset(preset_field.get_ref()) else {
            let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
            return Err(at(
                preset_field.span(),
                format!(
                    "{}: no preset {:?}; presets: {}",
                    key("preset"),
                    preset_field.get_ref(),
                    names.join(", ")
                ),
            ));
        };
        p = p.with_preset(defaults, preset_field.span());
    }
    let Some(kind_field) = p.kind.clone() else {
        return Err(at(
            table_span,
            format!(
                "{} is missing: set kind = \"openai\" | \"anthropic\" | \"gemini\" | \"replay\", or preset = \"lmstudio\" (see `quorum providers list`)",
                key("kind")
            ),
        ));
    };
    let kind = *kind_field.get_ref();
    let missing = |k: &str, what: &str| at(kind_field.span(), format!("{} is missing: {what}", key(k)));
    let model = match (&p.model, kind) {
        (Some(m), _) if !m.get_ref().trim().is_empty() => m.get_ref().trim().to_string(),
        (Some(m), _) => return Err(at(m.span(), format!("{} must not be empty", key("model")))),
        (None, ProviderKind::Replay) => name.clone(),
        (None, _) => {
            return Err(missing(
                "model",
                "name the model the server should run, e.g. model = \"google/gemma-3-12b\"",
            ))
        }
    };
    let base_url = match (&p.base_url, kind) {
        (Some(u), _) => {
            let url = u.get_ref().trim().trim_end_matches('/').to_string();
            let authority = url
                .split_once("://")
                .map_or("", |(_, rest)| rest.split('/').next().unwrap_or(""));
            if authority.contains('@') || url.contains('?') {
                return Err(at(
                    u.span(),
                    format!(
                        "{} must not carry credentials or a query (they would be written to run.json); \
                         put the key in an environment variable named by api_key_env",
                        key("base_url")
                    ),
                ));
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(at(
                    u.span(),
                    format!(
                        "{} must start with http:// or https://, e.g. \"http://127.0.0.1:1234/v1\"",
                        key("base_url")
                    ),
                ));
            }
            // The key rules below judge the host this parser finds; a URL it cannot read
            // must not slip past them.
            if providers::Destination::of(&url).is_none() {
                return Err(at(
                    u.span(),
                    format!(
                        "{} is not a URL with a host, e.g. \"http://127.0.0.1:1234/v1\"",
                        key("base_url")
                    ),
                ));
            }
            // A fragment would swallow the API path Quorum appends, sending the request (and
            // any extra_body) to the base URL's own path on the server.
            if url.contains('#') {
                return Err(at(
                    u.span(),
                    format!(
                        "{} must not contain a fragment (`#…`): Quorum appends the API path to it; \
                         remove the `#` and what follows",
                        key("base_url")
                    ),
                ));
            }
            Some(url)
        }
        (None, ProviderKind::Replay) => None,
        (None, _) => {
            return Err(missing(
                "base_url",
                "e.g. base_url = \"http://127.0.0.1:1234/v1\" for LM Studio, or use a preset",
            ))
        }
    };
    let replay_file = match (&p.replay_file, kind) {
        (Some(f), ProviderKind::Replay) => Some(base_dir.join(f.get_ref())),
        (Some(f), _) => {
            return Err(at(
                f.span(),
                format!("{} is only for kind = \"replay\"", key("replay_file")),
            ))
        }
        (None, ProviderKind::Replay) => {
            return Err(missing(
                "replay_file",
                "name the recorded responses.jsonl to answer from",
            ))
        }
        (None, _) => None,
    };
    let max_concurrency = positive(&p.max_concurrency, 1, &key("max_concurrency"), loc)? as usize;
    let max_attempts = positive(&p.max_attempts, 3, &key("max_attempts"), loc)?;
    let timeout_secs = match &p.timeout_secs {
        Some(t) if *t.get_ref() == 0 => {
            return Err(at(t.span(), format!("{} must be at least 1", key("timeout_secs"))))
        }
        Some(t) => *t.get_ref(),
        None => 600,
    };
    let temperature = match &p.temperature {
        Some(t) if !(0.0..=2.0).contains(t.get_ref()) => {
            return Err(at(t.span(), format!("{} must be between 0 and 2", key("temperature"))))
        }
        Some(t) => *t.get_ref(),
        None => 0.0,
    };
    if let Some(env) = &p.api_key_env {
        let var = env.get_ref();
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(at(
                env.span(),
                format!(
                    "{} must be the NAME of an environment variable (letters, digits, _), not a key",
                    key("api_key_env")
                ),
            ));
        }
    }
    check_key_destination(&name, &p, base_url.as_deref(), loc)?;
    let max_response_bytes = match &p.max_response_bytes {
        Some(m) if *m.get_ref() == 0 => {
            return Err(at(
                m.span(),
                format!("{} must be at least 1 (bytes)", key("max_response_bytes")),
            ))
        }
        Some(m) => *m.get_ref(),
        None => providers::DEFAULT_MAX_RESPONSE_BYTES,
    };
    let structured_output = p.structured_output.unwrap_or(match kind {
        ProviderKind::Anthropic => StructuredOutputMode::Tool,
        _ => StructuredOutputMode::JsonSchema,
    });
    check_structured_output(kind, structured_output)
        .map_err(|why| at(kind_field.span(), format!("{}: {why}", key("structured_output"))))?;
    let price = |v: &Option<Spanned<f64>>, k: &str| match v {
        Some(p) if !(p.get_ref().is_finite() && *p.get_ref() >= 0.0) => Err(at(
            p.span(),
            format!("{} must be a price in US dollars, 0 or more", key(k)),
        )),
        Some(p) => Ok(Some(*p.get_ref())),
        None => Ok(None),
    };
    let price_input_per_mtok = price(&p.price_input_per_mtok, "price_input_per_mtok")?;
    let price_output_per_mtok = price(&p.price_output_per_mtok, "price_output_per_mtok")?;
    if p.extra_body.is_some() && kind != ProviderKind::Openai {
        return Err(at(
            kind_field.span(),
            format!("{} is only for kind = \"openai\"", key("extra_body")),
        ));
    }
    let context_tokens = match &p.context_tokens {
        Some(c) if *c.get_ref() < 1024 => {
            return Err(at(
                c.span(),
                format!("{} must be at least 1024 tokens", key("context_tokens")),
            ))
        }
        Some(c) => Some(*c.get_ref()),
        None => None,
    };
    let max_output_tokens = p.max_output_tokens.unwrap_or(4096);
    if max_output_tokens == 0 {
        return Err(at(
            kind_field.span(),
            format!("{} must be at least 1", key("max_output_tokens")),
        ));
    }
    let extra_body = p
        .extra_body
        .as_ref()
        .map(|t| serde_json::to_value(t).expect("TOML tables are JSON-representable"));
    let is_openai_proper = base_url.as_deref().is_some_and(|u| u.contains("api.openai.com"));
    Ok(ProviderConfig {
        family: p
            .family
            .clone()
            .filter(|f| !f.trim().is_empty())
            .unwrap_or_else(|| model.clone()),
        kind,
        base_url,
        model,
        api_key_env: p.api_key_env.as_ref().map(|e| e.get_ref().clone()),
        api_key_env_line: p.api_key_env.as_ref().map(|e| loc.line(e.span())),
        max_concurrency,
        timeout_secs,
        max_output_tokens,
        temperature,
        structured_output,
        price_input_per_mtok,
        price_output_per_mtok,
        extra_body,
        preset: preset_name,
        weight: match &p.weight {
            Some(w) if !(w.get_ref().is_finite() && *w.get_ref() >= 0.0) => {
                return Err(at(
                    w.span(),
                    format!("{} must be a number of at least 0", key("weight")),
                ))
            }
            Some(w) => *w.get_ref(),
            None => 1.0,
        },
        requests_per_minute: p.requests_per_minute.filter(|n| *n > 0),
        tokens_per_minute: p.tokens_per_minute.filter(|n| *n > 0),
        context_tokens,
        send_key_to: p.send_key_to.as_ref().map(|h| h.get_ref().trim().to_string()),
        max_response_bytes,
        token_limit_field: p.token_limit_field.unwrap_or(if is_openai_proper {
            TokenLimitFieldName::MaxCompletionTokens
        } else {
            TokenLimitFieldName::MaxTokens
        }),
        max_attempts,
        replay_file,
        redact: p.redact.unwrap_or_default(),
        name,
    })
}

/// A well-known API-key variable and the one host its vendor serves the API from.
struct VendorKey {
    env: &'static str,
    vendor: &'static str,
    host: &'static str,
}

/// The variables hosted vendors tell users to keep their keys in, and each vendor's API
/// host. A key in one of these is that vendor's key, so it goes to no other host unless
/// the provider names that host in `send_key_to`: a configuration that arrives with the
/// code under review must not be able to point `OPENAI_API_KEY` at a server of its own.
const VENDOR_KEYS: &[VendorKey] = &[
    VendorKey {
        env: "OPENAI_API_KEY",
        vendor: "OpenAI",
        host: "api.openai.com",
    },
    VendorKey {
        env: "ANTHROPIC_API_KEY",
        vendor: "Anthropic",
        host: "api.anthropic.com",
    },
    VendorKey {
        env: "GEMINI_API_KEY",
        vendor: "Google",
        host: "generativelanguage.googleapis.com",
    },
    VendorKey {
        env: "GOOGLE_API_KEY",
        vendor: "Google",
        host: "generativelanguage.googleapis.com",
    },
    VendorKey {
        env: "OPENROUTER_API_KEY",
        vendor: "OpenRouter",
        host: "openrouter.ai",
    },
];

/// Refuses a provider that would send its key where it does not belong: a `send_key_to`
/// that is not the `base_url`'s host, a vendor's key (see [`VENDOR_KEYS`]) to another
/// host without `send_key_to` naming it, or any key over plain `http://` to a host
/// outside this machine and its private network, where anyone on the way could read it.
/// A provider without `api_key_env` sends no key, so only the first rule applies.
fn check_key_destination(
    name: &str,
    p: &RawProvider,
    base_url: Option<&str>,
    loc: &Locator,
) -> Result<(), ConfigError> {
    let destination = base_url.and_then(providers::Destination::of);
    let base_url_span = p.base_url.as_ref().map(Spanned::span);
    if let Some(to) = &p.send_key_to {
        let wanted = to.get_ref().trim();
        match &destination {
            Some(d) if d.host == wanted => {}
            Some(d) => {
                return Err(loc.error(
                    to.span(),
                    format!(
                        "providers.{name}.send_key_to is {wanted:?}, but base_url sends requests to {:?}: they must \
                         name the same host",
                        d.host
                    ),
                ))
            }
            None => {
                return Err(loc.error(
                    to.span(),
                    format!("providers.{name}.send_key_to is only for a provider with a base_url"),
                ))
            }
        }
    }
    let (Some(env), Some(d), Some(span)) = (&p.api_key_env, destination, base_url_span) else {
        return Ok(());
    };
    let var = env.get_ref();
    let host = &d.host;
    if let Some(vendor) = VENDOR_KEYS.iter().find(|v| v.env == var) {
        if *host != vendor.host && p.send_key_to.is_none() {
            return Err(loc.error(
                span,
                format!(
                    "providers.{name}: {var} is {}'s key, but base_url sends it to {host}; to send it there on \
                     purpose, add `send_key_to = \"{host}\"`",
                    vendor.vendor
                ),
            ));
        }
    }
    if d.scheme == "http" && !d.is_private_network() {
        return Err(loc.error(
            span,
            format!(
                "providers.{name}: base_url would send the key from ${var} over plain http:// to {host}, where anyone \
                 on the way can read it; use https:// (plain http:// is only for this machine and private network \
                 addresses)"
            ),
        ));
    }
    Ok(())
}

/// Which structured-output modes each API family really supports.
fn check_structured_output(kind: ProviderKind, mode: StructuredOutputMode) -> Result<(), String> {
    use StructuredOutputMode as M;
    match (kind, mode) {
        (ProviderKind::Replay, _) | (_, M::None) => Ok(()),
        (ProviderKind::Openai, M::JsonSchema | M::JsonObject) => Ok(()),
        (ProviderKind::Anthropic, M::Tool) => Ok(()),
        (ProviderKind::Gemini, M::JsonSchema) => Ok(()),
        (ProviderKind::Openai, _) => Err("openai servers take json_schema, json_object or none".into()),
        (ProviderKind::Anthropic, _) => Err("anthropic takes tool (a forced tool call) or none".into()),
        (ProviderKind::Gemini, _) => Err("gemini takes json_schema or none".into()),
    }
}

fn positive(value: &Option<Spanned<u32>>, default: u32, key: &str, loc: &Locator) -> Result<u32, ConfigError> {
    match value {
        Some(v) if *v.get_ref() == 0 => Err(loc.error(v.span(), format!("{key} must be at least 1"))),
        Some(v) => Ok(*v.get_ref()),
        None => Ok(default),
    }
}

fn validate_globs(path: &Path, text: &str, review: &ReviewSettings) -> Result<(), ConfigError> {
    for (key, globs) in [("include", &review.include), ("exclude", &review.exclude)] {
        for glob in globs {
            if let Err(e) = globset::Glob::new(glob) {
                return Err(ConfigError {
                    path: path.to_path_buf(),
                    line: find_line(text, key),
                    message: format!("review.{key}: {glob:?} is not a valid glob: {}", e.kind()),
                });
            }
        }
    }
    for pattern in &review.secret_files {
        if let Err(e) = crate::input::walk::check_secret_pattern(pattern) {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: find_line(text, "secret_files"),
                message: format!(
                    "review.secret_files: {pattern:?} is not a valid pattern ({:?}); \
                     use gitignore syntax, e.g. \"*.pem\", \".aws/\", \"!.env.example\"",
                    e.to_string()
                ),
            });
        }
    }
    Ok(())
}

/// Turns a TOML error into one that names the line, keeping toml's own explanation.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let mut message = plain_types(e.message().trim());
    if message.starts_with("unknown field") {
        message.push_str(" (see `quorum init` or config/quorum.example.toml for every key)");
    }
    if let Some(key) = e.span().and_then(|s| dotted_key_at(text, s.start)) {
        if !message.contains(&key) {
            message = format!("{key}: {message}");
        }
    }
    ConfigError {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message,
    }
}

/// Rust type names in serde's messages, in words a user knows.
fn plain_types(message: &str) -> String {
    [
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected u64", "expected a whole number (0 or more)"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a string", "expected a string in quotes"),
    ]
    .iter()
    .fold(message.to_string(), |m, (from, to)| m.replace(from, to))
}

/// The full dotted name (`providers.gemma.max_concurrency`) of the `key = value` line
/// holding `offset`, from the nearest `[table]` header above it.
fn dotted_key_at(text: &str, offset: usize) -> Option<String> {
    let line_start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let key = line.split_once('=')?.0.trim();
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_string(),
    })
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// 1-based line of the first `key =` assignment, for errors toml gives no span for.
fn find_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with(key) && l[key.len()..].trim_start().starts_with('=')
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
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
        let e = parse("[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\napi_key_env = \"sk-abc.def\"\n").unwrap_err();
        assert_eq!(e.line, Some(5));
        assert!(e.message.contains("NAME of an environment variable"), "{e}");
    }

    #[test]
    fn zero_concurrency_and_bad_url_and_bad_glob_are_errors() {
        let e =
            parse("[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\nmax_concurrency = 0\n")
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
        let e = parse("[providers.a]\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodel = \"m\"\nstructured_output = \"yaml\"\n").unwrap_err();
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
        let c =
            parse("[providers.local]\npreset = \"lmstudio\"\nmodel = \"google/gemma-3-12b\"\nmax_concurrency = 2\n")
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
        let e =
            parse("[providers.g]\npreset = \"lmstudio\"\nmodel = \"m\"\nstructured_output = \"tool\"\n").unwrap_err();
        assert!(e.message.contains("openai servers take"), "{e}");
    }

    #[test]
    fn prices_must_be_non_negative() {
        let e = parse("[providers.g]\npreset = \"openai\"\nmodel = \"m\"\nprice_input_per_mtok = -1.0\n").unwrap_err();
        assert_eq!(e.line, Some(4));
        let c = parse("[providers.g]\npreset = \"openai\"\nmodel = \"m\"\nprice_input_per_mtok = 0.4\nprice_output_per_mtok = 1.6\n").unwrap();
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
}
