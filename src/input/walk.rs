//! Finds the files to review.
//!
//! Built on the `ignore` crate (ripgrep's walker), so `.gitignore` rules (and the user's
//! own global gitignore and the clone's `.git/info/exclude`, neither of which ships with
//! the code) keep build output and `node_modules` out. But the code under review must not
//! decide what is reviewed: a file git tracks is reviewed whatever a `.gitignore` says
//! (git is asked with `git ls-files`; without git or outside a repository only the rules
//! apply), and ripgrep's `.ignore` files, which git does not honour and which exist to
//! hide files from tools, are not obeyed. Hidden files are reviewed (a `.eslintrc` or
//! `.github/` workflow can hold the bug), version-control folders are not. The
//! include/exclude globs of the config narrow the set further, and Quorum's own output,
//! cache and configuration are never sent. Secret files (`.env`, private keys, cloud
//! credentials) stay on the machine: sending a key to a model is a leak that cannot be
//! undone, while a file left out is merely listed. Anything that cannot be sent to a
//! model as text (binary, oversized, not UTF-8, unreadable, a symlink, a pipe or device)
//! is listed with the reason rather than silently dropped, so the report says exactly
//! what was not reviewed.
//!
//! File names are shown to models and people, so each must name one file: a name that
//! is not valid UTF-8 is written losslessly (each invalid byte as `\xNN`), and a second
//! file whose name reads the same as an earlier one is listed, not merged with it.
//!
//! This file walks; `rules` decides for each file found, `secrets` knows the secret
//! files by name and content, `tracked` asks git for the files it tracks.

mod rules;
mod secrets;
mod selection;
mod tracked;

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::config::ReviewSettings;
use rules::{consider, read_candidate, Candidate, Found, Rules};
use secrets::{skip_secret_by_name, SecretFiles, SECRET_REASON};
use tracked::add_tracked_files;

pub(crate) use secrets::check_secret_pattern;
pub(crate) use secrets::SecretRule;
pub use selection::Selection;

/// A file that will be sent to the models.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// Path relative to the review root, with `/` separators: the name models see.
    pub path: String,
    pub text: String,
    /// SHA-256 of the file's bytes, hex.
    pub content_hash: String,
    /// With `--since`: the lines changed since that commit, which the prompt names and
    /// outside of which findings are pre-existing. `None` reviews the file as a whole.
    pub changed: Option<Vec<crate::store::LineRange>>,
}

impl SourceFile {
    /// The file at `path` holding `text`, with its hash, no changed lines known.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        SourceFile {
            path: path.into(),
            content_hash: crate::hash::sha256_hex(text.as_bytes()),
            text,
            changed: None,
        }
    }

    pub fn line_count(&self) -> u32 {
        self.text.lines().count().max(1) as u32
    }
}

/// A file that was found but not reviewed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

impl Skipped {
    /// Whether the file was kept home as a secret (rather than unreadable, binary, …).
    pub fn is_secret(&self) -> bool {
        self.reason.starts_with(SECRET_REASON)
    }
}

#[derive(Debug, Default)]
pub struct Walked {
    /// Sorted by path.
    pub files: Vec<SourceFile>,
    pub skipped: Vec<Skipped>,
}

/// Folders never reviewed: version control internals.
const VCS_DIRS: &[&str] = &[".git", ".hg", ".svn", ".jj"];

/// Walks `root` (a folder, or a single file) and reads every reviewable file, leaving
/// out `never` (Quorum's own output folder, cache and configuration, where under root).
pub fn walk(root: &Path, settings: &ReviewSettings, never: &[PathBuf]) -> Result<Walked> {
    walk_selected(root, settings, never, None)
}

/// [`walk`], restricted to `selection` when there is one (a single-file root is that
/// file whatever the selection). A selected file the walk left out (ignored and not
/// tracked, or one of Quorum's own) is listed with why, so no file named is lost.
pub fn walk_selected(
    root: &Path,
    settings: &ReviewSettings,
    never: &[PathBuf],
    selection: Option<&Selection>,
) -> Result<Walked> {
    let mut walked = walk_root(root, settings, never, selection)?;
    if let Some(selection) = selection {
        list_left_out(root, selection, &mut walked);
    }
    Ok(walked)
}

/// Lists each selected file that the walk neither sent nor skipped.
fn list_left_out(root: &Path, selection: &Selection, walked: &mut Walked) {
    let found: HashSet<&str> = walked
        .files
        .iter()
        .map(|f| f.path.as_str())
        .chain(walked.skipped.iter().map(|s| s.path.as_str()))
        .collect();
    let left_out: Vec<String> = selection
        .paths()
        .into_iter()
        .filter(|p| !found.contains(p.as_str()))
        .filter(|p| std::fs::symlink_metadata(root.join(p)).is_ok_and(|m| !m.is_dir()))
        .collect();
    for path in left_out {
        walked.skipped.push(Skipped {
            path,
            reason: LEFT_OUT_REASON.into(),
        });
    }
    walked.skipped.sort_by(|a, b| a.path.cmp(&b.path));
}

/// Why a file named for review was not walked.
const LEFT_OUT_REASON: &str = "left out by the walk: ignored by .gitignore and not tracked by git, inside a \
                               version-control folder, or Quorum's own configuration, cache or lock";

fn walk_root(
    root: &Path,
    settings: &ReviewSettings,
    never: &[PathBuf],
    selection: Option<&Selection>,
) -> Result<Walked> {
    // The root itself may be a symlink (a user's choice); links inside it are not followed.
    let meta =
        std::fs::metadata(root).with_context(|| format!("cannot read {}: check the path to review", root.display()))?;
    let secrets = SecretFiles::new(&settings.secret_files)?.around(root);
    if meta.is_file() {
        let real_name = root.file_name().map(Path::new).unwrap_or(Path::new(""));
        let candidate = Candidate {
            path: root,
            rel: real_name,
            name: display_name(real_name),
            len: meta.len(),
        };
        let mut walked = Walked::default();
        if !skip_secret_by_name(candidate.rel, &candidate.name, &secrets, &mut walked) {
            read_candidate(&candidate, settings.max_file_bytes, &secrets, &mut walked);
        }
        return Ok(walked);
    }
    if !meta.is_dir() {
        bail!("{} is neither a folder nor a file", root.display());
    }
    let rules = Rules {
        include: glob_set(&settings.include)?,
        exclude: glob_set(&settings.exclude)?,
        exclude_globs: settings.exclude.clone(),
        secrets,
        max_file_bytes: settings.max_file_bytes,
    };
    let never = relative_inside(root, never);
    let mut walked = Walked::default();
    let mut names = HashSet::new();
    // Every file the walker yielded, by its real path relative to the root, so the
    // tracked-files pass adds only what the ignore rules dropped.
    let mut seen = HashSet::new();
    let walk_root = root.to_path_buf();
    let walk_never = never.clone();
    let walk_selection = selection.cloned();
    let walker = ignore::WalkBuilder::new(root)
        .follow_links(false)
        .require_git(false)
        .hidden(false)
        // `.ignore` files hide code from tools without affecting git: the code under
        // review does not get to hide itself from its review that way.
        .ignore(false)
        // The user's global gitignore is the user's own choice and `.git/info/exclude` is
        // local to this clone (it does not travel with the code); like `.gitignore` they
        // only keep untracked files out, since tracked ones are added back below.
        .git_global(true)
        .git_exclude(true)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let name = entry.file_name().to_string_lossy();
            let rel = relative(entry.path(), &walk_root);
            // A `.git` *file* (a worktree or submodule) names a local path: not code.
            let vcs = VCS_DIRS.contains(&name.as_ref()) && (is_dir || name == ".git");
            let selected = walk_selection
                .as_ref()
                .is_none_or(|s| if is_dir { s.enters(&rel) } else { s.covers(&rel) });
            !vcs && !walk_never.contains(&rel) && selected
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                walked.skipped.push(Skipped {
                    path: error_path(&err, root),
                    reason: format!("unreadable: {err}"),
                });
                continue;
            }
        };
        let Some(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            continue;
        }
        let real_rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        seen.insert(real_rel.to_path_buf());
        let found = Found {
            path: entry.path(),
            rel: real_rel,
            kind,
            len: || entry.metadata().map(|m| m.len()).unwrap_or(0),
        };
        consider(found, &rules, &mut names, &mut walked);
    }
    add_tracked_files(root, &seen, &never, &rules, selection, &mut names, &mut walked);
    walked.files.sort_by(|a, b| a.path.cmp(&b.path));
    walked.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(walked)
}

/// The paths in `paths` that lie inside `root`, relative to it (as the walker names them).
fn relative_inside(root: &Path, paths: &[PathBuf]) -> Vec<String> {
    let Ok(root) = root.canonicalize() else {
        return Vec::new();
    };
    paths
        .iter()
        .filter_map(|p| {
            let canonical = p.canonicalize().ok()?;
            let rel = canonical.strip_prefix(&root).ok()?;
            (!rel.as_os_str().is_empty()).then(|| relative(rel, Path::new("")))
        })
        .collect()
}

fn glob_set(globs: &[String]) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(Glob::new(glob).with_context(|| format!("invalid glob {glob:?}"))?);
    }
    Ok(builder.build()?)
}

/// `path` relative to `root`, with `/` separators, as [`display_name`] writes it.
fn relative(path: &Path, root: &Path) -> String {
    display_name(path.strip_prefix(root).unwrap_or(path))
}

/// The name of a relative path: its components joined by `/`, each written losslessly
/// (valid UTF-8 as it is, every other byte as `\xNN`), so two files whose names are
/// not UTF-8 keep two names (`a\xFF.py`, `a\xFE.py`) instead of both reading `a�.py`.
pub fn display_name(rel: &Path) -> String {
    let mut name = String::new();
    for (i, component) in rel.components().enumerate() {
        if i > 0 {
            name.push('/');
        }
        escape_os_str(component.as_os_str(), &mut name);
    }
    name
}

fn escape_os_str(text: &OsStr, out: &mut String) {
    // The encoded bytes are the name's own bytes on Unix, and WTF-8 on Windows (where
    // only an unpaired surrogate is not UTF-8); either way the escape is lossless.
    for chunk in text.as_encoded_bytes().utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02X}");
        }
    }
}

fn error_path(err: &ignore::Error, root: &Path) -> String {
    fn find(err: &ignore::Error) -> Option<PathBuf> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path.clone()),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => find(err),
            _ => None,
        }
    }
    find(err).map(|p| relative(&p, root)).unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tracked_tests;
