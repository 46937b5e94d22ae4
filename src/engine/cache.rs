//! The answer cache: never pay twice for the same question.
//!
//! A job's key hashes everything that can change the answer: provider, model, API
//! family, endpoint, the settings sent with the request (temperature, output limit,
//! structured-output mode), and the full prompt (which contains the prompt version, the
//! file's path and the lines sent). A second run over an unchanged tree therefore sends
//! nothing, and changing one file re-asks only that file. Only usable answers are kept:
//! failures, truncated and unparsable answers are asked again next time.
//!
//! The cache is one append-only JSONL file in the user's cache folder
//! (`$XDG_CACHE_HOME/quorum`, shared by every project; marked with `CACHEDIR.TAG` and a
//! `.gitignore`, like other tools' caches). It is never read from inside the tree under
//! review: a cache that came with the code could carry answers its authors prepared
//! (a model that "found nothing" in a planted backdoor). Choosing the folder is the
//! caller's job; this module only reads and appends, never through a symbolic link, and
//! never replaces a file already in that folder.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::store::{self, ResponseRecord};

const ANSWERS_FILE: &str = "answers.jsonl";
const TAG_FILE: &str = "CACHEDIR.TAG";
/// The Cache Directory Tagging Specification's signature, then a word for humans.
const TAG_TEXT: &str = "Signature: 8a477f597d28d172789f06886806bc55\n# Quorum's answer cache; safe to delete.\n";
/// The cache may sit inside a repository (a team's shared cache): keep it out of commits.
const GITIGNORE_FILE: &str = ".gitignore";

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    record: ResponseRecord,
}

/// Cached answers by job key.
pub struct Cache {
    dir: PathBuf,
    answers: HashMap<String, ResponseRecord>,
    /// Buffered: a cache may lose its last lines in a crash (they are asked again);
    /// the run's own store is the durable record. Runs of several projects may append at
    /// once: the file is opened for appending and the buffer only ever holds whole lines,
    /// so each write lands whole at the end.
    file: Option<std::io::BufWriter<File>>,
}

impl Drop for Cache {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

impl Cache {
    /// Opens (or creates) the cache in `dir`. Unreadable lines (torn, or longer than any
    /// answer) are ignored: a cache can always be rebuilt by asking again. Anything but a
    /// regular file as the answers file (a link, a pipe, a device) is refused.
    pub fn open(dir: &Path) -> Result<Cache> {
        let mut answers = HashMap::new();
        let path = dir.join(ANSWERS_FILE);
        if std::fs::symlink_metadata(&path).is_ok() {
            let file = store::open_for_reading(&path)
                .with_context(|| format!("cannot open the cache in {}", dir.display()))?;
            let lines = store::BoundedLines::new(BufReader::new(file), store::MAX_RECORD_LINE_BYTES);
            for line in lines.map_while(Result::ok) {
                let store::Line::Text(text) = line else {
                    continue;
                };
                if let Ok(entry) = serde_json::from_slice::<Entry>(&text) {
                    answers.insert(entry.key, entry.record);
                }
            }
        }
        Ok(Cache {
            dir: dir.to_path_buf(),
            answers,
            file: None,
        })
    }

    pub fn get(&self, key: &str) -> Option<&ResponseRecord> {
        self.answers.get(key)
    }

    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// Keeps a usable answer under its key.
    pub fn put(&mut self, key: &str, record: &ResponseRecord) -> Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(std::io::BufWriter::new(self.create()?)),
        };
        let mut line = serde_json::to_string(&Entry {
            key: key.to_string(),
            record: record.clone(),
        })?;
        line.push('\n');
        file.write_all(line.as_bytes())
            .with_context(|| format!("cannot write to the cache in {}", self.dir.display()))?;
        self.answers.insert(key.to_string(), record.clone());
        Ok(())
    }

    /// Writes buffered answers to disk.
    pub fn flush(&mut self) -> Result<()> {
        if let Some(file) = &mut self.file {
            file.flush()
                .with_context(|| format!("cannot write to the cache in {}", self.dir.display()))?;
        }
        Ok(())
    }

    fn create(&self) -> Result<File> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create the cache folder {}", self.dir.display()))?;
        let tag = self.dir.join(TAG_FILE);
        if std::fs::symlink_metadata(&tag).is_err() {
            // Markers only: a cache without them still works. Created, never replaced: the
            // configured folder may already hold a `.gitignore` of someone else's.
            let _ = store::create_new_file(&tag, TAG_TEXT.as_bytes());
            let _ = store::create_new_file(&self.dir.join(GITIGNORE_FILE), b"*\n");
        }
        store::open_append(&self.dir.join(ANSWERS_FILE))
            .with_context(|| format!("cannot open the cache in {}", self.dir.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Status;
    use std::fs::OpenOptions;

    fn record() -> ResponseRecord {
        serde_json::from_str(r#"{"provider":"p","model":"m","file":"a.go","status":"ok","text":"{\"findings\":[]}"}"#)
            .unwrap()
    }

    #[test]
    fn answers_survive_reopening_and_the_folder_is_marked() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join(".quorum-cache");
        let mut cache = Cache::open(&cache_dir).unwrap();
        assert!(cache.is_empty());
        cache.put("k1", &record()).unwrap();
        cache.flush().unwrap();
        drop(cache);
        let cache = Cache::open(&cache_dir).unwrap();
        assert_eq!(cache.get("k1").map(|r| r.status), Some(Status::Ok));
        assert!(cache.get("k2").is_none());
        assert!(cache_dir.join("CACHEDIR.TAG").exists());
        assert_eq!(std::fs::read_to_string(cache_dir.join(".gitignore")).unwrap(), "*\n");
    }

    #[test]
    fn a_torn_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(dir.path()).unwrap();
        cache.put("k1", &record()).unwrap();
        cache.flush().unwrap();
        drop(cache);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(ANSWERS_FILE))
            .unwrap();
        f.write_all(b"{\"key\":\"k2\",\"rec").unwrap();
        assert_eq!(Cache::open(dir.path()).unwrap().len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_answers_file_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("bashrc");
        std::fs::write(&target, "export PATH=/usr/bin\n").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(ANSWERS_FILE)).unwrap();
        let err = Cache::open(dir.path()).err().unwrap();
        assert!(format!("{err:#}").contains("symbolic link"), "{err:#}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "export PATH=/usr/bin\n");
    }

    /// Opens the cache on another thread: a pipe would block an unguarded open forever.
    #[cfg(unix)]
    fn open_within_seconds(dir: &Path) -> Result<Cache> {
        let (sent, received) = std::sync::mpsc::channel();
        let dir = dir.to_path_buf();
        std::thread::spawn(move || sent.send(Cache::open(&dir)));
        received
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("Cache::open did not return")
    }

    #[cfg(unix)]
    #[test]
    fn an_answers_file_linked_to_dev_zero_or_a_pipe_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(ANSWERS_FILE)).unwrap();
        let err = format!("{:#}", open_within_seconds(dir.path()).err().unwrap());
        assert!(err.contains("symbolic link"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let pipe = std::ffi::CString::new(dir.path().join(ANSWERS_FILE).into_os_string().into_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(pipe.as_ptr(), 0o600) }, 0);
        let err = format!("{:#}", open_within_seconds(dir.path()).err().unwrap());
        assert!(err.contains("not a regular file"), "{err}");
    }

    #[test]
    fn a_line_longer_than_the_cap_is_skipped_and_the_rest_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut long = record();
        long.text = Some("x".repeat(store::MAX_RECORD_LINE_BYTES));
        let mut cache = Cache::open(dir.path()).unwrap();
        cache.put("long", &long).unwrap();
        cache.put("k1", &record()).unwrap();
        drop(cache);
        let cache = Cache::open(dir.path()).unwrap();
        assert!(cache.get("long").is_none());
        assert!(cache.get("k1").is_some());
    }

    #[test]
    fn markers_never_replace_a_file_already_in_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(GITIGNORE_FILE), "target/\n").unwrap();
        let mut cache = Cache::open(dir.path()).unwrap();
        cache.put("k1", &record()).unwrap();
        cache.flush().unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(GITIGNORE_FILE)).unwrap(),
            "target/\n"
        );
        assert_eq!(std::fs::read_to_string(dir.path().join(TAG_FILE)).unwrap(), TAG_TEXT);
    }

    #[cfg(unix)]
    #[test]
    fn markers_are_never_written_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("gitignore");
        std::fs::write(&target, "target/\n").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(GITIGNORE_FILE)).unwrap();
        let mut cache = Cache::open(dir.path()).unwrap();
        cache.put("k1", &record()).unwrap();
        cache.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "target/\n");
        assert!(std::fs::symlink_metadata(dir.path().join(GITIGNORE_FILE))
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
