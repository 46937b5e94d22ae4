//! Where paths lead: resolved through the links that exist, or by name, and the folder
//! under review. The run folder and the cache must not be placed where the code under
//! review could have put something for Quorum to read or write through.

use std::path::{Component, Path, PathBuf};

/// The folder whose contents are under review (a single file's folder counts whole: a
/// configuration beside the file may have come with it).
pub(crate) fn review_tree(root: &Path) -> &Path {
    if root.is_file() {
        root.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    } else {
        root
    }
}

/// Whether `path` is `dir` or lies below it, links resolved (as far as they exist).
pub(crate) fn is_inside(path: &Path, dir: &Path) -> bool {
    resolve(path).starts_with(resolve(dir))
}

pub(crate) fn same_place(a: &Path, b: &Path) -> bool {
    resolve(a) == resolve(b)
}

/// `path` made absolute with its links resolved, for the part that exists; the rest
/// (which cannot contain links yet) is added with `..` applied by name.
pub(crate) fn resolve(path: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut existing = path;
    let mut base = loop {
        if let Ok(canonical) = existing.canonicalize() {
            break canonical;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name.to_os_string());
                existing = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
            }
            // `..` or a root that does not resolve: keep it as given.
            _ => break std::env::current_dir().unwrap_or_default().join(existing),
        }
    };
    for part in missing.into_iter().rev() {
        base.push(part);
    }
    base
}

/// `path` made absolute against `cwd`, with `.` and `..` applied by name (no link is
/// resolved: the caller examines each component itself).
pub(crate) fn lexical_absolute(cwd: &Path, path: &Path) -> PathBuf {
    let mut absolute = PathBuf::new();
    for component in cwd.join(path).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                absolute.pop();
            }
            other => absolute.push(other),
        }
    }
    absolute
}
