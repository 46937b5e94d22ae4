//! The run's index of related code, built at most once and only when first wanted: by
//! the plan for the reviewers with `context = "related"`, else by the judge pass once it
//! has chosen an issue to ask about (a run whose reviewers report nothing never pays for it).

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
            Some(tree) => Index::build(&walk::walk_selected(&tree.root, &tree.settings, &tree.never, None)?.files),
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
