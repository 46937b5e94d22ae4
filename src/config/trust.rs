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
//!
//! [`locate`] finds the file, [`load`] reads it once (what is hashed is what is
//! validated), `inspect` says what it would send where, the `store` remembers what
//! the user trusted, and [`Loaded::verdict`] decides.

mod inspect;
mod locate;
mod store;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::config::{Config, ConfigError};
use crate::sanitize::terminal_safe;

pub use inspect::{destinations, inspect, Destination, Inspected};
pub use locate::{locate, Located, Origin, Search, CONFIG_ENV, PROJECT_CONFIG};
pub use store::{forget, record};

use inspect::{settings_beyond_allowlist, stays_local, summary};
use locate::user_config;
use store::{store_path, Lookup, TrustStore};

/// Quorum's folder inside the user's config folder.
const APP_DIR: &str = "quorum";

/// A configuration read once: what is validated is exactly what is hashed.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub located: Located,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// `settings_beyond_allowlist` of the file's text.
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

fn canonical(path: &Path) -> Result<PathBuf> {
    path.canonicalize()
        .with_context(|| format!("cannot resolve {}", safe_path(path)))
}

/// A path, safe to print on a terminal.
pub fn safe_path(path: &Path) -> String {
    terminal_safe(&path.display().to_string())
}

#[cfg(test)]
mod tests;
