//! `--shard K/N`: one of N deterministic parts of a review, for parallel runners.

use anyhow::{bail, Result};

/// How many hex digits of the path's hash pick its shard: 48 bits, spread evenly over
/// any number of shards.
const SHARD_HASH_DIGITS: usize = 12;

/// `--shard K/N`: this run reviews the K-th of N deterministic parts of the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard> {
        let parsed = text
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)));
        match parsed {
            Some((k, n)) if n >= 1 && (1..=n).contains(&k) => Ok(Shard { k, n }),
            _ => bail!("--shard {text:?}: expected K/N with 1 ≤ K ≤ N, e.g. --shard 2/4"),
        }
    }

    /// Whether `path` belongs to this shard (by a hash of the path, so the split does
    /// not change when unrelated files are added).
    pub fn contains(&self, path: &str) -> bool {
        let digest = crate::hash::sha256_hex(path.as_bytes());
        u64::from_str_radix(&digest[..SHARD_HASH_DIGITS], 16).unwrap_or(0) % u64::from(self.n) == u64::from(self.k - 1)
    }

    pub(crate) fn label(&self) -> String {
        format!("{}/{}", self.k, self.n)
    }
}
