//! How Quorum runs `git`: never through a shell, with nothing of the repository's own
//! configuration able to run a command, and with its output read up to a bound.
//!
//! The repository is part of the code under review (a tarball can ship `.git/config`),
//! so `core.fsmonitor` is off, no optional lock is taken, and the user's environment
//! cannot point git at another repository or add configuration of its own. Nothing git
//! does may reach the network (a repository claiming to be a partial clone would fetch a
//! missing object through its own `core.sshCommand`), no file the configuration names
//! may hang it (a FIFO as `diff.orderFile`), and every call has a time limit. Commands
//! that compare the working tree with a commit also get [`without_filters`].

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_PROXY_COMMAND",
];

/// Variables set on every call: no lazy fetch of a missing object (git 2.44+), and, for
/// older git, no transport allowed at all should one be attempted.
const PINNED_VARS: &[(&str, &str)] = &[
    ("GIT_NO_LAZY_FETCH", "1"),
    ("GIT_ALLOW_PROTOCOL", "none"),
    ("GIT_TERMINAL_PROMPT", "0"),
];

/// The file no order is read from: an `diff.orderFile` of the repository's could be a
/// FIFO (git waits for a writer) or `/dev/zero` (git reads forever). An empty value is
/// an error to git, so an empty file stands in.
#[cfg(unix)]
const NO_ORDER_FILE: &str = "diff.orderFile=/dev/null";
#[cfg(not(unix))]
const NO_ORDER_FILE: &str = "diff.orderFile=NUL";

/// Settings given on the command line, which override the repository's: nothing runs
/// (fsmonitor, ssh, a proxy command), no transport is allowed, no order file is read,
/// and rename detection stays bounded.
const PINNED_CONFIG: &[&str] = &[
    "core.fsmonitor=false",
    "core.sshCommand=false",
    "core.gitProxy=",
    "protocol.allow=never",
    NO_ORDER_FILE,
    RENAME_LIMIT,
];

/// The most files rename detection compares (git's own default): a repository's
/// `diff.renameLimit` of millions would make `git diff` run for hours.
const RENAME_LIMIT: &str = "diff.renameLimit=1000";

/// The longest a git call may take before it is stopped: listing or diffing even a
/// large monorepo takes seconds; a call still running after this is stuck (a FIFO
/// the configuration names, a network file system that does not answer).
pub(crate) const GIT_TIME_LIMIT: Duration = Duration::from_secs(60);
/// The most bytes of git's error output kept, to say why it failed.
const MAX_STDERR_BYTES: u64 = 64 * 1024;
/// How often a finished reader checks whether git has exited.
const EXIT_POLL: Duration = Duration::from_millis(10);

/// `git -C dir …` with the protections above; the caller adds the subcommand. Stdin is
/// empty; stderr is kept (bounded) by [`run`] so callers can say why git failed.
pub(crate) fn command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir);
    for setting in PINNED_CONFIG {
        cmd.args(["-c", setting]);
    }
    cmd.args(["--no-optional-locks", "--no-pager"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in SCRUBBED_VARS {
        cmd.env_remove(var);
    }
    for (var, value) in PINNED_VARS {
        cmd.env(var, value);
    }
    cmd
}

/// What a git command wrote, read up to a bound.
pub(crate) struct Output {
    pub(crate) stdout: Vec<u8>,
    /// Whether the output went past the bound (git was stopped; `stdout` holds the bound).
    pub(crate) truncated: bool,
    pub(crate) status: ExitStatus,
    /// What git wrote on stderr, up to [`MAX_STDERR_BYTES`].
    pub(crate) stderr: Vec<u8>,
}

impl Output {
    /// Whether git ran to its end and said it succeeded.
    pub(crate) fn succeeded(&self) -> bool {
        !self.truncated && self.status.success()
    }
}

/// Runs `cmd`, reading at most `max_bytes` of its output, for at most
/// [`GIT_TIME_LIMIT`]; `Err` when git cannot be started (not installed), its output
/// cannot be read, or it ran out of time (it is then stopped).
pub(crate) fn run(cmd: Command, max_bytes: u64) -> std::io::Result<Output> {
    run_within(cmd, max_bytes, GIT_TIME_LIMIT)
}

/// What a reader thread hands back: the bytes kept and whether there were more.
struct Read {
    bytes: Vec<u8>,
    result: std::io::Result<usize>,
}

/// [`run`] with its time limit given.
fn run_within(mut cmd: Command, max_bytes: u64, limit: Duration) -> std::io::Result<Output> {
    let deadline = Instant::now() + limit;
    let mut child = cmd.spawn()?;
    let stderr = child.stderr.take().map(|err| {
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut err = err;
            let _ = (&mut err).take(MAX_STDERR_BYTES).read_to_end(&mut kept);
            // Drained, not kept: git must not block on a full pipe.
            let _ = std::io::copy(&mut err, &mut std::io::sink());
            kept
        })
    });
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let result = out.take(max_bytes + 1).read_to_end(&mut bytes);
            let _ = tx.send(Read { bytes, result });
        });
    } else {
        let _ = tx.send(Read {
            bytes: Vec::new(),
            result: Ok(0),
        });
    }
    let out_of_time = |child: &mut std::process::Child| {
        let _ = child.kill();
        let _ = child.wait();
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "git took longer than {} s and was stopped; check that the repository's configured files \
                 (order, excludes, attributes) are plain files, or review without git (leave out --since)",
                limit.as_secs()
            ),
        )
    };
    let Ok(Read { mut bytes, result }) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) else {
        return Err(out_of_time(&mut child));
    };
    let truncated = bytes.len() as u64 > max_bytes;
    if truncated {
        // Git is still writing: stop it rather than wait for the rest.
        let _ = child.kill();
        bytes.truncate(max_bytes as usize);
    }
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            return Err(out_of_time(&mut child));
        }
        std::thread::sleep(EXIT_POLL);
    };
    result?;
    let stderr = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    Ok(Output {
        stdout: bytes,
        truncated,
        status,
        stderr,
    })
}

/// The most bytes of a top level's path read from git.
const MAX_PATH_BYTES: u64 = 64 * 1024;

/// Where the git work tree a folder is in has its top level.
pub(crate) enum TopLevel {
    /// At this folder, which contains the one asked about.
    #[allow(dead_code)] // read by tests; callers need only where it is
    At(PathBuf),
    /// At a folder that does not contain the one asked about: the repository's
    /// `core.worktree` (part of the code under review) moved it elsewhere.
    Elsewhere(PathBuf),
    /// Not in a work tree, or git failed; why, in git's words.
    None(String),
    /// Git could not be run (not installed) or ran out of time.
    Failed(std::io::Error),
}

/// The top level of the work tree `dir` is in, checked to contain `dir` (canonical
/// paths compared), so a shipped `core.worktree` cannot send Quorum's reads and
/// writes out of the folder under review.
pub(crate) fn toplevel(dir: &Path) -> TopLevel {
    let mut ask = command(dir);
    ask.args(["rev-parse", "--show-toplevel"]);
    let out = match run(ask, MAX_PATH_BYTES) {
        Ok(out) => out,
        Err(err) => return TopLevel::Failed(err),
    };
    let line = out.stdout.strip_suffix(b"\n").unwrap_or(&out.stdout);
    let top = match path_from_bytes(line) {
        Some(top) if out.succeeded() => top,
        _ => return TopLevel::None(String::from_utf8_lossy(&out.stderr).trim().to_string()),
    };
    let contains = match (top.canonicalize(), dir.canonicalize()) {
        (Ok(top), Ok(dir)) => dir.starts_with(top),
        _ => false,
    };
    match contains {
        true => TopLevel::At(top),
        false => TopLevel::Elsewhere(top),
    }
}

/// What to tell the user when git refused a repository for a reason they can fix:
/// `safe.directory` (the repository belongs to another user). `None` otherwise.
pub(crate) fn refusal_hint(stderr: &str, dir: &Path) -> Option<String> {
    stderr.contains("dubious ownership").then(|| {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        format!(
            "git refuses to work in it because the repository belongs to another user (\"dubious ownership\"); \
             if you trust it, run `git config --global --add safe.directory {}`",
            crate::sanitize::terminal_safe(&dir.display().to_string())
        )
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

#[cfg(test)]
mod tests;
