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

use crate::config::trust::safe_path;

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

/// Separates a record's MAC input from a seal's: a seal covers `path \0 run_id` only,
/// a record's MAC continues with this and the record, so neither can stand for the other.
const RECORD_DOMAIN: &[u8] = b"\0record\0";

/// The MAC over the run folder's canonical path and the run id.
fn mac(out: &Path, run_id: &str) -> Result<HmacSha256> {
    let canonical = out
        .canonicalize()
        .with_context(|| format!("cannot resolve the run folder {}", safe_path(out)))?;
    Ok(mac_with_key(&key()?, &canonical, run_id))
}

fn mac_with_key(key: &[u8], canonical: &Path, run_id: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(canonical.as_os_str().as_encoded_bytes());
    // A separator no path component contains, so path and id cannot shift into each other.
    mac.update(b"\0");
    mac.update(run_id.as_bytes());
    mac
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The seal for the run `run_id` in the existing folder `out`, as lower-case hex.
pub fn seal(out: &Path, run_id: &str) -> Result<String> {
    Ok(RunMac::for_run(out, run_id)?.seal())
}

/// This user's MACs for one run in one folder: its seal, and the MAC each record of its
/// `responses.jsonl` carries. A record's MAC covers the folder and run too, so an answer
/// planted in the file, or copied from another run, does not verify.
#[derive(Clone)]
pub struct RunMac {
    /// The HMAC state after the folder's canonical path and the run id.
    run: HmacSha256,
}

impl RunMac {
    /// Reads (or creates) the user's key, for the run `run_id` in the existing folder `out`.
    pub fn for_run(out: &Path, run_id: &str) -> Result<RunMac> {
        Ok(RunMac { run: mac(out, run_id)? })
    }

    /// A MAC under a fixed key, for unit tests that must not touch the user's key.
    #[cfg(test)]
    pub fn for_tests(key: u8, run_id: &str) -> RunMac {
        RunMac {
            run: mac_with_key(&[key; KEY_BYTES], Path::new("/run/folder"), run_id),
        }
    }

    /// The run folder's seal, as lower-case hex.
    pub fn seal(&self) -> String {
        to_hex(&self.run.clone().finalize().into_bytes())
    }

    fn record_mac(&self, record: &[u8]) -> HmacSha256 {
        let mut mac = self.run.clone();
        mac.update(RECORD_DOMAIN);
        mac.update(record);
        mac
    }

    /// The MAC of one record's canonical bytes, as lower-case hex.
    pub fn sign(&self, record: &[u8]) -> String {
        to_hex(&self.record_mac(record).finalize().into_bytes())
    }

    /// Whether `tag` is this user's MAC of `record` in this run (compared in constant time).
    pub fn verifies(&self, record: &[u8], tag: &str) -> bool {
        from_hex(tag).is_some_and(|tag| self.record_mac(record).verify_slice(&tag).is_ok())
    }
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
    use super::*;

    fn run_mac(key: u8, folder: &str, run_id: &str) -> RunMac {
        RunMac {
            run: mac_with_key(&[key; KEY_BYTES], Path::new(folder), run_id),
        }
    }

    #[test]
    fn a_record_mac_verifies_only_for_its_bytes_run_folder_and_key() {
        let mac = run_mac(1, "/home/u/repo/quorum-report", "a1b2c3d4e5f6");
        let tag = mac.sign(b"{\"text\":\"real\"}");
        assert_eq!(tag.len(), 64);
        assert!(mac.verifies(b"{\"text\":\"real\"}", &tag));
        assert!(!mac.verifies(b"{\"text\":\"forged\"}", &tag), "other bytes");
        for other in [
            run_mac(1, "/home/u/repo/other-report", "a1b2c3d4e5f6"),
            run_mac(1, "/home/u/repo/quorum-report", "ffffffffffff"),
            run_mac(2, "/home/u/repo/quorum-report", "a1b2c3d4e5f6"),
        ] {
            assert!(
                !other.verifies(b"{\"text\":\"real\"}", &tag),
                "other folder, run or key"
            );
        }
        assert!(
            !mac.verifies(b"{\"text\":\"real\"}", &mac.seal()),
            "a seal is no record MAC"
        );
        assert!(!mac.verifies(b"{\"text\":\"real\"}", "zz"));
        assert!(!mac.verifies(b"{\"text\":\"real\"}", ""));
    }

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        assert_eq!(super::from_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(super::from_hex("0"), None);
        assert_eq!(super::from_hex("zz"), None);
        assert_eq!(super::from_hex("é0"), None);
    }
}
