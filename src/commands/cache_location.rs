//! Which answer cache a review reads and writes, and what the user is told about it.

use std::path::{Path, PathBuf};

use crate::commands::paths::{is_inside, review_tree, same_place};
use crate::config::Config;

/// Where answers are cached this run, and what the user should be told about it.
pub(crate) struct CacheLocation {
    /// `None` when the user has no cache folder (no home): answers are not cached.
    pub(crate) dir: Option<PathBuf>,
    /// Why a configured `cache_dir` was not used.
    pub(crate) ignored: Option<String>,
    /// In-tree caches of earlier versions, no longer read.
    pub(crate) stale: Vec<PathBuf>,
}

impl CacheLocation {
    pub(crate) fn tell(&self, quiet: bool) {
        // Always said: a setting of the user's is not being followed.
        if let Some(why) = &self.ignored {
            eprintln!("note: {why}");
        }
        if quiet {
            return;
        }
        let now = self.dir.as_ref().map_or_else(
            || "nowhere (no user cache folder is known)".to_string(),
            |d| d.display().to_string(),
        );
        for old in &self.stale {
            eprintln!(
                "note: {} is no longer read: answers are now cached in {}; delete it",
                crate::sanitize::terminal_safe(&old.display().to_string()),
                crate::sanitize::terminal_safe(&now)
            );
        }
    }
}

/// The cache folder of earlier versions, beside the configuration.
const LEGACY_CACHE_DIR: &str = ".quorum-cache";
/// The answer cache's folder inside the user's cache folder.
const USER_CACHE_SUBDIR: &str = "quorum";

/// Chooses the answer cache: the user's own (`$XDG_CACHE_HOME/quorum`), or a configured
/// `review.cache_dir` (a team's shared cache) unless it lies inside the tree under
/// review, where the code's authors could have prepared its answers.
pub(crate) fn locate_cache(config: &Config, root: &Path) -> CacheLocation {
    let config_dir = config.path.parent().unwrap_or(Path::new("."));
    let tree = review_tree(root);
    let user = dirs::cache_dir().map(|d| d.join(USER_CACHE_SUBDIR));
    let mut ignored = None;
    let dir = match &config.review.cache_dir {
        Some(configured) => {
            let dir = config_dir.join(configured);
            if is_inside(&dir, tree) {
                ignored = Some(format!(
                    "review.cache_dir = {:?} in {} is inside the tree under review ({}), where a cache could hold \
                     answers planted with the code: it is not read; answers are cached in {}",
                    crate::sanitize::terminal_safe(configured),
                    crate::sanitize::terminal_safe(&config.path.display().to_string()),
                    crate::sanitize::terminal_safe(&tree.display().to_string()),
                    user.as_ref()
                        .map_or_else(|| "no folder".to_string(), |d| d.display().to_string()),
                ));
                user
            } else {
                Some(dir)
            }
        }
        None => user,
    };
    let mut stale: Vec<PathBuf> = Vec::new();
    for old in [config_dir.join(LEGACY_CACHE_DIR), tree.join(LEGACY_CACHE_DIR)] {
        let is_chosen = dir.as_ref().is_some_and(|d| same_place(d, &old));
        if old.is_dir() && !is_chosen && !stale.iter().any(|s| same_place(s, &old)) {
            stale.push(old);
        }
    }
    CacheLocation { dir, ignored, stale }
}
