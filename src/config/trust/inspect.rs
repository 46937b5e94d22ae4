//! What a configuration makes Quorum do, read before it is trusted: which key goes to
//! which host, and every setting beyond the few that need no trust. The trust exemption
//! and the text that refuses or records a file both come from here, so they agree.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{load, safe_path, Located, Origin};
use crate::config::{Config, ProviderConfig, ProviderKind};
use crate::sanitize::terminal_safe;

/// Where one provider sends requests, and which key variable goes with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub provider: String,
    pub kind: ProviderKind,
    /// `scheme://host:port` (presets applied); `None` for recorded answers.
    pub host: Option<String>,
    pub key_env: Option<String>,
    /// Nothing leaves this machine: loopback, or no network at all.
    pub local: bool,
}

impl Destination {
    pub fn of(p: &ProviderConfig) -> Destination {
        let (host, local) = match (p.kind, p.base_url.as_deref()) {
            (ProviderKind::Replay, _) => (None, true),
            (_, Some(base_url)) => host_of(base_url),
            (_, None) => (Some("(no base_url)".into()), false),
        };
        Destination {
            provider: p.name.clone(),
            kind: p.kind,
            host,
            key_env: p.api_key_env.clone(),
            local,
        }
    }

    /// The host, safe to print.
    pub fn host_text(&self) -> String {
        match &self.host {
            Some(host) => terminal_safe(host),
            None => "nowhere (recorded answers, no network)".into(),
        }
    }

    /// One line: name, kind, which key goes to which host. Safe to print.
    pub fn line(&self) -> String {
        let name = terminal_safe(&self.provider);
        let kind = self.kind.as_str();
        match (&self.host, &self.key_env) {
            (None, _) => format!("{name}: {kind}, sends nothing (recorded answers)"),
            (Some(_), Some(var)) => format!("{name}: {kind}, sends ${} to {}", terminal_safe(var), self.host_text()),
            (Some(_), None) => format!("{name}: {kind}, sends no key to {}", self.host_text()),
        }
    }
}

/// `scheme://host:port` of a base URL, and whether that host is this machine. Parsed as
/// the HTTP client parses it, so `http://127.1` counts as the loopback address it
/// connects to and a name that only looks local does not.
fn host_of(base_url: &str) -> (Option<String>, bool) {
    match providers::Destination::of(base_url) {
        Some(d) => (Some(d.origin()), d.is_loopback()),
        None => (Some(format!("{base_url} (not a valid URL)")), false),
    }
}

/// Every provider's destination.
pub fn destinations(config: &Config) -> Vec<Destination> {
    config.providers.iter().map(Destination::of).collect()
}

/// The provider keys a found configuration may set and still need no trust: each only
/// says which local server and model to use and how hard to drive it, and none can change
/// what is sent, where it goes, or what is reported. This is an allowlist on purpose:
/// every other key — any `[review]` or `[consensus]` setting, `redact`, `extra_body`,
/// `weight`, `family` (two providers of one model counted as two voices), prices (the
/// reported cost), `api_key_env`, `send_key_to`, `replay_file`, `max_response_bytes`, and
/// any key added later — needs trust until it is added here after the same review.
pub(crate) const HARMLESS_PROVIDER_KEYS: &[&str] = &[
    "kind",
    "preset",
    "base_url",
    "model",
    "max_concurrency",
    "requests_per_minute",
    "tokens_per_minute",
    "context_tokens",
    "timeout_secs",
    "max_attempts",
    "max_output_tokens",
    "temperature",
    "structured_output",
    "token_limit_field",
];

/// The only top-level table a configuration that needs no trust may have.
const PROVIDERS_TABLE: &str = "providers";

/// The most characters of one setting's value shown in a summary: enough to read a
/// glob list or a path, short enough that a planted value cannot flood the terminal.
const MAX_SETTING_VALUE_CHARS: usize = 120;

/// Every setting of the raw configuration text beyond [`HARMLESS_PROVIDER_KEYS`], as
/// `table.key = value` lines, each value made safe to print and shortened. The trust
/// exemption and the trust summary both come from this list, so they cannot drift.
/// Text that is not TOML gives nothing: it never gets as far as a verdict.
pub(crate) fn settings_beyond_allowlist(text: &str) -> Vec<String> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for (top, value) in &table {
        match (top.as_str(), value) {
            (PROVIDERS_TABLE, toml::Value::Table(providers)) => {
                for (name, provider) in providers {
                    let toml::Value::Table(keys) = provider else {
                        lines.push(setting_line(&format!("{top}.{name}"), provider));
                        continue;
                    };
                    for (key, value) in keys {
                        if !HARMLESS_PROVIDER_KEYS.contains(&key.as_str()) {
                            lines.push(setting_line(&format!("{top}.{name}.{key}"), value));
                        }
                    }
                }
            }
            (_, toml::Value::Table(keys)) if !keys.is_empty() => {
                for (key, value) in keys {
                    lines.push(setting_line(&format!("{top}.{key}"), value));
                }
            }
            _ => lines.push(setting_line(top, value)),
        }
    }
    lines
}

/// `key = value`, safe to print, the value cut to [`MAX_SETTING_VALUE_CHARS`].
fn setting_line(key: &str, value: &toml::Value) -> String {
    let value = value.to_string();
    let mut shown: String = value.chars().take(MAX_SETTING_VALUE_CHARS).collect();
    if shown.len() < value.len() {
        shown.push('…');
    }
    format!("{} = {}", terminal_safe(key), terminal_safe(&shown))
}

/// A configuration that reaches nothing beyond this machine, names no key variable, and
/// sets nothing beyond [`HARMLESS_PROVIDER_KEYS`] (`beyond`, from
/// [`settings_beyond_allowlist`]) cannot leak anything or change what is reviewed, so it
/// needs no trust. Recorded answers (`kind = "replay"`) are excluded too: a file planted
/// with the code would choose the answers (every file "has no issues").
pub(crate) fn stays_local(config: &Config, beyond: &[String]) -> bool {
    beyond.is_empty()
        && config.review.cache_dir.is_none()
        && config.providers.iter().all(|p| p.kind != ProviderKind::Replay)
        && destinations(config).iter().all(|d| d.local && d.key_env.is_none())
}

/// The "With it, Quorum would send" block: destinations, then notable settings.
pub(super) fn summary(destinations: &[Destination], settings: &[String]) -> String {
    let mut text = String::new();
    if destinations.is_empty() {
        text.push_str("  nothing (no providers)\n");
    }
    for d in destinations {
        text.push_str(&format!("  {}\n", d.line()));
    }
    if !settings.is_empty() {
        text.push_str("and it sets:\n");
        for line in settings {
            text.push_str(&format!("  {line}\n"));
        }
    }
    text
}

/// What `quorum trust FILE` is about to record.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// The file's canonical path: the key in the store.
    pub canonical: PathBuf,
    pub sha256: String,
    pub destinations: Vec<Destination>,
    /// `settings_beyond_allowlist` of the file.
    pub settings: Vec<String>,
}

impl Inspected {
    /// What the file will make Quorum do, for the user to read before it is recorded.
    pub fn describe(&self) -> String {
        let text = format!("{} makes Quorum send:\n", safe_path(&self.canonical));
        text + &summary(&self.destinations, &self.settings)
    }
}

/// Reads and validates `path` for `quorum trust`: a file that is not a valid
/// configuration is not trusted (what it would do cannot be shown).
pub fn inspect(path: &Path) -> Result<Inspected> {
    let loaded = load(Located {
        path: path.to_path_buf(),
        origin: Origin::Flag,
    })?;
    Ok(Inspected {
        canonical: loaded.canonical,
        sha256: loaded.sha256,
        destinations: destinations(&loaded.config),
        settings: loaded.beyond,
    })
}
