//! Secret files: kept on this machine, never sent to any model, and listed with the
//! reason. A file is a secret by its name (the `review.secret_files` patterns, gitignore
//! syntax, any case), by a folder around the review root (`proj/.aws` reviewed as `.`),
//! or by its content (a private key or a service-account key, whatever it is called).

use std::path::Path;

use anyhow::{Context, Result};
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::{Skipped, Walked};

/// How every secret file's reason begins, so plans and reports can tell them apart.
pub(super) const SECRET_REASON: &str = "secret file: ";

/// What every secret file's reason ends with: what happened and how to change it.
const SECRET_REASON_TAIL: &str = "; not sent to any model; set review.secret_files to change";

/// The `review.secret_files` patterns, compiled: gitignore syntax, matched without
/// regard to case (`ID_RSA`, `Server.PEM` are the same secrets), plus the content check
/// for private keys and service-account keys, whose names may say nothing.
pub(super) struct SecretFiles {
    by_name: Gitignore,
    /// The folder patterns that name no path (`.aws/`, `.ssh/`), for the folders around the
    /// review root: patterns match paths below the root, so reviewing `proj/.aws` itself
    /// would otherwise find nothing secret in `config`.
    folders: Gitignore,
    /// The folder pattern an ancestor of the review root matched, if one did: then every
    /// file is a secret.
    enclosing: Option<String>,
    /// `secret_files = []` sends everything, service-account keys included.
    pub(super) by_content: bool,
}

/// Why a file is a secret, if it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SecretVerdict {
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
    pub(super) fn around(mut self, root: &Path) -> SecretFiles {
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
    pub(super) fn by_name(&self, rel: &Path) -> SecretVerdict {
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

/// The walk's secret-file rule for a file some other list names (`aggregate` reading
/// again the files a `run.json` lists, which may come from anywhere): the same patterns,
/// folders around the root and content checks as [`skip_secret_by_name`] and
/// `rules::read_candidate` apply, so a file the walk would keep home is never read back.
pub(crate) struct SecretRule {
    files: SecretFiles,
}

impl SecretRule {
    /// `patterns` as `review.secret_files`; `root` the review root.
    pub(crate) fn new(patterns: &[String], root: &Path) -> Result<SecretRule> {
        Ok(SecretRule {
            files: SecretFiles::new(patterns)?.around(root),
        })
    }

    /// Whether the file at `rel` (relative to the root) is a secret by its name: to ask
    /// before reading it.
    pub(crate) fn by_name(&self, rel: &Path) -> bool {
        matches!(
            self.files.by_name(rel),
            SecretVerdict::Pattern(_) | SecretVerdict::Enclosed(_)
        )
    }

    /// Whether `text`, the content of the file at `rel`, is a private key or a
    /// service-account key the walk would keep home.
    pub(crate) fn by_content(&self, rel: &Path, text: &str) -> bool {
        let checks = self.files.by_content && self.files.by_name(rel) != SecretVerdict::Allowed;
        checks && (is_service_account_key(text) || private_key_kind(text).is_some())
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
pub(crate) fn check_secret_pattern(pattern: &str) -> std::result::Result<(), String> {
    let mut builder = secret_builder();
    match builder.add_line(None, pattern) {
        Ok(_) => Ok(()),
        Err(ignore::Error::Glob { err, .. }) => Err(err),
        Err(other) => Err(other.to_string()),
    }
}

pub(super) fn secret_reason(why: &str) -> String {
    format!("{SECRET_REASON}{why}{SECRET_REASON_TAIL}")
}

/// Records the file at `rel` (real path, relative to the root; shown as `name`) as a
/// secret when a `secret_files` pattern names it, before anything of it is read (a
/// symlink or pipe named `id_rsa` is a secret too); returns whether it was.
pub(super) fn skip_secret_by_name(rel: &Path, name: &str, secrets: &SecretFiles, walked: &mut Walked) -> bool {
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
pub(super) fn private_key_kind(text: &str) -> Option<&'static str> {
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
pub(super) fn is_service_account_key(text: &str) -> bool {
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
