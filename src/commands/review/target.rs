//! What a review covers: its root (the one path given, or the folder that holds every
//! path given) and, when it is restricted, the paths under that root (several paths, or
//! the lines of `--files-from`). The root is what run folders, resumes, shards, the
//! cache and the trust checks know; the selection narrows the walk without leaving any
//! of its rules behind.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::commands::paths::{lexical_absolute, resolve};
use crate::input::walk::{display_name, Selection};
use crate::sanitize::terminal_safe;

/// The largest `--files-from` list read: a million paths of 64 bytes.
const MAX_FILES_FROM_BYTES: u64 = 64 * 1024 * 1024;

/// A review's root and the part of it to review.
pub(super) struct Target {
    pub(super) root: PathBuf,
    /// `None`: the whole root.
    pub(super) selection: Option<Selection>,
}

/// The target of `quorum review PATHS… [--files-from LIST]`: the paths set the root;
/// the list, when given, names what to review under it (a path outside is refused).
pub(super) fn target(paths: &[PathBuf], files_from: Option<&Path>) -> Result<Target> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let root = root_of(paths, &cwd)?;
    let listed = match files_from {
        Some(list) => read_list(list)?,
        None if paths.len() > 1 => paths.to_vec(),
        None => return Ok(Target { root, selection: None }),
    };
    let mut selected = Vec::new();
    for path in &listed {
        match inside(&root, path, &cwd)? {
            Some(rel) => selected.push(rel),
            None => return Ok(Target { root, selection: None }),
        }
    }
    Ok(Target {
        root,
        selection: Some(Selection::new(selected)),
    })
}

/// The one path given, or the deepest folder holding every path given (relative to the
/// current folder when inside it, so names read as the user typed them).
pub(super) fn root_of(paths: &[PathBuf], cwd: &Path) -> Result<PathBuf> {
    match paths {
        [] => Ok(PathBuf::from(".")),
        [one] => Ok(one.clone()),
        several => {
            let mut common: Option<PathBuf> = None;
            for path in several {
                exists(path)?;
                let absolute = lexical_absolute(cwd, path);
                let folder = match std::fs::metadata(path) {
                    Ok(meta) if meta.is_dir() => absolute,
                    _ => absolute.parent().map(Path::to_path_buf).unwrap_or(absolute),
                };
                common = Some(match common {
                    None => folder,
                    Some(c) => c
                        .components()
                        .zip(folder.components())
                        .take_while(|(a, b)| a == b)
                        .map(|(a, _)| a)
                        .collect(),
                });
            }
            let common = common.unwrap_or_else(|| cwd.to_path_buf());
            Ok(match common.strip_prefix(cwd) {
                Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
                Ok(rel) => rel.to_path_buf(),
                Err(_) => common,
            })
        }
    }
}

/// `path` (as typed, relative to `cwd`) named relative to `root`, as the walk names it;
/// refused when it is missing, or lies outside the root, links resolved. `None` for the
/// root itself.
fn inside(root: &Path, path: &Path, cwd: &Path) -> Result<Option<String>> {
    exists(path)?;
    let root_abs = lexical_absolute(cwd, root);
    let shown = terminal_safe(&path.display().to_string());
    let outside = || {
        anyhow::anyhow!(
            "{shown} is outside {}, the folder under review: list only paths inside it, or name a folder that \
             holds them all (`quorum review FOLDER --files-from LIST`)",
            terminal_safe(&root.display().to_string())
        )
    };
    let rel = lexical_absolute(cwd, path)
        .strip_prefix(&root_abs)
        .map(Path::to_path_buf)
        .map_err(|_| outside())?;
    // Through a link, a path inside by name can lead outside: the walk would not follow
    // it, and nothing outside the root is reviewed.
    if !resolve(path).starts_with(resolve(root)) {
        return Err(outside());
    }
    // The root itself (`.`) selects all of it.
    let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
    Ok((plain && !rel.as_os_str().is_empty()).then(|| display_name(&rel)))
}

fn exists(path: &Path) -> Result<()> {
    std::fs::symlink_metadata(path).map(|_| ()).with_context(|| {
        format!(
            "cannot read {}: check the path to review",
            terminal_safe(&path.display().to_string())
        )
    })
}

/// The paths of `--files-from` (`-` for stdin): one a line, blank lines ignored.
fn read_list(list: &Path) -> Result<Vec<PathBuf>> {
    let shown = terminal_safe(&list.display().to_string());
    let mut bytes = Vec::new();
    if list.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_FILES_FROM_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("cannot read the --files-from list from stdin")?;
    } else {
        let file = std::fs::File::open(list).with_context(|| format!("cannot read --files-from {shown}"))?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            bail!("--files-from {shown} is not a regular file: name a file with one path a line, or - for stdin");
        }
        file.take(MAX_FILES_FROM_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read --files-from {shown}"))?;
    }
    if bytes.len() as u64 > MAX_FILES_FROM_BYTES {
        bail!(
            "--files-from {shown} is over {} MiB: review a folder instead",
            MAX_FILES_FROM_BYTES / (1024 * 1024)
        );
    }
    Ok(bytes
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter_map(crate::input::git::path_from_bytes)
        .collect())
}
