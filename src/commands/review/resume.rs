//! What a resumed review takes from its run folder: the tree it reviewed, and the
//! answers this user's Quorum wrote there for it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::store::seal::RunMac;
use crate::store::{ResponseRecord, RunFolder, RunMeta, Status};

/// The folder a resumed run reviews: the one it recorded, which must lie inside the
/// folder given on the command line (a run folder shipped with the code could name the
/// user's home).
pub(super) fn resumed_root(meta: &RunMeta, given: &Path, out: &Path) -> Result<PathBuf> {
    let recorded = Path::new(&meta.root);
    let shown = crate::sanitize::terminal_safe(&meta.root);
    let recorded_canonical = recorded.canonicalize().with_context(|| {
        format!(
            "the run in {} reviewed {shown}, which cannot be resolved",
            out.display()
        )
    })?;
    let given_canonical = given.canonicalize().with_context(|| {
        format!(
            "cannot resolve {}",
            crate::sanitize::terminal_safe(&given.display().to_string())
        )
    })?;
    if !recorded_canonical.starts_with(&given_canonical) {
        bail!(
            "{}",
            crate::sanitize::terminal_safe(&format!(
                "the run in {out} reviewed {shown}, which is not inside {given}: nothing was sent. To resume it, \
                 run `quorum review {shown} --resume {out}`",
                out = out.display(),
                given = given.display(),
            ))
        );
    }
    Ok(recorded_canonical)
}

/// What a resumed run takes from its folder as already asked.
pub(super) struct Answered {
    /// Answers (not asked again) and splits (followed to their parts), by job key.
    pub(super) records: HashMap<String, ResponseRecord>,
    /// Jobs whose only answers (or splits) were left out because their MAC does not verify.
    ignored: usize,
}

impl Answered {
    /// Tells the user that answers in `out` are asked again, when some were ignored.
    pub(super) fn ignored_note(&self, out: &Path) -> Option<String> {
        let (answers, were, are) = match self.ignored {
            0 => return None,
            1 => ("answer", "was", "is"),
            _ => ("answers", "were", "are"),
        };
        Some(crate::sanitize::terminal_safe(&format!(
            "{} {answers} in {} {were} not written by Quorum for you and {are} asked again",
            self.ignored,
            out.display()
        )))
    }
}

/// What a run folder already has, as far as this user's Quorum wrote it for this run:
/// `responses.jsonl` may have been replaced (a checkout overwrites an ignored file), so
/// a record whose MAC does not verify under `run_mac` is asked again.
pub(super) fn answered(folder: &RunFolder, run_mac: &RunMac) -> Result<Answered> {
    let mut records = HashMap::new();
    let mut ignored = HashSet::new();
    let loaded = folder.read_records()?.records.into_iter();
    for r in loaded.filter(|r| matches!(r.status, Status::Ok | Status::Split)) {
        let Some(key) = r.key.clone() else { continue };
        if r.verifies(run_mac) {
            records.insert(key, r);
        } else {
            ignored.insert(key);
        }
    }
    // A planted record stays in the file; once its job has been asked again it is
    // superseded (see `analysis`) and no longer worth a word.
    ignored.retain(|key| !records.contains_key(key));
    Ok(Answered {
        records,
        ignored: ignored.len(),
    })
}
