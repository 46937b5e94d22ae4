//! Whether a run folder was written by this user's Quorum on this machine.
//!
//! `review --resume` reuses a run folder's answers and asks only what is missing. A run
//! folder can come with the code under review (a committed `quorum-report/`) with its
//! answers rewritten to "no findings", so resuming one Quorum did not write would report
//! planted answers as the models'. Each run therefore records a seal in `run.json`: an
//! HMAC-SHA-256, under a random key kept in the user's config folder, of the run folder's
//! canonical path and the run id. Nobody without that key can make a seal that verifies,
//! and a folder copied elsewhere no longer matches its own seal.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::trust::safe_path;

/// The key's file in Quorum's folder of the user's config folder.
const KEY_FILE: &str = "run-key";
const APP_DIR: &str = "quorum";
/// 256 bits: as long as the HMAC-SHA-256 output.
const KEY_BYTES: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// The user's run key (`$XDG_CONFIG_HOME/quorum/run-key`).
fn key_path() -> Result<PathBuf> {
    dirs::config_dir()
        .map(|dir| dir.join(APP_DIR).join(KEY_FILE))
        .ok_or_else(|| anyhow!("cannot find your config folder to keep the run key in: set HOME or XDG_CONFIG_HOME"))
}

/// Reads the user's run key, creating it (readable by the user only) the first time.
fn key() -> Result<[u8; KEY_BYTES]> {
    let path = key_path()?;
    match read_key(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(&path),
        other => other.with_context(|| format!("cannot read the run key {}", safe_path(&path))),
    }
}

fn read_key(path: &Path) -> std::io::Result<[u8; KEY_BYTES]> {
    let mut key = [0u8; KEY_BYTES];
    let mut file = std::fs::File::open(path)?;
    file.read_exact(&mut key)?;
    Ok(key)
}

fn create_key(path: &Path) -> Result<[u8; KEY_BYTES]> {
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| anyhow!("cannot get random bytes for the run key: {e}"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", safe_path(dir)))?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(&key)
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write the run key {}", safe_path(path)))?;
            Ok(key)
        }
        // Another Quorum created it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_key(path).with_context(|| format!("cannot read the run key {}", safe_path(path)))
        }
        Err(e) => Err(e).with_context(|| format!("cannot create the run key {}", safe_path(path))),
    }
}

/// The MAC over the run folder's canonical path and the run id.
fn mac(out: &Path, run_id: &str) -> Result<HmacSha256> {
    let canonical = out
        .canonicalize()
        .with_context(|| format!("cannot resolve the run folder {}", safe_path(out)))?;
    let mut mac = HmacSha256::new_from_slice(&key()?).expect("HMAC takes a key of any length");
    mac.update(canonical.as_os_str().as_encoded_bytes());
    // A separator no path component contains, so path and id cannot shift into each other.
    mac.update(b"\0");
    mac.update(run_id.as_bytes());
    Ok(mac)
}

/// The seal for the run `run_id` in the existing folder `out`, as lower-case hex.
pub fn seal(out: &Path, run_id: &str) -> Result<String> {
    let tag = mac(out, run_id)?.finalize().into_bytes();
    Ok(tag.iter().map(|b| format!("{b:02x}")).collect())
}

/// Refuses a run folder whose seal is missing or was not made by this user's key for
/// this folder and run.
pub fn verify(out: &Path, run_id: &str, seal: Option<&str>) -> Result<()> {
    let valid = match seal.and_then(from_hex) {
        Some(tag) => mac(out, run_id)?.verify_slice(&tag).is_ok(),
        None => false,
    };
    if !valid {
        let out = safe_path(out);
        bail!(
            "{out} was not written by Quorum for you on this machine (a run folder can come with the code); \
             review into a new --out instead"
        );
    }
    Ok(())
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_round_trips_and_rejects_junk() {
        assert_eq!(super::from_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(super::from_hex("0"), None);
        assert_eq!(super::from_hex("zz"), None);
        assert_eq!(super::from_hex("é0"), None);
    }
}
