//! The trust store: the configurations the user trusted (`quorum trust FILE`), by
//! canonical path and SHA-256, in `trusted.toml` in the user's own config folder,
//! changed only under a lock.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};

use super::{canonical, safe_path, Inspected, APP_DIR};

/// The trust store, in Quorum's folder.
pub(super) const STORE_FILE: &str = "trusted.toml";
/// Held while the store is read, changed and written, so two `quorum trust` at once
/// cannot drop each other's entry.
const STORE_LOCK: &str = "trusted.toml.lock";

/// The trust store's file (`$XDG_CONFIG_HOME/quorum/trusted.toml`).
pub(crate) fn store_path() -> Result<PathBuf> {
    dirs::config_dir()
        .map(|dir| dir.join(APP_DIR).join(STORE_FILE))
        .ok_or_else(|| {
            anyhow!("cannot find your config folder to keep trusted configurations in: set HOME or XDG_CONFIG_HOME")
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
pub(crate) enum Lookup {
    /// Trusted with this content, on this date.
    Trusted(String),
    /// Trusted on this date with other content.
    Changed(String),
    Unknown,
}

/// The configurations the user trusted: canonical path, content hash, date.
#[derive(Debug)]
pub(crate) struct TrustStore {
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
    pub(super) fn update(path: &Path, change: impl FnOnce(&mut TrustStore)) -> Result<()> {
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

    pub(super) fn trust(&mut self, canonical: &Path, sha256: &str, now: &str) {
        self.forget(canonical);
        self.file.entries.push(Entry {
            path: canonical.display().to_string(),
            sha256: sha256.to_string(),
            trusted_at: now.to_string(),
        });
    }

    pub(super) fn forget(&mut self, canonical: &Path) -> bool {
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
