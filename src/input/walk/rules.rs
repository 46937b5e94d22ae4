//! Quorum's own rules for every file found, by the walker or by git: include/exclude,
//! one file per name, no run output, no secrets, no links or devices; then the file is
//! read, or listed with why it was not.

use std::collections::HashSet;
use std::path::Path;

use globset::GlobSet;

use super::secrets::{is_service_account_key, private_key_kind, secret_reason, skip_secret_by_name};
use super::secrets::{SecretFiles, SecretVerdict};
use super::{display_name, Skipped, SourceFile, Walked};

/// Why `review.include`/`review.exclude` leave the file named `rel` out, if they do;
/// `exclude_globs` are the patterns `exclude` was built from, in order.
fn filtered_out(rel: &str, include: &GlobSet, exclude: &GlobSet, exclude_globs: &[String]) -> Option<String> {
    if let Some(&first) = exclude.matches(rel).first() {
        let pattern = exclude_globs.get(first).map(String::as_str).unwrap_or_default();
        return Some(format!("excluded by review.exclude {pattern:?}"));
    }
    (!include.is_match(rel)).then(|| "not matched by review.include".to_string())
}

/// What decides, for every file found, whether and how it is reviewed.
pub(super) struct Rules {
    pub(super) include: GlobSet,
    pub(super) exclude: GlobSet,
    /// The patterns `exclude` was built from, in order, to name the one that matched.
    pub(super) exclude_globs: Vec<String>,
    pub(super) secrets: SecretFiles,
    pub(super) max_file_bytes: u64,
}

/// A file (or link, pipe, …) found under the root, by the walker or by git.
pub(super) struct Found<'a, L: FnOnce() -> u64> {
    /// Where it is.
    pub(super) path: &'a Path,
    /// Its real path relative to the root.
    pub(super) rel: &'a Path,
    /// What it is, links not followed.
    pub(super) kind: std::fs::FileType,
    /// Its size, asked only for a regular file that gets that far.
    pub(super) len: L,
}

/// Puts one found file through Quorum's own rules (include/exclude, names, run output,
/// secrets, links, size, content) and reads it or records why it was not.
pub(super) fn consider<L: FnOnce() -> u64>(
    found: Found<L>,
    rules: &Rules,
    names: &mut HashSet<String>,
    walked: &mut Walked,
) {
    let rel = display_name(found.rel);
    if let Some(reason) = filtered_out(&rel, &rules.include, &rules.exclude, &rules.exclude_globs) {
        // Listed, not dropped: a file the configuration leaves out is code nobody
        // reviewed, and the plan and the report must say so.
        walked.skipped.push(Skipped { path: rel, reason });
        return;
    }
    if !names.insert(rel.clone()) {
        walked.skipped.push(Skipped {
            path: rel,
            reason: "another file's name reads the same once bytes that are not UTF-8 are written as \\xNN; \
                     only the first was considered (rename one of them)"
                .into(),
        });
        return;
    }
    if is_run_output(found.path) {
        walked.skipped.push(Skipped {
            path: rel,
            reason: RUN_OUTPUT_REASON.into(),
        });
        return;
    }
    if skip_secret_by_name(found.rel, &rel, &rules.secrets, walked) {
        return;
    }
    if found.kind.is_symlink() {
        walked.skipped.push(Skipped {
            path: rel,
            reason: "symbolic link (not followed, so nothing outside the root is read)".into(),
        });
        return;
    }
    if !found.kind.is_file() {
        walked.skipped.push(Skipped {
            path: rel,
            reason: "not a regular file (a pipe, socket or device)".into(),
        });
        return;
    }
    let candidate = Candidate {
        path: found.path,
        rel: found.rel,
        name: rel,
        len: (found.len)(),
    };
    read_candidate(&candidate, rules.max_file_bytes, &rules.secrets, walked);
}

/// A file found by the walk, before it is read.
pub(super) struct Candidate<'a> {
    /// Where to read it: its real path, whatever its name.
    pub(super) path: &'a Path,
    /// Its real path relative to the root, for the secret patterns.
    pub(super) rel: &'a Path,
    /// The name models and people see (see [`display_name`]).
    pub(super) name: String,
    /// Its size as the folder listing says.
    pub(super) len: u64,
}

pub(super) const RUN_OUTPUT_REASON: &str = "output of a Quorum run (this folder holds run.json and responses.jsonl)";

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

/// How far into a file a NUL byte is looked for to call it binary, as git does: text has
/// none, and binary formats show one early.
const BINARY_SNIFF_BYTES: usize = 8192;

/// Reads one file, or records why it cannot be reviewed.
pub(super) fn read_candidate(candidate: &Candidate, max_bytes: u64, secrets: &SecretFiles, walked: &mut Walked) {
    let skip = |walked: &mut Walked, reason: String| {
        walked.skipped.push(Skipped {
            path: candidate.name.clone(),
            reason,
        })
    };
    let len = candidate.len;
    if len > max_bytes {
        return skip(walked, format!("{len} bytes, over max_file_bytes = {max_bytes}"));
    }
    let bytes = match std::fs::read(candidate.path) {
        Ok(bytes) => bytes,
        Err(err) => return skip(walked, format!("unreadable: {err}")),
    };
    if bytes.len() as u64 > max_bytes {
        return skip(
            walked,
            format!("{} bytes, over max_file_bytes = {max_bytes}", bytes.len()),
        );
    }
    if bytes.iter().take(BINARY_SNIFF_BYTES).any(|&b| b == 0) {
        return skip(walked, "binary (contains NUL bytes)".into());
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return skip(walked, "empty".into());
    }
    let content_hash = crate::hash::sha256_hex(&bytes);
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => return skip(walked, "not UTF-8 text".into()),
    };
    let checks_content = secrets.by_content && secrets.by_name(candidate.rel) != SecretVerdict::Allowed;
    if checks_content && is_service_account_key(&text) {
        return skip(
            walked,
            secret_reason("a service-account key (JSON with \"type\": \"service_account\" and a \"private_key\")"),
        );
    }
    if checks_content {
        if let Some(kind) = private_key_kind(&text) {
            return skip(walked, secret_reason(&format!("{kind} (found by its content)")));
        }
    }
    walked.files.push(SourceFile {
        path: candidate.name.clone(),
        text,
        content_hash,
        changed: None,
    });
}
