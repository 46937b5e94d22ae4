//! The files git tracks: committed code is reviewed whatever the `.gitignore` committed
//! with it says. Git is asked for the list only, in a way the repository's own config
//! cannot turn into running a command, and the list is read with a bound.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::rules::{consider, Found, Rules};
use super::{display_name, Skipped, Walked, VCS_DIRS};

/// The most bytes of `git ls-files` output read: about 700,000 paths of 90 bytes, far
/// beyond the largest monorepos a review is run on, so a hostile index cannot cost
/// unbounded memory.
const MAX_TRACKED_LIST_BYTES: u64 = 64 * 1024 * 1024;

/// The files git tracks under `root`, relative to it, when `root` is inside a git work
/// tree; `None` when git is missing or `root` is not in a repository (or git fails), so
/// the walk goes on as without git.
struct Tracked {
    paths: Vec<PathBuf>,
    /// Whether the list was cut at [`MAX_TRACKED_LIST_BYTES`].
    truncated: bool,
}

fn git_tracked(root: &Path) -> Option<Tracked> {
    use std::io::Read as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("git")
        .arg("-C")
        .arg(root)
        // The repository's own config is part of the code under review: it must not run
        // a command (`core.fsmonitor`) when Quorum asks for the list.
        .args([
            "-c",
            "core.fsmonitor=false",
            "--no-optional-locks",
            "ls-files",
            "-z",
            "--",
        ])
        // The user's environment must not point git at another repository or index.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_CEILING_DIRECTORIES")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut out = Vec::new();
    let read = child
        .stdout
        .take()
        .map(|stdout| stdout.take(MAX_TRACKED_LIST_BYTES + 1).read_to_end(&mut out));
    let truncated = out.len() as u64 > MAX_TRACKED_LIST_BYTES;
    if truncated {
        // Git is still writing: stop it rather than wait for the rest.
        let _ = child.kill();
    }
    let status = child.wait().ok()?;
    if !matches!(read, Some(Ok(_))) || (!truncated && !status.success()) {
        return None;
    }
    let mut entries: Vec<&[u8]> = out.split(|&b| b == 0).collect();
    // The last piece follows the last NUL: empty, or a path cut off by the limit.
    entries.pop();
    let paths = entries.into_iter().filter_map(path_from_git).collect();
    Some(Tracked { paths, truncated })
}

/// A path as `git ls-files -z` writes it: the name's bytes on Unix, UTF-8 elsewhere.
fn path_from_git(bytes: &[u8]) -> Option<PathBuf> {
    if bytes.is_empty() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        Some(PathBuf::from(OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes).ok().map(PathBuf::from)
    }
}

/// Adds back the files git tracks under `root` that the walker did not yield (a
/// `.gitignore` line, or a folder it ignores, dropped them): committed code is reviewed
/// whatever the ignore files committed with it say. They go through the same rules as
/// every other file; version-control folders and Quorum's own files stay out.
pub(super) fn add_tracked_files(
    root: &Path,
    seen: &HashSet<PathBuf>,
    never: &[String],
    rules: &Rules,
    names: &mut HashSet<String>,
    walked: &mut Walked,
) {
    let Some(tracked) = git_tracked(root) else { return };
    if tracked.truncated {
        walked.skipped.push(Skipped {
            path: ".".into(),
            reason: format!(
                "git's list of tracked files is over {MAX_TRACKED_LIST_BYTES} bytes; tracked files past that point \
                 that .gitignore rules hide were not reviewed (review a subfolder)"
            ),
        });
    }
    for rel in &tracked.paths {
        if seen.contains(rel) || is_left_out(rel, never) || !is_below_without_links(root, rel) {
            continue;
        }
        let path = root.join(rel);
        // Deleted, or not checked out (sparse): there is nothing to review.
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            continue;
        }
        let found = Found {
            path: &path,
            rel,
            kind: meta.file_type(),
            len: || meta.len(),
        };
        consider(found, rules, names, walked);
    }
}

/// Whether `rel` names a place below `root` reached through real folders only: the index
/// is part of the code under review, and a tracked `dir/x` whose `dir` is now a link (or a
/// crafted `../x`) must not make Quorum read outside the root.
fn is_below_without_links(root: &Path, rel: &Path) -> bool {
    let plain = rel.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    plain
        && rel
            .ancestors()
            .skip(1)
            .filter(|a| !a.as_os_str().is_empty())
            .all(|dir| std::fs::symlink_metadata(root.join(dir)).is_ok_and(|meta| meta.is_dir()))
}

/// Whether `rel` lies inside a version-control folder or is, or lies inside, one of
/// Quorum's own paths (`never`): what the walker's entry filter keeps out.
fn is_left_out(rel: &Path, never: &[String]) -> bool {
    let in_vcs = rel
        .parent()
        .is_some_and(|dir| dir.components().any(|c| VCS_DIRS.iter().any(|v| c.as_os_str() == *v)));
    in_vcs
        || rel
            .ancestors()
            .any(|a| !a.as_os_str().is_empty() && never.contains(&display_name(a)))
}
