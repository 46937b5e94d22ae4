//! The lock that keeps two runs from writing into one folder.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::store::fs::{open_no_follow, refuse_shared_inode, refuse_unusual, write_error};
use crate::store::LOCK_FILE;

/// The most of `.lock` read for the pid it names.
const MAX_LOCK_TEXT_BYTES: u64 = 64;

/// An exclusive claim on an output folder, held until dropped (or the process ends).
#[derive(Debug)]
pub struct OutLock {
    _file: File,
}

impl OutLock {
    /// Takes `dir/.lock`, or fails at once when another run holds it: two runs writing
    /// into one folder would interleave their answers and overwrite each other's reports.
    pub fn acquire(dir: &Path) -> Result<OutLock> {
        let path = dir.join(LOCK_FILE);
        refuse_unusual(&path, "write")?;
        // Opened without truncating: nothing is written before the checks below pass.
        let mut file = open_no_follow(OpenOptions::new().read(true).write(true).create(true), &path)
            .map_err(|err| write_error(&path, err))?;
        // A hard link planted as `.lock` would have the pid written over another file.
        refuse_shared_inode(&path, &file)?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            bail!(
                "refusing to write {}: it is not a regular file; delete it and run again",
                path.display()
            );
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = (&file)
                    .take(MAX_LOCK_TEXT_BYTES)
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse::<u32>().ok())
                    .map_or_else(String::new, |pid| format!(" (pid {pid}?)"));
                bail!(
                    "another quorum run is writing to {}{holder}: wait for it to finish, or choose another --out",
                    dir.display()
                );
            }
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(err).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        // The pid is a hint for the message above, written once the lock is ours.
        file.set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(OutLock { _file: file })
    }
}
