//! `.quorum/suppressions.toml`: the issues a team reviewed and dismissed, each with its
//! reason. The file sits in the repository (it is committed and reviewed like code), so
//! it is read like anything else from the tree: a bounded regular file, never through a
//! link, every entry checked, a malformed one an error naming the file and line.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// The folder, at the repository root, that holds Quorum's committed decisions.
pub const DECISIONS_DIR: &str = ".quorum";
/// The suppressions file's name inside [`DECISIONS_DIR`].
pub const SUPPRESSIONS_FILE: &str = "suppressions.toml";
/// The most bytes of a suppressions file read: thousands of entries fit; a planted
/// `/dev/zero`-sized file costs nothing.
pub const MAX_SUPPRESSIONS_BYTES: u64 = 1024 * 1024;
/// The longest reason kept: a sentence or a paragraph, not a document.
pub const MAX_REASON_CHARS: usize = 1000;

/// What a new suppressions file opens with.
const HEADER: &str = "\
# Issues Quorum reported that were reviewed and dismissed. `quorum suppress ID --reason \"…\"`
# adds one. Each entry hides its issue from every report and gate: commit this file and
# review changes to it like code.
";

/// One dismissed issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// The issue's stable id (`report.json`'s `id`).
    pub id: String,
    /// The file the issue was in, when known: a suppression is stale only when a run
    /// reviewed this file and did not find the issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The issue's title when it was suppressed, for whoever reads the file.
    #[serde(default)]
    pub title: String,
    /// Why it is not a problem.
    pub reason: String,
    /// When it was suppressed (UTC date).
    #[serde(default)]
    pub date: String,
}

/// The suppressions of a repository, and where they are kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Suppressions {
    /// `.quorum/suppressions.toml` at the repository root.
    pub path: PathBuf,
    pub entries: Vec<Suppression>,
    /// The file's text as read (empty when there is no file), kept so an addition
    /// leaves everything else in it, comments included, as it was.
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    suppression: Vec<toml::Spanned<Suppression>>,
}

#[derive(Serialize)]
struct NewEntry<'a> {
    suppression: [&'a Suppression; 1],
}

impl Suppressions {
    /// The suppressions of the repository `root` is in: none when there is no file, an
    /// error (naming file and line) when it is malformed or not a regular file.
    pub fn load(root: &Path) -> Result<Suppressions> {
        Suppressions::load_file(super::locate::suppressions_path(root))
    }

    /// The suppressions in the file at `path` (none when there is no file).
    pub fn load_file(path: PathBuf) -> Result<Suppressions> {
        refuse_linked_folder(&path)?;
        let text = match read_bounded(&path)? {
            Some(text) => text,
            None => {
                return Ok(Suppressions {
                    path,
                    ..Suppressions::default()
                })
            }
        };
        let entries = parse(&text, &path)?;
        Ok(Suppressions { path, entries, text })
    }

    pub fn find(&self, id: &str) -> Option<&Suppression> {
        self.entries.iter().find(|s| s.id == id)
    }

    /// Adds `entry` and writes the file (creating `.quorum/` if needed), never through a
    /// link; the other entries and comments stay as they were.
    pub fn add(&mut self, entry: Suppression) -> Result<()> {
        check_entry(&entry).map_err(|why| anyhow::anyhow!("{why}"))?;
        if self.find(&entry.id).is_some() {
            bail!("{} is already suppressed in {}", entry.id, self.path.display());
        }
        let mut text = if self.text.is_empty() {
            HEADER.to_string()
        } else {
            self.text.clone()
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&toml::to_string(&NewEntry { suppression: [&entry] })?);
        // What is written must read back as what was meant.
        let entries = parse(&text, &self.path)?;
        make_decisions_dir(&self.path)?;
        crate::store::write_atomically(&self.path, text.as_bytes())?;
        self.entries = entries;
        self.text = text;
        Ok(())
    }
}

/// The entries of a suppressions file's `text`; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Suppression>> {
    let at = |offset: usize| format!("{}:{}", path.display(), line_of(text, offset));
    let shape: FileShape = toml::from_str(text).map_err(|e| {
        let place = e.span().map_or_else(|| path.display().to_string(), |s| at(s.start));
        anyhow::anyhow!(
            "{place}: malformed suppressions file: {}; fix or remove the entry (each is a \
             [[suppression]] with id, reason, and optionally file, title, date)",
            e.message()
        )
    })?;
    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(shape.suppression.len());
    for spanned in shape.suppression {
        let place = at(spanned.span().start);
        let entry = spanned.into_inner();
        if let Err(why) = check_entry(&entry) {
            bail!("{place}: {why}");
        }
        if !seen.insert(entry.id.clone()) {
            bail!("{place}: {} is suppressed twice; keep one entry", entry.id);
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// What is wrong with an entry, if anything.
fn check_entry(entry: &Suppression) -> Result<(), String> {
    if !is_issue_id(&entry.id) {
        return Err(format!(
            "{:?} is not a Quorum issue id (Q and 8 hex digits, as report.json gives)",
            entry.id
        ));
    }
    if entry.reason.trim().is_empty() {
        return Err(format!(
            "{} has no reason: say why the issue is not a problem",
            entry.id
        ));
    }
    if entry.reason.chars().count() > MAX_REASON_CHARS {
        return Err(format!(
            "the reason for {} is longer than {MAX_REASON_CHARS} characters",
            entry.id
        ));
    }
    Ok(())
}

/// Whether `id` has the shape of an issue id: `Q`, 8 lowercase hex digits, and `-N` for
/// an id that collided.
pub fn is_issue_id(id: &str) -> bool {
    let (base, suffix) = match id.split_once('-') {
        Some((base, n)) => (base, Some(n)),
        None => (id, None),
    };
    let hex = base.strip_prefix('Q').unwrap_or_default();
    hex.len() == 8
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && suffix.is_none_or(|n| !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The file's text; `None` when there is none. A link, pipe, device, over-long or
/// non-UTF-8 file is an error.
fn read_bounded(path: &Path) -> Result<Option<String>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        _ => {}
    }
    let file = crate::store::open_for_reading(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_SUPPRESSIONS_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_SUPPRESSIONS_BYTES {
        bail!(
            "{} is larger than {} KiB, the most a suppressions file may be",
            path.display(),
            MAX_SUPPRESSIONS_BYTES / 1024
        );
    }
    String::from_utf8(bytes)
        .map(Some)
        .with_context(|| format!("{} is not UTF-8", path.display()))
}

/// Refuses a `.quorum` that is a link (or not a folder): its files would be read from,
/// or written to, wherever it points.
fn refuse_linked_folder(path: &Path) -> Result<()> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => bail!(
            "refusing to use {}: it is a symbolic link, and Quorum never reads or writes its files through a \
             link; replace it with a folder",
            dir.display()
        ),
        Ok(meta) if !meta.is_dir() => bail!("refusing to use {}: it is not a folder", dir.display()),
        _ => Ok(()),
    }
}

/// Creates `.quorum/` if it is missing (never through a link: checked again here).
fn make_decisions_dir(path: &Path) -> Result<()> {
    refuse_linked_folder(path)?;
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            std::fs::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
    }
    refuse_linked_folder(path)
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, reason: &str) -> Suppression {
        Suppression {
            id: id.into(),
            file: Some("src/db.go".into()),
            title: "SQL \"injection\"\nsecond line".into(),
            reason: reason.into(),
            date: "2026-12-01".into(),
        }
    }

    #[test]
    fn ids_have_one_shape() {
        for ok in ["Q0123abcd", "Q0123abcd-2", "Qffffffff-17"] {
            assert!(is_issue_id(ok), "{ok}");
        }
        for bad in [
            "",
            "Q",
            "Q0123abc",
            "Q0123abcde",
            "q0123abcd",
            "Q0123ABCD",
            "Q0123abcd-",
            "Q0123abcd-x",
            "X0123abcd",
        ] {
            assert!(!is_issue_id(bad), "{bad}");
        }
    }

    #[test]
    fn an_addition_keeps_comments_and_entries_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DECISIONS_DIR).join(SUPPRESSIONS_FILE);
        let mut s = Suppressions::load_file(path.clone()).unwrap();
        assert!(s.entries.is_empty());
        s.add(entry("Q0123abcd", "constant input")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}# our own note\n")).unwrap();
        let mut s = Suppressions::load_file(path.clone()).unwrap();
        s.add(entry("Qffffffff-2", "test code")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# Issues Quorum reported") && text.contains("# our own note\n"),
            "{text}"
        );
        let back = Suppressions::load_file(path).unwrap();
        assert_eq!(
            back.entries,
            vec![entry("Q0123abcd", "constant input"), entry("Qffffffff-2", "test code")]
        );
        let err = format!("{:#}", s.clone().add(entry("Q0123abcd", "again")).unwrap_err());
        assert!(err.contains("already suppressed"), "{err}");
        let err = format!("{:#}", s.add(entry("Q01234567", "  ")).unwrap_err());
        assert!(err.contains("no reason"), "{err}");
    }

    #[test]
    fn a_malformed_file_names_its_line() {
        let path = Path::new(".quorum/suppressions.toml");
        let cases = [
            ("[[suppression]]\nid = \"Q0123abcd\"\nreason = \"ok\"\n\n[[suppression]]\nid = \"Q0123abcd\"\nreason = \"x\"\n", ":5: Q0123abcd is suppressed twice"),
            ("[[suppression]]\nid = \"Q0123abcd\"\nreason = \"\"\n", ":1: Q0123abcd has no reason"),
            ("\n[[suppression]]\nid = \"not-an-id\"\nreason = \"r\"\n", ":2: \"not-an-id\" is not a Quorum issue id"),
            ("[[suppression]]\nid = \"Q0123abcd\"\nreason = \"r\"\nreasn = \"typo\"\n", ":4: malformed suppressions file"),
            ("[[suppression]]\nid = \"Q0123abcd\"\n", "missing field `reason`"),
            ("[[suppression]\n", ":1: malformed"),
        ];
        for (text, expected) in cases {
            let err = format!("{:#}", parse(text, path).unwrap_err());
            assert!(
                err.contains(expected) && err.contains(".quorum/suppressions.toml"),
                "{expected}: {err}"
            );
        }
    }

    #[test]
    fn an_over_long_file_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SUPPRESSIONS_FILE);
        std::fs::write(&path, "").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(MAX_SUPPRESSIONS_BYTES + 1)
            .unwrap();
        let err = format!("{:#}", Suppressions::load_file(path).unwrap_err());
        assert!(err.contains("larger than 1024 KiB"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn links_are_refused_for_the_file_and_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join(SUPPRESSIONS_FILE);
        std::fs::write(&victim, "[[suppression]]\nid = \"Q0123abcd\"\nreason = \"planted\"\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join(DECISIONS_DIR)).unwrap();
        let linked = dir.path().join(DECISIONS_DIR).join(SUPPRESSIONS_FILE);
        let err = format!("{:#}", Suppressions::load_file(linked).unwrap_err());
        assert!(err.contains("symbolic link"), "{err}");

        let real = tempfile::tempdir().unwrap();
        std::fs::create_dir(real.path().join(DECISIONS_DIR)).unwrap();
        let path = real.path().join(DECISIONS_DIR).join(SUPPRESSIONS_FILE);
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let err = format!("{:#}", Suppressions::load_file(path).unwrap_err());
        assert!(err.contains("symbolic link"), "{err}");
        assert!(std::fs::read_to_string(&victim).unwrap().contains("planted"));
    }
}
