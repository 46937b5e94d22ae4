//! Where the paths of `report.sarif` and `report.rdjson` start: at the git top level of
//! the reviewed tree, so GitHub code scanning and reviewdog find each file even when a
//! subfolder or one file was reviewed; outside git, at the reviewed folder.
//!
//! Git is asked only through [`crate::input::git::toplevel`] (nothing of the
//! repository's configuration runs, and a shipped `core.worktree` that puts the top
//! level outside the reviewed folder is not followed: paths then start at the folder).

use std::path::{Component, Path};

use crate::input::git::{self, TopLevel};

/// The prefix that turns a path relative to the review root into one relative to the
/// repository root: `""` at the top level or outside git, else `"sub/dir/"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoPath {
    prefix: String,
}

impl RepoPath {
    /// For a review of `root` (a folder or one file, as `run.json` holds it, relative
    /// to the current folder): asks git where its repository's top level is.
    pub fn of_root(root: &Path) -> RepoPath {
        // A single file's paths are relative to its folder (the walk names it by its name).
        let tree = match root.parent() {
            Some(parent) if root.is_file() && !parent.as_os_str().is_empty() => parent,
            _ if root.is_file() => Path::new("."),
            _ => root,
        };
        let top = match git::toplevel(tree) {
            TopLevel::At(top) => top,
            _ => return RepoPath::default(),
        };
        match (top.canonicalize(), tree.canonicalize()) {
            (Ok(top), Ok(tree)) => RepoPath::between(&top, &tree),
            _ => RepoPath::default(),
        }
    }

    /// The prefix of `tree` inside `top` (both canonical); none when it is not inside
    /// or a folder name is not UTF-8 (the paths then stay relative to the review root).
    fn between(top: &Path, tree: &Path) -> RepoPath {
        let Ok(inside) = tree.strip_prefix(top) else {
            return RepoPath::default();
        };
        let mut prefix = String::new();
        for component in inside.components() {
            match component {
                Component::Normal(name) => match name.to_str() {
                    Some(name) => {
                        prefix.push_str(name);
                        prefix.push('/');
                    }
                    None => return RepoPath::default(),
                },
                _ => return RepoPath::default(),
            }
        }
        RepoPath { prefix }
    }

    /// `file` (relative to the review root, `/`-separated) relative to the repository root.
    pub fn of(&self, file: &str) -> String {
        format!("{}{file}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_the_tree_inside_the_top_level() {
        let sub = RepoPath::between(Path::new("/r"), Path::new("/r/services/app"));
        assert_eq!(sub.of("db.go"), "services/app/db.go");
        assert_eq!(RepoPath::between(Path::new("/r"), Path::new("/r")).of("a.go"), "a.go");
        assert_eq!(
            RepoPath::between(Path::new("/r"), Path::new("/elsewhere")).of("a.go"),
            "a.go"
        );
    }
}
