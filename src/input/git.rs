//! How Quorum runs `git`: never through a shell, with nothing of the repository's own
//! configuration able to run a command, and with its output read up to a bound.
//!
//! The repository is part of the code under review (a tarball can ship `.git/config`),
//! so `core.fsmonitor` is off, no optional lock is taken, and the user's environment
//! cannot point git at another repository or add configuration of its own. Commands
//! that compare the working tree with a commit also get [`without_filters`].

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// Variables of the user's environment that would point git at another repository or
/// index, or add configuration this module did not choose.
const SCRUBBED_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_EXTERNAL_DIFF",
    "GIT_DIFF_OPTS",
    "GIT_PAGER",
    "GIT_ATTR_SOURCE",
];

/// `git -C dir …` with the protections above; the caller adds the subcommand. Stdin is
/// empty and stderr discarded: callers say what failed in their own words.
pub(crate) fn command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(["-c", "core.fsmonitor=false", "--no-optional-locks"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for var in SCRUBBED_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// What a git command wrote, read up to a bound.
pub(crate) struct Output {
    pub(crate) stdout: Vec<u8>,
    /// Whether the output went past the bound (git was stopped; `stdout` holds the bound).
    pub(crate) truncated: bool,
    pub(crate) status: ExitStatus,
}

impl Output {
    /// Whether git ran to its end and said it succeeded.
    pub(crate) fn succeeded(&self) -> bool {
        !self.truncated && self.status.success()
    }
}

/// Runs `cmd`, reading at most `max_bytes` of its output; `Err` when git cannot be
/// started (not installed) or its output cannot be read.
pub(crate) fn run(mut cmd: Command, max_bytes: u64) -> std::io::Result<Output> {
    let mut child = cmd.spawn()?;
    let mut stdout = Vec::new();
    let read = match child.stdout.take() {
        Some(out) => out.take(max_bytes + 1).read_to_end(&mut stdout),
        None => Ok(0),
    };
    let truncated = stdout.len() as u64 > max_bytes;
    if truncated {
        // Git is still writing: stop it rather than wait for the rest.
        let _ = child.kill();
        stdout.truncate(max_bytes as usize);
    }
    let status = child.wait()?;
    read?;
    Ok(Output {
        stdout,
        truncated,
        status,
    })
}

/// The most filter drivers neutralised; a configuration defining more is refused.
const MAX_FILTER_DRIVERS: usize = 64;
/// The most bytes of `git config --get-regexp ^filter\.` read.
const MAX_FILTER_CONFIG_BYTES: u64 = 1024 * 1024;

/// Makes `cmd` run no filter driver. Comparing the working tree with a commit makes git
/// run the `clean` filter that `.gitattributes` names and the configuration defines: a
/// shipped `.git/config` could define one that runs anything. Every driver the
/// configuration defines (`filter.NAME.*`) gets an empty `clean`, `smudge` and `process`
/// through `GIT_CONFIG_KEY_n` (names are passed apart from values, so no name can smuggle
/// a setting), which git reads as "no filter". `None` when the drivers cannot be listed.
pub(crate) fn without_filters(dir: &Path, cmd: &mut Command) -> Option<()> {
    let mut list = command(dir);
    list.args(["config", "-z", "--name-only", "--get-regexp", r"^filter\."]);
    let listed = run(list, MAX_FILTER_CONFIG_BYTES).ok()?;
    // Exit 1: no such key, so no driver.
    if listed.truncated || !(listed.status.success() || listed.status.code() == Some(1)) {
        return None;
    }
    let mut drivers: Vec<&[u8]> = listed
        .stdout
        .split(|&b| b == 0)
        .filter_map(|key| key.strip_prefix(b"filter."))
        .filter_map(|rest| rest.iter().rposition(|&b| b == b'.').map(|dot| &rest[..dot]))
        .collect();
    drivers.sort();
    drivers.dedup();
    if drivers.len() > MAX_FILTER_DRIVERS {
        return None;
    }
    let mut n = 0;
    for driver in drivers {
        // A name that is not UTF-8 could not be named back exactly: refuse rather than miss it.
        let name = std::str::from_utf8(driver).ok()?;
        for key in ["clean", "smudge", "process"] {
            cmd.env(format!("GIT_CONFIG_KEY_{n}"), format!("filter.{name}.{key}"))
                .env(format!("GIT_CONFIG_VALUE_{n}"), "");
            n += 1;
        }
    }
    cmd.env("GIT_CONFIG_COUNT", n.to_string());
    Some(())
}

/// A path as git writes it with `-z`: the name's bytes on Unix, UTF-8 elsewhere.
pub(crate) fn path_from_bytes(bytes: &[u8]) -> Option<PathBuf> {
    if bytes.is_empty() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes).ok().map(PathBuf::from)
    }
}
