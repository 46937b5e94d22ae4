//! `quorum trust`: record (or forget) a configuration Quorum finds by itself.

use std::path::Path;

use anyhow::Result;

use crate::commands::terminal::print_stdout;
use crate::config::trust;

/// How many hex digits of a content hash to show.
const SHORT_HASH: usize = 12;

/// Prints where `file` sends which key, then records its path and content hash as trusted.
pub fn trust(file: &Path) -> Result<()> {
    let inspected = trust::inspect(file)?;
    print_stdout(&inspected.describe())?;
    trust::record(&inspected)?;
    eprintln!(
        "Trusted {} as it is now (SHA-256 {}); a change to it needs `quorum trust` again.",
        trust::safe_path(&inspected.canonical),
        &inspected.sha256[..SHORT_HASH]
    );
    Ok(())
}

/// `quorum trust --forget`: removes `file` from the trusted configurations.
pub fn forget(file: &Path) -> Result<()> {
    let shown = trust::safe_path(file);
    if trust::forget(file)? {
        eprintln!("{shown} is no longer trusted.");
    } else {
        eprintln!("{shown} was not trusted; nothing to forget.");
    }
    Ok(())
}
