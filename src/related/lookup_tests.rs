//! The lookup on a tree built to make it slow: every file defines and uses the same names.

use std::sync::atomic::Ordering;

use super::lookup::MAX_CANDIDATES_PER_NAME;
use super::{Index, Region, RelatedCode};
use crate::input::walk::SourceFile;

const FILES: usize = 500;
const NAMES: usize = 150;
const FILES_PER_FOLDER: usize = 20;

/// `dNN/fNNN.js`: functions `name_0` … `name_149`, each calling the next.
fn same_names_file(i: usize) -> SourceFile {
    let text: String = (0..NAMES)
        .map(|k| format!("function name_{k}() {{ return name_{}(); }}\n", (k + 1) % NAMES))
        .collect();
    SourceFile {
        path: format!("d{:02}/f{i:03}.js", i / FILES_PER_FOLDER),
        text,
        content_hash: String::new(),
        changed: None,
    }
}

#[test]
fn a_name_in_every_file_is_looked_up_among_a_bounded_number_of_places_nearest_first() {
    let files: Vec<SourceFile> = (0..FILES).map(same_names_file).collect();
    let index = Index::build(&files);
    let asked = &files[12 * FILES_PER_FOLDER + 3];
    let region = Region {
        path: &asked.path,
        start_line: 1,
        end_line: NAMES as u32,
    };
    let found = index.related(region, 1_000_000);

    let examined = index.examined.load(Ordering::Relaxed);
    let lookups = index.lookups.load(Ordering::Relaxed);
    assert!(lookups > 0);
    assert!(
        examined <= lookups * MAX_CANDIDATES_PER_NAME,
        "{examined} places in {lookups} lookups"
    );
    // Looking at every definition of every name once would be FILES × NAMES places.
    assert!(examined < FILES * NAMES / 2, "{examined} places examined");

    // The definitions shown (the region's own are inside it) are the nearest: in its
    // folder, never one farther away.
    let defs: Vec<&str> = found
        .iter()
        .filter(|e| e.why.starts_with("definition of") && !e.why.contains("used where"))
        .map(|e| e.path.as_str())
        .collect();
    assert!(!defs.is_empty());
    assert!(defs.iter().all(|p| p.starts_with("d12/")), "{defs:?}");
}
