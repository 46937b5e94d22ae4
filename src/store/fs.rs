//! Reading and writing files in a folder that may have come with the code: never through
//! a symbolic link, a pipe or a device, never into a file with other names, and whole
//! files replaced atomically.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context, Result};

/// Ends the name of a file being written, before it is renamed into place.
pub(super) const TEMP_SUFFIX: &str = ".tmp";
/// How many temp names to try before giving up (others are taken by planted files).
const TEMP_NAME_ATTEMPTS: u32 = 64;

/// Opens `path` for reading only if it is a regular file, never through a symbolic link
/// (one planted in a repository could point at `/dev/zero` or any file), and never
/// blocking on a pipe put there (the open itself does not wait for a writer).
pub fn open_for_reading(path: &Path) -> Result<File> {
    refuse_unusual(path, "read")?;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|err| match refuse_unusual(path, "read") {
        Err(refusal) => refusal,
        Ok(()) => anyhow::Error::new(err).context(format!("cannot open {}", path.display())),
    })?;
    // What was opened, not what the check above saw: a pipe swapped in between is refused.
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!(
            "refusing to read {}: it is not a regular file; delete it and run again",
            path.display()
        );
    }
    Ok(file)
}

/// Creates `path` with `bytes` only if nothing is there yet, never replacing a file
/// (nor writing through a link: `create_new` refuses anything already at `path`).
pub fn create_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = open_no_follow(OpenOptions::new().write(true).create_new(true), path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Opens `path` for appending (creating it), never through a symbolic link: a link
/// planted at `path` is refused, not followed.
pub fn open_append(path: &Path) -> Result<File> {
    refuse_unusual(path, "write")?;
    let file =
        open_no_follow(OpenOptions::new().create(true).append(true), path).map_err(|err| write_error(path, err))?;
    refuse_shared_inode(path, &file)?;
    Ok(file)
}

/// Writes a whole file so that readers see the old or the new contents, never half,
/// and never through a symbolic link: the bytes go to a temp file of a fresh name
/// (created, never opened if it exists), which is then renamed over `path`. A rename
/// replaces a link itself, not its target, so even a link planted after the check below
/// redirects nothing.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    refuse_unusual(path, "write")?;
    replace_with(path, bytes)
}

pub(super) fn replace_with(path: &Path, bytes: &[u8]) -> Result<()> {
    let (tmp, mut file) = create_temp_beside(path)?;
    let written = file
        .write_all(bytes)
        .with_context(|| format!("cannot write {}", tmp.display()))
        .and_then(|()| std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display())));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A new, empty temp file in `path`'s folder, under a name no other file has.
fn create_temp_beside(path: &Path) -> Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let dir = path.parent().unwrap_or(Path::new(""));
    for _ in 0..TEMP_NAME_ATTEMPTS {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}-{n}{TEMP_SUFFIX}", std::process::id()));
        // `create_new` fails on anything already there, a link included: nothing planted
        // under a guessed temp name is ever opened.
        match open_no_follow(OpenOptions::new().write(true).create_new(true), &tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err).with_context(|| format!("cannot create {}", tmp.display())),
        }
    }
    bail!(
        "cannot create a temp file beside {}: {TEMP_NAME_ATTEMPTS} names were taken",
        path.display()
    )
}

/// Opens with `O_NOFOLLOW` where the platform has it, so the open itself refuses a link.
pub(super) fn open_no_follow(options: &mut OpenOptions, path: &Path) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Refuses to `verb` (read or write) `path` when something other than a regular file
/// is there: a symbolic link (planted in a repository, it could point at any file, or at
/// `/dev/zero`), or a pipe or device (it could block forever).
pub(super) fn refuse_unusual(path: &Path, verb: &str) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if meta.file_type().is_symlink() {
        bail!(
            "refusing to {verb} {}: it is a symbolic link, and Quorum never reads or writes its files through a \
             link (one planted in a repository could point anywhere); delete the link and run again",
            path.display()
        );
    }
    if !meta.is_file() {
        bail!(
            "refusing to {verb} {}: it is not a regular file; delete it and run again",
            path.display()
        );
    }
    Ok(())
}

/// Refuses to append to a file that has other names: a hard link planted in the folder
/// would make the appends land in a file elsewhere.
pub(super) fn refuse_shared_inode(path: &Path, file: &File) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let links = file.metadata().map(|m| m.nlink()).unwrap_or(1);
        if links > 1 {
            bail!(
                "refusing to write {}: the file has {links} names (a hard link could make the \
                 writes land in a file elsewhere); delete it and run again",
                path.display()
            );
        }
    }
    let _ = (path, file);
    Ok(())
}

/// The error for a failed open: a link that appeared after the check is named as such.
pub(super) fn write_error(path: &Path, err: std::io::Error) -> anyhow::Error {
    match refuse_unusual(path, "write") {
        Err(refusal) => refusal,
        Ok(()) => anyhow::Error::new(err).context(format!("cannot open {} for writing", path.display())),
    }
}
