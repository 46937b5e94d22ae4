//! Which configuration file is used: looked for in order, from the user's explicit
//! choice to a file Quorum finds by itself, and how it was chosen (which decides
//! whether it needs trust).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use super::{safe_path, APP_DIR};

/// The environment variable that names the configuration, like `--config`.
pub const CONFIG_ENV: &str = "QUORUM_CONFIG";
/// The configuration file Quorum looks for in the current folder and at the reviewed root.
pub const PROJECT_CONFIG: &str = "quorum.toml";
/// The user's own configuration, in Quorum's folder: always trusted.
const USER_CONFIG: &str = "config.toml";

/// How a configuration file was chosen, which decides whether it needs trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `--config FILE`: the user's explicit choice.
    Flag,
    /// `QUORUM_CONFIG`: the user's explicit choice.
    Env,
    /// The user's own `config.toml` in their config folder.
    User,
    /// Found by itself as `./quorum.toml`.
    CurrentFolder,
    /// Found by itself as `quorum.toml` at the reviewed root.
    ReviewRoot,
    /// Named by the `run.json` of this run folder (`review --resume`); a planted run
    /// folder could name any file, so this is no choice of the user's.
    RunFolder(PathBuf),
}

impl Origin {
    /// The user chose this file (or it is their own): it needs no trust.
    pub(super) fn chosen(&self) -> bool {
        matches!(self, Origin::Flag | Origin::Env | Origin::User)
    }

    pub(super) fn describe(&self) -> String {
        match self {
            Origin::Flag => "you chose it with --config".into(),
            Origin::Env => format!("you chose it with {CONFIG_ENV}"),
            Origin::User => "it is your own configuration".into(),
            Origin::CurrentFolder => "Quorum found it by itself in the current folder".into(),
            Origin::ReviewRoot => "Quorum found it by itself in the folder under review".into(),
            Origin::RunFolder(dir) => format!(
                "it is named by the run folder {} (run.json), which anyone could have written",
                safe_path(dir)
            ),
        }
    }
}

/// Where to look for the configuration, in order: `--config`, `QUORUM_CONFIG`, the file
/// a resumed run recorded, `./quorum.toml`, `quorum.toml` at the reviewed root, the
/// user's own `config.toml`.
#[derive(Debug, Default, Clone)]
pub struct Search<'a> {
    pub flag: Option<&'a Path>,
    /// For `--resume`: the configuration the run recorded, and the run folder.
    pub recorded: Option<(&'a Path, &'a Path)>,
    /// For `review`: the folder (or file) under review.
    pub review_root: Option<&'a Path>,
}

/// A configuration file and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub path: PathBuf,
    pub origin: Origin,
}

/// Finds the configuration file to use, without reading it.
pub fn locate(search: &Search) -> Result<Located> {
    let at = |path: &Path, origin: Origin| Located {
        path: path.to_path_buf(),
        origin,
    };
    if let Some(path) = search.flag {
        return Ok(at(path, Origin::Flag));
    }
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty()) {
        return Ok(at(Path::new(&path), Origin::Env));
    }
    if let Some((path, run_dir)) = search.recorded {
        return Ok(at(path, Origin::RunFolder(run_dir.to_path_buf())));
    }
    let here = Path::new(PROJECT_CONFIG);
    if here.is_file() {
        return Ok(at(here, Origin::CurrentFolder));
    }
    let at_root = search.review_root.map(|root| {
        let folder = if root.is_file() {
            root.parent().unwrap_or(Path::new("."))
        } else {
            root
        };
        folder.join(PROJECT_CONFIG)
    });
    if let Some(path) = at_root.as_deref().filter(|p| p.is_file()) {
        return Ok(at(path, Origin::ReviewRoot));
    }
    if let Some(path) = user_config().filter(|p| p.is_file()) {
        return Ok(at(&path, Origin::User));
    }
    let mut looked = vec![format!("./{PROJECT_CONFIG}")];
    looked.extend(at_root.map(|p| safe_path(&p)));
    looked.extend(user_config().map(|p| safe_path(&p)));
    bail!(
        "no configuration found (looked for {}): create one with `quorum init`, or pass --config FILE",
        looked.join(", ")
    )
}

/// The user's own configuration file (`$XDG_CONFIG_HOME/quorum/config.toml`).
pub(crate) fn user_config() -> Option<PathBuf> {
    Some(dirs::config_dir()?.join(APP_DIR).join(USER_CONFIG))
}
