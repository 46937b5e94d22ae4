//! What one file says about its names, however it was read (a grammar or the lexical
//! fallback): what it defines, the names it uses, the fields it sets. Read as text
//! (`N = String`); the index keeps each name as a number into its table of names.

use super::lang::DefKind;

/// A definition: a function, method or type, with its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition<N = String> {
    pub name: N,
    pub kind: DefKind,
    /// 1-based, inclusive: the whole definition.
    pub start_line: u32,
    pub end_line: u32,
}

/// A name used somewhere (called or only named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference<N = String> {
    pub name: N,
    pub line: u32,
    /// Called there (`name(…)`, `a.name(…)`), rather than only named.
    pub call: bool,
}

/// A member assigned: `x.name = …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSet<N = String> {
    pub name: N,
    pub line: u32,
}

/// Everything the index keeps of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts<N = String> {
    /// In the order they start; nested ones after the one enclosing them.
    pub defs: Vec<Definition<N>>,
    pub refs: Vec<Reference<N>>,
    /// Members read (`x.name` not called), for "where is this field set".
    pub reads: Vec<Reference<N>>,
    pub sets: Vec<FieldSet<N>>,
    /// Whether a grammar read the file (else the lexical fallback did).
    pub parsed: bool,
}

impl<N> Default for FileFacts<N> {
    fn default() -> Self {
        FileFacts {
            defs: Vec::new(),
            refs: Vec::new(),
            reads: Vec::new(),
            sets: Vec::new(),
            parsed: false,
        }
    }
}

impl<N> FileFacts<N> {
    /// The innermost function whose lines hold `line`, as an index into `defs`.
    pub fn enclosing_function(&self, line: u32) -> Option<usize> {
        self.defs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.kind == DefKind::Function && d.start_line <= line && line <= d.end_line)
            .min_by_key(|(_, d)| d.end_line - d.start_line)
            .map(|(i, _)| i)
    }
}

/// Whether a name is worth looking up: long enough to mean something.
pub fn meaningful(name: &str) -> bool {
    name.chars().count() >= MIN_NAME_CHARS && name.chars().count() <= MAX_NAME_CHARS
}

/// Names of one or two characters (`i`, `db`, `ok`) are too common to point at one
/// definition; longer than this is not an identifier a person wrote.
const MIN_NAME_CHARS: usize = 3;
const MAX_NAME_CHARS: usize = 100;
