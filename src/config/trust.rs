//! Whether a configuration file may make Quorum send anything anywhere.
//!
//! A configuration decides where code and keys go: a provider's `base_url` is the host,
//! its `api_key_env` the environment variable sent there as a credential. A `quorum.toml`
//! that Quorum finds by itself — in the current folder, at the reviewed root, or named by
//! a run folder's `run.json` — may have been written by whoever wrote the code under
//! review, and would send the user's keys (any variable it names) to a host of its
//! choice. So, as direnv and mise do it, such a file is used only once the user has
//! trusted its exact content (`quorum trust FILE`), recorded by canonical path and
//! SHA-256 in the user's own config folder. A file the user named (`--config`,
//! `QUORUM_CONFIG`) or their own `config.toml` is trusted, and so is one that can reach
//! nothing beyond this machine and names no key, so a first local run needs no step.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError, ProviderConfig, ProviderKind};
use crate::sanitize::terminal_safe;

/// The environment variable that names the configuration, like `--config`.
pub const CONFIG_ENV: &str = "QUORUM_CONFIG";
/// The configuration file Quorum looks for in the current folder and at the reviewed root.
pub const PROJECT_CONFIG: &str = "quorum.toml";
/// Quorum's folder inside the user's config folder.
const APP_DIR: &str = "quorum";
/// The user's own configuration, in Quorum's folder: always trusted.
const USER_CONFIG: &str = "config.toml";
/// The trust store, in Quorum's folder.
const STORE_FILE: &str = "trusted.toml";
/// Held while the store is read, changed and written, so two `quorum trust` at once
/// cannot drop each other's entry.
const STORE_LOCK: &str = "trusted.toml.lock";

/// How a configuration file was chosen, which decides whether it needs trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `--config FILE`: the user's explicit choice.
    Flag,
    /// `QUORUM_CONFIG`: the user's explicit choice.
    Env,
    /// The user's own `config.toml` in their config folder.
    User,
    /// Found by itself as `./quorum.toml`.
    CurrentFolder,
    /// Found by itself as `quorum.toml` at the reviewed root.
    ReviewRoot,
    /// Named by the `run.json` of this run folder (`review --resume`); a planted run
    /// folder could name any file, so this is no choice of the user's.
    RunFolder(PathBuf),
}

impl Origin {
    /// The user chose this file (or it is their own): it needs no trust.
    fn chosen(&self) -> bool {
        matches!(self, Origin::Flag | Origin::Env | Origin::User)
    }

    fn describe(&self) -> String {
        match self {
            Origin::Flag => "you chose it with --config".into(),
            Origin::Env => format!("you chose it with {CONFIG_ENV}"),
            Origin::User => "it is your own configuration".into(),
            Origin::CurrentFolder => "Quorum found it by itself in the current folder".into(),
            Origin::ReviewRoot => "Quorum found it by itself in the folder under review".into(),
            Origin::RunFolder(dir) => format!(
                "it is named by the run folder {} (run.json), which anyone could have written",
                safe_path(dir)
            ),
        }
    }
}

/// Where to look for the configuration, in order: `--config`, `QUORUM_CONFIG`, the file
/// a resumed run recorded, `./quorum.toml`, `quorum.toml` at the reviewed root, the
/// user's own `config.toml`.
#[derive(Debug, Default, Clone)]
pub struct Search<'a> {
    pub flag: Option<&'a Path>,
    /// For `--resume`: the configuration the run recorded, and the run folder.
    pub recorded: Option<(&'a Path, &'a Path)>,
    /// For `review`: the folder (or file) under review.
    pub review_root: Option<&'a Path>,
}

/// A configuration file and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub path: PathBuf,
    pub origin: Origin,
}

/// Finds the configuration file to use, without reading it.
pub fn locate(search: &Search) -> Result<Located> {
    let at = |path: &Path, origin: Origin| Located {
        path: path.to_path_buf(),
        origin,
    };
    if let Some(path) = search.flag {
        return Ok(at(path, Origin::Flag));
    }
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty()) {
        return Ok(at(Path::new(&path), Origin::Env));
    }
    if let Some((path, run_dir)) = search.recorded {
        return Ok(at(path, Origin::RunFolder(run_dir.to_path_buf())));
    }
    let here = Path::new(PROJECT_CONFIG);
    if here.is_file() {
        return Ok(at(here, Origin::CurrentFolder));
    }
    let at_root = search.review_root.map(|root| {
        let folder = if root.is_file() {
            root.parent().unwrap_or(Path::new("."))
        } else {
            root
        };
        folder.join(PROJECT_CONFIG)
    });
    if let Some(path) = at_root.as_deref().filter(|p| p.is_file()) {
        return Ok(at(path, Origin::ReviewRoot));
    }
    if let Some(path) = user_config().filter(|p| p.is_file()) {
        return Ok(at(&path, Origin::User));
    }
    let mut looked = vec![format!("./{PROJECT_CONFIG}")];
    looked.extend(at_root.map(|p| safe_path(&p)));
    looked.extend(user_config().map(|p| safe_path(&p)));
    bail!(
        "no configuration found (looked for {}): create one with `quorum init`, or pass --config FILE",
        looked.join(", ")
    )
}

/// The user's own configuration file (`$XDG_CONFIG_HOME/quorum/config.toml`).
pub fn user_config() -> Option<PathBuf> {
    Some(dirs::config_dir()?.join(APP_DIR).join(USER_CONFIG))
}

/// The trust store's file (`$XDG_CONFIG_HOME/quorum/trusted.toml`).
pub fn store_path() -> Result<PathBuf> {
    dirs::config_dir()
        .map(|dir| dir.join(APP_DIR).join(STORE_FILE))
        .ok_or_else(|| {
            anyhow!("cannot find your config folder to keep trusted configurations in: set HOME or XDG_CONFIG_HOME")
        })
}

/// A configuration read once: what is validated is exactly what is hashed.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub located: Located,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// [`settings_beyond_allowlist`] of the file's text.
    pub beyond: Vec<String>,
    /// The file's canonical path, resolved once when it was read: the trust store's key.
    pub canonical: PathBuf,
}

/// Reads and validates the located configuration.
///
/// A configuration Quorum found by itself is read and parsed at its canonical path, the
/// path its trust is recorded under: a `quorum.toml` that is a link to a trusted file
/// elsewhere then resolves relative paths (`replay_file`, `cache_dir`) beside that file,
/// as the user read it, not in the folder of whoever planted the link. (Refusing such a
/// link instead would break the common habit of linking a project's config from a
/// dotfiles folder, for no gain.) The canonical path is resolved once, here, so the file
/// that is hashed, parsed and looked up in the trust store is the same one even if the
/// link changes meanwhile.
pub fn load(located: Located) -> Result<Loaded> {
    let canonical = match located.path.canonicalize() {
        Ok(path) => path,
        Err(_) => {
            // A missing or unreadable file: the reader says why, in its usual words.
            crate::config::read_config_file(&located.path)?;
            canonical(&located.path)?
        }
    };
    let path = if located.origin.chosen() {
        located.path.clone()
    } else {
        canonical.clone()
    };
    let unreadable = |message: String| ConfigError {
        path: path.clone(),
        line: None,
        message,
    };
    let bytes = crate::config::read_config_file(&path)?;
    let sha256 = crate::hash::sha256_hex(&bytes);
    let text = String::from_utf8(bytes).map_err(|_| unreadable("the configuration is not UTF-8 text".into()))?;
    let config = Config::parse(&path, &text)?;
    Ok(Loaded {
        config,
        beyond: settings_beyond_allowlist(&text),
        located,
        canonical,
        sha256,
    })
}

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
pub const HARMLESS_PROVIDER_KEYS: &[&str] = &[
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
pub fn settings_beyond_allowlist(text: &str) -> Vec<String> {
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
pub fn stays_local(config: &Config, beyond: &[String]) -> bool {
    beyond.is_empty()
        && config.review.cache_dir.is_none()
        && config.providers.iter().all(|p| p.kind != ProviderKind::Replay)
        && destinations(config).iter().all(|d| d.local && d.key_env.is_none())
}

/// The "With it, Quorum would send" block: destinations, then notable settings.
fn summary(destinations: &[Destination], settings: &[String]) -> String {
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

/// Whether a configuration may be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The user chose it (or it is their own).
    Chosen(Origin),
    /// Nothing leaves this machine and no key is named.
    StaysLocal,
    /// The user trusted this exact content on this date.
    Trusted { since: String },
    /// Never trusted, or (with the date) changed since it was.
    Untrusted { changed_since: Option<String> },
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        !matches!(self, Verdict::Untrusted { .. })
    }

    /// A short phrase for `providers list` about the configuration at `path`.
    pub fn describe(&self, path: &Path) -> String {
        let path = safe_path(path);
        match self {
            Verdict::Chosen(origin) => format!("trusted ({})", origin.describe()),
            Verdict::StaysLocal => {
                "needs no trust (every provider is on this machine, no key variable, no recorded answers, \
                 no setting beyond the harmless provider keys)"
                    .into()
            }
            Verdict::Trusted { since } => format!("trusted (you trusted this content on {since})"),
            Verdict::Untrusted { changed_since: None } => {
                format!("NOT trusted: review and providers check refuse it until you run `quorum trust {path}`")
            }
            Verdict::Untrusted {
                changed_since: Some(since),
            } => format!(
                "NOT trusted: changed since you trusted it on {since}; run `quorum trust {path}` again once you have read it"
            ),
        }
    }
}

impl Loaded {
    /// Decides whether this configuration may be used, reading the trust store only
    /// when the decision depends on it.
    pub fn verdict(&self) -> Result<Verdict> {
        if self.located.origin.chosen() {
            return Ok(Verdict::Chosen(self.located.origin.clone()));
        }
        if stays_local(&self.config, &self.beyond) {
            return Ok(Verdict::StaysLocal);
        }
        let canonical = self.canonical.clone();
        // A run folder may well name the user's own configuration: that is still theirs.
        if user_config().and_then(|p| p.canonicalize().ok()).as_ref() == Some(&canonical) {
            return Ok(Verdict::Chosen(Origin::User));
        }
        let store = TrustStore::open(&store_path()?)?;
        Ok(match store.lookup(&canonical, &self.sha256) {
            Lookup::Trusted(since) => Verdict::Trusted { since },
            Lookup::Changed(since) => Verdict::Untrusted {
                changed_since: Some(since),
            },
            Lookup::Unknown => Verdict::Untrusted { changed_since: None },
        })
    }

    /// One line saying which configuration a run uses, how it was chosen and why it may
    /// be used (or why not), e.g. `Configuration: ./quorum.toml (Quorum found it by
    /// itself in the current folder; needs no trust (…))`. Safe to print.
    pub fn status_line(&self, verdict: &Verdict) -> String {
        let path = &self.located.path;
        let why = match verdict {
            // The verdict already says how the user chose it.
            Verdict::Chosen(_) => verdict.describe(path),
            _ => format!("{}; {}", self.located.origin.describe(), verdict.describe(path)),
        };
        format!("Configuration: {} ({why})", safe_path(path))
    }

    /// Refuses (before any request) a configuration that is not trusted, saying what it
    /// would have sent where and how to go on.
    pub fn require_trust(&self) -> Result<()> {
        match self.verdict()? {
            Verdict::Untrusted { changed_since } => bail!("{}", self.refusal(changed_since.as_deref())),
            _ => Ok(()),
        }
    }

    /// The message for an untrusted configuration.
    pub fn refusal(&self, changed_since: Option<&str>) -> String {
        let path = safe_path(&self.located.path);
        let state = match changed_since {
            Some(since) => format!("{path} changed since you trusted it on {since}"),
            None => format!("{path} is not trusted"),
        };
        let mut text = format!(
            "{state} ({}). Nothing was sent. With it, Quorum would send:\n",
            self.located.origin.describe()
        );
        text.push_str(&summary(&destinations(&self.config), &self.beyond));
        text.push_str(&format!(
            "Run `quorum trust {path}` if you wrote this file or have read it; or pass --config FILE"
        ));
        text
    }
}

/// What `quorum trust FILE` is about to record.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// The file's canonical path: the key in the store.
    pub canonical: PathBuf,
    pub sha256: String,
    pub destinations: Vec<Destination>,
    /// [`settings_beyond_allowlist`] of the file.
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

/// Records the inspected content as trusted (replacing an earlier entry for the path).
pub fn record(inspected: &Inspected) -> Result<()> {
    TrustStore::update(&store_path()?, |store| {
        store.trust(&inspected.canonical, &inspected.sha256, &crate::store::now_rfc3339());
    })
}

/// Removes `path` from the trust store; returns whether it was there.
pub fn forget(path: &Path) -> Result<bool> {
    let key = canonical(path).or_else(|_| std::path::absolute(path).context("cannot resolve the path"))?;
    let mut removed = false;
    TrustStore::update(&store_path()?, |store| removed = store.forget(&key))?;
    Ok(removed)
}

fn canonical(path: &Path) -> Result<PathBuf> {
    path.canonicalize()
        .with_context(|| format!("cannot resolve {}", safe_path(path)))
}

/// A path, safe to print on a terminal.
pub fn safe_path(path: &Path) -> String {
    terminal_safe(&path.display().to_string())
}

/// One trusted configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    path: String,
    sha256: String,
    trusted_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    #[serde(default, rename = "trusted")]
    entries: Vec<Entry>,
}

/// What the store says about one file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Trusted with this content, on this date.
    Trusted(String),
    /// Trusted on this date with other content.
    Changed(String),
    Unknown,
}

/// The configurations the user trusted: canonical path, content hash, date.
#[derive(Debug)]
pub struct TrustStore {
    path: PathBuf,
    file: StoreFile,
}

const STORE_HEADER: &str =
    "# Configurations you trusted with `quorum trust FILE`: Quorum uses a quorum.toml it finds\n\
# by itself only while its content still has the SHA-256 recorded here.\n\n";

impl TrustStore {
    /// Reads the store; a missing one is empty, a corrupt one is an error (never a
    /// silent trust, never a silent loss of the user's entries).
    pub fn open(path: &Path) -> Result<TrustStore> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(anyhow!(e)).with_context(|| format!("cannot read the trust store {}", safe_path(path)))
            }
        };
        let file = toml::from_str(&text).map_err(|e| {
            anyhow!(
                "the trust store {} is not valid ({}): fix it, or delete it and trust your configurations again with `quorum trust FILE`",
                safe_path(path),
                e.message()
            )
        })?;
        Ok(TrustStore {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Reads, changes and writes the store under a lock.
    fn update(path: &Path, change: impl FnOnce(&mut TrustStore)) -> Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", safe_path(dir)))?;
        let lock_path = dir.join(STORE_LOCK);
        let lock = File::create(&lock_path).with_context(|| format!("cannot create {}", safe_path(&lock_path)))?;
        lock.lock()
            .with_context(|| format!("cannot lock {}", safe_path(&lock_path)))?;
        let mut store = TrustStore::open(path)?;
        change(&mut store);
        store.save()
    }

    pub fn lookup(&self, canonical: &Path, sha256: &str) -> Lookup {
        let key = canonical.display().to_string();
        match self.file.entries.iter().find(|e| e.path == key) {
            Some(e) if e.sha256 == sha256 => Lookup::Trusted(e.trusted_at.clone()),
            Some(e) => Lookup::Changed(e.trusted_at.clone()),
            None => Lookup::Unknown,
        }
    }

    fn trust(&mut self, canonical: &Path, sha256: &str, now: &str) {
        self.forget(canonical);
        self.file.entries.push(Entry {
            path: canonical.display().to_string(),
            sha256: sha256.to_string(),
            trusted_at: now.to_string(),
        });
    }

    fn forget(&mut self, canonical: &Path) -> bool {
        let key = canonical.display().to_string();
        let before = self.file.entries.len();
        self.file.entries.retain(|e| e.path != key);
        self.file.entries.len() != before
    }

    fn save(&self) -> Result<()> {
        let text = format!("{STORE_HEADER}{}", toml::to_string(&self.file)?);
        crate::store::write_atomically(&self.path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
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
}
