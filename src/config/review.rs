//! The `[review]` table: which files are reviewed, which are kept home as secrets.

use std::path::Path;

use serde::Deserialize;

use super::error::{find_line, ConfigError};

/// `review.max_file_bytes` when the file does not set it (the value
/// `config/quorum.example.toml` shows); larger files are skipped and listed.
const DEFAULT_MAX_FILE_BYTES: u64 = 200_000;

/// Which files to review.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewSettings {
    /// Globs (relative to the review root) a file must match to be reviewed.
    pub include: Vec<String>,
    /// Globs that remove files again, after `.gitignore` rules.
    pub exclude: Vec<String>,
    /// Files larger than this are skipped with a reason.
    pub max_file_bytes: u64,
    /// Where answers are cached (absolute, or relative to the configuration file);
    /// by default the user's cache folder. Ignored when inside the tree under review.
    pub cache_dir: Option<String>,
    /// Files never sent to any model (gitignore syntax, `!` to exempt), listed in the
    /// plan and the report. Replaces [`DEFAULT_SECRET_FILES`]; `[]` sends everything.
    pub secret_files: Vec<String>,
}

/// The files kept home unless `review.secret_files` says otherwise: environment files,
/// private keys and keystores, cloud and package-registry credentials. Gitignore syntax,
/// matched without regard to case: a name without `/` matches at any depth, a trailing
/// `/` a whole folder (also when the review root is inside it). Private keys and
/// service-account keys are recognised by their content as well.
///
/// The `!.env.example`-style exemptions come last (the last matching pattern wins):
/// those files are committed on purpose, as templates with placeholder values, and show
/// which settings the code reads, so they are worth reviewing.
pub const DEFAULT_SECRET_FILES: &[&str] = &[
    ".env*",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".aws/",
    ".ssh/",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".pgpass",
    ".htpasswd",
    ".git-credentials",
    "*credentials*",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "*.p8",
    ".kube/",
    "**/.docker/config.json",
    "*.tfstate",
    "*.tfstate.*",
    // Tool credentials and secret stores that carry no telling extension.
    ".vault-token",
    ".s3cfg",
    ".boto",
    ".dockercfg",
    "secrets.yml",
    "secrets.yaml",
    "secrets.json",
    "*.tfvars",
    "kubeconfig",
    "!.env.example",
    "!.env.sample",
    "!.env.template",
    "!.env.dist",
];

impl Default for ReviewSettings {
    fn default() -> Self {
        ReviewSettings {
            include: vec!["**/*".to_string()],
            exclude: Vec::new(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            cache_dir: None,
            secret_files: DEFAULT_SECRET_FILES.iter().map(|p| p.to_string()).collect(),
        }
    }
}

pub(super) fn validate_globs(path: &Path, text: &str, review: &ReviewSettings) -> Result<(), ConfigError> {
    for (key, globs) in [("include", &review.include), ("exclude", &review.exclude)] {
        for glob in globs {
            if let Err(e) = globset::Glob::new(glob) {
                return Err(ConfigError {
                    path: path.to_path_buf(),
                    line: find_line(text, key),
                    message: format!("review.{key}: {glob:?} is not a valid glob: {}", e.kind()),
                });
            }
        }
    }
    for pattern in &review.secret_files {
        if let Err(e) = crate::input::walk::check_secret_pattern(pattern) {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: find_line(text, "secret_files"),
                message: format!(
                    "review.secret_files: {pattern:?} is not a valid pattern ({:?}); \
                     use gitignore syntax, e.g. \"*.pem\", \".aws/\", \"!.env.example\"",
                    e.to_string()
                ),
            });
        }
    }
    Ok(())
}
