//! The index of a run: every reviewed file's definitions, names and field assignments,
//! built once from the walk's files, with maps from each name to where it is defined,
//! used and set.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;

use super::facts::{meaningful, Definition, FieldSet, FileFacts, Reference};
use super::{lang, lexical, syntax};
use crate::input::walk::SourceFile;

/// Where one fact is: the file (index into `Index::files`) and the fact's index in that
/// file's list of definitions, references or sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Loc {
    pub file: u32,
    pub item: u32,
}

/// A name as the index keeps it: its place in [`Index::names`]. A tree names the same
/// identifiers over and over; each is kept once (a reference is 12 bytes, not a string).
pub(super) type NameId = u32;

/// Files read (on all cores) before their facts are added to the index.
const READ_BATCH_FILES: usize = 256;

/// One reviewed file as the index keeps it: of its uses and sets, only the names worth
/// looking up ([`meaningful`]), which are all the lookups ever read.
pub(super) struct IndexedFile {
    pub path: String,
    pub text: String,
    /// Byte offset where each line starts.
    pub line_starts: Vec<usize>,
    pub facts: FileFacts<NameId>,
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
    /// Every name, once: a [`NameId`] is a place here.
    pub(super) names: Vec<Box<str>>,
    name_ids: HashMap<Box<str>, NameId>,
    pub(super) defs: HashMap<NameId, Vec<Loc>>,
    pub(super) refs: HashMap<NameId, Vec<Loc>>,
    pub(super) sets: HashMap<NameId, Vec<Loc>>,
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
        let mut index = Index::default();
        // In batches: a file's facts as read (a string per name) are many times its
        // size, and only one batch of them is held before its names are numbered.
        for batch in files.chunks(READ_BATCH_FILES) {
            for (file, facts) in batch.iter().zip(read_all(batch)) {
                index.add(file, facts);
            }
        }
        index
    }

    fn add(&mut self, file: &SourceFile, facts: FileFacts) {
        let id = self.files.len() as u32;
        let at = |item: usize| Loc {
            file: id,
            item: item as u32,
        };
        let facts = self.interned(facts);
        for (i, d) in facts.defs.iter().enumerate() {
            if meaningful(self.name(d.name)) {
                self.defs.entry(d.name).or_default().push(at(i));
            }
        }
        for (i, r) in facts.refs.iter().enumerate() {
            self.refs.entry(r.name).or_default().push(at(i));
        }
        for (i, s) in facts.sets.iter().enumerate() {
            self.sets.entry(s.name).or_default().push(at(i));
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

    pub(super) fn name(&self, id: NameId) -> &str {
        &self.names[id as usize]
    }

    /// The number of `name`, given it the first time.
    fn intern(&mut self, name: String) -> NameId {
        if let Some(&id) = self.name_ids.get(name.as_str()) {
            return id;
        }
        let id = self.names.len() as NameId;
        let name: Box<str> = name.into_boxed_str();
        self.names.push(name.clone());
        self.name_ids.insert(name, id);
        id
    }

    /// `facts` with each name a number: every definition (the enclosing function of a
    /// line is looked for among all of them), and the uses, reads and sets whose names
    /// are worth looking up.
    fn interned(&mut self, facts: FileFacts) -> FileFacts<NameId> {
        let FileFacts {
            defs,
            refs,
            reads,
            sets,
            parsed,
        } = facts;
        let mut out = FileFacts {
            parsed,
            ..FileFacts::default()
        };
        out.defs = defs
            .into_iter()
            .map(|d| Definition {
                name: self.intern(d.name),
                kind: d.kind,
                start_line: d.start_line,
                end_line: d.end_line,
            })
            .collect();
        let references = |list: Vec<Reference>, this: &mut Index| -> Vec<Reference<NameId>> {
            list.into_iter()
                .filter(|r| meaningful(&r.name))
                .map(|r| Reference {
                    name: this.intern(r.name),
                    line: r.line,
                    call: r.call,
                })
                .collect()
        };
        out.refs = references(refs, self);
        out.reads = references(reads, self);
        out.sets = sets
            .into_iter()
            .filter(|s| meaningful(&s.name))
            .map(|s| FieldSet {
                name: self.intern(s.name),
                line: s.line,
            })
            .collect();
        out
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
