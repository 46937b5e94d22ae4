//! The run's index of related code, built at most once and only when first wanted: by
//! the plan for the reviewers with `context = "related"`, else by the judge pass once it
//! has chosen an issue to ask about (a run whose reviewers report nothing never pays for it).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::Result;

use crate::config::ReviewSettings;
use crate::input::walk::{self, SourceFile};
use crate::related::Index;

/// What to index when the reviewed files are only part of the tree: the whole tree
/// under the root, walked by the same rules (the middleware that makes a changed
/// handler safe usually did not change).
struct WholeTree {
    root: PathBuf,
    settings: ReviewSettings,
    never: Vec<PathBuf>,
}

/// The index, once built.
pub(super) struct RunIndex {
    built: OnceLock<Arc<Index>>,
    /// `None`: the reviewed files are the whole tree.
    whole_tree: Option<WholeTree>,
    quiet: bool,
}

impl RunIndex {
    /// Nothing is read until [`RunIndex::get`]. With `partial`, the review covers only
    /// part of the tree under `root`, which is then walked again to index it whole.
    pub fn new(root: PathBuf, settings: ReviewSettings, never: &[PathBuf], partial: bool, quiet: bool) -> Self {
        let whole_tree = partial.then(|| WholeTree {
            root,
            settings,
            never: never.to_vec(),
        });
        RunIndex {
            built: OnceLock::new(),
            whole_tree,
            quiet,
        }
    }

    /// The index, built now if it was not (saying how long it took unless quiet).
    pub fn get(&self, reviewed: &[SourceFile]) -> Result<Arc<Index>> {
        if let Some(index) = self.built.get() {
            return Ok(index.clone());
        }
        let started = std::time::Instant::now();
        let index = Arc::new(match &self.whole_tree {
            Some(tree) => {
                let walked = walk::walk_selected(&tree.root, &tree.settings, &tree.never, None)?.files;
                Index::build(&as_reviewed(walked, reviewed))
            }
            None => Index::build(reviewed),
        });
        if !self.quiet {
            let stats = index.stats();
            eprintln!(
                "related code: indexed {} files ({} with a grammar, the rest lexically) in {} ms",
                stats.files,
                stats.parsed,
                started.elapsed().as_millis()
            );
        }
        Ok(self.built.get_or_init(|| index).clone())
    }
}

/// The tree as walked now, with each reviewed file as it was reviewed: the judge pass may
/// walk it long after the review read its files, and its regions are lines of what was
/// reviewed (a file edited or deleted since would otherwise show other lines, or none).
/// In path order, as the walk gives them.
fn as_reviewed(mut walked: Vec<SourceFile>, reviewed: &[SourceFile]) -> Vec<SourceFile> {
    let by_path: HashMap<&str, &SourceFile> = reviewed.iter().map(|f| (f.path.as_str(), f)).collect();
    walked.retain(|f| !by_path.contains_key(f.path.as_str()));
    walked.extend(reviewed.iter().cloned());
    walked.sort_by(|a, b| a.path.cmp(&b.path));
    walked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile::new(path, text)
    }

    #[test]
    fn the_whole_tree_holds_the_reviewed_files_as_they_were_reviewed() {
        // a.go was edited and c.go deleted after the review read them; b.go is unreviewed.
        let walked = vec![file("a.go", "edited since\n"), file("b.go", "middleware\n")];
        let reviewed = [file("c.go", "deleted since\n"), file("a.go", "as reviewed\n")];
        let files = as_reviewed(walked, &reviewed);
        let seen: Vec<(&str, &str)> = files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
        assert_eq!(
            seen,
            [
                ("a.go", "as reviewed\n"),
                ("b.go", "middleware\n"),
                ("c.go", "deleted since\n")
            ]
        );
    }
}
