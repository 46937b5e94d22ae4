//! `quorum init`: write the commented example configuration, and trust it.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::config::trust;
use crate::store;

/// Writes the commented example configuration to `path`, and trusts it: the user asked
/// for this file, and Quorum wrote every byte of it.
/// A link at `path` (planted as `quorum.toml`, say) is refused: writing through it
/// would create or overwrite whatever it points at.
pub fn init(path: &Path, force: bool) -> Result<()> {
    write_example(path, force)?;
    trust::record(&trust::inspect(path)?)
        .with_context(|| format!("wrote {}, but could not record it as trusted", path.display()))?;
    eprintln!(
        "Wrote {} and trusted it as written. Edit the providers, then run `quorum review` \
         (if your edits name a key variable or a remote host, run `quorum trust` again).",
        crate::sanitize::terminal_safe(&path.display().to_string())
    );
    Ok(())
}

fn write_example(path: &Path, force: bool) -> Result<()> {
    let shown = trust::safe_path(path);
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => bail!(
            "{shown} is a symbolic link: Quorum does not write through it (it could point anywhere); \
             delete it, or pass another path"
        ),
        Ok(_) if !force => bail!("{shown} already exists: pass --force to overwrite it"),
        _ => {}
    }
    if force {
        // A temp file renamed over the path: the rename replaces a link planted in the
        // meantime instead of following it.
        store::write_atomically(path, crate::config::EXAMPLE_CONFIG.as_bytes())
    } else {
        use std::io::Write;
        // `create_new` fails on anything at the path, a link included.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut file| file.write_all(crate::config::EXAMPLE_CONFIG.as_bytes()))
            .with_context(|| format!("cannot write {shown}"))
    }
}
