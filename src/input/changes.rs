//! What changed since a commit (`review --since REF`): the files `git diff REF` finds
//! changed in the working tree, renames followed to their new name, plus the untracked
//! files git does not ignore; deleted files are left out. For each file, the lines that
//! changed, so findings elsewhere can be told apart as pre-existing.
//!
//! Git runs as [`git`](super::git) runs it, and the reference is resolved to a commit
//! id first (`--end-of-options`, so a name starting with `-` is a name), so only that
//! id reaches `git diff`. Comparing with the working tree would run the repository's
//! `clean` filters: they are switched off ([`without_filters`]). A file git shows as
//! binary (or marks `-diff`) counts as changed throughout: `.gitattributes` ships with
//! the code and must not make a change look like none.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::git::{self, path_from_bytes, without_filters};
use super::walk::display_name;
use crate::store::LineRange;

/// The most bytes of a list of paths, or of a reference's resolution, read from git.
const MAX_LIST_BYTES: u64 = 64 * 1024 * 1024;
/// The most bytes of the diff read: it holds only changed lines (no context), so a
/// larger one is a change too large to review as a change.
const MAX_DIFF_BYTES: u64 = 64 * 1024 * 1024;

/// The commit a review compares with: as the user named it, and the id git resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Since {
    /// The reference as given (`origin/main`, `HEAD~1`, a commit id).
    #[serde(rename = "ref")]
    pub reference: String,
    /// The commit id it named when the review started.
    pub commit: String,
}

/// Which lines of a file changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangedLines {
    /// All of it: a new or untracked file, or one git cannot show line by line.
    Whole,
    /// These lines (a deletion marks the line before it); empty when only the name or
    /// the mode changed.
    Ranges(Vec<LineRange>),
}

impl ChangedLines {
    /// The changed ranges of a file of `lines` lines.
    pub fn ranges(&self, lines: u32) -> Vec<LineRange> {
        match self {
            ChangedLines::Whole => vec![LineRange {
                start_line: 1,
                end_line: lines.max(1),
            }],
            ChangedLines::Ranges(ranges) => ranges.clone(),
        }
    }
}

/// The files changed since a commit, by their name relative to the folder asked about
/// (as the walk names them).
#[derive(Debug, Clone)]
pub struct ChangeSet {
    pub since: Since,
    pub files: BTreeMap<String, ChangedLines>,
}

/// What changed under `dir` (a folder in a git work tree) since `reference`.
pub fn changes_since(dir: &Path, reference: &str) -> Result<ChangeSet> {
    let commit = resolve(dir, reference)?;
    let mut files = changed_files(dir, &commit)?;
    for path in untracked(dir)? {
        files.entry(path).or_insert(ChangedLines::Whole);
    }
    Ok(ChangeSet {
        since: Since {
            reference: reference.to_string(),
            commit,
        },
        files,
    })
}

/// The commit `reference` names, after checking that `dir` is in a work tree.
fn resolve(dir: &Path, reference: &str) -> Result<String> {
    let shown_dir = crate::sanitize::terminal_safe(&dir.display().to_string());
    match git::toplevel(dir) {
        git::TopLevel::At(_) => {}
        git::TopLevel::Elsewhere(top) => bail!(
            "--since compares with a git commit, but the repository's configuration (core.worktree) places the \
             work tree of {shown_dir} at {}, outside it: refused, so git reads nothing there; review without --since",
            crate::sanitize::terminal_safe(&top.display().to_string())
        ),
        git::TopLevel::Failed(err) => {
            return Err(err).context(
                "--since asks git what changed, and git could not be run: install git, or review without --since",
            )
        }
        git::TopLevel::None(why) => match git::refusal_hint(&why, dir) {
            Some(hint) => bail!("--since compares with a git commit, but in {shown_dir} {hint}"),
            None => bail!(
                "--since compares with a git commit, but {shown_dir} is not inside a git work tree: \
                 review a folder of a git repository, or leave out --since to review every file"
            ),
        },
    }
    let mut parse = git::command(dir);
    parse
        .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
        .arg(format!("{reference}^{{commit}}"));
    let parsed = git::run(parse, MAX_LIST_BYTES)?;
    let commit = String::from_utf8_lossy(parsed.stdout.trim_ascii()).into_owned();
    if !parsed.succeeded() || commit.is_empty() || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "--since {}: git knows no commit by that name in {shown_dir}; check the spelling, `git fetch` a \
             remote branch first, or use --since HEAD to review uncommitted work (a repository needs a first \
             commit for that)",
            crate::sanitize::terminal_safe(reference)
        );
    }
    Ok(commit)
}

/// The files `git diff COMMIT` finds changed under `dir` (deleted ones left out), with
/// their changed lines.
fn changed_files(dir: &Path, commit: &str) -> Result<BTreeMap<String, ChangedLines>> {
    let mut diff = git::command(dir);
    diff.args([
        "diff",
        "--raw",
        "--patch",
        "-z",
        "--unified=0",
        "--inter-hunk-context=0",
        "--find-renames",
        "--relative",
        "--no-ext-diff",
        "--no-textconv",
        "--no-color",
        // Looking into a submodule runs git there with the submodule's own config (its
        // filters, its fsmonitor): submodules are not compared at all.
        "--ignore-submodules=all",
        commit,
        "--",
    ]);
    if without_filters(dir, &mut diff).is_none() {
        bail!("cannot list the repository's filter drivers to switch them off, so git diff was not run: review without --since");
    }
    let out = git::run(diff, MAX_DIFF_BYTES)?;
    if out.truncated {
        bail!(
            "the diff since {commit} is over {} MiB: too large to review as a change; review the files themselves \
             (without --since)",
            MAX_DIFF_BYTES / (1024 * 1024)
        );
    }
    if !out.status.success() {
        bail!(
            "git diff {commit} failed in {}: {}",
            crate::sanitize::terminal_safe(&dir.display().to_string()),
            first_line(&out.stderr)
        );
    }
    Ok(parse_diff(&out.stdout))
}

/// Git's first line of error output, made safe to show (a missing object names why the
/// diff failed; nothing is fetched to find it).
fn first_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("no reason given");
    crate::sanitize::terminal_safe(line.trim())
}

/// One file of `git diff --raw -z`: its status letter and its (new) path.
struct RawEntry {
    status: u8,
    /// The destination's mode: `160000` is a submodule, not a file.
    submodule: bool,
    path: Vec<u8>,
}

/// Reads `git diff --raw --patch -z` output: NUL-separated raw entries, an empty field,
/// then the patch, whose file sections come in the same order as the entries.
fn parse_diff(out: &[u8]) -> BTreeMap<String, ChangedLines> {
    let (entries, patch) = raw_entries(out);
    let sections = patch_sections(patch);
    // Sections pair with entries by position; should git ever write them differently,
    // every file counts as changed throughout rather than be matched wrongly.
    let paired = sections.len() == entries.len();
    let mut files = BTreeMap::new();
    for (i, entry) in entries.into_iter().enumerate() {
        if entry.status == b'D' || entry.submodule {
            continue;
        }
        let Some(path) = path_from_bytes(&entry.path) else {
            continue;
        };
        let lines = match paired {
            true => section_lines(sections[i]),
            false => ChangedLines::Whole,
        };
        files.insert(display_name(&path), lines);
    }
    files
}

fn raw_entries(out: &[u8]) -> (Vec<RawEntry>, &[u8]) {
    let mut entries = Vec::new();
    let mut rest = out;
    let next = |rest: &mut &[u8]| -> Option<Vec<u8>> {
        let end = rest.iter().position(|&b| b == 0)?;
        let field = rest[..end].to_vec();
        *rest = &rest[end + 1..];
        Some(field)
    };
    while rest.first() == Some(&b':') {
        let Some(header) = next(&mut rest) else { break };
        let fields: Vec<&[u8]> = header.split(|&b| b == b' ').collect();
        let status = fields.get(4).and_then(|s| s.first()).copied().unwrap_or(b'M');
        let submodule = fields.get(1).is_some_and(|mode| *mode == b"160000");
        let paths = if matches!(status, b'R' | b'C') { 2 } else { 1 };
        let mut path = Vec::new();
        for _ in 0..paths {
            path = next(&mut rest).unwrap_or_default();
        }
        entries.push(RawEntry {
            status,
            submodule,
            path,
        });
    }
    // The empty field between the entries and the patch.
    let patch = rest.strip_prefix(b"\0").unwrap_or(rest);
    (entries, patch)
}

/// The patch cut into one section per file.
fn patch_sections(patch: &[u8]) -> Vec<&[u8]> {
    let mut starts: Vec<usize> = Vec::new();
    let mut at = 0;
    for line in patch.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"diff --git ") || line.starts_with(b"* Unmerged path ") {
            starts.push(at);
        }
        at += line.len();
    }
    let ends = starts.iter().skip(1).copied().chain(std::iter::once(patch.len()));
    starts.iter().zip(ends).map(|(&s, e)| &patch[s..e]).collect()
}

/// The new-side lines a file's section changes, from its `@@ -a,b +c,d @@` headers.
fn section_lines(section: &[u8]) -> ChangedLines {
    let mut ranges = Vec::new();
    for line in section.split(|&b| b == b'\n') {
        if line.starts_with(b"Binary files ") || line.starts_with(b"GIT binary patch") {
            return ChangedLines::Whole;
        }
        if let Some(range) = line.strip_prefix(b"@@ ").and_then(hunk_range) {
            ranges.push(range);
        }
    }
    ChangedLines::Ranges(ranges)
}

/// The new side of a hunk header's `-a,b +c,d`: lines `c` to `c+d-1`, or for a deletion
/// (`d` = 0) the line before it, so the margin around it covers both neighbours.
fn hunk_range(header: &[u8]) -> Option<LineRange> {
    let header = std::str::from_utf8(header).ok()?;
    let new = header.split(' ').find_map(|part| part.strip_prefix('+'))?;
    let (start, count) = match new.split_once(',') {
        Some((start, count)) => (start.parse::<u32>().ok()?, count.parse::<u32>().ok()?),
        None => (new.parse::<u32>().ok()?, 1),
    };
    Some(match count {
        0 => LineRange {
            start_line: start.max(1),
            end_line: start.max(1),
        },
        n => LineRange {
            start_line: start.max(1),
            end_line: start.max(1).saturating_add(n - 1),
        },
    })
}

/// The untracked files under `dir` that git does not ignore.
fn untracked(dir: &Path) -> Result<Vec<String>> {
    let mut list = git::command(dir);
    list.args(["ls-files", "--others", "--exclude-standard", "-z", "--"]);
    let out = git::run(list, MAX_LIST_BYTES)?;
    if !out.succeeded() {
        bail!(
            "git could not list the untracked files in {} (or the list is over {} MiB)",
            crate::sanitize::terminal_safe(&dir.display().to_string()),
            MAX_LIST_BYTES / (1024 * 1024)
        );
    }
    Ok(out
        .stdout
        .split(|&b| b == 0)
        .filter_map(path_from_bytes)
        .map(|p| display_name(&p))
        .collect())
}

#[cfg(test)]
mod tests;
