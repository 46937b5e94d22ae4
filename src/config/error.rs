//! Configuration errors, and how each is pointed at the place in the file to fix.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::sanitize::terminal_safe;

/// A configuration error, pointing at the place in the file to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line, when the error belongs to one place in the file.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    /// One line, whatever the file put in the values it quotes: a quoted key or glob
    /// must not print a line of its own on the terminal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = terminal_safe(&self.path.display().to_string());
        let message = terminal_safe(&self.message);
        match self.line {
            Some(line) => write!(f, "{path}:{line}: {message}"),
            None => write!(f, "{path}: {message}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Points errors at a place in the configuration text.
pub(super) struct Locator<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
}

impl Locator<'_> {
    pub(super) fn line(&self, span: Span) -> usize {
        line_of(self.text, span.start)
    }

    pub(super) fn error(&self, span: Span, message: String) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            line: Some(self.line(span)),
            message,
        }
    }
}

pub(super) type Span = std::ops::Range<usize>;

/// Turns a TOML error into one that names the line, keeping toml's own explanation.
pub(super) fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let mut message = plain_types(e.message().trim());
    if message.starts_with("unknown field") {
        message.push_str(" (see `quorum init` or config/quorum.example.toml for every key)");
    }
    if let Some(key) = e.span().and_then(|s| dotted_key_at(text, s.start)) {
        if !message.contains(&key) {
            message = format!("{key}: {message}");
        }
    }
    ConfigError {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message,
    }
}

/// Rust type names in serde's messages, in words a user knows.
fn plain_types(message: &str) -> String {
    [
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected u64", "expected a whole number (0 or more)"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a string", "expected a string in quotes"),
    ]
    .iter()
    .fold(message.to_string(), |m, (from, to)| m.replace(from, to))
}

/// The full dotted name (`providers.gemma.max_concurrency`) of the `key = value` line
/// holding `offset`, from the nearest `[table]` header above it.
fn dotted_key_at(text: &str, offset: usize) -> Option<String> {
    let line_start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let key = line.split_once('=')?.0.trim();
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_string(),
    })
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// 1-based line of the first `key =` assignment, for errors toml gives no span for.
pub(super) fn find_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with(key) && l[key.len()..].trim_start().starts_with('=')
        })
        .map(|i| i + 1)
}
