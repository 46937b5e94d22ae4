//! What every integration test shares: the `quorum` binary, run as a user would but in a
//! home of its own.
//!
//! Quorum keeps state outside the project (the answer cache, the list of trusted
//! configurations) in the user's folders. A test must neither read nor write the real
//! ones, or tests would share cached answers with each other and with the developer.
//! Each working folder gets its own home, so two runs from the same folder see the same
//! cache, as two runs by one user would.

#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The user home a test run from `cwd` gets: outside `cwd`, so it is never reviewed.
pub fn test_home(cwd: &Path) -> PathBuf {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let mut hasher = DefaultHasher::new();
    cwd.hash(&mut hasher);
    std::env::temp_dir()
        .join("quorum-test-homes")
        .join(format!("{:016x}", hasher.finish()))
}

/// `quorum`, ready to run in `cwd` with its own config and cache folders.
pub fn quorum_cmd(cwd: &Path) -> Command {
    let home = test_home(cwd);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quorum"));
    cmd.current_dir(cwd)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("QUORUM_CONFIG");
    cmd
}
