//! Where a repository keeps its suppressions: `.quorum/suppressions.toml` at the git
//! top level of the folder under review, else at that folder.

use std::path::{Path, PathBuf};

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

/// The top level of the git work tree `dir` is in, when it contains `dir`; `None`
/// without git, outside a repository, when git fails, or when the repository's own
/// `core.worktree` puts the top level elsewhere (the suppressions of the folder under
/// review must not be read from, or written to, a folder it chose). Git is run as
/// everywhere else ([`crate::input::git`]).
fn git_toplevel(dir: &Path) -> Option<PathBuf> {
    match crate::input::git::toplevel(dir) {
        crate::input::git::TopLevel::At(top) => Some(top),
        _ => None,
    }
}
