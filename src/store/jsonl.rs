//! `responses.jsonl`: appended one flushed line a record, read back line by line with
//! every line's length bounded (its writer is not trusted).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::store::fs::{open_append, open_for_reading};
use crate::store::record::ResponseRecord;
use crate::store::seal::RunMac;
use crate::store::RESPONSES_FILE;

/// The longest line of `responses.jsonl` (or the answer cache) read. An answer is capped
/// at 4 MiB by default (`max_response_bytes`) and JSON escaping can double it, so a real
/// record stays well below; a longer line is skipped as unreadable, never held whole.
pub const MAX_RECORD_LINE_BYTES: usize = 32 * 1024 * 1024;

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
