//! The part of a root a review is restricted to (several paths, `--files-from`, the
//! files changed `--since` a commit): the walk still starts at the root, so every rule
//! of the walk (ignore files, tracked files, secret files, Quorum's own files) applies
//! to the files selected exactly as to a whole-tree review.

use std::collections::HashSet;

/// Paths relative to the root, as the walk names them (`/` separators); each selects
/// itself and everything below it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    selected: HashSet<String>,
    /// Every folder above a selected path: walked into, but not selected itself.
    above: HashSet<String>,
}

impl Selection {
    pub fn new<I: IntoIterator<Item = String>>(paths: I) -> Selection {
        let mut selection = Selection::default();
        for path in paths {
            let mut parent = path.as_str();
            while let Some((above, _)) = parent.rsplit_once('/') {
                selection.above.insert(above.to_string());
                parent = above;
            }
            selection.selected.insert(path);
        }
        selection
    }

    /// Whether nothing at all is selected.
    pub fn is_empty(&self) -> bool {
        self.selected.is_empty()
    }

    /// The paths selected, sorted.
    pub fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.selected.iter().cloned().collect();
        paths.sort();
        paths
    }

    /// Whether `rel` is selected: it, or a folder above it, was named.
    pub fn covers(&self, rel: &str) -> bool {
        let mut at = rel;
        loop {
            if self.selected.contains(at) {
                return true;
            }
            match at.rsplit_once('/') {
                Some((above, _)) => at = above,
                None => return false,
            }
        }
    }

    /// Whether the walk must enter the folder `rel`: it is selected, or holds a
    /// selected path.
    pub fn enters(&self, rel: &str) -> bool {
        rel.is_empty() || self.above.contains(rel) || self.covers(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_selects_itself_and_what_is_below_it_only() {
        let s = Selection::new(["src/a.rs".to_string(), "docs".to_string()]);
        assert!(s.covers("src/a.rs") && s.covers("docs/x/y.md") && s.covers("docs"));
        assert!(!s.covers("src/b.rs") && !s.covers("src") && !s.covers("docsx/y.md") && !s.covers("src/a.rs2"));
        assert!(s.enters("") && s.enters("src") && s.enters("docs/x"));
        assert!(!s.enters("lib") && !s.enters("src/sub"));
        assert_eq!(s.paths(), ["docs", "src/a.rs"]);
    }
}
