//! Whether `--out` may be written into: a real folder, reached through no link planted
//! in the project, holding nothing but Quorum runs (or a run beside a user's notes).

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::commands::paths::{lexical_absolute, resolve, review_tree};
use crate::store::{self, RunFolder};

/// Refuses an `--out` that is a symbolic link or is reached through one inside the
/// project (a link committed in a repository would send the run's files wherever it
/// points), or a folder that holds something other than Quorum runs (reports there would
/// overwrite files). `root` is the tree under review.
pub(crate) fn check_out_dir(out: &Path, root: &Path) -> Result<()> {
    // Without its trailing `/`, so the link itself is examined, not its target.
    let named: PathBuf = out.components().collect();
    let shown = crate::sanitize::terminal_safe(&out.display().to_string());
    if let Some(parent) = named.parent() {
        refuse_linked_folder(parent, root, &shown)?;
    }
    match std::fs::symlink_metadata(&named) {
        Err(_) => return Ok(()),
        Ok(meta) if meta.file_type().is_symlink() => {
            let target = std::fs::read_link(&named)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            bail!(
                "--out {shown} is a symbolic link (to {}): Quorum writes only into a real folder, so that a link \
                 planted in a repository cannot send its files elsewhere; pass the folder itself as --out, or \
                 remove the link",
                crate::sanitize::terminal_safe(&target)
            );
        }
        Ok(meta) if !meta.is_dir() => bail!("--out {shown} is not a folder: choose another --out"),
        Ok(_) => {}
    }
    let entries = std::fs::read_dir(out).with_context(|| format!("cannot read the --out folder {shown}"))?;
    let only_quorums = entries.filter_map(|e| e.ok()).all(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        store::is_own_file_name(&name) || name == store::PREVIOUS_DIR
    });
    if only_quorums {
        return Ok(());
    }
    // Foreign files beside a run are allowed (a user's notes), but only beside a run
    // Quorum could have written: any file merely named `run.json` is not one.
    match RunFolder::new(out).read_meta() {
        Ok(_) => Ok(()),
        Err(err) if std::fs::symlink_metadata(out.join(store::RUN_FILE)).is_ok() => bail!(
            "--out {shown} holds files other than Quorum's, and its {} is not one Quorum wrote ({}); \
             choose another --out (reports there would overwrite files)",
            store::RUN_FILE,
            crate::sanitize::terminal_safe(&format!("{err:#}"))
        ),
        Err(_) => bail!(
            "--out {shown} is a folder that holds something other than a Quorum run; \
             choose another --out (reports there would overwrite files)"
        ),
    }
}

/// Refuses a `folder` (the part of `--out` above its last name) that passes through a
/// symbolic link inside the current folder or the tree under review: with `build ->
/// /elsewhere` committed in a repository, `--out build/q` would write into
/// `/elsewhere/q`. Links outside both (a system's `/tmp -> /private/tmp`) are the user's
/// own, and followed.
fn refuse_linked_folder(folder: &Path, root: &Path, shown: &str) -> Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let trees = [
        cwd.clone(),
        lexical_absolute(&cwd, review_tree(root)),
        resolve(review_tree(root)),
    ];
    let mut prefix = PathBuf::new();
    for component in folder.components() {
        prefix.push(component);
        if !matches!(component, Component::Normal(_)) {
            continue;
        }
        let place = lexical_absolute(&cwd, &prefix);
        if !trees.iter().any(|tree| place.starts_with(tree)) {
            continue;
        }
        match std::fs::symlink_metadata(&prefix) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&prefix)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                bail!(
                    "--out {shown} goes through {}, a symbolic link (to {}): Quorum writes only into real \
                     folders, so that a link planted in a repository cannot send its files elsewhere; pass the \
                     real path as --out, or remove the link",
                    crate::sanitize::terminal_safe(&prefix.display().to_string()),
                    crate::sanitize::terminal_safe(&target)
                );
            }
            Ok(_) => {}
            // The rest does not exist yet: it will be made as real folders.
            Err(_) => break,
        }
    }
    Ok(())
}
