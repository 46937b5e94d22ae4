//! Where a repository keeps its suppressions: `.quorum/suppressions.toml` at the git
//! top level of the folder under review, else at that folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::suppressions::{DECISIONS_DIR, SUPPRESSIONS_FILE};

/// The suppressions file that applies to a review of `root` (a folder, or one file).
pub fn suppressions_path(root: &Path) -> PathBuf {
    // A single file's folder is the tree it belongs to.
    let tree = match root.parent() {
        Some(parent) if root.is_file() && !parent.as_os_str().is_empty() => parent,
        _ if root.is_file() => Path::new("."),
        _ => root,
    };
    git_toplevel(tree)
        .unwrap_or_else(|| tree.to_path_buf())
        .join(DECISIONS_DIR)
        .join(SUPPRESSIONS_FILE)
}

/// The top level of the git work tree `dir` is in; `None` without git, outside a
/// repository, or when git fails.
///
/// The repository's config is part of the code under review: git is run so that none of
/// it executes anything (no fsmonitor), never through a shell, with the caller's `GIT_*`
/// variables removed so nothing points it at another repository.
fn git_toplevel(dir: &Path) -> Option<PathBuf> {
    let mut git = Command::new("git");
    git.arg("-C")
        .arg(dir)
        .args([
            "-c",
            "core.fsmonitor=false",
            "--no-optional-locks",
            "--no-pager",
            "rev-parse",
            "--show-toplevel",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GIT_") {
            git.env_remove(name);
        }
    }
    let out = git.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let line = out.stdout.strip_suffix(b"\n").unwrap_or(&out.stdout);
    if line.is_empty() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(line)))
    }
    #[cfg(not(unix))]
    {
        String::from_utf8(line.to_vec()).ok().map(PathBuf::from)
    }
}
