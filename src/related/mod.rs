//! Related code: for a region of one file, the code elsewhere in the tree that decides
//! whether what the region does is safe (the definitions of the names it uses, its
//! callers, where the fields it reads are set). Reviewers with room get it beside their
//! file (`context = "related"`), and the judge gets it with each issue it checks.
//!
//! This module holds only the contract the stages share; the index that answers it
//! is built once per run from the reviewed files.

mod facts;
mod index;
mod lang;
mod lexical;
mod lookup;
#[cfg(test)]
mod lookup_tests;
mod redacted;
mod syntax;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use facts::{Definition, FieldSet, FileFacts, Reference};
pub use index::{read_file, Index, IndexStats};
pub use lang::DefKind;
pub use lookup::excerpt_tokens;
pub use redacted::RedactedIndex;

/// A piece of code with where it came from, as a prompt shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeExcerpt {
    /// The file, relative to the review root, `/`-separated.
    pub path: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    /// 1-based, inclusive.
    pub end_line: u32,
    /// The lines themselves, untrusted: prompts fence them, reports escape them.
    pub text: String,
    /// Why this piece is related, in a few words ("definition of `check_auth`",
    /// "caller of `export`"): shown to the model before the code.
    pub why: String,
}

/// A region of one reviewed file: the lines an issue or a file part covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region<'a> {
    pub path: &'a str,
    pub start_line: u32,
    pub end_line: u32,
}

/// Whatever can answer "what code elsewhere bears on this region", nearest first, cut
/// to roughly `budget_tokens` (estimated as the chunker estimates them).
pub trait RelatedCode {
    fn related(&self, region: Region<'_>, budget_tokens: u64) -> Vec<CodeExcerpt>;
}

/// A shared index (the one a review builds once) answers as the index itself: reviewers
/// and the judge hold it behind an `Arc`.
impl<T: RelatedCode + ?Sized> RelatedCode for std::sync::Arc<T> {
    fn related(&self, region: Region<'_>, budget_tokens: u64) -> Vec<CodeExcerpt> {
        (**self).related(region, budget_tokens)
    }
}

/// `context = "none"`: a reviewer or judge that gets no related code.
pub struct NoRelatedCode;

impl RelatedCode for NoRelatedCode {
    fn related(&self, _region: Region<'_>, _budget_tokens: u64) -> Vec<CodeExcerpt> {
        Vec::new()
    }
}

/// An excerpt as a prompt shows it: a heading naming `shown_path` (the path as the
/// prompt may write it), its lines and why it is related, then its lines numbered.
pub fn render(e: &CodeExcerpt, shown_path: &str) -> String {
    let width = e.end_line.to_string().len();
    let mut out = format!("{shown_path} lines {}-{} ({}):\n", e.start_line, e.end_line, e.why);
    for (n, line) in (e.start_line..).zip(e.text.lines()) {
        out.push_str(&format!("{n:>width$}| {line}\n"));
    }
    out
}
