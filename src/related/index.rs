//! The index of a run: every reviewed file's definitions, names and field assignments,
//! built once from the walk's files, with maps from each name to where it is defined,
//! used and set.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;

use super::facts::{meaningful, FileFacts};
use super::{lang, lexical, syntax};
use crate::input::walk::SourceFile;

/// Where one fact is: the file (index into `Index::files`) and the fact's index in that
/// file's list of definitions, references or sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Loc {
    pub file: u32,
    pub item: u32,
}

/// One reviewed file as the index keeps it.
pub(super) struct IndexedFile {
    pub path: String,
    pub text: String,
    /// Byte offset where each line starts.
    pub line_starts: Vec<usize>,
    pub facts: FileFacts,
}

impl IndexedFile {
    pub fn line_count(&self) -> u32 {
        self.line_starts.len() as u32
    }

    /// Lines `start..=end` (1-based, clamped to the file), each without its line break.
    pub fn lines(&self, start: u32, end: u32) -> impl Iterator<Item = &str> {
        let end = end.min(self.line_count());
        (start.max(1)..=end).map(move |n| {
            let from = self.line_starts[(n - 1) as usize];
            let to = self.line_starts.get(n as usize).copied().unwrap_or(self.text.len());
            self.text[from..to].trim_end_matches(['\n', '\r'])
        })
    }
}

/// The identifiers of the reviewed tree (see the module's documentation).
#[derive(Default)]
pub struct Index {
    pub(super) files: Vec<IndexedFile>,
    pub(super) by_path: HashMap<String, u32>,
    pub(super) defs: HashMap<String, Vec<Loc>>,
    pub(super) refs: HashMap<String, Vec<Loc>>,
    pub(super) sets: HashMap<String, Vec<Loc>>,
    /// Places looked at by the lookups so far (each bounded per name: see
    /// `lookup::MAX_CANDIDATES_PER_NAME`).
    pub(super) examined: AtomicUsize,
    /// Lookups of one name's places so far.
    pub(super) lookups: AtomicUsize,
}

/// How many files the index reads with a grammar, and how many lexically.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub files: usize,
    pub parsed: usize,
    pub definitions: usize,
    pub references: usize,
}

impl Index {
    /// Reads every file (on all cores: each file is read alone) and maps its names.
    /// Files are added in the walk's order (sorted by path), so each name's places are
    /// in file order and a file's neighbours in that order share its folders.
    pub fn build(files: &[SourceFile]) -> Index {
        let facts = read_all(files);
        let mut index = Index::default();
        for (file, facts) in files.iter().zip(facts) {
            index.add(file, facts);
        }
        index
    }

    fn add(&mut self, file: &SourceFile, facts: FileFacts) {
        let id = self.files.len() as u32;
        let at = |item: usize| Loc {
            file: id,
            item: item as u32,
        };
        for (i, d) in facts.defs.iter().enumerate().filter(|(_, d)| meaningful(&d.name)) {
            self.defs.entry(d.name.clone()).or_default().push(at(i));
        }
        for (i, r) in facts.refs.iter().enumerate().filter(|(_, r)| meaningful(&r.name)) {
            self.refs.entry(r.name.clone()).or_default().push(at(i));
        }
        for (i, s) in facts.sets.iter().enumerate().filter(|(_, s)| meaningful(&s.name)) {
            self.sets.entry(s.name.clone()).or_default().push(at(i));
        }
        self.by_path.insert(file.path.clone(), id);
        let line_starts = std::iter::once(0)
            .chain(file.text.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&i| i < file.text.len() || file.text.is_empty())
            .collect();
        self.files.push(IndexedFile {
            path: file.path.clone(),
            text: file.text.clone(),
            line_starts,
            facts,
        });
    }

    pub fn stats(&self) -> IndexStats {
        IndexStats {
            files: self.files.len(),
            parsed: self.files.iter().filter(|f| f.facts.parsed).count(),
            definitions: self.files.iter().map(|f| f.facts.defs.len()).sum(),
            references: self.files.iter().map(|f| f.facts.refs.len()).sum(),
        }
    }

    pub(super) fn file(&self, path: &str) -> Option<(u32, &IndexedFile)> {
        let id = *self.by_path.get(path)?;
        Some((id, &self.files[id as usize]))
    }
}

/// The facts of one file: by its grammar when it has one and it parses in time, else
/// lexically.
pub fn read_file(path: &str, text: &str) -> FileFacts {
    lang::for_path(path)
        .and_then(|spec| syntax::read(spec, text))
        .unwrap_or_else(|| lexical::read(text))
}

/// Reads the files in parallel, keeping their order.
fn read_all(files: &[SourceFile]) -> Vec<FileFacts> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = files.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(per_thread)
            .map(|chunk| {
                let handle = scope.spawn(move || chunk.iter().map(|f| read_file(&f.path, &f.text)).collect::<Vec<_>>());
                (chunk.len(), handle)
            })
            .collect();
        // A reader that failed leaves its files without facts rather than shifting the
        // facts of the others onto the wrong files.
        handles
            .into_iter()
            .flat_map(|(len, h)| h.join().unwrap_or_else(|_| vec![FileFacts::default(); len]))
            .collect()
    })
}
