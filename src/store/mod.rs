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

mod folder;
mod fs;
mod jsonl;
mod lock;
mod meta;
mod record;
pub mod seal;
mod time;

pub use folder::{holds_run, is_own_file_name, RunFolder};
pub use fs::{create_new_file, open_append, open_for_reading, write_atomically};
pub use jsonl::{read_records, BoundedLines, Line, Loaded, StoreWriter, MAX_RECORD_LINE_BYTES};
pub use lock::OutLock;
pub use meta::{FileMeta, ProviderMeta, RunMeta, MAX_RUN_FILE_BYTES, RUN_ID_LEN, RUN_SCHEMA_VERSION};
pub use record::{LineRange, RecordKind, RecordedError, ResponseRecord, Status, RECORD_VERSION};
pub use time::now_rfc3339;

pub const RESPONSES_FILE: &str = "responses.jsonl";
pub const RUN_FILE: &str = "run.json";
/// Held locked by the run writing into the folder.
pub const LOCK_FILE: &str = ".lock";
/// Where a new review keeps the one earlier run it replaces.
pub const PREVIOUS_DIR: &str = "previous";

#[cfg(test)]
mod tests {
    use std::fs::{File, OpenOptions};
    use std::io::Write;
    use std::path::PathBuf;

    use providers::{FinishReason, Usage};

    use super::fs::{open_no_follow, replace_with};
    use super::meta::is_rfc3339;
    use super::seal::RunMac;
    use super::time::rfc3339;
    use super::*;

    fn record(file: &str) -> ResponseRecord {
        ResponseRecord {
            v: 1,
            kind: RecordKind::Review,
            issue: None,
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
                changed: None,
            }],
            skipped: Vec::new(),
            config: None,
            shard: None,
            stopped_early: None,
            checks: Vec::new(),
            since: None,
            selection: Vec::new(),
            judge: None,
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
        // A --since run's commit and selection are checked the same way.
        let mut since = meta("ok", "a.go");
        since.since = Some(crate::input::changes::Since {
            reference: "HEAD".into(),
            commit: "a".repeat(40),
        });
        since.selection = vec!["src".into()];
        since.files[0].changed = Some(vec![LineRange {
            start_line: 2,
            end_line: 3,
        }]);
        since.write(dir.path()).unwrap();
        assert_eq!(
            RunMeta::read(dir.path()).unwrap(),
            since,
            "the optional fields load back"
        );
        for bad in [("--upload-pack=x", "src"), (&"a".repeat(40)[..], "../up")] {
            let mut planted = since.clone();
            planted.since.as_mut().unwrap().commit = bad.0.into();
            planted.selection = vec![bad.1.into()];
            planted.write(dir.path()).unwrap();
            let err = format!("{:#}", RunMeta::read(dir.path()).unwrap_err());
            assert!(err.contains("not a run folder Quorum wrote"), "{err}");
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
            "compare.md",
            ".compare.json.4-5.tmp",
        ] {
            assert!(is_own_file_name(name), "{name}");
        }
        for name in [
            "main.go",
            "report.txt",
            ".env.tmp",
            "run.json.bak",
            "previous",
            "compare.txt",
        ] {
            assert!(!is_own_file_name(name), "{name}");
        }
    }

    #[test]
    fn setting_aside_a_run_moves_its_answers_and_every_report() {
        let dir = tempfile::tempdir().unwrap();
        let folder = RunFolder::new(dir.path());
        let names: Vec<&str> = [RUN_FILE, RESPONSES_FILE]
            .into_iter()
            .chain(crate::report::Format::ALL.map(crate::report::Format::file_name))
            .collect();
        for name in &names {
            std::fs::write(dir.path().join(name), *name).unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "the user's").unwrap();
        folder.set_aside_previous_run().unwrap();
        for name in &names {
            assert!(!dir.path().join(name).exists(), "{name} moved");
            let kept = dir.path().join(PREVIOUS_DIR).join(name);
            assert_eq!(std::fs::read_to_string(kept).unwrap(), *name);
        }
        assert!(names.contains(&"report.sarif") && names.contains(&"report.html"));
        assert!(dir.path().join("notes.txt").exists(), "only Quorum's files move");
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
