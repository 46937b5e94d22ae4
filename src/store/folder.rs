//! A run folder (`--out`): its description (`run.json`), its answers (`responses.jsonl`),
//! the lock a run holds on it, and the earlier run a new review sets aside. Every command
//! reads and writes a run folder through [`RunFolder`], so each of those is one call.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::report::Format;
use crate::store::fs::TEMP_SUFFIX;
use crate::store::jsonl::{read_records, Loaded, StoreWriter};
use crate::store::lock::OutLock;
use crate::store::meta::RunMeta;
use crate::store::record::ResponseRecord;
use crate::store::seal::{self, RunMac};
use crate::store::{write_atomically, LOCK_FILE, PREVIOUS_DIR, RESPONSES_FILE, RUN_FILE};

/// One run folder, by its path. Nothing is checked or created until a method is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFolder {
    dir: PathBuf,
}

impl RunFolder {
    pub fn new(dir: impl Into<PathBuf>) -> RunFolder {
        RunFolder { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Where the answers are appended.
    pub fn responses_path(&self) -> PathBuf {
        self.dir.join(RESPONSES_FILE)
    }

    /// The lock file: the walk leaves it out, it is no code.
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }

    /// `run.json`, refused unless Quorum could have written it (see [`RunMeta::read`]).
    pub fn read_meta(&self) -> Result<RunMeta> {
        RunMeta::read(&self.dir)
    }

    pub fn write_meta(&self, meta: &RunMeta) -> Result<()> {
        meta.write(&self.dir)
    }

    /// Every record of `responses.jsonl`, and the lines that could not be read.
    pub fn read_records(&self) -> Result<Loaded> {
        read_records(&self.dir)
    }

    /// Replaces `responses.jsonl` with `records`, all at once (a merged run).
    pub fn write_records(&self, records: &[ResponseRecord]) -> Result<()> {
        let mut lines = String::new();
        for r in records {
            lines.push_str(&serde_json::to_string(r)?);
            lines.push('\n');
        }
        write_atomically(&self.responses_path(), lines.as_bytes())
    }

    /// Opens `responses.jsonl` to append this run's records to.
    pub fn append_records(&self) -> Result<StoreWriter> {
        StoreWriter::open(&self.dir)
    }

    /// Creates the folder and locks it for this run.
    pub fn lock(&self) -> Result<OutLock> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create the output folder {}", self.dir.display()))?;
        OutLock::acquire(&self.dir)
    }

    /// The MAC this user's Quorum signs the records of run `run_id` in this folder with.
    pub fn run_mac(&self, run_id: &str) -> Result<RunMac> {
        RunMac::for_run(&self.dir, run_id)
    }

    /// Refuses a run this user's Quorum did not seal in this folder (see `seal`).
    pub fn verify_seal(&self, meta: &RunMeta) -> Result<()> {
        seal::verify(&self.dir, &meta.run_id, meta.seal.as_deref())
    }

    /// Whether the folder holds a Quorum run (its description and its answers).
    pub fn holds_run(&self) -> bool {
        holds_run(&self.dir)
    }

    /// Keeps the earlier run in the folder (its answers and every report) as `previous/`,
    /// replacing the one kept there before: what was paid for survives the next run, and
    /// earlier runs do not pile up.
    pub fn set_aside_previous_run(&self) -> Result<()> {
        let out = &self.dir;
        let names = [RESPONSES_FILE, RUN_FILE]
            .into_iter()
            .chain(Format::ALL.map(Format::file_name))
            .chain(crate::analysis::compare::COMPARE_FILES);
        // `symlink_metadata`: a link is moved as a link, never followed.
        let present: Vec<&str> = names
            .filter(|name| std::fs::symlink_metadata(out.join(name)).is_ok())
            .collect();
        if !present.contains(&RESPONSES_FILE) && !present.contains(&RUN_FILE) {
            return Ok(());
        }
        let folder = out.join(PREVIOUS_DIR);
        match std::fs::symlink_metadata(&folder) {
            // Not followed: a linked folder's contents are left alone.
            Ok(meta) if meta.is_dir() => remove_kept_run(&folder)?,
            Ok(_) => bail!(
                "{} is not a folder Quorum made (a symbolic link or a file); delete it and run again",
                folder.display()
            ),
            Err(_) => {}
        }
        std::fs::create_dir(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
        for name in present {
            let path = out.join(name);
            std::fs::rename(&path, folder.join(name))
                .with_context(|| format!("cannot move the previous run's {} aside", path.display()))?;
        }
        Ok(())
    }
}

/// Removes the run kept in `folder` (`OUT/previous/`), file by file: only names Quorum
/// writes are deleted, and anything else there stops the run before any is, since the
/// folder may have come with the repository and its other files are not Quorum's to delete.
fn remove_kept_run(folder: &Path) -> Result<()> {
    let cannot_read = || format!("cannot read {}", folder.display());
    let mut own = Vec::new();
    for entry in std::fs::read_dir(folder).with_context(cannot_read)? {
        let entry = entry.with_context(cannot_read)?;
        let name = entry.file_name();
        // `file_type` does not follow links: a link is removed as a link.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        match name.to_str() {
            Some(own_name) if !is_dir && is_own_file_name(own_name) => own.push(entry.path()),
            _ => bail!(
                "{} holds {}, which Quorum did not write: a new review replaces the run kept there, so move \
                 the file out of that folder (or choose another --out) and run again",
                crate::sanitize::terminal_safe(&folder.display().to_string()),
                crate::sanitize::terminal_safe(&name.to_string_lossy())
            ),
        }
    }
    for path in own {
        std::fs::remove_file(&path)
            .with_context(|| format!("cannot remove the run kept before: {}", path.display()))?;
    }
    std::fs::remove_dir(folder).with_context(|| format!("cannot remove the run kept before in {}", folder.display()))
}

/// Whether `name` is one of the files Quorum writes into a run folder (including the
/// temp files of an interrupted write).
pub fn is_own_file_name(name: &str) -> bool {
    let own = |n: &str| {
        n == RUN_FILE
            || n == RESPONSES_FILE
            || n == LOCK_FILE
            || Format::ALL.iter().any(|f| f.file_name() == n)
            || crate::analysis::compare::COMPARE_FILES.contains(&n)
    };
    if own(name) {
        return true;
    }
    let temp = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
        .and_then(|n| n.rsplit_once('.'));
    temp.is_some_and(|(base, _unique)| own(base))
}

/// Whether `dir` holds a Quorum run (its description and its answers).
pub fn holds_run(dir: &Path) -> bool {
    dir.join(RUN_FILE).is_file() && dir.join(RESPONSES_FILE).is_file()
}
