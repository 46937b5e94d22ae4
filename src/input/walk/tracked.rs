//! The files git tracks: committed code is reviewed whatever the `.gitignore` committed
//! with it says. Git is asked for the list only, in a way the repository's own config
//! cannot turn into running a command, and the list is read with a bound.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::rules::{consider, Found, Rules};
use super::{display_name, Skipped, Walked, VCS_DIRS};

/// The most bytes of `git ls-files` output read: about 700,000 paths of 90 bytes, far
/// beyond the largest monorepos a review is run on, so a hostile index cannot cost
/// unbounded memory.
const MAX_TRACKED_LIST_BYTES: u64 = 64 * 1024 * 1024;

/// The files git tracks under `root`, relative to it.
struct Tracked {
    paths: Vec<PathBuf>,
    /// Whether the list was cut at [`MAX_TRACKED_LIST_BYTES`].
    truncated: bool,
}

/// What asking git for the tracked files gave.
enum Listing {
    Listed(Tracked),
    /// No git, or `root` is not in a repository: the walk goes on as without git.
    NoRepository,
    /// Git is there and failed (a damaged index, a repository of another user, out of
    /// time): the walk goes on as without git, and says so. Git's reason, made safe.
    Failed(String),
}

fn git_tracked(root: &Path) -> Listing {
    let mut cmd = crate::input::git::command(root);
    cmd.args(["ls-files", "-z", "--"]);
    let listed = match crate::input::git::run(cmd, MAX_TRACKED_LIST_BYTES) {
        Ok(listed) => listed,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Listing::NoRepository,
        Err(err) => return Listing::Failed(crate::sanitize::terminal_safe(&err.to_string())),
    };
    let truncated = listed.truncated;
    if !truncated && !listed.status.success() {
        let stderr = String::from_utf8_lossy(&listed.stderr);
        if stderr.contains("not a git repository") {
            return Listing::NoRepository;
        }
        let why = crate::input::git::refusal_hint(&stderr, root)
            .unwrap_or_else(|| stderr.lines().next().unwrap_or("no reason given").trim().to_string());
        return Listing::Failed(crate::sanitize::terminal_safe(&why));
    }
    let out = listed.stdout;
    let mut entries: Vec<&[u8]> = out.split(|&b| b == 0).collect();
    // The last piece follows the last NUL: empty, or a path cut off by the limit.
    entries.pop();
    let paths = entries
        .into_iter()
        .filter_map(crate::input::git::path_from_bytes)
        .collect();
    Listing::Listed(Tracked { paths, truncated })
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
    selection: Option<&super::Selection>,
    names: &mut HashSet<String>,
    walked: &mut Walked,
) {
    let tracked = match git_tracked(root) {
        Listing::Listed(tracked) => tracked,
        Listing::NoRepository => return,
        Listing::Failed(why) => {
            walked.skipped.push(Skipped {
                path: ".".into(),
                reason: format!(
                    "git could not list the tracked files ({why}), so .gitignore rules applied to them too: \
                     tracked files they hide were not reviewed"
                ),
            });
            return;
        }
    };
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
        let unselected = selection.is_some_and(|s| !s.covers(&display_name(rel)));
        if unselected || seen.contains(rel) || is_left_out(rel, never) || !is_below_without_links(root, rel) {
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
