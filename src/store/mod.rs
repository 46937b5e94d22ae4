//! The run store: everything a run learned, on disk the moment it is learned.
//!
//! `responses.jsonl` gets one line per model response (or failure), appended and
//! flushed to the operating system before the job counts as done, so an interrupted
//! run loses nothing it was told. `run.json` describes the run (root, providers, files
//! sent, files skipped). Together they are enough for `quorum aggregate` to rebuild
//! every report without asking any model again. No API key is ever written here.
//!
//! The output folder may come from a repository under review, so nothing in it is
//! trusted: every file Quorum writes goes through [`write_atomically`] or [`open_append`],
//! which never write through a symbolic link (a planted `report.md -> ~/.bashrc` is
//! refused, not followed), and [`OutLock`] keeps two runs from writing into one folder.

pub mod seal;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context, Result};
use providers::{ErrorKind, FinishReason, Usage};
use serde::{Deserialize, Serialize};

use crate::input::walk::Skipped;
use crate::store::seal::RunMac;

pub const RESPONSES_FILE: &str = "responses.jsonl";
pub const RUN_FILE: &str = "run.json";
/// Held locked by the run writing into the folder.
pub const LOCK_FILE: &str = ".lock";
/// Where a new review keeps the one earlier run it replaces.
pub const PREVIOUS_DIR: &str = "previous";

/// Ends the name of a file being written, before it is renamed into place.
const TEMP_SUFFIX: &str = ".tmp";
/// How many temp names to try before giving up (others are taken by planted files).
const TEMP_NAME_ATTEMPTS: u32 = 64;
/// The longest run id accepted from `run.json` (Quorum writes 12 characters).
const MAX_RUN_ID_LEN: usize = 64;
/// The largest `run.json` read: it lists the files of a run (a path and a hash each), so
/// even a huge tree stays far below this; anything larger was not written by Quorum.
pub const MAX_RUN_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The longest line of `responses.jsonl` (or the answer cache) read. An answer is capped
/// at 4 MiB by default (`max_response_bytes`) and JSON escaping can double it, so a real
/// record stays well below; a longer line is skipped as unreadable, never held whole.
pub const MAX_RECORD_LINE_BYTES: usize = 32 * 1024 * 1024;
/// The most of `.lock` read for the pid it names.
const MAX_LOCK_TEXT_BYTES: u64 = 64;

/// Whether a request produced an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Error,
    /// Never sent: the provider had been marked down (see the error message).
    Skipped,
    /// Too long for the model (the prompt did not fit, or the answer was cut off at the
    /// output limit): the part was reviewed as the two parts in `split_into` instead.
    Split,
}

/// The lines of a file one request covered, when the file was split to fit a context
/// window. Absent when the request covered the whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LineRange {
    pub start_line: u32,
    pub end_line: u32,
}

/// A failed request, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedError {
    pub kind: ErrorKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub message: String,
}

/// One line of `responses.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseRecord {
    #[serde(default = "one")]
    pub v: u32,
    pub provider: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// The part of the file this request covered; `None` for the whole file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk: Option<LineRange>,
    /// The job's identity (provider, model, answer-changing settings, prompt): two
    /// records with the same key asked the same question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// True when the answer came from the cache of an earlier run (no request was sent,
    /// no tokens were spent this run).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
    pub status: Status,
    /// The answer text, as the model wrote it (reasoning split off).
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub reasoning: Option<String>,
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// The model the server says answered, when it differs from the one configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_model: Option<String>,
    #[serde(default)]
    pub usage: Usage,
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default = "one")]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RecordedError>,
    /// For `split` records: the parts that replaced this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_into: Option<Vec<LineRange>>,
    /// This user's MAC of the record in its run (see `seal::RunMac`), set as the record
    /// is appended: `--resume` takes only records whose MAC verifies as already asked,
    /// since `responses.jsonl` can be replaced by one that comes with the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

impl ResponseRecord {
    /// The bytes a record's MAC covers: its JSON without the MAC. Serialising the same
    /// struct is deterministic, so a record read back gives the bytes it was signed as.
    fn mac_input(&self) -> Result<Vec<u8>> {
        let unsigned = ResponseRecord {
            mac: None,
            ..self.clone()
        };
        Ok(serde_json::to_vec(&unsigned)?)
    }

    /// This record, carrying `run_mac`'s MAC of it.
    pub fn signed(&self, run_mac: &RunMac) -> Result<ResponseRecord> {
        let mac = run_mac.sign(&self.mac_input()?);
        Ok(ResponseRecord {
            mac: Some(mac),
            ..self.clone()
        })
    }

    /// Whether this record carries `run_mac`'s MAC of it: written by this user's Quorum
    /// for this run, and unchanged since.
    pub fn verifies(&self, run_mac: &RunMac) -> bool {
        match (&self.mac, self.mac_input()) {
            (Some(tag), Ok(bytes)) => run_mac.verifies(&bytes, tag),
            _ => false,
        }
    }
}

fn one() -> u32 {
    1
}

/// What `run.json` says about one provider (never its key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderMeta {
    pub name: String,
    pub kind: String,
    pub model: String,
    pub family: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// US dollars per million input tokens, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_input_per_mtok: Option<f64>,
    /// The context window the run planned parts for (so a resumed run splits files the
    /// same way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_output_per_mtok: Option<f64>,
}

/// What `run.json` says about one file that was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMeta {
    pub path: String,
    pub lines: u32,
    pub content_hash: String,
}

/// `run.json`: the run's description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub schema_version: u32,
    pub run_id: String,
    /// The review root as given on the command line.
    pub root: String,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    pub providers: Vec<ProviderMeta>,
    pub files: Vec<FileMeta>,
    pub skipped: Vec<Skipped>,
    /// The configuration file the run used, so `--resume` needs no other argument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// `K/N` when this run reviewed one shard of the files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Why the run stopped before asking everything (interrupted, budget reached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_early: Option<String>,
    /// Quorum's own findings (redacted secrets, prompt injection), found while walking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::checks::CheckFinding>,
    /// Proof that this user's Quorum wrote the run folder (see `seal`): `--resume`
    /// refuses a folder without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

impl RunMeta {
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(RUN_FILE);
        let json = serde_json::to_string_pretty(self)?;
        write_atomically(&path, json.as_bytes())
    }

    /// Reads `dir/run.json`, refusing one Quorum could not have written: its run id and
    /// file paths become paths, so a planted `"../../x"` must not reach the file system.
    pub fn read(dir: &Path) -> Result<RunMeta> {
        let path = dir.join(RUN_FILE);
        let cannot_read = || {
            format!(
                "cannot read {}: is {} the --out folder of a review?",
                path.display(),
                dir.display()
            )
        };
        let file = open_for_reading(&path).with_context(cannot_read)?;
        let mut text = String::new();
        file.take(MAX_RUN_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .with_context(cannot_read)?;
        if text.len() as u64 > MAX_RUN_FILE_BYTES {
            bail!(
                "{} is larger than {} MiB, far more than any run description Quorum writes: not a run folder \
                 Quorum wrote; review into a new --out folder",
                path.display(),
                MAX_RUN_FILE_BYTES / (1024 * 1024)
            );
        }
        let meta: RunMeta = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid run description", path.display()))?;
        meta.check().map_err(|problem| {
            anyhow::anyhow!(
                "{}: {problem}: not a run folder Quorum wrote; review into a new --out folder",
                path.display()
            )
        })?;
        Ok(meta)
    }

    /// What makes this description one Quorum could not have written, if anything.
    fn check(&self) -> std::result::Result<(), String> {
        if !is_valid_run_id(&self.run_id) {
            return Err(format!(
                "run_id {:?} is not 1 to {MAX_RUN_ID_LEN} letters, digits, '-' or '_'",
                self.run_id
            ));
        }
        let times = std::iter::once(self.started_at.as_str()).chain(self.finished_at.as_deref());
        if let Some(bad) = times.into_iter().find(|t| !is_rfc3339(t)) {
            return Err(format!(
                "time {bad:?} is not an RFC 3339 UTC time such as 2026-12-01T08:46:18Z"
            ));
        }
        match self.files.iter().find(|f| !is_plain_relative(&f.path)) {
            Some(f) => Err(format!("file path {:?} leaves the review root", f.path)),
            None => Ok(()),
        }
    }
}

/// Whether `text` is a time as [`now_rfc3339`] writes it (`2026-12-01T08:46:18Z`, or with
/// fractional seconds or an offset): reports print it as it is, so nothing else may pass.
fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    let offset = rest.as_bytes();
    rest == "Z"
        || (offset.len() == 6
            && matches!(offset[0], b'+' | b'-')
            && offset[1..3].iter().all(u8::is_ascii_digit)
            && offset[3] == b':'
            && offset[4..6].iter().all(u8::is_ascii_digit))
}

fn is_valid_run_id(id: &str) -> bool {
    (1..=MAX_RUN_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A path below its base: not absolute, and no `..` or `.` in it.
/// Written one way only (no `//`, no trailing `/`), so one file cannot be listed under
/// many spellings (each of which `aggregate` would read again).
fn is_plain_relative(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|part| !part.is_empty())
        && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)))
}

/// Appends records to `responses.jsonl`, one flushed line each.
pub struct StoreWriter {
    file: File,
    path: PathBuf,
    /// Signs each record appended, when set.
    run_mac: Option<RunMac>,
}

impl StoreWriter {
    pub fn open(dir: &Path) -> Result<StoreWriter> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the output folder {}", dir.display()))?;
        let path = dir.join(RESPONSES_FILE);
        let mut file = open_append(&path)?;
        end_torn_line(&path, &mut file)?;
        Ok(StoreWriter {
            file,
            path,
            run_mac: None,
        })
    }

    /// From now on each record appended carries `run_mac`'s MAC (any MAC it came with,
    /// say from the cache, is replaced).
    pub fn sign_with(&mut self, run_mac: RunMac) {
        self.run_mac = Some(run_mac);
    }

    /// Writes one record as one line and hands it to the operating system, so it
    /// survives the process being killed.
    pub fn append(&mut self, record: &ResponseRecord) -> Result<()> {
        let signed;
        let record = match &self.run_mac {
            Some(run_mac) => {
                signed = record.signed(run_mac)?;
                &signed
            }
            None => record,
        };
        let mut line = serde_json::to_string(record)?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }
}

/// A run killed in the middle of a write leaves a last line without its newline; end it,
/// so the next record starts on a line of its own instead of joining the fragment.
pub fn end_torn_line(path: &Path, file: &mut File) -> Result<()> {
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Ok(());
    }
    let mut last = [0u8; 1];
    let mut reader = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    std::io::Seek::seek(&mut reader, std::io::SeekFrom::End(-1))?;
    std::io::Read::read_exact(&mut reader, &mut last)?;
    if last[0] != b'\n' {
        file.write_all(b"\n")
            .with_context(|| format!("cannot append to {}", path.display()))?;
    }
    Ok(())
}

/// The records of a store, and how many lines could not be read (a run killed in the
/// middle of a write leaves at most one torn last line).
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<ResponseRecord>,
    pub unreadable_lines: Vec<usize>,
}

/// Reads `responses.jsonl` (from a run folder, or the file itself).
pub fn read_records(path: &Path) -> Result<Loaded> {
    let path = if path.is_dir() {
        path.join(RESPONSES_FILE)
    } else {
        path.to_path_buf()
    };
    let file = open_for_reading(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut loaded = Loaded::default();
    for (i, line) in BoundedLines::new(BufReader::new(file), MAX_RECORD_LINE_BYTES).enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        // An over-long line counts as unreadable, like a torn one.
        let parsed = match &line {
            Line::Text(text) if text.trim_ascii().is_empty() => continue,
            Line::Text(text) => serde_json::from_slice(text).ok(),
            Line::TooLong => None,
        };
        match parsed {
            Some(record) => loaded.records.push(record),
            None => loaded.unreadable_lines.push(i + 1),
        }
    }
    Ok(loaded)
}

/// One line of a [`BoundedLines`] reader.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line's bytes, without its `\n`.
    Text(Vec<u8>),
    /// Longer than the cap: skipped without being kept.
    TooLong,
}

/// The lines of a file whose writer is not trusted: a line longer than the cap is
/// reported as [`Line::TooLong`] and skipped, so memory stays bounded by the cap, not by
/// the file (a single 600 MB line must not cost 600 MB).
pub struct BoundedLines<R> {
    reader: R,
    max: usize,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(reader: R, max: usize) -> BoundedLines<R> {
        BoundedLines { reader, max }
    }
}

impl<R: BufRead> Iterator for BoundedLines<R> {
    type Item = std::io::Result<Line>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut buf = Vec::new();
        // One byte over the cap (plus the newline) tells an over-long line from one that
        // fits; a `\r` before the newline is not counted.
        let limit = self.max as u64 + 2;
        match (&mut self.reader).take(limit).read_until(b'\n', &mut buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(err) => return Some(Err(err)),
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        } else if buf.len() as u64 == limit {
            // Cut off by the cap: drop the rest of the line unread into memory.
            return Some(self.reader.skip_until(b'\n').map(|_| Line::TooLong));
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if buf.len() > self.max {
            return Some(Ok(Line::TooLong));
        }
        Some(Ok(Line::Text(buf)))
    }
}

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

fn replace_with(path: &Path, bytes: &[u8]) -> Result<()> {
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
fn open_no_follow(options: &mut OpenOptions, path: &Path) -> std::io::Result<File> {
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
fn refuse_unusual(path: &Path, verb: &str) -> Result<()> {
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
fn refuse_shared_inode(path: &Path, file: &File) -> Result<()> {
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
fn write_error(path: &Path, err: std::io::Error) -> anyhow::Error {
    match refuse_unusual(path, "write") {
        Err(refusal) => refusal,
        Ok(()) => anyhow::Error::new(err).context(format!("cannot open {} for writing", path.display())),
    }
}

/// An exclusive claim on an output folder, held until dropped (or the process ends).
#[derive(Debug)]
pub struct OutLock {
    _file: File,
}

impl OutLock {
    /// Takes `dir/.lock`, or fails at once when another run holds it: two runs writing
    /// into one folder would interleave their answers and overwrite each other's reports.
    pub fn acquire(dir: &Path) -> Result<OutLock> {
        let path = dir.join(LOCK_FILE);
        refuse_unusual(&path, "write")?;
        // Opened without truncating: nothing is written before the checks below pass.
        let mut file = open_no_follow(OpenOptions::new().read(true).write(true).create(true), &path)
            .map_err(|err| write_error(&path, err))?;
        // A hard link planted as `.lock` would have the pid written over another file.
        refuse_shared_inode(&path, &file)?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            bail!(
                "refusing to write {}: it is not a regular file; delete it and run again",
                path.display()
            );
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = (&file)
                    .take(MAX_LOCK_TEXT_BYTES)
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse::<u32>().ok())
                    .map_or_else(String::new, |pid| format!(" (pid {pid}?)"));
                bail!(
                    "another quorum run is writing to {}{holder}: wait for it to finish, or choose another --out",
                    dir.display()
                );
            }
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(err).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        // The pid is a hint for the message above, written once the lock is ours.
        file.set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(OutLock { _file: file })
    }
}

/// Whether `name` is one of the files Quorum writes into a run folder (including the
/// temp files of an interrupted write).
pub fn is_own_file_name(name: &str) -> bool {
    let own = |n: &str| {
        n == RUN_FILE
            || n == RESPONSES_FILE
            || n == LOCK_FILE
            || crate::report::Format::ALL.iter().any(|f| f.file_name() == n)
    };
    if own(name) {
        return true;
    }
    let temp = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
        .and_then(|n| n.rsplit_once('.'));
    temp.is_some_and(|(base, _unique)| own(base))
}

/// Whether `dir` holds a Quorum run (its description and its answers).
pub fn holds_run(dir: &Path) -> bool {
    dir.join(RUN_FILE).is_file() && dir.join(RESPONSES_FILE).is_file()
}

/// The current UTC time as RFC 3339 (`2026-11-26T08:46:18Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

fn rfc3339(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(file: &str) -> ResponseRecord {
        ResponseRecord {
            v: 1,
            provider: "gemma".into(),
            model: "g".into(),
            family: None,
            file: file.into(),
            content_hash: Some("abc".into()),
            chunk: None,
            key: None,
            cached: false,
            status: Status::Ok,
            text: Some("{\"findings\":[]}".into()),
            reasoning: None,
            finish_reason: Some(FinishReason::Stop),
            served_model: None,
            usage: Usage {
                input_tokens: Some(10),
                output_tokens: Some(3),
            },
            latency_ms: 5,
            attempts: 1,
            error: None,
            split_into: None,
            mac: None,
        }
    }

    #[test]
    fn appended_records_read_back_and_a_torn_line_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = StoreWriter::open(dir.path()).unwrap();
        w.append(&record("a.go")).unwrap();
        w.append(&record("b.go")).unwrap();
        drop(w);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(RESPONSES_FILE))
            .unwrap();
        f.write_all(b"{\"v\":1,\"provider\":\"gem").unwrap();
        let loaded = read_records(dir.path()).unwrap();
        assert_eq!(loaded.records, vec![record("a.go"), record("b.go")]);
        assert_eq!(loaded.unreadable_lines, vec![3]);
    }

    #[test]
    fn a_signed_record_verifies_after_the_round_trip_and_not_once_changed() {
        let dir = tempfile::tempdir().unwrap();
        let run_mac = RunMac::for_tests(7, "a1b2c3d4e5f6");
        let mut w = StoreWriter::open(dir.path()).unwrap();
        w.append(&record("unsigned.go")).unwrap();
        w.sign_with(run_mac.clone());
        let mut stale = record("a.go");
        stale.mac = Some("00".repeat(32));
        w.append(&stale).unwrap();
        drop(w);
        let loaded = read_records(dir.path()).unwrap().records;
        let (unsigned, signed) = (&loaded[0], &loaded[1]);
        assert_eq!(unsigned.mac, None, "an old store's records still load");
        assert!(!unsigned.verifies(&run_mac));
        assert!(signed.verifies(&run_mac), "the MAC it came with was replaced");
        assert!(!signed.verifies(&RunMac::for_tests(7, "ffffffffffff")), "another run");
        let mut forged = signed.clone();
        forged.text = Some("{\"findings\":[],\"note\":\"forged\"}".into());
        assert!(!forged.verifies(&run_mac));
    }

    #[test]
    fn minimal_recorded_lines_are_accepted() {
        let r: ResponseRecord = serde_json::from_str(
            r#"{"provider":"p","model":"m","file":"f.go","status":"ok","text":"{}","finish_reason":"stop"}"#,
        )
        .unwrap();
        assert_eq!(r.attempts, 1);
        assert_eq!(r.usage, Usage::default());
    }

    #[test]
    fn only_rfc3339_times_pass() {
        assert!(is_rfc3339(&now_rfc3339()));
        for ok in [
            "2026-12-01T08:46:18Z",
            "2026-12-01T08:46:18.123Z",
            "2026-12-01T08:46:18+01:00",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "x",
            "2026-12-01",
            "2026-12-01T08:46:18",
            "2026-12-01T08:46:18Z\n| row |",
            "2026-12-01T08:46:18.Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn a_run_json_quorum_could_not_have_written_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let meta = |run_id: &str, file: &str| RunMeta {
            schema_version: 1,
            run_id: run_id.into(),
            root: ".".into(),
            started_at: now_rfc3339(),
            finished_at: None,
            providers: Vec::new(),
            files: vec![FileMeta {
                path: file.into(),
                lines: 1,
                content_hash: "abc".into(),
            }],
            skipped: Vec::new(),
            config: None,
            shard: None,
            stopped_early: None,
            checks: Vec::new(),
            seal: None,
        };
        meta("a1b2c3d4e5f6", "src/main.go").write(dir.path()).unwrap();
        assert_eq!(RunMeta::read(dir.path()).unwrap().run_id, "a1b2c3d4e5f6");
        for (id, file) in [
            ("../../escape", "a.go"),
            ("", "a.go"),
            ("a/b", "a.go"),
            (&"x".repeat(65), "a.go"),
            ("ok", "../outside.go"),
            ("ok", "/etc/passwd"),
            // One file under a second spelling: aggregate would read it once per spelling.
            ("ok", "src//main.go"),
            ("ok", "src/main.go/"),
        ] {
            meta(id, file).write(dir.path()).unwrap();
            let err = format!("{:#}", RunMeta::read(dir.path()).unwrap_err());
            assert!(
                err.contains("not a run folder Quorum wrote") && err.contains("run.json"),
                "{err}"
            );
        }
    }

    #[test]
    fn quorums_own_file_names_include_reports_and_temp_files() {
        for name in [
            "run.json",
            "responses.jsonl",
            ".lock",
            "report.html",
            ".report.sarif.12-3.tmp",
        ] {
            assert!(is_own_file_name(name), "{name}");
        }
        for name in ["main.go", "report.txt", ".env.tmp", "run.json.bak", "previous"] {
            assert!(!is_own_file_name(name), "{name}");
        }
    }

    #[test]
    fn a_write_leaves_no_temp_file_and_ignores_a_planted_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.md");
        std::fs::write(dir.path().join("report.tmp"), "planted").unwrap();
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["report.md", "report.tmp"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("report.tmp")).unwrap(),
            "planted"
        );
    }

    #[cfg(unix)]
    mod links {
        use super::*;
        use std::os::unix::fs::symlink;

        /// A folder to write in, and a file outside it that a planted link points at.
        fn planted(name: &str) -> (tempfile::TempDir, tempfile::TempDir, PathBuf) {
            let dir = tempfile::tempdir().unwrap();
            let outside = tempfile::tempdir().unwrap();
            let target = outside.path().join("victim");
            std::fs::write(&target, "precious\n").unwrap();
            symlink(&target, dir.path().join(name)).unwrap();
            (dir, outside, target)
        }

        #[test]
        fn write_atomically_refuses_a_linked_target() {
            let (dir, _outside, target) = planted("report.md");
            let err = write_atomically(&dir.path().join("report.md"), b"report").unwrap_err();
            let err = format!("{err:#}");
            assert!(err.contains("report.md") && err.contains("symbolic link"), "{err}");
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
        }

        #[test]
        fn the_rename_replaces_a_link_itself_not_its_target() {
            // What protects a link planted between the check and the rename.
            let (dir, _outside, target) = planted("report.md");
            let path = dir.path().join("report.md");
            replace_with(&path, b"report").unwrap();
            assert!(!std::fs::symlink_metadata(&path).unwrap().file_type().is_symlink());
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "report");
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
        }

        #[test]
        fn appending_refuses_a_link_and_a_hard_link() {
            let (dir, _outside, target) = planted(RESPONSES_FILE);
            let err = format!("{:#}", StoreWriter::open(dir.path()).err().unwrap());
            assert!(err.contains(RESPONSES_FILE) && err.contains("symbolic link"), "{err}");
            let err = format!(
                "{:#}",
                open_no_follow(OpenOptions::new().append(true), &dir.path().join(RESPONSES_FILE)).unwrap_err()
            );
            assert!(!err.is_empty(), "O_NOFOLLOW refuses the link by itself");
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");

            let other = tempfile::tempdir().unwrap();
            std::fs::hard_link(&target, other.path().join(RESPONSES_FILE)).unwrap();
            let err = format!("{:#}", StoreWriter::open(other.path()).err().unwrap());
            assert!(err.contains("hard link"), "{err}");
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
        }

        #[test]
        fn the_lock_refuses_a_hard_link_and_leaves_its_file_alone() {
            let dir = tempfile::tempdir().unwrap();
            let outside = tempfile::tempdir().unwrap();
            let victim = outside.path().join("victim.txt");
            std::fs::write(&victim, "precious\n").unwrap();
            std::fs::hard_link(&victim, dir.path().join(LOCK_FILE)).unwrap();
            let err = format!("{:#}", OutLock::acquire(dir.path()).unwrap_err());
            assert!(err.contains(".lock") && err.contains("hard link"), "{err}");
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        }

        #[test]
        fn reading_refuses_a_link_to_a_device_and_a_pipe() {
            let dir = tempfile::tempdir().unwrap();
            symlink("/dev/zero", dir.path().join(RESPONSES_FILE)).unwrap();
            let err = format!("{:#}", read_records(dir.path()).unwrap_err());
            assert!(err.contains("symbolic link"), "{err}");

            let pipe = dir.path().join("pipe.jsonl");
            let name = std::ffi::CString::new(pipe.as_os_str().as_encoded_bytes()).unwrap();
            assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
            let err = format!("{:#}", open_for_reading(&pipe).unwrap_err());
            assert!(err.contains("not a regular file"), "{err}");
        }

        #[test]
        fn the_lock_refuses_a_link() {
            let (dir, _outside, target) = planted(LOCK_FILE);
            let err = format!("{:#}", OutLock::acquire(dir.path()).unwrap_err());
            assert!(err.contains(".lock") && err.contains("symbolic link"), "{err}");
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
        }
    }

    #[test]
    fn a_second_lock_on_a_folder_fails_at_once_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let held = OutLock::acquire(dir.path()).unwrap();
        let err = format!("{:#}", OutLock::acquire(dir.path()).unwrap_err());
        assert!(
            err.contains("another quorum run is writing to") && err.contains(&format!("pid {}?", std::process::id())),
            "{err}"
        );
        drop(held);
        OutLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn bounded_lines_skip_an_over_long_line_and_read_on() {
        let text = b"short\n0123456789\n12345678\r\nx\n0123456789abc\nlast";
        let lines: Vec<Line> = BoundedLines::new(&text[..], 8).map(Result::unwrap).collect();
        let text_line = |t: &str| Line::Text(t.as_bytes().to_vec());
        assert_eq!(
            lines,
            [
                text_line("short"),
                Line::TooLong,
                text_line("12345678"),
                text_line("x"),
                Line::TooLong,
                text_line("last")
            ]
        );
        let exact = b"123456789";
        assert_eq!(
            BoundedLines::new(&exact[..], 8).map(Result::unwrap).collect::<Vec<_>>(),
            [Line::TooLong],
            "one byte over at the end of the file"
        );
    }

    #[test]
    fn a_record_line_longer_than_the_cap_counts_as_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let mut long = record("long.go");
        long.text = Some("x".repeat(MAX_RECORD_LINE_BYTES));
        let mut w = StoreWriter::open(dir.path()).unwrap();
        w.append(&long).unwrap();
        w.append(&record("a.go")).unwrap();
        drop(w);
        let loaded = read_records(dir.path()).unwrap();
        assert_eq!(loaded.records, vec![record("a.go")]);
        assert_eq!(loaded.unreadable_lines, vec![1]);
    }

    #[test]
    fn a_run_json_larger_than_the_cap_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RUN_FILE);
        std::fs::write(&path, "{}").unwrap();
        // Sparse: the cap is tested without writing 64 MiB.
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(MAX_RUN_FILE_BYTES + 1)
            .unwrap();
        let err = format!("{:#}", RunMeta::read(dir.path()).unwrap_err());
        assert!(err.contains("run.json is larger than 64 MiB"), "{err}");
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_682_778), "2026-11-26T08:46:18Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
