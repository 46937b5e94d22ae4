//! Finds the files to review.
//!
//! Built on the `ignore` crate (ripgrep's walker), so `.gitignore` and `.ignore` rules
//! are honoured the way developers expect. Hidden files are reviewed (`.env` is where
//! secrets leak), version-control folders are not. The include/exclude globs of the
//! config narrow the set further, and Quorum's own output, cache and configuration are
//! never sent. Anything that cannot be sent to a model as text (binary, oversized, not
//! UTF-8, unreadable, a symlink, a pipe or device) is listed with the reason rather than
//! silently dropped, so the report says exactly what was not reviewed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::config::ReviewSettings;

/// A file that will be sent to the models.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// Path relative to the review root, with `/` separators: the name models see.
    pub path: String,
    pub text: String,
    /// SHA-256 of the file's bytes, hex.
    pub content_hash: String,
}

impl SourceFile {
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
    // The root itself may be a symlink (a user's choice); links inside it are not followed.
    let meta =
        std::fs::metadata(root).with_context(|| format!("cannot read {}: check the path to review", root.display()))?;
    if meta.is_file() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut walked = Walked::default();
        read_candidate(root, name, meta.len(), settings.max_file_bytes, &mut walked);
        return Ok(walked);
    }
    if !meta.is_dir() {
        bail!("{} is neither a folder nor a file", root.display());
    }
    let include = glob_set(&settings.include)?;
    let exclude = glob_set(&settings.exclude)?;
    let never = relative_inside(root, never);
    let mut walked = Walked::default();
    let walk_root = root.to_path_buf();
    let walker = ignore::WalkBuilder::new(root)
        .follow_links(false)
        .require_git(false)
        .hidden(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let name = entry.file_name().to_string_lossy();
            let rel = relative(entry.path(), &walk_root);
            let vcs = is_dir && VCS_DIRS.contains(&name.as_ref());
            !vcs && !never.contains(&rel)
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
        let rel = relative(entry.path(), root);
        if !include.is_match(&rel) || exclude.is_match(&rel) {
            continue;
        }
        if is_run_output(entry.path()) {
            walked.skipped.push(Skipped {
                path: rel,
                reason: RUN_OUTPUT_REASON.into(),
            });
            continue;
        }
        if kind.is_symlink() {
            walked.skipped.push(Skipped {
                path: rel,
                reason: "symbolic link (not followed, so nothing outside the root is read)".into(),
            });
            continue;
        }
        if !kind.is_file() {
            walked.skipped.push(Skipped {
                path: rel,
                reason: "not a regular file (a pipe, socket or device)".into(),
            });
            continue;
        }
        let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
        read_candidate(entry.path(), rel, len, settings.max_file_bytes, &mut walked);
    }
    walked.files.sort_by(|a, b| a.path.cmp(&b.path));
    walked.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(walked)
}

const RUN_OUTPUT_REASON: &str = "output of a Quorum run (this folder holds run.json and responses.jsonl)";

/// Whether `path` is one of Quorum's own files in a folder that holds a run, wherever
/// that folder is (this run's `--out`, another run's, or one committed with the code):
/// earlier answers are not code to review. Only Quorum's file names are left out, so a
/// `run.json` dropped beside code hides nothing else.
fn is_run_output(path: &Path) -> bool {
    let (Some(name), Some(dir)) = (path.file_name().and_then(|n| n.to_str()), path.parent()) else {
        return false;
    };
    crate::store::is_own_file_name(name) && crate::store::holds_run(dir)
}

/// Reads one file, or records why it cannot be reviewed.
fn read_candidate(path: &Path, rel: String, len: u64, max_bytes: u64, walked: &mut Walked) {
    let skip = |walked: &mut Walked, reason: String| {
        walked.skipped.push(Skipped {
            path: rel.clone(),
            reason,
        })
    };
    if len > max_bytes {
        return skip(walked, format!("{len} bytes, over max_file_bytes = {max_bytes}"));
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => return skip(walked, format!("unreadable: {err}")),
    };
    if bytes.len() as u64 > max_bytes {
        return skip(
            walked,
            format!("{} bytes, over max_file_bytes = {max_bytes}", bytes.len()),
        );
    }
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return skip(walked, "binary (contains NUL bytes)".into());
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return skip(walked, "empty".into());
    }
    let content_hash = crate::hash::sha256_hex(&bytes);
    match String::from_utf8(bytes) {
        Ok(text) => walked.files.push(SourceFile {
            path: rel,
            text,
            content_hash,
        }),
        Err(_) => skip(walked, "not UTF-8 text".into()),
    }
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

/// `path` relative to `root`, with `/` separators.
fn relative(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
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
mod tests {
    use super::*;

    fn settings() -> ReviewSettings {
        ReviewSettings::default()
    }

    fn write(root: &Path, rel: &str, bytes: &[u8]) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn walks_sorted_text_files_and_explains_skips() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "b.go", b"package b\n");
        write(root, "a/x.go", b"package a\n");
        write(root, "img.png", b"\x89PNG\0\0\0");
        write(root, "latin1.txt", b"caf\xe9\n");
        write(root, "big.go", &vec![b'a'; 300]);
        write(root, "empty.go", b"\n\n");
        let mut s = settings();
        s.max_file_bytes = 100;
        let w = walk(root, &s, &[]).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a/x.go", "b.go"]);
        let reasons: Vec<_> = w.skipped.iter().map(|s| (s.path.as_str(), s.reason.as_str())).collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons.contains(&("img.png", "binary (contains NUL bytes)")));
        assert!(reasons.contains(&("latin1.txt", "not UTF-8 text")));
        assert!(reasons.contains(&("empty.go", "empty")));
        assert!(reasons
            .iter()
            .any(|(p, r)| *p == "big.go" && r.contains("max_file_bytes")));
    }

    #[test]
    fn honours_gitignore_include_and_exclude() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, ".gitignore", b"generated/\n");
        write(root, "generated/g.go", b"package g\n");
        write(root, "vendor/v.go", b"package v\n");
        write(root, "src/main.go", b"package main\n");
        write(root, "README.md", b"# hi\n");
        let mut s = settings();
        s.include = vec!["**/*.go".into()];
        s.exclude = vec!["vendor/**".into()];
        let w = walk(root, &s, &[]).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["src/main.go"]);
    }

    #[cfg(unix)]
    #[test]
    fn never_follows_symlinks_out_of_the_root() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret.txt", b"password=hunter2\n");
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "main.go", b"package main\n");
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("link.txt")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linkdir")).unwrap();
        let w = walk(dir.path(), &settings(), &[]).unwrap();
        assert_eq!(w.files.len(), 1);
        assert!(w.files.iter().all(|f| !f.text.contains("hunter2")));
        assert!(w
            .skipped
            .iter()
            .any(|s| s.path == "link.txt" && s.reason.contains("symbolic link")));
    }

    #[test]
    fn hidden_files_are_reviewed_but_vcs_folders_and_quorums_own_files_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, ".env", b"DB_PASSWORD=hunter2\n");
        write(root, ".git/config", b"[core]\n");
        write(root, "quorum-report/report.md", b"# old report\n");
        write(root, ".quorum-cache/answers.jsonl", b"{}\n");
        write(root, "quorum.toml", b"[review]\n");
        write(root, "main.go", b"package main\n");
        let never = [
            root.join("quorum-report"),
            root.join(".quorum-cache"),
            root.join("quorum.toml"),
        ];
        let w = walk(root, &settings(), &never).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [".env", "main.go"]);
    }

    #[test]
    fn a_run_folders_own_files_are_listed_not_sent_but_code_beside_them_is() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "run.json",
            "responses.jsonl",
            "report.md",
            "report.sarif",
            ".report.md.7-0.tmp",
        ] {
            write(root, &format!("elsewhere/{name}"), b"{}\n");
            write(root, &format!("elsewhere/previous/{name}"), b"{}\n");
        }
        write(root, "elsewhere/backdoor.go", b"package evil\n");
        write(root, "elsewhere/previous/hidden.go", b"package evil\n");
        // Not a run folder (no responses.jsonl): its report.md is just a file.
        write(root, "docs/run.json", b"{}\n");
        write(root, "docs/report.md", b"# design\n");
        let w = walk(root, &settings(), &[]).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "docs/report.md",
                "docs/run.json",
                "elsewhere/backdoor.go",
                "elsewhere/previous/hidden.go"
            ]
        );
        let run_output = w.skipped.iter().filter(|s| s.reason == RUN_OUTPUT_REASON).count();
        assert_eq!(run_output, 10, "{:?}", w.skipped);
    }

    #[cfg(unix)]
    #[test]
    fn pipes_are_listed_not_read_and_a_symlinked_root_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "main.go", b"package main\n");
        let fifo = dir.path().join("pipe");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let link = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(dir.path(), link.path().join("proj")).unwrap();
        let w = walk(&link.path().join("proj"), &settings(), &[]).unwrap();
        assert_eq!(w.files.len(), 1);
        assert!(w
            .skipped
            .iter()
            .any(|s| s.path == "pipe" && s.reason.contains("not a regular file")));
    }

    #[test]
    fn a_single_file_can_be_reviewed() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "one.go", b"package one\n");
        let w = walk(&dir.path().join("one.go"), &settings(), &[]).unwrap();
        assert_eq!(w.files[0].path, "one.go");
    }

    #[test]
    fn missing_root_is_a_clear_error() {
        let err = walk(Path::new("/surely/not/here"), &settings(), &[]).unwrap_err();
        assert!(format!("{err:#}").contains("/surely/not/here"));
    }
}
